//! OsmAnd / Traccar Client positions as a query string or form body.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::osmand_form(data));
