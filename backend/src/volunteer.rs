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

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    payment::{format_receipt_code, normalize_receipt_code},
    points::EntryKind,
    volunteer::{
        code_window, credit, window_accepted, ActivityView, AttendanceView, Cap, Certificate, CertificateLine,
        CodeView, Credit, Direction, Geofence, HonourView, HoursRecord, HoursRule, OrganiseView, OrganiserRow,
        RosterRow, ScanView, SignupStatus,
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
    announcements::beijing_time,
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
    votes::local_input,
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
    let b = t.naive_utc() + Duration::hours(8);
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
    let c = crate::points::managed_community(state, staff, new.community_id).await?;
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
    let c = crate::points::managed_community(state, staff, community_id).await?;
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
    crate::points::managed_community(state, staff, community_id).await?;
    organiser::Entity::delete_by_id((community_id, user_id)).exec(&state.db).await?;
    Ok(())
}

/// Approved organisers of the staff member's communities.
pub async fn organisers(state: &State, staff: &CurrentUser) -> AppResult<Vec<OrganiserRow>> {
    let communities: HashMap<i64, String> =
        crate::appointments::staff_communities(state, staff).await?.into_iter().collect();
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
            name: people.get(&r.user_id).map(|u| u.name.clone()).unwrap_or_default(),
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
        status: Set("published".into()),
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
        .col_expr(activity::Column::Status, Expr::value("cancelled"))
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::Status.eq("published"))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    let people = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::Status.ne(SignupStatus::Withdrawn.as_str()))
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
    let day = (Utc::now().naive_utc() + Duration::hours(8)).date() + Duration::days(1);
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
        .filter(signup::Column::Status.eq(SignupStatus::Waitlisted.as_str()))
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
    let organisers: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|a| a.organiser_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
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
        attendance_views(state, attended).await?.into_iter().map(|v| (v.activity_id, v)).collect();
    let mut out = vec![];
    for a in rows {
        let my = mine.get(&a.id);
        let my_status = my.and_then(|s| SignupStatus::parse(&s.status));
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
            cancelled: a.status == "cancelled",
            over: a.status == "cancelled" || a.ends_at <= Utc::now(),
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
        .filter(signup::Column::Status.eq(SignupStatus::Waitlisted.as_str()))
        .filter(
            Expr::col(signup::Column::QueuedAt)
                .lt(s.queued_at)
                .or(Expr::col(signup::Column::QueuedAt).eq(s.queued_at).and(Expr::col(signup::Column::Id).lt(s.id))),
        )
        .count(&state.db)
        .await?;
    Ok(ahead as i64 + 1)
}

async fn attendance_views(state: &State, rows: Vec<attendance::Model>) -> AppResult<Vec<AttendanceView>> {
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
        let preview = match (r.status.as_str(), r.check_out_at) {
            ("open", Some(out)) => {
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
            person: person.map(|p| p.name.clone()).unwrap_or_default(),
            phone_masked: person.map(|p| masked(&p.phone)).unwrap_or_default(),
            check_in: beijing_time(r.check_in_at),
            check_out: r.check_out_at.map(beijing_time),
            in_input: local_input(r.check_in_at),
            out_input: local_input(r.check_out_at.unwrap_or(Ord::min(a.ends_at, Ord::max(Utc::now(), r.check_in_at)))),
            in_by_organiser: r.in_how == "organiser",
            out_by_organiser: r.out_how.as_deref() == Some("organiser"),
            in_distance_m: r.in_distance_m,
            confirmed: r.status == "confirmed",
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
        crate::appointments::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
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
    if a.status != "published" || a.ends_at <= Utc::now() {
        return Err(ErrorCode::ActivityClosed.into());
    }
    let existing = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?;
    if let Some(s) = &existing {
        if s.status != SignupStatus::Withdrawn.as_str() {
            return Ok(SignupStatus::parse(&s.status).unwrap_or(SignupStatus::SignedUp));
        }
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let seat = activity::Entity::update_many()
        .col_expr(activity::Column::SignedUp, Expr::col(activity::Column::SignedUp).add(1))
        .filter(activity::Column::Id.eq(id))
        .filter(activity::Column::Status.eq("published"))
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
                .filter(signup::Column::Status.eq(SignupStatus::Withdrawn.as_str()))
                .exec(&txn)
                .await?
                .rows_affected
                == 1
        }
        None => matches!(
            signup::Entity::insert(signup::ActiveModel {
                activity_id: Set(id),
                user_id: Set(user.id),
                status: Set(status.as_str().into()),
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
        return Ok(SignupStatus::parse(&s.status).unwrap_or(SignupStatus::SignedUp));
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
    let was = SignupStatus::parse(&s.status).ok_or(ErrorCode::NotFound)?;
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
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::Withdrawn.as_str()))
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
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted.as_str()))
            .order_by_asc(signup::Column::QueuedAt)
            .order_by_asc(signup::Column::Id)
            .one(txn)
            .await?;
        let Some(next) = next else { break };
        let r = signup::Entity::update_many()
            .col_expr(signup::Column::Status, Expr::value(SignupStatus::SignedUp.as_str()))
            .col_expr(signup::Column::UpdatedAt, Expr::value(now))
            .filter(signup::Column::Id.eq(next.id))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted.as_str()))
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

