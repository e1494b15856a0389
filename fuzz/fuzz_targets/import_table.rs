//! Household and bill imports: a CSV (UTF-8 or GBK) or XLSX upload, then the
//! cell parsers its rows go through.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::import_table(data));
