//! Patrol routes and checkpoints (巡逻线路, 定点), issue 4. A route belongs
//! to a grid; its checkpoints are visited in order when the route is
//! ordered. Coordinates are WGS-84.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

pub mod guide;
pub mod outbox;

/// A checkpoint as staff enter or import it (already checked).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewCheckpoint {
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i32,
    pub requires_qr: bool,
}

/// The radius when none is given (metres).
pub const DEFAULT_RADIUS_M: i32 = 30;

impl NewCheckpoint {
    /// Checks a checkpoint: a name of 1–60 characters, a WGS-84 point, a
    /// radius of 5–500 m.
    pub fn new(
        name: &str,
        lat: f64,
        lng: f64,
        radius_m: Option<i64>,
        requires_qr: bool,
    ) -> Result<NewCheckpoint, ErrorCode> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(ErrorCode::InvalidTitle);
        }
        if !(lat.is_finite() && lng.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng)) {
            return Err(ErrorCode::InvalidLocation);
        }
        let radius_m = radius_m.unwrap_or(DEFAULT_RADIUS_M as i64);
        if !(5..=500).contains(&radius_m) {
            return Err(ErrorCode::InvalidRadius);
        }
        Ok(NewCheckpoint { name: name.into(), lat, lng, radius_m: radius_m as i32, requires_qr })
    }

    /// From a staff form: latitude, longitude and radius as typed.
    pub fn parse(
        name: &str,
        lat: &str,
        lng: &str,
        radius: &str,
        requires_qr: bool,
    ) -> Result<NewCheckpoint, ErrorCode> {
        let num = |s: &str| s.trim().parse::<f64>().map_err(|_| ErrorCode::InvalidLocation);
        let radius = match radius.trim() {
            "" => None,
            r => Some(r.parse::<i64>().map_err(|_| ErrorCode::InvalidRadius)?),
        };
        NewCheckpoint::new(name, num(lat)?, num(lng)?, radius, requires_qr)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointView {
    pub id: i64,
    pub seq: i32,
    pub name: String,
    pub lat: f64,
    pub lng: f64,
    pub radius_m: i32,
    pub requires_qr: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteView {
    pub id: i64,
    pub grid_id: i64,
    pub grid: String,
    pub name: String,
    pub ordered: bool,
    pub active: bool,
    pub checkpoints: Vec<CheckpointView>,
    /// Patrol plans on this route (ended ones last).
    #[serde(default)]
    pub plans: Vec<crate::figures::PlanView>,
}

/// One line of the printable QR sheet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetItem {
    pub seq: i32,
    pub name: String,
    pub url: String,
    pub svg: String,
}

// ------------------------------------------------------------ patrols

/// Where a patrol is.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum PatrolState {
    Active,
    Paused,
    Ended,
}

impl PatrolState {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (PatrolState::Active, false) => "巡逻中",
            (PatrolState::Active, true) => "On patrol",
            (PatrolState::Paused, false) => "已暂停",
            (PatrolState::Paused, true) => "Paused",
            (PatrolState::Ended, false) => "已结束",
            (PatrolState::Ended, true) => "Ended",
        }
    }
}

/// What a worker does to a patrol under way.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Transition {
    Pause,
    Resume,
    End,
}

impl Transition {
    /// The states it may start from, and where it leads.
    pub fn from_to(self) -> (&'static [PatrolState], PatrolState) {
        match self {
            Transition::Pause => (&[PatrolState::Active], PatrolState::Paused),
            Transition::Resume => (&[PatrolState::Paused], PatrolState::Active),
            Transition::End => (&[PatrolState::Active, PatrolState::Paused], PatrolState::Ended),
        }
    }
}

/// What a patrol's event log records (the column `patrol_events.kind`):
/// its start, each transition, and each gap the phone reported.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum EventKind {
    Start,
    Pause,
    Resume,
    End,
    Gap,
}

impl From<Transition> for EventKind {
    fn from(t: Transition) -> EventKind {
        match t {
            Transition::Pause => EventKind::Pause,
            Transition::Resume => EventKind::Resume,
            Transition::End => EventKind::End,
        }
    }
}

/// Why the phone recorded no positions for a while.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum GapReason {
    /// The page was hidden or the screen went off.
    Hidden,
    Offline,
    /// Location permission was refused or revoked.
    Permission,
    /// The phone gave no fix (indoors, tunnel).
    NoSignal,
}

impl GapReason {
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (GapReason::Hidden, false) => "页面在后台或熄屏",
            (GapReason::Hidden, true) => "page hidden or screen off",
            (GapReason::Offline, false) => "离线",
            (GapReason::Offline, true) => "offline",
            (GapReason::Permission, false) => "定位权限被拒绝",
            (GapReason::Permission, true) => "location permission refused",
            (GapReason::NoSignal, false) => "无定位信号",
            (GapReason::NoSignal, true) => "no GPS signal",
        }
    }
}

/// At most this many items in one batch from the phone's outbox.
pub const MAX_BATCH: usize = 1000;

/// One item from the phone's outbox. `id` is the phone's own id for it
/// (unique per patrol): sending it again stores nothing new. Times are the
/// phone's clock in milliseconds; the server reckons them against `sent_at`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboxItem {
    Fix {
        id: String,
        t: i64,
        lat: f64,
        lng: f64,
        acc: f64,
        #[serde(default)]
        speed: Option<f64>,
        #[serde(default)]
        heading: Option<f64>,
        #[serde(default)]
        alt: Option<f64>,
    },
    Checkin {
        id: String,
        t: i64,
        checkpoint: i64,
        /// The token read from the checkpoint's QR code, if scanned.
        #[serde(default)]
        qr: Option<String>,
    },
    Event {
        id: String,
        t: i64,
        /// pause, resume, end or gap (a phone never sends start)
        kind: EventKind,
        /// For gaps: when recording resumed.
        #[serde(default)]
        until: Option<i64>,
        /// For gaps: why nothing was recorded.
        #[serde(default)]
        reason: Option<GapReason>,
    },
}

