//! 预约: service items (事项), slots with a capacity, bookings and the
//! waiting list. The rules that must be exactly right (rules.md §2) live
//! here as pure functions; the database enforces capacity itself.
//!
//! All calendar reasoning (days, weeks, months, opening hours, notice and
//! windows) is in Beijing time (UTC+8, no daylight saving).

use crate::ErrorCode;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::time::{beijing_at, beijing_date};

/// "2026-11-23", the form a day travels in URLs and forms.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    (2000..=2200).contains(&d.year()).then_some(d)
}

/// "09:30"
pub fn parse_clock(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

pub fn weekday_label(w: Weekday, english: bool) -> &'static str {
    let i = w.num_days_from_monday() as usize;
    if english {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i]
    } else {
        ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][i]
    }
}

/// Monday = 1 … Sunday = 7.
pub fn weekday_name(n: u8, english: bool) -> &'static str {
    Weekday::try_from(n.saturating_sub(1) % 7).map(|w| weekday_label(w, english)).unwrap_or("")
}

/// "11月23日 周一" / "Mon 23 Nov"
pub fn day_label(d: NaiveDate, english: bool) -> String {
    if english {
        format!("{} {}", weekday_label(d.weekday(), true), d.format("%-d %b"))
    } else {
        format!("{}月{}日 {}", d.month(), d.day(), weekday_label(d.weekday(), false))
    }
}

/// Who may book an item.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Audience {
    /// Anyone with an account; quotas count per person.
    Anyone,
    /// Verified residents of the item's community; quotas count per person.
    Verified,
    /// Verified residents, and quotas count per household (one booking for
    /// the whole household unless the quota says otherwise).
    Household,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Anyone, Audience::Verified, Audience::Household];
    pub fn needs_residence(self) -> bool {
        !matches!(self, Audience::Anyone)
    }
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Audience::Anyone, false) => "所有人",
            (Audience::Verified, false) => "本社区认证住户",
            (Audience::Household, false) => "每户限一人(认证住户)",
            (Audience::Anyone, true) => "Anyone",
            (Audience::Verified, true) => "Verified residents",
            (Audience::Household, true) => "One member per household",
        }
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    pub const ALL: [QuotaPeriod; 3] = [QuotaPeriod::Day, QuotaPeriod::Week, QuotaPeriod::Month];
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (QuotaPeriod::Day, false) => "每天",
            (QuotaPeriod::Week, false) => "每周",
            (QuotaPeriod::Month, false) => "每月",
            (QuotaPeriod::Day, true) => "per day",
            (QuotaPeriod::Week, true) => "per week",
            (QuotaPeriod::Month, true) => "per month",
        }
    }

    /// The Beijing calendar period (day, Monday-based week, month) that
    /// holds `t`, as a half-open UTC range.
    pub fn bounds(self, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let d = beijing_date(t);
        let (first, next) = match self {
            QuotaPeriod::Day => (d, d + Duration::days(1)),
            QuotaPeriod::Week => {
                let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
                (monday, monday + Duration::days(7))
            }
            QuotaPeriod::Month => {
                let first = d.with_day(1).unwrap_or(d);
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                }
                .unwrap_or(first + Duration::days(31));
                (first, next)
            }
        };
        (beijing_at(first, NaiveTime::MIN), beijing_at(next, NaiveTime::MIN))
    }
}

