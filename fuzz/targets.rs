//! The fuzz targets' bodies, one function per target. libFuzzer runs them
//! (`fuzz_targets/*.rs`, `script/fuzz`), and `backend/tests/fuzz_corpora.rs`
//! runs every committed corpus input through them as a plain test (part of
//! `script/test`, without building the fuzz crate).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use backend::wxpay::{self, KeyPair, NotifyHeaders, Verifier};

const APIV3: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
const NOW: i64 = 1_764_000_000;

fn platform() -> &'static KeyPair {
    static K: OnceLock<KeyPair> = OnceLock::new();
    K.get_or_init(|| KeyPair::generate("FUZZSERIAL").expect("key"))
}

fn verifier() -> Verifier {
    Verifier { platform: vec![("FUZZSERIAL".into(), platform().public())], apiv3_key: APIV3 }
}

/// A grid outline pasted by staff as GeoJSON.
pub fn geojson_outline(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ring) = backend::patrol::parse_outline(text) {
            assert!(ring.len() >= 3);
            for (lng, lat) in ring {
                assert!((-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat));
            }
        }
    }
}

/// Household and bill imports: a CSV (UTF-8 or GBK) or XLSX upload, then the
/// cell parsers its rows go through.
pub fn import_table(data: &[u8]) {
    // the first byte picks the file name the upload claimed
    let Some((&pick, bytes)) = data.split_first() else { return };
    let name = if pick & 1 == 0 { "households.csv" } else { "households.xlsx" };
    if let Ok(rows) = backend::import::read_table(bytes, name) {
        for (_, cells) in rows.iter().take(50) {
            for c in cells.iter().take(20) {
                let _ = domain::residence::AreaCentiM2::parse(c);
                let _ = domain::money::Fen::parse_positive_yuan(c);
                let _ = domain::bills::Period::parse(c);
                let _ = domain::bills::BillKind::parse_typed(c);
                let _ = domain::residence::Relation::parse(c);
            }
        }
    }
}

/// Open311 GeoReport v2: a new service request (form fields) and the
/// query filter of GET requests.
pub fn open311_form(data: &[u8]) {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(data).into_owned().collect();
    let _ = backend::open311::parse_request(&fields);
    let _ = backend::open311::Filter::parse(&fields);
}

/// OsmAnd / Traccar Client positions as a query string or form body.
pub fn osmand_form(data: &[u8]) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    if let Ok(p) = domain::osmand::parse_form(&pairs) {
        // what is accepted is a real position
        assert!(p.lat.is_finite() && p.lng.is_finite());
        assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lng));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = domain::osmand::parse_timestamp(s);
    }
}

/// Traccar Client's JSON body (`{device_id, location}` or `location: [...]`).
pub fn osmand_json(data: &[u8]) {
    if let Ok(body) = serde_json::from_slice::<domain::osmand::JsonBody>(data) {
        if let Ok(ps) = domain::osmand::from_json(body) {
            for p in ps {
                assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lng));
            }
        }
    }
}

/// WeChat Pay v3 notifications: headers and body as they arrive (a forged
/// signature must be refused without a panic), and, signed and encrypted with
/// the test keys, any envelope and any decrypted transaction.
pub fn wechatpay_notification(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        // raw: four header lines, then the body
        0 => {
            let text = String::from_utf8_lossy(rest);
            let mut lines = text.splitn(5, '\n');
            let mut next = || lines.next().map(str::to_string);
            let h = NotifyHeaders { serial: next(), signature: next(), timestamp: next(), nonce: next() };
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
}
