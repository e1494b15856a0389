//! The organisation tree: city → district → street → community → grid.
//! Buildings, units and households hang below grids (以楼带房、以房带户、以户带人).
//!
//! A node's position is kept as a materialised path of ids ("/1/4/9/"), so
//! "is X inside the subtree of Y" is a prefix test that the database can
//! answer with an index (`path LIKE '/1/4/%'`).

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "db", derive(sea_orm::DeriveValueType), sea_orm(value_type = "String"))]
pub enum OrgLevel {
    City,
    District,
    Street,
    Community,
    Grid,
}

crate::coded!(OrgLevel);

impl OrgLevel {
    pub const ALL: [OrgLevel; 5] =
        [OrgLevel::City, OrgLevel::District, OrgLevel::Street, OrgLevel::Community, OrgLevel::Grid];
    /// The level a child of this level must have.
    pub fn child(self) -> Option<OrgLevel> {
        match self {
            OrgLevel::City => Some(OrgLevel::District),
            OrgLevel::District => Some(OrgLevel::Street),
            OrgLevel::Street => Some(OrgLevel::Community),
            OrgLevel::Community => Some(OrgLevel::Grid),
            OrgLevel::Grid => None,
        }
    }
}

/// Materialised path of a node: "/" followed by each id from the root, each
/// followed by "/".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(id: i64) -> OrgPath {
        OrgPath(format!("/{id}/"))
    }
    pub fn child(&self, id: i64) -> OrgPath {
        OrgPath(format!("{}{id}/", self.0))
    }
    pub fn parse(s: &str) -> Option<OrgPath> {
        let inner = s.strip_prefix('/')?.strip_suffix('/')?;
        if inner.is_empty() || !inner.split('/').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Some(OrgPath(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// True when `other` is this node or lies below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }
    /// Ids from the root down to this node.
    pub fn ids(&self) -> Vec<i64> {
        self.0.split('/').filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn subtree_is_prefix_and_not_sibling_prefix() {
        let street = OrgPath::root(1).child(2);
        let c1 = street.child(3);
        let c13 = street.child(33);
        assert!(street.contains(&c1));
        assert!(c1.contains(&c1));
        assert!(!c1.contains(&street));
        // "/1/2/3/" must not contain "/1/2/33/"
        assert!(!c1.contains(&c13));
        assert_eq!(c13.ids(), vec![1, 2, 33]);
        assert_eq!(OrgPath::parse("/1/2/"), Some(street));
        assert_eq!(OrgPath::parse("/1//"), None);
        assert_eq!(OrgPath::parse("1/2/"), None);
    }
}
