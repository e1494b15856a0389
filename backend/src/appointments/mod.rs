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

mod staff;
mod views;
mod waiting;
pub use staff::*;
pub use views::*;
pub use waiting::*;

use crate::support::scope::staff_communities;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use domain::msg::Msg;
use domain::time::{beijing_at, beijing_date, beijing_hhmm, beijing_time};
use domain::{
    appointments::{
        Audience, BookingStatus, BookingView, Closure, ClosureView, DayView, DeskMark, HoursRule, ItemSettings,
        ItemView, Policy, QueueEntry, QuotaPeriod, SlotStatus, SlotView, StaffSlot, WaitStatus, CODE_ALPHABET,
    },
    notify::NotificationKind,
    ErrorCode, OrgPath,
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

fn policy_of(i: &service_item::Model) -> Policy {
    Policy {
        audience: i.audience,
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
        .filter(service_item::Column::OrgUnitId.is_in(visible).or(service_item::Column::Audience.eq(Audience::Anyone)))
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
    if i.audience == Audience::Anyone || crate::org::visible_ids(state, user).await?.contains(&i.org_unit_id) {
        Ok(i)
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// The household a person has in a community (approved residence), if any.
pub async fn household_in<C: ConnectionTrait>(conn: &C, user_id: i64, community_id: i64) -> AppResult<Option<i64>> {
    let rows = residence::Entity::find()
        .filter(residence::Column::UserId.eq(user_id))
        .filter(residence::Column::Status.eq(domain::residence::ResidenceStatus::Approved))
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
        .filter(booking::Column::Status.eq(BookingStatus::NoShow))
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
        .filter(slot::Column::Status.eq(domain::appointments::SlotStatus::Open))
        .filter(Expr::col(slot::Column::Booked).lt(Expr::col(slot::Column::Capacity)))
        .exec(txn)
        .await?;
    if r.rows_affected == 1 {
        return Ok(());
    }
    let s = slot::Entity::find_by_id(slot_id).one(txn).await?.ok_or(ErrorCode::NotFound)?;
    Err(if s.status != SlotStatus::Open { ErrorCode::SlotClosed } else { ErrorCode::SlotFull }.into())
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
        .with("start", beijing_hhmm(s.starts_at))
        .with("end", beijing_hhmm(s.ends_at))
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
        status: Set(status),
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
    if s.status == SlotStatus::Open && item.active && now < last_call {
        let next = waitlist::Entity::find()
            .filter(waitlist::Column::SlotId.eq(s.id))
            .filter(waitlist::Column::Status.eq(domain::appointments::WaitStatus::Waiting))
            .order_by_asc(waitlist::Column::Id)
            .one(txn)
            .await?;
        if let Some(w) = next {
            let expires = Ord::min(now + Duration::minutes(policy.offer_minutes as i64), last_call);
            let household_id = household_in(txn, w.user_id, item.org_unit_id).await?;
            let who = Booker { user_id: w.user_id, household_id };
            let b = insert_booking(txn, s, &who, BookingStatus::Offered, Some(expires)).await?;
            waitlist::Entity::update_many()
                .col_expr(waitlist::Column::Status, Expr::value(domain::appointments::WaitStatus::Offered))
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
                        .with("start", beijing_hhmm(s.starts_at))
                        .with("until", beijing_hhmm(expires))
                        .encode(),
                    link: format!("/appointments/bookings/{}", b.id),
                    key: format!("offer:{}", b.id),
                },
            )
            .await?;
            jobs::enqueue(
                txn,
                NewJob::new(OFFER_EXPIRE, format!("offer-expire:{}", b.id), OfferExpireJob { booking_id: b.id })
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
    let status = b.status;
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
                    .with("start", beijing_hhmm(s.starts_at))
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
        .col_expr(waitlist::Column::Status, Expr::value(domain::appointments::WaitStatus::Done))
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
    if old.status != BookingStatus::Booked {
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

// ------------------------------------------------------------------ jobs

pub const OFFER_EXPIRE: JobKind = JobKind("appointment.offer_expire");
pub const SLOTS_DAILY: JobKind = JobKind("appointment.slots_daily");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(OFFER_EXPIRE, |s: State, j| async move { offer_expire_job(&s, j).await });
    h.add(SLOTS_DAILY, |s: State, j| async move { slots_job(&s, j).await });
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
}