impl OutboxItem {
    pub fn id(&self) -> &str {
        match self {
            OutboxItem::Fix { id, .. } | OutboxItem::Checkin { id, .. } | OutboxItem::Event { id, .. } => id,
        }
    }

    pub fn t(&self) -> i64 {
        match self {
            OutboxItem::Fix { t, .. } | OutboxItem::Checkin { t, .. } | OutboxItem::Event { t, .. } => *t,
        }
    }
}

/// A phone's outbox id: 1–64 of letters, digits, `-`, `_`, `:`, `.`.
pub fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

/// A batch from the outbox.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub patrol: i64,
    /// The phone's clock (ms) when it sent the batch.
    pub sent_at: i64,
    pub items: Vec<OutboxItem>,
}

/// A check-in as the worker and staff see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckinView {
    pub id: String,
    pub checkpoint_id: i64,
    pub checkpoint: String,
    pub at: String,
    pub accepted: bool,
    /// Each piece of evidence in the viewer's language.
    pub evidence: Vec<String>,
}

/// A dropped fix in a batch reply.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DroppedView {
    pub id: String,
    pub reason: String,
    pub text: String,
}

/// The answer to a batch: every item is accounted for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchReply {
    /// Items stored now for the first time.
    pub stored: usize,
    /// Items already stored by an earlier send.
    pub duplicates: usize,
    /// Fixes stored raw but left out of the track, with the reason.
    pub dropped: Vec<DroppedView>,
    pub checkins: Vec<CheckinView>,
    /// Items refused, each with the reason; the rest of the batch is
    /// answered as usual.
    #[serde(default)]
    pub refused: Vec<outbox::RefusedItem>,
    pub state: PatrolState,
}

/// A patrol in a list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatrolRow {
    pub id: i64,
    pub worker: String,
    pub grid: String,
    pub route: Option<String>,
    pub state: PatrolState,
    pub started: String,
    pub ended: Option<String>,
    /// Fixes in the track, and fixes left out.
    pub kept: u64,
    pub dropped: u64,
    /// Check-ins accepted, and every check-in tried (the attempts).
    pub checkins_ok: u64,
    pub checkins: u64,
    /// Checkpoints reached (at least one accepted check-in) of those planned:
    /// the one meaning "签到 2 / 5" has everywhere.
    pub checkpoints_reached: u64,
    pub checkpoints_planned: u64,
    /// When the last fix in the track was taken (Beijing time), if any.
    pub last_fix: Option<String>,
}

/// A checkpoint of the patrol under way and what happened there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStatus {
    pub checkpoint: CheckpointView,
    pub checkins: Vec<CheckinView>,
}

impl CheckpointStatus {
    pub fn done(&self) -> bool {
        self.checkins.iter().any(|c| c.accepted)
    }
}

/// The grid worker's patrol page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerHome {
    pub grids: Vec<(i64, String)>,
    pub routes: Vec<RouteView>,
    pub open: Option<PatrolRow>,
    pub checkpoints: Vec<CheckpointStatus>,
    pub recent: Vec<PatrolRow>,
    /// Registered GPS logger devices: (row id, device id, label).
    pub devices: Vec<(i64, String, String)>,
    /// Where a logger app sends positions.
    pub osmand_url: String,
    /// A fresh id for this page's forms: sending one twice acts once.
    pub form_id: String,
    /// Today's patrol plans: "日常巡逻线 · 每天 08:00–10:00".
    #[serde(default)]
    pub plans_today: Vec<String>,
}

/// A stretch without positions, as shown.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapView {
    pub from: String,
    pub to: String,
    pub minutes: i64,
    /// Its true length, for the words: a 44 s gap is "44 秒", not "0 分钟".
    #[serde(default)]
    pub seconds: i64,
    /// Its length in words, in the viewer's language.
    #[serde(default)]
    pub length: String,
    pub reason: String,
}

/// A patrol's track, checkpoints and check-ins, ready to draw.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatrolDetail {
    pub row: PatrolRow,
    pub map: TrackMap,
    /// The drawn track in time order for the replay: (x, y, Unix seconds).
    #[serde(default)]
    pub replay: Vec<(f64, f64, i64)>,
    pub checkins: Vec<CheckinView>,
    pub gaps: Vec<GapView>,
    /// (reason in words, how many fixes)
    pub dropped: Vec<(String, u64)>,
    pub distance_m: f64,
    pub minutes: i64,
}

mod map;
pub use map::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_checked() {
        let c = NewCheckpoint::parse(" 东门岗亭 ", "39.9087", "116.3975", "", true).unwrap();
        assert_eq!((c.name.as_str(), c.radius_m, c.requires_qr), ("东门岗亭", DEFAULT_RADIUS_M, true));
        assert_eq!(NewCheckpoint::parse("", "39.9", "116.4", "", false), Err(ErrorCode::InvalidTitle));
        assert_eq!(NewCheckpoint::parse("x", "99", "116.4", "", false), Err(ErrorCode::InvalidLocation));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "abc", "", false), Err(ErrorCode::InvalidLocation));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "116.4", "3", false), Err(ErrorCode::InvalidRadius));
        assert_eq!(NewCheckpoint::parse("x", "39.9", "116.4", "501", false), Err(ErrorCode::InvalidRadius));
        assert!(NewCheckpoint::new("x", f64::NAN, 116.4, None, false).is_err());
    }
}
