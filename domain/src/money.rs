//! Money (rules.md §3): integer fen (分) everywhere, never a float. Amounts
//! typed in yuan ("1,234.5") are parsed exactly; shares are computed in
//! integers and rounded half up once, at the end.

use crate::ErrorCode;
use serde::{Deserialize, Serialize};

/// An amount in fen. Bills and orders hold positive amounts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Fen(pub i64);

/// The largest amount we accept on one line: ¥10,000,000.00.
pub const MAX_FEN: i64 = 1_000_000_000;

impl Fen {
    /// Yuan as typed: "12", "12.3", "12.34", "1,234.50", "¥12.34". At most
    /// two decimals, not negative, at most ¥10,000,000.
    pub fn parse_yuan(s: &str) -> Result<Fen, ErrorCode> {
        let s: String =
            s.trim().trim_start_matches(['¥', '￥']).chars().filter(|c| *c != ',' && *c != '\u{ff0c}').collect();
        let s = s.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 10 {
            return Err(ErrorCode::InvalidAmount);
        }
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && frac.is_empty()) {
            return Err(ErrorCode::InvalidAmount);
        }
        let w: i64 = whole.parse().map_err(|_| ErrorCode::InvalidAmount)?;
        let f: i64 = format!("{frac:0<2}").parse().map_err(|_| ErrorCode::InvalidAmount)?;
        let fen = w.checked_mul(100).and_then(|v| v.checked_add(f)).ok_or(ErrorCode::InvalidAmount)?;
        if fen > MAX_FEN {
            return Err(ErrorCode::InvalidAmount);
        }
        Ok(Fen(fen))
    }

    /// A positive amount (a bill line, a price).
    pub fn parse_positive_yuan(s: &str) -> Result<Fen, ErrorCode> {
        let f = Fen::parse_yuan(s)?;
        if f.0 <= 0 {
            return Err(ErrorCode::InvalidAmount);
        }
        Ok(f)
    }

    /// "1234.50" (for forms and CSV).
    pub fn yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl std::fmt::Display for Fen {
    /// "¥1,234.50"
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = (a / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}¥{grouped}.{:02}", a % 100)
    }
}

/// Property fee (物业费): registered area (0.01 m²) × unit price (fen per m²
/// per month) × months, rounded half up to the fen once.
pub fn property_fee(area_centi_m2: i64, price_fen_per_m2_month: i64, months: i64) -> Fen {
    // area is in hundredths: the product is in hundredths of a fen
    let hundredths = area_centi_m2 as i128 * price_fen_per_m2_month as i128 * months as i128;
    Fen(((hundredths + 50) / 100) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_is_parsed_exactly() {
        assert_eq!(Fen::parse_yuan("12"), Ok(Fen(1200)));
        assert_eq!(Fen::parse_yuan("12.3"), Ok(Fen(1230)));
        assert_eq!(Fen::parse_yuan("12.34"), Ok(Fen(1234)));
        assert_eq!(Fen::parse_yuan(" ¥1,234.50 "), Ok(Fen(123_450)));
        assert_eq!(Fen::parse_yuan("￥1\u{ff0c}234"), Ok(Fen(123_400)));
        assert_eq!(Fen::parse_yuan("0.1"), Ok(Fen(10)));
        // what floats get wrong: 0.1 + 0.2 style values are exact here
        assert_eq!(Fen::parse_yuan("1.15"), Ok(Fen(115)));
        assert_eq!(Fen::parse_yuan("10000000"), Ok(Fen(MAX_FEN)));
        for bad in ["", "-1", "1.234", "1.", ".5", "1e3", "abc", "10000000.01", "99999999999", "1.2.3"] {
            assert_eq!(Fen::parse_yuan(bad), Err(ErrorCode::InvalidAmount), "{bad}");
        }
        assert_eq!(Fen::parse_positive_yuan("0"), Err(ErrorCode::InvalidAmount));
    }

    #[test]
    fn amounts_print_as_yuan() {
        assert_eq!(Fen(123_450).to_string(), "¥1,234.50");
        assert_eq!(Fen(5).to_string(), "¥0.05");
        assert_eq!(Fen(100_000_000).to_string(), "¥1,000,000.00");
        assert_eq!(Fen(-250).to_string(), "-¥2.50");
        assert_eq!(Fen(123_450).yuan(), "1234.50");
    }

    #[test]
    fn property_fee_rounds_once_half_up() {
        // 89.50 m² × ¥1.85 × 12 months = ¥1,986.90
        assert_eq!(property_fee(8950, 185, 12), Fen(198_690));
        // 0.01 m² × 1 fen × 1 month = 0.01 fen → 0; 50 of them → 0.5 fen → 1
        assert_eq!(property_fee(1, 1, 1), Fen(0));
        assert_eq!(property_fee(50, 1, 1), Fen(1));
        assert_eq!(property_fee(49, 1, 1), Fen(0));
        // 100.33 m² × ¥2.35 × 3 = 707.3265 → ¥707.33
        assert_eq!(property_fee(10_033, 235, 3), Fen(70_733));
    }
}
