//! Patrol routes and checkpoints (巡逻线路, 定点), issue 4. A route belongs
//! to a grid; its checkpoints are visited in order when the route is
//! ordered. Coordinates are WGS-84.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// A checkpoint as staff enter or import it (already checked).
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteView {
    pub id: i64,
    pub grid_id: i64,
    pub grid: String,
    pub name: String,
    pub ordered: bool,
    pub active: bool,
    pub checkpoints: Vec<CheckpointView>,
}

/// One line of the printable QR sheet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetItem {
    pub seq: i32,
    pub name: String,
    pub url: String,
    pub svg: String,
}

// ------------------------------------------------------------ patrols

/// Where a patrol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatrolState {
    Active,
    Paused,
    Ended,
}

impl PatrolState {
    pub fn as_str(self) -> &'static str {
        match self {
            PatrolState::Active => "active",
            PatrolState::Paused => "paused",
            PatrolState::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<PatrolState> {
        [PatrolState::Active, PatrolState::Paused, PatrolState::Ended].into_iter().find(|p| p.as_str() == s)
    }

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Pause,
    Resume,
    End,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Pause => "pause",
            Transition::Resume => "resume",
            Transition::End => "end",
        }
    }

    pub fn parse(s: &str) -> Option<Transition> {
        [Transition::Pause, Transition::Resume, Transition::End].into_iter().find(|t| t.as_str() == s)
    }

    /// The states it may start from, and where it leads.
    pub fn from_to(self) -> (&'static [PatrolState], PatrolState) {
        match self {
            Transition::Pause => (&[PatrolState::Active], PatrolState::Paused),
            Transition::Resume => (&[PatrolState::Paused], PatrolState::Active),
            Transition::End => (&[PatrolState::Active, PatrolState::Paused], PatrolState::Ended),
        }
    }
}

/// Why the phone recorded no positions for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Hidden => "hidden",
            GapReason::Offline => "offline",
            GapReason::Permission => "permission",
            GapReason::NoSignal => "no_signal",
        }
    }

    pub fn parse(s: &str) -> Option<GapReason> {
        [GapReason::Hidden, GapReason::Offline, GapReason::Permission, GapReason::NoSignal]
            .into_iter()
            .find(|g| g.as_str() == s)
    }

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
        kind: String,
        /// For gaps: when recording resumed.
        #[serde(default)]
        until: Option<i64>,
        #[serde(default)]
        reason: Option<String>,
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub patrol: i64,
    /// The phone's clock (ms) when it sent the batch.
    pub sent_at: i64,
    pub items: Vec<OutboxItem>,
}

/// A check-in as the worker and staff see it.
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DroppedView {
    pub id: String,
    pub reason: String,
    pub text: String,
}

/// The answer to a batch: every item is accounted for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchReply {
    /// Items stored now for the first time.
    pub stored: usize,
    /// Items already stored by an earlier send.
    pub duplicates: usize,
    /// Fixes stored raw but left out of the track, with the reason.
    pub dropped: Vec<DroppedView>,
    pub checkins: Vec<CheckinView>,
    pub state: PatrolState,
}

/// A patrol in a list.
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
    pub checkins_ok: u64,
    pub checkins: u64,
    /// When the last fix in the track was taken (Beijing time), if any.
    pub last_fix: Option<String>,
}

/// A checkpoint of the patrol under way and what happened there.
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
}

/// A stretch without positions, as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapView {
    pub from: String,
    pub to: String,
    pub minutes: i64,
    pub reason: String,
}

/// A patrol's track, checkpoints and check-ins, ready to draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatrolDetail {
    pub row: PatrolRow,
    pub map: TrackMap,
    pub checkins: Vec<CheckinView>,
    pub gaps: Vec<GapView>,
    /// (reason in words, how many fixes)
    pub dropped: Vec<(String, u64)>,
    pub distance_m: f64,
    pub minutes: i64,
}

/// A plain projected drawing (no map tiles needed): SVG path data per
/// track segment and the checkpoints, in a `width` × `height` box.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackMap {
    pub width: f64,
    pub height: f64,
    pub segments: Vec<String>,
    /// (x, y, radius in px, name, visited)
    pub checkpoints: Vec<(f64, f64, f64, String, bool)>,
    /// Metres per 100 px, for the scale bar.
    pub metres_per_100px: f64,
    /// The projection: centre (lat, lng), cos(lat) and px per metre, so a
    /// page can place positions that arrive later the same way.
    pub centre: (f64, f64),
    pub k: f64,
    pub scale: f64,
}

impl TrackMap {
    /// Where a WGS-84 point falls in the box.
    pub fn project(&self, lat: f64, lng: f64) -> (f64, f64) {
        let x = self.width / 2.0 + (lng - self.centre.1) * self.k * 111_320.0 * self.scale;
        let y = self.height / 2.0 - (lat - self.centre.0) * 110_574.0 * self.scale;
        ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
    }
}

/// The staff's live board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveBoard {
    pub rows: Vec<PatrolRow>,
    /// Grids whose live positions the page subscribes to.
    pub grids: Vec<i64>,
    /// (patrol, x, y, worker) of the patrols under way.
    pub dots: Vec<(i64, f64, f64, String)>,
    pub map: TrackMap,
}

