//! Volunteer service hours (志愿服务时长), rules.md §4: recorded by the
//! organiser from on-site check-in and check-out; the actual time within the
//! activity, counted in whole units (e.g. 30 minutes, rounded down), capped
//! per day and per year; converted to points at a fixed rate. Manually added
//! "honour hours" (荣誉时长) are recorded but never converted to points.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// How an activity turns presence into credited minutes and points.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", schema(as = volunteer::HoursRule))]
pub struct HoursRule {
    /// Minutes are credited in whole units of this size (rounded down).
    pub unit_minutes: i64,
    /// At most this many credited minutes per person per day (Beijing).
    pub max_day_minutes: i64,
    /// At most this many credited minutes per person per calendar year.
    pub max_year_minutes: i64,
    /// Points per credited hour (proportional for part hours, rounded down).
    pub points_per_hour: i64,
}

impl Default for HoursRule {
    fn default() -> Self {
        HoursRule { unit_minutes: 30, max_day_minutes: 8 * 60, max_year_minutes: 600 * 60, points_per_hour: 10 }
    }
}

impl HoursRule {
    /// Staff input: unit 1–240 minutes, day cap 1–24 h, year cap 1–2000 h,
    /// 0–1000 points per hour.
    pub fn parse(unit: &str, day_hours: &str, year_hours: &str, points_per_hour: &str) -> Result<HoursRule, ErrorCode> {
        let n = |s: &str, lo: i64, hi: i64| {
            s.trim().parse::<i64>().ok().filter(|v| (lo..=hi).contains(v)).ok_or(ErrorCode::InvalidInput)
        };
        Ok(HoursRule {
            unit_minutes: n(unit, 1, 240)?,
            max_day_minutes: n(day_hours, 1, 24)? * 60,
            max_year_minutes: n(year_hours, 1, 2000)? * 60,
            points_per_hour: n(points_per_hour, 0, 1000)?,
        })
    }
}

/// What limited a credit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    Day,
    Year,
}

/// The outcome for one attendance, with the reasons in numbers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Minutes present within the activity's time.
    pub actual_minutes: i64,
    /// Whole units of that, before caps.
    pub unit_minutes: i64,
    /// What counts after the day and year caps.
    pub credited_minutes: i64,
    pub capped_by: Option<Cap>,
    pub points: i64,
}

/// Credits one attendance. Times are Unix seconds; presence outside the
/// activity's window does not count; `used_today` / `used_this_year` are the
/// minutes already credited to the person.
pub fn credit(
    rule: &HoursRule,
    check_in: i64,
    check_out: i64,
    window: (i64, i64),
    used_today: i64,
    used_this_year: i64,
) -> Credit {
    let from = check_in.max(window.0);
    let to = check_out.min(window.1);
    let actual_minutes = ((to - from).max(0)) / 60;
    let unit = rule.unit_minutes.max(1);
    let units = actual_minutes / unit * unit;
    let day_left = (rule.max_day_minutes - used_today).max(0);
    let year_left = (rule.max_year_minutes - used_this_year).max(0);
    let credited_minutes = units.min(day_left).min(year_left);
    let capped_by =
        if credited_minutes < units { Some(if year_left < day_left { Cap::Year } else { Cap::Day }) } else { None };
    Credit {
        actual_minutes,
        unit_minutes: units,
        credited_minutes,
        capped_by,
        points: points_for(rule, credited_minutes),
    }
}

/// Honour hours as staff type them: 0.5–24 hours in half hours ("2", "1.5").
pub fn parse_hours(s: &str) -> Result<i64, ErrorCode> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let h = whole.parse::<i64>().map_err(|_| ErrorCode::InvalidInput)?;
    let half = match frac {
        "" | "0" => 0,
        "5" => 30,
        _ => return Err(ErrorCode::InvalidInput),
    };
    let m = h * 60 + half;
    if (30..=24 * 60).contains(&m) {
        Ok(m)
    } else {
        Err(ErrorCode::InvalidInput)
    }
}

/// Points for credited minutes (never for honour hours).
pub fn points_for(rule: &HoursRule, credited_minutes: i64) -> i64 {
    credited_minutes.max(0) * rule.points_per_hour / 60
}

