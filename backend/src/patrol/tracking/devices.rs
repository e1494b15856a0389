//! GPS logger apps (OsmAnd protocol): a grid worker registers a device and
//! its positions join the patrol under way.

use super::*;

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
        .filter(patrol::Column::State.eq(PatrolState::Active))
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
pub(super) fn new_device_id() -> String {
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
