//! Notification types and what each one may do: the inbox always receives
//! it (the inbox is the truth); push and SMS are per-type extras the user can
//! switch, with a time-to-live and an urgency per type (RFC 8030 §5.2–5.3).

use serde::{Deserialize, Serialize};

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum NotificationKind {
    /// 社区公告
    Announcement,
    /// 住户认证结果
    Residence,
    /// 预约提醒 (24 h and 1 h before)
    AppointmentReminder,
    /// 活动开始
    ActivityStart,
    /// 投票即将截止
    VoteClosing,
    /// 派单、办理时限与督办
    Task,
    /// 缴费结果、退款
    Payment,
    /// 我的办理进展: what I just did, confirmed (booked, cancelled, signed
    /// up, redeemed, reported), and each step of my own report
    MyRequests,
    /// 系统通知 (scheduled reminders staff set up, account events)
    System,
}

/// RFC 8030 Urgency header values we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    Low,
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 9] = [
        NotificationKind::Announcement,
        NotificationKind::Residence,
        NotificationKind::AppointmentReminder,
        NotificationKind::ActivityStart,
        NotificationKind::VoteClosing,
        NotificationKind::Task,
        NotificationKind::Payment,
        NotificationKind::MyRequests,
        NotificationKind::System,
    ];

    pub fn label(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            NotificationKind::Announcement => ("社区公告", "Announcements"),
            NotificationKind::Residence => ("住户认证", "Residence verification"),
            NotificationKind::AppointmentReminder => ("预约提醒", "Appointment reminders"),
            NotificationKind::ActivityStart => ("活动开始", "Activity start"),
            NotificationKind::VoteClosing => ("投票截止", "Vote closing"),
            NotificationKind::Task => ("任务与督办", "Tasks and escalations"),
            NotificationKind::Payment => ("缴费与退款", "Payments and refunds"),
            NotificationKind::MyRequests => ("我的办理进展", "My requests and their progress"),
            NotificationKind::System => ("系统通知", "System"),
        };
        if english {
            en
        } else {
            zh
        }
    }

    /// Push is on unless the user turns it off.
    pub fn push_by_default(self) -> bool {
        true
    }

    /// SMS costs money and interrupts: only for types where missing it hurts
    /// (a booked appointment, a task deadline), and only when switched on.
    pub fn sms_allowed(self) -> bool {
        matches!(self, NotificationKind::AppointmentReminder | NotificationKind::Task)
    }

    /// How long a push service keeps trying to deliver (RFC 8030 TTL, seconds).
    /// A reminder that arrives after the thing it reminds of is noise.
    pub fn push_ttl_seconds(self) -> u32 {
        match self {
            NotificationKind::AppointmentReminder | NotificationKind::ActivityStart => 60 * 60,
            NotificationKind::VoteClosing | NotificationKind::Task => 6 * 60 * 60,
            NotificationKind::Announcement
            | NotificationKind::Payment
            | NotificationKind::MyRequests
            | NotificationKind::System => 24 * 60 * 60,
            NotificationKind::Residence => 7 * 24 * 60 * 60,
        }
    }

    pub fn urgency(self) -> Urgency {
        match self {
            NotificationKind::AppointmentReminder | NotificationKind::Task => Urgency::High,
            NotificationKind::Announcement => Urgency::Low,
            _ => Urgency::Normal,
        }
    }
}

/// Channel choices for one type, as shown on the settings page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pref {
    pub kind: NotificationKind,
    pub push: bool,
    pub sms: bool,
}

impl Pref {
    pub fn default_for(kind: NotificationKind) -> Pref {
        Pref { kind, push: kind.push_by_default(), sms: false }
    }
}

/// One inbox item as the pages show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: i64,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub link: String,
    /// Beijing time, "YYYY-MM-DD HH:MM".
    pub created: String,
    pub read: bool,
}

/// A link inside the app: a path starting with one `/` (never `//host`), so
/// a notification can never send someone off-site.
pub fn is_internal_link(s: &str) -> bool {
    s.starts_with('/') && !s.starts_with("//") && !s.contains('\\') && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_are_unique() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(NotificationKind::parse("spam"), None);
    }

    #[test]
    fn sms_only_where_missing_it_hurts() {
        assert!(NotificationKind::AppointmentReminder.sms_allowed());
        assert!(!NotificationKind::Announcement.sms_allowed());
        assert!(!Pref::default_for(NotificationKind::Task).sms);
    }

    #[test]
    fn reminders_expire_before_they_become_noise() {
        assert!(NotificationKind::AppointmentReminder.push_ttl_seconds() <= 3600);
        assert_eq!(NotificationKind::Task.urgency(), Urgency::High);
    }

    #[test]
    fn links_stay_inside_the_app() {
        assert!(is_internal_link("/inbox"));
        assert!(is_internal_link("/announcements/3"));
        assert!(!is_internal_link("//evil.example/"));
        assert!(!is_internal_link("https://evil.example/"));
        assert!(!is_internal_link("/\\evil"));
        assert!(!is_internal_link(""));
    }
}
