//! The staff side of appointments: service items and their opening hours,
//! the slots they make, closures, the desk's queue and its marks, and the
//! console's figures.

use super::*;

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
        audience: Set(s.policy.audience),
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
    am.audience = Set(s.policy.audience);
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

pub(super) async fn closures_for(state: &State, item: &service_item::Model) -> AppResult<Vec<Closure>> {
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
        domain::appointments::plan_slots(&rules, &closures, today, today + Duration::days(item.window_days as i64));
    let now = Utc::now();
    let mut made = 0;
    for (starts_at, ends_at, capacity) in plan.into_iter().filter(|(s, _, _)| *s > now) {
        let res = slot::Entity::insert(slot::ActiveModel {
            item_id: Set(item_id),
            starts_at: Set(starts_at),
            ends_at: Set(ends_at),
            capacity: Set(capacity),
            booked: Set(0),
            status: Set(SlotStatus::Open),
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
    jobs::enqueue(conn, NewJob::new(SLOTS_DAILY, format!("slots:{tomorrow}"), SlotsJob {}).at(at)).await
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
                .col_expr(slot::Column::Status, Expr::value(domain::appointments::SlotStatus::Closed))
                .filter(slot::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
            let held = booking::Entity::find()
                .filter(booking::Column::SlotId.eq(s.id))
                .filter(booking::Column::Status.is_in([BookingStatus::Booked, BookingStatus::Offered]))
                .all(&txn)
                .await?;
            for b in held {
                let from_status = b.status;
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
                            .with("start", beijing_hhmm(s.starts_at))
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
                .col_expr(waitlist::Column::Status, Expr::value(domain::appointments::WaitStatus::Left))
                .filter(waitlist::Column::SlotId.eq(s.id))
                .filter(waitlist::Column::Status.eq(domain::appointments::WaitStatus::Waiting))
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
        .filter(waitlist::Column::Status.eq(domain::appointments::WaitStatus::Waiting))
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| StaffSlot {
            id: s.id,
            date: beijing_date(s.starts_at).format("%Y-%m-%d").to_string(),
            start: beijing_hhmm(s.starts_at),
            end: beijing_hhmm(s.ends_at),
            capacity: s.capacity,
            booked: s.booked,
            open: s.status == SlotStatus::Open,
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
        out.push(queue_entry(state, &items, b, crate::support::people::english(staff)).await?);
    }
    Ok(out)
}

pub(super) async fn queue_entry(
    state: &State,
    items: &[ItemView],
    b: booking::Model,
    en: bool,
) -> AppResult<QueueEntry> {
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
        start: beijing_hhmm(s.starts_at),
        end: beijing_hhmm(s.ends_at),
        name: crate::support::people::name_of(&u, en),
        phone: domain::phone::mask_phone(&u.phone),
        address,
        status: b.status,
        no_shows: no_shows(&state.db, b.user_id).await?,
    })
}

pub(super) async fn address_of(state: &State, household_id: i64) -> AppResult<Option<String>> {
    let Some(h) = household::Entity::find_by_id(household_id).one(&state.db).await? else { return Ok(None) };
    let Some(d) = dwelling::Entity::find_by_id(h.dwelling_id).one(&state.db).await? else { return Ok(None) };
    let Some(b) = building::Entity::find_by_id(d.building_id).one(&state.db).await? else { return Ok(None) };
    Ok(Some(format!("{} {} {}", b.name, d.entrance, d.room)))
}

/// Finds a booking by the code on its QR code (typed or scanned at the desk),
/// with the date it is for.
pub async fn find_by_code(state: &State, staff: &CurrentUser, code: &str) -> AppResult<(QueueEntry, String)> {
    let code = domain::appointments::normalize_code(code).ok_or(ErrorCode::InvalidCode)?;
    let b = booking::Entity::find()
        .filter(booking::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, b.item_id).await?;
    let items = staff_items(state, staff).await?;
    let date = beijing_date(b.starts_at).format("%Y-%m-%d").to_string();
    Ok((queue_entry(state, &items, b, crate::support::people::english(staff)).await?, date))
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
            .filter(booking::Column::Status.is_in([BookingStatus::Arrived, BookingStatus::Served]))
            .count(&state.db)
            .await?;
        out.push((i.id, n as i64, arrived as i64));
    }
    Ok(out)
}
