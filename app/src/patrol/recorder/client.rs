//! The recorder in the browser (the worker's WASM module).
//!
//! - Records the track with `watchPosition` only while the patrol is active,
//!   keeps the screen on (Screen Wake Lock) and notes gaps: page hidden or
//!   closed, offline, location refused, no fix.
//! - Everything (fixes, check-ins, pause/resume/end, gaps) goes into the
//!   IndexedDB outbox `zhsq-patrol`/`outbox` as [`Kept`] records, with an id
//!   made here, and is sent in batches (`outbox::next_batch`) on open,
//!   focus, reconnect and every 30 s. The server stores each id once, so
//!   sending again after a lost answer is harmless.
//! - An item the server refuses stays, marked with its reason; a batch the
//!   server cannot take at all is quarantined the same way. Nothing leaves
//!   the outbox unless the server has it.
//! - The buttons are plain forms: without this module they still work.

use std::cell::RefCell;
use std::rc::Rc;

use domain::patrol::guide::{self, Waypoint};
use domain::patrol::outbox::Kept;
use domain::patrol::{Batch, BatchReply, EventKind, GapReason, OutboxItem, PatrolState, TrackMap, Transition};
use leptos::serde_json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Document, Headers, HtmlButtonElement, HtmlFormElement, HtmlInputElement, Position, PositionError, PositionOptions,
    RequestCredentials, RequestInit, Response, Window,
};

use super::store::{self, Answer, Store};
use super::Status;
use crate::i18n::{t, Lang};

/// Where the page notes that it was hidden, so a page closed mid-patrol
/// reports that time as a gap when it opens again.
const GAP_KEY: &str = "zhsq-patrol-hidden";
/// One fix per 4 s is plenty on foot.
const MIN_FIX_INTERVAL_MS: i64 = 4_000;
/// Shorter silences are not worth a gap.
const GAP_MIN_MS: i64 = 15_000;
const SEND_EVERY_MS: i32 = 30_000;
const SEND_SOON_MS: i32 = 10_000;
/// A check-in waits at most this long for two fresh fixes.
const CHECKIN_WAIT_MS: i32 = 30_000;

/// A check-in waiting for two fresh fixes (one fix can lie).
struct Waiting {
    patrol: i64,
    checkpoint: i64,
    qr: Option<String>,
    button: Option<HtmlButtonElement>,
    timeout: Option<i32>,
}

/// What the island hands the recorder.
pub struct Setup {
    pub patrol: i64,
    pub state: PatrolState,
    pub lang: Lang,
    pub route: Vec<Waypoint>,
    pub ordered: bool,
    pub map: Option<TrackMap>,
}

struct Recorder {
    patrol: i64,
    state: PatrolState,
    lang: Lang,
    route: Vec<Waypoint>,
    ordered: bool,
    map: Option<TrackMap>,
    /// The last position (lat, lng), for the guidance.
    here: Option<(f64, f64)>,
    /// Set once IndexedDB is open (in memory where there is none).
    store: Option<Rc<Store>>,
    watch: Option<i32>,
    wake: Option<JsValue>,
    gap: Option<(i64, GapReason)>,
    sending: bool,
    soon: bool,
    /// Times of the fixes of the last minute.
    recent: Vec<i64>,
    last_fix: Option<i64>,
    waiting: Option<Waiting>,
    reload_when_sent: bool,
    status: Status,
    on_fix: Option<js_sys::Function>,
    on_error: Option<js_sys::Function>,
}

type Shared = Rc<RefCell<Recorder>>;

fn window() -> Option<Window> {
    web_sys::window()
}

fn document() -> Option<Document> {
    window().and_then(|w| w.document())
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

fn radix36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// An outbox id: a kind letter, the time and eight random characters
/// (`domain::patrol::valid_client_id`).
fn uid(kind: &str) -> String {
    let random = (js_sys::Math::random() * 36f64.powi(8)) as u64;
    format!("{kind}{}-{}", radix36(now() as u64), radix36(random))
}

fn after(ms: i32, f: impl FnOnce() + 'static) -> Option<i32> {
    let f = Closure::once_into_js(f);
    window()?.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), ms).ok()
}

