//! The waiting list: joining and leaving it, and the offer of a freed seat
//! (accepted in time, or passed on when it expires).

use super::*;

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
        status: Set(WaitStatus::Waiting),
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
        .col_expr(waitlist::Column::Status, Expr::value(domain::appointments::WaitStatus::Left))
        .col_expr(waitlist::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(waitlist::Column::SlotId.eq(slot_id))
        .filter(waitlist::Column::UserId.eq(user.id))
        .filter(waitlist::Column::Status.eq(domain::appointments::WaitStatus::Waiting))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Accepts a seat offered from the waiting list, before the offer runs out.
pub async fn accept_offer(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    let b = own_booking(state, user, id).await?;
    let item = item_row(state, b.item_id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if b.status != BookingStatus::Offered {
        return Err(if b.status == BookingStatus::Expired {
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
        .col_expr(booking::Column::Status, Expr::value(BookingStatus::Booked))
        .col_expr(booking::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Status.eq(BookingStatus::Offered))
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
        .col_expr(booking::Column::Status, Expr::value(BookingStatus::Expired))
        .col_expr(booking::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(booking::Column::Id.eq(job.booking_id))
        .filter(booking::Column::Status.eq(BookingStatus::Offered))
        .filter(booking::Column::OfferExpiresAt.lte(Utc::now()))
        .exec(&txn)
        .await?;
    if expired.rows_affected != 1 {
        // accepted, declined, or not yet due (a clock-skewed run): nothing to do
        txn.rollback().await?;
        return Ok(());
    }
    waitlist::Entity::update_many()
        .col_expr(waitlist::Column::Status, Expr::value(domain::appointments::WaitStatus::Done))
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
