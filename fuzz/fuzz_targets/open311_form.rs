//! Open311 GeoReport v2: a new service request (form fields) and the
//! query filter of GET requests.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::open311_form(data));