/// Starts the recorder for the open patrol (once per page).
pub fn start(setup: Setup) {
    let Setup { patrol, state, lang, route, ordered, map } = setup;
    let online = window().map(|w| w.navigator().on_line()).unwrap_or(true);
    let s: Shared = Rc::new(RefCell::new(Recorder {
        patrol,
        state,
        lang,
        route,
        ordered,
        map,
        here: None,
        store: None,
        watch: None,
        wake: None,
        gap: None,
        sending: false,
        soon: false,
        recent: Vec::new(),
        last_fix: None,
        waiting: None,
        reload_when_sent: false,
        status: Status { state: Some(state), online, ..Status::default() },
        on_fix: None,
        on_error: None,
    }));
    let fix = {
        let s = s.clone();
        Closure::<dyn FnMut(Position)>::new(move |p: Position| on_fix(&s, p))
    };
    let error = {
        let s = s.clone();
        Closure::<dyn FnMut(PositionError)>::new(move |e: PositionError| on_error(&s, e.code()))
    };
    {
        let mut r = s.borrow_mut();
        r.on_fix = Some(fix.into_js_value().unchecked_into());
        r.on_error = Some(error.into_js_value().unchecked_into());
    }
    spawn_local(async move {
        let store = Store::open(store::DB_NAME).await;
        s.borrow_mut().store = Some(Rc::new(store));
        // only now: a button pressed before the outbox is open is a plain
        // form, which the server takes as it is
        listen(&s);
        begin(&s).await;
    });
}

fn listen(s: &Shared) {
    let (Some(w), Some(doc)) = (window(), document()) else { return };
    let on = |target: &web_sys::EventTarget, name: &str, f: Box<dyn FnMut(web_sys::Event)>| {
        let f = Closure::wrap(f);
        let _ = target.add_event_listener_with_callback(name, f.as_ref().unchecked_ref());
        f.forget();
    };
    let c = s.clone();
    on(&doc, "submit", Box::new(move |e| on_submit(&c, e)));
    let c = s.clone();
    on(
        &doc,
        "visibilitychange",
        Box::new(move |_| {
            let hidden = document().is_some_and(|d| d.hidden());
            let storage = window().and_then(|w| w.local_storage().ok().flatten());
            if hidden {
                start_gap(&c, GapReason::Hidden);
                let note = format!(r#"{{"patrol":{},"t":{}}}"#, c.borrow().patrol, now());
                if let Some(st) = storage {
                    let _ = st.set_item(GAP_KEY, &note);
                }
            } else {
                if let Some(st) = storage {
                    let _ = st.remove_item(GAP_KEY);
                }
                lock(&c);
            }
            flush(&c);
        }),
    );
    for name in ["online", "focus"] {
        let c = s.clone();
        on(
            &w,
            name,
            Box::new(move |_| {
                c.borrow_mut().status.online = window().map(|w| w.navigator().on_line()).unwrap_or(true);
                flush(&c);
            }),
        );
    }
    let c = s.clone();
    on(
        &w,
        "offline",
        Box::new(move |_| {
            start_gap(&c, GapReason::Offline);
            {
                let mut r = c.borrow_mut();
                r.status.online = false;
                r.status.message =
                    t(r.lang, "继续记录,联网后自动发送", "still recording; sent when back online").into();
            }
            show(&c);
        }),
    );
}

async fn begin(s: &Shared) {
    // the page was closed while the patrol went on: that time is a gap
    if let Some(st) = window().and_then(|w| w.local_storage().ok().flatten()) {
        let note = st.get_item(GAP_KEY).ok().flatten();
        let _ = st.remove_item(GAP_KEY);
        let note: Option<serde_json::Value> = note.and_then(|n| serde_json::from_str(&n).ok());
        let (patrol, state) = (s.borrow().patrol, s.borrow().state);
        if let Some(note) = note {
            let since = note.get("t").and_then(|t| t.as_i64()).unwrap_or(0);
            let same = note.get("patrol").and_then(|p| p.as_i64()) == Some(patrol);
            if same && state == PatrolState::Active && now() - since > GAP_MIN_MS {
                let gap = OutboxItem::Event {
                    id: uid("g"),
                    t: since,
                    kind: EventKind::Gap,
                    until: Some(now()),
                    reason: Some(GapReason::Hidden),
                };
                put_new(s, Kept::new(patrol, gap)).await;
            }
        }
    }
    record(s);
    flush_now(s).await;
    let c = s.clone();
    let every = Closure::<dyn FnMut()>::new(move || flush(&c));
    if let Some(w) = window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(every.as_ref().unchecked_ref(), SEND_EVERY_MS);
    }
    every.forget();
}

