//! Incidents (事件, issue 4): grid workers, residents (随手拍) and staff
//! report; staff accept or reject, dispatch to a worker or a department with
//! a deadline; the worker handles it with before/after photos; staff verify
//! and close; the reporter rates. The rules are `domain::incidents::next`;
//! this module guards every change with the status it was decided on (so two
//! people acting at once cannot both move it) and writes one event per step.
//!
//! Photos are decoded here (the type is judged by the bytes, not the name),
//! turned upright, resized and re-encoded as JPEG, which leaves every EXIF
//! field (GPS, device, time) behind. Photos of a form that came back with an
//! error wait under a draft key, so nothing the user chose is lost.

mod steps;
mod views;
pub use steps::*;
pub use views::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::msg::Msg;
use domain::time::beijing_time;
use domain::{
    incidents::{
        self as rules, Action, Actor, Assignable, Category, EventView, ExtensionView, IncidentDetail, IncidentHome,
        IncidentRow, NewIncident, RejectReason, Spot, Status, MAX_PHOTOS, NEARBY_M,
    },
    notify::NotificationKind,
    ErrorCode, OrgLevel, OrgPath, Role,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{incident, incident_event, incident_extension, incident_photo as photo, org_unit, user, user_role},
    error::{AppError, AppResult},
    jobs::{self, JobKind, NewJob},
    notify::{self, Draft},
    State,
};

/// Longest side of a stored photo, and of its thumbnail.
pub const PHOTO_SIDE: u32 = 1600;
pub const THUMB_SIDE: u32 = 320;

// ------------------------------------------------------------------ photos

/// A photo ready to store.
pub struct Processed {
    pub jpeg: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
}

/// Decodes an uploaded image (JPEG, PNG or WebP, judged by its bytes), turns
/// it upright by its EXIF orientation, fits it into `PHOTO_SIDE` and encodes
/// it as JPEG without any metadata, plus a thumbnail. CPU-bound: call it
/// from a blocking thread.
pub fn process_photo(bytes: &[u8]) -> Result<Processed, ErrorCode> {
    use image::{ImageDecoder, ImageFormat, ImageReader};
    if bytes.is_empty() || bytes.len() > rules::MAX_PHOTO_BYTES {
        return Err(ErrorCode::InvalidPhoto);
    }
    let format = image::guess_format(bytes).map_err(|_| ErrorCode::InvalidPhoto)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(ErrorCode::InvalidPhoto);
    }
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| ErrorCode::InvalidPhoto)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|_| ErrorCode::InvalidPhoto)?;
    img.apply_orientation(orientation);
    let img = if img.width() > PHOTO_SIDE || img.height() > PHOTO_SIDE {
        img.resize(PHOTO_SIDE, PHOTO_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let rgb = image::DynamicImage::ImageRgb8(img.to_rgb8());
    let thumb = rgb.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let encode = |i: &image::DynamicImage, q: u8| -> Result<Vec<u8>, ErrorCode> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
            .encode_image(i)
            .map_err(|_| ErrorCode::InvalidPhoto)?;
        Ok(out)
    };
    let jpeg = encode(&rgb, 82)?;
    let thumb = encode(&thumb, 75)?;
    let sha256 = hex::encode(Sha256::digest(&jpeg));
    Ok(Processed { jpeg, thumb, width: rgb.width(), height: rgb.height(), sha256 })
}

