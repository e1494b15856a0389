//! Every committed fuzz corpus input (`fuzz/corpus/<target>/`) run once
//! through its target's body (`fuzz/targets.rs`), as libFuzzer's replay
//! (`script/fuzz --replay`) does, without building the fuzz crate: a panic
//! or a failed assertion on any input fails the test and names the file.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a corpus entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{target}: an empty corpus replays nothing");
    std::panic::set_hook(Box::new(|_| {}));
    let crashed: Vec<String> = inputs
        .iter()
        .filter(|p| {
            let data = std::fs::read(p).expect("a corpus input");
            std::panic::catch_unwind(|| body(&data)).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    let _ = std::panic::take_hook();
    assert!(crashed.is_empty(), "{target}: {} of {} inputs crash: {crashed:?}", crashed.len(), inputs.len());
}

#[test]
fn geojson_outline() {
    replay("geojson_outline", targets::geojson_outline);
}

#[test]
fn import_table() {
    replay("import_table", targets::import_table);
}

#[test]
fn open311_form() {
    replay("open311_form", targets::open311_form);
}

#[test]
fn osmand_form() {
    replay("osmand_form", targets::osmand_form);
}

#[test]
fn osmand_json() {
    replay("osmand_json", targets::osmand_json);
}

#[test]
fn wechatpay_notification() {
    replay("wechatpay_notification", targets::wechatpay_notification);
}
