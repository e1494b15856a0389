//! The worker's outbox: what the phone keeps until the server has it, which
//! items go in the next batch, and what a reply does to them. The phone's
//! recorder and the server read these same rules, so a batch the phone
//! builds is one the server accepts.
//!
//! Nothing leaves the outbox unanswered: an item goes only when the server
//! has it (stored now or before). An item the server refuses stays, marked
//! with the server's reason, and is sent again only when that reason is
//! transient; a batch the server cannot read at all is quarantined the
//! same way, never deleted.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{BatchReply, OutboxItem, MAX_BATCH};

/// The newest this many items go in one batch; a check-in's fixes come on
/// top (a batch stays within [`MAX_BATCH`]).
pub const SEND_BATCH: usize = 500;

/// A check-in is judged on the fixes around it: those from this long
/// before it (the server corroborates within 120 s; 10 s to spare) …
pub const CHECKIN_BEFORE_MS: i64 = 130_000;
/// … to this long after it.
pub const CHECKIN_AFTER_MS: i64 = 5_000;

/// Why the server refused one item of a batch (or the whole batch).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum RefusalReason {
    /// The item is not an outbox item the server knows (a newer or older
    /// phone's shape).
    Unreadable,
    /// Its id is empty, too long or has characters ids may not have.
    BadId,
    /// An event the phone may not send (a start) or a gap without its reason.
    UnknownEvent,
    /// A check-in at a checkpoint that is not on this patrol's route.
    UnknownCheckpoint,
    /// Past the batch's limit: send it again in the next batch.
    OverLimit,
    /// The server could not read the batch at all (kept aside, never deleted).
    BatchRefused,
    /// The patrol is not this worker's, or no longer exists.
    PatrolGone,
}

crate::coded!(RefusalReason);

impl RefusalReason {
    /// Worth sending again as it is.
    pub fn transient(self) -> bool {
        matches!(self, RefusalReason::OverLimit)
    }

    pub fn text(self, en: bool) -> &'static str {
        match (self, en) {
            (RefusalReason::Unreadable, false) => "服务器无法识别这条记录",
            (RefusalReason::Unreadable, true) => "the server cannot read this record",
            (RefusalReason::BadId, false) => "记录编号无效",
            (RefusalReason::BadId, true) => "the record's id is not valid",
            (RefusalReason::UnknownEvent, false) => "无法识别的巡逻事件",
            (RefusalReason::UnknownEvent, true) => "an event the server does not know",
            (RefusalReason::UnknownCheckpoint, false) => "该点位不在本次巡逻的线路上",
            (RefusalReason::UnknownCheckpoint, true) => "the checkpoint is not on this patrol's route",
            (RefusalReason::OverLimit, false) => "本批过多,下次再发",
            (RefusalReason::OverLimit, true) => "too many at once; sent next time",
            (RefusalReason::BatchRefused, false) => "服务器拒收了这一批,记录已留在手机上",
            (RefusalReason::BatchRefused, true) => "the server refused the batch; the records stay on the phone",
            (RefusalReason::PatrolGone, false) => "这次巡逻已不存在或不属于您",
            (RefusalReason::PatrolGone, true) => "this patrol no longer exists or is not yours",
        }
    }
}

/// One item the server refused, in a batch reply.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefusedItem {
    /// The item's id as sent ("" when it had none).
    pub id: String,
    pub reason: RefusalReason,
    /// The reason in the worker's language.
    pub text: String,
}

impl RefusedItem {
    pub fn new(id: impl Into<String>, reason: RefusalReason, en: bool) -> RefusedItem {
        RefusedItem { id: id.into(), reason, text: reason.text(en).into() }
    }
}

/// An item as the phone keeps it: the item's own fields (`type`, `id`,
/// `t`, …) beside the patrol it belongs to and, once the server refused it,
/// the reason. Flat, so the records an older phone stored read back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub patrol: i64,
    #[serde(flatten)]
    pub item: OutboxItem,
    /// Set when the server refused it: the item stays, and is shown to the
    /// worker with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
}

/// The server's reason for refusing a kept item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub text: String,
}

impl Kept {
    pub fn new(patrol: i64, item: OutboxItem) -> Kept {
        Kept { patrol, item, refused: None }
    }

    /// Waiting to be sent (never refused, or refused for a passing reason).
    pub fn waiting(&self) -> bool {
        self.refused.as_ref().is_none_or(|r| r.reason.transient())
    }
}

