//! Patrols under way (issue 4): batches from the phone's outbox are stored
//! once however often they are sent, every dropped fix says why, check-ins
//! are judged on real evidence (the spoofing cases of rules.md §5 are
//! flagged), and the OsmAnd protocol in both variants, bad requests included.

use crate::appointments::{current, token_of};
use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::entities::{patrol as patrol_entity, patrol_checkin, track_point};
use backend::patrol;
use chrono::{Duration, Utc};
use domain::geo::distance_m;
use domain::patrol::{NewCheckpoint, PatrolState};
use domain::ErrorCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

/// 东门 (39.9087, 116.3975) and, 300 m north-east, 3号楼 (39.9110, 116.3995).
const EAST_GATE: (f64, f64) = (39.9087, 116.3975);
const BLOCK_3: (f64, f64) = (39.9110, 116.3995);

/// A route in 阳光社区第一网格 with two checkpoints (the second needs its QR
/// code); returns (route, [checkpoint ids], QR token of the second).
async fn a_route(app: &TestApp) -> (i64, Vec<i64>, String) {
    let staff = current(app, STAFF_A).await;
    let grid = app.org_id("阳光社区第一网格").await;
    let route = patrol::create_route(&app.state, &staff, grid, "日常巡逻", true).await.unwrap();
    let a = NewCheckpoint::new("东门", EAST_GATE.0, EAST_GATE.1, Some(30), false).unwrap();
    let b = NewCheckpoint::new("3号楼", BLOCK_3.0, BLOCK_3.1, Some(30), true).unwrap();
    patrol::add_checkpoint(&app.state, &staff, route, a).await.unwrap();
    patrol::add_checkpoint(&app.state, &staff, route, b).await.unwrap();
    let r = patrol::routes(&app.state, &staff).await.unwrap().into_iter().find(|r| r.id == route).unwrap();
    let (_, sheet) = patrol::sheet(&app.state, &staff, route).await.unwrap();
    let token = sheet[0].url.rsplit('/').next().unwrap().to_string();
    (route, r.checkpoints.iter().map(|c| c.id).collect(), token)
}

/// Starts the worker's patrol and moves its start an hour back, so fixes
/// from the last hour fall inside it.
async fn a_patrol(app: &TestApp, route: i64) -> i64 {
    let worker = current(app, WORKER_A).await;
    let id = patrol::start(&app.state, &worker, Some(route), None).await.unwrap();
    patrol_entity::Entity::update_many()
        .col_expr(patrol_entity::Column::StartedAt, sea_orm::sea_query::Expr::value(Utc::now() - Duration::hours(1)))
        .filter(patrol_entity::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
    id
}

/// A walk from `from` to `to` in `n` fixes, `step_s` apart, ending
/// `end_ago_s` before the batch is sent; times by a phone clock `skew_s` off.
fn walk(
    prefix: &str,
    from: (f64, f64),
    to: (f64, f64),
    n: usize,
    step_s: i64,
    end_ago_s: i64,
    sent: i64,
) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let f = if n == 1 { 1.0 } else { i as f64 / (n - 1) as f64 };
            let t = sent - (end_ago_s + (n - 1 - i) as i64 * step_s) * 1000;
            json!({"type": "fix", "id": format!("{prefix}{i}"), "t": t,
                   "lat": from.0 + (to.0 - from.0) * f, "lng": from.1 + (to.1 - from.1) * f, "acc": 8.0})
        })
        .collect()
}