/// "2 小时 30 分" / "2 h 30 min".
pub fn minutes_text(m: i64, en: bool) -> String {
    let (h, r) = (m / 60, m % 60);
    match (en, h, r) {
        (false, 0, r) => format!("{r} 分钟"),
        (false, h, 0) => format!("{h} 小时"),
        (false, h, r) => format!("{h} 小时 {r} 分"),
        (true, 0, r) => format!("{r} min"),
        (true, h, 0) => format!("{h} h"),
        (true, h, r) => format!("{h} h {r} min"),
    }
}

/// The 30-second window a rotating check-in code belongs to.
pub fn code_window(unix: i64, period: i64) -> i64 {
    unix.div_euclid(period.max(1))
}

/// A scanned code is good in its own window and the one before (a code
/// scanned just as it changed still works), never in a later one.
pub fn window_accepted(code_window: i64, now_window: i64) -> bool {
    code_window == now_window || code_window + 1 == now_window
}

/// Where a volunteer may sign up: a seat, the waitlist, or gone.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum SignupStatus {
    SignedUp,
    Waitlisted,
    Withdrawn,
}

impl SignupStatus {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::SignedUp, false) => "已报名",
            (Self::SignedUp, true) => "Signed up",
            (Self::Waitlisted, false) => "候补中",
            (Self::Waitlisted, true) => "On the waitlist",
            (Self::Withdrawn, false) => "已取消报名",
            (Self::Withdrawn, true) => "Withdrawn",
        }
    }
}

/// Checking in or out.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::In, false) => "签到",
            (Self::In, true) => "Check in",
            (Self::Out, false) => "签退",
            (Self::Out, true) => "Check out",
        }
    }
}

/// An optional circle around the activity's place.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Geofence {
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i64,
}

/// Accuracy worse than this (metres) cannot prove presence.
pub const MAX_ACCURACY_M: f64 = 200.0;

impl Geofence {
    /// Staff input: WGS-84 degrees and a radius of 20–2000 m; all empty = none.
    pub fn parse(lat: &str, lng: &str, radius: &str) -> Result<Option<Geofence>, ErrorCode> {
        let (lat, lng, radius) = (lat.trim(), lng.trim(), radius.trim());
        if lat.is_empty() && lng.is_empty() {
            return Ok(None);
        }
        let lat = lat.parse::<f64>().ok().filter(|v| (-90.0..=90.0).contains(v)).ok_or(ErrorCode::InvalidInput)?;
        let lng = lng.parse::<f64>().ok().filter(|v| (-180.0..=180.0).contains(v)).ok_or(ErrorCode::InvalidInput)?;
        let radius_m = if radius.is_empty() { Ok(200) } else { radius.parse::<i64>() }
            .ok()
            .filter(|r| (20..=2000).contains(r))
            .ok_or(ErrorCode::InvalidInput)?;
        Ok(Some(Geofence { lat, lng, radius_m }))
    }

    /// Whether a fix proves presence: its accuracy is good enough and the
    /// circle of that accuracy around it reaches the fence. Returns the
    /// distance in whole metres either way.
    pub fn admits(&self, lat: f64, lng: f64, accuracy_m: f64) -> (bool, i64) {
        let d = distance_m(self.lat, self.lng, lat, lng);
        let ok = accuracy_m.is_finite()
            && (0.0..=MAX_ACCURACY_M).contains(&accuracy_m)
            && d - accuracy_m <= self.radius_m as f64;
        (ok, d.round() as i64)
    }
}

pub use crate::geo::distance_m;

/// One activity as a resident or organiser sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityView {
    pub id: i64,
    pub community: String,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: String,
    pub ends_at: String,
    pub starts_ts: i64,
    pub ends_ts: i64,
    pub capacity: i64,
    pub signed_up: i64,
    pub waitlisted: i64,
    pub rule: HoursRule,
    pub geofence: Option<Geofence>,
    pub organiser: String,
    pub cancelled: bool,
    /// Ended or cancelled: no more signing up.
    pub over: bool,
    /// The viewer's own signup, and their place on the waitlist (1 = next).
    pub my_status: Option<SignupStatus>,
    pub my_queue: Option<i64>,
    pub my_attendance: Option<AttendanceView>,
    /// The viewer may show the code and confirm hours.
    pub can_organise: bool,
}

