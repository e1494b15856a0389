//! Volunteer service (志愿服务), rules.md §4.
//!
//! - Staff publish an activity (place, time, capacity, hours rule, optional
//!   geofence) and name its organiser: themselves or an approved resident.
//! - Signing up takes a seat with a guarded `signed_up + 1 <= capacity`
//!   update; when none is left the person joins the waitlist. Withdrawing
//!   gives the seat to the first on the waitlist in the same transaction.
//! - On site the organiser's phone shows a QR code that changes every 30
//!   seconds: an HMAC (per-activity secret) over activity, direction and the
//!   30-second window. Scanning it opens a page that turns the code into a
//!   ten-minute ticket bound to the volunteer; one tap (with the location,
//!   when the activity has a geofence) checks in or out.
//! - The organiser corrects times if needed and confirms (谁组织谁记录):
//!   the credit follows `domain::volunteer::credit`, the per-day and
//!   per-year totals are advanced with a compare-and-set (caps hold under
//!   concurrent confirmations), and points are posted once with the key
//!   `service:{attendance}`. Honour hours are recorded without points.
//! - A certificate (志愿服务证明) freezes the record behind a code anyone
//!   can verify.

mod checks;
mod record;
pub use checks::*;
pub use record::*;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::time::{beijing_time, local_input};
use domain::{
    payments::{format_receipt_code, normalize_receipt_code},
    points::EntryKind,
    volunteer::{
        code_window, credit, window_accepted, ActivityStatus, ActivityView, AttendanceStatus, AttendanceView, Cap,
        Certificate, CertificateLine, CodeView, Credit, Direction, Geofence, HonourView, HoursRecord, HoursRule,
        OrganiseView, OrganiserRow, RosterRow, ScanView, SignupStatus,
    },
    ErrorCode, OrgPath, Phone,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use sha2::Sha256;
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{
        honour_hour, org_unit, user, volunteer_activity as activity, volunteer_attendance as attendance,
        volunteer_certificate as certificate, volunteer_organiser as organiser, volunteer_signup as signup,
        volunteer_total as total,
    },
    error::{AppError, AppResult},
    notify::{self, Draft},
    org::path_of,
    points::{post, Posting},
    State,
};
use domain::msg::Msg;
use domain::notify::NotificationKind;

/// A code changes every this many seconds.
pub const CODE_PERIOD: i64 = 30;
/// A scanned code must be confirmed within this many seconds.
pub const TICKET_SECONDS: i64 = 600;
/// Codes work from this long before the start…
pub const EARLY_MINUTES: i64 = 60;
/// …until this long after the end.
pub const LATE_MINUTES: i64 = 120;

/// What staff fill in to publish an activity (already parsed).
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub community_id: i64,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub rule: HoursRule,
    pub geofence: Option<Geofence>,
    /// The organiser's phone; empty: the staff member themselves.
    pub organiser_phone: String,
}

fn rule_of(a: &activity::Model) -> HoursRule {
    HoursRule {
        unit_minutes: a.unit_minutes,
        max_day_minutes: a.max_day_minutes,
        max_year_minutes: a.max_year_minutes,
        points_per_hour: a.points_per_hour,
    }
}

fn fence_of(a: &activity::Model) -> Option<Geofence> {
    match (a.geo_lat, a.geo_lng, a.geo_radius_m) {
        (Some(lat), Some(lng), Some(radius_m)) => Some(Geofence { lat, lng, radius_m }),
        _ => None,
    }
}

fn mac(secret: &str, msg: &str) -> AppResult<String> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).map_err(AppError::internal)?;
    m.update(msg.as_bytes());
    Ok(hex::encode(m.finalize().into_bytes()))
}

/// Equal in constant time (the length is not secret).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The code for one direction and 30-second window (16 hex digits).
fn code_for(a: &activity::Model, dir: Direction, window: i64) -> AppResult<String> {
    Ok(mac(&a.secret, &format!("code:{}:{}:{window}", a.id, dir.as_str()))?[..16].to_string())
}

