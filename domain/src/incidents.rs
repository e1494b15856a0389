//! Incidents (事件) and their workflow, rules.md §6:
//! 立案 → 派遣 → 处置 → 核查 → 结案 → 评价.
//!
//! reported → accepted (or rejected: a duplicate, or not ours) → dispatched
//! to a department or a worker with a deadline → in progress → handled (with
//! before/after photos) → verified by staff (or sent back to be done again)
//! → closed → rated by the reporter. Extensions need approval; overdue items
//! escalate. Every transition is an event with actor and time; the figures
//! are computed from those events.
//!
//! This module is the transition table and the input parsing; who may do
//! what is decided here too ([`Actor`]), so the server and the pages agree.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// At most this many photos per report (and per handling step).
pub const MAX_PHOTOS: usize = 9;
/// A photo as uploaded may be at most this big.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Open reports of the same category this close are suggested before a new one.
pub const NEARBY_M: f64 = 250.0;
/// Description length limit (Open311 allows 4,000 characters).
pub const MAX_DESCRIPTION: usize = 2000;

/// What kind of matter it is. Each category doubles as an Open311 service.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Category {
    /// 环境卫生: rubbish, dirty stairwells, overflowing bins
    Sanitation,
    /// 公共设施: broken lights, lifts, doors, benches
    Facilities,
    /// 安全隐患: fire escapes blocked, loose railings, gas smells
    Safety,
    /// 矛盾纠纷: neighbour disputes
    Dispute,
    /// 违章搭建: illegal structures
    Construction,
    /// 车辆停放: parking, blocked lanes, abandoned bicycles
    Parking,
    /// 入户报修: a repair inside one's own home, for the property service
    HomeRepair,
    /// 其他
    Other,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Sanitation,
        Category::Facilities,
        Category::Safety,
        Category::Dispute,
        Category::Construction,
        Category::Parking,
        Category::HomeRepair,
        Category::Other,
    ];

    pub fn name(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Category::Sanitation => ("环境卫生", "Sanitation"),
            Category::Facilities => ("公共设施", "Public facilities"),
            Category::Safety => ("安全隐患", "Safety hazard"),
            Category::Dispute => ("矛盾纠纷", "Dispute"),
            Category::Construction => ("违章搭建", "Illegal construction"),
            Category::Parking => ("车辆停放", "Parking"),
            Category::HomeRepair => ("入户报修", "Home repair"),
            Category::Other => ("其他", "Other"),
        };
        if english {
            en
        } else {
            zh
        }
    }

    /// The deadline a dispatcher is offered, in days.
    pub fn default_days(self) -> i64 {
        match self {
            Category::Safety => 1,
            Category::Sanitation | Category::Parking => 2,
            Category::HomeRepair => 3,
            Category::Facilities | Category::Other => 5,
            Category::Dispute => 7,
            Category::Construction => 10,
        }
    }
}

#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Status {
    Reported,
    Accepted,
    Rejected,
    Dispatched,
    InProgress,
    Handled,
    Verified,
    Closed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Reported,
        Status::Accepted,
        Status::Rejected,
        Status::Dispatched,
        Status::InProgress,
        Status::Handled,
        Status::Verified,
        Status::Closed,
    ];

    pub fn text(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Status::Reported => ("待受理", "Reported"),
            Status::Accepted => ("已立案", "Accepted"),
            Status::Rejected => ("不予立案", "Rejected"),
            Status::Dispatched => ("已派遣", "Dispatched"),
            Status::InProgress => ("处置中", "In progress"),
            Status::Handled => ("待核查", "Handled, to verify"),
            Status::Verified => ("已核查", "Verified"),
            Status::Closed => ("已结案", "Closed"),
        };
        if english {
            en
        } else {
            zh
        }
    }

    /// Not finished: still counts towards the nearby suggestions and the work list.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Rejected | Status::Closed)
    }

    /// The deadline runs: someone has it to do.
    pub fn deadline_runs(self) -> bool {
        matches!(self, Status::Dispatched | Status::InProgress)
    }
}

/// Why a report is not taken on.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum RejectReason {
    /// 重复上报: already reported (names the other report)
    Duplicate,
    /// 非本社区职责: not ours to handle
    NotOurs,
}

impl RejectReason {
    pub fn text(self, english: bool) -> &'static str {
        match (self, english) {
            (RejectReason::Duplicate, false) => "重复上报",
            (RejectReason::Duplicate, true) => "Duplicate",
            (RejectReason::NotOurs, false) => "非本社区职责",
            (RejectReason::NotOurs, true) => "Not ours to handle",
        }
    }
}

/// Who is acting on an incident, as far as the workflow cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Staff over the incident's community.
    pub staff: bool,
    /// The worker it is dispatched to.
    pub assignee: bool,
    /// Who reported it.
    pub reporter: bool,
}

