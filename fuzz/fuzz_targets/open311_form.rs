//! Open311 GeoReport v2: a new service request (form fields) and the
//! query filter of GET requests.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(data).into_owned().collect();
    let _ = backend::open311::parse_request(&fields);
    let _ = backend::open311::Filter::parse(&fields);
});