/// Processes uploaded photos off the request threads and keeps them under
/// `draft` for the user until a report or a step takes them. Returns the
/// first error (after keeping the good ones).
pub async fn stage_photos(
    state: &State,
    user: &CurrentUser,
    draft: &str,
    stage: &str,
    files: Vec<Vec<u8>>,
) -> AppResult<Vec<i64>> {
    if !valid_draft(draft) || !matches!(stage, "report" | "before" | "after" | "note") {
        return Err(ErrorCode::InvalidInput.into());
    }
    let already = draft_photos(state, user, draft).await?.len();
    if already + files.len() > MAX_PHOTOS {
        return Err(ErrorCode::TooManyPhotos.into());
    }
    let mut ids = vec![];
    let mut first_error = None;
    for bytes in files {
        let processed = tokio::task::spawn_blocking(move || process_photo(&bytes))
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("photo worker: {e}")))?;
        let p = match processed {
            Ok(p) => p,
            Err(code) => {
                first_error.get_or_insert(code);
                continue;
            }
        };
        let r = photo::Entity::insert(photo::ActiveModel {
            incident_id: Set(None),
            event_id: Set(None),
            draft: Set(Some(draft.to_string())),
            uploader_id: Set(user.id),
            stage: Set(stage.into()),
            sha256: Set(p.sha256),
            width: Set(p.width as i32),
            height: Set(p.height as i32),
            jpeg: Set(p.jpeg),
            thumb: Set(p.thumb),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(&state.db)
        .await?;
        ids.push(r.last_insert_id);
    }
    match first_error {
        Some(code) => Err(code.into()),
        None => Ok(ids),
    }
}

