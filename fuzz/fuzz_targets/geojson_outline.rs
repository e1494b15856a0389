//! A grid outline pasted by staff as GeoJSON.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::geojson_outline(data));