/// The next batch: the oldest patrol's waiting items, newest first, at most
/// [`SEND_BATCH`] of them, and with each check-in the fixes it is judged on
/// (those still waiting), within [`MAX_BATCH`] in all. Empty when nothing
/// waits. Returns the patrol and the items' indexes in `kept`.
pub fn next_batch(kept: &[Kept]) -> Option<(i64, Vec<usize>)> {
    let patrol = kept.iter().filter(|k| k.waiting()).map(|k| k.patrol).min()?;
    let mut mine: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].patrol == patrol && kept[i].waiting()).collect();
    // newest first; equal times by id, so the order never depends on storage
    mine.sort_by(|&a, &b| {
        let (a, b) = (&kept[a].item, &kept[b].item);
        b.t().cmp(&a.t()).then_with(|| a.id().cmp(b.id()))
    });
    let mut chosen: Vec<usize> = mine.iter().copied().take(SEND_BATCH).collect();
    let checkins: Vec<i64> = chosen
        .iter()
        .filter_map(|&i| match kept[i].item {
            OutboxItem::Checkin { t, .. } => Some(t),
            _ => None,
        })
        .collect();
    for &i in mine.iter().skip(SEND_BATCH) {
        if chosen.len() >= MAX_BATCH {
            break;
        }
        if let OutboxItem::Fix { t, .. } = kept[i].item {
            if checkins.iter().any(|&c| t >= c - CHECKIN_BEFORE_MS && t <= c + CHECKIN_AFTER_MS) {
                chosen.push(i);
            }
        }
    }
    Some((patrol, chosen))
}

/// What a reply does to the items sent: each one the server answered for
/// leaves the outbox, except those it refused, which stay marked with the
/// reason. Returns how many left.
pub fn settle(kept: &mut Vec<Kept>, patrol: i64, sent: &[String], reply: &BatchReply) -> usize {
    let sent: HashSet<&str> = sent.iter().map(String::as_str).collect();
    let refused: HashMap<&str, &RefusedItem> = reply.refused.iter().map(|r| (r.id.as_str(), r)).collect();
    let before = kept.len();
    kept.retain_mut(|k| {
        if k.patrol != patrol || !sent.contains(k.item.id()) {
            return true;
        }
        match refused.get(k.item.id()) {
            Some(r) => {
                k.refused = Some(Refusal { reason: r.reason, text: r.text.clone() });
                true
            }
            None => false,
        }
    });
    before - kept.len()
}

/// The server could not take the batch at all (it answered 4xx for the
/// whole of it): every item sent is kept aside with that reason, for staff
/// to recover; nothing is deleted.
pub fn quarantine(kept: &mut [Kept], patrol: i64, sent: &[String], reason: RefusalReason, en: bool) {
    let sent: HashSet<&str> = sent.iter().map(String::as_str).collect();
    for k in kept.iter_mut().filter(|k| k.patrol == patrol && sent.contains(k.item.id())) {
        k.refused = Some(Refusal { reason, text: reason.text(en).into() });
    }
}

/// What the status line counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting to be sent.
    pub waiting: usize,
    /// Refused by the server and kept on the phone.
    pub refused: usize,
}

