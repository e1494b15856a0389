//! Bills (缴费): kinds, billing periods, and what pages show.

use crate::{money::Fen, ErrorCode};
use serde::{Deserialize, Serialize};

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum BillKind {
    Property,
    Water,
    Electricity,
    Gas,
    Parking,
    Other,
}

impl BillKind {
    pub const ALL: [BillKind; 6] =
        [BillKind::Property, BillKind::Water, BillKind::Electricity, BillKind::Gas, BillKind::Parking, BillKind::Other];
    /// A kind as typed in a spreadsheet: its Chinese label (with or without
    /// 费), or its English name.
    pub fn parse_typed(s: &str) -> Option<BillKind> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| {
            k.as_str() == lower
                || k.label(false) == s
                || k.label(false).trim_end_matches('费') == s
                || k.label(true).to_ascii_lowercase() == lower
        })
    }
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (BillKind::Property, false) => "物业费",
            (BillKind::Water, false) => "水费",
            (BillKind::Electricity, false) => "电费",
            (BillKind::Gas, false) => "燃气费",
            (BillKind::Parking, false) => "停车费",
            (BillKind::Other, false) => "其他费用",
            (BillKind::Property, true) => "Property fee",
            (BillKind::Water, true) => "Water",
            (BillKind::Electricity, true) => "Electricity",
            (BillKind::Gas, true) => "Gas",
            (BillKind::Parking, true) => "Parking",
            (BillKind::Other, true) => "Other",
        }
    }
}

/// A billing period: a year ("2026"), a half ("2026-H1"), a quarter
/// ("2026-Q4") or a month ("2026-11"), with how many months it covers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub label: String,
    pub months: i64,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, ErrorCode> {
        let s = s.trim().to_ascii_uppercase();
        let year_ok = |y: &str| y.len() == 4 && y.parse::<u32>().map(|y| (2000..=2200).contains(&y)).unwrap_or(false);
        let (year, rest) = s.split_once('-').unwrap_or((s.as_str(), ""));
        if !year_ok(year) {
            return Err(ErrorCode::InvalidPeriod);
        }
        let months = match rest {
            "" => 12,
            "H1" | "H2" => 6,
            "Q1" | "Q2" | "Q3" | "Q4" => 3,
            m if m.len() == 2 && m.parse::<u32>().map(|m| (1..=12).contains(&m)).unwrap_or(false) => 1,
            _ => return Err(ErrorCode::InvalidPeriod),
        };
        Ok(Period { label: s.clone(), months })
    }

    /// The period in a resident's words: "2026年下半年", "2026年第4季度",
    /// "2026年11月", "2026年" ("second half of 2026", "Q4 2026",
    /// "November 2026", "2026"). A label that is not a period is kept.
    pub fn words(label: &str, english: bool) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let Ok(p) = Period::parse(label) else { return label.to_string() };
        let (year, rest) = p.label.split_once('-').unwrap_or((p.label.as_str(), ""));
        match (rest, english) {
            ("", false) => format!("{year}年"),
            ("", true) => year.to_string(),
            ("H1", false) => format!("{year}年上半年"),
            ("H2", false) => format!("{year}年下半年"),
            ("H1", true) => format!("first half of {year}"),
            ("H2", true) => format!("second half of {year}"),
            (q, false) if q.starts_with('Q') => format!("{year}年第{}季度", &q[1..]),
            (q, true) if q.starts_with('Q') => format!("{q} {year}"),
            (m, false) => format!("{year}年{}月", m.trim_start_matches('0')),
            (m, true) => {
                let i = m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1;
                format!("{} {year}", MONTHS[i])
            }
        }
    }
}

/// A bill's title as stored ("2026-H2 物业费": the period's label and the
/// kind) in the reader's words and language ("2026年下半年物业费",
/// "Property fee, second half of 2026"); any other title is kept as typed.
pub fn title_words(stored: &str, english: bool) -> String {
    let Some((period, kind)) = stored.split_once(' ') else { return stored.to_string() };
    let (Ok(_), Some(kind)) = (Period::parse(period), BillKind::parse_typed(kind)) else { return stored.to_string() };
    let when = Period::words(period, english);
    if english {
        format!("{}, {when}", kind.label(true))
    } else {
        format!("{when}{}", kind.label(false))
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum BillStatus {
    Unpaid,
    Paid,
    Refunded,
    Void,
}

impl BillStatus {
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (BillStatus::Unpaid, false) => "待缴",
            (BillStatus::Paid, false) => "已缴",
            (BillStatus::Refunded, false) => "已退款",
            (BillStatus::Void, false) => "已作废",
            (BillStatus::Unpaid, true) => "Unpaid",
            (BillStatus::Paid, true) => "Paid",
            (BillStatus::Refunded, true) => "Refunded",
            (BillStatus::Void, true) => "Void",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillView {
    pub id: i64,
    pub address: String,
    pub kind: BillKind,
    pub period: String,
    pub title: String,
    pub amount: Fen,
    pub paid: Fen,
    pub status: BillStatus,
    pub basis: String,
}

/// Unpaid bills of one building (staff).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrearsRow {
    pub community: String,
    pub building: String,
    pub households: i64,
    pub bills: i64,
    pub owed: Fen,
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn periods_and_titles_in_plain_words() {
        assert_eq!(Period::words("2026-H2", false), "2026年下半年");
        assert_eq!(Period::words("2026-Q4", false), "2026年第4季度");
        assert_eq!(Period::words("2026-03", false), "2026年3月");
        assert_eq!(Period::words("2026", false), "2026年");
        assert_eq!(Period::words("2026-11", true), "November 2026");
        assert_eq!(Period::words("2026-H1", true), "first half of 2026");
        assert_eq!(title_words("2026-H2 物业费", false), "2026年下半年物业费");
        assert_eq!(title_words("2026-H2 物业费", true), "Property fee, second half of 2026");
        assert_eq!(title_words("2026-11 水费", true), "Water, November 2026");
        assert_eq!(title_words("车位管理费 2026", false), "车位管理费 2026");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_kinds() {
        assert_eq!(BillKind::parse_typed("水费"), Some(BillKind::Water));
        assert_eq!(BillKind::parse_typed("停车"), Some(BillKind::Parking));
        assert_eq!(BillKind::parse_typed("Electricity"), Some(BillKind::Electricity));
        assert_eq!(BillKind::parse_typed("其他费用"), Some(BillKind::Other));
        assert_eq!(BillKind::parse_typed("暖气费"), None);
    }

    #[test]
    fn periods() {
        assert_eq!(Period::parse("2026").unwrap().months, 12);
        assert_eq!(Period::parse("2026-h2").unwrap(), Period { label: "2026-H2".into(), months: 6 });
        assert_eq!(Period::parse("2026-Q4").unwrap().months, 3);
        assert_eq!(Period::parse("2026-11").unwrap().months, 1);
        for bad in ["", "26", "2026-13", "2026-Q5", "2026-1", "1999", "2026/11"] {
            assert_eq!(Period::parse(bad), Err(ErrorCode::InvalidPeriod), "{bad}");
        }
    }
}