/// A booking's life. Seats are held by `Offered`, `Booked`, `Arrived`,
/// `Served` and `NoShow`; `Cancelled` and `Expired` hold none.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum BookingStatus {
    /// A freed seat held for the next person on the waiting list, until they accept or time runs out.
    Offered,
    Booked,
    Arrived,
    Served,
    NoShow,
    Cancelled,
    Expired,
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 7] = [
        BookingStatus::Offered,
        BookingStatus::Booked,
        BookingStatus::Arrived,
        BookingStatus::Served,
        BookingStatus::NoShow,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];
    /// Statuses that hold a seat of the slot.
    pub const HOLDING: [BookingStatus; 5] = [
        BookingStatus::Offered,
        BookingStatus::Booked,
        BookingStatus::Arrived,
        BookingStatus::Served,
        BookingStatus::NoShow,
    ];
    pub fn holds_seat(self) -> bool {
        Self::HOLDING.contains(&self)
    }
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (BookingStatus::Offered, false) => "候补到号,待确认",
            (BookingStatus::Booked, false) => "已预约",
            (BookingStatus::Arrived, false) => "已到场",
            (BookingStatus::Served, false) => "已办结",
            (BookingStatus::NoShow, false) => "爽约",
            (BookingStatus::Cancelled, false) => "已取消",
            (BookingStatus::Expired, false) => "候补已过期",
            (BookingStatus::Offered, true) => "Seat offered, confirm",
            (BookingStatus::Booked, true) => "Booked",
            (BookingStatus::Arrived, true) => "Arrived",
            (BookingStatus::Served, true) => "Served",
            (BookingStatus::NoShow, true) => "No-show",
            (BookingStatus::Cancelled, true) => "Cancelled",
            (BookingStatus::Expired, true) => "Offer expired",
        }
    }
}

/// What staff record at the desk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeskMark {
    Arrived,
    Served,
    NoShow,
}

impl DeskMark {
    pub fn parse(s: &str) -> Option<DeskMark> {
        match s {
            "arrived" => Some(DeskMark::Arrived),
            "served" => Some(DeskMark::Served),
            "no_show" => Some(DeskMark::NoShow),
            _ => None,
        }
    }
    pub fn status(self) -> BookingStatus {
        match self {
            DeskMark::Arrived => BookingStatus::Arrived,
            DeskMark::Served => BookingStatus::Served,
            DeskMark::NoShow => BookingStatus::NoShow,
        }
    }
    /// The statuses a mark may be applied to (compare-and-swap).
    pub fn from_statuses(self) -> &'static [BookingStatus] {
        match self {
            DeskMark::Arrived => &[BookingStatus::Booked, BookingStatus::NoShow],
            DeskMark::Served => &[BookingStatus::Booked, BookingStatus::Arrived],
            DeskMark::NoShow => &[BookingStatus::Booked],
        }
    }
}

/// The booking rules of one item.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub audience: Audience,
    /// Bookings close this many minutes before a slot starts.
    pub book_notice_minutes: i32,
    /// Cancelling (and moving) online closes this many minutes before.
    pub cancel_notice_minutes: i32,
    /// Slots open this many days ahead (today counts as day 0).
    pub window_days: i32,
    /// At most `count` holding bookings per period, per person or household.
    pub quota: Option<(i32, QuotaPeriod)>,
    /// Refuse online booking after this many no-shows in 90 days.
    pub no_show_limit: Option<i32>,
    /// How long a freed seat is held for the next person on the waiting list.
    pub offer_minutes: i32,
}

impl Policy {
    /// May a slot starting at `starts` be booked at `now`?
    pub fn check_book(&self, now: DateTime<Utc>, starts: DateTime<Utc>) -> Result<(), ErrorCode> {
        if starts - now < Duration::minutes(self.book_notice_minutes as i64) {
            return Err(ErrorCode::TooLateToBook);
        }
        if beijing_date(starts) > beijing_date(now) + Duration::days(self.window_days as i64) {
            return Err(ErrorCode::OutsideWindow);
        }
        Ok(())
    }

    /// The last moment a booking for a slot starting at `starts` may be cancelled online.
    pub fn cancel_deadline(&self, starts: DateTime<Utc>) -> DateTime<Utc> {
        starts - Duration::minutes(self.cancel_notice_minutes as i64)
    }

    pub fn check_cancel(&self, now: DateTime<Utc>, starts: DateTime<Utc>) -> Result<(), ErrorCode> {
        if now > self.cancel_deadline(starts) {
            Err(ErrorCode::TooLateToCancel)
        } else {
            Ok(())
        }
    }

    /// Counts per household rather than per person.
    pub fn per_household(&self) -> bool {
        self.audience == Audience::Household
    }

    /// The quota in force: a household item without one allows one holding
    /// booking per household per day.
    pub fn effective_quota(&self) -> Option<(i32, QuotaPeriod)> {
        match (self.quota, self.audience) {
            (Some(q), _) => Some(q),
            (None, Audience::Household) => Some((1, QuotaPeriod::Day)),
            (None, _) => None,
        }
    }
}

