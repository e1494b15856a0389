// 巡逻: the grid worker's phone, while a patrol is under way.
// - Records the track with watchPosition only while the patrol is active,
//   keeps the screen on (Screen Wake Lock) and notes gaps: page hidden or
//   closed, location refused, no fix.
// - Everything (fixes, check-ins, pause/resume/end, gaps) goes into an
//   IndexedDB outbox with an id made here, and is sent in batches, newest
//   first, on app open, focus, reconnect and every 30 s. The server stores
//   each id once, so sending again after a lost answer is harmless.
// - The buttons are plain forms: without this script they still work.
(function () {
  var root = document.getElementById("patrol");
  if (!root) return;
  var en = (document.documentElement.lang || "").indexOf("en") === 0;
  function T(zh, e) { return en ? e : zh; }
  var patrol = parseInt(root.getAttribute("data-patrol"), 10);
  var state = root.getAttribute("data-state");
  var rec = document.getElementById("rec");
  var STORE = "outbox";
  var GAP_KEY = "zhsq-patrol-hidden";
  var db = null, memory = {};
  var watch = null, wake = null, gap = null, sending = false, timer = null;
  var recorded = 0, pending = 0, refused = 0, lastFix = null, message = "", reloadWhenSent = false;
  var recent = []; // times of fixes in the last minute
  var waiting = null; // a check-in waiting for two fresh fixes

  function uid(p) { return p + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }

  function openDb() {
    return new Promise(function (ok, fail) {
      if (!window.indexedDB) return fail("none");
      var r = indexedDB.open("zhsq-patrol", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, { keyPath: "id" }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function put(item) {
    item.patrol = item.patrol || patrol;
    if (!db) { memory[item.id] = item; return Promise.resolve(); }
    return new Promise(function (ok) {
      var tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(item);
      tx.oncomplete = ok; tx.onerror = ok; tx.onabort = ok;
    });
  }
  function all() {
    if (!db) return Promise.resolve(Object.keys(memory).map(function (k) { return memory[k]; }));
    return new Promise(function (ok) {
      var r = db.transaction(STORE, "readonly").objectStore(STORE).getAll();
      r.onsuccess = function () { ok(r.result || []); };
      r.onerror = function () { ok([]); };
    });
  }
  function remove(ids) {
    if (!db) { ids.forEach(function (i) { delete memory[i]; }); return Promise.resolve(); }
    return new Promise(function (ok) {
      var tx = db.transaction(STORE, "readwrite"), s = tx.objectStore(STORE);
      ids.forEach(function (i) { s["delete"](i); });
      tx.oncomplete = ok; tx.onerror = ok; tx.onabort = ok;
    });
  }

  function show(text) {
    if (text !== undefined) message = text;
    if (!rec) return;
    var parts = [];
    if (state === "active") parts.push(watch !== null ? T("正在记录轨迹", "Recording") : T("未在记录", "Not recording"));
    if (state === "paused") parts.push(T("已暂停,不记录位置", "Paused: not recording"));
    if (recorded) parts.push(T("本次已记录 ", "recorded ") + recorded + T(" 点", " points"));
    if (lastFix) parts.push(T("精度 ±", "accuracy ±") + Math.round(lastFix.acc) + T(" 米", " m"));
    parts.push(pending ? T("待发送 ", "waiting to send: ") + pending : T("已全部发送", "all sent"));
    if (wake) parts.push(T("屏幕常亮", "screen kept on"));
    if (refused) parts.push(T("被拒绝 ", "refused: ") + refused);
    rec.textContent = parts.join(" · ") + (message ? " · " + message : "");
  }

  // --- sending ------------------------------------------------------------
  function strip(i) {
    var o = {};
    for (var k in i) if (k !== "patrol" && k !== "refused" && i[k] !== null && i[k] !== undefined) o[k] = i[k];
    return o;
  }
  // Newest first, at most 500; a check-in brings its two minutes of fixes along.
  function pick(items) {
    items.sort(function (a, b) { return b.t - a.t; });
    var chosen = items.slice(0, 500), ids = {};
    chosen.forEach(function (i) { ids[i.id] = true; });
    chosen.filter(function (i) { return i.type === "checkin"; }).forEach(function (c) {
      items.forEach(function (f) {
        if (!ids[f.id] && f.type === "fix" && f.t <= c.t + 5000 && f.t >= c.t - 130000) { chosen.push(f); ids[f.id] = true; }
      });
    });
    return chosen;
  }
  function onReply(reply) {
    (reply.checkins || []).forEach(function (c) {
      var li = document.getElementById("cp" + c.checkpoint_id);
      var line = document.createElement("li");
      line.className = c.accepted ? "ok" : "flag";
      var head = document.createElement("strong");
      head.textContent = c.at + " " + (c.accepted ? T("签到有效", "accepted") : T("签到存疑", "flagged"));
      line.appendChild(head);
      c.evidence.forEach(function (e) {
        var s = document.createElement("span"); s.className = "meta"; s.textContent = e; line.appendChild(s);
      });
      var list = li ? li.querySelector("ul.evidence") : document.getElementById("rec");
      if (li && list) {
        list.appendChild(line);
        if (c.accepted) li.classList.add("done");
        var b = li.querySelector("form[data-outbox=checkin] button");
        if (b && b.getAttribute("data-label")) { b.textContent = b.getAttribute("data-label"); b.disabled = false; }
        // the next step, as the server renders it: done, or try again
        var f = li.querySelector("form[data-outbox=checkin]");
        if (c.accepted && f) {
          var ok = document.createElement("p"); ok.className = "success";
          ok.textContent = T("已签到,请前往下一个点位。", "Checked in. Go on to the next checkpoint.");
          f.parentNode.replaceChild(ok, f);
        } else if (!c.accepted && b && !li.classList.contains("done")) {
          b.textContent = T("再次签到", "Check in again");
          b.removeAttribute("data-label");
          if (!li.querySelector("p.notice")) {
            var hint = document.createElement("p"); hint.className = "notice";
            hint.textContent = T("签到未通过。请走到点位旁,等手机定位稳定后再签到一次。", "Not accepted. Walk up to the checkpoint, let the phone's position settle, then check in again.");
            f.parentNode.insertBefore(hint, f);
          }
        }
      } else if (rec) {
        rec.parentNode.insertBefore(line, rec.nextSibling);
      }
    });
    if (reply.state === "ended" && state !== "ended") { state = "ended"; stop(); reloadWhenSent = true; }
  }
  // Waiting to be sent: never refused, or refused for a passing reason
  // (domain::patrol::outbox::Kept::waiting).
  function waits(i) { return !i.refused || i.refused.reason === "over_limit"; }
  function count(items) {
    pending = items.filter(waits).length;
    refused = items.length - pending;
  }
  // A refused item stays on the phone, marked with the server's reason.
  function mark(items, reason, text) {
    return Promise.all(items.map(function (i) { i.refused = { reason: reason, text: text }; return put(i); }));
  }
  function flush() {
    if (sending) return;
    sending = true;
    var more = false;
    all().then(function (items) {
      count(items);
      items = items.filter(waits);
      if (!items.length) return;
      var p = items.reduce(function (m, i) { return Math.min(m, i.patrol); }, Infinity);
      var mine = items.filter(function (i) { return i.patrol === p; });
      var batch = pick(mine);
      more = items.length > batch.length;
      return fetch("/api/v1/patrol/batch", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept-Language": en ? "en" : "zh-CN" },
        body: JSON.stringify({ patrol: p, sent_at: Date.now(), items: batch.map(strip) })
      }).then(function (r) {
        if (r.ok) return r.json().then(function (reply) {
          var no = {};
          (reply.refused || []).forEach(function (x) { no[x.id] = x; });
          var gone = batch.filter(function (i) { return !no[i.id]; }).map(function (i) { return i.id; });
          var kept = batch.filter(function (i) { return no[i.id]; });
          return remove(gone).then(function () {
            return Promise.all(kept.map(function (i) { return mark([i], no[i.id].reason, no[i.id].text); }));
          }).then(function () { onReply(reply); show(""); });
        });
        if (r.status === 401) { more = false; show(T("登录已过期:重新登录后会自动补传", "Signed out: sign in again and the rest is sent")); return; }
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          // the server cannot take the batch at all: kept aside, never deleted
          var gone404 = r.status === 404 || r.status === 403;
          return mark(batch, gone404 ? "patrol_gone" : "batch_refused",
            gone404 ? T("这次巡逻已不存在或不属于您", "this patrol no longer exists or is not yours")
                    : T("服务器拒收了这一批,记录已留在手机上", "the server refused the batch; the records stay on the phone"));
        }
        more = false;
        show(T("服务器忙,稍后重试", "Server busy; will retry"));
      });
    }).catch(function () {
      more = false;
      show(T("离线:记录保存在手机上,联网后自动发送", "Offline: kept on the phone and sent when back online"));
    }).then(function () {
      sending = false;
      return all().then(function (items) {
        count(items);
        show();
        if (more && pending) setTimeout(flush, 200);
        else if (reloadWhenSent && !pending) location.replace("/patrol");
      });
    });
  }
  function soon() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; flush(); }, 10000);
  }

  // --- recording ----------------------------------------------------------
  function startGap(reason) { if (!gap && state === "active") gap = { t: Date.now(), reason: reason }; }
  function endGap() {
    if (!gap) return;
    var g = gap; gap = null;
    if (Date.now() - g.t > 15000) put({ type: "event", id: uid("g"), t: g.t, kind: "gap", until: Date.now(), reason: g.reason });
  }
  function num(x) { return x === null || x === undefined || isNaN(x) ? null : x; }
  function onFix(pos) {
    var c = pos.coords;
    var t = Math.min(pos.timestamp || Date.now(), Date.now());
    if (lastFix && t - lastFix.t < 4000) return; // one fix per 4 s is plenty on foot
    endGap();
    lastFix = { t: t, acc: c.accuracy };
    recorded++;
    var now = Date.now();
    recent = recent.filter(function (x) { return now - x < 60000; });
    recent.push(now);
    put({ type: "fix", id: uid("f"), t: t, lat: c.latitude, lng: c.longitude, acc: c.accuracy,
      speed: num(c.speed), heading: num(c.heading), alt: num(c.altitude) }).then(function () {
      if (waiting && recent.length >= 2) sendCheckin();
      soon();
    });
    show("");
  }
  function onError(e) {
    startGap(e.code === 1 ? "permission" : "no_signal");
    if (e.code === 1) show(T("定位权限被拒绝:请在浏览器设置中允许定位", "Location refused: allow it in the browser settings"));
    else show(T("暂无定位信号", "No GPS fix yet"));
  }
  function lock() {
    if (!("wakeLock" in navigator) || wake || document.visibilityState !== "visible" || state !== "active") return;
    navigator.wakeLock.request("screen").then(function (w) {
      wake = w;
      w.addEventListener("release", function () { wake = null; show(); });
      show();
    })["catch"](function () {});
  }
  function record() {
    if (state !== "active" || watch !== null || !navigator.geolocation) return;
    watch = navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
    lock();
    show();
  }
  function stop() {
    if (watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; }
    if (wake) { wake.release()["catch"](function () {}); wake = null; }
    show();
  }

  // --- check-ins wait for two fresh fixes (one fix can lie) ---------------
  function sendCheckin() {
    var w = waiting; waiting = null;
    if (!w) return;
    clearTimeout(w.timeout);
    put({ type: "checkin", id: uid("c"), t: Date.now(), checkpoint: w.checkpoint, qr: w.qr || null, patrol: w.patrol })
      .then(function () { w.button.textContent = T("已签到,核验中…", "Checked in, verifying…"); flush(); });
  }

  document.addEventListener("submit", function (ev) {
    var f = ev.target, kind = f.getAttribute("data-outbox");
    if (!kind) return;
    var ask = f.getAttribute("data-confirm");
    ev.preventDefault();
    if (ask && !window.confirm(ask)) return;
    var p = parseInt(f.elements.patrol.value, 10);
    var button = f.querySelector("button");
    if (kind === "event") {
      var what = f.elements.what.value;
      if (what !== "resume") endGap();
      put({ type: "event", id: uid("e"), t: Date.now(), kind: what, patrol: p }).then(function () {
        state = what === "pause" ? "paused" : what === "end" ? "ended" : "active";
        if (state === "active") record(); else stop();
        if (button) button.disabled = true;
        reloadWhenSent = true;
        show(T("已记录,正在发送…", "Saved, sending…"));
        flush();
      });
      return;
    }
    if (waiting) return;
    if (button) {
      if (!button.getAttribute("data-label")) button.setAttribute("data-label", button.textContent);
      button.disabled = true;
      button.textContent = T("正在定位…", "Getting a fix…");
    }
    waiting = { checkpoint: parseInt(f.elements.checkpoint.value, 10), qr: f.elements.qr ? f.elements.qr.value : null, patrol: p, button: button || document.createElement("b") };
    record();
    if (recent.length >= 2 && lastFix && Date.now() - lastFix.t < 20000) sendCheckin();
    else waiting.timeout = setTimeout(sendCheckin, 30000);
  });

  // --- when the page comes and goes ----------------------------------------
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      startGap("hidden");
      try { localStorage.setItem(GAP_KEY, JSON.stringify({ patrol: patrol, t: Date.now() })); } catch (e) {}
      flush();
    } else {
      try { localStorage.removeItem(GAP_KEY); } catch (e) {}
      lock(); flush();
    }
  });
  window.addEventListener("online", flush);
  window.addEventListener("focus", flush);
  window.addEventListener("offline", function () { startGap("offline"); show(T("离线:继续记录,联网后自动发送", "Offline: still recording; sent when back online")); });

  function begin() {
    // the page was closed while the patrol went on: that time is a gap
    try {
      var h = JSON.parse(localStorage.getItem(GAP_KEY) || "null");
      localStorage.removeItem(GAP_KEY);
      if (h && h.patrol === patrol && state === "active" && Date.now() - h.t > 15000) {
        put({ type: "event", id: uid("g"), t: h.t, kind: "gap", until: Date.now(), reason: "hidden" });
      }
    } catch (e) {}
    record();
    flush();
    setInterval(flush, 30000);
  }
  openDb().then(function (d) { db = d; }, function () {}).then(begin);
})();
