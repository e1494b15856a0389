//! 预约 (appointments): staff define service items with opening hours and
//! closures; slots are made from them for the booking window; residents
//! book, cancel, move and queue for seats; staff run the desk.
//!
//! Capacity is kept by the database (rules.md §2): taking a seat is
//!
//! ```sql
//! UPDATE slots SET booked = booked + 1
//!  WHERE id = ? AND status = 'open' AND booked < capacity
//! ```
//!
//! in the same transaction as the booking row, and a CHECK keeps `booked`
//! within `0..=capacity`. Every status change is a compare-and-swap on the
//! old status. Every write transaction begins with a write, so SQLite takes
//! its write lock at once (waiting on the busy timeout) instead of failing
//! to upgrade a read lock, and PostgreSQL locks rows in one order: slot,
//! then household or user.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use domain::msg::Msg;
use domain::{
    appointment::{
        beijing_at, beijing_date, Audience, BookingStatus, BookingView, Closure, ClosureView, DayView, DeskMark,
        HoursRule, ItemSettings, ItemView, Policy, QueueEntry, QuotaPeriod, SlotView, StaffSlot, CODE_ALPHABET,
    },
    notify::NotificationKind,
    ErrorCode, OrgLevel, OrgPath,
};
use rand::Rng;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{
        booking, building, dwelling, household, org_unit, residence, service_closure, service_hours, service_item,
        slot, user, waitlist,
    },
    error::{AppError, AppResult},
    jobs::{self, JobKind, NewJob},
    notify::{self, Draft},
    State,
};

/// Reminders before an appointment.
pub const REMIND_LEADS: [i64; 2] = [24 * 60, 60];

fn leads() -> Vec<Duration> {
    REMIND_LEADS.iter().map(|m| Duration::minutes(*m)).collect()
}

fn hhmm(t: DateTime<Utc>) -> String {
    t.with_timezone(&domain::appointment::beijing()).format("%H:%M").to_string()
}

fn beijing_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&domain::appointment::beijing()).format("%Y-%m-%d %H:%M").to_string()
}

fn policy_of(i: &service_item::Model) -> Policy {
    Policy {
        audience: Audience::parse(&i.audience).unwrap_or(Audience::Verified),
        book_notice_minutes: i.book_notice_minutes,
        cancel_notice_minutes: i.cancel_notice_minutes,
        window_days: i.window_days,
        quota: match (i.quota_count, i.quota_period.as_deref().and_then(QuotaPeriod::parse)) {
            (Some(c), Some(p)) => Some((c, p)),
            _ => None,
        },
        no_show_limit: i.no_show_limit,
        offer_minutes: i.offer_minutes,
    }
}

fn hours_of(h: &service_hours::Model) -> Option<HoursRule> {
    let t = |m: i32| NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0);
    Some(HoursRule {
        weekdays: h.weekdays.split(',').filter_map(|d| d.parse().ok()).collect(),
        start: t(h.start_minute)?,
        end: t(h.end_minute)?,
        slot_minutes: h.slot_minutes,
        capacity: h.capacity,
    })
}

fn minute_of(t: NaiveTime) -> i32 {
    (t.hour() * 60 + t.minute()) as i32
}

fn holding() -> Vec<&'static str> {
    BookingStatus::HOLDING.iter().map(|s| s.as_str()).collect()
}

fn new_code() -> String {
    let mut rng = rand::thread_rng();
    (0..8).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect()
}

async fn community(state: &State, id: i64) -> AppResult<org_unit::Model> {
    Ok(org_unit::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?)
}

fn path_of(o: &org_unit::Model) -> AppResult<OrgPath> {
    OrgPath::parse(&o.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path {}", o.path)))
}

async fn item_row(state: &State, id: i64) -> AppResult<service_item::Model> {
    Ok(service_item::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?)
}

/// The item, if the staff member manages its community (otherwise it does not exist for them).
async fn managed_item(state: &State, staff: &CurrentUser, id: i64) -> AppResult<service_item::Model> {
    let item = item_row(state, id).await?;
    let c = community(state, item.org_unit_id).await?;
    if !staff.can_manage(&path_of(&c)?) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(item)
}

/// An item's opening hours in force, oldest first.
async fn active_hours(state: &State, item_id: i64) -> AppResult<Vec<service_hours::Model>> {
    Ok(service_hours::Entity::find()
        .filter(service_hours::Column::ItemId.eq(item_id))
        .filter(service_hours::Column::Active.eq(true))
        .order_by_asc(service_hours::Column::Id)
        .all(&state.db)
        .await?)
}

async fn view_of(state: &State, i: service_item::Model) -> AppResult<ItemView> {
    let c = community(state, i.org_unit_id).await?;
    let hours = active_hours(state, i.id).await?.iter().filter_map(hours_of).collect();
    Ok(ItemView {
        id: i.id,
        community_id: c.id,
        community: c.name,
        policy: policy_of(&i),
        name: i.name,
        guide: i.guide,
        place: i.place,
        duration_minutes: i.duration_minutes,
        active: i.active,
        hours,
    })
}

/// Today in Beijing.
pub fn today() -> NaiveDate {
    beijing_date(Utc::now())
}

// ---------------------------------------------------------------- residents

/// Items a person may look at: those of the communities they belong to,
/// and everywhere the ones open to anyone.
pub async fn items_for(state: &State, user: &CurrentUser) -> AppResult<Vec<ItemView>> {
    let visible = crate::org::visible_ids(state, user).await?;
    let rows = service_item::Entity::find()
        .filter(service_item::Column::Active.eq(true))
        .filter(
            service_item::Column::OrgUnitId
                .is_in(visible)
                .or(service_item::Column::Audience.eq(Audience::Anyone.as_str())),
        )
        .order_by_asc(service_item::Column::OrgUnitId)
        .order_by_asc(service_item::Column::Id)
        .all(&state.db)
        .await?;
    views_of(state, rows).await
}

async fn views_of(state: &State, rows: Vec<service_item::Model>) -> AppResult<Vec<ItemView>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view_of(state, r).await?);
    }
    Ok(out)
}

pub async fn item(state: &State, user: &CurrentUser, id: i64) -> AppResult<ItemView> {
    let i = visible_item(state, user, id).await?;
    view_of(state, i).await
}