/// Opening hours of an item on some weekdays, cut into slots.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursRule {
    /// Monday = 1 … Sunday = 7.
    pub weekdays: Vec<u8>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub slot_minutes: i32,
    pub capacity: i32,
}

impl HoursRule {
    pub fn parse(
        weekdays: &[String],
        start: &str,
        end: &str,
        slot_minutes: &str,
        capacity: &str,
    ) -> Result<HoursRule, ErrorCode> {
        let mut days: Vec<u8> = weekdays.iter().filter_map(|w| w.trim().parse::<u8>().ok()).collect();
        days.sort_unstable();
        days.dedup();
        if days.is_empty() || days.iter().any(|d| !(1..=7).contains(d)) || days.len() != weekdays.len() {
            return Err(ErrorCode::InvalidInput);
        }
        let start = parse_clock(start).ok_or(ErrorCode::InvalidTime)?;
        let end = parse_clock(end).ok_or(ErrorCode::InvalidTime)?;
        let slot_minutes: i32 = slot_minutes.trim().parse().map_err(|_| ErrorCode::InvalidInput)?;
        let capacity: i32 = capacity.trim().parse().map_err(|_| ErrorCode::InvalidInput)?;
        if end <= start || !(5..=480).contains(&slot_minutes) || !(1..=1000).contains(&capacity) {
            return Err(ErrorCode::InvalidInput);
        }
        if (end - start) < Duration::minutes(slot_minutes as i64) {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(HoursRule { weekdays: days, start, end, slot_minutes, capacity })
    }

    pub fn applies(&self, d: NaiveDate) -> bool {
        self.weekdays.contains(&(d.weekday().number_from_monday() as u8))
    }

    /// The slots of one day: whole slots only, from `start` until `end`.
    pub fn slots_on(&self, d: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.applies(d) {
            return vec![];
        }
        let step = Duration::minutes(self.slot_minutes as i64);
        let mut out = vec![];
        let mut t = self.start;
        while t + step <= self.end && t + step > t {
            out.push((beijing_at(d, t), beijing_at(d, t + step)));
            t += step;
        }
        out
    }

    /// "周一、周三 09:00–11:30,每30分钟,每段5人"
    pub fn describe(&self, english: bool) -> String {
        let days: Vec<&str> = self.weekdays.iter().map(|d| weekday_name(*d, english)).collect();
        if english {
            format!(
                "{} {}–{}, every {} min, {} per slot",
                days.join(", "),
                self.start.format("%H:%M"),
                self.end.format("%H:%M"),
                self.slot_minutes,
                self.capacity
            )
        } else {
            format!(
                "{} {}–{},每{}分钟一段,每段{}人",
                days.join("、"),
                self.start.format("%H:%M"),
                self.end.format("%H:%M"),
                self.slot_minutes,
                self.capacity
            )
        }
    }
}

/// A closure (holiday, building works) of one item or a whole community, days inclusive.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Closure {
    pub fn parse(first: &str, last: &str) -> Result<Closure, ErrorCode> {
        let first = parse_day(first).ok_or(ErrorCode::InvalidTime)?;
        let last = if last.trim().is_empty() { first } else { parse_day(last).ok_or(ErrorCode::InvalidTime)? };
        if last < first || last - first > Duration::days(366) {
            return Err(ErrorCode::InvalidTime);
        }
        Ok(Closure { first, last })
    }
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.first <= d && d <= self.last
    }
}

/// The slots to exist between two days (inclusive) under the opening hours,
/// leaving out closed days. Slots of several rules at the same start merge
/// (the first rule wins).
pub fn plan_slots(
    rules: &[HoursRule],
    closures: &[Closure],
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, i32)> {
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>, i32)> = vec![];
    let mut d = first;
    while d <= last {
        if !closures.iter().any(|c| c.covers(d)) {
            for r in rules {
                for (s, e) in r.slots_on(d) {
                    if !out.iter().any(|(os, _, _)| *os == s) {
                        out.push((s, e, r.capacity));
                    }
                }
            }
        }
        d += Duration::days(1);
    }
    out.sort_by_key(|(s, _, _)| *s);
    out
}

