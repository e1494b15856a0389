//! Patrols under way (issue 4): a grid worker starts, pauses, resumes and
//! ends a patrol; the phone's outbox sends positions, check-ins and gaps in
//! batches; GPS logger apps send positions over the OsmAnd protocol.
//!
//! - Every raw fix is kept (append-only); a fix left out of the track has
//!   its reason stored beside it (`domain::geo::Dropped`).
//! - Batches are idempotent: every item carries the phone's id for it,
//!   unique per patrol, so sending a batch again stores nothing twice.
//! - Times are the server's: a batch says when the phone sent it, and the
//!   phone's clock offset is taken off every item (`domain::geo::reckon`).
//! - Check-ins are judged by `domain::geo::judge_checkin` on the stored
//!   fixes around them; the verdict and its evidence are stored and shown.

mod demo;
mod devices;
mod export;
mod views;
pub(crate) use demo::*;
pub use devices::*;
pub use export::*;
pub use views::*;

use chrono::{DateTime, TimeZone, Utc};
use domain::time::beijing_clock;
use domain::{
    geo::{self, Dropped, Evidence, Fix, Limits},
    osmand::Position,
    patrol::{
        outbox::{RefusalReason, RefusedItem},
        Batch, BatchReply, CheckinView, DroppedView, EventKind, GapReason, OutboxItem, PatrolState, Transition,
        MAX_BATCH,
    },
    ErrorCode, Role,
};
use rand::Rng;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{checkpoint, gps_device, patrol, patrol_checkin, patrol_event, patrol_route as route, track_point},
    error::{AppError, AppResult},
    State,
};

/// Fixes are accepted this long before a patrol's start and after its end
/// (the phone's first fix may be a little early, the last a little late).
pub(super) const EDGE_S: i64 = 60;
/// Rows per INSERT (16 columns: under SQLite's 32,766 parameters).
pub(super) const CHUNK: usize = 1500;

pub(super) fn ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_else(Utc::now)
}

/// The grids where this user is a grid worker.
pub fn worker_grids(user: &CurrentUser) -> Vec<i64> {
    user.grants.iter().filter(|g| g.role == Role::GridWorker).map(|g| g.org_unit_id).collect()
}

/// The worker's patrol that has not ended, if any.
pub async fn open_patrol(state: &State, worker: &CurrentUser) -> AppResult<Option<patrol::Model>> {
    Ok(patrol::Entity::find()
        .filter(patrol::Column::WorkerId.eq(worker.id))
        .filter(patrol::Column::State.ne(PatrolState::Ended))
        .one(&state.db)
        .await?)
}

