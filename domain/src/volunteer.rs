//! Volunteer service hours (志愿服务时长), rules.md §4: recorded by the
//! organiser from on-site check-in and check-out; the actual time within the
//! activity, counted in whole units (e.g. 30 minutes, rounded down), capped
//! per day and per year; converted to points at a fixed rate. Manually added
//! "honour hours" (荣誉时长) are recorded but never converted to points.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// How an activity turns presence into credited minutes and points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    Day,
    Year,
}

/// The outcome for one attendance, with the reasons in numbers.
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