/// A booking code: 8 characters without look-alikes (no 0/O, 1/I/L), so it
/// can be read out and typed at the desk.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub fn normalize_code(s: &str) -> Option<String> {
    let c: String = s.trim().chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    (c.len() == 8 && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// The settings of an item as staff typed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemSettings {
    pub name: String,
    pub guide: String,
    pub place: String,
    pub duration_minutes: i32,
    pub policy: Policy,
}

pub struct ItemForm<'a> {
    pub name: &'a str,
    pub guide: &'a str,
    pub place: &'a str,
    pub duration_minutes: &'a str,
    pub audience: &'a str,
    pub book_notice_hours: &'a str,
    pub cancel_notice_hours: &'a str,
    pub window_days: &'a str,
    pub quota_count: &'a str,
    pub quota_period: &'a str,
    pub no_show_limit: &'a str,
    pub offer_minutes: &'a str,
}

fn num(s: &str, range: std::ops::RangeInclusive<i32>) -> Result<i32, ErrorCode> {
    let v: i32 = s.trim().parse().map_err(|_| ErrorCode::InvalidInput)?;
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(ErrorCode::InvalidInput)
    }
}

/// Hours as typed ("2", "0.5") into whole minutes.
fn hours_to_minutes(s: &str) -> Result<i32, ErrorCode> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let h: i32 = whole.parse().map_err(|_| ErrorCode::InvalidInput)?;
    let frac_min = match frac {
        "" | "0" | "00" => 0,
        "5" | "50" => 30,
        "25" => 15,
        "75" => 45,
        _ => return Err(ErrorCode::InvalidInput),
    };
    if !(0..=24 * 30).contains(&h) {
        return Err(ErrorCode::InvalidInput);
    }
    Ok(h * 60 + frac_min)
}

impl ItemSettings {
    pub fn parse(f: &ItemForm<'_>) -> Result<ItemSettings, ErrorCode> {
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ErrorCode::InvalidTitle);
        }
        let guide = f.guide.trim().replace("\r\n", "\n");
        if guide.chars().count() > 2000 {
            return Err(ErrorCode::InvalidBody);
        }
        let place = f.place.trim();
        if place.is_empty() || place.chars().count() > 100 {
            return Err(ErrorCode::InvalidInput);
        }
        let audience = Audience::parse(f.audience.trim()).ok_or(ErrorCode::InvalidInput)?;
        let quota = if f.quota_count.trim().is_empty() || f.quota_count.trim() == "0" {
            None
        } else {
            let period = QuotaPeriod::parse(f.quota_period.trim()).ok_or(ErrorCode::InvalidInput)?;
            Some((num(f.quota_count, 1..=100)?, period))
        };
        let no_show_limit = if f.no_show_limit.trim().is_empty() || f.no_show_limit.trim() == "0" {
            None
        } else {
            Some(num(f.no_show_limit, 1..=100)?)
        };
        Ok(ItemSettings {
            name: name.to_string(),
            guide,
            place: place.to_string(),
            duration_minutes: num(f.duration_minutes, 1..=480)?,
            policy: Policy {
                audience,
                book_notice_minutes: hours_to_minutes(f.book_notice_hours)?,
                cancel_notice_minutes: hours_to_minutes(f.cancel_notice_hours)?,
                window_days: num(f.window_days, 0..=90)?,
                quota,
                no_show_limit,
                offer_minutes: num(f.offer_minutes, 5..=1440)?,
            },
        })
    }
}

/// An item as residents and staff see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: i64,
    pub community_id: i64,
    pub community: String,
    pub name: String,
    pub guide: String,
    pub place: String,
    pub duration_minutes: i32,
    pub policy: Policy,
    pub active: bool,
    pub hours: Vec<HoursRule>,
}

/// One slot on an item's day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotView {
    pub id: i64,
    /// "09:00"
    pub start: String,
    pub end: String,
    pub capacity: i32,
    pub booked: i32,
    pub open: bool,
    /// The viewer's booking of this slot, if any.
    pub mine: Option<i64>,
    /// The viewer is on its waiting list.
    pub waiting: bool,
    pub waiting_count: i32,
    /// Why the viewer cannot book it now, if they cannot.
    pub blocked: Option<ErrorCode>,
}