/// A point of a track: WGS-84 and Unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub lat: f64,
    pub lng: f64,
    pub at: i64,
}

/// Splits a track where no fix came for more than `max_gap_s` seconds.
pub fn segments(points: &[TrackPoint], max_gap_s: i64) -> Vec<Vec<TrackPoint>> {
    let mut out: Vec<Vec<TrackPoint>> = vec![];
    for p in points {
        match out.last_mut() {
            Some(seg) if seg.last().is_some_and(|l| p.at - l.at <= max_gap_s) => seg.push(*p),
            _ => out.push(vec![*p]),
        }
    }
    out
}

/// Douglas–Peucker simplification for display (the raw points stay):
/// keeps the ends and every point farther than `tolerance_m` from the line
/// kept around it.
pub fn simplify(points: &[TrackPoint], tolerance_m: f64) -> Vec<TrackPoint> {
    if points.len() < 3 {
        return points.to_vec();
    }
    let lat0 = points[0].lat.to_radians().cos();
    let xy = |p: &TrackPoint| (p.lng * lat0 * 111_320.0, p.lat * 110_574.0);
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut stack = vec![(0usize, points.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = xy(&points[a]);
        let (bx, by) = xy(&points[b]);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let mut worst = (0.0f64, a);
        for (i, p) in points.iter().enumerate().take(b).skip(a + 1) {
            let (px, py) = xy(p);
            let d = if len2 == 0.0 {
                ((px - ax).powi(2) + (py - ay).powi(2)).sqrt()
            } else {
                let t = (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0);
                ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
            };
            if d > worst.0 {
                worst = (d, i);
            }
        }
        if worst.0 > tolerance_m {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    points.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

/// Projects segments and checkpoints into a `width`-wide box
/// (equirectangular about the middle, north up, 16 px margin).
pub fn track_map(segs: &[Vec<TrackPoint>], checkpoints: &[(CheckpointView, bool)], width: f64) -> TrackMap {
    let all: Vec<(f64, f64)> =
        segs.iter().flatten().map(|p| (p.lat, p.lng)).chain(checkpoints.iter().map(|(c, _)| (c.lat, c.lng))).collect();
    if all.is_empty() {
        return TrackMap { width, height: width * 0.6, ..Default::default() };
    }
    let (mut s, mut n, mut w, mut e) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (lat, lng) in &all {
        s = s.min(*lat);
        n = n.max(*lat);
        w = w.min(*lng);
        e = e.max(*lng);
    }
    let k = ((s + n) / 2.0).to_radians().cos();
    // metres across, with room for the checkpoints' circles, at least 200 m
    // so that one point does not fill the box
    let room = 2.0 * checkpoints.iter().map(|(c, _)| c.radius_m as f64).fold(0.0, f64::max);
    let mx = ((e - w) * k * 111_320.0 + room).max(200.0);
    let my = ((n - s) * 110_574.0 + room).max(200.0);
    let margin = 16.0;
    let scale = (width - 2.0 * margin) / mx; // px per metre
    let height = (my * scale + 2.0 * margin).clamp(160.0, width * 1.5);
    let scale = scale.min((height - 2.0 * margin) / my);
    let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
    let mut map = TrackMap {
        width,
        height: height.round(),
        segments: vec![],
        checkpoints: vec![],
        metres_per_100px: (100.0 / scale).round(),
        centre: (cy, cx),
        k,
        scale,
    };
    let px = |lat: f64, lng: f64| map.project(lat, lng);
    let segments = segs
        .iter()
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            seg.iter()
                .enumerate()
                .map(|(i, p)| {
                    let (x, y) = px(p.lat, p.lng);
                    format!("{}{x} {y}", if i == 0 { "M" } else { " L" })
                })
                .collect::<String>()
        })
        .collect();
    let checkpoints = checkpoints
        .iter()
        .map(|(c, visited)| {
            let (x, y) = px(c.lat, c.lng);
            (x, y, (c.radius_m as f64 * scale).max(4.0), c.name.clone(), *visited)
        })
        .collect();
    map.segments = segments;
    map.checkpoints = checkpoints;
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(lat: f64, lng: f64, at: i64) -> TrackPoint {
        TrackPoint { lat, lng, at }
    }

    #[test]
    fn tracks_split_at_gaps_and_simplify_without_losing_corners() {
        let pts: Vec<TrackPoint> = (0..10).map(|i| tp(39.9 + i as f64 * 0.0001, 116.4, i * 5)).collect();
        let mut with_gap = pts.clone();
        with_gap.push(tp(39.91, 116.41, 1000));
        assert_eq!(segments(&with_gap, 60).iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 1]);
        // a straight line keeps its ends only
        assert_eq!(simplify(&pts, 1.0).len(), 2);
        // an L keeps its corner
        let mut l = pts.clone();
        l.extend((1..10).map(|i| tp(39.9009, 116.4 + i as f64 * 0.0001, 50 + i * 5)));
        let s = simplify(&l, 1.0);
        assert_eq!(s.len(), 3);
        assert_eq!(s[1], l[9]);
        let map = track_map(&[s], &[], 360.0);
        assert!(map.segments[0].starts_with('M') && map.segments[0].matches('L').count() == 2);
        assert!(map.width == 360.0 && map.height >= 160.0);
    }

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
