//! Points (志愿积分, 参与积分) and the points mall (积分超市), rules.md §4.
//!
//! The ledger is append-only: a balance is the sum of its entries; a
//! correction is a new reversing entry. Every entry has a unique key, so
//! replaying the same award is a no-op. No balance goes below zero. A
//! redemption holds points and stock together (a negative `hold` entry and
//! one unit of stock) and then is picked up (kept) or released (a `release`
//! entry gives the points back and the stock returns).

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum EntryKind {
    /// Volunteer service hours converted to points.
    Service,
    /// Taking part in deliberation (reading, comments, meetings; daily cap).
    Participation,
    /// Staff adjustment with a reason (e.g. a prize).
    Adjustment,
    /// Points held by a redemption (negative).
    Hold,
    /// A hold given back: expired or cancelled redemption (positive).
    Release,
    /// The reversal of an earlier entry (opposite amount).
    Reversal,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Service,
        EntryKind::Participation,
        EntryKind::Adjustment,
        EntryKind::Hold,
        EntryKind::Release,
        EntryKind::Reversal,
    ];
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Service, false) => "志愿服务",
            (Self::Service, true) => "Volunteer service",
            (Self::Participation, false) => "参与议事",
            (Self::Participation, true) => "Participation",
            (Self::Adjustment, false) => "积分调整",
            (Self::Adjustment, true) => "Adjustment",
            (Self::Hold, false) => "兑换",
            (Self::Hold, true) => "Redemption",
            (Self::Release, false) => "兑换退回",
            (Self::Release, true) => "Redemption returned",
            (Self::Reversal, false) => "冲正",
            (Self::Reversal, true) => "Reversal",
        }
    }
    /// Entries staff may reverse (a hold is released, not reversed).
    pub fn reversible(self) -> bool {
        matches!(self, Self::Service | Self::Participation | Self::Adjustment)
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum RedemptionStatus {
    /// Points and stock held; waiting for pickup.
    Pending,
    PickedUp,
    /// Not picked up in time: released.
    Expired,
    /// Cancelled by the resident: released.
    Cancelled,
}

impl RedemptionStatus {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Pending, false) => "待领取",
            (Self::Pending, true) => "Ready for pickup",
            (Self::PickedUp, false) => "已领取",
            (Self::PickedUp, true) => "Picked up",
            (Self::Expired, false) => "已过期(积分已退回)",
            (Self::Expired, true) => "Expired (points returned)",
            (Self::Cancelled, false) => "已取消(积分已退回)",
            (Self::Cancelled, true) => "Cancelled (points returned)",
        }
    }
}

/// A whole number of points typed by staff: 1–100,000.
pub fn parse_points(s: &str) -> Result<i64, ErrorCode> {
    let t = s.trim();
    if t.is_empty() || t.len() > 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::InvalidPoints);
    }
    let n: i64 = t.parse().map_err(|_| ErrorCode::InvalidPoints)?;
    if (1..=100_000).contains(&n) {
        Ok(n)
    } else {
        Err(ErrorCode::InvalidPoints)
    }
}

/// Stock typed by staff: 0–100,000.
pub fn parse_stock(s: &str) -> Result<i64, ErrorCode> {
    let t = s.trim();
    if t.is_empty() || t.len() > 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::InvalidInput);
    }
    t.parse::<i64>().ok().filter(|n| (0..=100_000).contains(n)).ok_or(ErrorCode::InvalidInput)
}

/// One ledger line as shown: every balance explained entry by entry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: i64,
    pub kind: EntryKind,
    pub points: i64,
    pub reason: String,
    pub at: String,
    /// The balance right after this entry.
    pub balance_after: i64,
    /// Already reversed (by a later entry).
    pub reversed: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", schema(as = points::ItemView))]
pub struct ItemView {
    pub id: i64,
    pub community: String,
    pub name: String,
    pub description: String,
    pub cost: i64,
    pub stock: i64,
    pub active: bool,
    /// Redemptions waiting for pickup.
    pub held: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionView {
    pub id: i64,
    pub item: String,
    pub cost: i64,
    /// Shown to the owner (and to staff at pickup).
    pub code: String,
    pub status: RedemptionStatus,
    pub created_at: String,
    pub expires_at: String,
    pub person: String,
}

/// A person looked up by staff (their ledger, to reverse an entry); the
/// phone number masked.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLedger {
    pub name: String,
    pub phone_masked: String,
    pub balance: i64,
    pub entries: Vec<EntryView>,
}

/// Replays entries in order and returns the running balances; `None` if any
/// prefix goes below zero (which the database never lets happen).
pub fn running_balances(points: &[i64]) -> Option<Vec<i64>> {
    let mut b = 0i64;
    let mut out = Vec::with_capacity(points.len());
    for p in points {
        b += p;
        if b < 0 {
            return None;
        }
        out.push(b);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_parsed_strictly() {
        assert_eq!(parse_points("20"), Ok(20));
        assert_eq!(parse_points(" 100000 "), Ok(100_000));
        for bad in ["0", "-5", "1.5", "", "100001", "abc", "1e3"] {
            assert_eq!(parse_points(bad), Err(ErrorCode::InvalidPoints), "{bad}");
        }
        assert_eq!(parse_stock("0"), Ok(0));
        assert_eq!(parse_stock("-1"), Err(ErrorCode::InvalidInput));
    }

    #[test]
    fn kinds_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert!(!EntryKind::Hold.reversible() && EntryKind::Service.reversible());
    }

    #[test]
    fn running_balances_explain_the_total() {
        assert_eq!(running_balances(&[10, 5, -12, 12]), Some(vec![10, 15, 3, 15]));
        assert_eq!(running_balances(&[10, -11]), None);
    }
}
