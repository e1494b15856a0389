//! WeChat Pay v3 notifications: headers and body as they arrive (a forged
//! signature must be refused without a panic), and, signed and encrypted with
//! the test keys, any envelope and any decrypted transaction.
#![no_main]
use backend::wxpay::{self, KeyPair, NotifyHeaders, Verifier};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const APIV3: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_764_000_000;

fn platform() -> &'static KeyPair {
    static K: OnceLock<KeyPair> = OnceLock::new();
    K.get_or_init(|| KeyPair::generate("FUZZSERIAL").expect("key"))
}

fn verifier() -> Verifier {
    Verifier { platform: vec![("FUZZSERIAL".into(), platform().public())], apiv3_key: APIV3 }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        // raw: four header lines, then the body
        0 => {
            let text = String::from_utf8_lossy(rest);
            let mut lines = text.splitn(5, '\n');
            let mut next = || lines.next().map(str::to_string);
            let h = NotifyHeaders {
                serial: next(),
                signature: next(),
                timestamp: next(),
                nonce: next(),
            };
            let body = next().unwrap_or_default();
            let _ = verifier().open(&h, body.as_bytes(), NOW);
        }
        // any envelope, correctly signed
        1 => {
            let h = wxpay::sign_notification(platform(), NOW, rest);
            let _ = verifier().open(&h, rest, NOW);
        }
        // any plaintext in a correct envelope: the transaction parser
        _ => {
            let Ok(resource) = wxpay::encrypt_resource(&APIV3, rest, "transaction", "transaction") else { return };
            let body = serde_json::json!({
                "id": "EV-1", "create_time": "2026-12-02T10:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
                "resource_type": "encrypt-resource", "summary": "支付成功", "resource": resource,
            })
            .to_string();
            let h = wxpay::sign_notification(platform(), NOW, body.as_bytes());
            let (_, plain) = verifier().open(&h, body.as_bytes(), NOW).expect("a correct envelope opens");
            assert_eq!(plain, rest);
            if let Ok(tx) = serde_json::from_slice::<wxpay::Transaction>(&plain) {
                let _ = domain::payments::TradeState::parse(&tx.trade_state);
            }
        }
    }
});
