//! Traccar Client's JSON body (`{device_id, location}` or `location: [...]`).
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::osmand_json(data));
