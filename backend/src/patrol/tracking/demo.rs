//! Demo data: a route, and a patrol walked along it this morning.

use super::*;

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
    // this morning: 40 minutes, a fix every 10 s along the checkpoints; all
    // of it on one Beijing day, as a plan's window is (started at 02:40
    // Beijing, the walk crossed midnight and its last check-in fell outside
    // the plan)
    let walk = chrono::Duration::minutes(40);
    let mut start = now - chrono::Duration::hours(3);
    let midnight =
        domain::time::beijing_at(domain::time::beijing_date(start) + chrono::Duration::days(1), chrono::NaiveTime::MIN);
    if start + walk + chrono::Duration::minutes(5) > midnight {
        start = midnight - walk - chrono::Duration::minutes(5);
    }
    let end = start + walk;
    let p = patrol::Entity::insert(patrol::ActiveModel {
        worker_id: Set(worker_id),
        grid_id: Set(grid_id),
        route_id: Set(Some(r)),
        state: Set(PatrolState::Ended),
        started_at: Set(start),
        ended_at: Set(Some(end)),
        ..Default::default()
    })
    .exec(&state.db)
    .await?
    .last_insert_id;
    for (kind, at) in [(EventKind::Start, start), (EventKind::End, end)] {
        event(&state.db, p, kind.as_str(), kind, None, at, None, worker_id).await?;
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