/// A draft key is the form's id: 8–40 letters, digits, `-` or `_`.
pub fn valid_draft(key: &str) -> bool {
    (8..=40).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The user's photos waiting under `draft`.
pub async fn draft_photos(state: &State, user: &CurrentUser, draft: &str) -> AppResult<Vec<i64>> {
    if !valid_draft(draft) {
        return Ok(vec![]);
    }
    Ok(photo::Entity::find()
        .select_only()
        .column(photo::Column::Id)
        .filter(photo::Column::UploaderId.eq(user.id))
        .filter(photo::Column::Draft.eq(draft))
        .filter(photo::Column::IncidentId.is_null())
        .order_by_asc(photo::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?)
}

/// The user drops a photo they had chosen (only while it is still a draft's).
pub async fn drop_draft_photo(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    photo::Entity::delete_many()
        .filter(photo::Column::Id.eq(id))
        .filter(photo::Column::UploaderId.eq(user.id))
        .filter(photo::Column::IncidentId.is_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Moves the draft's photos onto the incident (and the event that took them).
async fn attach<C: ConnectionTrait>(
    conn: &C,
    user: &CurrentUser,
    draft: &str,
    incident_id: i64,
    event_id: i64,
) -> AppResult<u64> {
    if !valid_draft(draft) {
        return Ok(0);
    }
    let r = photo::Entity::update_many()
        .col_expr(photo::Column::IncidentId, Expr::value(incident_id))
        .col_expr(photo::Column::EventId, Expr::value(event_id))
        .col_expr(photo::Column::Draft, Expr::value(Option::<String>::None))
        .filter(photo::Column::UploaderId.eq(user.id))
        .filter(photo::Column::Draft.eq(draft))
        .filter(photo::Column::IncidentId.is_null())
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// A stored photo (or its thumbnail) for someone who may see the incident,
/// or the uploader's own draft photo.
pub async fn photo_bytes(state: &State, user: &CurrentUser, id: i64, thumb: bool) -> AppResult<Vec<u8>> {
    let p = photo::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    match p.incident_id {
        None if p.uploader_id == user.id => {}
        None => return Err(ErrorCode::NotFound.into()),
        Some(iid) => {
            let i = incident::Entity::find_by_id(iid).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
            if !access(state, user, &i).await?.1 {
                return Err(ErrorCode::NotFound.into());
            }
        }
    }
    Ok(if thumb { p.thumb } else { p.jpeg })
}

// ------------------------------------------------------------------ who

async fn community_path(state: &State, id: i64) -> AppResult<OrgPath> {
    crate::org::path_of(state, id).await
}

/// The viewer's part in an incident, whether they may see it at all (the
/// reporter, the assignee, the grid's workers, staff over the community),
/// and the community's path — one lookup.
async fn access(state: &State, user: &CurrentUser, i: &incident::Model) -> AppResult<(Actor, bool, OrgPath)> {
    let path = community_path(state, i.community_id).await?;
    let actor = Actor {
        staff: user.is_staff() && user.can_manage(&path),
        assignee: i.assignee_id == Some(user.id),
        reporter: i.reporter_id == user.id,
    };
    let grid_worker =
        i.grid_id.is_some_and(|g| user.grants.iter().any(|x| x.role == Role::GridWorker && x.org_unit_id == g));
    Ok((actor, actor.staff || actor.assignee || actor.reporter || grid_worker, path))
}

/// Users with a staff role over the community (street and district staff
/// included), for notifications.
async fn staff_over<C: ConnectionTrait>(conn: &C, community: &OrgPath) -> AppResult<Vec<i64>> {
    let ids = community.ids();
    let mut users: Vec<i64> = user_role::Entity::find()
        .select_only()
        .column(user_role::Column::UserId)
        .filter(user_role::Column::OrgUnitId.is_in(ids))
        .filter(user_role::Column::Role.is_in([Role::Staff, Role::Admin]))
        .into_tuple()
        .all(conn)
        .await?;
    users.sort_unstable();
    users.dedup();
    Ok(users)
}

/// Grid workers of the community's grids: whom staff may dispatch to.
pub async fn assignable(state: &State, community_id: i64, en: bool) -> AppResult<Vec<Assignable>> {
    let path = community_path(state, community_id).await?;
    let grid_name: HashMap<i64, String> = crate::org::subtree(state, &path)
        .await?
        .into_iter()
        .filter(|n| n.level == OrgLevel::Grid)
        .map(|n| (n.id, n.name))
        .collect();
    let roles = user_role::Entity::find()
        .filter(user_role::Column::Role.eq(Role::GridWorker))
        .filter(user_role::Column::OrgUnitId.is_in(grid_name.keys().copied().collect::<Vec<_>>()))
        .order_by_asc(user_role::Column::UserId)
        .all(&state.db)
        .await?;
    let names = crate::support::people::names(state, roles.iter().map(|r| r.user_id), en).await?;
    let mut out: Vec<Assignable> = vec![];
    for r in roles {
        if out.iter().any(|a| a.id == r.user_id) {
            continue;
        }
        out.push(Assignable {
            id: r.user_id,
            name: names.get(&r.user_id).cloned().unwrap_or_default(),
            grid: grid_name.get(&r.org_unit_id).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ reporting

/// The report the user already filed under this form id, if any.
pub async fn existing(state: &State, user: &CurrentUser, client_id: &str) -> AppResult<Option<i64>> {
    Ok(incident::Entity::find()
        .filter(incident::Column::ReporterId.eq(user.id))
        .filter(incident::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?
        .map(|i| i.id))
}

/// Files a report. `client_id` is the form's (or the phone's outbox) id: the
/// same id again returns the report already filed. The draft's photos come
/// along (at most nine).
pub async fn report(
    state: &State,
    user: &CurrentUser,
    community_id: i64,
    client_id: &str,
    new: NewIncident,
) -> AppResult<i64> {
    if !valid_draft(client_id) {
        return Err(ErrorCode::InvalidInput.into());
    }
    if !crate::support::scope::visible_communities(state, user).await?.iter().any(|(id, _)| *id == community_id) {
        return Err(ErrorCode::Forbidden.into());
    }
    let path = community_path(state, community_id).await?;
    let staff = user.can_manage(&path) && user.is_staff();
    // a worker's report belongs to their grid in that community
    let grid = user
        .grants
        .iter()
        .find(|g| g.role == Role::GridWorker && g.org_path.ids().contains(&community_id))
        .map(|g| g.org_unit_id);
    let source = if grid.is_some() {
        "worker"
    } else if staff {
        "staff"
    } else {
        "resident"
    };
    file(state, user, community_id, grid, source, client_id, new).await
}

/// The community's grid whose outline holds the point, if any.
pub async fn grid_holding(state: &State, community_id: i64, lat: f64, lng: f64) -> AppResult<Option<i64>> {
    let grids: Vec<i64> = crate::entities::org_unit::Entity::find()
        .filter(crate::entities::org_unit::Column::ParentId.eq(community_id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    Ok(crate::patrol::outlines(state, &grids)
        .await?
        .into_iter()
        .find(|(_, ring)| domain::geo::ring_contains(ring, lat, lng))
        .map(|(id, _)| id))
}

/// Inserts a report and its first event; shared with Open311.
pub(crate) async fn file(
    state: &State,
    user: &CurrentUser,
    community_id: i64,
    grid: Option<i64>,
    source: &str,
    client_id: &str,
    new: NewIncident,
) -> AppResult<i64> {
    let now = Utc::now();
    let path = community_path(state, community_id).await?;
    // a report from anyone but a grid's own worker goes to the grid whose
    // outline holds its position, so a community's figures are its grids'
    let grid = match (grid, new.spot) {
        (Some(g), _) => Some(g),
        (None, Some(spot)) => grid_holding(state, community_id, spot.lat, spot.lng).await?,
        (None, None) => None,
    };
    let txn = state.db.begin().await?;
    let inserted = incident::Entity::insert(incident::ActiveModel {
        community_id: Set(community_id),
        grid_id: Set(grid),
        category: Set(new.category),
        description: Set(new.description.clone()),
        lat: Set(new.spot.map(|s| s.lat)),
        lng: Set(new.spot.map(|s| s.lng)),
        accuracy_m: Set(new.spot.and_then(|s| s.accuracy_m)),
        address: Set(new.address.clone()),
        reporter_id: Set(user.id),
        source: Set(source.into()),
        client_id: Set(client_id.into()),
        status: Set(Status::Reported),
        escalations: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    let id = match inserted {
        Ok(r) => r.last_insert_id,
        Err(e) if crate::db::is_unique_violation(&e) => {
            // the same form again (or at the same moment): the report already filed
            drop(txn);
            return incident::Entity::find()
                .filter(incident::Column::ReporterId.eq(user.id))
                .filter(incident::Column::ClientId.eq(client_id))
                .one(&state.db)
                .await?
                .map(|i| i.id)
                .ok_or_else(|| ErrorCode::Conflict.into());
        }
        Err(e) => return Err(e.into()),
    };
    let ev =
        event(&txn, id, Action::Report, Status::Reported, Status::Reported, Some(user.id), now, None, None).await?;
    let attached = attach(&txn, user, client_id, id, ev).await?;
    if attached as usize > MAX_PHOTOS {
        return Err(ErrorCode::TooManyPhotos.into());
    }
    notify::put(
        &txn,
        user.id,
        Draft {
            kind: NotificationKind::MyRequests,
            title: Msg::new("incident.received.title").with("category", new.category.as_str()).encode(),
            body: Msg::new("incident.received.body").with("id", id).encode(),
            link: format!("/incidents/{id}"),
            key: format!("incident:{id}:received"),
        },
    )
    .await?;
    for staff in staff_over(&txn, &path).await? {
        if staff == user.id {
            continue;
        }
        notify::put(
            &txn,
            staff,
            Draft {
                kind: NotificationKind::Task,
                title: Msg::new("incident.new.title").with("category", new.category.as_str()).encode(),
                body: new.description.chars().take(80).collect(),
                link: format!("/incidents/{id}"),
                key: format!("incident:{id}:reported"),
            },
        )
        .await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn event<C: ConnectionTrait>(
    conn: &C,
    incident_id: i64,
    action: Action,
    from: Status,
    to: Status,
    actor: Option<i64>,
    at: DateTime<Utc>,
    note: Option<String>,
    data: Option<serde_json::Value>,
) -> AppResult<i64> {
    let r = incident_event::Entity::insert(incident_event::ActiveModel {
        incident_id: Set(incident_id),
        action: Set(action),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor),
        at: Set(at),
        note: Set(note),
        data: Set(data.map(|d| d.to_string())),
        ..Default::default()
    })
    .exec(conn)
    .await?;
    Ok(r.last_insert_id)
}

/// Open reports of the same category within 250 m of a position, nearest
/// first: "is it one of these?" before a new report is sent.
pub async fn nearby(
    state: &State,
    user: &CurrentUser,
    community_id: i64,
    category: Category,
    lat: f64,
    lng: f64,
) -> AppResult<Vec<IncidentRow>> {
    if !crate::support::scope::visible_communities(state, user).await?.iter().any(|(id, _)| *id == community_id) {
        return Err(ErrorCode::Forbidden.into());
    }
    // a box a little larger than the circle, then the exact distance
    let dlat = NEARBY_M / 111_000.0 * 1.2;
    let dlng = dlat / lat.to_radians().cos().max(0.1);
    let open: Vec<&str> = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let rows = incident::Entity::find()
        .filter(incident::Column::CommunityId.eq(community_id))
        .filter(incident::Column::Category.eq(category.as_str()))
        .filter(incident::Column::Status.is_in(open))
        .filter(incident::Column::Lat.between(lat - dlat, lat + dlat))
        .filter(incident::Column::Lng.between(lng - dlng, lng + dlng))
        .order_by_desc(incident::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?;
    let distance: HashMap<i64, f64> =
        rows.iter().filter_map(|i| Some((i.id, domain::geo::distance_m(lat, lng, i.lat?, i.lng?)))).collect();
    let mut out = rows_of(state, rows, crate::support::people::english(user)).await?;
    for r in &mut out {
        r.distance_m = distance.get(&r.id).copied();
    }
    out.retain(|r| r.distance_m.is_some_and(|d| d <= NEARBY_M));
    out.sort_by(|a, b| a.distance_m.partial_cmp(&b.distance_m).unwrap_or(std::cmp::Ordering::Equal));
    out.truncate(5);
    Ok(out)
}

// ------------------------------------------------------------------ workflow

/// One step as a form or the API asks for it, parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Step {
    Accept { note: Option<String> },
    Reject { reason: RejectReason, duplicate_of: Option<i64>, note: Option<String> },
    Dispatch { assignee: Option<i64>, department: Option<String>, deadline: DateTime<Utc>, note: Option<String> },
    Start { note: Option<String>, draft: String },
    Handle { note: String, draft: String },
    Verify { note: Option<String> },
    SendBack { note: String },
    Close { note: Option<String> },
    Rate { rating: i16, comment: Option<String> },
    Note { note: String, draft: String },
    RequestExtension { until: DateTime<Utc>, reason: String },
    DecideExtension { approve: bool, note: Option<String> },
}

impl Step {
    pub fn action(&self) -> Action {
        match self {
            Step::Accept { .. } => Action::Accept,
            Step::Reject { .. } => Action::Reject,
            Step::Dispatch { .. } => Action::Dispatch,
            Step::Start { .. } => Action::Start,
            Step::Handle { .. } => Action::Handle,
            Step::Verify { .. } => Action::Verify,
            Step::SendBack { .. } => Action::SendBack,
            Step::Close { .. } => Action::Close,
            Step::Rate { .. } => Action::Rate,
            Step::Note { .. } => Action::Note,
            Step::RequestExtension { .. } => Action::RequestExtension,
            Step::DecideExtension { .. } => Action::DecideExtension,
        }
    }

    /// Parses a form's fields for `action`.
    pub fn parse(action: &str, f: &HashMap<String, String>) -> Result<Step, ErrorCode> {
        let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
        let opt = |k: &str| {
            let v = get(k);
            (!v.is_empty()).then_some(v)
        };
        let note_ok = |n: &Option<String>| n.as_ref().is_none_or(|n| n.chars().count() <= 2000);
        let required = |k: &str| -> Result<String, ErrorCode> {
            let v = get(k);
            if v.is_empty() || v.chars().count() > 2000 {
                Err(ErrorCode::ReasonRequired)
            } else {
                Ok(v)
            }
        };
        let when = |k: &str| -> Result<DateTime<Utc>, ErrorCode> {
            let ts = domain::time::parse_beijing_local(&get(k)).ok_or(ErrorCode::InvalidTime)?;
            let t = Utc.timestamp_opt(ts, 0).single().ok_or(ErrorCode::InvalidTime)?;
            if t <= Utc::now() || t > Utc::now() + Duration::days(366) {
                return Err(ErrorCode::InvalidTime);
            }
            Ok(t)
        };
        let note = opt("note");
        if !note_ok(&note) {
            return Err(ErrorCode::InvalidBody);
        }
        let draft = get("draft");
        Ok(match Action::parse(action).ok_or(ErrorCode::InvalidInput)? {
            Action::Accept => Step::Accept { note },
            Action::Reject => {
                let reason = RejectReason::parse(&get("reason")).ok_or(ErrorCode::ReasonRequired)?;
                let duplicate_of = match (reason, opt("duplicate_of")) {
                    (RejectReason::Duplicate, Some(v)) => {
                        Some(v.trim_start_matches('#').parse::<i64>().map_err(|_| ErrorCode::InvalidInput)?)
                    }
                    (RejectReason::Duplicate, None) => return Err(ErrorCode::InvalidInput),
                    _ => None,
                };
                Step::Reject { reason, duplicate_of, note }
            }
            Action::Dispatch => {
                let assignee = match opt("assignee") {
                    Some(v) => Some(v.parse::<i64>().map_err(|_| ErrorCode::InvalidInput)?),
                    None => None,
                };
                let department = opt("department");
                if department.as_ref().is_some_and(|d| d.chars().count() > 60) {
                    return Err(ErrorCode::InvalidInput);
                }
                if assignee.is_none() == department.is_none() {
                    // one of the two: a worker, or a department outside the system
                    return Err(ErrorCode::InvalidInput);
                }
                Step::Dispatch { assignee, department, deadline: when("deadline")?, note }
            }
            Action::Start => Step::Start { note, draft },
            Action::Handle => Step::Handle { note: required("note")?, draft },
            Action::Verify => Step::Verify { note },
            Action::SendBack => Step::SendBack { note: required("note")? },
            Action::Close => Step::Close { note },
            Action::Rate => {
                let comment = opt("comment");
                if !note_ok(&comment) {
                    return Err(ErrorCode::InvalidBody);
                }
                Step::Rate { rating: rules::parse_rating(&get("rating"))?, comment }
            }
            Action::Note => {
                let n = get("note");
                if n.chars().count() > 2000 || (n.is_empty() && !valid_draft(&draft)) {
                    return Err(ErrorCode::InvalidBody);
                }
                Step::Note { note: n, draft }
            }
            Action::RequestExtension => Step::RequestExtension { until: when("until")?, reason: required("reason")? },
            Action::DecideExtension => Step::DecideExtension { approve: get("approve") == "1", note },
            Action::Report | Action::Escalate => return Err(ErrorCode::InvalidInput),
        })
    }
}

/// Parses the report form's fields (shared by the page and the API).
pub fn parse_report(f: &HashMap<String, String>) -> Result<(i64, NewIncident), ErrorCode> {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    let community = get("community_id").trim().parse::<i64>().map_err(|_| ErrorCode::InvalidInput)?;
    let spot: Option<Spot> = Spot::parse(get("lat"), get("lng"), get("accuracy"))?;
    Ok((community, NewIncident::parse(get("category"), get("description"), spot, get("address"))?))
}

/// A fresh key for the photos of one form.
pub fn new_draft() -> String {
    format!("d-{}", uuid::Uuid::new_v4().simple())
}

// ------------------------------------------------------------------ demo

async fn demo_user(state: &State, phone: &str) -> AppResult<Option<CurrentUser>> {
    match user::Entity::find().filter(user::Column::Phone.eq(phone)).one(&state.db).await? {
        Some(u) => crate::auth::acting_as(state, u.id).await,
        None => Ok(None),
    }
}

/// Demo incidents in 阳光社区: a resident's 随手拍 waiting to be taken up, one
/// being handled, one overdue (escalated), and one closed and rated.
pub(crate) async fn seed_demo(state: &State, community_id: i64) -> AppResult<()> {
    let (Some(resident), Some(worker), Some(staff)) = (
        demo_user(state, "13800000001").await?,
        demo_user(state, "13700000001").await?,
        demo_user(state, "13900000002").await?,
    ) else {
        return Ok(());
    };
    let spot = |lat: f64, lng: f64| Some(Spot { lat, lng, accuracy_m: Some(12.0) });
    let new = |c: &str, d: &str, s: Option<Spot>, a: &str| NewIncident::parse(c, d, s, a);
    let tomorrow = Utc::now() + Duration::days(1);
    report(
        state,
        &resident,
        community_id,
        "demo-incident-1",
        new("parking", "5号楼门口共享单车乱停,堵住了消防通道", spot(39.96060, 116.41730), "5号楼门口")?,
    )
    .await?;
    let lamp = report(
        state,
        &worker,
        community_id,
        "demo-incident-2",
        new("facilities", "3号楼2单元楼道灯不亮,晚上老人上下楼不安全", spot(39.96062, 116.41758), "3号楼2单元")?,
    )
    .await?;
    act(state, &staff, lamp, Step::Accept { note: None }).await?;
    let dispatch = |deadline| Step::Dispatch { assignee: Some(worker.id), department: None, deadline, note: None };
    act(state, &staff, lamp, dispatch(tomorrow)).await?;
    act(state, &worker, lamp, Step::Start { note: Some("已联系物业电工".into()), draft: String::new() }).await?;
    let bins = report(
        state,
        &worker,
        community_id,
        "demo-incident-3",
        new("sanitation", "东门垃圾桶满溢,垃圾散落到路面", spot(39.95992, 116.41846), "东门岗亭旁")?,
    )
    .await?;
    act(state, &staff, bins, Step::Accept { note: None }).await?;
    act(state, &staff, bins, dispatch(tomorrow)).await?;
    // its deadline has passed: escalated once
    let past = Utc::now() - Duration::hours(3);
    incident::Entity::update_many()
        .col_expr(incident::Column::Deadline, Expr::value(past))
        .filter(incident::Column::Id.eq(bins))
        .exec(&state.db)
        .await?;
    overdue_job(state, OverdueJob { incident_id: bins, deadline: past.timestamp() })
        .await
        .map_err(AppError::internal)?;
    let gym = report(
        state,
        &resident,
        community_id,
        "demo-incident-4",
        new("facilities", "小区广场健身器材螺丝松动", spot(39.96030, 116.41580), "儿童游乐场东侧")?,
    )
    .await?;
    act(state, &staff, gym, Step::Accept { note: None }).await?;
    act(state, &staff, gym, dispatch(tomorrow)).await?;
    act(state, &worker, gym, Step::Handle { note: "已紧固全部螺丝并试用".into(), draft: String::new() }).await?;
    act(state, &staff, gym, Step::Verify { note: Some("现场查看无松动".into()) }).await?;
    act(state, &staff, gym, Step::Close { note: None }).await?;
    act(state, &resident, gym, Step::Rate { rating: 4, comment: Some("处理及时".into()) }).await?;
    // demo history, not news: no inbox items or deliveries for it
    let told: Vec<i64> = crate::entities::notification::Entity::find()
        .select_only()
        .column(crate::entities::notification::Column::Id)
        .filter(crate::entities::notification::Column::DedupeKey.starts_with("incident:"))
        .into_tuple()
        .all(&state.db)
        .await?;
    crate::entities::job::Entity::delete_many()
        .filter(crate::entities::job::Column::DedupeKey.is_in(told.iter().map(|id| format!("deliver:{id}"))))
        .exec(&state.db)
        .await?;
    crate::entities::notification::Entity::delete_many()
        .filter(crate::entities::notification::Column::Id.is_in(told))
        .exec(&state.db)
        .await?;
    Ok(())
}

// ------------------------------------------------------------------ jobs

pub const OVERDUE: JobKind = JobKind("incident.overdue");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(OVERDUE, |s: State, j| async move { overdue_job(&s, j).await });
}