impl SlotView {
    pub fn free(&self) -> i32 {
        (self.capacity - self.booked).max(0)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayView {
    /// "2026-11-23"
    pub date: String,
    pub slots: Vec<SlotView>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingView {
    pub id: i64,
    pub code: String,
    pub item_id: i64,
    pub item: String,
    pub community: String,
    pub place: String,
    pub guide: String,
    /// "2026-11-23"
    pub date: String,
    pub start: String,
    pub end: String,
    pub status: BookingStatus,
    /// Beijing time, "2026-11-23 07:00".
    pub cancel_deadline: String,
    pub can_cancel: bool,
    pub offer_expires_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: String,
    /// Upcoming (slot not yet over) and holding a seat.
    pub upcoming: bool,
}

/// A line of the day's queue at the desk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub booking_id: i64,
    pub code: String,
    pub item: String,
    pub start: String,
    pub end: String,
    pub name: String,
    /// Masked (138****0001).
    pub phone: String,
    pub address: Option<String>,
    pub status: BookingStatus,
    /// No-shows of this person in the last 90 days.
    pub no_shows: i32,
}

/// A closure as staff see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClosureView {
    pub id: i64,
    /// None: every item of the community.
    pub item: Option<String>,
    pub first: String,
    pub last: String,
    pub reason: String,
}

/// A slot in the staff's table.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffSlot {
    pub id: i64,
    pub date: String,
    pub start: String,
    pub end: String,
    pub capacity: i32,
    pub booked: i32,
    pub open: bool,
    pub waiting: i32,
}

/// Whether a time can still be booked (staff close a time, e.g. a sick day).
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum SlotStatus {
    Open,
    Closed,
}

