//! Traccar Client's JSON body (`{device_id, location}` or `location: [...]`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<domain::osmand::JsonBody>(data) {
        if let Ok(ps) = domain::osmand::from_json(body) {
            for p in ps {
                assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lng));
            }
        }
    }
});