// --- the outbox ---------------------------------------------------------------

fn store_of(s: &Shared) -> Rc<Store> {
    // set before anything can be kept (`start` opens it before listening)
    s.borrow().store.clone().unwrap_or_else(|| Rc::new(Store::in_memory()))
}

/// Keeps a new item: it waits to be sent.
async fn put_new(s: &Shared, k: Kept) {
    store_of(s).put(std::slice::from_ref(&k)).await;
    s.borrow_mut().status.waiting += 1;
    show(s);
}

// --- sending ----------------------------------------------------------------

async fn post(batch: Batch, lang: Lang) -> Answer {
    let (Some(w), Ok(body)) = (window(), serde_json::to_string(&batch)) else { return Answer::Offline };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_body(&JsValue::from_str(&body));
    if let Ok(h) = Headers::new() {
        let _ = h.set("Content-Type", "application/json");
        let _ = h.set("Accept-Language", if lang.is_en() { "en" } else { "zh-CN" });
        init.set_headers(&h);
    }
    let Ok(resp) = JsFuture::from(w.fetch_with_str_and_init("/api/v1/patrol/batch", &init)).await else {
        return Answer::Offline;
    };
    let Ok(resp) = resp.dyn_into::<Response>() else { return Answer::Offline };
    if !resp.ok() {
        return Answer::Status(resp.status());
    }
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()),
        Err(_) => None,
    };
    match text.and_then(|t| serde_json::from_str::<BatchReply>(&t).ok()) {
        Some(reply) => Answer::Reply(reply),
        // an answer we cannot read deletes nothing: tried again later
        None => Answer::Status(502),
    }
}

fn flush(s: &Shared) {
    let s = s.clone();
    spawn_local(async move { flush_now(&s).await });
}

/// Sends the next batch, and the next after it while more wait.
async fn flush_now(s: &Shared) {
    {
        let mut r = s.borrow_mut();
        if r.sending {
            return;
        }
        r.sending = true;
    }
    let lang = s.borrow().lang;
    let store = store_of(s);
    let round = store::send_next(&store, lang.is_en(), now(), |batch| post(batch, lang)).await;
    let message = match &round.answer {
        None => None,
        Some(Answer::Reply(reply)) => {
            s.borrow_mut().status.online = true;
            on_reply(s, reply);
            Some(String::new())
        }
        Some(Answer::Status(401)) => {
            Some(t(lang, "登录已过期:重新登录后会自动补传", "Signed out: sign in again and the rest is sent").into())
        }
        Some(Answer::Status(code)) if store::quarantines(*code) => Some(String::new()),
        Some(Answer::Status(_)) => Some(t(lang, "服务器忙,稍后重试", "Server busy; will retry").into()),
        Some(Answer::Offline) => {
            s.borrow_mut().status.online = false;
            Some(t(lang, "记录保存在手机上,联网后自动发送", "kept on the phone and sent when back online").into())
        }
    };
    let reload = {
        let mut r = s.borrow_mut();
        r.sending = false;
        if let Some(m) = message {
            r.status.message = m;
        }
        if let Some(c) = round.counts {
            r.status.waiting = c.waiting;
            r.status.refused = c.refused;
        }
        r.reload_when_sent && r.status.waiting == 0
    };
    show(s);
    if round.more && s.borrow().status.waiting > 0 {
        let c = s.clone();
        after(200, move || flush(&c));
    } else if reload {
        if let Some(w) = window() {
            let _ = w.location().replace("/patrol");
        }
    }
}

