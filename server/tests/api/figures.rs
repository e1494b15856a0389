//! Patrol plans and the evaluation figures (issue 4): 到位率 counts exactly
//! the visits the plans required, judged by the stored check-ins (accepted,
//! inside the window, by the planned worker); 办结率, 更新频率 and 满意度
//! come from the incident events; every figure's drill-down lists exactly
//! the items it counted; the CSV and XLSX say the same; staff of another
//! community see none of it. Everything here is in 和谐社区, which the demo
//! data leaves without patrols or incidents, so the numbers are exact.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::entities::{checkpoint, incident, patrol as patrol_entity, patrol_checkin};
use backend::incidents::{self, Step};
use backend::patrol;
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use domain::figures::{Metric, Period, PlanRule, Subject};
use domain::incidents::{NewIncident, Spot};
use domain::patrol::NewCheckpoint;
use domain::time::beijing_at;
use domain::ErrorCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

const WORKER_B: &str = "13700000002"; // 和谐社区第一网格

fn at(day: NaiveDate, hm: &str) -> chrono::DateTime<Utc> {
    beijing_at(day, NaiveTime::parse_from_str(hm, "%H:%M").unwrap())
}

/// A patrol of `worker` with one check-in at `cp` at `when`.
async fn checked_in(
    app: &TestApp,
    worker: i64,
    grid: i64,
    cp: i64,
    when: chrono::DateTime<Utc>,
    accepted: bool,
    tag: &str,
) {
    let p = patrol_entity::ActiveModel {
        worker_id: Set(worker),
        grid_id: Set(grid),
        route_id: Set(None),
        state: Set(domain::patrol::PatrolState::Ended),
        started_at: Set(when - Duration::minutes(5)),
        ended_at: Set(Some(when + Duration::minutes(5))),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let evidence = if accepted {
        r#"[{"kind":"near","distance_m":4.0,"accuracy_m":6.0},{"kind":"corroborated","seconds":8}]"#
    } else {
        r#"[{"kind":"near","distance_m":4.0,"accuracy_m":6.0},{"kind":"single_fix"}]"#
    };
    patrol_checkin::ActiveModel {
        patrol_id: Set(p.id),
        checkpoint_id: Set(cp),
        client_id: Set(format!("c-{tag}")),
        at: Set(when),
        accepted: Set(accepted),
        evidence: Set(evidence.into()),
        qr_scanned: Set(false),
        received_at: Set(when),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn presence_counts_the_visits_plans_required_by_their_evidence() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_B).await;
    let worker = current(&app, WORKER_B).await;
    let other_worker = current(&app, WORKER_A).await;
    let grid = app.org_id("和谐社区第一网格").await;
    let route = patrol::create_route(&app.state, &staff, grid, "夜间巡逻", false).await.unwrap();
    for (name, lat) in [("北门", 39.95), ("南门", 39.94)] {
        let c = NewCheckpoint::new(name, lat, 116.40, Some(30), false).unwrap();
        patrol::add_checkpoint(&app.state, &staff, route, c).await.unwrap();
    }
    // the checkpoints existed before the period
    checkpoint::Entity::update_many()
        .col_expr(checkpoint::Column::CreatedAt, sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(30)))
        .filter(checkpoint::Column::RouteId.eq(route))
        .exec(&app.state.db)
        .await
        .unwrap();
    let cps: Vec<i64> = patrol::routes(&app.state, &staff)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == route)
        .unwrap()
        .checkpoints
        .iter()
        .map(|c| c.id)
        .collect();
    let today = backend::figures::today();
    let (d1, d2, d3) = (today - Duration::days(3), today - Duration::days(2), today - Duration::days(1));

    // the plan through the staff page's plain form: a bad window is refused
    // in words with everything typed kept, then a good one is saved
    let desk = browser(&app).await;
    desk.password_login(STAFF_B).await;
    let route_s = route.to_string();
    let worker_s = worker.id.to_string();
    let from_s = d1.format("%Y-%m-%d").to_string();
    let mut fields = vec![("route", route_s.as_str()), ("worker", worker_s.as_str())];
    let days = ["d1", "d2", "d3", "d4", "d5", "d6", "d7"];
    for d in days {
        fields.push((d, "1"));
    }
    let mut bad = fields.clone();
    bad.extend([("start", "10:00"), ("end", "08:00"), ("from", from_s.as_str()), ("until", "")]);
    let r = desk.form(path::<app::patrol::AddPlan>(), "/staff/patrol", &bad).await;
    let loc = location(&r);
    assert!(loc.contains("error=invalid_plan") && loc.contains("start=10%3A00"), "{loc}");
    let (_, html) = desk.page(&loc).await;
    assert!(html.contains(ErrorCode::InvalidPlan.message(false)));
    assert!(html.contains(r#"value="10:00""#) && html.contains(&format!(r#"value="{from_s}""#)), "typed values kept");
    // a window of five minutes: said in so many words, inside the plan's form, which names the minimum
    let mut short = fields.clone();
    short.extend([("start", "08:00"), ("end", "08:05"), ("from", from_s.as_str()), ("until", "")]);
    let r = desk.form(path::<app::patrol::AddPlan>(), "/staff/patrol", &short).await;
    let loc = location(&r);
    assert!(loc.contains("error=plan_too_short"), "{loc}");
    let (_, html) = desk.page(&loc).await;
    let form_at = html.find("plan-form").unwrap();
    let error_at = html.find(ErrorCode::PlanTooShort.message(false)).expect("the reason in words");
    assert!(error_at > form_at, "inside the form, not atop the page");
    assert!(html.contains("时段至少 10 分钟"));
    // another grid's worker cannot be planned on this route
    let mut foreign = fields.clone();
    let other_s = other_worker.id.to_string();
    foreign[1] = ("worker", other_s.as_str());
    foreign.extend([("start", "08:00"), ("end", "10:00"), ("from", from_s.as_str()), ("until", "")]);
    let r = desk.form(path::<app::patrol::AddPlan>(), "/staff/patrol", &foreign).await;
    assert!(location(&r).contains("error=invalid_input"), "{}", location(&r));
    fields.extend([("start", "08:00"), ("end", "10:00"), ("from", from_s.as_str()), ("until", "")]);
    let r = desk.form(path::<app::patrol::AddPlan>(), "/staff/patrol", &fields).await;
    assert!(location(&r).contains("planned=1"), "{}", location(&r));
    let (_, html) = desk.page("/staff/patrol").await;
    assert!(html.contains("每天 08:00–10:00"), "the plan is listed on its route");

    // day 1: both checkpoints in the window; day 2: one in the window, the
    // other after it; day 3: a flagged check-in, and the other worker's
    // accepted one (not the planned worker: does not count)
    checked_in(&app, worker.id, grid, cps[0], at(d1, "08:10"), true, "1a").await;
    checked_in(&app, worker.id, grid, cps[1], at(d1, "09:59"), true, "1b").await;
    checked_in(&app, worker.id, grid, cps[0], at(d2, "08:00"), true, "2a").await;
    checked_in(&app, worker.id, grid, cps[1], at(d2, "10:00"), true, "2b").await;
    checked_in(&app, worker.id, grid, cps[0], at(d3, "09:00"), false, "3a").await;
    checked_in(&app, other_worker.id, grid, cps[1], at(d3, "09:00"), true, "3b").await;

    let period = Period { from: d1, to: d3 };
    let r = backend::figures::report(
        &app.state,
        &staff,
        period,
        Some((Subject::Worker(worker.id), Metric::Presence)),
        false,
    )
    .await
    .unwrap();
    let w = r.rows.iter().find(|f| f.subject == Subject::Worker(worker.id)).unwrap();
    assert_eq!((w.presence.num, w.presence.den), (3, 6));
    assert_eq!(w.presence.percent(), "50.0%");
    let g = r.rows.iter().find(|f| f.subject == Subject::Grid(grid)).unwrap();
    assert_eq!((g.presence.num, g.presence.den), (3, 6));
    let harmony = app.org_id("和谐社区").await;
    let c = r.rows.iter().find(|f| f.subject == Subject::Community(harmony)).unwrap();
    assert_eq!((c.presence.num, c.presence.den), (3, 6));
    let d = r.drill.unwrap();
    assert_eq!(d.items.len(), 6);
    assert_eq!(d.items.iter().filter(|i| i.good()).count(), 3);
    assert_eq!(d.items.iter().filter(|i| i.detail.contains("有效签到")).count(), 3);
    assert_eq!(d.items.iter().filter(|i| i.detail.contains("时段内未签到")).count(), 2);
    let flagged: Vec<_> = d.items.iter().filter(|i| i.detail.contains("仅有存疑签到")).collect();
    assert_eq!(flagged.len(), 1);
    assert!(flagged[0].detail.contains(&domain::geo::Evidence::SingleFix.text(false)), "{}", flagged[0].detail);

    // no other community's staff sees 和谐社区 in their figures
    let staff_a = current(&app, STAFF_A).await;
    let theirs = backend::figures::report(&app.state, &staff_a, period, None, false).await.unwrap();
    assert!(!theirs.rows.iter().any(|f| f.subject == Subject::Grid(grid) || f.subject == Subject::Worker(worker.id)));
    let err = backend::figures::report(
        &app.state,
        &staff_a,
        period,
        Some((Subject::Worker(worker.id), Metric::Presence)),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let resident = current(&app, RESIDENT_B).await;
    let err = backend::figures::report(&app.state, &resident, period, None, false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);

    // ending the plan requires nothing more; what it required stays
    let plan_id =
        patrol::routes(&app.state, &staff).await.unwrap().into_iter().find(|r| r.id == route).unwrap().plans[0].id;
    // today counts if its window was over before the plan ended
    let today_due = if at(today, "10:00") <= Utc::now() { 2 } else { 0 };
    assert_eq!(patrol::end_plan(&app.state, &staff, plan_id).await.unwrap(), route);
    let later = Period { from: d1, to: today + Duration::days(7) };
    let r = backend::figures::report(&app.state, &staff, later, None, false).await.unwrap();
    let w = r.rows.iter().find(|f| f.subject == Subject::Worker(worker.id)).unwrap();
    assert_eq!((w.presence.num, w.presence.den), (3, 6 + today_due), "later days are no longer required");
    assert!(PlanRule::parse(&["1".into()], "08:00", "10:00", "2026-01-01", "").is_ok());

    // the page: the figure, and its drill-down item by item
    let q = format!("from={}&to={}", d1.format("%Y-%m-%d"), d3.format("%Y-%m-%d"));
    let (status, html) = desk.page(&format!("/staff/figures?{q}&subject=worker%3A{}&metric=presence", worker.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("50.0%") && html.contains("3 / 6"), "figure and basis shown");
    assert_eq!(html.matches("时段内未签到").count(), 2);
    assert!(html.contains("夜间巡逻 · 北门"));
    // a bad period is refused in words and the dates typed stay in the form
    let (_, html) = desk.page("/staff/figures?from=2026-13-01&to=2026-11-30").await;
    assert!(html.contains(ErrorCode::InvalidDateRange.message(false)) && html.contains("2026-13-01"));
    let r = desk.client().get(app.url("/staff/figures.csv?from=bad")).send().await.unwrap();
    assert_eq!(r.status(), 422);

    // CSV: the same figures
    let r = desk.client().get(app.url(&format!("/staff/figures.csv?{q}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let row = rows.iter().find(|r| &r[0] == "网格员" && &r[1] == w.name.as_str()).expect("worker row");
    assert_eq!((&row[5], &row[6]), ("50.0%", "3 / 6"));
    // XLSX: the table and every item
    let r = desk.client().get(app.url(&format!("/staff/figures.xlsx?{q}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names().to_vec();
    assert_eq!(names.len(), 2);
    let summary = book.worksheet_range(&names[0]).unwrap();
    let found = summary.rows().find(|r| r[0] == "网格员" && r[1] == w.name.as_str()).unwrap();
    assert_eq!(found[5].to_string(), "50.0%");
    let items = book.worksheet_range(&names[1]).unwrap();
    let presence: Vec<_> = items.rows().filter(|r| r[0] == "到位率").collect();
    assert_eq!(presence.len(), 6);
    assert_eq!(presence.iter().filter(|r| r[6] == "达标").count(), 3);
    // staff of another community: their own scope only
    let other = browser(&app).await;
    other.password_login(STAFF_A).await;
    let (_, html) = other.page(&format!("/staff/figures?{q}")).await;
    assert!(!html.contains(w.name.as_str()) && !html.contains("和谐社区第一网格"));
}

fn by_link_in(items: &[domain::figures::Item], id: i64) -> Option<domain::figures::Item> {
    items.iter().find(|i| i.link.as_deref() == Some(&format!("/incidents/{id}"))).cloned()
}

#[tokio::test]
async fn closure_updates_and_satisfaction_come_from_the_incident_events() {
    let app = spawn_app().await;
    let harmony = app.org_id("和谐社区").await;
    let grid = app.org_id("和谐社区第一网格").await;
    let staff = current(&app, STAFF_B).await;
    let worker = current(&app, WORKER_B).await;
    let spot = || Some(Spot { lat: 39.95, lng: 116.40, accuracy_m: Some(8.0) });
    let mut ids = vec![];
    for (i, text) in ["路灯不亮", "垃圾满溢", "占道经营", "井盖松动", "楼道堆物"].iter().enumerate()
    {
        let new = NewIncident::parse("facilities", text, spot(), "").unwrap();
        let id = incidents::report(&app.state, &worker, harmony, &format!("fig-inc-000{i}"), new).await.unwrap();
        incidents::act(&app.state, &staff, id, Step::Accept { note: None }).await.unwrap();
        let deadline = Utc::now() + Duration::days(3);
        let dispatch = Step::Dispatch { assignee: Some(worker.id), department: None, deadline, note: None };
        incidents::act(&app.state, &staff, id, dispatch).await.unwrap();
        ids.push(id);
    }
    // 0, 1 and 4: handled, verified, closed, rated
    for (id, stars) in [(ids[0], 5), (ids[1], 2), (ids[4], 4)] {
        incidents::act(&app.state, &worker, id, Step::Start { note: None, draft: format!("d-start-{id}0") })
            .await
            .unwrap();
        let handle = Step::Handle { note: "已处理".into(), draft: format!("d-handle-{id}0") };
        incidents::act(&app.state, &worker, id, handle).await.unwrap();
        incidents::act(&app.state, &staff, id, Step::Verify { note: None }).await.unwrap();
        incidents::act(&app.state, &staff, id, Step::Close { note: None }).await.unwrap();
        incidents::act(&app.state, &worker, id, Step::Rate { rating: stars, comment: None }).await.unwrap();
    }
    // deadlines: 0 still ahead (but closed: counts, on time); 1 passed an
    // hour ago, before its handling (late); 2 passed, never handled
    // (missed); 3 ahead and open (not due yet: not counted)
    let set_deadline = |id: i64, d: chrono::DateTime<Utc>| {
        let db = app.state.db.clone();
        async move {
            incident::Entity::update_many()
                .col_expr(incident::Column::Deadline, sea_orm::sea_query::Expr::value(d))
                .filter(incident::Column::Id.eq(id))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    set_deadline(ids[0], Utc::now() + Duration::hours(2)).await;
    set_deadline(ids[1], Utc::now() - Duration::hours(1)).await;
    set_deadline(ids[2], Utc::now() - Duration::hours(1)).await;
    set_deadline(ids[3], Utc::now() + Duration::hours(3)).await;
    // 4: closed today, its deadline 40 days ahead: counted today, when it closed
    set_deadline(ids[4], Utc::now() + Duration::days(40)).await;

    let today = backend::figures::today();
    let period = Period { from: today - Duration::days(6), to: today + Duration::days(1) };
    let me = Subject::Worker(worker.id);
    let report = |m: Metric| backend::figures::report(&app.state, &staff, period, Some((me, m)), false);
    let r = report(Metric::Closure).await.unwrap();
    let w = r.rows.iter().find(|f| f.subject == me).unwrap().clone();
    assert_eq!((w.closure.num, w.closure.den), (2, 4));
    assert_eq!(w.closure.percent(), "50.0%");
    let d = r.drill.unwrap();
    assert_eq!(d.items.len(), 4);
    assert!(by_link_in(&d.items, ids[4]).unwrap().detail.contains("按结案时间计入"), "the drill-down says why");
    let by_link = |id: i64| d.items.iter().find(|i| i.link.as_deref() == Some(&format!("/incidents/{id}"))).cloned();
    assert!(by_link(ids[0]).unwrap().good());
    assert!(by_link(ids[1]).unwrap().detail.contains("逾期"));
    assert!(by_link(ids[2]).unwrap().detail.contains("尚未办结"));
    assert!(by_link(ids[3]).is_none(), "not yet due");
    let g = r.rows.iter().find(|f| f.subject == Subject::Grid(grid)).unwrap();
    assert_eq!((g.closure.num, g.closure.den), (2, 4));
    // counted once: not again in the period of its deadline
    let later = Period { from: today + Duration::days(38), to: today + Duration::days(42) };
    let r4 = backend::figures::report(&app.state, &staff, later, Some((me, Metric::Closure)), false).await.unwrap();
    assert!(by_link_in(&r4.drill.unwrap().items, ids[4]).is_none());

    // updates: 5 reports + start and handle on three = 11 over 7 days up to today
    assert_eq!(w.updates, 11);
    assert_eq!(w.worker_days, 7);
    assert_eq!(w.update_rate(), "1.57");
    let d = report(Metric::Updates).await.unwrap().drill.unwrap();
    assert_eq!(d.items.len(), 11);
    assert_eq!(d.items.iter().filter(|i| i.detail == "处置完成").count(), 3);

    // satisfaction: 5, 2 and 4 stars
    assert_eq!((w.ratings, w.stars, w.satisfied), (3, 11, 2));
    assert_eq!(w.satisfaction(), "3.7 ★ · 66.7%");
    let d = report(Metric::Satisfaction).await.unwrap().drill.unwrap();
    assert_eq!(d.items.iter().map(|i| i.score).collect::<Vec<_>>(), vec![5, 2, 4]);

    // a resident's report with only an address is in no grid: a row of its
    // own makes the community's figure the sum of its grids' and that row
    let resident = current(&app, RESIDENT_B).await;
    let new = NewIncident::parse("facilities", "路灯坏了", None, "5号楼门口").unwrap();
    let lone = incidents::report(&app.state, &resident, harmony, "fig-inc-res-1", new).await.unwrap();
    incidents::act(&app.state, &staff, lone, Step::Accept { note: None }).await.unwrap();
    let dispatch = Step::Dispatch {
        assignee: Some(worker.id),
        department: None,
        deadline: Utc::now() + Duration::days(1),
        note: None,
    };
    incidents::act(&app.state, &staff, lone, dispatch).await.unwrap();
    set_deadline(lone, Utc::now() - Duration::hours(1)).await;
    let r = backend::figures::report(&app.state, &staff, period, None, false).await.unwrap();
    let community = r.rows.iter().find(|f| f.subject == Subject::Community(harmony)).unwrap();
    let in_grids: u32 = r
        .rows
        .iter()
        .filter(|f| matches!(f.subject, Subject::Grid(_)) && f.parent == community.name)
        .map(|f| f.closure.den)
        .sum();
    let none = r.rows.iter().find(|f| f.subject == Subject::Ungridded(harmony)).expect("a row for what is in no grid");
    assert_eq!(none.closure.den, 1);
    assert_eq!(community.closure.den, in_grids + none.closure.den, "the community is its grids and that row");
    let d = backend::figures::report(
        &app.state,
        &staff,
        period,
        Some((Subject::Ungridded(harmony), Metric::Closure)),
        false,
    )
    .await
    .unwrap()
    .drill
    .unwrap();
    assert_eq!(d.items.len(), 1);

    // a period before all this counts nothing
    let before = Period { from: today - Duration::days(60), to: today - Duration::days(30) };
    let r = backend::figures::report(&app.state, &staff, before, None, false).await.unwrap();
    let w = r.rows.iter().find(|f| f.subject == me).unwrap();
    assert_eq!((w.closure.den, w.updates, w.ratings), (0, 0, 0));
    assert_eq!((w.closure.percent(), w.update_rate()), ("—".to_string(), "0.00".to_string()));
}

#[tokio::test]
async fn grid_outlines_are_checked_and_drawn() {
    let app = spawn_app().await;
    let desk = browser(&app).await;
    desk.password_login(STAFF_B).await;
    let grid = app.org_id("和谐社区第一网格").await.to_string();
    let bad = r#"{"type":"Polygon","coordinates":[[[116.40,39.95],[116.41,39.95]]]}"#;
    let r = desk.form(path::<app::patrol::SetOutline>(), "/staff/patrol", &[("grid", &grid), ("geojson", bad)]).await;
    let loc = location(&r);
    assert!(loc.contains("error=invalid_outline"), "{loc}");
    let (_, html) = desk.page(&loc).await;
    assert!(html.contains(ErrorCode::InvalidOutline.message(false)));
    assert!(html.contains("116.41,39.95"), "the GeoJSON typed is kept");
    let good = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[116.40,39.95],[116.41,39.95],[116.41,39.96],[116.40,39.96],[116.40,39.95]]]}}"#;
    let r = desk.form(path::<app::patrol::SetOutline>(), "/staff/patrol", &[("grid", &grid), ("geojson", good)]).await;
    assert!(location(&r).contains("outline=1"), "{}", location(&r));
    let (_, html) = desk.page("/staff/patrol/patrols").await;
    assert!(html.contains(r#"class="outline""#), "the outline is drawn on the live board");
    // staff of another community cannot set it
    let other = browser(&app).await;
    other.password_login(STAFF_A).await;
    let r = other.form(path::<app::patrol::SetOutline>(), "/staff/patrol", &[("grid", &grid), ("geojson", good)]).await;
    assert!(location(&r).contains("error=forbidden"), "{}", location(&r));
    // parsing
    assert!(patrol::parse_outline(r#"{"type":"Point","coordinates":[116.4,39.9]}"#).is_err());
    assert!(patrol::parse_outline(r#"{"type":"Polygon","coordinates":[[[200,39.95],[116.41,39.95],[116.41,39.96]]]}"#)
        .is_err());
    assert_eq!(patrol::parse_outline(good).unwrap().len(), 4, "the closing point is not kept twice");
}

#[tokio::test]
async fn tiles_are_drawn_under_the_sketch_when_configured() {
    let app = spawn_app_with(&[
        ("MAP_TILE_URL", "https://webrd0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}"),
        ("MAP_TILE_CRS", "gcj02"),
        ("MAP_TILE_SUBDOMAINS", "1234"),
        ("MAP_TILE_ATTRIBUTION", "高德地图"),
    ])
    .await;
    let desk = browser(&app).await;
    desk.password_login(STAFF_A).await;
    let (_, html) = desk.page("/staff/patrol/patrols").await;
    assert!(html.contains("<image") && html.contains("is.autonavi.com/appmaptile"), "tiles drawn");
    assert!(html.contains("高德地图"));
    // a bad template is refused at start-up
    let env = |k: &str| match k {
        "MAP_TILE_URL" => Some("https://tiles.example/{z}/{x}.png".to_string()),
        "JWT_SECRET" => Some("test-secret-test-secret-test-secret-0123456789".to_string()),
        _ => None,
    };
    let e = backend::config::Config::from_lookup(env).expect_err("refused");
    assert_eq!(e.key, "MAP_TILE_URL");
}