fn on_site_window(a: &activity::Model, now: DateTime<Utc>) -> AppResult<()> {
    if a.status != "published" || now > a.ends_at + Duration::minutes(LATE_MINUTES) {
        return Err(ErrorCode::ActivityClosed.into());
    }
    if now < a.starts_at - Duration::minutes(EARLY_MINUTES) {
        return Err(ErrorCode::CheckInNotOpen.into());
    }
    Ok(())
}

/// The address a code opens.
pub fn scan_url(state: &State, a: &activity::Model, dir: Direction, window: i64) -> AppResult<String> {
    Ok(format!(
        "{}/volunteer/scan?a={}&d={}&w={window}&s={}",
        state.config.public_url.trim_end_matches('/'),
        a.id,
        dir.as_str(),
        code_for(a, dir, window)?
    ))
}

/// The organiser's current code (it changes every 30 seconds).
pub async fn current_code(state: &State, user: &CurrentUser, id: i64, dir: Direction) -> AppResult<CodeView> {
    let a = organised(state, user, id).await?;
    let now = Utc::now();
    on_site_window(&a, now)?;
    let window = code_window(now.timestamp(), CODE_PERIOD);
    let url = scan_url(state, &a, dir, window)?;
    Ok(CodeView {
        direction: dir,
        svg: crate::appointments::qr_svg(&url)?,
        url,
        seconds_left: (window + 1) * CODE_PERIOD - now.timestamp(),
    })
}

/// A volunteer opened a scanned code: if it is current, a ticket for the
/// one-tap confirmation. Nothing is recorded yet (opening a link changes
/// nothing).
pub async fn scan(
    state: &State,
    user: &CurrentUser,
    id: i64,
    dir: Direction,
    window: i64,
    code: &str,
) -> AppResult<ScanView> {
    let a = activity::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let now = Utc::now();
    if !same(&code_for(&a, dir, window)?, code.trim()) {
        return Err(ErrorCode::NotFound.into());
    }
    if !window_accepted(window, code_window(now.timestamp(), CODE_PERIOD)) {
        return Err(ErrorCode::QrExpired.into());
    }
    on_site_window(&a, now)?;
    let at = now.timestamp();
    let ticket = ticket_for(&a, user.id, dir, at)?;
    let activity = views(state, user, vec![a]).await?.pop().ok_or(ErrorCode::NotFound)?;
    Ok(ScanView { activity, direction: dir, at, ticket })
}

/// A position the browser reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fix {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: f64,
}

/// The one-tap confirmation after a scan: checks in or out at the time of
/// the scan. Checking in twice keeps the first; checking out again moves
/// the check-out time (until the organiser confirms).
pub async fn check(
    state: &State,
    user: &CurrentUser,
    id: i64,
    dir: Direction,
    scanned_at: i64,
    ticket: &str,
    fix: Option<Fix>,
) -> AppResult<AttendanceView> {
    let a = activity::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let now = Utc::now();
    if !same(&ticket_for(&a, user.id, dir, scanned_at)?, ticket.trim()) {
        return Err(ErrorCode::NotFound.into());
    }
    if now.timestamp() - scanned_at > TICKET_SECONDS || scanned_at > now.timestamp() + 5 {
        return Err(ErrorCode::QrExpired.into());
    }
    on_site_window(&a, now)?;
    let distance = match fence_of(&a) {
        None => None,
        Some(fence) => {
            let fix = fix.ok_or(ErrorCode::LocationRequired)?;
            let (ok, d) = fence.admits(fix.lat, fix.lng, fix.accuracy_m);
            if !ok {
                return Err(ErrorCode::OutsideGeofence.into());
            }
            Some(d)
        }
    };
    let s = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?;
    if s.map(|s| s.status) != Some(SignupStatus::SignedUp.as_str().into()) {
        return Err(ErrorCode::NotSignedUp.into());
    }
    record_check(state, &a, user.id, dir, at(scanned_at)?, "qr", distance).await
}