/// Sends within 10 s (fixes are batched rather than sent one by one).
fn soon(s: &Shared) {
    if std::mem::replace(&mut s.borrow_mut().soon, true) {
        return;
    }
    let c = s.clone();
    after(SEND_SOON_MS, move || {
        c.borrow_mut().soon = false;
        flush(&c);
    });
}

/// Shows each check-in the server judged beside its checkpoint, with the
/// next step as the server's page would show it: done, or try again.
fn on_reply(s: &Shared, reply: &BatchReply) {
    let lang = s.borrow().lang;
    if let Some(doc) = document() {
        for c in &reply.checkins {
            super::page::show_checkin(&doc, c, lang);
        }
    }
    {
        let mut r = s.borrow_mut();
        for c in reply.checkins.iter().filter(|c| c.accepted) {
            if let Some(w) = r.route.iter_mut().find(|w| w.id == c.checkpoint_id) {
                w.done = true;
            }
        }
        // the heading follows at once: 点位签到 N / M
        let (done, total) = (r.route.iter().filter(|w| w.done).count(), r.route.len());
        if let Some(h) = document().and_then(|d| d.get_element_by_id("cp-tally")).filter(|_| total > 0) {
            h.set_text_content(Some(&format!("{}{done} / {total}", t(lang, "点位签到 ", "Checkpoints "))));
        }
    }
    guide_me(s);
    let ended = reply.state == PatrolState::Ended && s.borrow().state != PatrolState::Ended;
    if ended {
        {
            let mut r = s.borrow_mut();
            r.state = PatrolState::Ended;
            r.status.state = Some(PatrolState::Ended);
            r.reload_when_sent = true;
        }
        stop(s);
    }
}

/// The next checkpoint in words, and the worker's dot on the route's
/// sketch, placed by the server's projection.
fn guide_me(s: &Shared) {
    let r = s.borrow();
    let (Some(doc), Some((lat, lng))) = (document(), r.here) else { return };
    let en = r.lang.is_en();
    if let Some(line) = doc.get_element_by_id("next-cp") {
        let text = match guide::next_checkpoint(&r.route, r.ordered, lat, lng) {
            Some(next) => next.text(en),
            None if r.route.is_empty() => String::new(),
            None => guide::all_done(en).to_string(),
        };
        line.set_text_content(Some(&text));
    }
    if let (Some(map), Some(me)) = (&r.map, doc.get_element_by_id("me")) {
        let (x, y) = map.project(lat, lng);
        let _ = me.set_attribute("cx", &x.to_string());
        let _ = me.set_attribute("cy", &y.to_string());
        let _ = me.set_attribute("visibility", "visible");
    }
}

fn show(s: &Shared) {
    let r = s.borrow();
    let Some(rec) = document().and_then(|d| d.get_element_by_id("rec")) else { return };
    let mut status = r.status.clone();
    status.recording = r.watch.is_some();
    status.wake = r.wake.is_some();
    rec.set_text_content(Some(&status.text(r.lang)));
    let _ = rec.set_attribute("data-waiting", &status.waiting.to_string());
    let _ = rec.set_attribute("data-refused", &status.refused.to_string());
    let _ = rec.set_attribute("data-recorder", "on");
}

// --- recording ----------------------------------------------------------------

fn start_gap(s: &Shared, reason: GapReason) {
    let mut r = s.borrow_mut();
    if r.gap.is_none() && r.state == PatrolState::Active {
        r.gap = Some((now(), reason));
    }
}

fn end_gap(s: &Shared) {
    let (gap, patrol) = {
        let mut r = s.borrow_mut();
        (r.gap.take(), r.patrol)
    };
    let Some((since, reason)) = gap else { return };
    let until = now();
    if until - since > GAP_MIN_MS {
        let item = OutboxItem::Event {
            id: uid("g"),
            t: since,
            kind: EventKind::Gap,
            until: Some(until),
            reason: Some(reason),
        };
        let s = s.clone();
        spawn_local(async move { put_new(&s, Kept::new(patrol, item)).await });
    }
}

