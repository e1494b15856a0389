//! WeChat Pay v3 notifications: headers and body as they arrive (a forged
//! signature must be refused without a panic), and, signed and encrypted with
//! the test keys, any envelope and any decrypted transaction.
#![no_main]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::wechatpay_notification(data));
