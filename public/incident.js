// 事件上报: the report form on the phone.
// - Stamps the position when the page opens (browsers strip EXIF location
//   from uploads, mobile.md) and shows open reports of the same category
//   within 250 m as soon as category and position are known.
// - Keeps the typed text on this phone while it is being written.
// - Offline, a report (text and photos) waits in IndexedDB and is sent on
//   reconnect, focus and the next open; its form id makes a second send
//   harmless (the server files one report per id).
// Without this script the form still works: the server asks about nearby
// reports itself and keeps everything on an error.
(function () {
  var form = document.getElementById("incident-form");
  var en = (document.documentElement.lang || "").indexOf("en") === 0;
  function T(zh, e) { return en ? e : zh; }
  var DRAFT = "zhsq-incident-draft";
  var STORE = "reports";

  function openDb() {
    return new Promise(function (ok, fail) {
      if (!window.indexedDB) return fail("none");
      var r = indexedDB.open("zhsq-incidents", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, { keyPath: "id" }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function tx(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (ok, fail) {
        var t = db.transaction(STORE, mode);
        var out = fn(t.objectStore(STORE));
        t.oncomplete = function () { ok(out && out.result); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }

  var sending = false;
  function flush() {
    if (sending || !navigator.onLine) return;
    sending = true;
    tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).reduce(function (p, item) {
        return p.then(function () {
          var fd = new FormData();
          item.fields.forEach(function (f) { if (f[2]) fd.append(f[0], f[1], f[2]); else fd.append(f[0], f[1]); });
          return fetch("/incidents/report", { method: "POST", body: fd, credentials: "same-origin" }).then(function (r) {
            if (r.ok && /\/incidents\/\d+/.test(r.url)) {
              var note = document.getElementById("offline-note");
              if (note) note.innerHTML = T("离线时保存的事件已提交:", "The report saved offline was sent: ") + '<a href="' + r.url + '">' + T("查看", "open") + "</a>";
              return tx("readwrite", function (s) { return s.delete(item.id); });
            }
            if (r.ok && r.url.indexOf("error=") > 0) {
              // refused (the server kept what was typed): show it instead of sending it forever
              var n2 = document.getElementById("offline-note");
              if (n2) n2.innerHTML = T("离线时保存的事件未能提交,请查看并修改:", "The report saved offline was refused; open it to correct it: ") + '<a href="' + r.url + '">' + T("查看", "open") + "</a>";
              return tx("readwrite", function (s) { return s.delete(item.id); });
            }
          });
        });
      }, Promise.resolve());
    }).catch(function () {}).then(function () { sending = false; });
  }
  window.addEventListener("online", flush);
  window.addEventListener("focus", flush);
  flush();

  if (!form) return;
  var f = form.elements;

  // the text being typed stays on the phone until the report is sent
  try {
    var saved = JSON.parse(localStorage.getItem(DRAFT) || "null");
    if (saved && saved.form === f.form_id.value) {
      ["category", "description", "address"].forEach(function (k) { if (f[k] && !f[k].value && saved[k]) f[k].value = saved[k]; });
    }
  } catch (e) {}
  form.addEventListener("input", function () {
    try {
      localStorage.setItem(DRAFT, JSON.stringify({ form: f.form_id.value, category: f.category.value, description: f.description.value, address: f.address.value }));
    } catch (e) {}
  });

  var text = document.getElementById("spot-text");
  var again = document.getElementById("locate");
  function locate() {
    if (!navigator.geolocation) return;
    text.textContent = T("正在定位…", "Locating…");
    navigator.geolocation.getCurrentPosition(function (p) {
      f.lat.value = p.coords.latitude.toFixed(7);
      f.lng.value = p.coords.longitude.toFixed(7);
      f.accuracy.value = Math.round(p.coords.accuracy);
      f.located_at.value = new Date(p.timestamp || Date.now()).toISOString();
      text.textContent = T("已定位(±", "Position taken (±") + Math.round(p.coords.accuracy) + T(" 米)", " m)");
      nearby();
    }, function () {
      text.textContent = T("无法获取位置,请填写地点。", "No position; please type the place.");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }
  if (again) { again.hidden = false; again.addEventListener("click", locate); }
  if (!f.lat.value) locate();

  var box = document.getElementById("nearby");
  function nearby() {
    if (!box || !f.category.value || !f.lat.value || !f.community_id.value) { if (box) box.hidden = true; return; }
    var url = "/api/v1/incidents/nearby?community_id=" + encodeURIComponent(f.community_id.value) +
      "&category=" + encodeURIComponent(f.category.value) + "&lat=" + f.lat.value + "&lng=" + f.lng.value;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : []; }).then(function (rows) {
      if (!rows.length) { box.hidden = true; return; }
      box.innerHTML = "";
      var h = document.createElement("p");
      h.innerHTML = "<strong>" + T("附近 250 米内已有同类事件在办理,是同一件事吗?", "Open reports of the same kind within 250 m — the same matter?") + "</strong>";
      box.appendChild(h);
      var ul = document.createElement("ul");
      rows.forEach(function (r) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/incidents/" + r.id;
        a.textContent = "#" + r.id + " " + r.summary + " · " + Math.round(r.distance_m) + T(" 米", " m");
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
      var p2 = document.createElement("p");
      p2.className = "meta";
      p2.textContent = T("如果不是同一件事,请继续提交。", "If it is another matter, go on and send it.");
      box.appendChild(p2);
      box.hidden = false;
      // they have seen them: the server need not ask again
      if (!f.confirm_new) {
        var c = document.createElement("input");
        c.type = "hidden"; c.name = "confirm_new"; c.value = "1";
        form.appendChild(c);
      }
    }).catch(function () {});
  }
  f.category.addEventListener("change", nearby);

  form.addEventListener("submit", function (e) {
    try { localStorage.removeItem(DRAFT); } catch (x) {}
    if (navigator.onLine) return;
    e.preventDefault();
    var fields = [];
    new FormData(form).forEach(function (v, k) {
      if (v instanceof File) { if (v.size) fields.push([k, v, v.name]); } else fields.push([k, v]);
    });
    if (!fields.some(function (x) { return x[0] === "confirm_new"; })) fields.push(["confirm_new", "1"]);
    tx("readwrite", function (s) { return s.put({ id: f.form_id.value, fields: fields }); }).then(function () {
      document.getElementById("offline-note").textContent = form.getAttribute("data-offline-text");
    }).catch(function () {
      document.getElementById("offline-note").textContent = T("当前离线,且无法保存在本机,请联网后再提交。", "Offline, and it cannot be kept on this phone; send it when back online.");
    });
  });
})();