/// Starts a patrol on a route of one of the worker's grids (or in a grid,
/// without a route). One patrol at a time per worker (a unique index).
pub async fn start(state: &State, worker: &CurrentUser, route_id: Option<i64>, grid_id: Option<i64>) -> AppResult<i64> {
    let grids = worker_grids(worker);
    if grids.is_empty() {
        return Err(ErrorCode::Forbidden.into());
    }
    let (grid, route) = match route_id {
        Some(r) => {
            let r = route::Entity::find_by_id(r).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
            if !r.active {
                return Err(ErrorCode::NotFound.into());
            }
            (r.grid_id, Some(r.id))
        }
        None => (grid_id.unwrap_or(grids[0]), None),
    };
    if !grids.contains(&grid) {
        return Err(ErrorCode::Forbidden.into());
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let inserted = patrol::Entity::insert(patrol::ActiveModel {
        worker_id: Set(worker.id),
        grid_id: Set(grid),
        route_id: Set(route),
        state: Set(PatrolState::Active),
        started_at: Set(now),
        ended_at: Set(None),
        ..Default::default()
    })
    .exec(&txn)
    .await
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            AppError::from(ErrorCode::PatrolUnderWay)
        } else {
            AppError::from(e)
        }
    })?;
    let id = inserted.last_insert_id;
    event(&txn, id, "start", EventKind::Start, None, now, None, worker.id).await?;
    txn.commit().await?;
    tracing::info!(patrol = id, "patrol started");
    if let Ok(Some(p)) = patrol::Entity::find_by_id(id).one(&state.db).await {
        publish(state, &p, "patrol", &domain::patrol::LiveState { patrol: id, state: PatrolState::Active }).await;
    }
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn event<C: ConnectionTrait>(
    conn: &C,
    patrol_id: i64,
    client_id: &str,
    kind: EventKind,
    reason: Option<&str>,
    at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    actor: i64,
) -> AppResult<bool> {
    let r = patrol_event::Entity::insert(patrol_event::ActiveModel {
        patrol_id: Set(patrol_id),
        client_id: Set(client_id.into()),
        kind: Set(kind),
        reason: Set(reason.map(str::to_string)),
        at: Set(at),
        until: Set(until),
        actor_id: Set(actor),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([patrol_event::Column::PatrolId, patrol_event::Column::ClientId])
    .exec_without_returning(conn)
    .await?;
    Ok(matches!(r, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

pub(super) async fn own_patrol(state: &State, worker: &CurrentUser, id: i64) -> AppResult<patrol::Model> {
    let p = patrol::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if p.worker_id != worker.id {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(p)
}

/// Pauses, resumes or ends a patrol, once per `client_id` (a form sends a
/// fresh one; the phone's outbox sends its own). `at` is the server's time
/// for it. Repeating a transition already made is not an error.
pub async fn transition(
    state: &State,
    worker: &CurrentUser,
    id: i64,
    what: Transition,
    client_id: &str,
    at: DateTime<Utc>,
) -> AppResult<PatrolState> {
    let p = own_patrol(state, worker, id).await?;
    let now = Utc::now();
    let at = Ord::min(Ord::max(at, p.started_at), now);
    let (from, to) = what.from_to();
    let txn = state.db.begin().await?;
    // the event first: a write opens the transaction on SQLite, and a repeat is a no-op
    if !event(&txn, id, client_id, what.into(), None, at, None, worker.id).await? {
        txn.rollback().await?;
        return current_state(state, id).await;
    }
    let mut update = patrol::Entity::update_many()
        .col_expr(patrol::Column::State, Expr::value(to.as_str()))
        .filter(patrol::Column::Id.eq(id))
        .filter(patrol::Column::State.is_in(from.iter().map(|s| s.as_str())));
    if to == PatrolState::Ended {
        update = update.col_expr(patrol::Column::EndedAt, Expr::value(at));
    }
    let changed = update.exec(&txn).await?.rows_affected;
    if changed == 0 {
        txn.rollback().await?;
        let now_state = current_state(state, id).await?;
        return if now_state == to {
            Ok(to)
        } else if now_state == PatrolState::Ended {
            Err(ErrorCode::NoPatrol.into())
        } else {
            Err(ErrorCode::Conflict.into())
        };
    }
    txn.commit().await?;
    tracing::info!(patrol = id, to = to.as_str(), "patrol transition");
    publish(state, &p, "patrol", &domain::patrol::LiveState { patrol: id, state: to }).await;
    Ok(to)
}

/// Whether this user may watch the live positions of patrols in the grid.
pub async fn may_watch(state: &State, user: &CurrentUser, grid_id: i64) -> AppResult<bool> {
    if !user.is_staff() {
        return Ok(false);
    }
    match crate::org::path_of(state, grid_id).await {
        Ok(path) => Ok(user.can_manage(&path)),
        Err(e) if e.code == ErrorCode::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Tells staff watching the grid where the patrol is now (the newest kept
/// fix) or what state it is in. Live updates are a convenience: a failure
/// is logged, never returned.
/// Publishes to the staff's live board, in the types the board reads
/// (`domain::patrol::{LivePosition, LiveState}`).
pub(super) async fn publish(state: &State, p: &patrol::Model, kind: &str, data: &impl serde::Serialize) {
    let topic = crate::events::Topic::Patrols(p.grid_id);
    let sent = match serde_json::to_value(data) {
        Ok(v) => state.bus.publish(&topic, kind, &v).await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = sent {
        tracing::warn!(patrol = p.id, "live patrol update not published: {e}");
    }
}

/// Publishes the newest fix of a batch if it is recent (an outbox sends
/// newest first, so older batches that follow would move the dot back).
pub(super) async fn publish_position(state: &State, p: &patrol::Model, newest: Option<(f64, f64, f64, i64)>) {
    let Some((lat, lng, acc, at)) = newest else { return };
    if Utc::now().timestamp() - at > 300 {
        return;
    }
    let data = domain::patrol::LivePosition { patrol: p.id, lat, lng, acc, at: beijing_clock(ts(at)) };
    publish(state, p, "position", &data).await;
}

/// A transition now, by the server's clock (plain forms).
pub async fn transition_now(
    state: &State,
    worker: &CurrentUser,
    id: i64,
    what: Transition,
    client_id: &str,
) -> AppResult<PatrolState> {
    transition(state, worker, id, what, client_id, Utc::now()).await
}

pub(super) async fn current_state(state: &State, id: i64) -> AppResult<PatrolState> {
    let p = patrol::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    Ok(p.state)
}

/// Compares secrets in time independent of where they differ.
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn limits() -> Limits {
    Limits::default()
}

/// A fix as stored, for the filter and the judge.
pub(super) fn fix_of(p: &track_point::Model) -> Fix {
    Fix {
        lat: p.lat,
        lng: p.lng,
        accuracy_m: p.accuracy_m,
        at: p.at.timestamp(),
        device_at: p.device_at.map(|d| d.timestamp()),
    }
}

/// The last fix kept in the track before `before` (seconds).
pub(super) async fn kept_before<C: ConnectionTrait>(
    conn: &C,
    patrol_id: i64,
    before: i64,
) -> AppResult<Option<track_point::Model>> {
    Ok(track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(patrol_id))
        .filter(track_point::Column::At.lt(ts(before)))
        .filter(track_point::Column::Dropped.is_null())
        .order_by_desc(track_point::Column::At)
        .order_by_desc(track_point::Column::Id)
        .one(conn)
        .await?)
}

/// A fix about to be stored.
pub struct NewFix {
    pub client_id: String,
    pub fix: Fix,
    pub speed_mps: Option<f64>,
    pub heading: Option<f64>,
    pub altitude: Option<f64>,
    pub battery: Option<i16>,
    pub dropped: Option<Dropped>,
}

/// What storing a batch of fixes did.
pub(super) struct Stored {
    /// Rows new to the table.
    new: usize,
    /// The fixes this call left out of the track, with the reason.
    dropped: Vec<(String, Dropped)>,
    /// The newest fix kept in the track: (lat, lng, accuracy, at).
    newest: Option<(f64, f64, f64, i64)>,
}

/// Filters fixes (in time order) against the track and stores them all,
/// raw, each once.
pub(super) async fn store_fixes<C: ConnectionTrait>(
    conn: &C,
    p: &patrol::Model,
    mut fixes: Vec<NewFix>,
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<Stored> {
    let mut out = Stored { new: 0, dropped: vec![], newest: None };
    if fixes.is_empty() {
        return Ok(out);
    }
    fixes.sort_by_key(|f| f.fix.at);
    for f in fixes.iter_mut() {
        // the same rule for every path (outbox, OsmAnd form and JSON)
        f.speed_mps = geo::reported_speed(f.speed_mps);
    }
    let l = limits();
    let start = p.started_at.timestamp() - EDGE_S;
    let end = p.ended_at.map(|e| e.timestamp() + EDGE_S);
    let first = fixes.iter().map(|f| f.fix.at).min().unwrap_or(0);
    // Compared by reckoned times on both sides: the stored fix's phone time
    // is a hint only. Preferring it (a phone 30 s fast) made the time between
    // two real fixes look like none and dropped real walking as a jump.
    let mut prev = kept_before(conn, p.id, first).await?.map(|m| Fix { device_at: None, ..fix_of(&m) });
    for f in fixes.iter_mut().filter(|f| f.dropped.is_none()) {
        if f.fix.at < start || end.is_some_and(|e| f.fix.at > e) {
            f.dropped = Some(Dropped::OutsidePatrol);
            continue;
        }
        // the reckoned time is what counts; the device's is kept as a hint
        let probe = Fix { device_at: None, ..f.fix };
        match geo::filter(prev.as_ref(), &probe, &l) {
            Ok(()) => prev = Some(probe),
            Err(d) => f.dropped = Some(d),
        }
    }
    out.dropped = fixes.iter().filter_map(|f| f.dropped.map(|d| (f.client_id.clone(), d))).collect();
    out.newest =
        fixes.iter().rev().find(|f| f.dropped.is_none()).map(|f| (f.fix.lat, f.fix.lng, f.fix.accuracy_m, f.fix.at));
    let finite = |x: f64, or: f64| if x.is_finite() { x } else { or };
    if conn.get_database_backend() == DbBackend::Postgres {
        // one typed array per column, unnested by the server: a handful of
        // bind parameters however many rows, sent in the binary protocol
        for chunk in fixes.chunks(pg_chunk()) {
            let values = pg_values(p.id, now, source, chunk);
            let r = conn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, PG_INSERT, values)).await?;
            out.new += r.rows_affected() as usize;
        }
        return Ok(out);
    }
    for chunk in fixes.chunks(CHUNK) {
        let rows: Vec<track_point::ActiveModel> = chunk
            .iter()
            .map(|f| track_point::ActiveModel {
                patrol_id: Set(p.id),
                client_id: Set(f.client_id.clone()),
                lat: Set(finite(f.fix.lat, 0.0)),
                lng: Set(finite(f.fix.lng, 0.0)),
                accuracy_m: Set(finite(f.fix.accuracy_m, -1.0)),
                speed_mps: Set(f.speed_mps.filter(|v| v.is_finite())),
                heading: Set(f.heading.filter(|v| v.is_finite())),
                altitude: Set(f.altitude.filter(|v| v.is_finite())),
                battery: Set(f.battery),
                device_at: Set(f.fix.device_at.map(ts)),
                at: Set(ts(f.fix.at)),
                received_at: Set(now),
                source: Set(source.into()),
                dropped: Set(f.dropped.map(|d| d.code().to_string())),
                dropped_value: Set(f.dropped.and_then(|d| d.value())),
                ..Default::default()
            })
            .collect();
        let r = track_point::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([track_point::Column::PatrolId, track_point::Column::ClientId])
            .exec_without_returning(conn)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(n) = r {
            out.new += n as usize;
        }
    }
    Ok(out)
}

/// The parameters of `PG_INSERT` for these fixes.
pub fn pg_values(patrol_id: i64, now: DateTime<Utc>, source: &str, chunk: &[NewFix]) -> Vec<sea_orm::Value> {
    let finite = |x: f64, or: f64| if x.is_finite() { x } else { or };
    let nan = |v: Option<f64>| v.filter(|v| v.is_finite()).unwrap_or(f64::NAN);
    let client: Vec<String> = chunk.iter().map(|f| f.client_id.clone()).collect();
    let lat: Vec<f64> = chunk.iter().map(|f| finite(f.fix.lat, 0.0)).collect();
    let lng: Vec<f64> = chunk.iter().map(|f| finite(f.fix.lng, 0.0)).collect();
    let acc: Vec<f64> = chunk.iter().map(|f| finite(f.fix.accuracy_m, -1.0)).collect();
    let speed: Vec<f64> = chunk.iter().map(|f| nan(f.speed_mps)).collect();
    let heading: Vec<f64> = chunk.iter().map(|f| nan(f.heading)).collect();
    let alt: Vec<f64> = chunk.iter().map(|f| nan(f.altitude)).collect();
    let battery: Vec<i16> = chunk.iter().map(|f| f.battery.unwrap_or(-1)).collect();
    let device_at: Vec<i64> = chunk.iter().map(|f| f.fix.device_at.unwrap_or(i64::MIN)).collect();
    let at: Vec<i64> = chunk.iter().map(|f| f.fix.at).collect();
    let dropped: Vec<String> =
        chunk.iter().map(|f| f.dropped.map(|d| d.code().to_string()).unwrap_or_default()).collect();
    let dropped_value: Vec<f64> = chunk.iter().map(|f| nan(f.dropped.and_then(|d| d.value()))).collect();
    vec![
        patrol_id.into(),
        now.into(),
        source.into(),
        client.into(),
        lat.into(),
        lng.into(),
        acc.into(),
        speed.into(),
        heading.into(),
        alt.into(),
        battery.into(),
        device_at.into(),
        at.into(),
        dropped.into(),
        dropped_value.into(),
    ]
}

/// Rows per statement on PostgreSQL (one array per column, about 150 bytes
/// a row): `PG_INGEST_ROWS`, default 100. sqlx does not set TCP_NODELAY, so
/// a statement whose parameters need more than one write of the socket waits
/// for the server's delayed ACK (40 ms on Linux) before its last part goes:
/// measured with 1,000- and 350-row statements, which stalled on most
/// batches; 100 rows (≈ 15 KB) go in one write.
pub fn pg_chunk() -> usize {
    static ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROWS.get_or_init(|| {
        std::env::var("PG_INGEST_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| (10..=5000).contains(n))
            .unwrap_or(100)
    })
}

/// The PostgreSQL ingest statement: `$1` patrol, `$2` received at, `$3`
/// source, then one array per column. Arrays carry no NULLs here, so a
/// missing value travels as a sentinel the statement turns back into NULL
/// (NaN for a float, -1 for the battery, i64::MIN for the device time, ""
/// for the reason); times are Unix seconds.
pub const PG_INSERT: &str = r#"INSERT INTO track_points
  (patrol_id, client_id, lat, lng, accuracy_m, speed_mps, heading, altitude, battery, device_at, "at", received_at, source, dropped, dropped_value)
SELECT $1, u.c, u.la, u.lo, u.ac, NULLIF(u.sp, 'NaN'), NULLIF(u.he, 'NaN'), NULLIF(u.al, 'NaN'), NULLIF(u.ba, -1),
       to_timestamp(NULLIF(u.de, '-9223372036854775808'::int8)), to_timestamp(u.t), $2, $3, NULLIF(u.dr, ''), NULLIF(u.dv, 'NaN')
FROM UNNEST($4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
            $11::int2[], $12::int8[], $13::int8[], $14::text[], $15::float8[])
     AS u(c, la, lo, ac, sp, he, al, ba, de, t, dr, dv)
ON CONFLICT (patrol_id, client_id) DO NOTHING"#;

/// A batch as the phone sent it, each item read on its own: the items the
/// server cannot read are refused one by one (with the id they carry), the
/// rest go on. `Err` only when the batch itself cannot be read.
pub fn read_batch(body: &[u8], en: bool) -> AppResult<(Batch, Vec<RefusedItem>)> {
    #[derive(serde::Deserialize)]
    struct Raw {
        patrol: i64,
        sent_at: i64,
        items: Vec<serde_json::Value>,
    }
    let raw: Raw = serde_json::from_slice(body).map_err(|_| ErrorCode::InvalidInput)?;
    let mut items = Vec::with_capacity(raw.items.len());
    let mut refused = vec![];
    for v in raw.items {
        let id = v.get("id").and_then(|i| i.as_str()).unwrap_or_default().to_string();
        match serde_json::from_value::<OutboxItem>(v) {
            Ok(item) => items.push(item),
            Err(_) => refused.push(RefusedItem::new(id, RefusalReason::Unreadable, en)),
        }
    }
    Ok((Batch { patrol: raw.patrol, sent_at: raw.sent_at, items }, refused))
}

/// Why one item of a batch cannot be taken as it is, if it cannot.
fn refusal(item: &OutboxItem) -> Option<RefusalReason> {
    if !domain::patrol::valid_client_id(item.id()) {
        return Some(RefusalReason::BadId);
    }
    match item {
        OutboxItem::Event { kind: EventKind::Start, .. }
        | OutboxItem::Event { kind: EventKind::Gap, reason: None, .. } => Some(RefusalReason::UnknownEvent),
        _ => None,
    }
}

/// Accepts a batch from the phone's outbox. Every item is accounted for in
/// the reply: stored now, already stored, stored raw and left out of the
/// track (with the reason), or refused (with the reason; one bad item does
/// not fail the rest). Check-ins come back with their verdict.
pub async fn ingest(state: &State, worker: &CurrentUser, mut batch: Batch) -> AppResult<BatchReply> {
    let en = worker.lang.is_en();
    let p = own_patrol(state, worker, batch.patrol).await?;
    let mut reply =
        BatchReply { stored: 0, duplicates: 0, dropped: vec![], checkins: vec![], refused: vec![], state: p.state };
    // 0. the items that cannot be taken are refused, one by one, before
    // anything is applied; past the limit, the oldest wait for the next batch
    if batch.items.len() > MAX_BATCH {
        batch.items.sort_by_key(|i| std::cmp::Reverse(i.t()));
        for i in batch.items.drain(MAX_BATCH..) {
            reply.refused.push(RefusedItem::new(i.id(), RefusalReason::OverLimit, en));
        }
    }
    batch.items.retain(|i| match refusal(i) {
        Some(r) => {
            reply.refused.push(RefusedItem::new(i.id(), r, en));
            false
        }
        None => true,
    });
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    let l = limits();
    let reckon = |t: i64| geo::reckon(t, batch.sent_at, now_ms, &l);

    // 1. events (pause, resume, end, gaps), in time order
    let mut events: Vec<&OutboxItem> = batch.items.iter().filter(|i| matches!(i, OutboxItem::Event { .. })).collect();
    events.sort_by_key(|i| i.t());
    let changed = !events.is_empty();
    for item in events {
        let OutboxItem::Event { id, t, kind, until, reason } = item else { continue };
        let at = ts(reckon(*t).unwrap_or(now.timestamp()));
        let tr = match kind {
            EventKind::Pause => Some(Transition::Pause),
            EventKind::Resume => Some(Transition::Resume),
            EventKind::End => Some(Transition::End),
            EventKind::Start | EventKind::Gap => None,
        };
        if let Some(tr) = tr {
            let before = reply.state;
            match transition(state, worker, p.id, tr, id, at).await {
                Ok(s) => reply.state = s,
                Err(e) if e.code == ErrorCode::NoPatrol || e.code == ErrorCode::Conflict => {}
                Err(e) => return Err(e),
            }
            if before == reply.state {
                reply.duplicates += 1;
            } else {
                reply.stored += 1;
            }
        } else if let (EventKind::Gap, Some(reason)) = (kind, reason) {
            let until_at = until.and_then(|u| reckon(u).ok()).map(ts).unwrap_or(at);
            let until_at = Ord::max(until_at, at);
            if event(&state.db, p.id, id, EventKind::Gap, Some(reason.as_str()), at, Some(until_at), worker.id).await? {
                reply.stored += 1;
            } else {
                reply.duplicates += 1;
            }
        }
        // (a start, or a gap without its reason, was refused above)
    }
    // the events may have ended it
    let p = if changed { own_patrol(state, worker, batch.patrol).await? } else { p };

    // 2. fixes
    let mut fixes = vec![];
    for item in &batch.items {
        let OutboxItem::Fix { id, t, lat, lng, acc, speed, heading, alt } = item else { continue };
        let (at, dropped) = match reckon(*t) {
            Ok(at) => (at, None),
            Err(d) => (now.timestamp(), Some(d)),
        };
        let fix = Fix { lat: *lat, lng: *lng, accuracy_m: *acc, at, device_at: Some(t.div_euclid(1000)) };
        let dropped = dropped.or_else(|| geo::filter(None, &Fix { device_at: None, ..fix }, &l).err());
        fixes.push(NewFix {
            client_id: id.clone(),
            fix,
            speed_mps: *speed,
            heading: *heading,
            altitude: *alt,
            battery: None,
            dropped,
        });
    }
    let n_fixes = fixes.len();
    let ids: Vec<String> = fixes.iter().map(|f| f.client_id.clone()).collect();
    let stored = store_fixes(&state.db, &p, fixes, "app", now).await?;
    let new = stored.new;
    if new > 0 && p.state == PatrolState::Active {
        publish_position(state, &p, stored.newest).await;
    }
    reply.stored += new;
    reply.duplicates += n_fixes - new;
    if new == n_fixes {
        // all new: the reasons are the ones just decided
        reply.dropped = stored
            .dropped
            .iter()
            .map(|(id, d)| DroppedView { id: id.clone(), reason: d.code().into(), text: d.text(en) })
            .collect();
    } else if !ids.is_empty() {
        // some were sent before: their stored reasons are the answer
        for chunk in ids.chunks(CHUNK) {
            for r in track_point::Entity::find()
                .filter(track_point::Column::PatrolId.eq(p.id))
                .filter(track_point::Column::ClientId.is_in(chunk.iter().cloned()))
                .filter(track_point::Column::Dropped.is_not_null())
                .all(&state.db)
                .await?
            {
                if let Some(d) = r.dropped.as_deref().and_then(|c| Dropped::from_code(c, r.dropped_value)) {
                    reply.dropped.push(DroppedView { id: r.client_id, reason: d.code().into(), text: d.text(en) });
                }
            }
        }
    }

    // 3. check-ins, judged on the stored fixes around them
    for item in &batch.items {
        let OutboxItem::Checkin { id, t, checkpoint: cp_id, qr } = item else { continue };
        let at = reckon(*t).unwrap_or(now.timestamp());
        let (view, new) = match checkin(state, en, &p, id, *cp_id, at, *t, qr.as_deref(), now).await {
            Ok(answer) => answer,
            Err(e) if e.code == ErrorCode::NotFound => {
                reply.refused.push(RefusedItem::new(id.as_str(), RefusalReason::UnknownCheckpoint, en));
                continue;
            }
            Err(e) => return Err(e),
        };
        if new {
            reply.stored += 1;
        } else {
            reply.duplicates += 1;
        }
        reply.checkins.push(view);
    }
    Ok(reply)
}

/// The checkpoints a patrol may check in at: its route's, or every active
/// route's in its grid when it has no route.
pub(super) async fn patrol_checkpoints(state: &State, p: &patrol::Model) -> AppResult<Vec<checkpoint::Model>> {
    let routes: Vec<i64> = match p.route_id {
        Some(r) => vec![r],
        None => route::Entity::find()
            .filter(route::Column::GridId.eq(p.grid_id))
            .filter(route::Column::Active.eq(true))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    };
    Ok(checkpoint::Entity::find()
        .filter(checkpoint::Column::RouteId.is_in(routes))
        .order_by_asc(checkpoint::Column::RouteId)
        .order_by_asc(checkpoint::Column::Seq)
        .all(&state.db)
        .await?)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn checkin(
    state: &State,
    en: bool,
    p: &patrol::Model,
    client_id: &str,
    checkpoint_id: i64,
    at: i64,
    device_ms: i64,
    qr: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<(CheckinView, bool)> {
    if let Some(existing) = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(p.id))
        .filter(patrol_checkin::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?
    {
        let names = checkpoint_names(state, &[existing.checkpoint_id]).await?;
        return Ok((checkin_view(&existing, &names, en), false));
    }
    let cp =
        patrol_checkpoints(state, p).await?.into_iter().find(|c| c.id == checkpoint_id).ok_or(ErrorCode::NotFound)?;
    let l = limits();
    let window_start = at - l.corroborate_within_s - 5;
    let rows = track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(p.id))
        .filter(track_point::Column::At.gte(ts(window_start)))
        .filter(track_point::Column::At.lte(ts(at + 5)))
        .filter(track_point::Column::Dropped.is_null().or(track_point::Column::Dropped.eq("jump")))
        .order_by_asc(track_point::Column::At)
        .order_by_asc(track_point::Column::Id)
        .all(&state.db)
        .await?;
    let previous = kept_before(&state.db, p.id, window_start).await?.map(|m| fix_of(&m));
    let fixes: Vec<Fix> = rows.iter().map(fix_of).collect();
    let scanned = match (qr, &cp.qr_token) {
        (Some(given), Some(token)) => same(given.trim().as_bytes(), token.as_bytes()),
        _ => false,
    };
    let target =
        geo::Checkpoint { lat: cp.lat, lng: cp.lng, radius_m: cp.radius_m as f64, requires_qr: cp.qr_token.is_some() };
    let mut verdict = geo::judge_checkin(&target, previous.as_ref(), &fixes, scanned, &l);
    // the clock is judged by the batch (the fixes may predate the check-in)
    let skew = device_ms.div_euclid(1000) - at;
    verdict.evidence.retain(|e| !matches!(e, Evidence::ClockSkew { .. }));
    if skew.abs() > l.max_clock_skew_s {
        verdict.evidence.push(Evidence::ClockSkew { seconds: skew });
    }
    let evidence = serde_json::to_string(&verdict.evidence).map_err(AppError::internal)?;
    let row = patrol_checkin::ActiveModel {
        patrol_id: Set(p.id),
        checkpoint_id: Set(cp.id),
        client_id: Set(client_id.into()),
        at: Set(ts(at)),
        accepted: Set(verdict.accepted),
        evidence: Set(evidence),
        qr_scanned: Set(scanned),
        received_at: Set(now),
        ..Default::default()
    };
    let r = patrol_checkin::Entity::insert(row)
        .on_conflict_do_nothing_on([patrol_checkin::Column::PatrolId, patrol_checkin::Column::ClientId])
        .exec_without_returning(&state.db)
        .await?;
    let stored = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(p.id))
        .filter(patrol_checkin::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let names = HashMap::from([(cp.id, cp.name.clone())]);
    tracing::info!(patrol = p.id, checkpoint = cp.id, accepted = stored.accepted, "check-in");
    Ok((checkin_view(&stored, &names, en), matches!(r, sea_orm::TryInsertResult::Inserted(n) if n > 0)))
}

pub(super) async fn checkpoint_names(state: &State, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    Ok(checkpoint::Entity::find()
        .filter(checkpoint::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

pub(super) fn checkin_view(c: &patrol_checkin::Model, names: &HashMap<i64, String>, en: bool) -> CheckinView {
    let evidence: Vec<Evidence> = serde_json::from_str(&c.evidence).unwrap_or_default();
    CheckinView {
        id: c.client_id.clone(),
        checkpoint_id: c.checkpoint_id,
        checkpoint: names.get(&c.checkpoint_id).cloned().unwrap_or_default(),
        at: domain::time::beijing_time(c.at),
        accepted: c.accepted,
        evidence: evidence.iter().map(|e| e.text(en)).collect(),
    }
}