/// One step of the workflow.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum Action {
    /// The report itself (first event, not a transition).
    Report,
    Accept,
    Reject,
    Dispatch,
    Start,
    Handle,
    /// Staff verify the handling: it holds.
    Verify,
    /// Staff verify the handling: it does not hold; back to the worker.
    SendBack,
    Close,
    Rate,
    /// A progress note or photos without a change of status.
    Note,
    #[strum(serialize = "extend")]
    RequestExtension,
    #[strum(serialize = "decide_ext")]
    DecideExtension,
    /// The deadline passed (the system).
    Escalate,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::Report,
        Action::Accept,
        Action::Reject,
        Action::Dispatch,
        Action::Start,
        Action::Handle,
        Action::Verify,
        Action::SendBack,
        Action::Close,
        Action::Rate,
        Action::Note,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Escalate,
    ];

    /// The event's words on the timeline.
    pub fn text(self, english: bool) -> &'static str {
        let (zh, en) = match self {
            Action::Report => ("上报", "reported"),
            Action::Accept => ("受理立案", "accepted"),
            Action::Reject => ("不予立案", "rejected"),
            Action::Dispatch => ("派遣", "dispatched"),
            Action::Start => ("开始处置", "started"),
            Action::Handle => ("处置完成", "handled"),
            Action::Verify => ("核查通过", "verified"),
            Action::SendBack => ("核查未通过,退回重办", "sent back"),
            Action::Close => ("结案", "closed"),
            Action::Rate => ("评价", "rated"),
            Action::Note => ("进展", "update"),
            Action::RequestExtension => ("申请延期", "extension requested"),
            Action::DecideExtension => ("延期审批", "extension decided"),
            Action::Escalate => ("超期督办", "overdue, escalated"),
        };
        if english {
            en
        } else {
            zh
        }
    }
}

/// The status after `action`, if `actor` may take it now. Everything not
/// listed is refused: the database update is guarded by the status read here,
/// so two people acting at once cannot both move it.
pub fn next(status: Status, action: Action, actor: Actor) -> Result<Status, ErrorCode> {
    use Action as A;
    use Status as S;
    let allowed = match action {
        A::Report => false,
        A::Accept | A::Reject => actor.staff,
        A::Dispatch | A::Verify | A::SendBack | A::Close | A::DecideExtension => actor.staff,
        A::Start | A::Handle | A::RequestExtension => actor.assignee || actor.staff,
        A::Note => actor.assignee || actor.staff || actor.reporter,
        A::Rate => actor.reporter,
        A::Escalate => true,
    };
    if !allowed {
        return Err(ErrorCode::Forbidden);
    }
    let to = match (action, status) {
        (A::Accept, S::Reported) => S::Accepted,
        (A::Reject, S::Reported | S::Accepted) => S::Rejected,
        // a re-dispatch (another worker, another deadline) keeps the work going
        (A::Dispatch, S::Accepted | S::Dispatched | S::InProgress) => S::Dispatched,
        (A::Start, S::Dispatched) => S::InProgress,
        (A::Handle, S::Dispatched | S::InProgress) => S::Handled,
        (A::Verify, S::Handled) => S::Verified,
        (A::SendBack, S::Handled) => S::InProgress,
        (A::Close, S::Verified) => S::Closed,
        (A::Rate, S::Closed) => S::Closed,
        (A::Note, s) if s.is_open() => s,
        (A::RequestExtension | A::DecideExtension | A::Escalate, s) if s.deadline_runs() => s,
        _ => return Err(ErrorCode::IncidentState),
    };
    Ok(to)
}

/// A satisfaction rating, 1 (very unhappy) to 5 (very happy).
pub fn parse_rating(s: &str) -> Result<i16, ErrorCode> {
    match s.trim().parse::<i16>() {
        Ok(n) if (1..=5).contains(&n) => Ok(n),
        _ => Err(ErrorCode::InvalidRating),
    }
}

/// Where the reporter was, stamped on the phone when the report was begun.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spot {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
}

impl Spot {
    /// Parses form fields; empty latitude and longitude mean "no position".
    pub fn parse(lat: &str, lng: &str, accuracy: &str) -> Result<Option<Spot>, ErrorCode> {
        let (lat, lng) = (lat.trim(), lng.trim());
        if lat.is_empty() && lng.is_empty() {
            return Ok(None);
        }
        let (Ok(lat), Ok(lng)) = (lat.parse::<f64>(), lng.parse::<f64>()) else {
            return Err(ErrorCode::InvalidLocation);
        };
        if !lat.is_finite() || !lng.is_finite() || !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
            return Err(ErrorCode::InvalidLocation);
        }
        let accuracy_m = accuracy.trim().parse::<f64>().ok().filter(|a| a.is_finite() && *a >= 0.0);
        Ok(Some(Spot { lat, lng, accuracy_m }))
    }
}

