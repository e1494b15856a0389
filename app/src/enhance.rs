//! Small improvements the WASM client makes to server-rendered pages, on the
//! plain DOM (see `live.rs` for why not islands). Every page works without
//! them; with them:
//! - `button[data-print]` prints the page (a receipt, a certificate);
//! - `button[data-close-details]` closes the question it sits in ("不取消");
//! - `[data-countdown=N]` counts down N seconds ("58 秒后可重新获取") and then
//!   enables the button named by its `data-enables` (the login code resend);
//! - a form posted while the phone has no network is not sent (which would
//!   leave the person on the browser's error page): it stays on the screen
//!   with everything typed, says so, and is sent by itself once the network
//!   is back (WeChat's browser has no service worker, so this is where it
//!   must be caught).

/// "还剩 N 秒" in the page's language, from the element's template
/// (`data-template`, with `{n}` where the number goes).
pub fn countdown_text(template: &str, n: u32) -> String {
    template.replace("{n}", &n.to_string())
}

/// Shows the buttons `selector` finds (hidden while only the server's HTML
/// is there) and runs `f` with the button when one is tapped.
#[cfg(feature = "hydrate")]
fn show_and_click(doc: &web_sys::Document, selector: &str, f: impl Fn(&web_sys::HtmlElement) + Clone + 'static) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(buttons) = doc.query_selector_all(selector) else { return };
    for i in 0..buttons.length() {
        let Some(b) = buttons.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
        b.set_hidden(false);
        let (me, f) = (b.clone(), f.clone());
        let on_click = Closure::<dyn FnMut()>::new(move || f(&me));
        b.set_onclick(Some(on_click.as_ref().unchecked_ref()));
        on_click.forget();
    }
}

#[cfg(feature = "hydrate")]
pub fn start() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(window) = web_sys::window() else { return };
    let Some(doc) = window.document() else { return };
    let lang_en = doc.document_element().and_then(|e| e.get_attribute("lang")).is_some_and(|l| l.starts_with("en"));

    // printing
    let w = window.clone();
    show_and_click(&doc, "button[data-print]", move |_| {
        let _ = w.print();
    });
    // "不取消": closes the question a `ConfirmPost` opened
    show_and_click(&doc, "button[data-close-details]", |b| {
        if let Ok(Some(d)) = b.closest("details") {
            let _ = d.remove_attribute("open");
        }
    });

    // count-downs
    if let Ok(items) = doc.query_selector_all("[data-countdown]") {
        for i in 0..items.length() {
            let Some(el) = items.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
            let Some(mut left) = el.get_attribute("data-countdown").and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let template = el.get_attribute("data-template").unwrap_or_else(|| "{n}".into());
            let target = el.get_attribute("data-enables").and_then(|id| doc.get_element_by_id(&id));
            // without this client the button stays usable (the server says when it is too soon)
            el.set_hidden(false);
            if let Some(t) = &target {
                let _ = t.set_attribute("disabled", "");
            }
            let el2 = el.clone();
            let tick = Closure::<dyn FnMut()>::new(move || {
                left = left.saturating_sub(1);
                if left == 0 {
                    el2.set_hidden(true);
                    if let Some(t) = &target {
                        let _ = t.remove_attribute("disabled");
                    }
                } else {
                    el2.set_text_content(Some(&countdown_text(&template, left)));
                }
            });
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 1000);
            tick.forget();
        }
    }

    // forms sent without a network
    let offline_text = if lang_en {
        "There is no network right now. Everything you typed is still here, and it will be sent by itself as soon as the network is back."
    } else {
        "现在没有网络。您填写的内容都还在,网络恢复后会自动发送。"
    };
    let w = window.clone();
    let d = doc.clone();
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        if w.navigator().on_line() {
            return;
        }
        let Some(form) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        // forms with their own outbox (patrol events and check-ins, incident
        // reports) keep what is sent offline themselves
        if e.default_prevented()
            || !form.method().eq_ignore_ascii_case("post")
            || form.has_attribute("data-outbox")
            || form.has_attribute("data-offline-text")
        {
            return;
        }
        e.prevent_default();
        // one note per form
        if form.query_selector(".offline-note").ok().flatten().is_none() {
            if let Ok(note) = d.create_element("p") {
                note.set_class_name("form-error offline-note");
                let _ = note.set_attribute("role", "alert");
                note.set_text_content(Some(offline_text));
                let _ = form.prepend_with_node_1(&note);
            }
        }
        let f = form.clone();
        let again = Closure::once(move || {
            if let Some(note) = f.query_selector(".offline-note").ok().flatten() {
                note.remove();
            }
            let _ = f.request_submit();
        });
        let opts = web_sys::AddEventListenerOptions::new();
        opts.set_once(true);
        let _ = w.add_event_listener_with_callback_and_add_event_listener_options(
            "online",
            again.as_ref().unchecked_ref(),
            &opts,
        );
        again.forget();
    });
    let _ = doc.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    on_submit.forget();
}

#[cfg(test)]
mod tests {
    #[test]
    fn countdown_fills_its_template() {
        assert_eq!(super::countdown_text("{n} 秒后可重新获取", 42), "42 秒后可重新获取");
        assert_eq!(super::countdown_text("Resend in {n} s", 1), "Resend in 1 s");
    }
}