async fn record_check(
    state: &State,
    a: &activity::Model,
    user_id: i64,
    dir: Direction,
    when: DateTime<Utc>,
    how: &str,
    distance: Option<i64>,
) -> AppResult<AttendanceView> {
    match dir {
        Direction::In => {
            attendance::Entity::insert(attendance::ActiveModel {
                activity_id: Set(a.id),
                user_id: Set(user_id),
                check_in_at: Set(when),
                in_how: Set(how.into()),
                in_distance_m: Set(distance),
                status: Set("open".into()),
                ..Default::default()
            })
            .on_conflict_do_nothing_on([attendance::Column::ActivityId, attendance::Column::UserId])
            .exec_without_returning(&state.db)
            .await?;
        }
        Direction::Out => {
            let r = attendance::Entity::update_many()
                .col_expr(attendance::Column::CheckOutAt, Expr::value(when))
                .col_expr(attendance::Column::OutHow, Expr::value(how))
                .col_expr(attendance::Column::OutDistanceM, Expr::value(distance))
                .filter(attendance::Column::ActivityId.eq(a.id))
                .filter(attendance::Column::UserId.eq(user_id))
                .filter(attendance::Column::Status.eq("open"))
                .filter(attendance::Column::CheckInAt.lte(when))
                .exec(&state.db)
                .await?;
            if r.rows_affected != 1 {
                let row = find_attendance(state, a.id, user_id).await?;
                return Err(match row {
                    Some(r) if r.status == "confirmed" => ErrorCode::AlreadyDecided.into(),
                    _ => ErrorCode::NotCheckedIn.into(),
                });
            }
        }
    }
    let row = find_attendance(state, a.id, user_id).await?.ok_or(ErrorCode::NotCheckedIn)?;
    attendance_views(state, vec![row]).await?.pop().ok_or_else(|| ErrorCode::NotFound.into())
}

async fn find_attendance(state: &State, activity_id: i64, user_id: i64) -> AppResult<Option<attendance::Model>> {
    Ok(attendance::Entity::find()
        .filter(attendance::Column::ActivityId.eq(activity_id))
        .filter(attendance::Column::UserId.eq(user_id))
        .one(&state.db)
        .await?)
}

/// The organiser checks someone in or out by phone number (no phone, a dead
/// battery, a walk-in): recorded as done by the organiser.
pub async fn organiser_check(
    state: &State,
    organiser: &CurrentUser,
    id: i64,
    phone: &str,
    dir: Direction,
) -> AppResult<AttendanceView> {
    let a = organised(state, organiser, id).await?;
    let now = Utc::now();
    on_site_window(&a, now)?;
    let u = user_by_phone(state, phone).await?;
    record_check(state, &a, u.id, dir, now, "organiser", None).await
}

// ------------------------------------------------------------------ hours