/// A new report as typed into the form, parsed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    pub category: Category,
    pub description: String,
    pub spot: Option<Spot>,
    pub address: Option<String>,
}

impl NewIncident {
    /// A report needs a category, a description, and a position or an address.
    pub fn parse(
        category: &str,
        description: &str,
        spot: Option<Spot>,
        address: &str,
    ) -> Result<NewIncident, ErrorCode> {
        let category = Category::parse(category).ok_or(ErrorCode::InvalidCategory)?;
        let description = description.trim().replace("\r\n", "\n");
        if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
            return Err(ErrorCode::InvalidBody);
        }
        let address = address.trim();
        if address.chars().count() > 200 {
            return Err(ErrorCode::InvalidInput);
        }
        let address = (!address.is_empty()).then(|| address.to_string());
        if spot.is_none() && address.is_none() {
            return Err(ErrorCode::PlaceRequired);
        }
        Ok(NewIncident { category, description, spot, address })
    }
}

/// Whether the deadline has passed on something still to do.
pub fn is_overdue(status: Status, deadline_ms: Option<i64>, now_ms: i64) -> bool {
    status.deadline_runs() && deadline_ms.is_some_and(|d| d < now_ms)
}

// ------------------------------------------------------------------ views

/// One line of a list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub id: i64,
    pub category: Category,
    pub status: Status,
    pub summary: String,
    pub place: String,
    pub reported_at: String,
    pub deadline: Option<String>,
    pub overdue: bool,
    pub escalations: i16,
    pub assignee: Option<String>,
    pub photos: i64,
    /// Distance from the asking position (nearby suggestions), metres.
    pub distance_m: Option<f64>,
}

/// One event on the timeline.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub action: Action,
    pub actor: String,
    pub at: String,
    pub note: Option<String>,
    pub photos: Vec<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtensionView {
    pub id: i64,
    pub until: String,
    pub reason: String,
    pub by: String,
}

/// Someone an incident may be dispatched to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignable {
    pub id: i64,
    pub name: String,
    pub grid: String,
}

/// Who may see a report's reporter's phone number in full, to call them
/// back: staff over the community and the worker it is assigned to, not the
/// reporter (it is their own) and not on an Open311 report (its reporter is
/// the client's key holder, not the person who saw the problem). Each look
/// is written to the personal-data log.
pub fn may_contact_reporter(actor: Actor, source: &str) -> bool {
    (actor.staff || actor.assignee) && !actor.reporter && source != "open311"
}

/// An incident as its page shows it, with what the viewer may do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub id: i64,
    pub community: String,
    pub grid: Option<String>,
    pub category: Category,
    pub status: Status,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub address: Option<String>,
    pub reporter: String,
    pub source: String,
    pub reported_at: String,
    pub assignee: Option<String>,
    pub department: Option<String>,
    pub deadline: Option<String>,
    /// `YYYY-MM-DDTHH:MM` (Beijing), for the dispatch form's default.
    pub deadline_input: String,
    pub overdue: bool,
    pub escalations: i16,
    pub duplicate_of: Option<i64>,
    pub reject_reason: Option<RejectReason>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub photos: Vec<i64>,
    pub events: Vec<EventView>,
    pub extension: Option<ExtensionView>,
    pub actor_staff: bool,
    pub actor_assignee: bool,
    pub actor_reporter: bool,
    /// Workers of the community, for the dispatch form (staff only).
    pub assignable: Vec<Assignable>,
}

impl IncidentDetail {
    pub fn actor(&self) -> Actor {
        Actor { staff: self.actor_staff, assignee: self.actor_assignee, reporter: self.actor_reporter }
    }
    /// May the viewer see the reporter's phone number, to call them back?
    pub fn may_contact_reporter(&self) -> bool {
        may_contact_reporter(self.actor(), &self.source)
    }
    /// May the viewer take `action` now?
    pub fn may(&self, action: Action) -> bool {
        match action {
            Action::Rate if self.rating.is_some() => false,
            Action::RequestExtension if self.extension.is_some() => false,
            Action::DecideExtension if self.extension.is_none() => false,
            Action::Escalate => false,
            _ => next(self.status, action, self.actor()).is_ok(),
        }
    }
}

/// The page a reporter, worker or staff member opens at /incidents.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentHome {
    pub communities: Vec<(i64, String)>,
    pub mine: Vec<IncidentRow>,
    pub tasks: Vec<IncidentRow>,
    /// A fresh id for the report form (a double submit is one report).
    pub form_id: String,
}

/// An Open311 client's key as staff see it (never the key itself).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub community: String,
    pub label: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: String,
    pub revoked: bool,
}