/// One person's attendance at one activity.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttendanceView {
    pub id: i64,
    pub activity_id: i64,
    pub activity: String,
    pub date: String,
    pub person: String,
    pub phone_masked: String,
    pub check_in: String,
    pub check_out: Option<String>,
    /// `2026-11-23T09:00` (Beijing), for the organiser's correction form.
    pub in_input: String,
    pub out_input: String,
    pub in_by_organiser: bool,
    pub out_by_organiser: bool,
    pub in_distance_m: Option<i64>,
    pub confirmed: bool,
    pub credited_minutes: Option<i64>,
    pub points: Option<i64>,
    pub capped_by: Option<Cap>,
    /// What confirming now would credit (before confirmation).
    pub preview: Option<Credit>,
}

/// A row of honour hours (no points).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HonourView {
    pub minutes: i64,
    pub reason: String,
    pub date: String,
}

/// A volunteer's record: what a certificate would say now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoursRecord {
    pub service_minutes: i64,
    pub honour_minutes: i64,
    pub service_points: i64,
    pub attendances: Vec<AttendanceView>,
    pub honour: Vec<HonourView>,
}

/// A line of a certificate.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertificateLine {
    pub date: String,
    pub title: String,
    pub minutes: i64,
    pub honour: bool,
}

/// 志愿服务证明: frozen when issued, shown to whoever has its code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub code: String,
    pub name: String,
    pub communities: Vec<String>,
    pub service_minutes: i64,
    pub honour_minutes: i64,
    pub lines: Vec<CertificateLine>,
    pub issued_at: String,
}

/// An approved organiser as staff see them (phone masked).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganiserRow {
    pub community_id: i64,
    pub community: String,
    pub user_id: i64,
    pub name: String,
    pub phone_masked: String,
}

/// A person on an activity's roster (organiser's view; phone masked).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterRow {
    pub name: String,
    pub phone_masked: String,
    pub status: SignupStatus,
    /// Place on the waitlist (1 = next).
    pub queue: Option<i64>,
    pub checked_in: bool,
}

/// What the organiser's phone shows: the activity, who signed up, and the
/// attendances to confirm.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganiseView {
    pub activity: ActivityView,
    pub roster: Vec<RosterRow>,
    pub attendances: Vec<AttendanceView>,
}

/// The current rotating check-in (or check-out) code.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeView {
    pub direction: Direction,
    pub url: String,
    pub svg: String,
    /// Seconds until the code changes.
    pub seconds_left: i64,
}

/// A scanned code, accepted: the volunteer confirms with one tap (and their
/// location, when the activity has a geofence) within ten minutes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanView {
    pub activity: ActivityView,
    pub direction: Direction,
    pub at: i64,
    pub ticket: String,
}

/// A volunteer activity: published, or cancelled by its organiser.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum ActivityStatus {
    Published,
    Cancelled,
}

