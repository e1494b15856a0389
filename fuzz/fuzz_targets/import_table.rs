//! Household and bill imports: a CSV (UTF-8 or GBK) or XLSX upload, then the
//! cell parsers its rows go through.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