pub fn counts(kept: &[Kept]) -> Counts {
    let waiting = kept.iter().filter(|k| k.waiting()).count();
    Counts { waiting, refused: kept.len() - waiting }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patrol::{EventKind, GapReason, PatrolState};

    fn fix(id: &str, t: i64) -> OutboxItem {
        OutboxItem::Fix { id: id.into(), t, lat: 30.0, lng: 120.0, acc: 5.0, speed: None, heading: None, alt: None }
    }
    fn checkin(id: &str, t: i64) -> OutboxItem {
        OutboxItem::Checkin { id: id.into(), t, checkpoint: 1, qr: None }
    }
    fn reply(refused: Vec<RefusedItem>) -> BatchReply {
        BatchReply { stored: 0, duplicates: 0, dropped: vec![], checkins: vec![], refused, state: PatrolState::Active }
    }
    fn ids(kept: &[Kept], chosen: &[usize]) -> Vec<String> {
        chosen.iter().map(|&i| kept[i].item.id().to_string()).collect()
    }

    #[test]
    fn nothing_to_send_when_empty_or_all_refused() {
        assert_eq!(next_batch(&[]), None);
        let mut k = Kept::new(1, fix("a", 1));
        k.refused = Some(Refusal { reason: RefusalReason::BadId, text: String::new() });
        assert_eq!(next_batch(&[k]), None);
    }

    #[test]
    fn newest_first_oldest_patrol_first() {
        let kept = vec![
            Kept::new(2, fix("p2", 9_000)),
            Kept::new(1, fix("old", 1_000)),
            Kept::new(1, fix("new", 5_000)),
            Kept::new(1, fix("mid", 3_000)),
        ];
        let (patrol, chosen) = next_batch(&kept).expect("a batch");
        assert_eq!(patrol, 1);
        assert_eq!(ids(&kept, &chosen), ["new", "mid", "old"]);
    }

    #[test]
    fn at_most_send_batch_and_a_checkin_brings_its_fixes() {
        // one fix a second for 700 s, a check-in at 650 s's mark… but old:
        // the check-in is at t = 100 s, far past the newest 500
        let mut kept: Vec<Kept> = (0..700).map(|s| Kept::new(1, fix(&format!("f{s}"), s * 1000))).collect();
        kept.push(Kept::new(1, checkin("c", 699_500)));
        kept.push(Kept::new(1, checkin("old-c", 100_000)));
        let (_, chosen) = next_batch(&kept).expect("a batch");
        let sent = ids(&kept, &chosen);
        assert_eq!(sent.len(), SEND_BATCH);
        assert_eq!(sent[0], "c");
        // the newest 500 items are the first 500 sent (the check-in and 499 fixes)
        assert!(sent[..SEND_BATCH].contains(&"f201".to_string()));
        assert!(!sent[..SEND_BATCH].contains(&"f200".to_string()));
        // the old check-in is not among the newest 500, so its fixes stay
        assert!(!sent.contains(&"old-c".to_string()));
        assert!(!sent.contains(&"f100".to_string()));
        // no id twice
        let mut unique = sent.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), sent.len());
    }

    #[test]
    fn a_checkin_inside_the_batch_brings_older_fixes_within_its_window() {
        let mut kept: Vec<Kept> = (0..600).map(|s| Kept::new(1, fix(&format!("f{s}"), s * 1000))).collect();
        // 499 newer fixes and the check-in fill the 500; it was made at 101 s's fix
        kept.push(Kept::new(1, checkin("c", 101_000)));
        for k in kept.iter_mut() {
            if let OutboxItem::Fix { t, .. } = &mut k.item {
                if *t < 101_000 {
                    *t -= 1_000_000; // far older: outside any window
                }
            }
        }
        kept.push(Kept::new(1, fix("near", 101_000 - CHECKIN_BEFORE_MS)));
        kept.push(Kept::new(1, fix("too-early", 101_000 - CHECKIN_BEFORE_MS - 1)));
        let (_, chosen) = next_batch(&kept).expect("a batch");
        let sent = ids(&kept, &chosen);
        assert!(sent.contains(&"c".to_string()));
        assert!(sent.contains(&"near".to_string()));
        assert!(!sent.contains(&"too-early".to_string()));
    }

    #[test]
    fn a_reply_removes_what_the_server_has_and_keeps_refusals() {
        let mut kept = vec![Kept::new(1, fix("a", 1)), Kept::new(1, fix("b", 2)), Kept::new(1, fix("unsent", 3))];
        let sent = vec!["a".to_string(), "b".to_string()];
        let gone = settle(&mut kept, 1, &sent, &reply(vec![RefusedItem::new("b", RefusalReason::BadId, false)]));
        assert_eq!(gone, 1);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].item.id(), "b");
        assert_eq!(kept[0].refused.as_ref().map(|r| r.reason), Some(RefusalReason::BadId));
        assert_eq!(counts(&kept), Counts { waiting: 1, refused: 1 });
        // a refused item is not sent again, the unsent one is
        let (_, chosen) = next_batch(&kept).expect("a batch");
        assert_eq!(ids(&kept, &chosen), ["unsent"]);
    }

    #[test]
    fn a_transient_refusal_is_sent_again() {
        let mut kept = vec![Kept::new(1, fix("a", 1))];
        settle(&mut kept, 1, &["a".into()], &reply(vec![RefusedItem::new("a", RefusalReason::OverLimit, true)]));
        assert_eq!(counts(&kept), Counts { waiting: 1, refused: 0 });
        assert_eq!(next_batch(&kept).map(|(_, c)| c), Some(vec![0]));
    }

    #[test]
    fn a_refused_batch_is_quarantined_never_deleted() {
        let mut kept = vec![Kept::new(1, fix("a", 1)), Kept::new(2, fix("a", 1))];
        quarantine(&mut kept, 1, &["a".into()], RefusalReason::BatchRefused, false);
        assert_eq!(kept.len(), 2);
        assert!(kept[0].refused.is_some());
        assert!(kept[1].refused.is_none(), "the same id on another patrol is another item");
        assert_eq!(next_batch(&kept).map(|(p, _)| p), Some(2));
    }

    #[test]
    fn kept_items_read_back_from_their_stored_form() {
        let k = Kept::new(
            7,
            OutboxItem::Event {
                id: "g1".into(),
                t: 5,
                kind: EventKind::Gap,
                until: Some(9),
                reason: Some(GapReason::Offline),
            },
        );
        let json = serde_json::to_string(&k).expect("json");
        assert_eq!(serde_json::from_str::<Kept>(&json).expect("read back"), k);
        assert!(json.contains(r#""type":"event""#) && !json.contains("refused"), "flat: {json}");
        // as the JavaScript recorder stored them (before refusals existed, and after)
        let old = r#"{"type":"fix","id":"f","t":1,"lat":30,"lng":120,"acc":5,"speed":null,"patrol":7}"#;
        let old = serde_json::from_str::<Kept>(old).expect("old form");
        assert_eq!((old.patrol, old.item.id(), old.refused), (7, "f", None));
        let marked = r#"{"type":"fix","id":"bad id","t":1,"lat":30,"lng":120,"acc":5,"patrol":7,
            "refused":{"reason":"bad_id","text":"记录编号无效"}}"#;
        let marked = serde_json::from_str::<Kept>(marked).expect("refused form");
        assert_eq!(marked.refused.map(|r| r.reason), Some(RefusalReason::BadId));
    }
}
