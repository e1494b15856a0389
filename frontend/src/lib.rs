//! WASM entry. The app runs in Leptos' islands mode: pages are rendered on
//! the server and work as plain HTML; only components marked `#[island]`
//! ship to the browser and become interactive. This keeps the WASM small for
//! phones on weak signal (mobile.md budget).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::live::start();
    app::enhance::start();
    // Lets tests (and curious people) see that the client took over.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "1");
    }
}
