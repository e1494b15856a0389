//! A grid outline pasted by staff as GeoJSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ring) = backend::patrol::parse_outline(text) {
            assert!(ring.len() >= 3);
            for (lng, lat) in ring {
                assert!((-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat));
            }
        }
    }
});