/// The organiser corrects an attendance's times before confirming it.
pub async fn correct(
    state: &State,
    organiser: &CurrentUser,
    attendance_id: i64,
    check_in: &str,
    check_out: &str,
) -> AppResult<()> {
    let row = attendance::Entity::find_by_id(attendance_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let a = organised(state, organiser, row.activity_id).await?;
    let parse = |s: &str| domain::text::parse_beijing_local(s).ok_or(ErrorCode::InvalidTime);
    let (i, o) = (parse(check_in)?, parse(check_out)?);
    let slack = 86_400;
    if o < i || i < ts(a.starts_at) - slack || o > ts(a.ends_at) + slack {
        return Err(ErrorCode::InvalidTime.into());
    }
    let r = attendance::Entity::update_many()
        .col_expr(attendance::Column::CheckInAt, Expr::value(at(i)?))
        .col_expr(attendance::Column::CheckOutAt, Expr::value(at(o)?))
        .col_expr(attendance::Column::OutHow, Expr::value(row.out_how.clone().unwrap_or_else(|| "organiser".into())))
        .col_expr(attendance::Column::CorrectedBy, Expr::value(organiser.id))
        .filter(attendance::Column::Id.eq(attendance_id))
        .filter(attendance::Column::Status.eq("open"))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    Ok(())
}

async fn used_minutes<C: ConnectionTrait>(conn: &C, user_id: i64, day: &str, year: &str) -> AppResult<(i64, i64)> {
    let rows = total::Entity::find()
        .filter(total::Column::UserId.eq(user_id))
        .filter(total::Column::Period.is_in([day.to_string(), year.to_string()]))
        .all(conn)
        .await?;
    let get = |p: &str| rows.iter().find(|r| r.period == p).map(|r| r.minutes).unwrap_or(0);
    Ok((get(day), get(year)))
}

/// Makes sure a total's row exists (a write: on SQLite it also takes the
/// write lock first, so the reads that follow cannot go stale).
async fn ensure_total<C: ConnectionTrait>(conn: &C, user_id: i64, period: &str) -> AppResult<()> {
    total::Entity::insert(total::ActiveModel { user_id: Set(user_id), period: Set(period.into()), minutes: Set(0) })
        .on_conflict_do_nothing_on([total::Column::UserId, total::Column::Period])
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Advances a total from `from` to `from + add`, only if it still is `from`.
async fn advance<C: ConnectionTrait>(conn: &C, user_id: i64, period: &str, from: i64, add: i64) -> AppResult<bool> {
    let r = total::Entity::update_many()
        .col_expr(total::Column::Minutes, Expr::col(total::Column::Minutes).add(add))
        .filter(total::Column::UserId.eq(user_id))
        .filter(total::Column::Period.eq(period))
        .filter(total::Column::Minutes.eq(from))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The organiser confirms an attendance: the hours are credited under the
/// activity's rule and caps, and its points posted (once).
pub async fn confirm(state: &State, organiser: &CurrentUser, attendance_id: i64) -> AppResult<Credit> {
    let row = attendance::Entity::find_by_id(attendance_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let a = organised(state, organiser, row.activity_id).await?;
    for _ in 0..10 {
        let row = attendance::Entity::find_by_id(attendance_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        if row.status != "open" {
            return Err(ErrorCode::AlreadyDecided.into());
        }
        let out = row.check_out_at.ok_or(ErrorCode::NotCheckedOut)?;
        let (day, year) = periods(row.check_in_at);
        let txn = state.db.begin().await?;
        ensure_total(&txn, row.user_id, &day).await?;
        ensure_total(&txn, row.user_id, &year).await?;
        let (used_day, used_year) = used_minutes(&txn, row.user_id, &day, &year).await?;
        let rule = rule_of(&a);
        let c = credit(&rule, ts(row.check_in_at), ts(out), (ts(a.starts_at), ts(a.ends_at)), used_day, used_year);
        if c.credited_minutes > 0
            && !(advance(&txn, row.user_id, &day, used_day, c.credited_minutes).await?
                && advance(&txn, row.user_id, &year, used_year, c.credited_minutes).await?)
        {
            // another confirmation for this person moved the totals: count again
            drop(txn);
            continue;
        }
        let entry = if c.points > 0 {
            post(
                &txn,
                Posting {
                    user_id: row.user_id,
                    kind: EntryKind::Service,
                    points: c.points,
                    key: format!("service:{}", row.id),
                    reason: &Msg::new("ledger.service")
                        .with("title", &a.title)
                        .with("minutes", c.credited_minutes)
                        .encode(),
                    community_id: Some(a.community_id),
                    by: Some(organiser.id),
                    reverses: None,
                },
            )
            .await?
        } else {
            None
        };
        let r = attendance::Entity::update_many()
            .col_expr(attendance::Column::Status, Expr::value("confirmed"))
            .col_expr(attendance::Column::CreditedMinutes, Expr::value(c.credited_minutes))
            .col_expr(attendance::Column::Points, Expr::value(c.points))
            .col_expr(
                attendance::Column::CappedBy,
                Expr::value(c.capped_by.map(|cap| if cap == Cap::Day { "day" } else { "year" })),
            )
            .col_expr(attendance::Column::EntryId, Expr::value(entry))
            .col_expr(attendance::Column::ConfirmedBy, Expr::value(organiser.id))
            .col_expr(attendance::Column::ConfirmedAt, Expr::value(Utc::now()))
            .filter(attendance::Column::Id.eq(row.id))
            .filter(attendance::Column::Status.eq("open"))
            .exec(&txn)
            .await?;
        if r.rows_affected != 1 {
            return Err(ErrorCode::AlreadyDecided.into());
        }
        notify::put(
            &txn,
            row.user_id,
            Draft {
                kind: NotificationKind::System,
                title: Msg::new("volunteer.confirmed.title").with("title", &a.title).encode(),
                body: if c.points > 0 {
                    Msg::new("volunteer.confirmed.body")
                        .with("minutes", c.credited_minutes)
                        .with("points", c.points)
                        .encode()
                } else {
                    Msg::new("volunteer.confirmed.body_no_points").with("minutes", c.credited_minutes).encode()
                },
                link: "/volunteer".into(),
                key: format!("volunteer:confirmed:{}", row.id),
            },
        )
        .await?;
        txn.commit().await?;
        state.jobs.kick();
        return Ok(c);
    }
    Err(ErrorCode::Conflict.into())
}

/// Confirms every checked-out attendance of an activity; returns how many.
pub async fn confirm_all(state: &State, organiser: &CurrentUser, id: i64) -> AppResult<usize> {
    organised(state, organiser, id).await?;
    let rows = attendance::Entity::find()
        .filter(attendance::Column::ActivityId.eq(id))
        .filter(attendance::Column::Status.eq("open"))
        .filter(attendance::Column::CheckOutAt.is_not_null())
        .all(&state.db)
        .await?;
    let mut n = 0;
    for r in rows {
        match confirm(state, organiser, r.id).await {
            Ok(_) => n += 1,
            Err(e) if e.code == ErrorCode::AlreadyDecided => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What the organiser's phone shows.
pub async fn organise(state: &State, user: &CurrentUser, id: i64) -> AppResult<OrganiseView> {
    let a = organised(state, user, id).await?;
    let signups = signup::Entity::find()
        .filter(signup::Column::ActivityId.eq(id))
        .filter(signup::Column::Status.ne(SignupStatus::Withdrawn.as_str()))
        .order_by_asc(signup::Column::QueuedAt)
        .order_by_asc(signup::Column::Id)
        .all(&state.db)
        .await?;
    let rows = attendance::Entity::find()
        .filter(attendance::Column::ActivityId.eq(id))
        .order_by_asc(attendance::Column::CheckInAt)
        .all(&state.db)
        .await?;
    let present: std::collections::HashSet<i64> = rows.iter().map(|r| r.user_id).collect();
    let people: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(signups.iter().map(|s| s.user_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut queue = 0;
    let roster = signups
        .iter()
        .map(|s| {
            let status = SignupStatus::parse(&s.status).unwrap_or(SignupStatus::SignedUp);
            let place = (status == SignupStatus::Waitlisted).then(|| {
                queue += 1;
                queue
            });
            let p = people.get(&s.user_id);
            RosterRow {
                name: p.map(|p| p.name.clone()).unwrap_or_default(),
                phone_masked: p.map(|p| masked(&p.phone)).unwrap_or_default(),
                status,
                queue: place,
                checked_in: present.contains(&s.user_id),
            }
        })
        .collect();
    let attendances = attendance_views(state, rows).await?;
    let activity = views(state, user, vec![a]).await?.pop().ok_or(ErrorCode::NotFound)?;
    Ok(OrganiseView { activity, roster, attendances })
}

// ------------------------------------------------------------------ record

/// Staff record honour hours (荣誉时长): kept on the record, never points.
pub async fn add_honour(state: &State, staff: &CurrentUser, phone: &str, hours: &str, reason: &str) -> AppResult<()> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let minutes = domain::volunteer::parse_hours(hours)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    let u = user_by_phone(state, phone).await?;
    let community = crate::points::community_of(state, staff, u.id).await?;
    honour_hour::Entity::insert(honour_hour::ActiveModel {
        user_id: Set(u.id),
        community_id: Set(community),
        minutes: Set(minutes),
        reason: Set(reason.chars().take(200).collect()),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(())
}

/// A person's confirmed service and honour hours.
pub async fn record(state: &State, user_id: i64) -> AppResult<HoursRecord> {
    let rows = attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user_id))
        .order_by_desc(attendance::Column::CheckInAt)
        .all(&state.db)
        .await?;
    let attendances = attendance_views(state, rows).await?;
    let honour: Vec<HonourView> = honour_hour::Entity::find()
        .filter(honour_hour::Column::UserId.eq(user_id))
        .order_by_desc(honour_hour::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|h| HonourView { minutes: h.minutes, reason: h.reason, date: periods(h.created_at).0 })
        .collect();
    Ok(HoursRecord {
        service_minutes: attendances.iter().filter_map(|a| a.credited_minutes).sum(),
        honour_minutes: honour.iter().map(|h| h.minutes).sum(),
        service_points: attendances.iter().filter_map(|a| a.points).sum(),
        attendances,
        honour,
    })
}

/// Staff look up a person's record.
pub async fn staff_record(state: &State, staff: &CurrentUser, phone: &str) -> AppResult<(String, String, HoursRecord)> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let u = user_by_phone(state, phone).await?;
    crate::points::community_of(state, staff, u.id).await?;
    Ok((u.name.clone(), masked(&u.phone), record(state, u.id).await?))
}

/// Issues a certificate of the person's record as it stands; asking again
/// with nothing new returns the same certificate.
pub async fn issue_certificate(state: &State, user: &CurrentUser) -> AppResult<String> {
    let r = record(state, user.id).await?;
    if r.service_minutes + r.honour_minutes == 0 {
        return Err(ErrorCode::NotFound.into());
    }
    let u = user::Entity::find_by_id(user.id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let mut lines: Vec<CertificateLine> = r
        .attendances
        .iter()
        .filter(|a| a.confirmed && a.credited_minutes.unwrap_or(0) > 0)
        .map(|a| CertificateLine {
            date: a.date.clone(),
            title: a.activity.clone(),
            minutes: a.credited_minutes.unwrap_or(0),
            honour: false,
        })
        .collect();
    lines.extend(r.honour.iter().map(|h| CertificateLine {
        date: h.date.clone(),
        title: h.reason.clone(),
        minutes: h.minutes,
        honour: true,
    }));
    lines.sort_by(|a, b| a.date.cmp(&b.date));
    let ids: Vec<i64> = attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user.id))
        .filter(attendance::Column::Status.eq("confirmed"))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let mut community_ids: Vec<i64> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| a.community_id)
        .collect();
    community_ids.extend(
        honour_hour::Entity::find()
            .filter(honour_hour::Column::UserId.eq(user.id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|h| h.community_id),
    );
    community_ids.sort_unstable();
    community_ids.dedup();
    let communities: Vec<String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(community_ids))
        .order_by_asc(org_unit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let now = Utc::now();
    let mut cert = Certificate {
        code: String::new(),
        name: u.name,
        communities,
        service_minutes: r.service_minutes,
        honour_minutes: r.honour_minutes,
        lines,
        issued_at: beijing_time(now),
    };
    if let Some(last) = certificate::Entity::find()
        .filter(certificate::Column::UserId.eq(user.id))
        .order_by_desc(certificate::Column::Id)
        .one(&state.db)
        .await?
    {
        if let Ok(prev) = serde_json::from_str::<Certificate>(&last.body) {
            let bare = |c: &Certificate| Certificate { code: String::new(), issued_at: String::new(), ..c.clone() };
            if bare(&prev) == bare(&cert) {
                return Ok(format_receipt_code(&last.code));
            }
        }
    }
    let code = crate::payments::new_receipt_code();
    cert.code = format_receipt_code(&code);
    certificate::Entity::insert(certificate::ActiveModel {
        user_id: Set(user.id),
        code: Set(code),
        body: Set(serde_json::to_string(&cert).map_err(AppError::internal)?),
        issued_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(cert.code)
}

/// A certificate by its code (anyone with the code may check it).
pub async fn certificate(state: &State, code: &str) -> AppResult<Certificate> {
    let code = normalize_receipt_code(code).ok_or(ErrorCode::NotFound)?;
    let row = certificate::Entity::find()
        .filter(certificate::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    serde_json::from_str(&row.body).map_err(AppError::internal)
}
