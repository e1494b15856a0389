//! OsmAnd / Traccar Client positions as a query string or form body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    if let Ok(p) = domain::osmand::parse_form(&pairs) {
        // what is accepted is a real position
        assert!(p.lat.is_finite() && p.lng.is_finite());
        assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lng));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = domain::osmand::parse_timestamp(s);
    }
});
