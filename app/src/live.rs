//! Live parts of a page: kept current over server-sent events
//! (`/api/v1/events`). Rendered on the server with the database's values,
//! so without JavaScript they are simply right when the page loads.
//!
//! Not a Leptos island, for size: islands hydrate (the boot script calls
//! each island's export), but the first island brings Leptos' hydration
//! and reactive code into the module: 36.1 → 71.7 KiB brotli, measured,
//! past the 60 KB a resident's phone may load. So the badge is updated on
//! the plain DOM by `start`, which the WASM entry calls.

use leptos::prelude::*;

/// Reads `"unread":N` out of an event's JSON without a JSON parser in the
/// WASM bundle (the events are ours and flat).
pub fn unread_of(data: &str) -> Option<u64> {
    let rest = &data[data.find("\"unread\":")? + 9..];
    let digits: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The unread count in the navigation. Server-rendered with the count from
/// the database; `start` (called when the WASM loads) keeps it current.
#[component]
pub fn LiveBadge(unread: u64, label: String) -> impl IntoView {
    let shown = if unread > 99 { "99+".to_string() } else { unread.to_string() };
    view! {
        <span
            class="badge"
            data-live="unread"
            data-label=label.clone()
            data-unread=unread.to_string()
            hidden=unread == 0
            aria-label=format!("{unread} {label}")
        >
            {shown}
        </span>
    }
}

/// Opens one event stream for the page if it shows live parts (the unread
/// badge) and updates them as events arrive. Plain DOM: nothing to hydrate.
#[cfg(feature = "hydrate")]
pub fn start() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(badges) = doc.query_selector_all(".badge[data-live=unread]") else { return };
    if badges.length() == 0 {
        return;
    }
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
    let on_event = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(n) = e.data().as_string().as_deref().and_then(unread_of) else { return };
        for i in 0..badges.length() {
            let Some(el) = badges.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
            let label = el.get_attribute("data-label").unwrap_or_default();
            el.set_text_content(Some(&if n > 99 { "99+".to_string() } else { n.to_string() }));
            let _ = el.set_attribute("data-unread", &n.to_string());
            let _ = el.set_attribute("aria-label", &format!("{n} {label}"));
            el.set_hidden(n == 0);
        }
    });
    for kind in ["hello", "inbox", "unread", "reset"] {
        let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
    }
    // both live as long as the page
    on_event.forget();
    std::mem::forget(source);
}

#[cfg(test)]
mod tests {
    use super::unread_of;

    #[test]
    fn unread_counts_are_read_from_event_data() {
        assert_eq!(unread_of(r#"{"id":3,"unread":12}"#), Some(12));
        assert_eq!(unread_of(r#"{"unread": 0}"#), Some(0));
        assert_eq!(unread_of(r#"{"id":3}"#), None);
    }
}