/// A number the browser may give as NaN or not at all.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

fn on_fix(s: &Shared, pos: Position) {
    let c = pos.coords();
    let at = now();
    let t = if pos.timestamp() > 0.0 { (pos.timestamp() as i64).min(at) } else { at };
    if s.borrow().last_fix.is_some_and(|last| t - last < MIN_FIX_INTERVAL_MS) {
        return;
    }
    end_gap(s);
    let patrol = {
        let mut r = s.borrow_mut();
        r.last_fix = Some(t);
        r.status.recorded += 1;
        r.status.accuracy = Some(c.accuracy());
        r.status.message.clear();
        r.recent.retain(|x| at - x < 60_000);
        r.recent.push(at);
        r.here = Some((c.latitude(), c.longitude()));
        r.patrol
    };
    guide_me(s);
    let item = OutboxItem::Fix {
        id: uid("f"),
        t,
        lat: c.latitude(),
        lng: c.longitude(),
        acc: c.accuracy(),
        speed: finite(c.speed()),
        heading: finite(c.heading()),
        alt: finite(c.altitude()),
    };
    let s = s.clone();
    spawn_local(async move {
        put_new(&s, Kept::new(patrol, item)).await;
        let ready = {
            let r = s.borrow();
            r.waiting.is_some() && r.recent.len() >= 2
        };
        if ready {
            send_checkin(&s).await;
        }
        soon(&s);
    });
}

fn on_error(s: &Shared, code: u16) {
    let refused = code == PositionError::PERMISSION_DENIED;
    start_gap(s, if refused { GapReason::Permission } else { GapReason::NoSignal });
    {
        let mut r = s.borrow_mut();
        let lang = r.lang;
        r.status.message = if refused {
            t(lang, "定位权限被拒绝:请在浏览器设置中允许定位", "Location refused: allow it in the browser settings")
        } else {
            t(lang, "暂无定位信号", "No GPS fix yet")
        }
        .into();
    }
    show(s);
}