/// One stay at an activity: open from check-in until the organiser confirms
/// the hours (and the points are credited).
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum AttendanceStatus {
    Open,
    Confirmed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3600;

    #[test]
    fn actual_time_in_whole_units_within_the_activity() {
        let r = HoursRule::default();
        // 09:00–12:00 activity; in at 08:40 (counts from 09:00), out at 11:47
        let c = credit(&r, 8 * H + 40 * 60, 11 * H + 47 * 60, (9 * H, 12 * H), 0, 0);
        assert_eq!((c.actual_minutes, c.unit_minutes, c.credited_minutes), (167, 150, 150));
        assert_eq!(c.points, 25);
        assert_eq!(c.capped_by, None);
        // out before in, or entirely outside: nothing
        assert_eq!(credit(&r, 10 * H, 9 * H, (9 * H, 12 * H), 0, 0).credited_minutes, 0);
        assert_eq!(credit(&r, 13 * H, 14 * H, (9 * H, 12 * H), 0, 0).credited_minutes, 0);
    }

    #[test]
    fn caps_per_day_and_year() {
        let r = HoursRule::default();
        let c = credit(&r, 0, 10 * H, (0, 10 * H), 7 * 60, 0);
        assert_eq!((c.credited_minutes, c.capped_by), (60, Some(Cap::Day)));
        let c = credit(&r, 0, 4 * H, (0, 10 * H), 0, r.max_year_minutes - 90);
        assert_eq!((c.credited_minutes, c.capped_by), (90, Some(Cap::Year)));
        let c = credit(&r, 0, 4 * H, (0, 10 * H), r.max_day_minutes, 0);
        assert_eq!((c.credited_minutes, c.points), (0, 0));
    }

    #[test]
    fn rules_are_parsed_strictly() {
        assert_eq!(
            HoursRule::parse("30", "8", "600", "10"),
            Ok(HoursRule { unit_minutes: 30, max_day_minutes: 480, max_year_minutes: 36_000, points_per_hour: 10 })
        );
        assert_eq!(HoursRule::parse("0", "8", "600", "10"), Err(ErrorCode::InvalidInput));
        assert_eq!(HoursRule::parse("30", "25", "600", "10"), Err(ErrorCode::InvalidInput));
        assert_eq!(HoursRule::parse("30", "8", "600", "-1"), Err(ErrorCode::InvalidInput));
        assert_eq!(minutes_text(150, false), "2 小时 30 分");
        assert_eq!(minutes_text(45, true), "45 min");
        assert_eq!(parse_hours("1.5"), Ok(90));
        assert_eq!(parse_hours("24"), Ok(1440));
        assert_eq!(parse_hours("0"), Err(ErrorCode::InvalidInput));
        assert_eq!(parse_hours("1.25"), Err(ErrorCode::InvalidInput));
        assert_eq!(parse_hours("-1"), Err(ErrorCode::InvalidInput));
    }

    #[test]
    fn rotating_codes_live_two_windows() {
        let w = code_window(1_000_000, 30);
        assert!(window_accepted(w, w));
        assert!(window_accepted(w, w + 1));
        assert!(!window_accepted(w, w + 2));
        assert!(!window_accepted(w + 1, w), "a code from the future is refused");
        assert_eq!(code_window(-1, 30), -1);
    }

    #[test]
    fn geofence_needs_a_good_fix_near_the_place() {
        let f = Geofence::parse("39.9087", "116.3975", "100").unwrap().unwrap();
        // about 111 m north: inside with 20 m accuracy, outside with 5 m
        let north = 39.9087 + 0.001;
        let (ok, d) = f.admits(north, 116.3975, 20.0);
        assert!(ok);
        assert!((110..=112).contains(&d), "{d}");
        assert!(!f.admits(north, 116.3975, 5.0).0);
        // a vague fix proves nothing, however close
        assert!(!f.admits(39.9087, 116.3975, 500.0).0);
        assert!(!f.admits(39.9087, 116.3975, f64::NAN).0);
        assert_eq!(Geofence::parse("", "", ""), Ok(None));
        assert_eq!(Geofence::parse("91", "116", "100"), Err(ErrorCode::InvalidInput));
        assert_eq!(Geofence::parse("39.9", "116.4", "5"), Err(ErrorCode::InvalidInput));
        assert_eq!(Geofence::parse("39.9", "116.4", "").unwrap().unwrap().radius_m, 200);
        // Beijing to Shanghai is about 1,067 km
        let bs = distance_m(39.9042, 116.4074, 31.2304, 121.4737);
        assert!((1_060_000.0..1_075_000.0).contains(&bs), "{bs}");
    }

    proptest! {
        #[test]
        fn credits_never_exceed_presence_or_caps(
            inn in 0i64..20 * H, len in 0i64..20 * H, ws in 0i64..10 * H, wl in 0i64..12 * H,
            today in 0i64..600, year in 0i64..40_000, unit in 1i64..120,
        ) {
            let r = HoursRule { unit_minutes: unit, ..HoursRule::default() };
            let c = credit(&r, inn, inn + len, (ws, ws + wl), today, year);
            prop_assert!(c.credited_minutes >= 0);
            prop_assert!(c.credited_minutes <= c.unit_minutes);
            prop_assert!(c.unit_minutes <= c.actual_minutes);
            prop_assert!(c.actual_minutes * 60 <= len.min(wl));
            prop_assert_eq!(c.unit_minutes % unit, 0);
            prop_assert!(today + c.credited_minutes <= r.max_day_minutes.max(today));
            prop_assert!(year + c.credited_minutes <= r.max_year_minutes.max(year));
            prop_assert_eq!(c.points, c.credited_minutes * r.points_per_hour / 60);
        }
    }
}
