//! Deliberation (议事协商), rules.md §4: topics proposed by residents are
//! published after staff review; comments are threaded; the third report
//! hides a comment until staff review it; staff replies can be official
//! answers, due by the topic's deadline. Participation points (reading the
//! materials, comments that survive moderation, attending a meeting) have a
//! daily cap, and nothing is ever given for how someone votes.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// Points for confirming one has read a topic's materials.
pub const READ_POINTS: i64 = 1;
/// Points for a comment still standing after `COMMENT_SETTLE_HOURS`.
pub const COMMENT_POINTS: i64 = 2;
/// Points for attending a topic's meeting (recorded by staff).
pub const MEETING_POINTS: i64 = 5;
/// At most this many participation points per person per Beijing day.
pub const DAILY_CAP: i64 = 10;
/// A comment earns its points once it has stood this long unremoved.
pub const COMMENT_SETTLE_HOURS: i64 = 24;
/// Reports by this many people hide a comment until staff review it.
pub const HIDE_AT_REPORTS: i64 = 3;

/// What may still be given today: the award, cut to what the cap leaves.
pub fn grant(points: i64, used_today: i64, cap: i64) -> i64 {
    points.min((cap - used_today).max(0)).max(0)
}

/// Whether a comment with this many reports is hidden pending review
/// (once staff have kept it, reports no longer hide it).
pub fn hidden_by_reports(reports: i64, reviewed: bool) -> bool {
    !reviewed && reports >= HIDE_AT_REPORTS
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum TopicStatus {
    /// Proposed by a resident, waiting for staff review (only they see it).
    Pending,
    Published,
    Rejected,
    Closed,
}

impl TopicStatus {
    pub const ALL: [TopicStatus; 4] = [Self::Pending, Self::Published, Self::Rejected, Self::Closed];
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Self::Pending, false) => "待审核",
            (Self::Pending, true) => "Awaiting review",
            (Self::Published, false) => "讨论中",
            (Self::Published, true) => "Open for discussion",
            (Self::Rejected, false) => "未通过",
            (Self::Rejected, true) => "Not accepted",
            (Self::Closed, false) => "已结束",
            (Self::Closed, true) => "Closed",
        }
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum CommentStatus {
    Visible,
    /// Hidden by reports, waiting for staff review.
    Hidden,
    /// Removed by staff.
    Removed,
}

/// A comment's text: 1–1000 characters after trimming.
pub fn parse_comment(s: &str) -> Result<String, ErrorCode> {
    let s = s.trim().replace("\r\n", "\n");
    let n = s.chars().count();
    if n == 0 || n > 1000 {
        return Err(ErrorCode::InvalidComment);
    }
    Ok(s)
}

/// Days staff give themselves for an official answer: 1–60.
pub fn parse_answer_days(s: &str) -> Result<i64, ErrorCode> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(7);
    }
    s.parse::<i64>().ok().filter(|d| (1..=60).contains(d)).ok_or(ErrorCode::InvalidInput)
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicView {
    pub id: i64,
    pub community: String,
    pub title: String,
    /// The background materials, paragraphs separated by blank lines.
    pub body: String,
    pub status: TopicStatus,
    pub proposer: String,
    pub by_resident: bool,
    pub created_at: String,
    pub published_at: Option<String>,
    pub answer_due_at: Option<String>,
    pub answered_at: Option<String>,
    /// No official answer and the deadline has passed.
    pub overdue: bool,
    pub review_note: Option<String>,
    pub vote: Option<(i64, String)>,
    pub comments: i64,
    pub i_read: bool,
    pub can_moderate: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommentView {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// Nesting shown (replies deeper than 3 are shown at 3).
    pub depth: usize,
    pub author: String,
    /// Empty when hidden or removed (staff still see it).
    pub body: String,
    pub official: bool,
    pub status: CommentStatus,
    pub reports: i64,
    pub reviewed: bool,
    pub mine: bool,
    pub i_reported: bool,
    pub created_at: String,
    pub topic_id: i64,
    pub topic: String,
}

/// A topic page: the topic, its comments in thread order, and (for staff)
/// votes of the community that can be linked.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicPage {
    pub topic: TopicView,
    pub comments: Vec<CommentView>,
    pub linkable_votes: Vec<(i64, String)>,
}

/// Puts comments in thread order (each followed by its replies, oldest
/// first) with their depth. Comments whose parent is missing go to the top.
pub fn thread<T: Clone>(items: &[(i64, Option<i64>, T)]) -> Vec<(usize, T)> {
    use std::collections::{HashMap, HashSet};
    let ids: HashSet<i64> = items.iter().map(|(id, _, _)| *id).collect();
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, (_, parent, _)) in items.iter().enumerate() {
        let p = parent.filter(|p| ids.contains(p));
        children.entry(p).or_default().push(i);
    }
    let mut out = Vec::with_capacity(items.len());
    let mut stack: Vec<(usize, usize)> =
        children.get(&None).map(|v| v.iter().rev().map(|i| (*i, 0)).collect()).unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        out.push((depth.min(3), items[i].2.clone()));
        if let Some(kids) = children.get(&Some(items[i].0)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_daily_cap_cuts_the_award() {
        assert_eq!(grant(2, 0, 10), 2);
        assert_eq!(grant(5, 8, 10), 2);
        assert_eq!(grant(5, 10, 10), 0);
        assert_eq!(grant(5, 12, 10), 0);
    }

    #[test]
    fn three_reports_hide_until_reviewed() {
        assert!(!hidden_by_reports(2, false));
        assert!(hidden_by_reports(3, false));
        assert!(!hidden_by_reports(7, true));
    }

    #[test]
    fn comments_and_deadlines_are_parsed() {
        assert_eq!(parse_comment("  好 \r\n"), Ok("好".into()));
        assert_eq!(parse_comment("   "), Err(ErrorCode::InvalidComment));
        assert!(parse_comment(&"字".repeat(1001)).is_err());
        assert_eq!(parse_answer_days(""), Ok(7));
        assert_eq!(parse_answer_days("61"), Err(ErrorCode::InvalidInput));
    }

    #[test]
    fn threads_put_replies_under_their_parents() {
        let items =
            vec![(1, None, "a"), (2, None, "b"), (3, Some(1), "a1"), (4, Some(3), "a1x"), (5, Some(99), "orphan")];
        let t = thread(&items);
        assert_eq!(t, vec![(0, "a"), (1, "a1"), (2, "a1x"), (0, "b"), (0, "orphan")]);
    }

    proptest! {
        #[test]
        fn grants_never_pass_the_cap(awards in proptest::collection::vec(0i64..20, 0..30)) {
            let mut used = 0;
            for a in awards {
                let g = grant(a, used, DAILY_CAP);
                prop_assert!(g >= 0 && g <= a);
                used += g;
                prop_assert!(used <= DAILY_CAP);
            }
        }
    }
}
