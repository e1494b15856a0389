//! Validated user text.

use crate::ErrorCode;

fn bounded(input: &str, max_chars: usize, err: ErrorCode) -> Result<String, ErrorCode> {
    let t = input.trim();
    let n = t.chars().count();
    if n == 0 || n > max_chars || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        Err(err)
    } else {
        Ok(t.replace("\r\n", "\n"))
    }
}

/// An announcement title: 1–60 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementTitle(String);
impl AnnouncementTitle {
    pub const MAX: usize = 60;
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let s = bounded(input, Self::MAX, ErrorCode::InvalidTitle)?;
        if s.contains('\n') {
            return Err(ErrorCode::InvalidTitle);
        }
        Ok(Self(s))
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An announcement body: 1–5000 characters of plain text (paragraphs by blank lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnouncementBody(String);
impl AnnouncementBody {
    pub const MAX: usize = 5000;
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        bounded(input, Self::MAX, ErrorCode::InvalidBody).map(Self)
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A person's display name: 1–30 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);
impl PersonName {
    pub fn parse(input: &str) -> Result<Self, ErrorCode> {
        let s = bounded(input, 30, ErrorCode::InvalidInput)?;
        if s.contains('\n') {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(Self(s))
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn titles() {
        assert_eq!(AnnouncementTitle::parse("  停水通知 ").unwrap().into_inner(), "停水通知");
        assert!(AnnouncementTitle::parse("   ").is_err());
        assert!(AnnouncementTitle::parse(&"字".repeat(61)).is_err());
        assert!(AnnouncementTitle::parse(&"字".repeat(60)).is_ok());
        assert!(AnnouncementTitle::parse("a\nb").is_err());
        assert!(AnnouncementTitle::parse("a\u{0}b").is_err());
    }
    #[test]
    fn bodies() {
        assert_eq!(AnnouncementBody::parse("第一段\r\n\r\n第二段").unwrap().into_inner(), "第一段\n\n第二段");
        assert!(AnnouncementBody::parse(&"字".repeat(5001)).is_err());
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

#[cfg(test)]
mod beijing_tests {
    use super::parse_beijing_local;

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
}

/// A UTC instant as stored ("2026-12-04T13:34:58Z", RFC 3339) shown to a
/// person in Beijing time, "2026-12-04 21:34:58"; a bare date
/// ("2026-12-04", what a secret ballot records) is shown as it is.
pub fn beijing_of_rfc3339(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => (t.naive_utc() + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod beijing_of_rfc3339_tests {
    #[test]
    fn utc_instants_read_in_beijing_time() {
        assert_eq!(super::beijing_of_rfc3339("2026-12-04T13:34:58Z"), "2026-12-04 21:34:58");
        assert_eq!(super::beijing_of_rfc3339("2026-12-04T20:00:00Z"), "2026-12-05 04:00:00");
        assert_eq!(super::beijing_of_rfc3339("2026-12-04"), "2026-12-04");
    }
}
