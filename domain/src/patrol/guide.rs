//! Guidance on the grid worker's phone, as guard-tour apps give it: which
//! checkpoint is next, how far it is and which way. The phone works it out
//! from each fix; the page draws the route with the same projection the
//! server used (`TrackMap::project`).

use serde::{Deserialize, Serialize};

use crate::geo;

/// A checkpoint of the route as the phone needs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    pub id: i64,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i32,
    /// Checked in and accepted.
    pub done: bool,
}

/// The next checkpoint seen from where the worker stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Next<'a> {
    pub waypoint: &'a Waypoint,
    pub distance_m: f64,
    pub bearing_deg: f64,
}

/// On an ordered route the first checkpoint not yet done; otherwise the
/// nearest one not yet done. None when every checkpoint is done.
pub fn next_checkpoint<'a>(route: &'a [Waypoint], ordered: bool, lat: f64, lng: f64) -> Option<Next<'a>> {
    let seen = |w: &'a Waypoint| Next {
        waypoint: w,
        distance_m: geo::distance_m(lat, lng, w.lat, w.lng),
        bearing_deg: geo::bearing_deg(lat, lng, w.lat, w.lng),
    };
    let open = route.iter().filter(|w| !w.done);
    if ordered {
        open.map(seen).next()
    } else {
        open.map(seen).min_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
    }
}

/// A distance as a person reads it: to 5 m close by, 10 m further, then
/// kilometres with one decimal.
pub fn distance_words(m: f64, english: bool) -> String {
    let m = m.max(0.0);
    if m >= 1000.0 {
        let km = (m / 100.0).round() / 10.0;
        return if english { format!("{km} km") } else { format!("{km} 公里") };
    }
    let step = if m < 100.0 { 5.0 } else { 10.0 };
    let r = ((m / step).round() * step) as i64;
    if english {
        format!("{r} m")
    } else {
        format!("{r} 米")
    }
}

impl Next<'_> {
    /// Inside the checkpoint's range (where a check-in is judged on site).
    pub fn arrived(&self) -> bool {
        self.distance_m <= self.waypoint.radius_m as f64
    }

    /// "下一点位 3号楼消防通道 · 约 120 米 · 往东北", or "已到 …,可以签到".
    pub fn text(&self, english: bool) -> String {
        let name = &self.waypoint.name;
        match (self.arrived(), english) {
            (true, false) => format!("已到{name}附近,可以签到"),
            (true, true) => format!("At {name}: you can check in"),
            (false, false) => format!(
                "下一点位 {name} · 约 {} · 往{}",
                distance_words(self.distance_m, false),
                geo::compass(self.bearing_deg, false)
            ),
            (false, true) => format!(
                "Next: {name} · about {} · to the {}",
                distance_words(self.distance_m, true),
                geo::compass(self.bearing_deg, true)
            ),
        }
    }
}

/// What the guidance line says when no checkpoint is left.
pub fn all_done(english: bool) -> &'static str {
    if english {
        "Every checkpoint is checked in"
    } else {
        "全部点位已签到"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp(id: i64, lat: f64, lng: f64, done: bool) -> Waypoint {
        Waypoint { id, name: format!("点{id}"), lat, lng, radius_m: 30, done }
    }

    #[test]
    fn bearings_and_directions() {
        let (lat, lng) = (39.96, 116.418);
        assert!((geo::bearing_deg(lat, lng, lat + 0.01, lng) - 0.0).abs() < 0.01);
        assert!((geo::bearing_deg(lat, lng, lat, lng + 0.01) - 90.0).abs() < 0.1);
        assert!((geo::bearing_deg(lat, lng, lat - 0.01, lng) - 180.0).abs() < 0.01);
        assert_eq!(geo::compass(44.0, false), "东北");
        assert_eq!(geo::compass(359.0, true), "north");
        assert_eq!(geo::compass(200.0, true), "south");
        assert_eq!(geo::compass(210.0, true), "south-west");
        assert_eq!(geo::compass(-90.0, false), "西");
    }

    #[test]
    fn the_next_checkpoint_is_the_first_open_one_or_the_nearest() {
        let route = vec![wp(1, 39.96, 116.418, true), wp(2, 39.97, 116.418, false), wp(3, 39.9601, 116.418, false)];
        let next = next_checkpoint(&route, true, 39.96, 116.418).expect("one left");
        assert_eq!(next.waypoint.id, 2);
        assert_eq!(geo::compass(next.bearing_deg, false), "北");
        assert_eq!(next_checkpoint(&route, false, 39.96, 116.418).map(|n| n.waypoint.id), Some(3));
        let done: Vec<Waypoint> = route.iter().map(|w| Waypoint { done: true, ..w.clone() }).collect();
        assert_eq!(next_checkpoint(&done, false, 39.96, 116.418), None);
    }

    #[test]
    fn the_guidance_reads_plainly() {
        let route = vec![wp(2, 39.961, 116.419, false)];
        let next = next_checkpoint(&route, true, 39.96, 116.418).expect("one");
        assert_eq!(next.text(false), "下一点位 点2 · 约 140 米 · 往东北");
        assert_eq!(next.text(true), "Next: 点2 · about 140 m · to the north-east");
        let here = next_checkpoint(&route, true, 39.961, 116.4191).expect("one");
        assert!(here.arrived());
        assert_eq!(here.text(false), "已到点2附近,可以签到");
        assert_eq!(distance_words(42.0, false), "40 米");
        assert_eq!(distance_words(43.0, true), "45 m");
        assert_eq!(distance_words(1234.0, false), "1.2 公里");
    }
}
