//! Positions and the rules that judge them (rules.md §5, protocols.md):
//! great-circle distance, WGS-84 ↔ GCJ-02 for drawing on Amap/Tencent maps,
//! the server-side filter every incoming GPS fix goes through (with a reason
//! for every dropped one), and the evidence that makes a patrol check-in
//! accepted or flagged. Coordinates are stored in WGS-84; GCJ-02 is only for
//! display and for converting `wx.getLocation({type: 'gcj02'})` back.

use serde::{Deserialize, Serialize};

/// Mean Earth radius (m) used for every distance (rules.md §5).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two WGS-84 points (haversine).
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// The initial bearing from the first point to the second, in degrees
/// clockwise from north (0–360).
pub fn bearing_deg(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dl = (lng2 - lng1).to_radians();
    let y = dl.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dl.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// A bearing as one of eight directions, in plain words: "东北", "north-east".
pub fn compass(bearing: f64, english: bool) -> &'static str {
    const ZH: [&str; 8] = ["北", "东北", "东", "东南", "南", "西南", "西", "西北"];
    const EN: [&str; 8] = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];
    let i = (((bearing % 360.0 + 360.0) % 360.0 + 22.5) / 45.0) as usize % 8;
    if english {
        EN[i]
    } else {
        ZH[i]
    }
}

// ------------------------------------------------------------------ GCJ-02

const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 applies only inside China's rough bounding box.
pub fn out_of_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 offset (degrees) at a WGS-84 point.
fn offset(lat: f64, lng: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let (x, y) = (lng - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = transform_lat(x, y) * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlng = transform_lng(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad.cos() * PI);
    (dlat, dlng)
}

/// WGS-84 → GCJ-02 (for drawing on Amap or Tencent maps).
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (dlat, dlng) = offset(lat, lng);
    (lat + dlat, lng + dlng)
}

/// GCJ-02 → WGS-84, iterated until the forward transform reproduces the
/// input (well under 0.5 m).
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if out_of_china(lat, lng) {
        return (lat, lng);
    }
    let (mut wlat, mut wlng) = (lat, lng);
    for _ in 0..30 {
        let (glat, glng) = wgs84_to_gcj02(wlat, wlng);
        let (elat, elng) = (lat - glat, lng - glng);
        wlat += elat;
        wlng += elng;
        if elat.abs() < 1e-10 && elng.abs() < 1e-10 {
            break;
        }
    }
    (wlat, wlng)
}

// ------------------------------------------------------------------ fixes

/// One position as received: where, how sure, and when (the server's clock;
/// the device's clock is kept only as a hint).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: f64,
    /// Unix seconds by the server's clock.
    pub at: i64,
    /// Unix seconds the device said, if it did.
    pub device_at: Option<i64>,
}

/// Thresholds for fixes and check-ins (configurable per deployment).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Fixes vaguer than this are dropped from tracks and prove nothing.
    pub max_accuracy_m: f64,
    /// Faster than this between fixes is not a person on foot or a bicycle.
    pub max_speed_mps: f64,
    /// A device time this far from the server's is flagged.
    pub max_clock_skew_s: i64,
    /// Fixes older than this (by device time) when they arrive are stale.
    pub max_age_s: i64,
    /// Two fixes this close in time corroborate each other.
    pub corroborate_within_s: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_accuracy_m: 50.0,
            max_speed_mps: 10.0,
            max_clock_skew_s: 300,
            max_age_s: 7 * 86_400,
            corroborate_within_s: 120,
        }
    }
}

/// Why a fix was left out of a track (the raw fix is still kept).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Dropped {
    /// Not a position on Earth, or accuracy missing or negative.
    Invalid,
    Inaccurate {
        accuracy_m: f64,
    },
    /// Same place and time as the previous fix.
    Duplicate,
    /// The device time is ahead of the server's by more than the skew allowed.
    Future {
        seconds: i64,
    },
    /// Recorded longer ago than anything we accept.
    Stale {
        seconds: i64,
    },
    /// Implied speed from the previous kept fix.
    Jump {
        speed_mps: f64,
    },
    /// Taken before the patrol began or after it ended.
    OutsidePatrol,
}

