//! What residents read of appointments: the bookable days of an item, their
//! own bookings, a booking's calendar file (.ics) and its QR code.

use super::*;

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
        .filter(waitlist::Column::Status.eq(domain::appointments::WaitStatus::Waiting))
        .all(&state.db)
        .await?;
    let verified =
        !policy.audience.needs_residence() || household_in(&state.db, user.id, item.org_unit_id).await?.is_some();
    let mut out: Vec<DayView> = vec![];
    for s in slots {
        let date = beijing_date(s.starts_at).format("%Y-%m-%d").to_string();
        let blocked = if s.status != SlotStatus::Open || !item.active {
            Some(ErrorCode::SlotClosed)
        } else if !verified {
            Some(ErrorCode::NotVerified)
        } else {
            policy.check_book(now, s.starts_at).err()
        };
        let v = SlotView {
            id: s.id,
            start: beijing_hhmm(s.starts_at),
            end: beijing_hhmm(s.ends_at),
            capacity: s.capacity,
            booked: s.booked,
            open: s.status == SlotStatus::Open,
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

pub(super) async fn booking_view(state: &State, b: booking::Model) -> AppResult<BookingView> {
    let item = item_row(state, b.item_id).await?;
    let s = slot::Entity::find_by_id(b.slot_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = community(state, item.org_unit_id).await?;
    let policy = policy_of(&item);
    let status = b.status;
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
        start: beijing_hhmm(s.starts_at),
        end: beijing_hhmm(s.ends_at),
        status,
        cancel_deadline: beijing_time(policy.cancel_deadline(s.starts_at)),
        can_cancel: status == BookingStatus::Booked && policy.check_cancel(now, s.starts_at).is_ok(),
        offer_expires_at: b.offer_expires_at.map(beijing_time),
        cancel_reason: b.cancel_reason,
        created_at: beijing_time(b.created_at),
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
        b.status == BookingStatus::Cancelled,
        &format!("{}/appointments/bookings/{}", state.config.public_url.trim_end_matches('/'), b.id),
    ))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn domain_ics(
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

/// What a booking's QR code says: the desk's check-in address for its code,
/// so a staff member's phone camera (or WeChat's scanner) opens it directly.
pub fn check_url(state: &State, code: &str) -> String {
    format!("{}/staff/appointments/check?code={code}", state.config.public_url.trim_end_matches('/'))
}

// -------------------------------------------------------------------- staff
