//! Islands: the only parts of a page that run in the browser.
//!
//! `LiveBadge` shows the unread count in the navigation and keeps it current
//! over server-sent events (`/api/v1/events`). Rendered on the server with
//! the count from the database, so without JavaScript it is simply a number
//! that is right when the page loads.

use leptos::prelude::*;

/// Reads `"unread":N` out of an event's JSON without a JSON parser in the
/// WASM bundle (the events are ours and flat).
pub fn unread_of(data: &str) -> Option<u64> {
    let rest = &data[data.find("\"unread\":")? + 9..];
    let digits: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

#[island]
pub fn LiveBadge(unread: u64, label: String) -> impl IntoView {
    let count = RwSignal::new(unread);
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        if started.is_none() {
            listen(count);
        }
        true
    });
    view! {
        <span class="badge" data-unread=move || count.get().to_string() hidden=move || count.get() == 0
            aria-label=move || format!("{} {}", count.get(), label)>
            {move || { let n = count.get(); if n > 99 { "99+".to_string() } else { n.to_string() } }}
        </span>
    }
}

#[cfg(feature = "hydrate")]
fn listen(count: RwSignal<u64>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
    let on_event = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        if let Some(n) = e.data().as_string().as_deref().and_then(unread_of) {
            count.set(n);
        }
    });
    for kind in ["hello", "inbox", "unread", "reset"] {
        let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
    }
    // lives as long as the page
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