impl Dropped {
    /// The code stored with the raw fix.
    pub fn code(&self) -> &'static str {
        match self {
            Dropped::Invalid => "invalid",
            Dropped::Inaccurate { .. } => "inaccurate",
            Dropped::Duplicate => "duplicate",
            Dropped::Future { .. } => "future",
            Dropped::Stale { .. } => "stale",
            Dropped::Jump { .. } => "jump",
            Dropped::OutsidePatrol => "outside",
        }
    }

    /// The number stored beside the code (metres, seconds, m/s).
    pub fn value(&self) -> Option<f64> {
        match *self {
            Dropped::Inaccurate { accuracy_m } => Some(accuracy_m),
            Dropped::Future { seconds } | Dropped::Stale { seconds } => Some(seconds as f64),
            Dropped::Jump { speed_mps } => Some(speed_mps),
            _ => None,
        }
    }

    /// Back from what was stored.
    pub fn from_code(code: &str, value: Option<f64>) -> Option<Dropped> {
        let v = value.unwrap_or(0.0);
        Some(match code {
            "invalid" => Dropped::Invalid,
            "inaccurate" => Dropped::Inaccurate { accuracy_m: v },
            "duplicate" => Dropped::Duplicate,
            "future" => Dropped::Future { seconds: v as i64 },
            "stale" => Dropped::Stale { seconds: v as i64 },
            "jump" => Dropped::Jump { speed_mps: v },
            "outside" => Dropped::OutsidePatrol,
            _ => return None,
        })
    }

    pub fn text(&self, en: bool) -> String {
        match (*self, en) {
            (Dropped::Invalid, false) => "定位数据无效".into(),
            (Dropped::Invalid, true) => "not a valid position".into(),
            (Dropped::Inaccurate { accuracy_m }, false) => format!("精度 {accuracy_m:.0} 米,太粗"),
            (Dropped::Inaccurate { accuracy_m }, true) => format!("accuracy {accuracy_m:.0} m is too vague"),
            (Dropped::Duplicate, false) => "与上一点重复".into(),
            (Dropped::Duplicate, true) => "same as the previous fix".into(),
            (Dropped::Future { seconds }, false) => format!("时间晚于发送时刻 {seconds} 秒"),
            (Dropped::Future { seconds }, true) => format!("timestamp {seconds} s in the future"),
            (Dropped::Stale { seconds }, false) => format!("{} 天前的定位,已过期", seconds / 86_400),
            (Dropped::Stale { seconds }, true) => format!("{} days old: stale", seconds / 86_400),
            (Dropped::Jump { speed_mps }, false) => format!("与上一点相比速度 {speed_mps:.0} 米/秒,不可能"),
            (Dropped::Jump { speed_mps }, true) => format!("implied speed {speed_mps:.0} m/s is impossible"),
            (Dropped::OutsidePatrol, false) => "不在巡逻时段内".into(),
            (Dropped::OutsidePatrol, true) => "outside the patrol's time".into(),
        }
    }
}

/// The server's time for a fix a phone sends later, in a batch: the
/// phone's clock is only a hint, so its offset from the server's clock,
/// measured when the batch was sent (`sent_at_ms` by the phone, `now_ms` by
/// the server), is taken off. Returns the reckoned Unix seconds; a fix
/// stamped after the batch was sent, or older than `max_age_s`, is dropped.
pub fn reckon(device_ms: i64, sent_at_ms: i64, now_ms: i64, limits: &Limits) -> Result<i64, Dropped> {
    let ahead = device_ms.saturating_sub(sent_at_ms);
    if ahead > 1_000 {
        return Err(Dropped::Future { seconds: ahead.div_euclid(1000) });
    }
    let at_ms = device_ms.saturating_add(now_ms.saturating_sub(sent_at_ms));
    let age = now_ms.saturating_sub(at_ms).div_euclid(1000);
    if age > limits.max_age_s {
        return Err(Dropped::Stale { seconds: age });
    }
    Ok(at_ms.div_euclid(1000))
}

fn valid(f: &Fix) -> bool {
    f.lat.is_finite()
        && f.lng.is_finite()
        && (-90.0..=90.0).contains(&f.lat)
        && (-180.0..=180.0).contains(&f.lng)
        && f.accuracy_m.is_finite()
        && f.accuracy_m >= 0.0
}

