//! Patrol routes and checkpoints (巡逻线路, 定点), issue 4. A route belongs
//! to a grid; its checkpoints are visited in order when the route is
//! ordered. Coordinates are WGS-84.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// A checkpoint as staff enter or import it (already checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCheckpoint {
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i32,
    pub requires_qr: bool,
}

/// The radius when none is given (metres).
pub const DEFAULT_RADIUS_M: i32 = 30;

impl NewCheckpoint {
    /// Checks a checkpoint: a name of 1–60 characters, a WGS-84 point, a
    /// radius of 5–500 m.
    pub fn new(
        name: &str,
        lat: f64,
        lng: f64,
        radius_m: Option<i64>,
        requires_qr: bool,
    ) -> Result<NewCheckpoint, ErrorCode> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ErrorCode::InvalidTitle);
        }
        if !(lat.is_finite() && lng.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng)) {
            return Err(ErrorCode::InvalidLocation);
        }
        let radius_m = radius_m.unwrap_or(DEFAULT_RADIUS_M as i64);
        if !(5..=500).contains(&radius_m) {
            return Err(ErrorCode::InvalidRadius);
        }
        Ok(NewCheckpoint { name: name.into(), lat, lng, radius_m: radius_m as i32, requires_qr })
    }

    /// From a staff form: latitude, longitude and radius as typed.
    pub fn parse(
        name: &str,
        lat: &str,
        lng: &str,
        radius: &str,
        requires_qr: bool,
    ) -> Result<NewCheckpoint, ErrorCode> {
        let num = |s: &str| s.trim().parse::<f64>().map_err(|_| ErrorCode::InvalidLocation);
        let radius = match radius.trim() {
            "" => None,
            r => Some(r.parse::<i64>().map_err(|_| ErrorCode::InvalidRadius)?),
        };
        NewCheckpoint::new(name, num(lat)?, num(lng)?, radius, requires_qr)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointView {
    pub id: i64,
    pub seq: i32,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i32,
    pub requires_qr: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteView {
    pub id: i64,
    pub grid_id: i64,
    pub grid: String,
    pub name: String,
    pub ordered: bool,
    pub active: bool,
    pub checkpoints: Vec<CheckpointView>,
}

/// One line of the printable QR sheet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetItem {
    pub seq: i32,
    pub name: String,
    pub url: String,
    pub svg: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_checked() {
        let c = NewCheckpoint::parse(" 东门岗亭 ", "39.9087", "116.3975", "", true).unwrap();
        assert_eq!((c.name.as_str(), c.radius_m, c.requires_qr), ("东门岗亭", DEFAULT_RADIUS_M, true));
        assert_eq!(NewCheckpoint::parse("", "39.9", "116.4", "", false), Err(ErrorCode::InvalidTitle));
        assert_eq!(NewCheckpoint::parse("x", "99", "116.4", "", false), Err(ErrorCode::InvalidLocation));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "abc", "", false), Err(ErrorCode::InvalidLocation));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "116.4", "3", false), Err(ErrorCode::InvalidRadius));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "116.4", "501", false), Err(ErrorCode::InvalidRadius));
        assert!(NewCheckpoint::new("x", f64::NAN, 116.4, None, false).is_err());
    }
}
