// 巡逻实时位置 (staff): moves each worker's dot on the sketch as positions
// arrive over server-sent events, and updates the list below it. The page
// is complete without this script; it only keeps it current.
(function () {
  var board = document.getElementById("live-board");
  if (!board || !window.EventSource) return;
  var en = (document.documentElement.lang || "").indexOf("en") === 0;
  var P = JSON.parse(board.getAttribute("data-proj"));
  var topics = board.getAttribute("data-topics");
  if (!topics) return;
  var dots = board.querySelector("g.dots");
  var status = document.getElementById("live-status");
  var NS = "http://www.w3.org/2000/svg";
  function xy(lat, lng) {
    var x = P.w / 2 + (lng - P.cx) * P.k * 111320 * P.scale;
    var y = P.h / 2 - (lat - P.cy) * 110574 * P.scale;
    // outside the sketch: pinned to its edge
    return [Math.max(8, Math.min(P.w - 8, x)), Math.max(8, Math.min(P.h - 8, y))];
  }
  function dot(id) {
    var g = dots.querySelector('[data-patrol="' + id + '"]');
    if (g) return g;
    g = document.createElementNS(NS, "g");
    g.setAttribute("class", "dot");
    g.setAttribute("data-patrol", String(id));
    var c = document.createElementNS(NS, "circle");
    c.setAttribute("r", "9");
    var t = document.createElementNS(NS, "text");
    t.setAttribute("x", "12"); t.setAttribute("y", "7");
    var row = document.querySelector("#p" + id + " .title");
    t.textContent = row ? row.textContent.split(" · ")[0] : "#" + id;
    g.appendChild(c); g.appendChild(t); dots.appendChild(g);
    return g;
  }
  var es = new EventSource("/api/v1/events?topics=" + encodeURIComponent(topics));
  es.onopen = function () { board.setAttribute("data-live", "open"); };
  es.onerror = function () { board.setAttribute("data-live", "retrying"); };
  es.addEventListener("position", function (e) {
    var d = JSON.parse(e.data);
    var p = xy(d.lat, d.lng);
    dot(d.patrol).setAttribute("transform", "translate(" + p[0].toFixed(1) + " " + p[1].toFixed(1) + ")");
    var live = document.querySelector("#p" + d.patrol + " .live");
    if (live) live.textContent = " · " + (en ? "last fix " : "最近定位 ") + d.at + " ±" + Math.round(d.acc) + (en ? " m" : " 米");
    if (status) status.setAttribute("data-last", d.at);
  });
  es.addEventListener("patrol", function (e) {
    var d = JSON.parse(e.data);
    if (d.state === "ended") {
      var g = dots.querySelector('[data-patrol="' + d.patrol + '"]');
      if (g) g.parentNode.removeChild(g);
    }
    if (!document.getElementById("p" + d.patrol) && d.state === "active") {
      // a new patrol: the list needs the server's row
      location.reload();
    }
  });
})();
