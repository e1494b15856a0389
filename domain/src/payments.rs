//! Payment orders (rules.md §3): the order's states and the moves between
//! them, the provider's trade states (WeChat Pay v3 names), and what pages
//! show. Amounts are integer fen.

use crate::money::Fen;
use serde::{Deserialize, Serialize};

/// created → paying → paid | closed | failed; paid → refunded.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum OrderStatus {
    /// Made, the bills locked to it, nobody sent to pay yet.
    Created,
    /// The payer was sent to the provider; only the provider's notification
    /// or an order query may settle it (the browser's "success" does not).
    Paying,
    Paid,
    /// Ended without payment (cancelled, expired); the bills are free again.
    Closed,
    /// The provider reported the payment failed; the bills are free again.
    Failed,
    /// Paid, then part or all of it refunded.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Created,
        OrderStatus::Paying,
        OrderStatus::Paid,
        OrderStatus::Closed,
        OrderStatus::Failed,
        OrderStatus::Refunded,
    ];

    /// Whether the order may move to `to`. Paid is reachable from closed and
    /// failed too: money the provider did take is never ignored (a late
    /// notification after a local close); the bills decide what it pays.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Created, Paying)
                | (Created, Closed)
                | (Paying, Paid)
                | (Paying, Closed)
                | (Paying, Failed)
                | (Created, Paid)
                | (Paid, Refunded)
                | (Refunded, Refunded)
        )
    }

    /// Still holding its bills and waiting for the payer or the provider.
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Created | OrderStatus::Paying)
    }

    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (OrderStatus::Created, false) => "待支付",
            (OrderStatus::Paying, false) => "支付确认中",
            (OrderStatus::Paid, false) => "已支付",
            (OrderStatus::Closed, false) => "已关闭",
            (OrderStatus::Failed, false) => "支付失败",
            (OrderStatus::Refunded, false) => "已退款",
            (OrderStatus::Created, true) => "Awaiting payment",
            (OrderStatus::Paying, true) => "Confirming payment",
            (OrderStatus::Paid, true) => "Paid",
            (OrderStatus::Closed, true) => "Closed",
            (OrderStatus::Failed, true) => "Payment failed",
            (OrderStatus::Refunded, true) => "Refunded",
        }
    }
}

/// A provider's view of a trade (WeChat Pay v3 `trade_state`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
pub enum TradeState {
    Notpay,
    Userpaying,
    Success,
    Refund,
    Closed,
    Revoked,
    Payerror,
}

crate::coded!(TradeState);

impl TradeState {
    pub const ALL: [TradeState; 7] = [
        TradeState::Notpay,
        TradeState::Userpaying,
        TradeState::Success,
        TradeState::Refund,
        TradeState::Closed,
        TradeState::Revoked,
        TradeState::Payerror,
    ];

    /// What this trade state means for an open order: paid (SUCCESS, and
    /// REFUND, which a trade only reaches after being paid), failed, closed,
    /// or nothing yet.
    pub fn settles(self) -> Option<OrderStatus> {
        match self {
            TradeState::Success | TradeState::Refund => Some(OrderStatus::Paid),
            TradeState::Payerror => Some(OrderStatus::Failed),
            TradeState::Closed | TradeState::Revoked => Some(OrderStatus::Closed),
            TradeState::Notpay | TradeState::Userpaying => None,
        }
    }
}

/// One bill inside an order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub bill_id: i64,
    pub title: String,
    pub address: String,
    pub amount: Fen,
    pub refunded: Fen,
}

/// An order as its payer (or staff) sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub out_trade_no: String,
    pub status: OrderStatus,
    pub provider: String,
    pub amount: Fen,
    pub refunded: Fen,
    pub lines: Vec<OrderLine>,
    /// Beijing time, "2026-11-23 10:05".
    pub created_at: String,
    pub paid_at: Option<String>,
    pub transaction_id: Option<String>,
    /// Printed on the receipt; anyone can check a receipt with it.
    pub receipt_code: Option<String>,
    pub community: String,
    /// Masked payer phone (staff views).
    pub payer: String,
}

/// What the public receipt check shows: enough to tell a genuine receipt,
/// nothing personal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceiptCheck {
    pub receipt_code: String,
    pub community: String,
    pub amount: Fen,
    pub refunded: Fen,
    pub paid_at: String,
    pub items: Vec<String>,
}

/// Money a provider took that no order could take (staff settle it by hand).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmatched {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount: Fen,
    pub detail: String,
    pub received_at: String,
}

/// One difference between our records and the provider's trade bill.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub out_trade_no: String,
    pub transaction_id: String,
    /// What is wrong, in words staff act on.
    pub problem: String,
    pub ours: Option<Fen>,
    pub theirs: Option<Fen>,
}

/// A day's reconciliation with the provider.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Beijing date, "2026-11-22".
    pub date: String,
    pub provider: String,
    pub status: ReconStatus,
    pub provider_count: i64,
    pub provider_total: Fen,
    pub our_count: i64,
    pub our_total: Fen,
    pub mismatches: Vec<Mismatch>,
    pub at: String,
}

/// A receipt code: 12 characters from an alphabet without look-alikes,
/// printed in groups of four ("7KQ2-M9XD-4HPA").
pub const RECEIPT_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Normalises a typed receipt code: upper case, separators dropped; `None`
/// when it cannot be one.
pub fn normalize_receipt_code(s: &str) -> Option<String> {
    let c: String =
        s.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{3000}')).map(|c| c.to_ascii_uppercase()).collect();
    (c.len() == 12 && c.bytes().all(|b| RECEIPT_ALPHABET.contains(&b))).then_some(c)
}

/// "7KQ2M9XD4HPA" → "7KQ2-M9XD-4HPA".
pub fn format_receipt_code(c: &str) -> String {
    c.as_bytes().chunks(4).map(|g| String::from_utf8_lossy(g).into_owned()).collect::<Vec<_>>().join("-")
}

/// Where a refund stands at the provider.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum RefundState {
    Processing,
    Success,
    /// Closed or abnormal: the money did not go back; the reservation is given back.
    Failed,
}

/// How a day's reconciliation with the provider's bill ended.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum ReconStatus {
    /// Every trade matched.
    Ok,
    Mismatch,
    /// The provider's bill could not be fetched or read.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_moves() {
        use OrderStatus::*;
        assert!(Created.can_become(Paying));
        assert!(Paying.can_become(Paid));
        assert!(Paid.can_become(Refunded));
        assert!(!Paid.can_become(Paying));
        assert!(!Closed.can_become(Paying));
        assert!(!Failed.can_become(Created));
        assert!(!Refunded.can_become(Paid));
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn trade_states() {
        for s in TradeState::ALL {
            assert_eq!(TradeState::parse(s.as_str()), Some(s));
        }
        assert_eq!(TradeState::Success.settles(), Some(OrderStatus::Paid));
        assert_eq!(TradeState::Userpaying.settles(), None);
        assert_eq!(TradeState::Payerror.settles(), Some(OrderStatus::Failed));
        assert_eq!(serde_json::to_string(&TradeState::Notpay).unwrap(), "\"NOTPAY\"");
    }

    #[test]
    fn receipt_codes() {
        assert_eq!(normalize_receipt_code("7kq2-m9xd-4hpa").as_deref(), Some("7KQ2M9XD4HPA"));
        assert_eq!(format_receipt_code("7KQ2M9XD4HPA"), "7KQ2-M9XD-4HPA");
        assert_eq!(normalize_receipt_code("7KQ2-M9XD-4HP0"), None); // 0 is not in the alphabet
        assert_eq!(normalize_receipt_code("7KQ2"), None);
    }
}
