//! The live board and the replay in the browser (the worker's WASM module).

use std::cell::Cell;
use std::rc::Rc;

use domain::patrol::{LivePosition, LiveState, PatrolState, TrackMap};
use leptos::serde_json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, EventSource, HtmlInputElement, MessageEvent};

use crate::i18n::{t, Lang};

const SVG: &str = "http://www.w3.org/2000/svg";

fn document() -> Option<Document> {
    web_sys::window().and_then(|w| w.document())
}

/// Keeps the live board current: opens the event stream for its grids and
/// moves, adds and removes the workers' dots.
pub fn watch(map: TrackMap, topics: String, lang: Lang) {
    let Some(doc) = document() else { return };
    let (Some(board), false) = (doc.get_element_by_id("live-board"), topics.is_empty()) else { return };
    let Ok(source) = EventSource::new(&format!("/api/v1/events?topics={}", js_sys::encode_uri_component(&topics)))
    else {
        return;
    };
    let on = |name: &str, f: Box<dyn FnMut(MessageEvent)>| {
        let f = Closure::wrap(f);
        let _ = source.add_event_listener_with_callback(name, f.as_ref().unchecked_ref());
        f.forget();
    };
    let b = board.clone();
    on(
        "open",
        Box::new(move |_| {
            let _ = b.set_attribute("data-live", "open");
        }),
    );
    let b = board.clone();
    on(
        "error",
        Box::new(move |_| {
            let _ = b.set_attribute("data-live", "retrying");
        }),
    );
    on(
        "position",
        Box::new(move |e| {
            let Some(p) = e.data().as_string().and_then(|d| serde_json::from_str::<LivePosition>(&d).ok()) else {
                return;
            };
            moved(&map, &p, lang);
        }),
    );
    on(
        "patrol",
        Box::new(move |e| {
            let Some(s) = e.data().as_string().and_then(|d| serde_json::from_str::<LiveState>(&d).ok()) else {
                return;
            };
            let Some(doc) = document() else { return };
            if s.state == PatrolState::Ended {
                if let Some(dot) = dot_of(&doc, s.patrol) {
                    dot.remove();
                }
            }
            if s.state == PatrolState::Active && doc.get_element_by_id(&format!("p{}", s.patrol)).is_none() {
                // a new patrol: the list needs the server's row
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        }),
    );
    // lives as long as the page
    std::mem::forget(source);
}

fn dot_of(doc: &Document, patrol: i64) -> Option<Element> {
    doc.query_selector(&format!("#live-board g.dot[data-patrol=\"{patrol}\"]")).ok().flatten()
}

/// A worker moved: their dot goes there (pinned to the sketch's edge when
/// outside it), and their row says when and how well.
fn moved(map: &TrackMap, p: &LivePosition, lang: Lang) -> Option<()> {
    let doc = document()?;
    let dot = match dot_of(&doc, p.patrol) {
        Some(d) => d,
        None => {
            let g = doc.create_element_ns(Some(SVG), "g").ok()?;
            g.set_attribute("class", "dot").ok()?;
            g.set_attribute("data-patrol", &p.patrol.to_string()).ok()?;
            let c = doc.create_element_ns(Some(SVG), "circle").ok()?;
            c.set_attribute("r", "9").ok()?;
            let label = doc.create_element_ns(Some(SVG), "text").ok()?;
            label.set_attribute("x", "12").ok()?;
            label.set_attribute("y", "7").ok()?;
            let who = doc
                .query_selector(&format!("#p{} .title", p.patrol))
                .ok()
                .flatten()
                .and_then(|e| e.text_content())
                .and_then(|t| t.split(" · ").next().map(str::to_string))
                .unwrap_or_else(|| format!("#{}", p.patrol));
            label.set_text_content(Some(&who));
            g.append_child(&c).ok()?;
            g.append_child(&label).ok()?;
            doc.query_selector("#live-board g.dots").ok().flatten()?.append_child(&g).ok()?;
            g
        }
    };
    let (x, y) = map.project_pinned(p.lat, p.lng, 8.0);
    dot.set_attribute("transform", &format!("translate({x:.1} {y:.1})")).ok()?;
    if let Some(live) = doc.query_selector(&format!("#p{} .live", p.patrol)).ok().flatten() {
        let text =
            format!(" · {}{} ±{}{}", t(lang, "最近定位 ", "last fix "), p.at, p.acc.round(), t(lang, " 米", " m"));
        live.set_text_content(Some(&text));
    }
    doc.get_element_by_id("live-status")?.set_attribute("data-last", &p.at).ok()
}

/// The replay: a marker on the track's sketch, moved by the slider or the
/// play button (the whole patrol in about 20 s).
pub fn replay(points: Vec<(f64, f64, i64)>) {
    if points.len() < 2 {
        return;
    }
    let Some(doc) = document() else { return };
    let (Some(svg), Some(controls)) = (
        doc.query_selector(".replay svg").ok().flatten(),
        doc.query_selector(".replay .replay-controls").ok().flatten(),
    ) else {
        return;
    };
    let (Some(range), Some(out), Some(play)) = (
        controls.query_selector("input[type=range]").ok().flatten().and_then(|e| e.dyn_into::<HtmlInputElement>().ok()),
        controls.query_selector("output").ok().flatten(),
        controls.query_selector("button.play").ok().flatten(),
    ) else {
        return;
    };
    let Ok(marker) = doc.create_element_ns(Some(SVG), "circle") else { return };
    let _ = marker.set_attribute("r", "10");
    let _ = marker.set_attribute("class", "replay-dot");
    let _ = svg.append_child(&marker);
    let points = Rc::new(points);
    let show = {
        let points = points.clone();
        Rc::new(move |v: f64| {
            let Some((x, y, at)) = super::replay_at(&points, v) else { return };
            let _ = marker.set_attribute("cx", &x.to_string());
            let _ = marker.set_attribute("cy", &y.to_string());
            out.set_text_content(Some(&domain::time::beijing_clock_at(at)));
        })
    };
    let timer: Rc<Cell<Option<i32>>> = Rc::new(Cell::new(None));
    let stop = {
        let timer = timer.clone();
        move || {
            if let (Some(id), Some(w)) = (timer.take(), web_sys::window()) {
                w.clear_interval_with_handle(id);
            }
        }
    };
    let value = |r: &HtmlInputElement| r.value().parse::<f64>().unwrap_or(0.0);
    {
        let (r, show, stop) = (range.clone(), show.clone(), stop.clone());
        let input = Closure::<dyn FnMut()>::new(move || {
            stop();
            show(value(&r));
        });
        let _ = range.add_event_listener_with_callback("input", input.as_ref().unchecked_ref());
        input.forget();
    }
    // one tick for every press of play: 2 of 1000 each 40 ms
    let tick = {
        let (r, show, timer) = (range.clone(), show.clone(), timer.clone());
        Closure::<dyn FnMut()>::new(move || {
            let v = (value(&r) + 2.0).min(1000.0);
            r.set_value(&v.to_string());
            show(v);
            if v >= 1000.0 {
                if let (Some(id), Some(w)) = (timer.take(), web_sys::window()) {
                    w.clear_interval_with_handle(id);
                }
            }
        })
    };
    let tick_fn: js_sys::Function = tick.as_ref().unchecked_ref::<js_sys::Function>().clone();
    tick.forget();
    {
        let r = range.clone();
        let click = Closure::<dyn FnMut()>::new(move || {
            stop();
            if value(&r) >= 1000.0 {
                r.set_value("0");
            }
            let id = web_sys::window()
                .and_then(|w| w.set_interval_with_callback_and_timeout_and_arguments_0(&tick_fn, 40).ok());
            timer.set(id);
        });
        let _ = play.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
        click.forget();
    }
    controls.remove_attribute("hidden").ok();
    show(value(&range));
}
