//! Domain types and rules of 智慧社区 that must be exactly right.
//!
//! Everything here is pure (no I/O, no framework), compiled for the server
//! and for the WASM client alike. External input is parsed into these types
//! at the edge ("parse, don't validate").

pub mod appointments;
pub mod bills;
pub mod error;
pub mod figures;
pub mod geo;
pub mod i18n;
pub mod id_number;
pub mod import;
pub mod incidents;
pub mod money;
pub mod msg;
pub mod notify;
pub mod org;
pub mod osmand;
pub mod patrol;
pub mod payments;
pub mod phone;
pub mod points;
pub mod residence;
pub mod role;
pub mod text;
pub mod time;
pub mod topics;
pub mod volunteer;
pub mod votes;

pub use error::ErrorCode;
pub use id_number::IdNumber;
pub use org::{OrgLevel, OrgPath};
pub use phone::Phone;
pub use role::Role;

/// A closed set of codes kept in a text column and sent as JSON strings,
/// declared with `#[macro_rules_attribute::apply(crate::coded_enum!)]` on
/// the enum: its snake_case codes are derived once with strum
/// (`IntoStaticStr`, `EnumString`, `Display`, `VariantArray`), serde uses
/// the same codes, and with the `db` feature sea-orm's `DeriveValueType`
/// makes it an entity's column type, never a string; `coded!` adds
/// `as_str`, `parse` and `== "code"`. (Enums with other codes, such as
/// WeChat Pay's SCREAMING_CASE `TradeState`, derive these themselves.)
#[macro_export]
macro_rules! coded_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident $body:tt) => {
        $(#[$m])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[derive(strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray)]
        #[strum(serialize_all = "snake_case")]
        #[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
        $vis enum $name $body
        $crate::coded!($name);
    };
}

/// The two names callers use for a coded enum's codes (`coded_enum!` adds
/// them; an enum with other derives calls this itself).
#[macro_export]
macro_rules! coded {
    ($t:ty) => {
        impl $t {
            /// The stored code.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
            /// The value of a stored code; `None` for any other text.
            pub fn parse(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
        /// A value equals its stored code (`order.status == "paid"`).
        impl PartialEq<&str> for $t {
            fn eq(&self, code: &&str) -> bool {
                self.as_str() == *code
            }
        }
    };
}

#[cfg(test)]
mod coded_tests {
    use strum::VariantArray;

    /// Every coded enum: each value has its own stored code, which reads back
    /// to it and is what `Display` writes.
    fn check<T>()
    where
        T: VariantArray
            + Copy
            + PartialEq
            + std::fmt::Debug
            + std::fmt::Display
            + Into<&'static str>
            + std::str::FromStr,
    {
        for v in T::VARIANTS {
            let code: &'static str = (*v).into();
            assert_eq!(code.parse::<T>().ok(), Some(*v), "{v:?}");
            assert_eq!(v.to_string(), code);
        }
        assert!("no such code".parse::<T>().is_err());
    }

    #[test]
    fn every_code_reads_back_to_its_value() {
        use crate::*;
        check::<bills::BillKind>();
        check::<bills::BillStatus>();
        check::<appointments::Audience>();
        check::<appointments::QuotaPeriod>();
        check::<appointments::BookingStatus>();
        check::<role::Role>();
        check::<payments::OrderStatus>();
        check::<payments::TradeState>();
        check::<volunteer::SignupStatus>();
        check::<volunteer::Direction>();
        check::<org::OrgLevel>();
        check::<residence::Relation>();
        check::<residence::ResidenceStatus>();
        check::<incidents::Category>();
        check::<incidents::Status>();
        check::<incidents::RejectReason>();
        check::<incidents::Action>();
        check::<points::EntryKind>();
        check::<points::RedemptionStatus>();
        check::<topics::TopicStatus>();
        check::<topics::CommentStatus>();
        check::<notify::NotificationKind>();
        check::<votes::VoteKind>();
        check::<votes::Eligibility>();
        check::<votes::VoteStatus>();
        check::<patrol::PatrolState>();
        check::<patrol::Transition>();
        check::<patrol::GapReason>();
        check::<patrol::EventKind>();
        check::<patrol::outbox::RefusalReason>();
        check::<figures::Metric>();
        check::<i18n::Lang>();
        check::<appointments::SlotStatus>();
        check::<appointments::WaitStatus>();
        check::<payments::RefundState>();
        check::<payments::ReconStatus>();
        check::<votes::PaperStatus>();
        check::<incidents::ExtensionStatus>();
        check::<volunteer::ActivityStatus>();
        check::<volunteer::AttendanceStatus>();
    }
}