/// The item, if this person may look at it (as `items_for`: open to anyone,
/// or of a community they belong to); otherwise it does not exist for them.
async fn visible_item(state: &State, user: &CurrentUser, id: i64) -> AppResult<service_item::Model> {
    let i = item_row(state, id).await?;
    if i.audience == Audience::Anyone.as_str() || crate::org::visible_ids(state, user).await?.contains(&i.org_unit_id) {
        Ok(i)
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// The household a person has in a community (approved residence), if any.
pub async fn household_in<C: ConnectionTrait>(conn: &C, user_id: i64, community_id: i64) -> AppResult<Option<i64>> {
    let rows = residence::Entity::find()
        .filter(residence::Column::UserId.eq(user_id))
        .filter(residence::Column::Status.eq("approved"))
        .order_by_asc(residence::Column::Id)
        .all(conn)
        .await?;
    for r in rows {
        let Some(d) = dwelling::Entity::find_by_id(r.dwelling_id).one(conn).await? else { continue };
        let Some(b) = building::Entity::find_by_id(d.building_id).one(conn).await? else { continue };
        if b.community_id != community_id {
            continue;
        }
        if let Some(h) = household::Entity::find().filter(household::Column::DwellingId.eq(d.id)).one(conn).await? {
            return Ok(Some(h.id));
        }
    }
    Ok(None)
}

/// No-shows of a person in the last 90 days.
pub async fn no_shows(conn: &impl ConnectionTrait, user_id: i64) -> AppResult<i32> {
    let n = booking::Entity::find()
        .filter(booking::Column::UserId.eq(user_id))
        .filter(booking::Column::Status.eq(BookingStatus::NoShow.as_str()))
        .filter(booking::Column::StartsAt.gt(Utc::now() - Duration::days(90)))
        .count(conn)
        .await?;
    Ok(n as i32)
}

/// Who a booking is for: the person, and their household in the item's community.
struct Booker {
    user_id: i64,
    household_id: Option<i64>,
}

/// Everything that can be decided before taking a seat: the person may book
/// this item at all, and this slot now.
async fn admit(
    state: &State,
    user: &CurrentUser,
    item: &service_item::Model,
    s: &slot::Model,
    now: DateTime<Utc>,
) -> AppResult<Booker> {
    let policy = policy_of(item);
    if !item.active {
        return Err(ErrorCode::SlotClosed.into());
    }
    if s.status != "open" {
        return Err(ErrorCode::SlotClosed.into());
    }
    policy.check_book(now, s.starts_at)?;
    let household_id = household_in(&state.db, user.id, item.org_unit_id).await?;
    if policy.audience.needs_residence() && household_id.is_none() {
        return Err(ErrorCode::NotVerified.into());
    }
    if let Some(limit) = policy.no_show_limit {
        if no_shows(&state.db, user.id).await? >= limit {
            return Err(ErrorCode::NoShowLimit.into());
        }
    }
    Ok(Booker { user_id: user.id, household_id })
}

/// Inside a booking transaction, after the seat is taken: serialises the
/// household's (or person's) bookings and checks the quota, leaving out
/// `except` (the booking being moved).
async fn check_quota<C: ConnectionTrait>(
    txn: &C,
    item: &service_item::Model,
    who: &Booker,
    starts_at: DateTime<Utc>,
    except: Option<i64>,
) -> AppResult<()> {
    let policy = policy_of(item);
    let Some((count, period)) = policy.effective_quota() else { return Ok(()) };
    // take the row lock that orders concurrent bookings of one household/person
    let mut q = booking::Entity::find()
        .filter(booking::Column::ItemId.eq(item.id))
        .filter(booking::Column::Status.is_in(holding()));
    match (policy.per_household(), who.household_id) {
        (true, Some(h)) => {
            household::Entity::update_many()
                .col_expr(household::Column::Members, Expr::col(household::Column::Members))
                .filter(household::Column::Id.eq(h))
                .exec(txn)
                .await?;
            q = q.filter(booking::Column::HouseholdId.eq(h));
        }
        _ => {
            user::Entity::update_many()
                .col_expr(user::Column::Active, Expr::col(user::Column::Active))
                .filter(user::Column::Id.eq(who.user_id))
                .exec(txn)
                .await?;
            q = q.filter(booking::Column::UserId.eq(who.user_id));
        }
    }
    let (from, to) = period.bounds(starts_at);
    q = q.filter(booking::Column::StartsAt.gte(from)).filter(booking::Column::StartsAt.lt(to));
    if let Some(id) = except {
        q = q.filter(booking::Column::Id.ne(id));
    }
    if q.count(txn).await? >= count as u64 {
        return Err(ErrorCode::QuotaReached.into());
    }
    Ok(())
}

/// Locks a slot's row before touching its bookings, so every transaction
/// takes slot, then booking rows, in that order (no deadlocks between a
/// cancellation and a closure on PostgreSQL; SQLite's write lock at once).
async fn lock_slot<C: ConnectionTrait>(txn: &C, slot_id: i64) -> AppResult<()> {
    slot::Entity::update_many()
        .col_expr(slot::Column::Booked, Expr::col(slot::Column::Booked))
        .filter(slot::Column::Id.eq(slot_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Takes one seat of an open slot, or says why not.
async fn take_seat<C: ConnectionTrait>(txn: &C, slot_id: i64) -> AppResult<()> {
    let r = slot::Entity::update_many()
        .col_expr(slot::Column::Booked, Expr::col(slot::Column::Booked).add(1))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(slot::Column::Status.eq("open"))
        .filter(Expr::col(slot::Column::Booked).lt(Expr::col(slot::Column::Capacity)))
        .exec(txn)
        .await?;
    if r.rows_affected == 1 {
        return Ok(());
    }
    let s = slot::Entity::find_by_id(slot_id).one(txn).await?.ok_or(ErrorCode::NotFound)?;
    Err(if s.status != "open" { ErrorCode::SlotClosed } else { ErrorCode::SlotFull }.into())
}

fn reminder_key(booking_id: i64) -> String {
    format!("booking:{booking_id}")
}

async fn set_reminders<C: ConnectionTrait>(
    txn: &C,
    b: &booking::Model,
    item: &service_item::Model,
    s: &slot::Model,
) -> AppResult<()> {
    // what, when, where and the code: in the reminders and in the inbox at once
    let body = Msg::new("booking.booked.body")
        .with("date", beijing_date(s.starts_at).format("%Y-%m-%d"))
        .with("start", hhmm(s.starts_at))
        .with("end", hhmm(s.ends_at))
        .with("place", &item.place)
        .with("code", &b.code)
        .encode();
    notify::remind_before(
        txn,
        b.user_id,
        s.starts_at,
        &leads(),
        Draft {
            kind: NotificationKind::AppointmentReminder,
            title: Msg::new("booking.reminder.title").with("item", &item.name).encode(),
            body: body.clone(),
            link: format!("/appointments/bookings/{}", b.id),
            key: reminder_key(b.id),
        },
    )
    .await?;
    notify::put(
        txn,
        b.user_id,
        Draft {
            kind: NotificationKind::MyRequests,
            title: Msg::new("booking.booked.title").with("item", &item.name).encode(),
            body,
            link: format!("/appointments/bookings/{}", b.id),
            key: format!("booking:{}:booked", b.id),
        },
    )
    .await?;
    Ok(())
}

async fn insert_booking<C: ConnectionTrait>(
    txn: &C,
    s: &slot::Model,
    who: &Booker,
    status: BookingStatus,
    offer_expires_at: Option<DateTime<Utc>>,
) -> AppResult<booking::Model> {
    let now = Utc::now();
    Ok(booking::ActiveModel {
        slot_id: Set(s.id),
        item_id: Set(s.item_id),
        user_id: Set(who.user_id),
        household_id: Set(who.household_id),
        code: Set(new_code()),
        status: Set(status.as_str().into()),
        starts_at: Set(s.starts_at),
        offer_expires_at: Set(offer_expires_at),
        created_at: Set(now),
        updated_at: Set(now),
        changed_by: Set(None),
        cancel_reason: Set(None),
        rescheduled_to: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// The person's seat-holding booking of a slot, if any.
async fn holding_booking(state: &State, user_id: i64, slot_id: i64) -> AppResult<Option<booking::Model>> {
    Ok(booking::Entity::find()
        .filter(booking::Column::SlotId.eq(slot_id))
        .filter(booking::Column::UserId.eq(user_id))
        .filter(booking::Column::Status.is_in(holding()))
        .one(&state.db)
        .await?)
}

/// Books a seat. Booking a slot one already holds answers with that booking
/// (a double submit books once).
pub async fn book(state: &State, user: &CurrentUser, slot_id: i64) -> AppResult<i64> {
    book_keyed(state, user, slot_id, None).await
}

/// The answer saved under an idempotency key for a booking.
pub fn keyed_answer(booking_id: i64) -> String {
    serde_json::json!({ "booking_id": booking_id }).to_string()
}

/// `book`, with the answer saved under the request's idempotency key in the
/// booking's own transaction (see `idempotency`).
pub async fn book_keyed(
    state: &State,
    user: &CurrentUser,
    slot_id: i64,
    keyed: Option<&crate::idempotency::Keyed>,
) -> AppResult<i64> {
    let s = slot::Entity::find_by_id(slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if let Some(b) = holding_booking(state, user.id, slot_id).await? {
        if let Some(k) = keyed {
            crate::idempotency::finish(&state.db, k, 201, &keyed_answer(b.id)).await?;
        }
        return Ok(b.id);
    }
    let item = item_row(state, s.item_id).await?;
    let now = Utc::now();
    let who = admit(state, user, &item, &s, now).await?;
    let txn = state.db.begin().await?;
    take_seat(&txn, s.id).await?;
    check_quota(&txn, &item, &who, s.starts_at, None).await?;
    let b = match insert_booking(&txn, &s, &who, BookingStatus::Booked, None).await {
        Ok(b) => b,
        Err(e) if is_unique(&e) => {
            txn.rollback().await?;
            return holding_booking(state, user.id, slot_id).await?.map(|b| b.id).ok_or(e);
        }
        Err(e) => return Err(e),
    };
    set_reminders(&txn, &b, &item, &s).await?;
    if let Some(k) = keyed {
        crate::idempotency::finish(&txn, k, 201, &keyed_answer(b.id)).await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    tracing::info!(booking = b.id, slot = s.id, "booked");
    Ok(b.id)
}

fn is_unique(e: &AppError) -> bool {
    e.cause
        .as_ref()
        .and_then(|c| c.downcast_ref::<sea_orm::DbErr>())
        .map(crate::db::is_unique_violation)
        .unwrap_or(false)
}

/// A seat was given back: the next person on the waiting list is offered it
/// for a limited time (the seat stays held for them); with nobody waiting
/// (or the slot closed or begun) it is freed.
async fn release_seat<C: ConnectionTrait>(txn: &C, s: &slot::Model, item: &service_item::Model) -> AppResult<()> {
    let now = Utc::now();
    let policy = policy_of(item);
    let last_call = s.starts_at - Duration::minutes(policy.book_notice_minutes as i64);
    if s.status == "open" && item.active && now < last_call {
        let next = waitlist::Entity::find()
            .filter(waitlist::Column::SlotId.eq(s.id))
            .filter(waitlist::Column::Status.eq("waiting"))
            .order_by_asc(waitlist::Column::Id)
            .one(txn)
            .await?;
        if let Some(w) = next {
            let expires = Ord::min(now + Duration::minutes(policy.offer_minutes as i64), last_call);
            let household_id = household_in(txn, w.user_id, item.org_unit_id).await?;
            let who = Booker { user_id: w.user_id, household_id };
            let b = insert_booking(txn, s, &who, BookingStatus::Offered, Some(expires)).await?;
            waitlist::Entity::update_many()
                .col_expr(waitlist::Column::Status, Expr::value("offered"))
                .col_expr(waitlist::Column::BookingId, Expr::value(b.id))
                .col_expr(waitlist::Column::UpdatedAt, Expr::value(now))
                .filter(waitlist::Column::Id.eq(w.id))
                .exec(txn)
                .await?;
            let d = beijing_date(s.starts_at);
            notify::put(
                txn,
                w.user_id,
                Draft {
                    kind: NotificationKind::AppointmentReminder,
                    title: Msg::new("booking.offer.title").with("item", &item.name).encode(),
                    body: Msg::new("booking.offer.body")
                        .with("date", d.format("%Y-%m-%d"))
                        .with("start", hhmm(s.starts_at))
                        .with("until", hhmm(expires))
                        .encode(),
                    link: format!("/appointments/bookings/{}", b.id),
                    key: format!("offer:{}", b.id),
                },
            )
            .await?;
            jobs::enqueue(
                txn,
                NewJob::new(
                    JobKind::OfferExpire,
                    format!("offer-expire:{}", b.id),
                    OfferExpireJob { booking_id: b.id },
                )
                .at(expires),
            )
            .await?;
            return Ok(());
        }
    }
    slot::Entity::update_many()
        .col_expr(slot::Column::Booked, Expr::col(slot::Column::Booked).sub(1))
        .filter(slot::Column::Id.eq(s.id))
        .filter(Expr::col(slot::Column::Booked).gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// Moves a booking from `from` to `to` if it is still in `from`.
async fn swap_status<C: ConnectionTrait>(
    txn: &C,
    id: i64,
    from: &[BookingStatus],
    to: BookingStatus,
    by: Option<i64>,
    reason: Option<String>,
) -> AppResult<bool> {
    let mut q = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(to.as_str()))
        .col_expr(booking::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(booking::Column::ChangedBy, Expr::value(by));
    if reason.is_some() {
        q = q.col_expr(booking::Column::CancelReason, Expr::value(reason));
    }
    let r = q
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(txn)
        .await?;
    Ok(r.rows_affected == 1)
}

async fn own_booking(state: &State, user: &CurrentUser, id: i64) -> AppResult<booking::Model> {
    let b = booking::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if b.user_id != user.id {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(b)
}

/// The person cancels their booking (or declines a seat offered to them).
/// Refused after the item's cancellation deadline.
pub async fn cancel(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    let b = own_booking(state, user, id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let item = item_row(state, b.item_id).await?;
    let status = BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Cancelled);
    let (from, to) = match status {
        BookingStatus::Booked => {
            policy_of(&item).check_cancel(Utc::now(), s.starts_at)?;
            (BookingStatus::Booked, BookingStatus::Cancelled)
        }
        BookingStatus::Offered => (BookingStatus::Offered, BookingStatus::Expired),
        _ => return Err(ErrorCode::AlreadyDecided.into()),
    };
    let txn = state.db.begin().await?;
    lock_slot(&txn, b.slot_id).await?;
    if !swap_status(&txn, id, &[from], to, Some(user.id), None).await? {
        txn.rollback().await?;
        return Err(ErrorCode::AlreadyDecided.into());
    }
    if from == BookingStatus::Offered {
        close_offer(&txn, id).await?;
    }
    notify::cancel_reminders_before(&txn, b.user_id, &reminder_key(id), &leads()).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&txn).await?.ok_or(ErrorCode::NotFound)?;
    release_seat(&txn, &s, &item).await?;
    if to == BookingStatus::Cancelled {
        let d = beijing_date(s.starts_at);
        notify::put(
            &txn,
            b.user_id,
            Draft {
                kind: NotificationKind::MyRequests,
                title: Msg::new("booking.cancelled.title").with("item", &item.name).encode(),
                body: Msg::new("booking.cancelled.body")
                    .with("date", d.format("%Y-%m-%d"))
                    .with("start", hhmm(s.starts_at))
                    .encode(),
                link: format!("/appointments/bookings/{id}"),
                key: format!("booking:{id}:cancelled"),
            },
        )
        .await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    tracing::info!(booking = id, "booking cancelled");
    Ok(())
}

async fn close_offer<C: ConnectionTrait>(txn: &C, booking_id: i64) -> AppResult<()> {
    waitlist::Entity::update_many()
        .col_expr(waitlist::Column::Status, Expr::value("done"))
        .col_expr(waitlist::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(waitlist::Column::BookingId.eq(booking_id))
        .exec(txn)
        .await?;
    jobs::cancel(txn, &format!("offer-expire:{booking_id}")).await?;
    Ok(())
}

/// Moves a booking to another slot of the same item in one transaction:
/// the new seat is taken first, so a failed move leaves the old booking as it was.
pub async fn reschedule(state: &State, user: &CurrentUser, id: i64, new_slot_id: i64) -> AppResult<i64> {
    let old = own_booking(state, user, id).await?;
    if old.status != BookingStatus::Booked.as_str() {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    if old.slot_id == new_slot_id {
        return Ok(old.id);
    }
    let item = item_row(state, old.item_id).await?;
    let old_slot = slot::Entity::find_by_id(old.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    policy_of(&item).check_cancel(Utc::now(), old_slot.starts_at)?;
    let s = slot::Entity::find_by_id(new_slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if s.item_id != item.id {
        return Err(ErrorCode::InvalidInput.into());
    }
    let now = Utc::now();
    let who = admit(state, user, &item, &s, now).await?;
    let txn = state.db.begin().await?;
    take_seat(&txn, s.id).await?;
    check_quota(&txn, &item, &who, s.starts_at, Some(old.id)).await?;
    let new = insert_booking(&txn, &s, &who, BookingStatus::Booked, None).await?;
    if !swap_status(
        &txn,
        old.id,
        &[BookingStatus::Booked],
        BookingStatus::Cancelled,
        Some(user.id),
        Some("改约".into()),
    )
    .await?
    {
        txn.rollback().await?;
        return Err(ErrorCode::AlreadyDecided.into());
    }
    booking::Entity::update_many()
        .col_expr(booking::Column::RescheduledTo, Expr::value(new.id))
        .filter(booking::Column::Id.eq(old.id))
        .exec(&txn)
        .await?;
    notify::cancel_reminders_before(&txn, old.user_id, &reminder_key(old.id), &leads()).await?;
    let old_slot = slot::Entity::find_by_id(old.slot_id).one(&txn).await?.ok_or(ErrorCode::NotFound)?;
    release_seat(&txn, &old_slot, &item).await?;
    set_reminders(&txn, &new, &item, &s).await?;
    txn.commit().await?;
    state.jobs.kick();
    Ok(new.id)
}

/// Queues for a full slot. The person must be able to book it otherwise.
pub async fn join_waitlist(state: &State, user: &CurrentUser, slot_id: i64) -> AppResult<()> {
    let s = slot::Entity::find_by_id(slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let item = item_row(state, s.item_id).await?;
    admit(state, user, &item, &s, Utc::now()).await?;
    if holding_booking(state, user.id, slot_id).await?.is_some() {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    let now = Utc::now();
    let res = waitlist::ActiveModel {
        slot_id: Set(slot_id),
        user_id: Set(user.id),
        status: Set("waiting".into()),
        booking_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match res {
        Ok(_) => Ok(()),
        Err(e) if crate::db::is_unique_violation(&e) => Err(ErrorCode::AlreadyWaiting.into()),
        Err(e) => Err(e.into()),
    }
}

pub async fn leave_waitlist(state: &State, user: &CurrentUser, slot_id: i64) -> AppResult<()> {
    waitlist::Entity::update_many()
        .col_expr(waitlist::Column::Status, Expr::value("left"))
        .col_expr(waitlist::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(waitlist::Column::SlotId.eq(slot_id))
        .filter(waitlist::Column::UserId.eq(user.id))
        .filter(waitlist::Column::Status.eq("waiting"))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Accepts a seat offered from the waiting list, before the offer runs out.
pub async fn accept_offer(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    let b = own_booking(state, user, id).await?;
    let item = item_row(state, b.item_id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if b.status != BookingStatus::Offered.as_str() {
        return Err(if b.status == BookingStatus::Expired.as_str() {
            ErrorCode::OfferExpired
        } else {
            ErrorCode::AlreadyDecided
        }
        .into());
    }
    if b.offer_expires_at.map(|t| t < Utc::now()).unwrap_or(false) {
        return Err(ErrorCode::OfferExpired.into());
    }
    let who = Booker { user_id: b.user_id, household_id: b.household_id };
    let txn = state.db.begin().await?;
    lock_slot(&txn, b.slot_id).await?;
    // the compare-and-swap orders this against the expiry job
    let done = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(BookingStatus::Booked.as_str()))
        .col_expr(booking::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Status.eq(BookingStatus::Offered.as_str()))
        .filter(booking::Column::OfferExpiresAt.gte(Utc::now()))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(ErrorCode::OfferExpired.into());
    }
    check_quota(&txn, &item, &who, s.starts_at, Some(id)).await?;
    close_offer(&txn, id).await?;
    let b = booking::Entity::find_by_id(id).one(&txn).await?.ok_or(ErrorCode::NotFound)?;
    set_reminders(&txn, &b, &item, &s).await?;
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OfferExpireJob {
    pub booking_id: i64,
}

/// An offered seat nobody took in time passes on to the next person.
pub async fn offer_expire_job(state: &State, job: OfferExpireJob) -> anyhow::Result<()> {
    let Some(held) = booking::Entity::find_by_id(job.booking_id).one(&state.db).await? else { return Ok(()) };
    let txn = state.db.begin().await?;
    lock_slot(&txn, held.slot_id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let expired = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(BookingStatus::Expired.as_str()))
        .col_expr(booking::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(job.booking_id))
        .filter(booking::Column::Status.eq(BookingStatus::Offered.as_str()))
        .filter(booking::Column::OfferExpiresAt.lte(Utc::now()))
        .exec(&txn)
        .await?;
    if expired.rows_affected != 1 {
        // accepted, declined, or not yet due (a clock-skewed run): nothing to do
        txn.rollback().await?;
        return Ok(());
    }
    waitlist::Entity::update_many()
        .col_expr(waitlist::Column::Status, Expr::value("done"))
        .filter(waitlist::Column::BookingId.eq(job.booking_id))
        .exec(&txn)
        .await?;
    let b = booking::Entity::find_by_id(job.booking_id).one(&txn).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&txn).await?.ok_or_else(|| anyhow::anyhow!("slot gone"))?;
    let item =
        service_item::Entity::find_by_id(b.item_id).one(&txn).await?.ok_or_else(|| anyhow::anyhow!("item gone"))?;
    release_seat(&txn, &s, &item).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

/// The days of an item's booking window with their slots, as this person sees them.
pub async fn days(state: &State, user: &CurrentUser, item_id: i64) -> AppResult<Vec<DayView>> {
    let item = visible_item(state, user, item_id).await?;
    let policy = policy_of(&item);
    let now = Utc::now();
    let today = beijing_date(now);
    let first = beijing_at(today, NaiveTime::MIN);
    let end = beijing_at(today + Duration::days(policy.window_days as i64 + 1), NaiveTime::MIN);
    let slots = slot::Entity::find()
        .filter(slot::Column::ItemId.eq(item_id))
        .filter(slot::Column::StartsAt.gte(first))
        .filter(slot::Column::StartsAt.lt(end))
        .order_by_asc(slot::Column::StartsAt)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = slots.iter().map(|s| s.id).collect();
    let mine = booking::Entity::find()
        .filter(booking::Column::UserId.eq(user.id))
        .filter(booking::Column::SlotId.is_in(ids.clone()))
        .filter(booking::Column::Status.is_in(holding()))
        .all(&state.db)
        .await?;
    let waits = waitlist::Entity::find()
        .filter(waitlist::Column::SlotId.is_in(ids))
        .filter(waitlist::Column::Status.eq("waiting"))
        .all(&state.db)
        .await?;
    let verified =
        !policy.audience.needs_residence() || household_in(&state.db, user.id, item.org_unit_id).await?.is_some();
    let mut out: Vec<DayView> = vec![];
    for s in slots {
        let date = beijing_date(s.starts_at).format("%Y-%m-%d").to_string();
        let blocked = if s.status != "open" || !item.active {
            Some(ErrorCode::SlotClosed)
        } else if !verified {
            Some(ErrorCode::NotVerified)
        } else {
            policy.check_book(now, s.starts_at).err()
        };
        let v = SlotView {
            id: s.id,
            start: hhmm(s.starts_at),
            end: hhmm(s.ends_at),
            capacity: s.capacity,
            booked: s.booked,
            open: s.status == "open",
            mine: mine.iter().find(|b| b.slot_id == s.id).map(|b| b.id),
            waiting: waits.iter().any(|w| w.slot_id == s.id && w.user_id == user.id),
            waiting_count: waits.iter().filter(|w| w.slot_id == s.id).count() as i32,
            blocked,
        };
        match out.last_mut() {
            Some(d) if d.date == date => d.slots.push(v),
            _ => out.push(DayView { date, slots: vec![v] }),
        }
    }
    Ok(out)
}

async fn booking_view(state: &State, b: booking::Model) -> AppResult<BookingView> {
    let item = item_row(state, b.item_id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = community(state, item.org_unit_id).await?;
    let policy = policy_of(&item);
    let status = BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Cancelled);
    let now = Utc::now();
    Ok(BookingView {
        id: b.id,
        code: b.code,
        item_id: item.id,
        item: item.name,
        community: c.name,
        place: item.place,
        guide: item.guide,
        date: beijing_date(s.starts_at).format("%Y-%m-%d").to_string(),
        start: hhmm(s.starts_at),
        end: hhmm(s.ends_at),
        status,
        cancel_deadline: beijing_text(policy.cancel_deadline(s.starts_at)),
        can_cancel: status == BookingStatus::Booked && policy.check_cancel(now, s.starts_at).is_ok(),
        offer_expires_at: b.offer_expires_at.map(beijing_text),
        cancel_reason: b.cancel_reason,
        created_at: beijing_text(b.created_at),
        upcoming: status.holds_seat() && s.ends_at > now,
    })
}

/// The person's bookings: upcoming first (soonest first), then the rest (newest first).
pub async fn mine(state: &State, user: &CurrentUser) -> AppResult<Vec<BookingView>> {
    let rows = booking::Entity::find()
        .filter(booking::Column::UserId.eq(user.id))
        .order_by_desc(booking::Column::StartsAt)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for b in rows.into_iter().take(100) {
        out.push(booking_view(state, b).await?);
    }
    let (mut up, past): (Vec<_>, Vec<_>) = out.into_iter().partition(|b| b.upcoming);
    up.reverse();
    up.extend(past);
    Ok(up)
}

/// One booking: its owner, or staff of its community.
pub async fn booking(state: &State, user: &CurrentUser, id: i64) -> AppResult<BookingView> {
    Ok(booking_for(state, user, id).await?.0)
}

/// `booking`, and whether it is the viewer's own (staff may look at others').
pub async fn booking_for(state: &State, user: &CurrentUser, id: i64) -> AppResult<(BookingView, bool)> {
    let b = booking::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let own = b.user_id == user.id;
    if !own {
        managed_item(state, user, b.item_id).await?;
    }
    Ok((booking_view(state, b).await?, own))
}

/// The booking's iCalendar event (RFC 5545), for "add to calendar".
pub async fn ics(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    let b = own_booking(state, user, id).await?;
    let item = item_row(state, b.item_id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = community(state, item.org_unit_id).await?;
    let host = url::Url::parse(&state.config.public_url).ok().and_then(|u| u.host_str().map(str::to_string));
    Ok(domain_ics(
        &format!("booking-{}@{}", b.id, host.unwrap_or_else(|| "zhsq".into())),
        &format!("{}({})", item.name, c.name),
        &item.place,
        &format!("预约码 {}\n{}", b.code, item.guide),
        s.starts_at,
        s.ends_at,
        b.status == BookingStatus::Cancelled.as_str(),
        &format!("{}/appointments/bookings/{}", state.config.public_url.trim_end_matches('/'), b.id),
    ))
}

#[allow(clippy::too_many_arguments)]
fn domain_ics(
    uid: &str,
    summary: &str,
    location: &str,
    description: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cancelled: bool,
    url: &str,
) -> String {
    use ics::{
        properties::{Description, DtEnd, DtStart, Location, Status, Summary, URL},
        Event, ICalendar,
    };
    let fmt = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut e = Event::new(uid.to_string(), fmt(Utc::now()));
    e.push(DtStart::new(fmt(start)));
    e.push(DtEnd::new(fmt(end)));
    e.push(Summary::new(ics::escape_text(summary.to_string())));
    e.push(Location::new(ics::escape_text(location.to_string())));
    e.push(Description::new(ics::escape_text(description.to_string())));
    e.push(URL::new(url.to_string()));
    e.push(if cancelled { Status::cancelled() } else { Status::confirmed() });
    let mut cal = ICalendar::new("2.0", "-//zhsq//appointments//ZH");
    cal.push(ics::properties::Method::new("PUBLISH"));
    cal.add_event(e);
    refold_ics(&cal.to_string())
}

/// Folds content lines as RFC 5545 §3.1 says: no line longer than 75 octets
/// *including* the leading space of a continuation, never inside a UTF-8
/// character. (The `ics` crate puts 75 octets after the space: 76.)
pub fn refold_ics(text: &str) -> String {
    const LIMIT: usize = 75;
    let unfolded = text.replace("\r\n ", "");
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 24);
    for line in unfolded.split_terminator("\r\n") {
        let mut rest = line;
        let mut room = LIMIT;
        loop {
            if rest.len() <= room {
                out.push_str(rest);
                break;
            }
            let mut cut = room;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            room = LIMIT - 1;
        }
        out.push_str("\r\n");
    }
    out
}

/// The SVG of a QR code for `text`, drawn on the server (works without JavaScript).
pub fn qr_svg(text: &str) -> AppResult<String> {
    use qrcode::{render::svg, EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(AppError::internal)?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build())
}

/// What a booking's QR code says: the desk's check-in address for its code,
/// so a staff member's phone camera (or WeChat's scanner) opens it directly.
pub fn check_url(state: &State, code: &str) -> String {
    format!("{}/staff/appointments/check?code={code}", state.config.public_url.trim_end_matches('/'))
}

// -------------------------------------------------------------------- staff

/// Communities a staff member manages (where items can be created).
pub async fn staff_communities(state: &State, staff: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let mut out = vec![];
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        for n in crate::org::subtree(state, &g.org_path).await? {
            if n.level == OrgLevel::Community && !out.iter().any(|(id, _)| *id == n.id) {
                out.push((n.id, n.name));
            }
        }
    }
    Ok(out)
}

/// Items of the staff member's communities, with today's figures.
pub async fn staff_items(state: &State, staff: &CurrentUser) -> AppResult<Vec<ItemView>> {
    let ids: Vec<i64> = staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = service_item::Entity::find()
        .filter(service_item::Column::OrgUnitId.is_in(ids))
        .order_by_asc(service_item::Column::OrgUnitId)
        .order_by_asc(service_item::Column::Id)
        .all(&state.db)
        .await?;
    views_of(state, rows).await
}

pub async fn staff_item(state: &State, staff: &CurrentUser, id: i64) -> AppResult<ItemView> {
    let i = managed_item(state, staff, id).await?;
    view_of(state, i).await
}

pub async fn create_item(state: &State, staff: &CurrentUser, community_id: i64, s: ItemSettings) -> AppResult<i64> {
    if !staff_communities(state, staff).await?.iter().any(|(id, _)| *id == community_id) {
        return Err(ErrorCode::Forbidden.into());
    }
    let id = insert_item(&state.db, community_id, staff.id, s).await?;
    tracing::info!(item = id, staff = staff.id, "service item created");
    Ok(id)
}

pub(crate) async fn insert_item<C: ConnectionTrait>(
    conn: &C,
    community_id: i64,
    by: i64,
    s: ItemSettings,
) -> AppResult<i64> {
    let now = Utc::now();
    let row = service_item::ActiveModel {
        org_unit_id: Set(community_id),
        name: Set(s.name),
        guide: Set(s.guide),
        place: Set(s.place),
        duration_minutes: Set(s.duration_minutes),
        audience: Set(s.policy.audience.as_str().into()),
        book_notice_minutes: Set(s.policy.book_notice_minutes),
        cancel_notice_minutes: Set(s.policy.cancel_notice_minutes),
        window_days: Set(s.policy.window_days),
        quota_count: Set(s.policy.quota.map(|q| q.0)),
        quota_period: Set(s.policy.quota.map(|q| q.1.as_str().to_string())),
        no_show_limit: Set(s.policy.no_show_limit),
        offer_minutes: Set(s.policy.offer_minutes),
        active: Set(true),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

pub async fn update_item(state: &State, staff: &CurrentUser, id: i64, s: ItemSettings, active: bool) -> AppResult<()> {
    let item = managed_item(state, staff, id).await?;
    let mut am: service_item::ActiveModel = item.into();
    am.name = Set(s.name);
    am.guide = Set(s.guide);
    am.place = Set(s.place);
    am.duration_minutes = Set(s.duration_minutes);
    am.audience = Set(s.policy.audience.as_str().into());
    am.book_notice_minutes = Set(s.policy.book_notice_minutes);
    am.cancel_notice_minutes = Set(s.policy.cancel_notice_minutes);
    am.window_days = Set(s.policy.window_days);
    am.quota_count = Set(s.policy.quota.map(|q| q.0));
    am.quota_period = Set(s.policy.quota.map(|q| q.1.as_str().to_string()));
    am.no_show_limit = Set(s.policy.no_show_limit);
    am.offer_minutes = Set(s.policy.offer_minutes);
    am.active = Set(active);
    am.updated_at = Set(Utc::now());
    am.update(&state.db).await?;
    ensure_slots(state, id).await?;
    Ok(())
}

/// Adds opening hours and makes their slots for the booking window.
pub async fn add_hours(state: &State, staff: &CurrentUser, item_id: i64, rule: HoursRule) -> AppResult<usize> {
    managed_item(state, staff, item_id).await?;
    insert_hours(&state.db, item_id, &rule).await?;
    ensure_slots(state, item_id).await
}

pub(crate) async fn insert_hours<C: ConnectionTrait>(conn: &C, item_id: i64, rule: &HoursRule) -> AppResult<()> {
    service_hours::ActiveModel {
        item_id: Set(item_id),
        weekdays: Set(rule.weekdays.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")),
        start_minute: Set(minute_of(rule.start)),
        end_minute: Set(minute_of(rule.end)),
        slot_minutes: Set(rule.slot_minutes),
        capacity: Set(rule.capacity),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Stops a set of opening hours making new slots (slots already made stay).
pub async fn remove_hours(state: &State, staff: &CurrentUser, hours_id: i64) -> AppResult<()> {
    let h = service_hours::Entity::find_by_id(hours_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, h.item_id).await?;
    service_hours::Entity::update_many()
        .col_expr(service_hours::Column::Active, Expr::value(false))
        .filter(service_hours::Column::Id.eq(hours_id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Opening hours with their ids (staff editing).
pub async fn hours_rows(state: &State, staff: &CurrentUser, item_id: i64) -> AppResult<Vec<(i64, HoursRule)>> {
    managed_item(state, staff, item_id).await?;
    Ok(active_hours(state, item_id).await?.iter().filter_map(|h| hours_of(h).map(|r| (h.id, r))).collect())
}

async fn closures_for(state: &State, item: &service_item::Model) -> AppResult<Vec<Closure>> {
    Ok(service_closure::Entity::find()
        .filter(service_closure::Column::OrgUnitId.eq(item.org_unit_id))
        .filter(service_closure::Column::ItemId.is_null().or(service_closure::Column::ItemId.eq(item.id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| Closure { first: c.first_day, last: c.last_day })
        .collect())
}

/// Makes the slots of an item's booking window that do not exist yet (idempotent).
pub async fn ensure_slots(state: &State, item_id: i64) -> AppResult<usize> {
    let item = item_row(state, item_id).await?;
    if !item.active {
        return Ok(0);
    }
    let rules: Vec<HoursRule> = active_hours(state, item_id).await?.iter().filter_map(hours_of).collect();
    let closures = closures_for(state, &item).await?;
    let today = beijing_date(Utc::now());
    let plan =
        domain::appointment::plan_slots(&rules, &closures, today, today + Duration::days(item.window_days as i64));
    let now = Utc::now();
    let mut made = 0;
    for (starts_at, ends_at, capacity) in plan.into_iter().filter(|(s, _, _)| *s > now) {
        let res = slot::Entity::insert(slot::ActiveModel {
            item_id: Set(item_id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            capacity: Set(capacity),
            booked: Set(0),
            status: Set("open".into()),
            created_at: Set(now),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([slot::Column::ItemId, slot::Column::StartsAt])
        .exec_without_returning(&state.db)
        .await?;
        if matches!(res, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            made += 1;
        }
    }
    Ok(made)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SlotsJob {}

/// Daily: extends every active item's slots to the end of its window, then
/// schedules itself for the next day.
pub async fn slots_job(state: &State, _job: SlotsJob) -> anyhow::Result<()> {
    let items = service_item::Entity::find().filter(service_item::Column::Active.eq(true)).all(&state.db).await?;
    for i in items {
        ensure_slots(state, i.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    schedule_slots_job(&state.db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// The daily slot job for the coming night (00:05 Beijing), once.
pub async fn schedule_slots_job<C: ConnectionTrait>(conn: &C) -> AppResult<bool> {
    let tomorrow = beijing_date(Utc::now()) + Duration::days(1);
    let at = beijing_at(tomorrow, NaiveTime::from_hms_opt(0, 5, 0).unwrap_or(NaiveTime::MIN));
    jobs::enqueue(conn, NewJob::new(JobKind::SlotsDaily, format!("slots:{tomorrow}"), SlotsJob {}).at(at)).await
}

/// Closes a community (or one item) for some days: their slots close, and
/// every booking on them is cancelled with the reason and its holder told.
pub async fn add_closure(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    item_id: Option<i64>,
    closure: Closure,
    reason: &str,
) -> AppResult<usize> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    if reason.chars().count() > 100 {
        return Err(ErrorCode::InvalidInput.into());
    }
    if !staff_communities(state, staff).await?.iter().any(|(id, _)| *id == community_id) {
        return Err(ErrorCode::Forbidden.into());
    }
    let items: Vec<service_item::Model> = match item_id {
        Some(id) => {
            let i = managed_item(state, staff, id).await?;
            if i.org_unit_id != community_id {
                return Err(ErrorCode::InvalidInput.into());
            }
            vec![i]
        }
        None => {
            service_item::Entity::find().filter(service_item::Column::OrgUnitId.eq(community_id)).all(&state.db).await?
        }
    };
    let now = Utc::now();
    let txn = state.db.begin().await?;
    service_closure::ActiveModel {
        org_unit_id: Set(community_id),
        item_id: Set(item_id),
        first_day: Set(closure.first),
        last_day: Set(closure.last),
        reason: Set(reason.to_string()),
        created_by: Set(staff.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let from = beijing_at(closure.first, NaiveTime::MIN);
    let to = beijing_at(closure.last + Duration::days(1), NaiveTime::MIN);
    let mut cancelled = 0;
    for item in &items {
        let slots = slot::Entity::find()
            .filter(slot::Column::ItemId.eq(item.id))
            .filter(slot::Column::StartsAt.gte(from))
            .filter(slot::Column::StartsAt.lt(to))
            .all(&txn)
            .await?;
        for s in slots {
            slot::Entity::update_many()
                .col_expr(slot::Column::Status, Expr::value("closed"))
                .filter(slot::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
            let held = booking::Entity::find()
                .filter(booking::Column::SlotId.eq(s.id))
                .filter(
                    booking::Column::Status.is_in([BookingStatus::Booked.as_str(), BookingStatus::Offered.as_str()]),
                )
                .all(&txn)
                .await?;
            for b in held {
                let from_status = BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Booked);
                let why = format!("社区停止办理:{reason}");
                if !swap_status(&txn, b.id, &[from_status], BookingStatus::Cancelled, Some(staff.id), Some(why.clone()))
                    .await?
                {
                    continue;
                }
                close_offer(&txn, b.id).await?;
                notify::cancel_reminders_before(&txn, b.user_id, &reminder_key(b.id), &leads()).await?;
                slot::Entity::update_many()
                    .col_expr(slot::Column::Booked, Expr::col(slot::Column::Booked).sub(1))
                    .filter(slot::Column::Id.eq(s.id))
                    .filter(Expr::col(slot::Column::Booked).gt(0))
                    .exec(&txn)
                    .await?;
                let d = beijing_date(s.starts_at);
                notify::put(
                    &txn,
                    b.user_id,
                    Draft {
                        kind: NotificationKind::AppointmentReminder,
                        title: Msg::new("booking.closed.title").with("item", &item.name).encode(),
                        body: Msg::new("booking.closed.body")
                            .with("date", d.format("%Y-%m-%d"))
                            .with("start", hhmm(s.starts_at))
                            .with("why", reason)
                            .encode(),
                        link: format!("/appointments/bookings/{}", b.id),
                        key: format!("closure-cancel:{}", b.id),
                    },
                )
                .await?;
                cancelled += 1;
            }
            waitlist::Entity::update_many()
                .col_expr(waitlist::Column::Status, Expr::value("left"))
                .filter(waitlist::Column::SlotId.eq(s.id))
                .filter(waitlist::Column::Status.eq("waiting"))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    state.jobs.kick();
    tracing::info!(community = community_id, cancelled, "closure added");
    Ok(cancelled)
}

/// Closures of the staff member's communities that have not ended.
pub async fn closures(state: &State, staff: &CurrentUser) -> AppResult<Vec<ClosureView>> {
    let ids: Vec<i64> = staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let today = beijing_date(Utc::now());
    let rows = service_closure::Entity::find()
        .filter(service_closure::Column::OrgUnitId.is_in(ids))
        .filter(service_closure::Column::LastDay.gte(today))
        .order_by_asc(service_closure::Column::FirstDay)
        .all(&state.db)
        .await?;
    let mut out = vec![];
    for c in rows {
        let item = match c.item_id {
            Some(id) => service_item::Entity::find_by_id(id).one(&state.db).await?.map(|i| i.name),
            None => None,
        };
        out.push(ClosureView {
            id: c.id,
            item,
            first: c.first_day.to_string(),
            last: c.last_day.to_string(),
            reason: c.reason,
        });
    }
    Ok(out)
}

/// An item's slots from today on (staff).
pub async fn staff_slots(state: &State, staff: &CurrentUser, item_id: i64) -> AppResult<Vec<StaffSlot>> {
    managed_item(state, staff, item_id).await?;
    let from = beijing_at(beijing_date(Utc::now()), NaiveTime::MIN);
    let rows = slot::Entity::find()
        .filter(slot::Column::ItemId.eq(item_id))
        .filter(slot::Column::StartsAt.gte(from))
        .order_by_asc(slot::Column::StartsAt)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let waits = waitlist::Entity::find()
        .filter(waitlist::Column::SlotId.is_in(ids))
        .filter(waitlist::Column::Status.eq("waiting"))
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| StaffSlot {
            id: s.id,
            date: beijing_date(s.starts_at).format("%Y-%m-%d").to_string(),
            start: hhmm(s.starts_at),
            end: hhmm(s.ends_at),
            capacity: s.capacity,
            booked: s.booked,
            open: s.status == "open",
            waiting: waits.iter().filter(|w| w.slot_id == s.id).count() as i32,
        })
        .collect())
}

/// Changes a slot's capacity. Never below the seats already held: the
/// database refuses it (CHECK), and the staff member is told so.
pub async fn set_capacity(state: &State, staff: &CurrentUser, slot_id: i64, capacity: i32) -> AppResult<()> {
    let s = slot::Entity::find_by_id(slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, s.item_id).await?;
    if !(0..=1000).contains(&capacity) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let r = slot::Entity::update_many()
        .col_expr(slot::Column::Capacity, Expr::value(capacity))
        .filter(slot::Column::Id.eq(slot_id))
        .filter(Expr::col(slot::Column::Booked).lte(capacity))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::CapacityBelowBooked.into());
    }
    Ok(())
}

/// The desk's queue for a day (Beijing), in slot order, optionally one item.
pub async fn queue(
    state: &State,
    staff: &CurrentUser,
    day: NaiveDate,
    item_id: Option<i64>,
) -> AppResult<Vec<QueueEntry>> {
    let items = staff_items(state, staff).await?;
    let ids: Vec<i64> = items.iter().filter(|i| item_id.map(|x| x == i.id).unwrap_or(true)).map(|i| i.id).collect();
    let from = beijing_at(day, NaiveTime::MIN);
    let to = beijing_at(day + Duration::days(1), NaiveTime::MIN);
    let rows = booking::Entity::find()
        .filter(booking::Column::ItemId.is_in(ids))
        .filter(booking::Column::StartsAt.gte(from))
        .filter(booking::Column::StartsAt.lt(to))
        .filter(booking::Column::Status.is_in(holding()))
        .order_by_asc(booking::Column::StartsAt)
        .order_by_asc(booking::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for b in rows {
        out.push(queue_entry(state, &items, b).await?);
    }
    Ok(out)
}

async fn queue_entry(state: &State, items: &[ItemView], b: booking::Model) -> AppResult<QueueEntry> {
    let u = user::Entity::find_by_id(b.user_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let address = match b.household_id {
        Some(h) => address_of(state, h).await?,
        None => None,
    };
    Ok(QueueEntry {
        booking_id: b.id,
        code: b.code,
        item: items.iter().find(|i| i.id == b.item_id).map(|i| i.name.clone()).unwrap_or_default(),
        start: hhmm(s.starts_at),
        end: hhmm(s.ends_at),
        name: u.name,
        phone: domain::phone::mask_phone(&u.phone),
        address,
        status: BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Booked),
        no_shows: no_shows(&state.db, b.user_id).await?,
    })
}

async fn address_of(state: &State, household_id: i64) -> AppResult<Option<String>> {
    let Some(h) = household::Entity::find_by_id(household_id).one(&state.db).await? else { return Ok(None) };
    let Some(d) = dwelling::Entity::find_by_id(h.dwelling_id).one(&state.db).await? else { return Ok(None) };
    let Some(b) = building::Entity::find_by_id(d.building_id).one(&state.db).await? else { return Ok(None) };
    Ok(Some(format!("{} {} {}", b.name, d.entrance, d.room)))
}

/// Finds a booking by the code on its QR code (typed or scanned at the desk),
/// with the date it is for.
pub async fn find_by_code(state: &State, staff: &CurrentUser, code: &str) -> AppResult<(QueueEntry, String)> {
    let code = domain::appointment::normalize_code(code).ok_or(ErrorCode::InvalidCode)?;
    let b = booking::Entity::find()
        .filter(booking::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, b.item_id).await?;
    let items = staff_items(state, staff).await?;
    let date = beijing_date(b.starts_at).format("%Y-%m-%d").to_string();
    Ok((queue_entry(state, &items, b).await?, date))
}

/// Records arrival, service or a no-show at the desk (compare-and-swap).
/// A no-show only once the slot has begun.
pub async fn mark(state: &State, staff: &CurrentUser, booking_id: i64, m: DeskMark) -> AppResult<()> {
    let b = booking::Entity::find_by_id(booking_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, b.item_id).await?;
    if m == DeskMark::NoShow && b.starts_at > Utc::now() {
        return Err(ErrorCode::InvalidTime.into());
    }
    let txn = state.db.begin().await?;
    if !swap_status(&txn, booking_id, m.from_statuses(), m.status(), Some(staff.id), None).await? {
        txn.rollback().await?;
        return Err(ErrorCode::AlreadyDecided.into());
    }
    if m != DeskMark::NoShow {
        // they are here: no more reminders
        notify::cancel_reminders_before(&txn, b.user_id, &reminder_key(b.id), &leads()).await?;
    }
    txn.commit().await?;
    tracing::info!(booking = booking_id, mark = ?m, staff = staff.id, "desk mark");
    Ok(())
}

/// Today's and the next days' figures per item, for the console.
pub async fn counts_today(state: &State, staff: &CurrentUser) -> AppResult<Vec<(i64, i64, i64)>> {
    let items = staff_items(state, staff).await?;
    let today = beijing_date(Utc::now());
    let from = beijing_at(today, NaiveTime::MIN);
    let to = beijing_at(today + Duration::days(1), NaiveTime::MIN);
    let mut out = vec![];
    for i in items {
        let n = booking::Entity::find()
            .filter(booking::Column::ItemId.eq(i.id))
            .filter(booking::Column::StartsAt.gte(from))
            .filter(booking::Column::StartsAt.lt(to))
            .filter(booking::Column::Status.is_in(holding()))
            .count(&state.db)
            .await?;
        let arrived = booking::Entity::find()
            .filter(booking::Column::ItemId.eq(i.id))
            .filter(booking::Column::StartsAt.gte(from))
            .filter(booking::Column::StartsAt.lt(to))
            .filter(booking::Column::Status.is_in([BookingStatus::Arrived.as_str(), BookingStatus::Served.as_str()]))
            .count(&state.db)
            .await?;
        out.push((i.id, n as i64, arrived as i64));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_is_rfc5545_shaped() {
        let start = Utc::now();
        let s = domain_ics(
            "booking-1@example",
            "老年证办理(阳光社区)",
            "党群服务中心一楼, 2号窗口",
            "预约码 ABCDEFGH\n带身份证;户口本",
            start,
            start + Duration::minutes(30),
            false,
            "https://example/appointments/bookings/1",
        );
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(s.contains("\r\nBEGIN:VEVENT\r\n"));
        assert!(s.contains("UID:booking-1@example"));
        assert!(s.contains("STATUS:CONFIRMED"));
        // commas, semicolons and newlines escaped; lines folded at 75 octets
        assert!(s.contains("\\,"));
        assert!(s.contains("\\;"));
        assert!(s.contains("\\n"));
        assert!(s.split("\r\n").all(|l| l.len() <= 75), "{s}");
    }

    #[test]
    fn continuation_lines_are_75_octets_with_their_space() {
        let start = Utc::now();
        let long = "请携带身份证原件和复印件、户口本、近期一寸免冠照片两张,到党群服务中心一楼二号窗口办理。".repeat(4);
        let ascii = "x".repeat(400);
        let s = domain_ics("u@x", &long, &ascii, &long, start, start, false, "https://example/b/1");
        let lines: Vec<&str> = s.split("\r\n").collect();
        assert!(lines.iter().filter(|l| l.starts_with(' ')).count() > 10, "folded: {s}");
        assert!(lines.iter().all(|l| l.len() <= 75), "{:?}", lines.iter().map(|l| l.len()).max());
        assert!(lines.iter().any(|l| l.len() == 75), "lines are filled, not cut short");
        // unfolding gives back the text, every character whole
        let unfolded = s.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("LOCATION:{ascii}")));
        assert!(unfolded.contains("SUMMARY:请携带身份证原件"));
        assert!(s.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg("https://example/staff/appointments/check?code=ABCDEFGH").unwrap();
        assert!(svg.contains("<svg"));
    }
}
