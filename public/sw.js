// 智慧社区 service worker.
// - Hashed assets (/pkg/*) are immutable: cache first.
// - Pages come from the network; when offline, /offline.html. The one
//   exception is the grid worker's patrol page (/patrol): the last copy the
//   network gave is kept, and served when a reload finds no network, so the
//   recorder reopens on its outbox and keeps recording in a dead zone. Its
//   module is precached with the rest of this build. The copy goes when the
//   page answers anything but itself (signed out: a redirect) and on logout.
// - A form posted on a network that fails gets /offline.html too, not the
//   browser's error page; going back, the form's page puts back what was
//   typed (app/src/enhance.rs keeps it until the server answers).
// - BUILD changes with every build (script/build writes it), which makes the
//   browser install the new worker; old caches are deleted on activate.
const BUILD = "__BUILD__";
const CACHE = "zhsq-" + BUILD;
const PRECACHE = __PRECACHE__;
// the kept page names this build's module, so it goes with the build
const PAGES = "zhsq-pages-" + BUILD;
const KEPT_PAGE = "/patrol";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("zhsq-") && k !== CACHE && k !== PAGES).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

// Keeps a copy of the patrol page when that is what the network answered.
function keep(res) {
  if (res.ok && new URL(res.url).pathname === KEPT_PAGE) {
    const copy = res.clone();
    caches.open(PAGES).then((c) => c.put(KEPT_PAGE, copy));
  }
  return res;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET") {
    if (url.pathname.includes("logout")) caches.delete(PAGES);
    if (req.mode === "navigate") {
      // a form whose answer is the patrol page (start, pause, end) keeps it too
      event.respondWith(fetch(req).then(keep).catch(() => caches.match("/offline.html")));
    }
    return;
  }
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && url.pathname === KEPT_PAGE) {
    event.respondWith(
      fetch(req).then((res) => {
        // anything but the page itself (signed out: the login page) drops the copy
        if (new URL(res.url).pathname !== KEPT_PAGE || !res.ok) caches.open(PAGES).then((c) => c.delete(KEPT_PAGE));
        return keep(res);
      }).catch(() => caches.open(PAGES)
        .then((c) => c.match(KEPT_PAGE))
        .then((hit) => hit || caches.match("/offline.html")))
    );
    return;
  }
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(() => caches.match("/offline.html")));
    return;
  }
  if (url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/icons/")) {
    event.respondWith(
      caches.match(req).then((hit) => hit || fetch(req).then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      }))
    );
  }
});

// Web Push: the payload is {title, body, link, tag} (our server encrypts it,
// RFC 8291). The tag is the inbox item's id, so a repeat replaces rather
// than stacks. Clicking opens (or focuses) the page the item points at.
self.addEventListener("push", (event) => {
  let msg = { title: "智慧社区", body: "您有一条新消息", link: "/inbox", tag: "inbox" };
  try { if (event.data) msg = Object.assign(msg, event.data.json()); } catch (_) {}
  event.waitUntil(self.registration.showNotification(msg.title, {
    body: msg.body,
    tag: msg.tag,
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { link: msg.link },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const link = (event.notification.data && event.notification.data.link) || "/inbox";
  // only our own pages
  const target = new URL(link.startsWith("/") && !link.startsWith("//") ? link : "/inbox", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
      for (const c of list) {
        if (c.url === target && "focus" in c) return c.focus();
      }
      return self.clients.openWindow(target);
    })
  );
});