/// Whether a ring of (lat, lng) vertices (the outline of a grid) holds the
/// point: even-odd ray casting, fine at a grid's size where the earth is flat.
pub fn ring_contains(ring: &[(f64, f64)], lat: f64, lng: f64) -> bool {
    if ring.len() < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (yi, xi) = ring[i];
        let (yj, xj) = ring[j];
        if (yi > lat) != (yj > lat) && lng < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// The fastest speed a device may report and be believed (250 km/h: nothing
/// a grid worker moves on is faster; more is a sensor's noise).
pub const MAX_REPORTED_SPEED_MPS: f64 = 70.0;

/// A device's reported speed as kept: a finite value from 0 to
/// `MAX_REPORTED_SPEED_MPS`, otherwise none (the fix itself is still kept).
pub fn reported_speed(speed_mps: Option<f64>) -> Option<f64> {
    speed_mps.filter(|v| v.is_finite() && (0.0..=MAX_REPORTED_SPEED_MPS).contains(v))
}

/// The time a fix describes: the device's, when it is believable (an
/// outbox delivers fixes late, so arrival time is not when they were taken).
pub fn taken_at(f: &Fix, limits: &Limits) -> i64 {
    match f.device_at {
        Some(d) if d <= f.at + limits.max_clock_skew_s && f.at - d <= limits.max_age_s => d,
        _ => f.at,
    }
}

/// Metres per second between two fixes (by the time they were taken);
/// infinite when they are apart but at the same second.
pub fn speed_mps(a: &Fix, b: &Fix, limits: &Limits) -> f64 {
    let d = distance_m(a.lat, a.lng, b.lat, b.lng);
    let dt = (taken_at(b, limits) - taken_at(a, limits)).abs() as f64;
    if dt == 0.0 {
        if d < 1.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        d / dt
    }
}

/// Whether a fix joins the track after `previous` (the last kept fix), and
/// if not, why. Speed allows for both fixes' accuracy.
pub fn filter(previous: Option<&Fix>, f: &Fix, limits: &Limits) -> Result<(), Dropped> {
    if !valid(f) {
        return Err(Dropped::Invalid);
    }
    if f.accuracy_m > limits.max_accuracy_m {
        return Err(Dropped::Inaccurate { accuracy_m: f.accuracy_m });
    }
    if let Some(d) = f.device_at {
        if d > f.at + limits.max_clock_skew_s {
            return Err(Dropped::Future { seconds: d - f.at });
        }
        if f.at - d > limits.max_age_s {
            return Err(Dropped::Stale { seconds: f.at - d });
        }
    }
    if let Some(p) = previous {
        if p.lat == f.lat && p.lng == f.lng && taken_at(p, limits) == taken_at(f, limits) {
            return Err(Dropped::Duplicate);
        }
        let d = distance_m(p.lat, p.lng, f.lat, f.lng);
        let slack = p.accuracy_m + f.accuracy_m;
        let dt = (taken_at(f, limits) - taken_at(p, limits)).abs().max(1) as f64;
        let speed = (d - slack).max(0.0) / dt;
        if speed > limits.max_speed_mps {
            return Err(Dropped::Jump { speed_mps: (d / dt * 10.0).round() / 10.0 });
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ check-ins

/// A fixed point a worker checks in at.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub lat: f64,
    pub lng: f64,
    pub radius_m: f64,
    /// A QR code posted there must be scanned as well.
    pub requires_qr: bool,
}

/// One piece of evidence for or against a check-in, in numbers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Evidence {
    /// The fix's accuracy circle reaches the checkpoint's radius.
    Near {
        distance_m: f64,
        accuracy_m: f64,
    },
    TooFar {
        distance_m: f64,
        accuracy_m: f64,
    },
    Inaccurate {
        accuracy_m: f64,
    },
    /// Another fix taken shortly before agrees.
    Corroborated {
        seconds: i64,
    },
    /// Only one fix near the checkpoint: one fix can lie.
    SingleFix,
    /// An implausible speed into the checkpoint.
    Jump {
        speed_mps: f64,
    },
    QrScanned,
    QrMissing,
    /// The phone's clock disagrees with the server's (its time is not used).
    ClockSkew {
        seconds: i64,
    },
}

impl Evidence {
    /// Whether this piece counts against the check-in.
    pub fn is_flag(&self) -> bool {
        matches!(
            self,
            Evidence::TooFar { .. }
                | Evidence::Inaccurate { .. }
                | Evidence::SingleFix
                | Evidence::Jump { .. }
                | Evidence::QrMissing
        )
    }

    pub fn text(&self, en: bool) -> String {
        match (*self, en) {
            (Evidence::Near { distance_m, accuracy_m }, false) => {
                format!("定位距点位 {distance_m:.0} 米(精度 {accuracy_m:.0} 米),在范围内")
            }
            (Evidence::Near { distance_m, accuracy_m }, true) => {
                format!("{distance_m:.0} m from the point (±{accuracy_m:.0} m): within range")
            }
            (Evidence::TooFar { distance_m, accuracy_m }, false) => {
                format!("定位距点位 {distance_m:.0} 米(精度 {accuracy_m:.0} 米),超出范围")
            }
            (Evidence::TooFar { distance_m, accuracy_m }, true) => {
                format!("{distance_m:.0} m from the point (±{accuracy_m:.0} m): out of range")
            }
            (Evidence::Inaccurate { accuracy_m }, false) => format!("定位精度 {accuracy_m:.0} 米,不足以证明到位"),
            (Evidence::Inaccurate { accuracy_m }, true) => {
                format!("accuracy {accuracy_m:.0} m is too vague to prove presence")
            }
            (Evidence::Corroborated { seconds }, false) => format!("{seconds} 秒内的另一次定位相符"),
            (Evidence::Corroborated { seconds }, true) => format!("another fix {seconds} s earlier agrees"),
            (Evidence::SingleFix, false) => "只有一次定位,无法相互印证".into(),
            (Evidence::SingleFix, true) => "a single fix, not corroborated".into(),
            (Evidence::Jump { speed_mps }, false) => format!("与上一次定位相比速度 {speed_mps:.0} 米/秒,不合常理"),
            (Evidence::Jump { speed_mps }, true) => {
                format!("implied speed {speed_mps:.0} m/s from the previous fix is implausible")
            }
            (Evidence::QrScanned, false) => "已扫点位二维码".into(),
            (Evidence::QrScanned, true) => "the checkpoint's QR code was scanned".into(),
            (Evidence::QrMissing, false) => "此点位须扫二维码,未扫".into(),
            (Evidence::QrMissing, true) => "this checkpoint needs its QR code scanned".into(),
            (Evidence::ClockSkew { seconds }, false) => format!("手机时间与服务器相差 {seconds} 秒,以服务器时间为准"),
            (Evidence::ClockSkew { seconds }, true) => {
                format!("the phone's clock is {seconds} s off; the server's time is used")
            }
        }
    }
}

/// The judgement on a check-in and every reason for it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    pub evidence: Vec<Evidence>,
}

/// Judges a check-in from the recent fixes (oldest first, the last one at
/// the moment of checking in), the fix kept before them, and whether the
/// checkpoint's QR code was scanned. Accepted only with all of: the last fix
/// near and accurate enough, another recent fix near as well, no impossible
/// jump into the checkpoint, and the QR code when the checkpoint needs it.
pub fn judge_checkin(
    cp: &Checkpoint,
    previous: Option<&Fix>,
    fixes: &[Fix],
    qr_scanned: bool,
    limits: &Limits,
) -> Verdict {
    let mut evidence = vec![];
    let near = |f: &Fix| {
        let d = distance_m(cp.lat, cp.lng, f.lat, f.lng);
        (d - f.accuracy_m <= cp.radius_m && f.accuracy_m <= limits.max_accuracy_m, d)
    };
    let Some(last) = fixes.iter().rev().find(|f| valid(f)) else {
        return Verdict { accepted: false, evidence: vec![Evidence::SingleFix] };
    };
    let (ok, d) = near(last);
    let d = (d * 10.0).round() / 10.0;
    if last.accuracy_m > limits.max_accuracy_m {
        evidence.push(Evidence::Inaccurate { accuracy_m: last.accuracy_m });
    } else if ok {
        evidence.push(Evidence::Near { distance_m: d, accuracy_m: last.accuracy_m });
    } else {
        evidence.push(Evidence::TooFar { distance_m: d, accuracy_m: last.accuracy_m });
    }
    let t_last = taken_at(last, limits);
    let corroborating = fixes
        .iter()
        .filter(|f| valid(f) && !std::ptr::eq(*f, last))
        .filter(|f| (0..=limits.corroborate_within_s).contains(&(t_last - taken_at(f, limits))))
        .filter(|f| near(f).0)
        .map(|f| t_last - taken_at(f, limits))
        .min();
    match corroborating {
        Some(s) => evidence.push(Evidence::Corroborated { seconds: s }),
        None => evidence.push(Evidence::SingleFix),
    }
    let chain: Vec<&Fix> = previous.into_iter().chain(fixes.iter().filter(|f| valid(f))).collect();
    let worst = chain
        .windows(2)
        .map(|w| {
            let slack = w[0].accuracy_m + w[1].accuracy_m;
            let dt = (taken_at(w[1], limits) - taken_at(w[0], limits)).abs().max(1) as f64;
            let speed = (distance_m(w[0].lat, w[0].lng, w[1].lat, w[1].lng) - slack).max(0.0) / dt;
            (speed, distance_m(w[0].lat, w[0].lng, w[1].lat, w[1].lng) / dt)
        })
        .fold((0.0f64, 0.0f64), |a, b| if b.0 > a.0 { b } else { a });
    if worst.0 > limits.max_speed_mps {
        evidence.push(Evidence::Jump { speed_mps: (worst.1 * 10.0).round() / 10.0 });
    }
    if qr_scanned {
        evidence.push(Evidence::QrScanned);
    } else if cp.requires_qr {
        evidence.push(Evidence::QrMissing);
    }
    if let Some(dev) = last.device_at {
        let skew = dev - last.at;
        if skew.abs() > limits.max_clock_skew_s {
            evidence.push(Evidence::ClockSkew { seconds: skew });
        }
    }
    let accepted = !evidence.iter().any(Evidence::is_flag);
    Verdict { accepted, evidence }
}

#[cfg(test)]
mod tests {

    #[test]
    fn rings_hold_what_is_inside_them() {
        // a square around 阳光社区's east gate, and an L-shaped grid
        let square = [(39.908, 116.397), (39.908, 116.398), (39.909, 116.398), (39.909, 116.397)];
        assert!(ring_contains(&square, 39.9087, 116.3975));
        assert!(!ring_contains(&square, 39.9100, 116.3975));
        let l_shape = [(0.0, 0.0), (0.0, 2.0), (1.0, 2.0), (1.0, 1.0), (2.0, 1.0), (2.0, 0.0)];
        assert!(ring_contains(&l_shape, 1.5, 0.5));
        assert!(!ring_contains(&l_shape, 1.5, 1.5), "the notch of the L");
        assert!(!ring_contains(&square[..2], 39.9087, 116.3975));
        assert_eq!(reported_speed(Some(1.4)), Some(1.4));
        for bad in [Some(500.0), Some(-3.0), Some(f64::NAN), None] {
            assert_eq!(reported_speed(bad), None);
        }
    }

    #[test]
    fn batch_times_are_reckoned_by_the_server() {
        let l = Limits::default();
        let now = 1_795_428_000_000;
        // phone clock one hour behind, fix taken 60 s before sending
        let sent = now - 3_600_000;
        assert_eq!(reckon(sent - 60_000, sent, now, &l), Ok(1_795_428_000 - 60));
        // stamped after the batch was sent: impossible
        assert_eq!(reckon(sent + 5_000, sent, now, &l), Err(Dropped::Future { seconds: 5 }));
        assert_eq!(reckon(sent + 900, sent, now, &l), Ok(1_795_428_000), "under a second of jitter is fine");
        // eight days old
        assert_eq!(reckon(now - 8 * 86_400_000, now, now, &l), Err(Dropped::Stale { seconds: 8 * 86_400 }));
        assert!(reckon(i64::MIN, i64::MAX, now, &l).is_err(), "no overflow");
    }

    #[test]
    fn dropped_reasons_round_trip() {
        for d in [
            Dropped::Invalid,
            Dropped::Inaccurate { accuracy_m: 80.0 },
            Dropped::Duplicate,
            Dropped::Future { seconds: 9 },
            Dropped::Stale { seconds: 700_000 },
            Dropped::Jump { speed_mps: 300.0 },
            Dropped::OutsidePatrol,
        ] {
            assert_eq!(Dropped::from_code(d.code(), d.value()), Some(d));
            assert!(!d.text(false).is_empty() && !d.text(true).is_empty());
        }
    }

    use super::*;
    use proptest::prelude::*;

    /// Published vectors (eviltransform): WGS-84 → GCJ-02 to 5 decimals.
    const VECTORS: [(f64, f64, f64, f64); 3] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215), // Shanghai
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363), // Shenzhen
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657), // Beijing
    ];

    #[test]
    fn gcj02_matches_the_published_vectors_both_ways() {
        for (wlat, wlng, glat, glng) in VECTORS {
            let (a, b) = wgs84_to_gcj02(wlat, wlng);
            assert_eq!(format!("{a:.5},{b:.5}"), format!("{glat:.5},{glng:.5}"));
            let (x, y) = gcj02_to_wgs84(glat, glng);
            assert!(distance_m(x, y, wlat, wlng) < 0.5, "inverse within 0.5 m");
        }
        // outside China nothing moves
        assert_eq!(wgs84_to_gcj02(51.5, -0.12), (51.5, -0.12));
        assert_eq!(gcj02_to_wgs84(35.68, 139.76 + 0.0), gcj02_to_wgs84(35.68, 139.76));
    }

    #[test]
    fn distances_use_the_mean_radius() {
        // one degree of latitude ≈ 111.195 km on the mean sphere
        let d = distance_m(30.0, 120.0, 31.0, 120.0);
        assert!((d - 111_195.08).abs() < 1.0, "{d}");
        assert_eq!(distance_m(30.0, 120.0, 30.0, 120.0), 0.0);
    }

    fn fix(lat: f64, lng: f64, acc: f64, at: i64) -> Fix {
        Fix { lat, lng, accuracy_m: acc, at, device_at: Some(at) }
    }

    const LAT: f64 = 39.9087;
    const LNG: f64 = 116.3975;
    /// Degrees of latitude per metre.
    const M: f64 = 1.0 / 111_195.08;

    #[test]
    fn fixes_are_dropped_with_a_reason() {
        let l = Limits::default();
        let a = fix(LAT, LNG, 10.0, 1000);
        assert_eq!(filter(None, &a, &l), Ok(()));
        assert_eq!(filter(None, &fix(LAT, LNG, 80.0, 1000), &l), Err(Dropped::Inaccurate { accuracy_m: 80.0 }));
        assert_eq!(filter(None, &fix(f64::NAN, LNG, 5.0, 1000), &l), Err(Dropped::Invalid));
        assert_eq!(filter(None, &fix(LAT, LNG, -1.0, 1000), &l), Err(Dropped::Invalid));
        assert_eq!(filter(Some(&a), &a, &l), Err(Dropped::Duplicate));
        let future = Fix { device_at: Some(1000 + 3600), ..a };
        assert_eq!(filter(None, &future, &l), Err(Dropped::Future { seconds: 3600 }));
        let stale = Fix { device_at: Some(1000 - 8 * 86_400), ..a };
        assert_eq!(filter(None, &stale, &l), Err(Dropped::Stale { seconds: 8 * 86_400 }));
        // walking 50 m in 30 s is fine; 2 km in 30 s is not
        assert_eq!(filter(Some(&a), &fix(LAT + 50.0 * M, LNG, 10.0, 1030), &l), Ok(()));
        assert!(matches!(filter(Some(&a), &fix(LAT + 2000.0 * M, LNG, 10.0, 1030), &l), Err(Dropped::Jump { .. })));
        // late delivery: the device's time counts, so a fix sent an hour later is not a jump
        let late = Fix { lat: LAT + 50.0 * M, lng: LNG, accuracy_m: 10.0, at: 1000 + 3600, device_at: Some(1030) };
        assert_eq!(filter(Some(&a), &late, &l), Ok(()));
    }

    fn cp(qr: bool) -> Checkpoint {
        Checkpoint { lat: LAT, lng: LNG, radius_m: 30.0, requires_qr: qr }
    }

    #[test]
    fn a_real_visit_is_accepted_and_says_why() {
        let l = Limits::default();
        let walk =
            [fix(LAT + 60.0 * M, LNG, 8.0, 900), fix(LAT + 20.0 * M, LNG, 8.0, 960), fix(LAT + 5.0 * M, LNG, 6.0, 990)];
        let v = judge_checkin(&cp(false), None, &walk, false, &l);
        assert!(v.accepted, "{v:?}");
        assert!(matches!(v.evidence[0], Evidence::Near { .. }));
        assert_eq!(v.evidence[1], Evidence::Corroborated { seconds: 30 });
        // with a QR code required and scanned
        assert!(judge_checkin(&cp(true), None, &walk, true, &l).accepted);
        let v = judge_checkin(&cp(true), None, &walk, false, &l);
        assert!(!v.accepted && v.evidence.contains(&Evidence::QrMissing));
    }

    #[test]
    fn spoofing_is_flagged() {
        let l = Limits::default();
        // one fix far away claiming "2 m": too far, and alone
        let v = judge_checkin(&cp(false), None, &[fix(LAT + 400.0 * M, LNG, 2.0, 1000)], false, &l);
        assert!(!v.accepted);
        assert!(matches!(v.evidence[0], Evidence::TooFar { .. }));
        // a single good fix on the spot: not enough on its own
        let v = judge_checkin(&cp(false), None, &[fix(LAT, LNG, 5.0, 1000)], false, &l);
        assert!(!v.accepted && v.evidence.contains(&Evidence::SingleFix));
        // a teleport: 3 km away a minute ago, now two agreeing fixes on the spot
        let before = fix(LAT + 3000.0 * M, LNG, 10.0, 940);
        let v =
            judge_checkin(&cp(false), Some(&before), &[fix(LAT, LNG, 5.0, 990), fix(LAT, LNG, 5.0, 1000)], false, &l);
        assert!(!v.accepted && v.evidence.iter().any(|e| matches!(e, Evidence::Jump { .. })), "{v:?}");
        // the phone's clock is wrong: noted, the server's time decides
        let skewed = [
            Fix { device_at: Some(990 + 7200), ..fix(LAT, LNG, 5.0, 990) },
            Fix { device_at: Some(1000 + 7200), ..fix(LAT, LNG, 5.0, 1000) },
        ];
        let v = judge_checkin(&cp(false), None, &skewed, false, &l);
        assert!(v.accepted, "{v:?}");
        assert!(v.evidence.contains(&Evidence::ClockSkew { seconds: 7200 }));
        // a vague fix proves nothing
        let v = judge_checkin(&cp(false), None, &[fix(LAT, LNG, 5.0, 990), fix(LAT, LNG, 300.0, 1000)], false, &l);
        assert!(!v.accepted && v.evidence.contains(&Evidence::Inaccurate { accuracy_m: 300.0 }));
        assert!(!v.evidence[0].text(false).is_empty() && !v.evidence[0].text(true).is_empty());
    }

    proptest! {
        #[test]
        fn gcj02_round_trips_within_half_a_metre(lat in 18.0f64..53.0, lng in 74.0f64..134.0) {
            let (g1, g2) = wgs84_to_gcj02(lat, lng);
            let (w1, w2) = gcj02_to_wgs84(g1, g2);
            prop_assert!(distance_m(lat, lng, w1, w2) < 0.5);
        }

        #[test]
        fn a_fix_beyond_radius_plus_accuracy_is_never_accepted(dm in 0.0f64..2000.0, acc in 0.0f64..100.0) {
            let l = Limits::default();
            let f = |t| fix(LAT + dm * M, LNG, acc, t);
            let v = judge_checkin(&cp(false), None, &[f(990), f(1000)], false, &l);
            if dm - acc > 30.0 + 0.5 || acc > l.max_accuracy_m {
                prop_assert!(!v.accepted);
            }
            if dm + 0.5 < 30.0 && acc <= l.max_accuracy_m {
                prop_assert!(v.accepted, "{:?}", v);
            }
        }
    }
}
