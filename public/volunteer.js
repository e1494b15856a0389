// 志愿服务: two small things a plain page cannot do by itself.
// 1. The organiser's screen (#qr): the check-in code changes every 30 s;
//    fetch the next one before the old one runs out, keep the old one
//    showing if the network is slow, and count down.
// 2. A check-in form with data-geo: ask for the position once, put it in
//    the form and send it (the server decides whether it is near enough).
(function () {
  var en = (document.documentElement.lang || "").indexOf("en") === 0;

  var qr = document.getElementById("qr");
  if (qr) {
    var left = parseInt(qr.getAttribute("data-left"), 10) || 30;
    var label = document.getElementById("qr-left");
    var fetching = false;
    function refresh() {
      if (fetching) return;
      fetching = true;
      var url = "/api/v1/volunteer/activities/" + qr.getAttribute("data-activity") +
        "/code?d=" + qr.getAttribute("data-dir");
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (c) {
          qr.innerHTML = c.svg;
          qr.setAttribute("data-url", c.url);
          left = c.seconds_left;
          qr.classList.remove("stale");
        })
        .catch(function () { qr.classList.add("stale"); left = 3; })
        .then(function () { fetching = false; });
    }
    setInterval(function () {
      left -= 1;
      if (left <= 0) refresh();
      if (label) label.textContent = Math.max(left, 0);
    }, 1000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();
    });
    // keep the organiser's screen on while the code is shown
    if (navigator.wakeLock && navigator.wakeLock.request) {
      var lock = function () { navigator.wakeLock.request("screen").catch(function () {}); };
      lock();
      document.addEventListener("visibilitychange", function () { if (!document.hidden) lock(); });
    }
  }

  var form = document.querySelector("form[data-geo]");
  if (form) {
    var status = form.querySelector(".geo-status");
    var sent = false;
    form.addEventListener("submit", function (e) {
      if (sent || !navigator.geolocation) return;
      e.preventDefault();
      if (status) status.textContent = en ? "Getting your location…" : "正在获取位置……";
      navigator.geolocation.getCurrentPosition(function (p) {
        form.elements.lat.value = p.coords.latitude;
        form.elements.lng.value = p.coords.longitude;
        form.elements.acc.value = p.coords.accuracy;
        sent = true;
        form.submit();
      }, function () {
        // no position: send anyway, the server explains what is needed
        sent = true;
        form.submit();
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }
})();