fn ticket_for(a: &activity::Model, user_id: i64, dir: Direction, at: i64) -> AppResult<String> {
    mac(&a.secret, &format!("ticket:{}:{user_id}:{}:{at}", a.id, dir.as_str()))
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn at(s: i64) -> AppResult<DateTime<Utc>> {
    Utc.timestamp_opt(s, 0).single().ok_or_else(|| ErrorCode::InvalidTime.into())
}

/// `2026-11-23` and `2026` in Beijing: the periods the caps count in.
fn periods(t: DateTime<Utc>) -> (String, String) {
    let b = domain::time::local(t);
    (b.format("%Y-%m-%d").to_string(), b.format("%Y").to_string())
}

fn masked(phone: &str) -> String {
    domain::phone::mask_phone(phone)
}

async fn may_organise(state: &State, user: &CurrentUser, a: &activity::Model) -> AppResult<bool> {
    Ok(a.organiser_id == user.id || (user.is_staff() && user.can_manage(&path_of(state, a.community_id).await?)))
}

async fn organised(state: &State, user: &CurrentUser, id: i64) -> AppResult<activity::Model> {
    let a = activity::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !may_organise(state, user, &a).await? {
        // one who cannot even see the activity learns nothing of it
        let seen = crate::org::visible_ids(state, user).await?.contains(&a.community_id);
        return Err(if seen { ErrorCode::Forbidden } else { ErrorCode::NotFound }.into());
    }
    Ok(a)
}

async fn visible(state: &State, user: &CurrentUser, id: i64) -> AppResult<activity::Model> {
    let a = activity::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !crate::org::visible_ids(state, user).await?.contains(&a.community_id) && a.organiser_id != user.id {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(a)
}

async fn user_by_phone(state: &State, phone: &str) -> AppResult<user::Model> {
    let phone = Phone::parse(phone)?;
    user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| ErrorCode::NotRegistered.into())
}

// ------------------------------------------------------------------ publish

/// Staff publish an activity in a community they manage (naming its
/// organiser), or an approved organiser publishes one they will run.
pub async fn create(state: &State, staff: &CurrentUser, new: NewActivity) -> AppResult<i64> {
    if !staff.is_staff() {
        if !is_organiser(state, staff.id, new.community_id).await? {
            return Err(ErrorCode::Forbidden.into());
        }
        let c = org_unit::Entity::find_by_id(new.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        return create_for(state, &c, staff.id, staff.id, new).await;
    }
    let c = crate::support::scope::managed_community(state, staff, new.community_id).await?;
    let organiser = if new.organiser_phone.trim().is_empty() {
        staff.id
    } else {
        let u = user_by_phone(state, &new.organiser_phone).await?;
        let grants = crate::auth::load_grants(state, u.id).await?;
        if !grants.iter().any(|g| g.org_path.ids().contains(&c.id)) {
            return Err(ErrorCode::NotRegistered.into());
        }
        u.id
    };
    create_for(state, &c, staff.id, organiser, new).await
}

async fn is_organiser(state: &State, user_id: i64, community_id: i64) -> AppResult<bool> {
    Ok(organiser::Entity::find_by_id((community_id, user_id)).one(&state.db).await?.is_some())
}

/// Communities where the user is an approved organiser (may publish).
pub async fn organiser_communities(state: &State, user: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    let ids: Vec<i64> = organiser::Entity::find()
        .filter(organiser::Column::UserId.eq(user.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| o.community_id)
        .collect();
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(ids))
        .order_by_asc(org_unit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Staff approve a resident of the community as a volunteer organiser.
pub async fn approve_organiser(state: &State, staff: &CurrentUser, community_id: i64, phone: &str) -> AppResult<()> {
    let c = crate::support::scope::managed_community(state, staff, community_id).await?;
    let u = user_by_phone(state, phone).await?;
    let grants = crate::auth::load_grants(state, u.id).await?;
    if !grants.iter().any(|g| g.org_path.ids().contains(&c.id)) {
        return Err(ErrorCode::NotRegistered.into());
    }
    organiser::Entity::insert(organiser::ActiveModel {
        community_id: Set(c.id),
        user_id: Set(u.id),
        approved_by: Set(staff.id),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([organiser::Column::CommunityId, organiser::Column::UserId])
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

/// Staff withdraw an approval (activities already published keep their organiser).
pub async fn revoke_organiser(state: &State, staff: &CurrentUser, community_id: i64, user_id: i64) -> AppResult<()> {
    crate::support::scope::managed_community(state, staff, community_id).await?;
    organiser::Entity::delete_by_id((community_id, user_id)).exec(&state.db).await?;
    Ok(())
}

/// Approved organisers of the staff member's communities.
pub async fn organisers(state: &State, staff: &CurrentUser) -> AppResult<Vec<OrganiserRow>> {
    let communities: HashMap<i64, String> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().collect();
    let rows = organiser::Entity::find()
        .filter(organiser::Column::CommunityId.is_in(communities.keys().copied().collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    let people: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|r| r.user_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| OrganiserRow {
            community: communities.get(&r.community_id).cloned().unwrap_or_default(),
            community_id: r.community_id,
            user_id: r.user_id,
            name: people
                .get(&r.user_id)
                .map(|u| crate::support::people::name_of(u, crate::support::people::english(staff)))
                .unwrap_or_default(),
            phone_masked: people.get(&r.user_id).map(|u| masked(&u.phone)).unwrap_or_default(),
        })
        .collect())
}

/// `create` without the permission check (demo data).
pub(crate) async fn create_for(
    state: &State,
    c: &org_unit::Model,
    by: i64,
    organiser: i64,
    new: NewActivity,
) -> AppResult<i64> {
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 60 {
        return Err(ErrorCode::InvalidTitle.into());
    }
    let place = new.place.trim();
    if place.is_empty() || place.chars().count() > 100 {
        return Err(ErrorCode::InvalidInput.into());
    }
    if new.ends_at <= new.starts_at || new.ends_at - new.starts_at > 7 * 86_400 || new.ends_at <= Utc::now().timestamp()
    {
        return Err(ErrorCode::InvalidTime.into());
    }
    if !(1..=10_000).contains(&new.capacity) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let r = activity::Entity::insert(activity::ActiveModel {
        community_id: Set(c.id),
        title: Set(title.into()),
        description: Set(new.description.trim().chars().take(2000).collect()),
        place: Set(place.into()),
        starts_at: Set(at(new.starts_at)?),
        ends_at: Set(at(new.ends_at)?),
        capacity: Set(new.capacity),
        signed_up: Set(0),
        unit_minutes: Set(new.rule.unit_minutes),
        max_day_minutes: Set(new.rule.max_day_minutes),
        max_year_minutes: Set(new.rule.max_year_minutes),
        points_per_hour: Set(new.rule.points_per_hour),
        geo_lat: Set(new.geofence.map(|g| g.lat)),
        geo_lng: Set(new.geofence.map(|g| g.lng)),
        geo_radius_m: Set(new.geofence.map(|g| g.radius_m)),
        organiser_id: Set(organiser),
        secret: Set(hex::encode(secret)),
        status: Set(ActivityStatus::Published),
        created_by: Set(by),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(r.last_insert_id)
}

/// Staff cancel an activity; everyone signed up hears of it.
pub async fn cancel(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    let a = activity::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !staff.is_staff() || !staff.can_manage(&path_of(state, a.community_id).await?) {
        return Err(ErrorCode::Forbidden.into());
    }
    let txn = state.db.begin().await?;
    let r = activity::Entity::update_many()
        .col_expr(activity::Column::Status, Expr::value(domain::volunteer::ActivityStatus::Cancelled))
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::Status.eq(domain::volunteer::ActivityStatus::Published))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    let people = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::Status.ne(SignupStatus::Withdrawn))
        .all(&txn)
        .await?;
    for p in people {
        notify::cancel_reminder(&txn, p.user_id, &reminder_key(id)).await?;
        notify::put(
            &txn,
            p.user_id,
            Draft {
                kind: NotificationKind::ActivityStart,
                title: Msg::new("volunteer.cancelled.title").with("title", &a.title).encode(),
                body: Msg::new("volunteer.cancelled.body")
                    .with("at", beijing_time(a.starts_at))
                    .with("place", &a.place)
                    .encode(),
                link: "/volunteer".into(),
                key: format!("volunteer:cancelled:{id}"),
            },
        )
        .await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

/// The publish form's default times: tomorrow 09:00–11:00 (Beijing).
pub fn default_times() -> (String, String) {
    let day = domain::time::beijing_date(Utc::now()) + Duration::days(1);
    let at = |h: u32| day.and_hms_opt(h, 0, 0).map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default();
    (at(9), at(11))
}

// ------------------------------------------------------------------ views

async fn views(state: &State, viewer: &CurrentUser, rows: Vec<activity::Model>) -> AppResult<Vec<ActivityView>> {
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let waiting: Vec<(i64, i64)> = signup::Entity::find()
        .select_only()
        .column(signup::Column::ActivityId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(signup::Column::ActivityId.is_in(ids.clone()))
        .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
        .group_by(signup::Column::ActivityId)
        .into_tuple()
        .all(&state.db)
        .await?;
    let waiting: HashMap<i64, i64> = waiting.into_iter().collect();
    // names and paths in one query: who may organise is decided from them
    let communities: HashMap<i64, (String, Option<OrgPath>)> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(rows.iter().map(|a| a.community_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name, OrgPath::parse(&c.path))))
        .collect();
    let organisers = crate::support::people::names(
        state,
        rows.iter().map(|a| a.organiser_id),
        crate::support::people::english(viewer),
    )
    .await?;
    let mine: HashMap<i64, signup::Model> = signup::Entity::find()
        .filter(signup::Column::ActivityId.is_in(ids.clone()))
        .filter(signup::Column::UserId.eq(viewer.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.activity_id, s))
        .collect();
    let attended: Vec<attendance::Model> = attendance::Entity::find()
        .filter(attendance::Column::ActivityId.is_in(ids))
        .filter(attendance::Column::UserId.eq(viewer.id))
        .all(&state.db)
        .await?;
    let mut attended: HashMap<i64, AttendanceView> =
        attendance_views(state, attended, crate::support::people::english(viewer))
            .await?
            .into_iter()
            .map(|v| (v.activity_id, v))
            .collect();
    let mut out = vec![];
    for a in rows {
        let my = mine.get(&a.id);
        let my_status = my.map(|s| s.status);
        let my_queue = match my {
            Some(s) if my_status == Some(SignupStatus::Waitlisted) => Some(queue_place(state, s).await?),
            _ => None,
        };
        let (community, path) = communities.get(&a.community_id).cloned().unwrap_or_default();
        let can_organise =
            a.organiser_id == viewer.id || (viewer.is_staff() && path.is_some_and(|p| viewer.can_manage(&p)));
        out.push(ActivityView {
            id: a.id,
            community,
            title: a.title.clone(),
            description: a.description.clone(),
            place: a.place.clone(),
            starts_at: beijing_time(a.starts_at),
            ends_at: beijing_time(a.ends_at),
            starts_ts: ts(a.starts_at),
            ends_ts: ts(a.ends_at),
            capacity: a.capacity,
            signed_up: a.signed_up,
            waitlisted: waiting.get(&a.id).copied().unwrap_or(0),
            rule: rule_of(&a),
            geofence: fence_of(&a),
            organiser: organisers.get(&a.organiser_id).cloned().unwrap_or_default(),
            cancelled: a.status == ActivityStatus::Cancelled,
            over: a.status == ActivityStatus::Cancelled || a.ends_at <= Utc::now(),
            my_status,
            my_queue,
            my_attendance: attended.remove(&a.id),
            can_organise,
        });
    }
    Ok(out)
}

async fn queue_place(state: &State, s: &signup::Model) -> AppResult<i64> {
    let ahead = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(s.activity_id))
        .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
        .filter(
            Expr::col(signup::Column::QueuedAt)
                .lt(s.queued_at)
                .or(Expr::col(signup::Column::QueuedAt).eq(s.queued_at).and(Expr::col(signup::Column::Id).lt(s.id))),
        )
        .count(&state.db)
        .await?;
    Ok(ahead as i64 + 1)
}

async fn attendance_views(state: &State, rows: Vec<attendance::Model>, en: bool) -> AppResult<Vec<AttendanceView>> {
    let acts: HashMap<i64, activity::Model> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(rows.iter().map(|r| r.activity_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let people: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|r| r.user_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut out = vec![];
    for r in rows {
        let Some(a) = acts.get(&r.activity_id) else { continue };
        let person = people.get(&r.user_id);
        let preview = match (r.status, r.check_out_at) {
            (AttendanceStatus::Open, Some(out)) => {
                let (day, year) = periods(r.check_in_at);
                let used = used_minutes(&state.db, r.user_id, &day, &year).await?;
                Some(credit(&rule_of(a), ts(r.check_in_at), ts(out), (ts(a.starts_at), ts(a.ends_at)), used.0, used.1))
            }
            _ => None,
        };
        out.push(AttendanceView {
            id: r.id,
            activity_id: a.id,
            activity: a.title.clone(),
            date: periods(a.starts_at).0,
            person: person.map(|p| crate::support::people::name_of(p, en)).unwrap_or_default(),
            phone_masked: person.map(|p| masked(&p.phone)).unwrap_or_default(),
            check_in: beijing_time(r.check_in_at),
            check_out: r.check_out_at.map(beijing_time),
            in_input: local_input(r.check_in_at),
            out_input: local_input(r.check_out_at.unwrap_or(Ord::min(a.ends_at, Ord::max(Utc::now(), r.check_in_at)))),
            in_by_organiser: r.in_how == "organiser",
            out_by_organiser: r.out_how.as_deref() == Some("organiser"),
            in_distance_m: r.in_distance_m,
            confirmed: r.status == AttendanceStatus::Confirmed,
            credited_minutes: r.credited_minutes,
            points: r.points,
            capped_by: match r.capped_by.as_deref() {
                Some("day") => Some(Cap::Day),
                Some("year") => Some(Cap::Year),
                _ => None,
            },
            preview,
        });
    }
    Ok(out)
}

/// Activities a resident sees: those of their communities that have not
/// ended more than a week ago, soonest first, and those they organise.
pub async fn list_for(state: &State, user: &CurrentUser) -> AppResult<Vec<ActivityView>> {
    let ids = crate::org::visible_ids(state, user).await?;
    let since = Utc::now() - Duration::days(7);
    let rows = activity::Entity::find()
        .filter(activity::Column::CommunityId.is_in(ids).or(activity::Column::OrganiserId.eq(user.id)))
        .filter(activity::Column::EndsAt.gt(since))
        .order_by_asc(activity::Column::StartsAt)
        .limit(100)
        .all(&state.db)
        .await?;
    views(state, user, rows).await
}

/// Activities of the communities a staff member manages, newest first.
pub async fn staff_list(state: &State, staff: &CurrentUser) -> AppResult<Vec<ActivityView>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = activity::Entity::find()
        .filter(activity::Column::CommunityId.is_in(communities))
        .order_by_desc(activity::Column::StartsAt)
        .limit(100)
        .all(&state.db)
        .await?;
    views(state, staff, rows).await
}

pub async fn view(state: &State, user: &CurrentUser, id: i64) -> AppResult<ActivityView> {
    let a = visible(state, user, id).await?;
    views(state, user, vec![a]).await?.pop().ok_or_else(|| ErrorCode::NotFound.into())
}

// ------------------------------------------------------------------ sign up

fn reminder_key(id: i64) -> String {
    format!("volunteer:{id}:start")
}

async fn remind<C: ConnectionTrait>(conn: &C, user_id: i64, a: &activity::Model) -> AppResult<()> {
    notify::remind_before(
        conn,
        user_id,
        a.starts_at,
        &[Duration::hours(2)],
        Draft {
            kind: NotificationKind::ActivityStart,
            title: Msg::new("volunteer.starting.title").with("title", &a.title).encode(),
            body: Msg::new("volunteer.starting.body")
                .with("at", beijing_time(a.starts_at))
                .with("place", &a.place)
                .encode(),
            link: "/volunteer".into(),
            key: reminder_key(a.id),
        },
    )
    .await?;
    Ok(())
}

/// Signs a resident up: a seat when one is left, otherwise the waitlist.
/// Signing up twice changes nothing.
pub async fn sign_up(state: &State, user: &CurrentUser, id: i64) -> AppResult<SignupStatus> {
    let a = visible(state, user, id).await?;
    if a.status != ActivityStatus::Published || a.ends_at <= Utc::now() {
        return Err(ErrorCode::ActivityClosed.into());
    }
    let existing = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?;
    if let Some(s) = &existing {
        if s.status != SignupStatus::Withdrawn {
            return Ok(s.status);
        }
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let seat = activity::Entity::update_many()
        .col_expr(activity::Column::SignedUp, Expr::col(activity::Column::SignedUp).add(1))
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::Status.eq(domain::volunteer::ActivityStatus::Published))
        .filter(Expr::col(activity::Column::SignedUp).lt(Expr::col(activity::Column::Capacity)))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let status = if seat { SignupStatus::SignedUp } else { SignupStatus::Waitlisted };
    let written = match existing {
        Some(s) => {
            signup::Entity::update_many()
                .col_expr(signup::Column::Status, Expr::value(status.as_str()))
                .col_expr(signup::Column::QueuedAt, Expr::value(now))
                .col_expr(signup::Column::UpdatedAt, Expr::value(now))
                .filter(signup::Column::Id.eq(s.id))
                .filter(signup::Column::Status.eq(SignupStatus::Withdrawn))
                .exec(&txn)
                .await?
                .rows_affected
                == 1
        }
        None => matches!(
            signup::Entity::insert(signup::ActiveModel {
                activity_id: Set(id),
                user_id: Set(user.id),
                status: Set(status),
                queued_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .on_conflict_do_nothing_on([signup::Column::ActivityId, signup::Column::UserId])
            .exec(&txn)
            .await?,
            sea_orm::TryInsertResult::Inserted(_)
        ),
    };
    if !written {
        // the same person at the same moment (a double tap): the other request's answer stands
        drop(txn);
        let s = signup::Entity::find()
            .filter(signup::Column::ActivityId.eq(id))
            .filter(signup::Column::UserId.eq(user.id))
            .one(&state.db)
            .await?
            .ok_or(ErrorCode::Conflict)?;
        return Ok(s.status);
    }
    if seat {
        remind(&txn, user.id, &a).await?;
    }
    notify::put(
        &txn,
        user.id,
        Draft {
            kind: NotificationKind::MyRequests,
            title: Msg::new(if seat { "volunteer.signed.title" } else { "volunteer.waitlisted.title" })
                .with("title", &a.title)
                .encode(),
            body: Msg::new("volunteer.signed.body")
                .with("date", periods(a.starts_at).0)
                .with("place", &a.place)
                .encode(),
            link: format!("/volunteer#a{id}"),
            key: format!("volunteer:{id}:signed:{}", Utc::now().timestamp()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(status)
}

/// Withdraws a signup; a seat given up goes to the first on the waitlist.
pub async fn withdraw(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    let a = visible(state, user, id).await?;
    let s = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let was = s.status;
    if was == SignupStatus::Withdrawn {
        return Ok(());
    }
    let checked_in = attendance::Entity::find()
        .filter(attendance::Column::ActivityId.eq(id))
        .filter(attendance::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?
        .is_some();
    if checked_in {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let r = signup::Entity::update_many()
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::Withdrawn))
        .col_expr(signup::Column::UpdatedAt, Expr::value(now))
        .filter(signup::Column::Id.eq(s.id))
        .filter(signup::Column::Status.eq(was.as_str()))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Ok(()); // withdrawn at the same moment by another request
    }
    if was == SignupStatus::SignedUp {
        notify::cancel_reminders_before(&txn, user.id, &reminder_key(id), &[Duration::hours(2)]).await?;
        give_seat_on(&txn, &a, now).await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

/// A seat came free: the first on the waitlist takes it, or the count drops.
async fn give_seat_on<C: ConnectionTrait>(txn: &C, a: &activity::Model, now: DateTime<Utc>) -> AppResult<()> {
    for _ in 0..20 {
        let next = signup::Entity::find()
            .filter(signup::Column::ActivityId.eq(a.id))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
            .order_by_asc(signup::Column::QueuedAt)
            .order_by_asc(signup::Column::Id)
            .one(txn)
            .await?;
        let Some(next) = next else { break };
        let r = signup::Entity::update_many()
            .col_expr(signup::Column::Status, Expr::value(SignupStatus::SignedUp))
            .col_expr(signup::Column::UpdatedAt, Expr::value(now))
            .filter(signup::Column::Id.eq(next.id))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
            .exec(txn)
            .await?;
        if r.rows_affected == 1 {
            notify::put(
                txn,
                next.user_id,
                Draft {
                    kind: NotificationKind::ActivityStart,
                    title: Msg::new("volunteer.promoted.title").with("title", &a.title).encode(),
                    body: Msg::new("volunteer.promoted.body")
                        .with("at", beijing_time(a.starts_at))
                        .with("place", &a.place)
                        .encode(),
                    link: "/volunteer".into(),
                    key: format!("volunteer:{}:promoted", a.id),
                },
            )
            .await?;
            remind(txn, next.user_id, a).await?;
            return Ok(());
        }
    }
    activity::Entity::update_many()
        .col_expr(activity::Column::SignedUp, Expr::col(activity::Column::SignedUp).sub(1))
        .filter(activity::Column::Id.eq(a.id))
        .filter(activity::Column::SignedUp.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

// ------------------------------------------------------------------ on site
