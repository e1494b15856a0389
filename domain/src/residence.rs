//! Residence verification (住户认证): how a person relates to a dwelling, and
//! registered areas in 0.01 m² integers (never floats: Art. 278 sums them).

use crate::ErrorCode;
use serde::{Deserialize, Serialize};

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Relation {
    Owner,
    CoOwner,
    Tenant,
    FamilyMember,
}

impl Relation {
    pub const ALL: [Relation; 4] = [Relation::Owner, Relation::CoOwner, Relation::Tenant, Relation::FamilyMember];
    /// Owners and co-owners give the registered area (it weighs their vote).
    pub fn needs_area(self) -> bool {
        matches!(self, Relation::Owner | Relation::CoOwner)
    }
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Relation::Owner, false) => "业主",
            (Relation::CoOwner, false) => "共有人",
            (Relation::Tenant, false) => "租户",
            (Relation::FamilyMember, false) => "家庭成员",
            (Relation::Owner, true) => "Owner",
            (Relation::CoOwner, true) => "Co-owner",
            (Relation::Tenant, true) => "Tenant",
            (Relation::FamilyMember, true) => "Family member",
        }
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum ResidenceStatus {
    Pending,
    Approved,
    Rejected,
}

impl ResidenceStatus {
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Self::Pending, false) => "待审核",
            (Self::Approved, false) => "已通过",
            (Self::Rejected, false) => "未通过",
            (Self::Pending, true) => "Pending",
            (Self::Approved, true) => "Approved",
            (Self::Rejected, true) => "Rejected",
        }
    }
}

/// An area in hundredths of a square metre, parsed exactly from what people
/// type ("89.5", "89.50 ㎡", "１２０"). At most two decimals; 0 < area ≤ 100,000 m².
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AreaCentiM2(i64);

impl AreaCentiM2 {
    pub fn parse(input: &str) -> Result<AreaCentiM2, ErrorCode> {
        let normalised: String = input
            .trim()
            .trim_end_matches("平方米")
            .trim_end_matches('㎡')
            .trim_end_matches("m²")
            .trim_end_matches("m2")
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '．' => '.',
                c => c,
            })
            .collect();
        let (int, frac) = normalised.split_once('.').unwrap_or((&normalised, "0"));
        if int.is_empty()
            || frac.is_empty()
            || int.len() > 6
            || !int.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ErrorCode::InvalidArea);
        }
        let whole: i64 = int.parse().map_err(|_| ErrorCode::InvalidArea)?;
        let hundredths: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| ErrorCode::InvalidArea)? * 10,
            _ => frac.parse::<i64>().map_err(|_| ErrorCode::InvalidArea)?,
        };
        let v = whole * 100 + hundredths;
        if v <= 0 || v > 10_000_000 {
            return Err(ErrorCode::InvalidArea);
        }
        Ok(AreaCentiM2(v))
    }
    pub fn from_centi(v: i64) -> Option<AreaCentiM2> {
        (v > 0).then_some(AreaCentiM2(v))
    }
    pub fn centi(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for AreaCentiM2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}\u{a0}m²", self.0 / 100, self.0 % 100)
    }
}

/// A residence request as its applicant and the deciding staff see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResidenceView {
    pub id: i64,
    pub community: String,
    /// "3号楼 2单元 302"
    pub address: String,
    pub relation: Relation,
    pub area: Option<AreaCentiM2>,
    pub status: ResidenceStatus,
    pub reason: Option<String>,
    pub applicant_name: String,
    /// masked (138****0001), or in full when a staff member asked to see it
    /// (and the view was logged)
    pub applicant_phone: String,
    /// masked (310***********123X) or in full, as the phone; `None` when not given
    pub applicant_id_number: Option<String>,
    /// the phone and ID number above are shown in full
    pub in_full: bool,
    /// Beijing time
    pub created_at: String,
}

/// One option when picking a community, building or dwelling.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_parse_exactly() {
        for (s, v) in [
            ("89.5", 8950),
            ("89.50", 8950),
            ("89", 8900),
            ("0.01", 1),
            ("１２０．３", 12030),
            ("75.25㎡", 7525),
            ("60 平方米", 6000),
        ] {
            assert_eq!(AreaCentiM2::parse(s).unwrap().centi(), v, "{s}");
        }
        for s in ["", "0", "0.00", "-5", "1.234", "abc", "1e3", "1,000", "1000001", ".5", "5."] {
            assert!(AreaCentiM2::parse(s).is_err(), "{s}");
        }
        assert_eq!(AreaCentiM2::parse("89.5").unwrap().to_string(), "89.50\u{a0}m²");
    }

    #[test]
    fn relations() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.as_str()), Some(r));
        }
        assert!(Relation::Owner.needs_area() && Relation::CoOwner.needs_area());
        assert!(!Relation::Tenant.needs_area() && !Relation::FamilyMember.needs_area());
    }
}

/// One line of the personal-data log: a staff member saw someone's numbers in full.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalDataViewRow {
    /// Beijing time
    pub at: String,
    pub viewer: String,
    pub subject: String,
    /// "phone", "id_number"
    pub fields: Vec<String>,
    /// "residence:12"
    pub context: String,
}
