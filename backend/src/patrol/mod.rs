//! Patrols (巡逻): routes and checkpoints, plans and grid outlines here;
//! patrols under way, their tracks, check-ins and exports in `tracking/`.
//!
//! Patrol routes and checkpoints (issue 4, first part): staff of a
//! community define routes per grid, with checkpoints entered one by one or
//! imported from GeoJSON (all or nothing), and print a sheet of the QR codes
//! to post at the checkpoints that need one.

mod tracking;
pub use tracking::*;

use chrono::Utc;
use domain::{
    figures::{PlanRule, PlanView},
    patrol::{CheckpointView, NewCheckpoint, RouteView, SheetItem},
    ErrorCode, OrgLevel, OrgPath, Role,
};
use rand::RngCore;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{checkpoint, org_unit, patrol_plan as plan, patrol_route as route, user_role},
    error::{AppError, AppResult},
    State,
};

/// At most this many checkpoints in one import.
pub const MAX_IMPORT: usize = 500;

async fn managed_grid(state: &State, staff: &CurrentUser, grid_id: i64) -> AppResult<org_unit::Model> {
    let g = org_unit::Entity::find_by_id(grid_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let path = OrgPath::parse(&g.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if !staff.is_staff() || !staff.can_manage(&path) || g.level != OrgLevel::Grid {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(g)
}

async fn managed_route(state: &State, staff: &CurrentUser, id: i64) -> AppResult<route::Model> {
    let r = route::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_grid(state, staff, r.grid_id).await?;
    Ok(r)
}

/// Staff create a route in a grid they manage.
pub async fn create_route(
    state: &State,
    staff: &CurrentUser,
    grid_id: i64,
    name: &str,
    ordered: bool,
) -> AppResult<i64> {
    let g = managed_grid(state, staff, grid_id).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ErrorCode::InvalidTitle.into());
    }
    let r = route::Entity::insert(route::ActiveModel {
        grid_id: Set(g.id),
        name: Set(name.into()),
        ordered: Set(ordered),
        active: Set(true),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(r.last_insert_id)
}

fn qr_token() -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Appends checkpoints to a route in one transaction (numbered after the
/// last one).
async fn append<C: ConnectionTrait>(conn: &C, route_id: i64, items: &[NewCheckpoint]) -> AppResult<Vec<i64>> {
    let last: Option<i32> = checkpoint::Entity::find()
        .select_only()
        .column_as(checkpoint::Column::Seq.max(), "m")
        .filter(checkpoint::Column::RouteId.eq(route_id))
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    let mut ids = vec![];
    for (i, c) in items.iter().enumerate() {
        let r = checkpoint::Entity::insert(checkpoint::ActiveModel {
            route_id: Set(route_id),
            seq: Set(last.unwrap_or(0) + 1 + i as i32),
            name: Set(c.name.clone()),
            lat: Set(c.lat),
            lng: Set(c.lng),
            radius_m: Set(c.radius_m),
            qr_token: Set(c.requires_qr.then(qr_token)),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .exec(conn)
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ErrorCode::Conflict.into()
            } else {
                AppError::from(e)
            }
        })?;
        ids.push(r.last_insert_id);
    }
    Ok(ids)
}

/// Staff add one checkpoint at the end of a route.
pub async fn add_checkpoint(state: &State, staff: &CurrentUser, route_id: i64, c: NewCheckpoint) -> AppResult<i64> {
    managed_route(state, staff, route_id).await?;
    let txn = state.db.begin().await?;
    let ids = append(&txn, route_id, std::slice::from_ref(&c)).await?;
    txn.commit().await?;
    ids.first().copied().ok_or_else(|| ErrorCode::Conflict.into())
}

/// Staff import checkpoints from GeoJSON: all of them or none.
pub async fn import_geojson(state: &State, staff: &CurrentUser, route_id: i64, text: &str) -> AppResult<usize> {
    managed_route(state, staff, route_id).await?;
    let items = parse_geojson(text)?;
    let txn = state.db.begin().await?;
    let ids = append(&txn, route_id, &items).await?;
    txn.commit().await?;
    Ok(ids.len())
}

/// Staff remove a checkpoint.
pub async fn remove_checkpoint(state: &State, staff: &CurrentUser, id: i64) -> AppResult<i64> {
    let c = checkpoint::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_route(state, staff, c.route_id).await?;
    let used = crate::entities::patrol_checkin::Entity::find()
        .filter(crate::entities::patrol_checkin::Column::CheckpointId.eq(id))
        .count(&state.db)
        .await?;
    if used > 0 {
        return Err(ErrorCode::CheckpointInUse.into());
    }
    checkpoint::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(c.route_id)
}

/// Reads checkpoints from a GeoJSON FeatureCollection (or one Feature) of
/// Points: `coordinates` are `[lng, lat]` (WGS-84), `properties.name` is
/// required, `properties.radius` (metres) and `properties.qr` (true/false)
/// are optional.
pub fn parse_geojson(text: &str) -> AppResult<Vec<NewCheckpoint>> {
    use serde_json::Value;
    let bad = || AppError::from(ErrorCode::InvalidGeoJson);
    let v: Value = serde_json::from_str(text.trim()).map_err(|_| bad())?;
    let features: Vec<&Value> = match v.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => v.get("features").and_then(Value::as_array).ok_or_else(bad)?.iter().collect(),
        Some("Feature") => vec![&v],
        _ => return Err(bad()),
    };
    if features.is_empty() || features.len() > MAX_IMPORT {
        return Err(bad());
    }
    let mut out = vec![];
    for f in features {
        let g = f.get("geometry").ok_or_else(bad)?;
        if g.get("type").and_then(Value::as_str) != Some("Point") {
            return Err(bad());
        }
        let c = g.get("coordinates").and_then(Value::as_array).ok_or_else(bad)?;
        let (lng, lat) = match (c.first().and_then(Value::as_f64), c.get(1).and_then(Value::as_f64)) {
            (Some(lng), Some(lat)) => (lng, lat),
            _ => return Err(bad()),
        };
        let p = f.get("properties");
        let name = p.and_then(|p| p.get("name")).and_then(Value::as_str).ok_or_else(bad)?;
        let radius = match p.and_then(|p| p.get("radius")) {
            None | Some(Value::Null) => None,
            Some(r) => {
                Some(r.as_f64().filter(|r| r.fract() == 0.0).ok_or_else(|| AppError::from(ErrorCode::InvalidRadius))?
                    as i64)
            }
        };
        let qr = p.and_then(|p| p.get("qr")).and_then(Value::as_bool).unwrap_or(false);
        out.push(NewCheckpoint::new(name, lat, lng, radius, qr)?);
    }
    Ok(out)
}

async fn views(state: &State, rows: Vec<route::Model>, en: bool) -> AppResult<Vec<RouteView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut points: HashMap<i64, Vec<CheckpointView>> = HashMap::new();
    for c in checkpoint::Entity::find()
        .filter(checkpoint::Column::RouteId.is_in(ids.clone()))
        .order_by_asc(checkpoint::Column::Seq)
        .all(&state.db)
        .await?
    {
        points.entry(c.route_id).or_default().push(CheckpointView {
            id: c.id,
            seq: c.seq,
            name: c.name,
            lat: c.lat,
            lng: c.lng,
            radius_m: c.radius_m,
            requires_qr: c.qr_token.is_some(),
        });
    }
    let grids: HashMap<i64, String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(rows.iter().map(|r| r.grid_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let mut plans = plans_of(state, &ids, en).await?;
    Ok(rows
        .into_iter()
        .map(|r| RouteView {
            grid: grids.get(&r.grid_id).cloned().unwrap_or_default(),
            checkpoints: points.remove(&r.id).unwrap_or_default(),
            plans: plans.remove(&r.id).unwrap_or_default(),
            id: r.id,
            grid_id: r.grid_id,
            name: r.name,
            ordered: r.ordered,
            active: r.active,
        })
        .collect())
}

/// Active routes in these grids (for the grid worker).
pub async fn routes_in(state: &State, grids: &[i64], en: bool) -> AppResult<Vec<RouteView>> {
    let rows = route::Entity::find()
        .filter(route::Column::GridId.is_in(grids.iter().copied()))
        .filter(route::Column::Active.eq(true))
        .order_by_asc(route::Column::GridId)
        .order_by_asc(route::Column::Id)
        .all(&state.db)
        .await?;
    views(state, rows, en).await
}

/// Routes of the grids a staff member manages.
pub async fn routes(state: &State, staff: &CurrentUser) -> AppResult<Vec<RouteView>> {
    let grids: Vec<i64> =
        crate::support::scope::staff_grids(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = route::Entity::find()
        .filter(route::Column::GridId.is_in(grids))
        .order_by_asc(route::Column::GridId)
        .order_by_asc(route::Column::Id)
        .all(&state.db)
        .await?;
    views(state, rows, crate::support::people::english(staff)).await
}

/// The printable sheet: one QR code per checkpoint that needs one.
pub async fn sheet(state: &State, staff: &CurrentUser, route_id: i64) -> AppResult<(RouteView, Vec<SheetItem>)> {
    // reading: a route outside the staff member's grids is as one that does not exist
    let r = managed_route(state, staff, route_id).await.map_err(|e| {
        if e.code == ErrorCode::Forbidden {
            ErrorCode::NotFound.into()
        } else {
            e
        }
    })?;
    let view = views(state, vec![r], crate::support::people::english(staff)).await?.pop().ok_or(ErrorCode::NotFound)?;
    let rows = checkpoint::Entity::find()
        .filter(checkpoint::Column::RouteId.eq(route_id))
        .filter(checkpoint::Column::QrToken.is_not_null())
        .order_by_asc(checkpoint::Column::Seq)
        .all(&state.db)
        .await?;
    let base = state.config.public_url.trim_end_matches('/').to_string();
    let mut items = vec![];
    for c in rows {
        let Some(token) = c.qr_token else { continue };
        let url = format!("{base}/patrol/checkpoints/{token}");
        items.push(SheetItem { seq: c.seq, name: c.name, svg: crate::support::qr::qr_svg(&url)?, url });
    }
    Ok((view, items))
}

// ------------------------------------------------------------------ patrol plans

/// Grid workers of these grids: (user, grid, name shown).
pub async fn grid_workers(state: &State, grids: &[i64], en: bool) -> AppResult<Vec<(i64, i64, String)>> {
    let roles = user_role::Entity::find()
        .filter(user_role::Column::Role.eq(Role::GridWorker))
        .filter(user_role::Column::OrgUnitId.is_in(grids.iter().copied()))
        .order_by_asc(user_role::Column::UserId)
        .all(&state.db)
        .await?;
    let names = crate::support::people::names(state, roles.iter().map(|r| r.user_id), en).await?;
    Ok(roles
        .into_iter()
        .map(|r| (r.user_id, r.org_unit_id, names.get(&r.user_id).cloned().unwrap_or_default()))
        .collect())
}

async fn plans_of(state: &State, routes: &[i64], en: bool) -> AppResult<HashMap<i64, Vec<PlanView>>> {
    let rows = plan::Entity::find()
        .filter(plan::Column::RouteId.is_in(routes.iter().copied()))
        .order_by_asc(plan::Column::Id)
        .all(&state.db)
        .await?;
    let names = crate::support::people::names(state, rows.iter().map(|p| p.worker_id), en).await?;
    let mut out: HashMap<i64, Vec<PlanView>> = HashMap::new();
    for p in rows {
        out.entry(p.route_id).or_default().push(PlanView {
            id: p.id,
            route_id: p.route_id,
            worker: names.get(&p.worker_id).cloned().unwrap_or_default(),
            ended: p.ended_at.is_some(),
            rule: rule_of(&p),
        });
    }
    for v in out.values_mut() {
        v.sort_by_key(|p| p.ended);
    }
    Ok(out)
}

/// The rule a stored plan holds.
pub fn rule_of(p: &plan::Model) -> PlanRule {
    PlanRule {
        weekdays: p.weekdays.clamp(0, 127) as u8,
        start_min: p.start_min.clamp(0, 1440) as u16,
        end_min: p.end_min.clamp(0, 1440) as u16,
        from: p.valid_from,
        until: p.valid_until,
    }
}

/// Staff set a plan: this grid worker of the route's grid patrols it on
/// these days in this window.
pub async fn add_plan(
    state: &State,
    staff: &CurrentUser,
    route_id: i64,
    worker_id: i64,
    rule: PlanRule,
) -> AppResult<i64> {
    let r = managed_route(state, staff, route_id).await?;
    rule.check()?;
    if !grid_workers(state, &[r.grid_id], false).await?.iter().any(|(id, _, _)| *id == worker_id) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let row = plan::Entity::insert(plan::ActiveModel {
        route_id: Set(route_id),
        worker_id: Set(worker_id),
        weekdays: Set(rule.weekdays as i16),
        start_min: Set(rule.start_min as i16),
        end_min: Set(rule.end_min as i16),
        valid_from: Set(rule.from),
        valid_until: Set(rule.until),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        ended_at: Set(None),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(row.last_insert_id)
}

/// Staff end a plan: from now on it requires nothing (what it required
/// before stays in the figures). Ending it twice changes nothing.
pub async fn end_plan(state: &State, staff: &CurrentUser, plan_id: i64) -> AppResult<i64> {
    let p = plan::Entity::find_by_id(plan_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_route(state, staff, p.route_id).await?;
    plan::Entity::update_many()
        .col_expr(plan::Column::EndedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(plan::Column::Id.eq(plan_id))
        .filter(plan::Column::EndedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(p.route_id)
}

/// A worker's plans in force today: (route, rule).
pub async fn plans_today(state: &State, worker_id: i64) -> AppResult<Vec<(String, PlanRule)>> {
    let today = domain::time::beijing_date(Utc::now());
    let rows = plan::Entity::find()
        .filter(plan::Column::WorkerId.eq(worker_id))
        .filter(plan::Column::EndedAt.is_null())
        .order_by_asc(plan::Column::StartMin)
        .all(&state.db)
        .await?;
    let routes: HashMap<i64, String> = route::Entity::find()
        .filter(route::Column::Id.is_in(rows.iter().map(|p| p.route_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(rows
        .iter()
        .map(|p| (p, rule_of(p)))
        .filter(|(_, r)| r.applies(today))
        .map(|(p, r)| (routes.get(&p.route_id).cloned().unwrap_or_default(), r))
        .collect())
}

// ------------------------------------------------------------------ grid outlines

/// Reads a grid outline from GeoJSON: a Polygon, or a Feature (or a
/// FeatureCollection of one) holding one; its outer ring, WGS-84 `[lng, lat]`.
pub fn parse_outline(text: &str) -> AppResult<Vec<(f64, f64)>> {
    use serde_json::Value;
    let bad = || AppError::from(ErrorCode::InvalidOutline);
    let v: Value = serde_json::from_str(text.trim()).map_err(|_| bad())?;
    let geometry = match v.get("type").and_then(Value::as_str) {
        Some("Polygon") => &v,
        Some("Feature") => v.get("geometry").ok_or_else(bad)?,
        Some("FeatureCollection") => match v.get("features").and_then(Value::as_array).map(Vec::as_slice) {
            Some([f]) => f.get("geometry").ok_or_else(bad)?,
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    if geometry.get("type").and_then(Value::as_str) != Some("Polygon") {
        return Err(bad());
    }
    let ring = geometry
        .get("coordinates")
        .and_then(Value::as_array)
        .and_then(|rings| rings.first())
        .and_then(Value::as_array)
        .ok_or_else(bad)?;
    if ring.len() > 2000 {
        return Err(bad());
    }
    let mut out: Vec<(f64, f64)> = vec![];
    for p in ring {
        let c = p.as_array().ok_or_else(bad)?;
        let (lng, lat) = match (c.first().and_then(Value::as_f64), c.get(1).and_then(Value::as_f64)) {
            (Some(lng), Some(lat)) if (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat) => (lng, lat),
            _ => return Err(bad()),
        };
        if out.last() != Some(&(lng, lat)) {
            out.push((lng, lat));
        }
    }
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    let mut distinct = out.clone();
    distinct.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(bad());
    }
    Ok(out)
}

/// Staff set (or, with an empty text, clear) a grid's outline.
pub async fn set_outline(state: &State, staff: &CurrentUser, grid_id: i64, text: &str) -> AppResult<()> {
    let g = managed_grid(state, staff, grid_id).await?;
    let value = if text.trim().is_empty() {
        None
    } else {
        let ring = parse_outline(text)?;
        Some(
            serde_json::to_string(&ring.iter().map(|(lng, lat)| [*lng, *lat]).collect::<Vec<_>>())
                .map_err(AppError::internal)?,
        )
    };
    org_unit::Entity::update_many()
        .col_expr(org_unit::Column::Outline, sea_orm::sea_query::Expr::value(value))
        .filter(org_unit::Column::Id.eq(g.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The outlines of these grids, as rings of (lat, lng).
pub async fn outlines(state: &State, grids: &[i64]) -> AppResult<Vec<(i64, Vec<(f64, f64)>)>> {
    let rows = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(grids.iter().copied()))
        .filter(org_unit::Column::Outline.is_not_null())
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|g| {
            let ring: Vec<[f64; 2]> = serde_json::from_str(g.outline.as_deref()?).ok()?;
            Some((g.id, ring.into_iter().map(|[lng, lat]| (lat, lng)).collect()))
        })
        .collect())
}