/// Keeps the screen on while recording (Screen Wake Lock; web-sys has it
/// only behind its unstable APIs, so it is reached by name).
fn lock(s: &Shared) {
    let Some(w) = window() else { return };
    let visible = document().is_some_and(|d| !d.hidden());
    {
        let r = s.borrow();
        if r.wake.is_some() || !visible || r.state != PatrolState::Active {
            return;
        }
    }
    let nav: JsValue = w.navigator().into();
    let Ok(wake_lock) = js_sys::Reflect::get(&nav, &"wakeLock".into()) else { return };
    if wake_lock.is_undefined() {
        return;
    }
    let Some(request) =
        js_sys::Reflect::get(&wake_lock, &"request".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    let Some(promise) =
        request.call1(&wake_lock, &"screen".into()).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    else {
        return;
    };
    let s = s.clone();
    spawn_local(async move {
        let Ok(sentinel) = JsFuture::from(promise).await else { return };
        let c = s.clone();
        let released = Closure::once_into_js(move || {
            c.borrow_mut().wake = None;
            show(&c);
        });
        if let Some(target) = sentinel.dyn_ref::<web_sys::EventTarget>() {
            let _ = target.add_event_listener_with_callback("release", released.unchecked_ref());
        }
        s.borrow_mut().wake = Some(sentinel);
        show(&s);
    });
}

fn record(s: &Shared) {
    let Some(geo) = window().and_then(|w| w.navigator().geolocation().ok()) else { return };
    let id = {
        let r = s.borrow();
        if r.state != PatrolState::Active || r.watch.is_some() {
            return;
        }
        let (Some(fix), Some(error)) = (&r.on_fix, &r.on_error) else { return };
        let options = PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_maximum_age(0);
        options.set_timeout(60_000);
        geo.watch_position_with_error_callback_and_options(fix, Some(error), &options).ok()
    };
    s.borrow_mut().watch = id;
    lock(s);
    show(s);
}

fn stop(s: &Shared) {
    let (watch, wake) = {
        let mut r = s.borrow_mut();
        (r.watch.take(), r.wake.take())
    };
    if let (Some(id), Some(geo)) = (watch, window().and_then(|w| w.navigator().geolocation().ok())) {
        geo.clear_watch(id);
    }
    if let Some(sentinel) = wake {
        if let Some(release) =
            js_sys::Reflect::get(&sentinel, &"release".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        {
            let _ = release.call0(&sentinel);
        }
    }
    show(s);
}

// --- the buttons ----------------------------------------------------------------

fn field(form: &HtmlFormElement, name: &str) -> Option<String> {
    form.query_selector(&format!("[name={name}]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
}

fn on_submit(s: &Shared, ev: web_sys::Event) {
    let Some(form) = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else { return };
    let Some(kind) = form.get_attribute("data-outbox") else { return };
    ev.prevent_default();
    if let Some(ask) = form.get_attribute("data-confirm") {
        if !window().and_then(|w| w.confirm_with_message(&ask).ok()).unwrap_or(false) {
            return;
        }
    }
    let patrol = field(&form, "patrol").and_then(|p| p.parse().ok()).unwrap_or(s.borrow().patrol);
    let button = form.query_selector("button").ok().flatten().and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
    let lang = s.borrow().lang;
    if kind == "event" {
        let Some(what) = field(&form, "what").as_deref().and_then(Transition::parse) else { return };
        if what != Transition::Resume {
            end_gap(s);
        }
        let item = OutboxItem::Event { id: uid("e"), t: now(), kind: what.into(), until: None, reason: None };
        let s = s.clone();
        spawn_local(async move {
            put_new(&s, Kept::new(patrol, item)).await;
            let state = match what {
                Transition::Pause => PatrolState::Paused,
                Transition::End => PatrolState::Ended,
                Transition::Resume => PatrolState::Active,
            };
            {
                let mut r = s.borrow_mut();
                r.state = state;
                r.status.state = Some(state);
                r.reload_when_sent = true;
                r.status.message = t(lang, "已记录,正在发送…", "Saved, sending…").into();
            }
            if state == PatrolState::Active {
                record(&s);
            } else {
                stop(&s);
            }
            if let Some(b) = button {
                b.set_disabled(true);
            }
            flush_now(&s).await;
        });
        return;
    }
    if s.borrow().waiting.is_some() {
        return;
    }
    let Some(checkpoint) = field(&form, "checkpoint").and_then(|c| c.parse().ok()) else { return };
    if let Some(b) = &button {
        if b.get_attribute("data-label").is_none() {
            let _ = b.set_attribute("data-label", &b.text_content().unwrap_or_default());
        }
        b.set_disabled(true);
        b.set_text_content(Some(t(lang, "正在定位…", "Getting a fix…")));
    }
    let qr = field(&form, "qr").filter(|q| !q.is_empty());
    s.borrow_mut().waiting = Some(Waiting { patrol, checkpoint, qr, button, timeout: None });
    record(s);
    let fresh = {
        let r = s.borrow();
        r.recent.len() >= 2 && r.last_fix.is_some_and(|l| now() - l < 20_000)
    };
    let c = s.clone();
    if fresh {
        spawn_local(async move { send_checkin(&c).await });
    } else {
        let timeout = after(CHECKIN_WAIT_MS, move || spawn_local(async move { send_checkin(&c).await }));
        if let Some(w) = s.borrow_mut().waiting.as_mut() {
            w.timeout = timeout;
        }
    }
}

async fn send_checkin(s: &Shared) {
    let Some(w) = s.borrow_mut().waiting.take() else { return };
    if let (Some(id), Some(win)) = (w.timeout, window()) {
        win.clear_timeout_with_handle(id);
    }
    let lang = s.borrow().lang;
    let item = OutboxItem::Checkin { id: uid("c"), t: now(), checkpoint: w.checkpoint, qr: w.qr };
    put_new(s, Kept::new(w.patrol, item)).await;
    if let Some(b) = w.button {
        b.set_text_content(Some(t(lang, "已签到,核验中…", "Checked in, verifying…")));
    }
    flush_now(s).await;
}
