//! Beijing time (UTC+8, no daylight saving), the one clock people read.
//! Instants are stored in UTC; every day, week and wall-clock time a person
//! sees or types is Beijing's, and every formatter of one is here.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The Beijing wall-clock time of an instant.
pub fn local(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + Duration::hours(8)
}

/// The Beijing calendar day of an instant.
pub fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    local(t).date()
}

/// The instant a Beijing wall-clock time happens.
pub fn beijing_at(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(day.and_time(time) - Duration::hours(8)))
}

/// "2026-11-22 09:30": how pages show an instant.
pub fn beijing_time(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// "2026-11-22": the day, as pages, URLs and the daily caps write it.
pub fn beijing_day(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d").to_string()
}

/// "09:30"
pub fn beijing_hhmm(t: DateTime<Utc>) -> String {
    local(t).format("%H:%M").to_string()
}

/// "14:05:09": a fix's or a step's time within a day.
pub fn beijing_clock(t: DateTime<Utc>) -> String {
    local(t).format("%H:%M:%S").to_string()
}

/// `beijing_clock` of Unix seconds, by arithmetic (Beijing has no daylight
/// time): the browser's replay uses it without chrono's formatter.
pub fn beijing_clock_at(unix: i64) -> String {
    let s = (unix + 8 * 3600).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// "2026-11-23T09:00": an instant in a `datetime-local` field.
pub fn local_input(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%dT%H:%M").to_string()
}

/// A UTC instant as stored ("2026-12-04T13:34:58Z", RFC 3339) shown to a
/// person in Beijing time, "2026-12-04 21:34:58"; a bare date
/// ("2026-12-04", what a secret ballot records) is shown as it is.
pub fn beijing_of_rfc3339(s: &str) -> String {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => local(t.with_timezone(&Utc)).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => s.to_string(),
    }
}

/// An RFC 3339 instant in a person's words, "12月5日 18:00" / "5 Dec 18:00";
/// anything else (a time already written out) as it is.
pub fn short_of_rfc3339(s: &str, english: bool) -> String {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => {
            let b = local(t.with_timezone(&Utc));
            if english { b.format("%-d %b %H:%M") } else { b.format("%-m月%-d日 %H:%M") }.to_string()
        }
        Err(_) => s.to_string(),
    }
}

/// A time a person typed in a `datetime-local` field ("2026-11-22T09:30",
/// seconds optional), read as Beijing time (UTC+8, no daylight saving), as
/// seconds since the Unix epoch. `None` for anything else.
pub fn parse_beijing_local(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(2000..=2200).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next()??);
    let sec = match t.next() {
        Some(v) => v?,
        None => 0,
    };
    if t.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&min) || !(0..60).contains(&sec) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=days_in[(m - 1) as usize]).contains(&day) {
        return None;
    }
    // days from 1970-01-01 (civil-from-days inverse, Howard Hinnant)
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + sec - 8 * 3600)
}

/// A length of time in plain words, never rounded to nothing: "44 秒",
/// "3 分钟", "1 小时 5 分钟" ("44 s", "3 min", "1 h 5 min").
pub fn duration_words(seconds: i64, english: bool) -> String {
    let s = seconds.max(0);
    let (h, m) = (s / 3600, (s % 3600) / 60);
    match (h, m, english) {
        (0, 0, false) => format!("{s} 秒"),
        (0, 0, true) => format!("{s} s"),
        (0, m, false) => format!("{m} 分钟"),
        (0, m, true) => format!("{m} min"),
        (h, 0, false) => format!("{h} 小时"),
        (h, 0, true) => format!("{h} h"),
        (h, m, false) => format!("{h} 小时 {m} 分钟"),
        (h, m, true) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_format_reads_beijing_time() {
        let t = utc("2026-12-04T16:05:09Z");
        assert_eq!(beijing_time(t), "2026-12-05 00:05");
        assert_eq!(beijing_day(t), "2026-12-05");
        assert_eq!(beijing_hhmm(t), "00:05");
        assert_eq!(beijing_clock(t), "00:05:09");
        assert_eq!(local_input(t), "2026-12-05T00:05");
        assert_eq!(beijing_date(t), NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
        assert_eq!(beijing_at(beijing_date(t), NaiveTime::from_hms_opt(0, 5, 9).unwrap()), t);
        assert_eq!(beijing().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn stored_instants_read_in_beijing_time() {
        assert_eq!(beijing_of_rfc3339("2026-12-04T13:34:58Z"), "2026-12-04 21:34:58");
        assert_eq!(beijing_of_rfc3339("2026-12-04T20:00:00Z"), "2026-12-05 04:00:00");
        assert_eq!(beijing_of_rfc3339("2026-12-04"), "2026-12-04");
        assert_eq!(short_of_rfc3339("2026-12-05T10:00:00+00:00", false), "12月5日 18:00");
        assert_eq!(short_of_rfc3339("2026-12-05T10:00:00Z", true), "5 Dec 18:00");
        assert_eq!(short_of_rfc3339("2026-12-05 18:00", true), "2026-12-05 18:00");
    }

    #[test]
    fn beijing_local_times() {
        // 2026-11-22 08:00 Beijing = 2026-11-22 00:00 UTC = 1795305600
        assert_eq!(parse_beijing_local("2026-11-22T08:00"), Some(1_795_305_600));
        assert_eq!(parse_beijing_local("2026-11-22T08:00:30"), Some(1_795_305_630));
        assert_eq!(parse_beijing_local("1970-01-01T08:00"), None); // before 2000
        assert!(parse_beijing_local("2024-02-29T00:00").is_some());
        assert_eq!(parse_beijing_local("2026-02-29T00:00"), None);
        assert_eq!(parse_beijing_local("2026-13-01T00:00"), None);
        assert_eq!(parse_beijing_local("2026-11-22T24:00"), None);
        assert_eq!(parse_beijing_local("tomorrow"), None);
        assert_eq!(parse_beijing_local(""), None);
    }

    #[test]
    fn the_clock_by_arithmetic_is_chronos() {
        for unix in [0, 1_764_000_000, 1_764_043_199, -1] {
            let t = DateTime::from_timestamp(unix, 0).expect("in range");
            assert_eq!(super::beijing_clock_at(unix), super::beijing_clock(t));
        }
    }

    #[test]
    fn durations_are_never_rounded_to_nothing() {
        assert_eq!(super::duration_words(44, false), "44 秒");
        assert_eq!(super::duration_words(44, true), "44 s");
        assert_eq!(super::duration_words(180, false), "3 分钟");
        assert_eq!(super::duration_words(3900, false), "1 小时 5 分钟");
        assert_eq!(super::duration_words(7200, true), "2 h");
    }
}
