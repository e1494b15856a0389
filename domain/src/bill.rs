//! Bills (缴费): kinds, billing periods, and what pages show.

use crate::{money::Fen, ErrorCode};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub fn as_str(self) -> &'static str {
        match self {
            BillKind::Property => "property",
            BillKind::Water => "water",
            BillKind::Electricity => "electricity",
            BillKind::Gas => "gas",
            BillKind::Parking => "parking",
            BillKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<BillKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
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
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillStatus {
    Unpaid,
    Paid,
    Refunded,
    Void,
}

impl BillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Unpaid => "unpaid",
            BillStatus::Paid => "paid",
            BillStatus::Refunded => "refunded",
            BillStatus::Void => "void",
        }
    }
    pub fn parse(s: &str) -> Option<BillStatus> {
        match s {
            "unpaid" => Some(BillStatus::Unpaid),
            "paid" => Some(BillStatus::Paid),
            "refunded" => Some(BillStatus::Refunded),
            "void" => Some(BillStatus::Void),
            _ => None,
        }
    }
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
