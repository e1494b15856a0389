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

use chrono::{DateTime, TimeZone, Utc};
use domain::time::beijing_clock;
use domain::{
    geo::{self, Dropped, Evidence, Fix, Limits},
    osmand::Position,
    patrol::{Batch, BatchReply, CheckinView, DroppedView, GapReason, OutboxItem, PatrolState, Transition, MAX_BATCH},
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
const EDGE_S: i64 = 60;
/// Rows per INSERT (16 columns: under SQLite's 32,766 parameters).
const CHUNK: usize = 1500;

fn ts(s: i64) -> DateTime<Utc> {
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
        .filter(patrol::Column::State.ne(PatrolState::Ended.as_str()))
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
        state: Set(PatrolState::Active.as_str().into()),
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
    event(&txn, id, "start", "start", None, now, None, worker.id).await?;
    txn.commit().await?;
    tracing::info!(patrol = id, "patrol started");
    if let Ok(Some(p)) = patrol::Entity::find_by_id(id).one(&state.db).await {
        publish(state, &p, "patrol", serde_json::json!({ "patrol": id, "state": "active" })).await;
    }
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn event<C: ConnectionTrait>(
    conn: &C,
    patrol_id: i64,
    client_id: &str,
    kind: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    actor: i64,
) -> AppResult<bool> {
    let r = patrol_event::Entity::insert(patrol_event::ActiveModel {
        patrol_id: Set(patrol_id),
        client_id: Set(client_id.into()),
        kind: Set(kind.into()),
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

async fn own_patrol(state: &State, worker: &CurrentUser, id: i64) -> AppResult<patrol::Model> {
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
    if !event(&txn, id, client_id, what.as_str(), None, at, None, worker.id).await? {
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
    publish(state, &p, "patrol", serde_json::json!({ "patrol": id, "state": to.as_str() })).await;
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
async fn publish(state: &State, p: &patrol::Model, kind: &str, data: serde_json::Value) {
    let topic = crate::events::Topic::Patrols(p.grid_id);
    if let Err(e) = state.bus.publish(&topic, kind, &data).await {
        tracing::warn!(patrol = p.id, "live patrol update not published: {e}");
    }
}

/// Publishes the newest fix of a batch if it is recent (an outbox sends
/// newest first, so older batches that follow would move the dot back).
async fn publish_position(state: &State, p: &patrol::Model, newest: Option<(f64, f64, f64, i64)>) {
    let Some((lat, lng, acc, at)) = newest else { return };
    if Utc::now().timestamp() - at > 300 {
        return;
    }
    let data = serde_json::json!({
        "patrol": p.id,
        "lat": lat,
        "lng": lng,
        "acc": acc,
        "at": beijing_clock(ts(at)),
    });
    publish(state, p, "position", data).await;
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

async fn current_state(state: &State, id: i64) -> AppResult<PatrolState> {
    let p = patrol::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    PatrolState::parse(&p.state).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad patrol state")))
}

/// Compares secrets in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn limits() -> Limits {
    Limits::default()
}

/// A fix as stored, for the filter and the judge.
fn fix_of(p: &track_point::Model) -> Fix {
    Fix {
        lat: p.lat,
        lng: p.lng,
        accuracy_m: p.accuracy_m,
        at: p.at.timestamp(),
        device_at: p.device_at.map(|d| d.timestamp()),
    }
}

/// The last fix kept in the track before `before` (seconds).
async fn kept_before<C: ConnectionTrait>(
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
struct Stored {
    /// Rows new to the table.
    new: usize,
    /// The fixes this call left out of the track, with the reason.
    dropped: Vec<(String, Dropped)>,
    /// The newest fix kept in the track: (lat, lng, accuracy, at).
    newest: Option<(f64, f64, f64, i64)>,
}

/// Filters fixes (in time order) against the track and stores them all,
/// raw, each once.
async fn store_fixes<C: ConnectionTrait>(
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

/// Accepts a batch from the phone's outbox. Every item is accounted for in
/// the reply: stored now, already stored, or stored raw and left out of the
/// track (with the reason). Check-ins come back with their verdict.
pub async fn ingest(state: &State, worker: &CurrentUser, batch: Batch) -> AppResult<BatchReply> {
    if batch.items.len() > MAX_BATCH {
        return Err(ErrorCode::InvalidInput.into());
    }
    if batch.items.iter().any(|i| !domain::patrol::valid_client_id(i.id())) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let p = own_patrol(state, worker, batch.patrol).await?;
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    let l = limits();
    let reckon = |t: i64| geo::reckon(t, batch.sent_at, now_ms, &l);
    let en = worker.lang == "en";
    let mut reply = BatchReply {
        stored: 0,
        duplicates: 0,
        dropped: vec![],
        checkins: vec![],
        state: PatrolState::parse(&p.state).unwrap_or(PatrolState::Ended),
    };

    // 0. every item is understood before anything is applied: a batch
    // refused with 400 changes nothing (a pause before an unknown kind)
    for item in &batch.items {
        if let OutboxItem::Event { kind, reason, .. } = item {
            let known = Transition::parse(kind).is_some()
                || (kind == "gap" && reason.as_deref().and_then(GapReason::parse).is_some());
            if !known {
                return Err(ErrorCode::InvalidInput.into());
            }
        }
    }

    // 1. events (pause, resume, end, gaps), in time order
    let mut events: Vec<&OutboxItem> = batch.items.iter().filter(|i| matches!(i, OutboxItem::Event { .. })).collect();
    events.sort_by_key(|i| i.t());
    let changed = !events.is_empty();
    for item in events {
        let OutboxItem::Event { id, t, kind, until, reason } = item else { continue };
        let at = ts(reckon(*t).unwrap_or(now.timestamp()));
        if let Some(tr) = Transition::parse(kind) {
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
        } else if kind == "gap" {
            let reason = reason.as_deref().and_then(GapReason::parse).ok_or(ErrorCode::InvalidInput)?;
            let until_at = until.and_then(|u| reckon(u).ok()).map(ts).unwrap_or(at);
            let until_at = Ord::max(until_at, at);
            if event(&state.db, p.id, id, "gap", Some(reason.as_str()), at, Some(until_at), worker.id).await? {
                reply.stored += 1;
            } else {
                reply.duplicates += 1;
            }
        } else {
            return Err(ErrorCode::InvalidInput.into());
        }
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
    if new > 0 && p.state == PatrolState::Active.as_str() {
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
        let (view, new) = checkin(state, en, &p, id, *cp_id, at, *t, qr.as_deref(), now).await?;
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
async fn patrol_checkpoints(state: &State, p: &patrol::Model) -> AppResult<Vec<checkpoint::Model>> {
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
async fn checkin(
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

async fn checkpoint_names(state: &State, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    Ok(checkpoint::Entity::find()
        .filter(checkpoint::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

fn checkin_view(c: &patrol_checkin::Model, names: &HashMap<i64, String>, en: bool) -> CheckinView {
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

// ------------------------------------------------------------------ OsmAnd

/// Stores positions from a registered logger device into its worker's
/// active patrol. Unknown device → `NotFound`. Without a patrol under way
/// the positions are discarded, not stored (privacy).
pub async fn osmand(state: &State, positions: Vec<Position>) -> AppResult<()> {
    let Some(first) = positions.first() else { return Ok(()) };
    let device = gps_device::Entity::find()
        .filter(gps_device::Column::DeviceId.eq(first.device_id.as_str()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let p = patrol::Entity::find()
        .filter(patrol::Column::WorkerId.eq(device.worker_id))
        .filter(patrol::Column::State.eq(PatrolState::Active.as_str()))
        .one(&state.db)
        .await?;
    let Some(p) = p else { return Ok(()) };
    let now = Utc::now();
    let l = limits();
    let mut fixes = vec![];
    for (i, pos) in positions.iter().enumerate() {
        let device_at = pos.at.unwrap_or(now.timestamp());
        let raw = Fix {
            lat: pos.lat,
            lng: pos.lng,
            accuracy_m: pos.accuracy_m.unwrap_or(-1.0),
            at: now.timestamp(),
            device_at: Some(device_at),
        };
        let at = geo::taken_at(&raw, &l);
        // privacy: what was recorded outside the patrol is not kept at all,
        // by the time the logger says it was taken (an 8-day-old fix that
        // arrives during a patrol is not the patrol's) or by when we got it
        if at < p.started_at.timestamp() - EDGE_S || device_at < p.started_at.timestamp() - EDGE_S {
            continue;
        }
        // a device clock far off: the fix is kept raw at the server's time, with the reason
        let dropped = if pos.valid { geo::filter(None, &raw, &l).err() } else { Some(Dropped::Invalid) };
        fixes.push(NewFix {
            client_id: format!(
                "osmand:{}:{}",
                device.id,
                pos.at.map(|t| t.to_string()).unwrap_or_else(|| format!("r{}-{i}", now.timestamp_millis()))
            ),
            fix: Fix { at, ..raw },
            speed_mps: pos.speed_mps,
            heading: pos.heading,
            altitude: pos.altitude,
            battery: pos.battery,
            dropped,
        });
    }
    let stored = store_fixes(&state.db, &p, fixes, "osmand", now).await?;
    if stored.new > 0 {
        publish_position(state, &p, stored.newest).await;
    }
    Ok(())
}

/// A fresh device id for a worker's logger app: twelve digits.
fn new_device_id() -> String {
    let mut rng = rand::thread_rng();
    (0..12).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

/// Registers a logger device for a grid worker: the id they typed (6–64
/// characters), or a new random one.
pub async fn register_device(
    state: &State,
    worker: &CurrentUser,
    device_id: Option<&str>,
    label: &str,
) -> AppResult<String> {
    if worker_grids(worker).is_empty() {
        return Err(ErrorCode::Forbidden.into());
    }
    let id = match device_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let s = domain::osmand::device_id(s).map_err(|_| ErrorCode::InvalidDevice)?;
            if s.len() < 6 {
                return Err(ErrorCode::InvalidDevice.into());
            }
            s
        }
        None => new_device_id(),
    };
    let label: String = label.trim().chars().take(40).collect();
    gps_device::Entity::insert(gps_device::ActiveModel {
        worker_id: Set(worker.id),
        device_id: Set(id.clone()),
        label: Set(if label.is_empty() { "GPS".into() } else { label }),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            ErrorCode::DeviceTaken.into()
        } else {
            AppError::from(e)
        }
    })?;
    Ok(id)
}

/// The worker's registered devices: (row id, device id, label).
pub async fn devices(state: &State, worker: &CurrentUser) -> AppResult<Vec<(i64, String, String)>> {
    Ok(gps_device::Entity::find()
        .filter(gps_device::Column::WorkerId.eq(worker.id))
        .order_by_asc(gps_device::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.device_id, d.label))
        .collect())
}

/// Removes one of the worker's devices.
pub async fn remove_device(state: &State, worker: &CurrentUser, id: i64) -> AppResult<()> {
    if !worker.has_role(Role::GridWorker) {
        return Err(ErrorCode::Forbidden.into());
    }
    gps_device::Entity::delete_many()
        .filter(gps_device::Column::Id.eq(id))
        .filter(gps_device::Column::WorkerId.eq(worker.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

// ------------------------------------------------------------------ views

/// A check-in from a plain form (no JavaScript): now, by the server's
/// clock, judged on the fixes already stored (e.g. from a logger app).
pub async fn checkin_now(
    state: &State,
    worker: &CurrentUser,
    patrol_id: i64,
    checkpoint_id: i64,
    qr: Option<&str>,
    client_id: &str,
) -> AppResult<CheckinView> {
    if !domain::patrol::valid_client_id(client_id) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let p = own_patrol(state, worker, patrol_id).await?;
    if p.state == PatrolState::Ended.as_str() {
        return Err(ErrorCode::NoPatrol.into());
    }
    let now = Utc::now();
    let (view, _) = checkin(
        state,
        worker.lang == "en",
        &p,
        client_id,
        checkpoint_id,
        now.timestamp(),
        now.timestamp_millis(),
        qr,
        now,
    )
    .await?;
    Ok(view)
}

/// The checkpoint a printed QR code names, if it is on the worker's patrol
/// under way: (patrol id, checkpoint id, name, a fresh id for the form — each
/// scan is its own check-in, a double tap on one page is not).
pub async fn checkpoint_by_token(
    state: &State,
    worker: &CurrentUser,
    token: &str,
) -> AppResult<(i64, i64, String, String)> {
    let cp = checkpoint::Entity::find()
        .filter(checkpoint::Column::QrToken.eq(token.trim()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let p = open_patrol(state, worker).await?.ok_or(ErrorCode::NoPatrol)?;
    if !patrol_checkpoints(state, &p).await?.iter().any(|c| c.id == cp.id) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok((p.id, cp.id, cp.name, format!("qr-{:016x}", rand::thread_rng().gen::<u64>())))
}

async fn rows_of(state: &State, patrols: Vec<patrol::Model>, en: bool) -> AppResult<Vec<domain::patrol::PatrolRow>> {
    use crate::entities::org_unit;
    let ids: Vec<i64> = patrols.iter().map(|p| p.id).collect();
    let names = crate::support::people::names(state, patrols.iter().map(|p| p.worker_id), en).await?;
    let grids: HashMap<i64, String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(patrols.iter().map(|p| p.grid_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let routes: HashMap<i64, String> = route::Entity::find()
        .filter(route::Column::Id.is_in(patrols.iter().filter_map(|p| p.route_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    // (patrol, dropped?) → count, and the last kept fix
    let counts: Vec<(i64, bool, i64, Option<DateTime<Utc>>)> = track_point::Entity::find()
        .select_only()
        .column(track_point::Column::PatrolId)
        .column_as(Expr::col(track_point::Column::Dropped).is_not_null(), "is_dropped")
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .column_as(track_point::Column::At.max(), "last")
        .filter(track_point::Column::PatrolId.is_in(ids.clone()))
        .group_by(track_point::Column::PatrolId)
        .group_by(Expr::col(track_point::Column::Dropped).is_not_null())
        .into_tuple()
        .all(&state.db)
        .await?;
    let checks: Vec<(i64, bool, i64)> = patrol_checkin::Entity::find()
        .select_only()
        .column(patrol_checkin::Column::PatrolId)
        .column(patrol_checkin::Column::Accepted)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(patrol_checkin::Column::PatrolId.is_in(ids.clone()))
        .group_by(patrol_checkin::Column::PatrolId)
        .group_by(patrol_checkin::Column::Accepted)
        .into_tuple()
        .all(&state.db)
        .await?;
    // checkpoints reached (an accepted check-in) out of those planned: the
    // route's, or every active route's in the grid for a patrol without one
    let reached: Vec<(i64, i64)> = patrol_checkin::Entity::find()
        .select_only()
        .column(patrol_checkin::Column::PatrolId)
        .column(patrol_checkin::Column::CheckpointId)
        .distinct()
        .filter(patrol_checkin::Column::PatrolId.is_in(ids))
        .filter(patrol_checkin::Column::Accepted.eq(true))
        .into_tuple()
        .all(&state.db)
        .await?;
    let grid_routes: Vec<(i64, i64)> = route::Entity::find()
        .select_only()
        .column(route::Column::Id)
        .column(route::Column::GridId)
        .filter(route::Column::GridId.is_in(patrols.iter().filter(|p| p.route_id.is_none()).map(|p| p.grid_id)))
        .filter(route::Column::Active.eq(true))
        .into_tuple()
        .all(&state.db)
        .await?;
    let route_ids: Vec<i64> =
        patrols.iter().filter_map(|p| p.route_id).chain(grid_routes.iter().map(|(r, _)| *r)).collect();
    let per_route: Vec<(i64, i64)> = checkpoint::Entity::find()
        .select_only()
        .column(checkpoint::Column::RouteId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(checkpoint::Column::RouteId.is_in(route_ids))
        .group_by(checkpoint::Column::RouteId)
        .into_tuple()
        .all(&state.db)
        .await?;
    let on_route = |r: i64| per_route.iter().filter(|(id, _)| *id == r).map(|(_, n)| *n as u64).sum::<u64>();
    Ok(patrols
        .into_iter()
        .map(|p| {
            let c = |dropped: bool| counts.iter().filter(|r| r.0 == p.id && r.1 == dropped).map(|r| r.2 as u64).sum();
            let last = counts.iter().filter(|r| r.0 == p.id && !r.1).find_map(|r| r.3);
            domain::patrol::PatrolRow {
                id: p.id,
                worker: names.get(&p.worker_id).cloned().unwrap_or_default(),
                grid: grids.get(&p.grid_id).cloned().unwrap_or_default(),
                route: p.route_id.and_then(|r| routes.get(&r).cloned()),
                state: PatrolState::parse(&p.state).unwrap_or(PatrolState::Ended),
                started: domain::time::beijing_time(p.started_at),
                ended: p.ended_at.map(domain::time::beijing_time),
                kept: c(false),
                dropped: c(true),
                checkins_ok: checks.iter().filter(|r| r.0 == p.id && r.1).map(|r| r.2 as u64).sum(),
                checkins: checks.iter().filter(|r| r.0 == p.id).map(|r| r.2 as u64).sum(),
                checkpoints_reached: reached.iter().filter(|r| r.0 == p.id).count() as u64,
                checkpoints_planned: match p.route_id {
                    Some(r) => on_route(r),
                    None => grid_routes.iter().filter(|(_, g)| *g == p.grid_id).map(|(r, _)| on_route(*r)).sum(),
                },
                last_fix: last.map(beijing_clock),
            }
        })
        .collect())
}

async fn checkins_of(state: &State, patrol_id: i64, en: bool) -> AppResult<Vec<CheckinView>> {
    let rows = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(patrol_id))
        .order_by_asc(patrol_checkin::Column::At)
        .order_by_asc(patrol_checkin::Column::Id)
        .all(&state.db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.checkpoint_id).collect();
    let names = checkpoint_names(state, &ids).await?;
    Ok(rows.iter().map(|c| checkin_view(c, &names, en)).collect())
}

fn view_of(c: &checkpoint::Model) -> domain::patrol::CheckpointView {
    domain::patrol::CheckpointView {
        id: c.id,
        seq: c.seq,
        name: c.name.clone(),
        lat: c.lat,
        lng: c.lng,
        radius_m: c.radius_m,
        requires_qr: c.qr_token.is_some(),
    }
}

/// Everything the worker's patrol page shows.
pub async fn worker_home(state: &State, worker: &CurrentUser) -> AppResult<domain::patrol::WorkerHome> {
    use crate::entities::org_unit;
    let grid_ids = worker_grids(worker);
    if grid_ids.is_empty() {
        return Err(ErrorCode::Forbidden.into());
    }
    let en = worker.lang == "en";
    let grids: Vec<(i64, String)> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(grid_ids.clone()))
        .order_by_asc(org_unit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let routes = crate::patrol::routes_in(state, &grid_ids, en).await?;
    let open = open_patrol(state, worker).await?;
    let mut checkpoints = vec![];
    if let Some(p) = &open {
        let checkins = checkins_of(state, p.id, en).await?;
        for c in patrol_checkpoints(state, p).await? {
            checkpoints.push(domain::patrol::CheckpointStatus {
                checkins: checkins.iter().filter(|v| v.checkpoint_id == c.id).cloned().collect(),
                checkpoint: view_of(&c),
            });
        }
    }
    let recent_rows = patrol::Entity::find()
        .filter(patrol::Column::WorkerId.eq(worker.id))
        .order_by_desc(patrol::Column::StartedAt)
        .limit(10)
        .all(&state.db)
        .await?;
    let mut recent = rows_of(state, recent_rows, en).await?;
    let open = match &open {
        Some(p) => recent.iter().position(|r| r.id == p.id).map(|i| recent.remove(i)),
        None => None,
    };
    Ok(domain::patrol::WorkerHome {
        grids,
        routes,
        open,
        checkpoints,
        recent,
        devices: devices(state, worker).await?,
        osmand_url: format!("{}/osmand", state.config.public_url.trim_end_matches('/')),
        form_id: format!("form-{:016x}", rand::thread_rng().gen::<u64>()),
        plans_today: crate::patrol::plans_today(state, worker.id)
            .await?
            .into_iter()
            .map(|(route, rule)| format!("{route} · {}", rule.describe(worker.lang == "en")))
            .collect(),
    })
}

/// Patrols in the grids a staff member manages, those under way first,
/// then the latest.
pub async fn staff_patrols(state: &State, staff: &CurrentUser) -> AppResult<Vec<domain::patrol::PatrolRow>> {
    let grids: Vec<i64> =
        crate::support::scope::staff_grids(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = patrol::Entity::find()
        .filter(patrol::Column::GridId.is_in(grids))
        .order_by_desc(patrol::Column::StartedAt)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut out = rows_of(state, rows, crate::support::people::english(staff)).await?;
    out.sort_by_key(|r| r.state == PatrolState::Ended);
    Ok(out)
}

/// The staff's live board: the patrols, and a sketch of the checkpoints of
/// the active routes with the last position of every patrol under way; the
/// page moves the dots as positions arrive (`Topic::Patrols` per grid).
pub async fn live_board(state: &State, staff: &CurrentUser) -> AppResult<domain::patrol::LiveBoard> {
    let rows = staff_patrols(state, staff).await?;
    let grids: Vec<i64> =
        crate::support::scope::staff_grids(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let cps: Vec<(domain::patrol::CheckpointView, bool)> =
        crate::patrol::routes_in(state, &grids, crate::support::people::english(staff))
            .await?
            .into_iter()
            .flat_map(|r| r.checkpoints.into_iter().map(|c| (c, false)))
            .collect();
    let mut dots = vec![];
    for r in rows.iter().filter(|r| r.state != PatrolState::Ended) {
        if let Some(f) = kept_before(&state.db, r.id, Utc::now().timestamp() + 60).await? {
            dots.push((r.id, f.lat, f.lng, r.worker.clone()));
        }
    }
    let pins: Vec<Vec<domain::patrol::TrackPoint>> =
        dots.iter().map(|d| vec![domain::patrol::TrackPoint { lat: d.1, lng: d.2, at: 0 }]).collect();
    let outlines: Vec<Vec<(f64, f64)>> =
        crate::patrol::outlines(state, &grids).await?.into_iter().map(|(_, ring)| ring).collect();
    let mut map = domain::patrol::track_map(&pins, &cps, &outlines, 640.0);
    map.segments.clear();
    if let Some(src) = &state.config.map_tiles {
        map.add_tiles(src);
    }
    let dots = dots.into_iter().map(|(id, lat, lng, who)| {
        let (x, y) = map.project(lat, lng);
        (id, x, y, who)
    });
    Ok(domain::patrol::LiveBoard { rows, grids, dots: dots.collect(), map })
}

/// The patrol, if the user is its worker or staff over its grid.
async fn visible_patrol(state: &State, user: &CurrentUser, id: i64) -> AppResult<patrol::Model> {
    let p = patrol::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if p.worker_id == user.id {
        return Ok(p);
    }
    let path = crate::org::path_of(state, p.grid_id).await?;
    if user.can_manage(&path) {
        Ok(p)
    } else {
        // not yours to read: the same answer as a patrol that does not exist
        Err(ErrorCode::NotFound.into())
    }
}

/// Fixes in a track are split where none came for this long.
pub const SEGMENT_GAP_S: i64 = 120;

struct Track {
    p: patrol::Model,
    points: Vec<track_point::Model>,
    gaps: Vec<patrol_event::Model>,
    checkpoints: Vec<checkpoint::Model>,
}

async fn track(state: &State, user: &CurrentUser, id: i64) -> AppResult<Track> {
    let p = visible_patrol(state, user, id).await?;
    let points = track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(id))
        .filter(track_point::Column::Dropped.is_null())
        .order_by_asc(track_point::Column::At)
        .order_by_asc(track_point::Column::Id)
        .all(&state.db)
        .await?;
    let gaps = patrol_event::Entity::find()
        .filter(patrol_event::Column::PatrolId.eq(id))
        .filter(patrol_event::Column::Kind.is_in(["gap", "pause", "resume"]))
        .order_by_asc(patrol_event::Column::At)
        .all(&state.db)
        .await?;
    let checkpoints = patrol_checkpoints(state, &p).await?;
    Ok(Track { p, points, gaps, checkpoints })
}

fn track_points(t: &Track) -> Vec<domain::patrol::TrackPoint> {
    t.points.iter().map(|p| domain::patrol::TrackPoint { lat: p.lat, lng: p.lng, at: p.at.timestamp() }).collect()
}

/// Segments as indices into the track: split where no fix came for a
/// while, and at pauses.
fn split_idx(t: &Track) -> Vec<Vec<usize>> {
    let pauses: Vec<i64> = t.gaps.iter().filter(|e| e.kind == "pause").map(|e| e.at.timestamp()).collect();
    let mut out: Vec<Vec<usize>> = vec![];
    let mut cur: Vec<usize> = vec![];
    for (i, p) in t.points.iter().enumerate() {
        let at = p.at.timestamp();
        if let Some(&l) = cur.last() {
            let last = t.points[l].at.timestamp();
            if at - last > SEGMENT_GAP_S || pauses.iter().any(|x| (last..at).contains(x)) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn split(t: &Track) -> Vec<Vec<domain::patrol::TrackPoint>> {
    let pts = track_points(t);
    split_idx(t).into_iter().map(|seg| seg.into_iter().map(|i| pts[i]).collect()).collect()
}

/// A patrol's track, checkpoints and check-ins, for the worker or staff.
pub async fn detail(state: &State, user: &CurrentUser, id: i64) -> AppResult<domain::patrol::PatrolDetail> {
    let en = user.lang == "en";
    let t = track(state, user, id).await?;
    let row = rows_of(state, vec![t.p.clone()], crate::support::people::english(user))
        .await?
        .pop()
        .ok_or(ErrorCode::NotFound)?;
    let checkins = checkins_of(state, id, en).await?;
    let segs = split(&t);
    let distance_m: f64 =
        segs.iter().flat_map(|s| s.windows(2)).map(|w| geo::distance_m(w[0].lat, w[0].lng, w[1].lat, w[1].lng)).sum();
    let simplified: Vec<Vec<domain::patrol::TrackPoint>> =
        segs.iter().map(|s| domain::patrol::simplify(s, 3.0)).collect();
    let cps: Vec<(domain::patrol::CheckpointView, bool)> = t
        .checkpoints
        .iter()
        .map(|c| (view_of(c), checkins.iter().any(|v| v.checkpoint_id == c.id && v.accepted)))
        .collect();
    let outlines: Vec<Vec<(f64, f64)>> =
        crate::patrol::outlines(state, &[t.p.grid_id]).await?.into_iter().map(|(_, ring)| ring).collect();
    let mut map = domain::patrol::track_map(&simplified, &cps, &outlines, 640.0);
    if let Some(src) = &state.config.map_tiles {
        map.add_tiles(src);
    }
    let mut gaps = vec![];
    for e in &t.gaps {
        let (to, reason) = match e.kind.as_str() {
            "gap" => (
                e.until.unwrap_or(e.at),
                e.reason.as_deref().and_then(GapReason::parse).map(|g| g.label(en).to_string()),
            ),
            "pause" => {
                let resumed = t.gaps.iter().find(|r| r.kind == "resume" && r.at >= e.at).map(|r| r.at);
                (
                    resumed.or(t.p.ended_at).unwrap_or_else(Utc::now),
                    Some(if en { "paused" } else { "暂停" }.to_string()),
                )
            }
            _ => continue,
        };
        gaps.push(domain::patrol::GapView {
            from: domain::time::beijing_time(e.at),
            to: domain::time::beijing_time(to),
            minutes: (to - e.at).num_minutes(),
            reason: reason.unwrap_or_default(),
        });
    }
    let dropped_rows: Vec<(String, Option<f64>)> = track_point::Entity::find()
        .select_only()
        .column(track_point::Column::Dropped)
        .column(track_point::Column::DroppedValue)
        .filter(track_point::Column::PatrolId.eq(id))
        .filter(track_point::Column::Dropped.is_not_null())
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut dropped: Vec<(String, u64)> = vec![];
    for (code, _) in &dropped_rows {
        let label = Dropped::from_code(code, None).map(|d| reason_label(&d, en)).unwrap_or_else(|| code.clone());
        match dropped.iter_mut().find(|(l, _)| *l == label) {
            Some(x) => x.1 += 1,
            None => dropped.push((label, 1)),
        }
    }
    let end = t.p.ended_at.unwrap_or_else(Utc::now);
    // the replay: the drawn points in time order, placed in the sketch
    let mut replay: Vec<(f64, f64, i64)> = simplified
        .iter()
        .flatten()
        .map(|p| {
            let (x, y) = map.project(p.lat, p.lng);
            (x, y, p.at)
        })
        .collect();
    replay.sort_by_key(|r| r.2);
    Ok(domain::patrol::PatrolDetail {
        row,
        replay,
        map,
        checkins,
        gaps,
        dropped,
        distance_m: distance_m.round(),
        minutes: (end - t.p.started_at).num_minutes(),
    })
}

/// A reason without its number, for counting.
fn reason_label(d: &Dropped, en: bool) -> String {
    match (d, en) {
        (Dropped::Invalid, _) | (Dropped::Duplicate, _) | (Dropped::OutsidePatrol, _) => d.text(en),
        (Dropped::Inaccurate { .. }, false) => "精度太粗".into(),
        (Dropped::Inaccurate { .. }, true) => "too vague".into(),
        (Dropped::Future { .. }, false) => "时间在将来".into(),
        (Dropped::Future { .. }, true) => "in the future".into(),
        (Dropped::Stale { .. }, false) => "过期".into(),
        (Dropped::Stale { .. }, true) => "stale".into(),
        (Dropped::Jump { .. }, false) => "速度不可能".into(),
        (Dropped::Jump { .. }, true) => "impossible speed".into(),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// GPX 1.1: checkpoints as waypoints, one track, a new segment at every
/// gap or pause; accuracy, speed and battery in our namespaced extensions.
pub async fn gpx(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    use std::fmt::Write;
    let t = track(state, user, id).await?;
    let mut out = String::with_capacity(256 + t.points.len() * 200);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<gpx version=\"1.1\" creator=\"智慧社区 zhsq\" xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:zhsq=\"https://zhsq.invalid/gpx/1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n");
    let _ = writeln!(
        out,
        "  <metadata><name>{}</name><time>{}</time></metadata>",
        xml_escape(&format!("巡逻 #{}", t.p.id)),
        iso(t.p.started_at)
    );
    for c in &t.checkpoints {
        let _ = writeln!(
            out,
            "  <wpt lat=\"{:.7}\" lon=\"{:.7}\"><name>{}</name><desc>{}</desc><sym>Flag</sym></wpt>",
            c.lat,
            c.lng,
            xml_escape(&c.name),
            xml_escape(&format!("radius {} m", c.radius_m))
        );
    }
    let _ = writeln!(out, "  <trk><name>{}</name>", xml_escape(&format!("巡逻 #{}", t.p.id)));
    for seg in split_idx(&t) {
        out.push_str("    <trkseg>\n");
        for i in seg {
            let m = &t.points[i];
            let _ = write!(out, "      <trkpt lat=\"{:.7}\" lon=\"{:.7}\">", m.lat, m.lng);
            if let Some(e) = m.altitude {
                let _ = write!(out, "<ele>{e:.1}</ele>");
            }
            let _ =
                write!(out, "<time>{}</time><extensions><zhsq:accuracy>{:.1}</zhsq:accuracy>", iso(m.at), m.accuracy_m);
            if let Some(s) = m.speed_mps {
                let _ = write!(out, "<zhsq:speed>{s:.2}</zhsq:speed>");
            }
            if let Some(b) = m.battery {
                let _ = write!(out, "<zhsq:battery>{b}</zhsq:battery>");
            }
            out.push_str("</extensions></trkpt>\n");
        }
        out.push_str("    </trkseg>\n");
    }
    out.push_str("  </trk>\n</gpx>\n");
    Ok(out)
}

/// GeoJSON: the track as a MultiLineString (one line per segment) and the
/// checkpoints as Points with their check-in result. WGS-84, [lng, lat].
pub async fn geojson(state: &State, user: &CurrentUser, id: i64) -> AppResult<serde_json::Value> {
    use serde_json::json;
    let t = track(state, user, id).await?;
    let en = user.lang == "en";
    let rows = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(id))
        .order_by_asc(patrol_checkin::Column::At)
        .order_by_asc(patrol_checkin::Column::Id)
        .all(&state.db)
        .await?;
    let names = checkpoint_names(state, &rows.iter().map(|c| c.checkpoint_id).collect::<Vec<_>>()).await?;
    // RFC 7946 §3.1.4: a LineString has two or more positions, so a stretch
    // of one fix (between two gaps) is a Point of its own, not a line
    let stretches = split(&t);
    let (lines, singles): (Vec<_>, Vec<_>) = stretches.iter().partition(|s| s.len() >= 2);
    let coordinates: Vec<Vec<[f64; 2]>> = lines.iter().map(|s| s.iter().map(|p| [p.lng, p.lat]).collect()).collect();
    let times: Vec<Vec<String>> = lines.iter().map(|s| s.iter().map(|p| iso(ts(p.at))).collect()).collect();
    let mut features = vec![json!({
        "type": "Feature",
        "geometry": {"type": "MultiLineString", "coordinates": coordinates},
        "properties": {"patrol": t.p.id, "state": t.p.state, "started_at": iso(t.p.started_at),
                       "ended_at": t.p.ended_at.map(iso), "times": times}
    })];
    for p in singles.iter().flat_map(|s| s.iter()) {
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lng, p.lat]},
            "properties": {"patrol": t.p.id, "kind": "lone_fix", "time": iso(ts(p.at))}
        }));
    }
    for c in &t.checkpoints {
        // times in UTC with their offset, as the track's
        let mine: Vec<serde_json::Value> = rows
            .iter()
            .filter(|r| r.checkpoint_id == c.id)
            .map(|r| {
                let v = checkin_view(r, &names, en);
                json!({"id": v.id, "checkpoint_id": v.checkpoint_id, "checkpoint": v.checkpoint,
                       "time": iso(r.at), "accepted": v.accepted, "evidence": v.evidence})
            })
            .collect();
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lng, c.lat]},
            "properties": {"name": c.name, "radius": c.radius_m, "seq": c.seq,
                           "visited": mine.iter().any(|v| v["accepted"] == true), "checkins": mine}
        }));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

// ------------------------------------------------------------------ demo

/// Demo data: a route in the grid with four checkpoints (the first needs its
/// QR code) and a patrol walked along it this morning, its fixes filtered
/// and check-ins judged by the same rules as real ones.
pub(crate) async fn seed_demo(state: &State, worker_id: i64, grid_id: i64, staff_id: i64) -> AppResult<()> {
    let now = Utc::now();
    // the route and its checkpoints were set up a week before its plan began
    let set_up = now - chrono::Duration::days(8);
    let r = route::Entity::insert(route::ActiveModel {
        grid_id: Set(grid_id),
        name: Set("日常巡逻线".into()),
        ordered: Set(true),
        active: Set(true),
        created_by: Set(staff_id),
        created_at: Set(set_up),
        ..Default::default()
    })
    .exec(&state.db)
    .await?
    .last_insert_id;
    let points = [
        ("东门岗亭", 39.95990, 116.41850, true),
        ("3号楼消防通道", 39.96060, 116.41760, false),
        ("地下车库入口", 39.96120, 116.41640, false),
        ("儿童游乐场", 39.96030, 116.41560, false),
    ];
    let mut cps = vec![];
    for (i, (name, lat, lng, qr)) in points.iter().enumerate() {
        let id = checkpoint::Entity::insert(checkpoint::ActiveModel {
            route_id: Set(r),
            seq: Set(i as i32 + 1),
            name: Set((*name).into()),
            lat: Set(*lat),
            lng: Set(*lng),
            radius_m: Set(30),
            qr_token: Set(qr.then(|| format!("{:024x}", rand::thread_rng().gen::<u128>() >> 32))),
            created_at: Set(set_up),
            ..Default::default()
        })
        .exec(&state.db)
        .await?
        .last_insert_id;
        cps.push(id);
    }
    // this morning: 40 minutes, a fix every 10 s along the checkpoints
    let start = now - chrono::Duration::hours(3);
    let end = start + chrono::Duration::minutes(40);
    let p = patrol::Entity::insert(patrol::ActiveModel {
        worker_id: Set(worker_id),
        grid_id: Set(grid_id),
        route_id: Set(Some(r)),
        state: Set(PatrolState::Ended.as_str().into()),
        started_at: Set(start),
        ended_at: Set(Some(end)),
        ..Default::default()
    })
    .exec(&state.db)
    .await?
    .last_insert_id;
    for (kind, at) in [("start", start), ("end", end)] {
        event(&state.db, p, kind, kind, None, at, None, worker_id).await?;
    }
    let p = patrol::Entity::find_by_id(p).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let mut fixes = vec![];
    let mut t = start.timestamp() + 30;
    let mut arrivals = vec![];
    for leg in points.windows(2) {
        let (a, b) = (leg[0], leg[1]);
        let d = geo::distance_m(a.1, a.2, b.1, b.2);
        let steps = (d / 5.0).ceil().max(1.0) as usize;
        for k in 0..steps {
            let f = k as f64 / steps as f64;
            fixes.push((a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f, t));
            t += 10;
        }
        arrivals.push(t);
    }
    let last = points[points.len() - 1];
    fixes.push((last.1, last.2, t));
    let new: Vec<NewFix> = fixes
        .iter()
        .enumerate()
        .map(|(i, (lat, lng, at))| NewFix {
            client_id: format!("demo-{i}"),
            fix: Fix { lat: *lat, lng: *lng, accuracy_m: 6.0 + (i % 5) as f64, at: *at, device_at: Some(*at) },
            speed_mps: Some(0.5),
            heading: None,
            altitude: None,
            battery: Some(90 - (i / 20) as i16),
            dropped: None,
        })
        .collect();
    store_fixes(&state.db, &p, new, "app", now).await?;
    // check-ins at the 2nd, 3rd and 4th checkpoints as the walk reached them
    for (i, at) in arrivals.iter().enumerate() {
        let cp = cps[i + 1];
        checkin(state, false, &p, &format!("demo-c{i}"), cp, *at, at * 1000, None, now).await?;
    }
    // a daily plan for the route over the past week whose window held this
    // morning's walk (到位率 then has days done and days missed to show)
    let bj = domain::time::local(start);
    let minute = (chrono::Timelike::hour(&bj) * 60 + chrono::Timelike::minute(&bj)) as i16;
    let start_min = Ord::max(minute - 30, 0);
    let end_min = Ord::min(start_min + 120, 1440);
    crate::entities::patrol_plan::Entity::insert(crate::entities::patrol_plan::ActiveModel {
        route_id: Set(r),
        worker_id: Set(worker_id),
        weekdays: Set(127),
        start_min: Set(start_min),
        end_min: Set(end_min),
        valid_from: Set(domain::time::beijing_date(start) - chrono::Duration::days(6)),
        valid_until: Set(None),
        created_by: Set(staff_id),
        created_at: Set(now - chrono::Duration::days(7)),
        ended_at: Set(None),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    // the grid's outline around the route
    let ring = "[[116.4150,39.9594],[116.4192,39.9594],[116.4192,39.9617],[116.4150,39.9617]]";
    crate::entities::org_unit::Entity::update_many()
        .col_expr(crate::entities::org_unit::Column::Outline, Expr::value(ring))
        .filter(crate::entities::org_unit::Column::Id.eq(grid_id))
        .exec(&state.db)
        .await?;
    Ok(())
}
