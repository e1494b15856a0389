//! What people read of patrols: a worker's home, staff's list and live
//! board, one patrol's page with its track, check-ins and left-out fixes.

use super::*;

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
    if p.state == PatrolState::Ended {
        return Err(ErrorCode::NoPatrol.into());
    }
    let now = Utc::now();
    let (view, _) = checkin(
        state,
        worker.lang.is_en(),
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

pub(super) async fn rows_of(
    state: &State,
    patrols: Vec<patrol::Model>,
    en: bool,
) -> AppResult<Vec<domain::patrol::PatrolRow>> {
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
                state: p.state,
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

pub(super) async fn checkins_of(state: &State, patrol_id: i64, en: bool) -> AppResult<Vec<CheckinView>> {
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

pub(super) fn view_of(c: &checkpoint::Model) -> domain::patrol::CheckpointView {
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
    let en = worker.lang.is_en();
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
            .map(|(route, rule)| format!("{route} · {}", rule.describe(worker.lang.is_en())))
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
pub(super) async fn visible_patrol(state: &State, user: &CurrentUser, id: i64) -> AppResult<patrol::Model> {
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

pub(super) struct Track {
    pub(super) p: patrol::Model,
    pub(super) points: Vec<track_point::Model>,
    pub(super) gaps: Vec<patrol_event::Model>,
    pub(super) checkpoints: Vec<checkpoint::Model>,
}

pub(super) async fn track(state: &State, user: &CurrentUser, id: i64) -> AppResult<Track> {
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
        .filter(patrol_event::Column::Kind.is_in([EventKind::Gap, EventKind::Pause, EventKind::Resume]))
        .order_by_asc(patrol_event::Column::At)
        .all(&state.db)
        .await?;
    let checkpoints = patrol_checkpoints(state, &p).await?;
    Ok(Track { p, points, gaps, checkpoints })
}

pub(super) fn track_points(t: &Track) -> Vec<domain::patrol::TrackPoint> {
    t.points.iter().map(|p| domain::patrol::TrackPoint { lat: p.lat, lng: p.lng, at: p.at.timestamp() }).collect()
}

/// Segments as indices into the track: split where no fix came for a
/// while, at pauses, and at every gap the phone reported (however short:
/// the map shows a break there, never a straight line across it).
pub(super) fn split_idx(t: &Track) -> Vec<Vec<usize>> {
    let pauses: Vec<i64> = t
        .gaps
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Pause | EventKind::Gap))
        .map(|e| e.at.timestamp())
        .collect();
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

pub(super) fn split(t: &Track) -> Vec<Vec<domain::patrol::TrackPoint>> {
    let pts = track_points(t);
    split_idx(t).into_iter().map(|seg| seg.into_iter().map(|i| pts[i]).collect()).collect()
}

/// A patrol's track, checkpoints and check-ins, for the worker or staff.
pub async fn detail(state: &State, user: &CurrentUser, id: i64) -> AppResult<domain::patrol::PatrolDetail> {
    let en = user.lang.is_en();
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
        let (to, reason) = match e.kind {
            EventKind::Gap => (
                e.until.unwrap_or(e.at),
                e.reason.as_deref().and_then(GapReason::parse).map(|g| g.label(en).to_string()),
            ),
            EventKind::Pause => {
                let resumed = t.gaps.iter().find(|r| r.kind == EventKind::Resume && r.at >= e.at).map(|r| r.at);
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
            seconds: (to - e.at).num_seconds(),
            length: domain::time::duration_words((to - e.at).num_seconds(), en),
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
pub(super) fn reason_label(d: &Dropped, en: bool) -> String {
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