/// A request for more time on an incident, decided by a supervisor.
#[macro_rules_attribute::apply(crate::coded_enum!)]
pub enum ExtensionStatus {
    Pending,
    Approved,
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAFF: Actor = Actor { staff: true, assignee: false, reporter: false };
    const WORKER: Actor = Actor { staff: false, assignee: true, reporter: false };
    const REPORTER: Actor = Actor { staff: false, assignee: false, reporter: true };

    #[test]
    fn the_whole_way_through() {
        let mut s = Status::Reported;
        for (a, who) in [
            (Action::Accept, STAFF),
            (Action::Dispatch, STAFF),
            (Action::Start, WORKER),
            (Action::Handle, WORKER),
            (Action::SendBack, STAFF),
            (Action::Handle, WORKER),
            (Action::Verify, STAFF),
            (Action::Close, STAFF),
            (Action::Rate, REPORTER),
        ] {
            s = next(s, a, who).unwrap();
        }
        assert_eq!(s, Status::Closed);
    }

    #[test]
    fn who_may_do_what() {
        assert_eq!(next(Status::Reported, Action::Accept, WORKER), Err(ErrorCode::Forbidden));
        assert_eq!(next(Status::Reported, Action::Accept, REPORTER), Err(ErrorCode::Forbidden));
        assert_eq!(next(Status::Handled, Action::Verify, WORKER), Err(ErrorCode::Forbidden));
        assert_eq!(next(Status::Closed, Action::Rate, STAFF), Err(ErrorCode::Forbidden));
        assert_eq!(next(Status::Dispatched, Action::Start, REPORTER), Err(ErrorCode::Forbidden));
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        assert_eq!(next(Status::Reported, Action::Dispatch, STAFF), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Accepted, Action::Handle, STAFF), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Handled, Action::Close, STAFF), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Verified, Action::Rate, REPORTER), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Closed, Action::Note, REPORTER), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Closed, Action::Dispatch, STAFF), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Rejected, Action::Accept, STAFF), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Handled, Action::RequestExtension, WORKER), Err(ErrorCode::IncidentState));
        assert_eq!(next(Status::Accepted, Action::Escalate, STAFF), Err(ErrorCode::IncidentState));
    }

    #[test]
    fn overdue_only_while_the_deadline_runs() {
        assert!(is_overdue(Status::Dispatched, Some(10), 11));
        assert!(is_overdue(Status::InProgress, Some(10), 11));
        assert!(!is_overdue(Status::InProgress, Some(10), 10));
        assert!(!is_overdue(Status::Handled, Some(10), 11));
        assert!(!is_overdue(Status::Dispatched, None, 11));
    }

    #[test]
    fn parsing_a_report() {
        assert_eq!(Spot::parse("", "", ""), Ok(None));
        assert_eq!(Spot::parse("31.2", "", ""), Err(ErrorCode::InvalidLocation));
        assert_eq!(Spot::parse("91", "121", ""), Err(ErrorCode::InvalidLocation));
        assert_eq!(Spot::parse("NaN", "121", ""), Err(ErrorCode::InvalidLocation));
        let s = Spot::parse("31.2", "121.5", "12").unwrap().unwrap();
        assert_eq!(s.accuracy_m, Some(12.0));
        assert_eq!(NewIncident::parse("nope", "x", Some(s), ""), Err(ErrorCode::InvalidCategory));
        assert_eq!(NewIncident::parse("sanitation", "  ", Some(s), ""), Err(ErrorCode::InvalidBody));
        assert_eq!(NewIncident::parse("sanitation", "垃圾", None, " "), Err(ErrorCode::PlaceRequired));
        let n = NewIncident::parse("sanitation", " 垃圾满了\r\n ", None, "3号楼东侧").unwrap();
        assert_eq!((n.description.as_str(), n.address.as_deref()), ("垃圾满了", Some("3号楼东侧")));
        assert_eq!(parse_rating("5"), Ok(5));
        assert_eq!(parse_rating("0"), Err(ErrorCode::InvalidRating));
        assert_eq!(parse_rating("x"), Err(ErrorCode::InvalidRating));
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn the_reporter_is_called_back_by_those_handling_it_only() {
        assert!(may_contact_reporter(STAFF, "resident"));
        assert!(may_contact_reporter(WORKER, "worker"));
        assert!(!may_contact_reporter(REPORTER, "resident"));
        assert!(!may_contact_reporter(Actor { staff: false, assignee: false, reporter: false }, "resident"));
        // staff who reported it themselves: their own number
        assert!(!may_contact_reporter(Actor { staff: true, assignee: false, reporter: true }, "worker"));
        // an Open311 report's reporter is the client's key holder
        assert!(!may_contact_reporter(STAFF, "open311"));
        assert!(!may_contact_reporter(WORKER, "open311"));
    }
}
