// 轨迹回放 (track page): a slider and a play button move a marker along the
// drawn track in time order, with the time it was there (Beijing). The page
// shows the whole track without this script; it only adds the replay.
(function () {
  var box = document.querySelector(".replay[data-replay]");
  if (!box) return;
  var pts;
  try { pts = JSON.parse(box.getAttribute("data-replay")); } catch (e) { return; }
  if (!pts || pts.length < 2) return;
  var svg = box.querySelector("svg");
  var controls = box.querySelector(".replay-controls");
  var range = controls.querySelector("input[type=range]");
  var out = controls.querySelector("output");
  var play = controls.querySelector("button.play");
  var NS = "http://www.w3.org/2000/svg";
  var marker = document.createElementNS(NS, "circle");
  marker.setAttribute("r", "10");
  marker.setAttribute("class", "replay-dot");
  svg.appendChild(marker);
  var t0 = pts[0][2], t1 = pts[pts.length - 1][2];
  function clock(t) {
    var d = new Date((t + 8 * 3600) * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }
  function show(v) {
    var t = t0 + (t1 - t0) * (v / 1000);
    var i = 1;
    while (i < pts.length - 1 && pts[i][2] < t) i++;
    var a = pts[i - 1], b = pts[i];
    var f = b[2] > a[2] ? Math.max(0, Math.min(1, (t - a[2]) / (b[2] - a[2]))) : 1;
    marker.setAttribute("cx", String(a[0] + (b[0] - a[0]) * f));
    marker.setAttribute("cy", String(a[1] + (b[1] - a[1]) * f));
    out.textContent = clock(Math.round(t));
  }
  var timer = null;
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  range.addEventListener("input", function () { stop(); show(Number(range.value)); });
  play.addEventListener("click", function () {
    stop();
    if (Number(range.value) >= 1000) range.value = "0";
    // the whole patrol in about 20 seconds
    timer = setInterval(function () {
      var v = Math.min(1000, Number(range.value) + 2);
      range.value = String(v);
      show(v);
      if (v >= 1000) stop();
    }, 40);
  });
  controls.hidden = false;
  show(Number(range.value));
})();
