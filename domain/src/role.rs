//! Roles. Every role is held at a node of the organisation tree and reaches
//! that node's subtree.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
pub enum Role {
    Resident,
    GridWorker,
    Staff,
    Admin,
}

crate::coded!(Role);

impl Role {
    pub const ALL: [Role; 4] = [Role::Resident, Role::GridWorker, Role::Staff, Role::Admin];

    /// May publish announcements and manage community data in their scope.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff | Role::Admin)
    }

    /// Staff log in with a password as well as a code; others by code only.
    pub fn may_use_password(self) -> bool {
        self.is_staff()
    }

    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Role::Resident, false) => "居民",
            (Role::GridWorker, false) => "网格员",
            (Role::Staff, false) => "社区工作人员",
            (Role::Admin, false) => "管理员",
            (Role::Resident, true) => "Resident",
            (Role::GridWorker, true) => "Grid worker",
            (Role::Staff, true) => "Staff",
            (Role::Admin, true) => "Administrator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Staff.is_staff() && !Role::GridWorker.is_staff());
    }
}
