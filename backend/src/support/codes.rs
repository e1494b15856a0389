//! Codes people read off paper or a screen and type back: receipts (缴费,
//! 投票回执, 兑换码) and certificates. Twelve characters of an alphabet
//! without look-alikes (`domain::payments::RECEIPT_ALPHABET`), shown in
//! groups of four (`domain::payments::format_receipt_code`).

use domain::payments::RECEIPT_ALPHABET;
use rand::Rng;

/// A fresh receipt code; uniqueness is the database's (a unique index on
/// each table that stores one).
pub fn new_receipt_code() -> String {
    let mut r = rand::thread_rng();
    (0..12).map(|_| RECEIPT_ALPHABET[r.gen_range(0..RECEIPT_ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn receipt_codes_use_only_the_alphabet() {
        let c = super::new_receipt_code();
        assert_eq!(c.len(), 12);
        assert!(c.bytes().all(|b| domain::payments::RECEIPT_ALPHABET.contains(&b)));
    }
}
