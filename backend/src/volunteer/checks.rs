//! Checking in and out on site (the organiser's rotating code, position,
//! corrections) and confirming the hours, which credits time and points.

use super::*;

pub(super) fn on_site_window(a: &activity::Model, now: DateTime<Utc>) -> AppResult<()> {
    if a.status != ActivityStatus::Published || now > a.ends_at + Duration::minutes(LATE_MINUTES) {
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
        svg: crate::support::qr::qr_svg(&url)?,
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
    if s.map(|s| s.status) != Some(SignupStatus::SignedUp) {
        return Err(ErrorCode::NotSignedUp.into());
    }
    let row = record_check(state, &a, user.id, dir, at(scanned_at)?, "qr", distance).await?;
    attendance_view(state, row, crate::support::people::english(user)).await
}

pub(super) async fn record_check(
    state: &State,
    a: &activity::Model,
    user_id: i64,
    dir: Direction,
    when: DateTime<Utc>,
    how: &str,
    distance: Option<i64>,
) -> AppResult<attendance::Model> {
    match dir {
        Direction::In => {
            attendance::Entity::insert(attendance::ActiveModel {
                activity_id: Set(a.id),
                user_id: Set(user_id),
                check_in_at: Set(when),
                in_how: Set(how.into()),
                in_distance_m: Set(distance),
                status: Set(AttendanceStatus::Open),
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
                .filter(attendance::Column::Status.eq(domain::volunteer::AttendanceStatus::Open))
                .filter(attendance::Column::CheckInAt.lte(when))
                .exec(&state.db)
                .await?;
            if r.rows_affected != 1 {
                let row = find_attendance(state, a.id, user_id).await?;
                return Err(match row {
                    Some(r) if r.status == AttendanceStatus::Confirmed => ErrorCode::AlreadyDecided.into(),
                    _ => ErrorCode::NotCheckedIn.into(),
                });
            }
        }
    }
    Ok(find_attendance(state, a.id, user_id).await?.ok_or(ErrorCode::NotCheckedIn)?)
}

async fn attendance_view(state: &State, row: attendance::Model, en: bool) -> AppResult<AttendanceView> {
    attendance_views(state, vec![row], en).await?.pop().ok_or_else(|| ErrorCode::NotFound.into())
}

pub(super) async fn find_attendance(
    state: &State,
    activity_id: i64,
    user_id: i64,
) -> AppResult<Option<attendance::Model>> {
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
    let row = record_check(state, &a, u.id, dir, now, "organiser", None).await?;
    attendance_view(state, row, crate::support::people::english(organiser)).await
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
    let parse = |s: &str| domain::time::parse_beijing_local(s).ok_or(ErrorCode::InvalidTime);
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
        .filter(attendance::Column::Status.eq(domain::volunteer::AttendanceStatus::Open))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    Ok(())
}

pub(super) async fn used_minutes<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    day: &str,
    year: &str,
) -> AppResult<(i64, i64)> {
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
pub(super) async fn ensure_total<C: ConnectionTrait>(conn: &C, user_id: i64, period: &str) -> AppResult<()> {
    total::Entity::insert(total::ActiveModel { user_id: Set(user_id), period: Set(period.into()), minutes: Set(0) })
        .on_conflict_do_nothing_on([total::Column::UserId, total::Column::Period])
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Advances a total from `from` to `from + add`, only if it still is `from`.
pub(super) async fn advance<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    period: &str,
    from: i64,
    add: i64,
) -> AppResult<bool> {
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
        if row.status != AttendanceStatus::Open {
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
            .col_expr(attendance::Column::Status, Expr::value(domain::volunteer::AttendanceStatus::Confirmed))
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
            .filter(attendance::Column::Status.eq(domain::volunteer::AttendanceStatus::Open))
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
        .filter(attendance::Column::Status.eq(domain::volunteer::AttendanceStatus::Open))
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
        .filter(signup::Column::Status.ne(SignupStatus::Withdrawn))
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
            let status = s.status;
            let place = (status == SignupStatus::Waitlisted).then(|| {
                queue += 1;
                queue
            });
            let p = people.get(&s.user_id);
            RosterRow {
                name: p
                    .map(|p| crate::support::people::name_of(p, crate::support::people::english(user)))
                    .unwrap_or_default(),
                phone_masked: p.map(|p| masked(&p.phone)).unwrap_or_default(),
                status,
                queue: place,
                checked_in: present.contains(&s.user_id),
            }
        })
        .collect();
    let attendances = attendance_views(state, rows, crate::support::people::english(user)).await?;
    let activity = views(state, user, vec![a]).await?.pop().ok_or(ErrorCode::NotFound)?;
    Ok(OrganiseView { activity, roster, attendances })
}

// ------------------------------------------------------------------ record