/// A place on a time's waiting list: waiting, offered a freed seat, done
/// (booked or the offer ran out) or left.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum WaitStatus {
    Waiting,
    Offered,
    /// Booked, or the offer was not taken.
    Done,
    Left,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        let (d, t) = s.split_once(' ').unwrap();
        beijing_at(parse_day(d).unwrap(), parse_clock(t).unwrap())
    }

    fn policy() -> Policy {
        Policy {
            audience: Audience::Verified,
            book_notice_minutes: 60,
            cancel_notice_minutes: 120,
            window_days: 7,
            quota: None,
            no_show_limit: None,
            offer_minutes: 30,
        }
    }

    #[test]
    fn booking_notice_and_window_are_exact() {
        let p = policy();
        let now = at("2026-11-22 08:00");
        assert_eq!(p.check_book(now, at("2026-11-22 09:00")), Ok(()));
        assert_eq!(p.check_book(now, at("2026-11-22 08:59")), Err(ErrorCode::TooLateToBook));
        assert_eq!(p.check_book(now, at("2026-11-22 07:00")), Err(ErrorCode::TooLateToBook));
        // the window counts Beijing days: today + 7 is open all day, + 8 is not
        assert_eq!(p.check_book(now, at("2026-11-29 23:30")), Ok(()));
        assert_eq!(p.check_book(now, at("2026-11-30 00:00")), Err(ErrorCode::OutsideWindow));
        // 23:30 UTC is already the next Beijing day
        let late = Utc.with_ymd_and_hms(2026, 11, 21, 23, 30, 0).unwrap();
        assert_eq!(beijing_date(late), NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
    }

    #[test]
    fn cancel_deadline_is_inclusive() {
        let p = policy();
        let starts = at("2026-11-23 09:00");
        assert_eq!(p.cancel_deadline(starts), at("2026-11-23 07:00"));
        assert_eq!(p.check_cancel(at("2026-11-23 07:00"), starts), Ok(()));
        assert_eq!(p.check_cancel(at("2026-11-23 07:01"), starts), Err(ErrorCode::TooLateToCancel));
    }

    #[test]
    fn quota_periods_follow_the_beijing_calendar() {
        // 2026-11-25 is a Wednesday
        let t = at("2026-11-25 10:00");
        assert_eq!(QuotaPeriod::Day.bounds(t), (at("2026-11-25 00:00"), at("2026-11-26 00:00")));
        assert_eq!(QuotaPeriod::Week.bounds(t), (at("2026-11-23 00:00"), at("2026-11-30 00:00")));
        assert_eq!(QuotaPeriod::Month.bounds(t), (at("2026-11-01 00:00"), at("2026-12-01 00:00")));
        assert_eq!(QuotaPeriod::Month.bounds(at("2026-12-31 23:59")).1, at("2027-01-01 00:00"));
        // Sunday belongs to the week that began on Monday
        assert_eq!(QuotaPeriod::Week.bounds(at("2026-11-29 23:59")).0, at("2026-11-23 00:00"));
    }

    #[test]
    fn household_items_default_to_one_a_day() {
        let mut p = policy();
        assert_eq!(p.effective_quota(), None);
        p.audience = Audience::Household;
        assert_eq!(p.effective_quota(), Some((1, QuotaPeriod::Day)));
        p.quota = Some((2, QuotaPeriod::Week));
        assert_eq!(p.effective_quota(), Some((2, QuotaPeriod::Week)));
    }

    #[test]
    fn hours_cut_whole_slots_and_skip_closures() {
        let rule = HoursRule::parse(&["1".into(), "3".into()], "09:00", "11:45", "30", "5").unwrap();
        let mon = parse_day("2026-11-23").unwrap();
        let slots = rule.slots_on(mon);
        assert_eq!(slots.len(), 5, "09:00..11:30, the 11:30–12:00 slot does not fit");
        assert_eq!(slots[0], (at("2026-11-23 09:00"), at("2026-11-23 09:30")));
        assert!(rule.slots_on(parse_day("2026-11-24").unwrap()).is_empty(), "Tuesday is not an opening day");
        let closed = Closure::parse("2026-11-25", "").unwrap();
        let plan = plan_slots(&[rule], &[closed], mon, parse_day("2026-11-29").unwrap());
        assert_eq!(plan.len(), 5, "Wednesday is closed");
        assert!(plan.iter().all(|(_, _, c)| *c == 5));
    }

    #[test]
    fn bad_hours_are_refused() {
        let days = ["1".to_string()];
        assert!(HoursRule::parse(&days, "11:00", "09:00", "30", "5").is_err());
        assert!(HoursRule::parse(&days, "09:00", "09:20", "30", "5").is_err());
        assert!(HoursRule::parse(&days, "09:00", "11:00", "30", "0").is_err());
        assert!(HoursRule::parse(&[], "09:00", "11:00", "30", "5").is_err());
        assert!(HoursRule::parse(&["8".to_string()], "09:00", "11:00", "30", "5").is_err());
        assert_eq!(HoursRule::parse(&days, "9am", "11:00", "30", "5"), Err(ErrorCode::InvalidTime));
    }

    #[test]
    fn codes_are_read_back_forgivingly() {
        assert_eq!(normalize_code(" abcd-efgh ").as_deref(), Some("ABCDEFGH"));
        assert_eq!(normalize_code("ABCD EFG2").as_deref(), Some("ABCDEFG2"));
        assert_eq!(normalize_code("ABCDEFG0"), None, "0 is not in the alphabet");
        assert_eq!(normalize_code("ABC"), None);
    }

    #[test]
    fn item_settings_parse() {
        let f = ItemForm {
            name: "老年证办理",
            guide: "带身份证",
            place: "党群服务中心一楼",
            duration_minutes: "15",
            audience: "household",
            book_notice_hours: "1",
            cancel_notice_hours: "2.5",
            window_days: "14",
            quota_count: "1",
            quota_period: "week",
            no_show_limit: "",
            offer_minutes: "30",
        };
        let s = ItemSettings::parse(&f).unwrap();
        assert_eq!(s.policy.cancel_notice_minutes, 150);
        assert_eq!(s.policy.quota, Some((1, QuotaPeriod::Week)));
        assert_eq!(s.policy.no_show_limit, None);
        assert_eq!(ItemSettings::parse(&ItemForm { name: " ", ..f }), Err(ErrorCode::InvalidTitle));
        let f2 = ItemForm { window_days: "365", ..ItemForm { ..f } };
        assert_eq!(ItemSettings::parse(&f2), Err(ErrorCode::InvalidInput));
    }
}