async fn send(app: &TestApp, token: &str, patrol: i64, sent: i64, items: Vec<Value>) -> Value {
    let r = app
        .post_bearer("/api/v1/patrol/batch", token, json!({"patrol": patrol, "sent_at": sent, "items": items}))
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn rows(app: &TestApp, patrol: i64) -> u64 {
    track_point::Entity::find().filter(track_point::Column::PatrolId.eq(patrol)).count(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn batches_are_stored_once_and_every_dropped_fix_says_why() {
    let app = spawn_app().await;
    let (route, cps, _) = a_route(&app).await;
    let worker = current(&app, WORKER_A).await;
    // one patrol at a time; residents have none
    let id = a_patrol(&app, route).await;
    assert_eq!(
        patrol::start(&app.state, &worker, Some(route), None).await.unwrap_err().code,
        ErrorCode::PatrolUnderWay
    );
    let resident = current(&app, RESIDENT_A).await;
    assert_eq!(patrol::start(&app.state, &resident, Some(route), None).await.unwrap_err().code, ErrorCode::Forbidden);
    let token = token_of(&app, WORKER_A).await;
    // another person cannot send into this patrol
    let other = token_of(&app, STAFF_A).await;
    let r = app.post_bearer("/api/v1/patrol/batch", &other, json!({"patrol": id, "sent_at": 0, "items": []})).await;
    assert_eq!(r.status(), 403);

    // a phone whose clock is an hour slow walks 300 m to 3号楼 in 5 minutes
    let sent = Utc::now().timestamp_millis() - 3_600_000;
    let mut items = walk("w", EAST_GATE, BLOCK_3, 31, 10, 20, sent);
    items.push(
        json!({"type": "fix", "id": "vague", "t": sent - 15_000, "lat": BLOCK_3.0, "lng": BLOCK_3.1, "acc": 80.0}),
    );
    items.push(
        json!({"type": "fix", "id": "ahead", "t": sent + 60_000, "lat": BLOCK_3.0, "lng": BLOCK_3.1, "acc": 5.0}),
    );
    items.push(
        json!({"type": "fix", "id": "old", "t": sent - 9 * 86_400_000, "lat": BLOCK_3.0, "lng": BLOCK_3.1, "acc": 5.0}),
    );
    items.push(json!({"type": "fix", "id": "teleport", "t": sent - 12_000, "lat": 31.23, "lng": 121.47, "acc": 3.0}));
    items.push(json!({"type": "fix", "id": "bad", "t": sent - 11_000, "lat": 95.0, "lng": 121.47, "acc": 3.0}));
    items.push(json!({"type": "checkin", "id": "c1", "t": sent - 18_000, "checkpoint": cps[1]}));
    let n = items.len();

    // the same batch three times at once, then once more: stored once
    let sends = (0..3).map(|_| send(&app, &token, id, sent, items.clone()));
    let replies = futures_util::future::join_all(sends).await;
    let stored: u64 = replies.iter().map(|r| r["stored"].as_u64().unwrap()).sum();
    let dups: u64 = replies.iter().map(|r| r["duplicates"].as_u64().unwrap()).sum();
    assert_eq!((stored, dups), (n as u64, 2 * n as u64), "{replies:?}");
    let again = send(&app, &token, id, sent + 5_000, items.clone()).await;
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(n as u64)));
    assert_eq!(rows(&app, id).await, (n - 1) as u64, "every fix kept raw, exactly once");

    // every dropped fix has its reason, also in the reply
    let mut reasons: Vec<(String, String)> = again["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_string(), d["reason"].as_str().unwrap().to_string()))
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [("ahead", "future"), ("bad", "invalid"), ("old", "stale"), ("teleport", "jump"), ("vague", "inaccurate")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .to_vec()
    );
    // times are the server's: the walk ends 20 s before now, not an hour ago
    let last = track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(id))
        .filter(track_point::Column::ClientId.eq("w30"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!((Utc::now() - last.at).num_seconds().abs() < 30, "{}", last.at);

    // the check-in at 3号楼 without its QR code: near and corroborated, but flagged
    let c = &again["checkins"][0];
    assert_eq!(c["accepted"], false, "{c}");
    let ev: Vec<&str> = c["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(ev.iter().any(|e| e.contains("在范围内")), "{ev:?}");
    assert!(ev.iter().any(|e| e.contains("未扫")), "{ev:?}");
    assert!(ev.iter().any(|e| e.contains("手机时间与服务器相差 -360")), "the wrong clock is noted: {ev:?}");
    let stored = patrol_checkin::Entity::find().filter(patrol_checkin::Column::PatrolId.eq(id));
    assert_eq!(stored.count(&app.state.db).await.unwrap(), 1);
}

/// Ends the worker's patrol under way and starts another (each spoofing
/// case on a clean track).
async fn fresh_patrol(app: &TestApp, route: i64) -> i64 {
    let worker = current(app, WORKER_A).await;
    if let Some(p) = patrol::open_patrol(&app.state, &worker).await.unwrap() {
        patrol::transition(&app.state, &worker, p.id, domain::patrol::Transition::End, "end", Utc::now())
            .await
            .unwrap();
    }
    a_patrol(app, route).await
}

fn evidence(c: &Value) -> String {
    c["evidence"].to_string()
}

#[tokio::test]
async fn check_ins_need_real_evidence() {
    let app = spawn_app().await;
    let (route, cps, token_qr) = a_route(&app).await;
    let token = token_of(&app, WORKER_A).await;
    let now = || Utc::now().timestamp_millis();

    // walked to 东门 and checked in: two fixes agree → accepted
    let id = fresh_patrol(&app, route).await;
    let sent = now();
    let mut items = walk("a", (39.9060, 116.3975), EAST_GATE, 20, 10, 600, sent);
    items.push(json!({"type": "checkin", "id": "ok", "t": sent - 599_000, "checkpoint": cps[0]}));
    let r = send(&app, &token, id, sent, items).await;
    assert_eq!(r["checkins"][0]["accepted"], true, "{r}");
    assert!(evidence(&r["checkins"][0]).contains("在范围内") && evidence(&r["checkins"][0]).contains("另一次定位相符"));

    // then on to 3号楼, its QR code scanned → accepted
    let sent = now();
    let mut items = walk("b", EAST_GATE, BLOCK_3, 30, 10, 300, sent);
    items.push(json!({"type": "checkin", "id": "qr", "t": sent - 299_000, "checkpoint": cps[1], "qr": token_qr}));
    let r = send(&app, &token, id, sent, items).await;
    assert_eq!(r["checkins"][0]["accepted"], true, "{r}");
    assert!(evidence(&r["checkins"][0]).contains("已扫点位二维码"));

    // a wrong QR token counts as not scanned
    let sent = now();
    let fake = json!({"type": "checkin", "id": "fake-qr", "t": sent - 250_000, "checkpoint": cps[1], "qr": "0000"});
    let r = send(&app, &token, id, sent, vec![fake]).await;
    assert_eq!(r["checkins"][0]["accepted"], false);
    assert!(evidence(&r["checkins"][0]).contains("未扫"));

    // one far fix claiming "2 m" right after fixes 1.3 km away: a jump, flagged
    let id = fresh_patrol(&app, route).await;
    let sent = now();
    let far = (39.9200, 116.3975);
    let mut items = walk("c", far, far, 3, 10, 120, sent);
    items.push(
        json!({"type": "fix", "id": "liar", "t": sent - 100_000, "lat": EAST_GATE.0, "lng": EAST_GATE.1, "acc": 2.0}),
    );
    items.push(json!({"type": "checkin", "id": "liar-in", "t": sent - 100_000, "checkpoint": cps[0]}));
    let r = send(&app, &token, id, sent, items).await;
    let c = &r["checkins"][0];
    assert_eq!(c["accepted"], false, "{c}");
    assert!(evidence(c).contains("不合常理") && evidence(c).contains("无法相互印证"), "{c}");
    assert_eq!(r["dropped"][0]["id"], "liar", "and the fix is left out of the track");

    // a single fix: nothing else within two minutes agrees
    let id = fresh_patrol(&app, route).await;
    let sent = now();
    let items = vec![
        json!({"type": "fix", "id": "lone", "t": sent - 30_000, "lat": EAST_GATE.0, "lng": EAST_GATE.1, "acc": 5.0}),
        json!({"type": "checkin", "id": "lone-in", "t": sent - 30_000, "checkpoint": cps[0]}),
    ];
    let r = send(&app, &token, id, sent, items).await;
    let c = &r["checkins"][0];
    assert_eq!(c["accepted"], false, "{c}");
    assert!(evidence(c).contains("无法相互印证") && !evidence(c).contains("不合常理"), "{c}");

    // no fix at all
    let id = fresh_patrol(&app, route).await;
    let sent = now();
    let r =
        send(&app, &token, id, sent, vec![json!({"type": "checkin", "id": "blind", "t": sent, "checkpoint": cps[0]})])
            .await;
    assert_eq!(r["checkins"][0]["accepted"], false);

    // a checkpoint of no route of this patrol, and a malformed item id: each
    // item is refused with its reason, and the good fix beside them is stored
    let r = send(
        &app,
        &token,
        id,
        sent,
        vec![
            json!({"type": "checkin", "id": "x", "t": sent, "checkpoint": 999_999}),
            json!({"type": "fix", "id": "a b", "t": sent, "lat": 1, "lng": 2, "acc": 3}),
            json!({"type": "fix", "id": "good", "t": sent, "lat": BLOCK_3.0, "lng": BLOCK_3.1, "acc": 5.0}),
        ],
    )
    .await;
    assert_eq!(r["stored"], 1);
    let refused: Vec<(&str, &str)> = r["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap(), x["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(refused.len(), 2, "{r}");
    assert!(refused.contains(&("x", "unknown_checkpoint")), "{r}");
    assert!(refused.contains(&("a b", "bad_id")), "{r}");
    assert!(r["refused"][0]["text"].as_str().is_some_and(|t| !t.is_empty()));
    // a body that is not a batch is refused as a whole
    let r = app.post_bearer("/api/v1/patrol/batch", &token, json!({"patrol": "one"})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        patrol_checkin::Entity::find()
            .filter(patrol_checkin::Column::ClientId.eq("x"))
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    // a checkpoint with check-ins is evidence: it cannot be removed
    let staff = current(&app, STAFF_A).await;
    assert_eq!(
        patrol::remove_checkpoint(&app.state, &staff, cps[0]).await.unwrap_err().code,
        ErrorCode::CheckpointInUse
    );
}

#[tokio::test]
async fn pause_resume_end_and_gaps_from_the_outbox() {
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let id = a_patrol(&app, route).await;
    let token = token_of(&app, WORKER_A).await;
    let worker = current(&app, WORKER_A).await;
    let sent = Utc::now().timestamp_millis();
    let items = vec![
        json!({"type": "event", "id": "g1", "t": sent - 600_000, "kind": "gap", "until": sent - 540_000, "reason": "offline"}),
        json!({"type": "event", "id": "p1", "t": sent - 500_000, "kind": "pause"}),
        json!({"type": "event", "id": "r1", "t": sent - 400_000, "kind": "resume"}),
        json!({"type": "event", "id": "e1", "t": sent - 100_000, "kind": "end"}),
        json!({"type": "fix", "id": "in", "t": sent - 200_000, "lat": EAST_GATE.0, "lng": EAST_GATE.1, "acc": 5.0}),
        json!({"type": "fix", "id": "after", "t": sent - 10_000, "lat": EAST_GATE.0, "lng": EAST_GATE.1, "acc": 5.0}),
    ];
    let r = send(&app, &token, id, sent, items.clone()).await;
    assert_eq!(r["state"], "ended", "{r}");
    assert_eq!(r["stored"], 6);
    assert_eq!(r["dropped"][0]["reason"], "outside", "a fix after the end is not part of the patrol");
    let r = send(&app, &token, id, sent, items).await;
    assert_eq!((r["stored"].as_u64(), r["duplicates"].as_u64()), (Some(0), Some(6)));
    let p = patrol_entity::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(p.state, PatrolState::Ended.as_str());
    let ended = p.ended_at.unwrap();
    assert!(((Utc::now() - ended).num_seconds() - 100).abs() < 10, "ended when the phone said, by the server's clock");
    // a gap with a bad reason is refused
    assert!(patrol::open_patrol(&app.state, &worker).await.unwrap().is_none());
    // a new patrol may start
    let again = patrol::start(&app.state, &worker, Some(route), None).await.unwrap();
    assert_ne!(again, id);
    let r = send(
        &app,
        &token,
        again,
        sent,
        vec![json!({"type": "event", "id": "g", "t": sent, "kind": "gap", "until": sent, "reason": "bored"})],
    )
    .await;
    assert_eq!((r["stored"].as_u64(), r["refused"][0]["id"].as_str()), (Some(0), Some("g")));
    assert_eq!(r["refused"][0]["reason"], "unreadable");
}

#[tokio::test]
async fn osmand_form_and_json_variants() {
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let worker = current(&app, WORKER_A).await;
    let device = patrol::register_device(&app.state, &worker, Some("TRACCAR-778899"), "华为手机").await.unwrap();
    assert_eq!(
        patrol::register_device(&app.state, &worker, Some("TRACCAR-778899"), "x").await.unwrap_err().code,
        ErrorCode::DeviceTaken
    );
    assert_eq!(
        patrol::register_device(&app.state, &worker, Some("abc"), "x").await.unwrap_err().code,
        ErrorCode::InvalidDevice
    );
    let generated = patrol::register_device(&app.state, &worker, None, "").await.unwrap();
    assert!(generated.len() == 12 && generated.bytes().all(|b| b.is_ascii_digit()));
    let resident = current(&app, RESIDENT_A).await;
    assert_eq!(patrol::register_device(&app.state, &resident, None, "").await.unwrap_err().code, ErrorCode::Forbidden);
    let c = reqwest::Client::new();
    let now = Utc::now().timestamp();
    let q = |ts: i64| format!("/osmand?id={device}&timestamp={ts}&lat=39.9087&lon=116.3975&speed=2&accuracy=6&batt=80");

    // no patrol under way: 200, nothing stored (privacy)
    let before = track_point::Entity::find().count(&app.state.db).await.unwrap();
    let r = c.get(app.url(&q(now))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(track_point::Entity::find().count(&app.state.db).await.unwrap(), before);

    let id = a_patrol(&app, route).await;
    // form variant: GET query, POST body, the same position twice stored once
    assert_eq!(c.get(app.url(&q(now - 60))).send().await.unwrap().status(), 200);
    assert_eq!(c.get(app.url(&q(now - 60))).send().await.unwrap().status(), 200);
    let r = c
        .post(app.url("/api/v1/osmand"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "deviceid={device}&timestamp={}&location=39.9090,116.3977&hdop=1.2&valid=true",
            (now - 50) * 1000
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // JSON variant: one location, then a batch
    let one = json!({"device_id": device, "location": {"timestamp": chrono::DateTime::from_timestamp(now - 40, 0).unwrap().to_rfc3339(),
        "coords": {"latitude": 39.9093, "longitude": 116.3979, "accuracy": 5, "speed": 1.2, "heading": 30, "altitude": 40},
        "is_moving": true, "battery": {"level": 0.8, "is_charging": false}, "activity": {"type": "walking"}, "extras": {}}});
    assert_eq!(c.post(app.url("/api/v1/osmand")).json(&one).send().await.unwrap().status(), 200);
    let many = json!({"device_id": device, "location": [
        {"timestamp": chrono::DateTime::from_timestamp(now - 30, 0).unwrap().to_rfc3339(), "coords": {"latitude": 39.9095, "longitude": 116.3981, "accuracy": 5}},
        {"timestamp": chrono::DateTime::from_timestamp(now - 20, 0).unwrap().to_rfc3339(), "coords": {"latitude": 39.9097, "longitude": 116.3983, "accuracy": 5}, "mock": true}
    ]});
    assert_eq!(c.post(app.url("/api/v1/osmand")).json(&many).send().await.unwrap().status(), 200);
    let pts = track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(id))
        .order_by_asc(track_point::Column::At)
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(pts.len(), 5, "{pts:?}");
    assert!(pts.iter().all(|p| p.source == "osmand"));
    assert!((pts[0].speed_mps.unwrap() - 1.029).abs() < 0.01, "knots to m/s");
    assert_eq!(pts[0].battery, Some(80));
    assert_eq!(pts[1].accuracy_m, 6.0, "hdop × 5");
    assert_eq!(pts[4].dropped.as_deref(), Some("invalid"), "a mock location is kept raw but left out");
    assert!(distance_m(pts[0].lat, pts[0].lng, EAST_GATE.0, EAST_GATE.1) < 1.0);

    // bad requests: clear 400s (404 for an unknown device in JSON)
    for (url, want, says) in [
        ("/osmand?lat=1&lon=2".to_string(), 400, "device id"),
        ("/osmand?id=nobody-here&lat=1&lon=2".to_string(), 400, "unknown device"),
        (format!("/osmand?id={device}"), 400, "missing position"),
        (format!("/osmand?id={device}&lat=abc&lon=2"), 400, "'lat' is not a number"),
        (format!("/osmand?id={device}&lat=100&lon=2"), 400, "out of range"),
        (format!("/osmand?id={device}&lat=1&lon=2&timestamp=later"), 400, "timestamp"),
    ] {
        let r = c.get(app.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), want, "{url}");
        assert!(r.text().await.unwrap().contains(says), "{url}");
    }
    let unknown = json!({"device_id": "nobody-here", "location": {"coords": {"latitude": 1, "longitude": 2}}});
    assert_eq!(c.post(app.url("/osmand")).json(&unknown).send().await.unwrap().status(), 404);
    for body in ["{", r#"{"device_id": "x"}"#, r#"{"device_id": "x", "location": {"coords": {"latitude": "north"}}}"#] {
        let r = c.post(app.url("/osmand")).header("Content-Type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    assert_eq!(rows(&app, id).await, 5, "nothing stored by bad requests");

    // once the patrol has ended, positions are discarded again
    patrol::transition(&app.state, &worker, id, domain::patrol::Transition::End, "end", Utc::now()).await.unwrap();
    assert_eq!(c.get(app.url(&q(now))).send().await.unwrap().status(), 200);
    assert_eq!(rows(&app, id).await, 5);
}

#[tokio::test]
async fn the_worker_page_plain_forms_track_page_and_exports() {
    let app = spawn_app().await;
    let worker = browser(&app).await;
    worker.code_login(WORKER_A).await;
    // the demo route and this morning's demo patrol
    let (status, html) = worker.page("/patrol").await;
    assert_eq!(status, 200);
    assert!(html.contains("日常巡逻线") && html.contains("按此线路开始"), "{html}");
    let w = current(&app, WORKER_A).await;
    let home = patrol::worker_home(&app.state, &w).await.unwrap();
    let demo = home.recent[0].clone();
    assert_eq!((demo.checkins_ok, demo.checkins), (3, 3), "{demo:?}");
    // one meaning everywhere: checkpoints reached of those planned (one was missed)
    assert_eq!((demo.checkpoints_reached, demo.checkpoints_planned), (3, 4), "{demo:?}");
    let (_, html) = worker.page("/patrol").await;
    assert!(html.contains("点位签到 3 / 4(签到 3 次)"), "{html}");
    assert!(demo.kept > 50 && demo.last_fix.is_some(), "{demo:?}");
    let route = home.routes[0].id.to_string();

    // a device id too short: the reason in words, the typed id and label kept
    let r = worker.form(path::<app::patrol::AddDevice>(), "/patrol", &[("device", "abc"), ("label", "旧手机")]).await;
    let to = location(&r);
    assert!(to.contains("error=invalid_device"), "{to}");
    let (_, html) = worker.page(&to).await;
    assert!(
        html.contains("设备号须为 6 到 64 位") && html.contains("value=\"abc\"") && html.contains("旧手机"),
        "{html}"
    );

    // start with a plain form, twice: one patrol
    let r = worker.form(path::<app::patrol::StartPatrol>(), "/patrol", &[("route", &route)]).await;
    assert_eq!(location(&r), "/patrol?started=1");
    let r = worker.form(path::<app::patrol::StartPatrol>(), "/patrol", &[("route", &route)]).await;
    assert!(location(&r).contains("error=patrol_under_way"), "{}", location(&r));
    let (_, html) = worker.page("/patrol").await;
    assert!(html.contains("id=\"patrol\"") && html.contains("data-state=\"active\""));
    // the recorder is an island, with the patrol it records in its props
    assert!(html.contains("<leptos-island data-component=\"PatrolRecorder_"), "{html}");
    assert!(
        html.contains(&format!(
            "&quot;patrol&quot;:{}",
            patrol::open_patrol(&app.state, &w).await.unwrap().unwrap().id
        )),
        "{html}"
    );
    let open = patrol::open_patrol(&app.state, &w).await.unwrap().unwrap();
    // a check-in without any fix, from a plain form: stored and flagged, with the reason shown
    let cp = home.routes[0].checkpoints[1].id.to_string();
    let pid = open.id.to_string();
    let r = worker
        .form(
            path::<app::patrol::CheckInForm>(),
            "/patrol",
            &[("patrol", &pid), ("checkpoint", &cp), ("cid", "form-1")],
        )
        .await;
    assert!(location(&r).starts_with("/patrol?checked=flagged"), "{}", location(&r));
    let (_, html) = worker.page("/patrol").await;
    assert!(html.contains("签到存疑") && html.contains("无法相互印证"), "the worker sees why");
    // pause, then end
    for what in ["pause", "end"] {
        let r = worker
            .form(
                path::<app::patrol::PatrolAction>(),
                "/patrol",
                &[("patrol", &pid), ("what", what), ("cid", "form-1")],
            )
            .await;
        assert_eq!(location(&r), format!("/patrol?{what}=1"));
    }
    assert!(patrol::open_patrol(&app.state, &w).await.unwrap().is_none());

    // the demo patrol's track page and exports
    let (status, html) = worker.page(&format!("/patrols/{}", demo.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg") && html.contains("class=\"trk\"") && html.contains("儿童游乐场"), "{html}");
    let gpx = worker.client().get(app.url(&format!("/api/v1/patrols/{}.gpx", demo.id))).send().await.unwrap();
    assert_eq!(gpx.status(), 200);
    assert!(gpx.headers()["content-type"].to_str().unwrap().starts_with("application/gpx+xml"));
    let gpx = gpx.text().await.unwrap();
    assert!(
        gpx.starts_with("<?xml")
            && gpx.contains("<gpx version=\"1.1\"")
            && gpx.contains("xmlns=\"http://www.topografix.com/GPX/1/1\"")
    );
    assert_eq!(gpx.matches("<wpt ").count(), 4);
    assert_eq!(gpx.matches("<trkpt ").count() as u64, demo.kept);
    assert!(gpx.contains("<time>") && gpx.contains("<zhsq:accuracy>"));
    assert_valid_gpx(&gpx);
    let gj: Value = worker
        .client()
        .get(app.url(&format!("/api/v1/patrols/{}.geojson", demo.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gj["type"], "FeatureCollection");
    assert_eq!(gj["features"][0]["geometry"]["type"], "MultiLineString");
    let visited = gj["features"].as_array().unwrap().iter().filter(|f| f["properties"]["visited"] == true).count();
    assert_eq!(visited, 3);

    // staff of the community see the patrols; staff of another do not; a resident gets nothing
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let (_, html) = staff.page("/staff/patrol/patrols").await;
    assert!(html.contains("张伟") && html.contains("日常巡逻线"), "{html}");
    let (status, _) = staff.page(&format!("/patrols/{}", demo.id)).await;
    assert_eq!(status, 200);
    let other = token_of(&app, STAFF_B).await;
    // a patrol that is not yours to read answers as one that does not exist
    assert_eq!(app.get_bearer(&format!("/api/v1/patrols/{}.gpx", demo.id), &other).await.status(), 404);
    assert_eq!(app.get_bearer("/api/v1/patrols/987654321.gpx", &other).await.status(), 404);
    let resident = token_of(&app, RESIDENT_A).await;
    assert_eq!(app.get_bearer(&format!("/api/v1/patrols/{}.geojson", demo.id), &resident).await.status(), 404);
    assert_eq!(reqwest::get(app.url(&format!("/api/v1/patrols/{}.gpx", demo.id))).await.unwrap().status(), 401);
}

#[tokio::test]
async fn staff_over_the_grid_watch_positions_live_and_no_one_else_can() {
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let grid = app.org_id("阳光社区第一网格").await;
    let topics = format!("/api/v1/events?topics=patrols:{grid}");
    // residents, the worker, staff of another community: not found
    for who in [RESIDENT_A, WORKER_A, STAFF_B] {
        let t = token_of(&app, who).await;
        assert_eq!(app.get_bearer(&topics, &t).await.status(), 404, "{who}");
    }
    let staff = token_of(&app, STAFF_A).await;
    let mut sse = crate::inbox::Sse::connect(&app.address, &staff, None, &format!("?topics=patrols:{grid}")).await;
    let id = a_patrol(&app, route).await;
    let ev = sse.next_of("patrol").await;
    assert!(ev.data.contains(&format!("\"patrol\":{id}")) && ev.data.contains("active"), "{ev:?}");
    let token = token_of(&app, WORKER_A).await;
    let sent = Utc::now().timestamp_millis();
    send(&app, &token, id, sent, walk("l", EAST_GATE, BLOCK_3, 10, 10, 1, sent)).await;
    let ev = sse.next_of("position").await;
    let d: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(d["patrol"], id);
    assert!((d["lat"].as_f64().unwrap() - BLOCK_3.0).abs() < 1e-9, "the newest fix: {d}");
    // the board shows the worker's dot
    let board = patrol::live_board(&app.state, &current(&app, STAFF_A).await).await.unwrap();
    assert!(board.dots.iter().any(|d| d.0 == id), "{:?}", board.dots);
    assert!(board.grids.contains(&grid));
}

#[tokio::test]
async fn a_printed_qr_code_opens_a_check_in_with_the_code() {
    let app = spawn_app().await;
    let (route, cps, token) = a_route(&app).await;
    let worker = browser(&app).await;
    worker.code_login(WORKER_A).await;
    // without a patrol under way the code says so
    let (_, html) = worker.page(&format!("/patrol/checkpoints/{token}")).await;
    assert!(html.contains("没有进行中的巡逻"), "{html}");
    let id = a_patrol(&app, route).await;
    let (status, html) = worker.page(&format!("/patrol/checkpoints/{token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("3号楼") && html.contains(&format!("value=\"{token}\"")), "{html}");
    let cid = html.split("name=\"cid\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(cid.starts_with("qr-"));
    // walked there first (fixes from the phone), then the form with the code
    let sent = Utc::now().timestamp_millis();
    send(&app, &token_of(&app, WORKER_A).await, id, sent, walk("q", EAST_GATE, BLOCK_3, 30, 4, 1, sent)).await;
    let (p, c) = (id.to_string(), cps[1].to_string());
    let r = worker
        .form(
            path::<app::patrol::CheckInForm>(),
            "/patrol",
            &[("patrol", &p), ("checkpoint", &c), ("cid", &cid), ("qr", &token)],
        )
        .await;
    assert!(location(&r).starts_with("/patrol?checked=ok"), "{}", location(&r));
    let (_, html) = worker.page("/patrol").await;
    assert!(html.contains("已扫点位二维码"));
    // another scan of the same code is another check-in; the same page twice is one
    let (_, again) = worker.page(&format!("/patrol/checkpoints/{token}")).await;
    assert!(!again.contains(&cid));
    worker
        .form(
            path::<app::patrol::CheckInForm>(),
            "/patrol",
            &[("patrol", &p), ("checkpoint", &c), ("cid", &cid), ("qr", &token)],
        )
        .await;
    let n = patrol_checkin::Entity::find()
        .filter(patrol_checkin::Column::PatrolId.eq(id))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// Validates a GPX document against the GPX 1.1 XML Schema with xmllint
/// (script/setup puts the schema, from Debian's pytrainer package, in
/// target/schemas/gpx11.xsd and installs xmllint).
fn assert_valid_gpx(gpx: &str) {
    let (ok, why) = xmllint(gpx);
    assert!(ok, "the GPX export is not valid GPX 1.1: {why}");
    // and a document that breaks the schema is refused, so the check can fail
    assert!(!xmllint(&gpx.replacen("<trkpt ", "<trkpoint ", 1)).0, "xmllint must refuse an invalid GPX");
}

/// Whether xmllint finds `doc` valid against the GPX 1.1 schema, and what it said.
fn xmllint(doc: &str) -> (bool, String) {
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/schemas/gpx11.xsd");
    assert!(xsd.exists(), "{} is missing: run script/setup", xsd.display());
    let dir = std::env::temp_dir().join(format!("zhsq-gpx-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("track.gpx");
    std::fs::write(&file, doc).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils) is installed by script/setup");
    let _ = std::fs::remove_dir_all(&dir);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn a_phone_clock_off_by_up_to_two_minutes_loses_no_real_fix() {
    // a worker walks 1.4 m/s, a fix every 30 s (42 m apart, more than the
    // fixes' accuracy), and the outbox delivers three half-minute-late batches
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let token = token_of(&app, WORKER_A).await;
    let worker = current(&app, WORKER_A).await;
    let metres_per_deg_lat = 111_195.0;
    for (n, offset_s) in [-120i64, -60, -30, -5, 0, 5, 30, 60, 120].into_iter().enumerate() {
        let id = a_patrol(&app, route).await;
        let now = Utc::now().timestamp_millis();
        let phone = |real_ms: i64| real_ms + offset_s * 1000;
        let mut dropped = vec![];
        for batch in 0..3i64 {
            let items: Vec<Value> = (0..8i64)
                .map(|i| {
                    let k = batch * 8 + i;
                    // taken (24 - k) × 30 s before now, by the real clock
                    let real = now - (24 - k) * 30_000;
                    json!({"type": "fix", "id": format!("o{n}-{k}"), "t": phone(real),
                           "lat": EAST_GATE.0 + (k as f64) * 42.0 / metres_per_deg_lat, "lng": EAST_GATE.1, "acc": 5.0})
                })
                .collect();
            let reply = send(&app, &token, id, phone(Utc::now().timestamp_millis()), items).await;
            dropped.extend(reply["dropped"].as_array().unwrap().iter().cloned());
        }
        assert!(dropped.is_empty(), "clock {offset_s:+} s: {dropped:?}");
        let kept = track_point::Entity::find()
            .filter(track_point::Column::PatrolId.eq(id))
            .filter(track_point::Column::Dropped.is_null())
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(kept, 24, "clock {offset_s:+} s");
        patrol::transition_now(&app.state, &worker, id, domain::patrol::Transition::End, &format!("end-{n}"))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn one_bad_item_is_refused_and_the_rest_of_the_batch_applied() {
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let token = token_of(&app, WORKER_A).await;
    let id = a_patrol(&app, route).await;
    let sent = Utc::now().timestamp_millis();
    let refused = |r: &Value| -> Vec<(String, String)> {
        r["refused"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["id"].as_str().unwrap().to_string(), x["reason"].as_str().unwrap().to_string()))
            .collect()
    };
    // an unknown kind, an item of no known type, a start (the server's own)
    let r = send(
        &app,
        &token,
        id,
        sent,
        vec![
            json!({"type": "event", "id": "p1", "t": sent - 2000, "kind": "pause"}),
            json!({"type": "event", "id": "x1", "t": sent - 1000, "kind": "teleport"}),
            json!({"type": "selfie", "id": "s1", "t": sent - 1000}),
            json!({"type": "event", "id": "st", "t": sent - 1000, "kind": "start"}),
            json!({"type": "event", "id": "gn", "t": sent - 1000, "kind": "gap"}),
        ],
    )
    .await;
    assert_eq!(r["stored"], 1);
    let mut got = refused(&r);
    got.sort();
    let want: Vec<(String, String)> =
        [("gn", "unknown_event"), ("s1", "unreadable"), ("st", "unknown_event"), ("x1", "unreadable")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(got, want);
    let p = patrol_entity::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(p.state, PatrolState::Paused.as_str(), "the pause beside the bad items was applied");
    // a gap with an unknown reason: refused, the resume beside it applied
    let r = send(
        &app,
        &token,
        id,
        sent,
        vec![
            json!({"type": "event", "id": "r1", "t": sent - 500, "kind": "resume"}),
            json!({"type": "event", "id": "g1", "t": sent - 1000, "kind": "gap", "reason": "aliens"}),
        ],
    )
    .await;
    assert_eq!(refused(&r), [("g1".to_string(), "unreadable".to_string())]);
    let p = patrol_entity::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(p.state, PatrolState::Active.as_str());
    // past the batch's limit the oldest wait for the next batch (transient)
    let fixes = walk("o", BLOCK_3, (BLOCK_3.0 + 0.001, BLOCK_3.1), 1001, 1, 0, sent);
    let r = send(&app, &token, id, sent, fixes).await;
    assert_eq!(r["stored"].as_u64().unwrap() + r["duplicates"].as_u64().unwrap(), 1000);
    assert_eq!(refused(&r), [("o0".to_string(), "over_limit".to_string())], "the oldest fix waits");
}

#[tokio::test]
async fn reported_speeds_are_checked_alike_and_old_logger_fixes_are_not_kept() {
    let app = spawn_app().await;
    let (route, _, _) = a_route(&app).await;
    let token = token_of(&app, WORKER_A).await;
    let worker = current(&app, WORKER_A).await;
    let device = patrol::register_device(&app.state, &worker, None, "").await.unwrap();
    let id = a_patrol(&app, route).await;
    let sent = Utc::now().timestamp_millis();
    // the phone's outbox: 500 m/s and -3 m/s are sensor noise, 1.4 m/s is walking
    let items = vec![
        json!({"type": "fix", "id": "s1", "t": sent - 30_000, "lat": 39.9087, "lng": 116.3975, "acc": 5.0, "speed": 500.0}),
        json!({"type": "fix", "id": "s2", "t": sent - 20_000, "lat": 39.9088, "lng": 116.3975, "acc": 5.0, "speed": -3.0}),
        json!({"type": "fix", "id": "s3", "t": sent - 10_000, "lat": 39.9089, "lng": 116.3975, "acc": 5.0, "speed": 1.4}),
    ];
    let reply = send(&app, &token, id, sent, items).await;
    assert_eq!(reply["stored"], 3, "the fixes themselves are kept");
    let now = Utc::now().timestamp();
    let c = reqwest::Client::new();
    // OsmAnd form: 1000 knots; JSON: -3 m/s
    let q = format!("/osmand?id={device}&timestamp={}&lat=39.9090&lon=116.3975&speed=1000&accuracy=6", now - 5);
    assert_eq!(c.get(app.url(&q)).send().await.unwrap().status(), 200);
    let one = json!({"device_id": device, "location": {"timestamp": chrono::DateTime::from_timestamp(now - 4, 0).unwrap().to_rfc3339(),
        "coords": {"latitude": 39.9091, "longitude": 116.3975, "accuracy": 5, "speed": -3}}});
    assert_eq!(c.post(app.url("/api/v1/osmand")).json(&one).send().await.unwrap().status(), 200);
    // a logger's fix taken 8 days ago arrives during the patrol: never stored
    let old = format!("/osmand?id={device}&timestamp={}&lat=39.9092&lon=116.3975&accuracy=6", now - 8 * 86_400);
    assert_eq!(c.get(app.url(&old)).send().await.unwrap().status(), 200);
    let pts = track_point::Entity::find()
        .filter(track_point::Column::PatrolId.eq(id))
        .order_by_asc(track_point::Column::At)
        .all(&app.state.db)
        .await
        .unwrap();
    let speeds: Vec<Option<f64>> = pts.iter().map(|p| p.speed_mps).collect();
    assert_eq!(speeds, [None, None, Some(1.4), None, None], "{pts:?}");
    let gpx = app.get_bearer(&format!("/api/v1/patrols/{id}.gpx"), &token).await.text().await.unwrap();
    assert!(!gpx.contains("<zhsq:speed>500") && !gpx.contains("<zhsq:speed>-"), "{gpx}");
}

#[tokio::test]
async fn geojson_has_no_one_point_lines_and_check_in_times_in_utc() {
    let app = spawn_app().await;
    let (route, cps, _) = a_route(&app).await;
    let token = token_of(&app, WORKER_A).await;
    let id = a_patrol(&app, route).await;
    let sent = Utc::now().timestamp_millis();
    // a walk, a lone fix between two gaps, another walk
    let mut items = walk("a", EAST_GATE, (39.9090, 116.3978), 5, 10, 600, sent);
    items.push(json!({"type": "fix", "id": "lone", "t": sent - 300_000, "lat": 39.9095, "lng": 116.3985, "acc": 5.0}));
    items.extend(walk("b", (39.9100, 116.3990), BLOCK_3, 5, 10, 10, sent));
    items.push(json!({"type": "checkin", "id": "c0", "t": sent - 640_000, "checkpoint": cps[0]}));
    send(&app, &token, id, sent, items).await;
    let g: Value = app.get_bearer(&format!("/api/v1/patrols/{id}.geojson"), &token).await.json().await.unwrap();
    let features = g["features"].as_array().unwrap();
    let lines = features[0]["geometry"]["coordinates"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "two walks");
    assert!(lines.iter().all(|l| l.as_array().unwrap().len() >= 2), "RFC 7946 §3.1.4: {lines:?}");
    let lone: Vec<&Value> = features.iter().filter(|f| f["properties"]["kind"] == "lone_fix").collect();
    assert_eq!(lone.len(), 1);
    assert_eq!(lone[0]["geometry"]["type"], "Point");
    assert!(lone[0]["properties"]["time"].as_str().unwrap().ends_with('Z'));
    let checkins: Vec<&Value> =
        features.iter().filter_map(|f| f["properties"]["checkins"].as_array()).flatten().collect();
    assert_eq!(checkins.len(), 1);
    let t = checkins[0]["time"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'), "{t}");
    let track_time = features[0]["properties"]["times"][0][0].as_str().unwrap();
    assert!(track_time.ends_with('Z'), "the same form as the track's times: {track_time}");
}
