// 本设备推送: subscribe this device to Web Push from the settings page.
// Plain JS on purpose (small, no WASM needed). Every notification is in the
// inbox anyway; this only adds the phone's notification tray.
(function () {
  var box = document.getElementById("push");
  if (!box) return;
  var status = box.querySelector(".push-status");
  var en = (document.documentElement.lang || "").indexOf("en") === 0;
  function say(zh, e) { status.textContent = en ? e : zh; }
  function btn(id) { return box.querySelector("#" + id); }
  var on = btn("push-on"), off = btn("push-off"), test = btn("push-test");
  var ua = navigator.userAgent || "";
  var ios = /iPhone|iPad|iPod/.test(ua);
  var standalone = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    if (ios && !standalone) {
      say("在 iPhone 上,请先点「分享」→「添加到主屏幕」,再从桌面图标打开本页开启推送。所有通知都会进入「消息」。",
          "On iPhone, first tap Share → Add to Home Screen, then open the app from its icon to turn on push. Every notification is in your inbox.");
    } else {
      say("此浏览器不支持推送通知。所有通知都会进入「消息」,不会遗漏。",
          "This browser cannot receive push notifications. Every notification is in your inbox.");
    }
    return;
  }
  var key = box.getAttribute("data-key");
  if (!key) { say("本站未开启推送。所有通知都会进入「消息」。", "Push is not enabled on this site. Every notification is in your inbox."); return; }
  function bytes(b64) {
    var s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function api(method, path, body) {
    return fetch(path, { method: method, credentials: "same-origin", headers: { "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined });
  }
  var reg = null, sub = null;
  function show() {
    on.hidden = !!sub; off.hidden = !sub; test.hidden = !sub;
    if (Notification.permission === "denied") {
      say("您已拒绝本站的通知权限。如需推送,请在浏览器设置中允许通知。", "Notifications are blocked for this site; allow them in the browser settings to get push.");
      on.hidden = true;
    } else if (sub) {
      say("本设备已开启推送。", "Push is on for this device.");
    } else {
      say("本设备尚未开启推送。", "Push is off for this device.");
    }
  }
  navigator.serviceWorker.register("/sw.js").then(function () { return navigator.serviceWorker.ready; })
    .then(function (r) { reg = r; return r.pushManager.getSubscription(); })
    .then(function (s) { sub = s; show(); })
    .catch(function () { say("暂时无法开启推送,请稍后再试。", "Push cannot be set up right now; please try later."); });
  on.addEventListener("click", function () {
    Notification.requestPermission().then(function (p) {
      if (p !== "granted") { show(); return; }
      return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) }).then(function (s) {
        var body = s.toJSON(); body.device = ua.slice(0, 100);
        return api("POST", "/api/v1/push/subscriptions", body).then(function (r) {
          if (!r.ok) throw new Error(r.status);
          sub = s; show();
        });
      });
    }).catch(function () { say("开启推送未成功,请稍后再试。", "Could not turn on push; please try again."); });
  });
  off.addEventListener("click", function () {
    if (!sub) return;
    var endpoint = sub.endpoint;
    api("DELETE", "/api/v1/push/subscriptions", { endpoint: endpoint }).then(function () { return sub.unsubscribe(); })
      .then(function () { sub = null; show(); })
      .catch(function () { say("关闭推送未成功,请稍后再试。", "Could not turn off push; please try again."); });
  });
  test.addEventListener("click", function () {
    api("POST", "/api/v1/push/test").then(function (r) {
      if (r.ok) say("测试推送已发出,请留意手机通知栏。", "A test push is on its way.");
      else say("发送过于频繁,请稍后再试。", "Too many tests; please try later.");
    });
  });
})();
