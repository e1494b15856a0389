//! Incidents (issue 4, rules.md §6): reports with photos (type judged by the
//! bytes, resized, EXIF gone from what others download), nearby suggestions
//! before a second report of the same matter, the whole workflow on plain
//! multipart forms with every step an event, steps out of order or taken
//! twice at once refused, extensions, and escalation at the deadline.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, Browser};
use backend::entities::{incident, incident_event, incident_photo, notification};
use backend::incidents::{self, Step};
use chrono::{Duration, Utc};
use domain::incidents::{Category, NewIncident, Spot, Status};
use domain::ErrorCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

const SECRET: &[u8] = b"GPS-SECRET-39.9087N-116.3975E";

/// A 2000×1000 JPEG carrying an EXIF block (with a recognisable string where
/// a phone would put its GPS position and model).
fn photo_with_exif() -> Vec<u8> {
    let img = image::RgbImage::from_fn(2000, 1000, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&image::DynamicImage::ImageRgb8(img))
        .unwrap();
    // TIFF (little endian), one IFD entry: ImageDescription (0x010E, ASCII) pointing at SECRET
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x010Eu16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend((SECRET.len() as u32 + 1).to_le_bytes());
    tiff.extend(26u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(SECRET);
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Posts a multipart form with photos; returns the redirect's location.
async fn post(b: &Browser<'_>, app: &TestApp, path: &str, fields: &[(&str, &str)], photos: Vec<Vec<u8>>) -> String {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (i, p) in photos.into_iter().enumerate() {
        form = form.part(format!("photo{}", i + 1), reqwest::multipart::Part::bytes(p).file_name("IMG_0001.jpg"));
    }
    let r = b.client().post(app.url(path)).header("Accept", "text/html").multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{path}");
    location(&r)
}

fn id_in(loc: &str) -> i64 {
    loc.trim_start_matches("/incidents/").split('?').next().unwrap().parse().unwrap_or_else(|_| panic!("{loc}"))
}

async fn step(b: &Browser<'_>, app: &TestApp, id: i64, fields: &[(&str, &str)], photos: Vec<Vec<u8>>) -> String {
    post(b, app, &format!("/incidents/{id}/step"), fields, photos).await
}

/// A step that must succeed: the redirect says it was done.
async fn ok_step(b: &Browser<'_>, app: &TestApp, id: i64, fields: &[(&str, &str)], photos: Vec<Vec<u8>>) {
    let action = fields.iter().find(|(k, _)| *k == "action").unwrap().1;
    let loc = step(b, app, id, fields, photos).await;
    assert!(loc.contains(&format!("done={action}")), "{action}: {loc}");
}

#[tokio::test]
async fn a_report_goes_through_the_whole_workflow_on_plain_forms() {
    let app = spawn_app().await;
    let sunshine = app.org_id("阳光社区").await.to_string();
    let worker = browser(&app).await;
    worker.code_login(WORKER_A).await;
    let fields = [
        ("form_id", "inc-test-0001"),
        ("community_id", sunshine.as_str()),
        ("category", "facilities"),
        ("description", "3号楼2单元楼道灯不亮"),
        ("lat", "39.9110"),
        ("lng", "116.3995"),
        ("accuracy", "8"),
        ("address", ""),
    ];
    let loc = post(&worker, &app, "/incidents/report", &fields, vec![photo_with_exif()]).await;
    assert!(loc.ends_with("?reported=1"), "{loc}");
    let id = id_in(&loc);
    // the same form again (a double tap, an outbox retry): the same report, no second photo
    let again = post(&worker, &app, "/incidents/report", &fields, vec![]).await;
    assert_eq!(id_in(&again), id);
    assert_eq!(
        incident::Entity::find()
            .filter(incident::Column::ClientId.eq("inc-test-0001"))
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
    let i = incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((i.status.as_str(), i.source.as_str()), ("reported", "worker"));
    assert!(i.grid_id.is_some());

    // the photo as others download it: JPEG, at most 1600 px, no EXIF left
    let photos = incident_photo::Entity::find()
        .filter(incident_photo::Column::IncidentId.eq(id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(photos.len(), 1);
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let r = staff.client().get(app.url(&format!("/incidents/photos/{}/full", photos[0].id))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let bytes = r.bytes().await.unwrap();
    assert!(!contains(&bytes, b"Exif") && !contains(&bytes, SECRET));
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1600, 800));
    // other communities' staff and residents elsewhere do not see it
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let r = other.client().get(app.url(&format!("/incidents/photos/{}/thumb", photos[0].id))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (_, html) = other.page(&format!("/incidents/{id}")).await;
    assert!(!html.contains("楼道灯不亮"));

    // staff see it in their list and take it up
    let (_, list) = staff.page("/staff/incidents").await;
    assert!(list.contains("楼道灯不亮") && list.contains("待受理"));
    // out of order: closing before anything else is refused, in words
    let loc = step(&staff, &app, id, &[("action", "close"), ("draft", "d-abcdefgh01")], vec![]).await;
    assert!(loc.contains("error=incident_state"), "{loc}");
    let (_, html) = staff.page(&loc).await;
    assert!(html.contains(ErrorCode::IncidentState.message(false)));
    ok_step(&staff, &app, id, &[("action", "accept"), ("draft", "d-abcdefgh02")], vec![]).await;
    // dispatch: a deadline in the past is refused and the note typed comes back
    let worker_id = current(&app, WORKER_A).await.id.to_string();
    let past = domain::time::local_input(Utc::now() - Duration::hours(1));
    let loc = step(
        &staff,
        &app,
        id,
        &[
            ("action", "dispatch"),
            ("draft", "d-abcdefgh03"),
            ("assignee", &worker_id),
            ("deadline", &past),
            ("note", "今天内修好"),
        ],
        vec![],
    )
    .await;
    assert!(loc.contains("error=invalid_time"), "{loc}");
    let (_, html) = staff.page(&loc).await;
    assert!(html.contains("今天内修好"), "the note typed is kept");
    let due = domain::time::local_input(Utc::now() + Duration::days(1));
    let loc = step(
        &staff,
        &app,
        id,
        &[
            ("action", "dispatch"),
            ("draft", "d-abcdefgh04"),
            ("assignee", &worker_id),
            ("deadline", &due),
            ("note", "今天内修好"),
        ],
        vec![],
    )
    .await;
    assert!(loc.contains("done=dispatch"), "{loc}");
    // the worker has it as a task, and in the inbox
    let (_, home) = worker.page("/incidents").await;
    assert!(home.contains("我的任务") && home.contains("楼道灯不亮"));
    let wid: i64 = worker_id.parse().unwrap();
    assert!(
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(wid))
            .filter(notification::Column::Link.eq(format!("/incidents/{id}")))
            .count(&app.state.db)
            .await
            .unwrap()
            >= 1
    );
    // the worker starts with a photo of how it was
    ok_step(&worker, &app, id, &[("action", "start"), ("draft", "d-abcdefgh05")], vec![photo_with_exif()]).await;
    // handling needs words
    let loc = step(&worker, &app, id, &[("action", "handle"), ("draft", "d-abcdefgh06"), ("note", "")], vec![]).await;
    assert!(loc.contains("error=reason_required"), "{loc}");
    ok_step(
        &worker,
        &app,
        id,
        &[("action", "handle"), ("draft", "d-abcdefgh07"), ("note", "已更换灯泡")],
        vec![photo_with_exif()],
    )
    .await;
    // the worker cannot verify their own work
    let loc = step(&worker, &app, id, &[("action", "verify"), ("draft", "d-abcdefgh08")], vec![]).await;
    assert!(loc.contains("error=forbidden"), "{loc}");
    ok_step(&staff, &app, id, &[("action", "send_back"), ("draft", "d-abcdefgh09"), ("note", "二楼仍不亮")], vec![])
        .await;
    ok_step(&worker, &app, id, &[("action", "handle"), ("draft", "d-abcdefgh10"), ("note", "二楼也已更换")], vec![])
        .await;
    ok_step(&staff, &app, id, &[("action", "verify"), ("draft", "d-abcdefgh11")], vec![]).await;
    ok_step(&staff, &app, id, &[("action", "close"), ("draft", "d-abcdefgh12")], vec![]).await;
    // the reporter rates, once
    let loc = step(&worker, &app, id, &[("action", "rate"), ("draft", "d-abcdefgh13"), ("rating", "9")], vec![]).await;
    assert!(loc.contains("error=invalid_rating"), "{loc}");
    ok_step(
        &worker,
        &app,
        id,
        &[("action", "rate"), ("draft", "d-abcdefgh14"), ("rating", "5"), ("comment", "很及时")],
        vec![],
    )
    .await;
    let loc = step(&worker, &app, id, &[("action", "rate"), ("draft", "d-abcdefgh15"), ("rating", "1")], vec![]).await;
    assert!(loc.contains("error=incident_state"), "{loc}");

    let i = incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((i.status.as_str(), i.rating), ("closed", Some(5)));
    assert!(i.closed_at.is_some());
    let events: Vec<String> = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(id))
        .order_by_asc(incident_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str().to_string())
        .collect();
    assert_eq!(
        events,
        ["report", "accept", "dispatch", "start", "handle", "send_back", "handle", "verify", "close", "rate"]
    );
    // before and after photos hang on their steps
    let stages: Vec<String> = incident_photo::Entity::find()
        .filter(incident_photo::Column::IncidentId.eq(id))
        .order_by_asc(incident_photo::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.stage)
        .collect();
    assert_eq!(stages, ["report", "before", "after"]);
    let (_, html) = staff.page(&format!("/incidents/{id}")).await;
    assert!(
        html.contains("已结案") && html.contains("★★★★★") && html.contains("二楼仍不亮") && html.contains("核查通过")
    );
    // appending to the record is all there is
    let r = sea_orm::ConnectionTrait::execute_unprepared(&app.state.db, "UPDATE incident_events SET note = 'x'").await;
    assert!(r.is_err(), "incident events are append-only");
}

#[tokio::test]
async fn nearby_reports_are_offered_and_nothing_typed_or_chosen_is_lost() {
    let app = spawn_app().await;
    let sunshine = app.org_id("阳光社区").await;
    let s = sunshine.to_string();
    let resident = browser(&app).await;
    resident.code_login(RESIDENT_A).await;
    // 随手拍 by a resident: rubbish at 3号楼
    let first = post(
        &resident,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-res-00001"),
            ("community_id", &s),
            ("category", "sanitation"),
            ("description", "3号楼垃圾桶满了"),
            ("lat", "39.9110"),
            ("lng", "116.3995"),
        ],
        vec![],
    )
    .await;
    let first = id_in(&first);
    assert_eq!(incident::Entity::find_by_id(first).one(&app.state.db).await.unwrap().unwrap().source, "resident");

    // a worker 100 m away, same category: the form comes back with the first report offered
    let worker = browser(&app).await;
    worker.code_login(WORKER_A).await;
    let fields = [
        ("form_id", "inc-wrk-00001"),
        ("community_id", s.as_str()),
        ("category", "sanitation"),
        ("description", "垃圾溢出到路面"),
        ("lat", "39.9119"),
        ("lng", "116.3995"),
        ("address", "3号楼北侧"),
    ];
    let loc = post(&worker, &app, "/incidents/report", &fields, vec![photo_with_exif()]).await;
    assert!(loc.contains("nearby=1") && loc.contains("form=inc-wrk-00001"), "{loc}");
    let (_, html) = worker.page(&loc).await;
    assert!(html.contains(&format!("#{first}")) && html.contains("附近 250 米内"));
    assert!(html.contains("垃圾溢出到路面") && html.contains("3号楼北侧"), "what was typed is kept");
    assert!(html.contains("已保留的照片"), "the chosen photo is kept");
    assert!(html.contains(r#"name="confirm_new" value="1""#));
    // the JSON lookup says the same, with the distance
    let near = incidents::nearby(
        &app.state,
        &current(&app, WORKER_A).await,
        sunshine,
        Category::Sanitation,
        39.9119,
        116.3995,
    )
    .await
    .unwrap();
    assert_eq!(near.len(), 1);
    assert!((near[0].distance_m.unwrap() - 100.0).abs() < 5.0);
    // a different category, or 300 m away, is not offered
    assert!(incidents::nearby(
        &app.state,
        &current(&app, WORKER_A).await,
        sunshine,
        Category::Parking,
        39.9119,
        116.3995
    )
    .await
    .unwrap()
    .is_empty());
    assert!(incidents::nearby(
        &app.state,
        &current(&app, WORKER_A).await,
        sunshine,
        Category::Sanitation,
        39.9137,
        116.3995
    )
    .await
    .unwrap()
    .is_empty());

    // "it is another matter": filed, with the photo kept from the first try
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_new", "1"));
    let loc = post(&worker, &app, "/incidents/report", &confirmed, vec![]).await;
    let second = id_in(&loc);
    assert_ne!(second, first);
    assert_eq!(
        incident_photo::Entity::find()
            .filter(incident_photo::Column::IncidentId.eq(second))
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );

    // bad input comes back in words with everything kept
    let loc = post(
        &worker,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-wrk-00002"),
            ("community_id", &s),
            ("category", "parking"),
            ("description", "  "),
            ("address", "东门"),
        ],
        vec![],
    )
    .await;
    assert!(loc.contains("error=invalid_body"), "{loc}");
    let (_, html) = worker.page(&loc).await;
    assert!(html.contains(ErrorCode::InvalidBody.message(false)) && html.contains("东门"));
    assert!(html.contains(r#"<option value="parking" selected"#));
    let loc = post(
        &worker,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-wrk-00003"),
            ("community_id", &s),
            ("category", "parking"),
            ("description", "电动车堵住消防通道"),
        ],
        vec![],
    )
    .await;
    assert!(loc.contains("error=place_required"), "{loc}");
    let loc = post(
        &worker,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-wrk-00004"),
            ("community_id", &s),
            ("category", "parking"),
            ("description", "x"),
            ("address", "东门"),
        ],
        vec![b"not an image, whatever the name says".to_vec()],
    )
    .await;
    assert!(loc.contains("error=invalid_photo"), "{loc}");
    // a community the reporter has nothing to do with
    let harmony = app.org_id("和谐社区").await.to_string();
    let loc = post(
        &resident,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-res-00002"),
            ("community_id", &harmony),
            ("category", "other"),
            ("description", "x"),
            ("address", "y"),
        ],
        vec![],
    )
    .await;
    assert!(loc.contains("error=forbidden"), "{loc}");
}

fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn steps_taken_at_once_move_once_extensions_need_approval_and_overdue_work_escalates() {
    let app = spawn_app().await;
    let sunshine = app.org_id("阳光社区").await;
    let worker = current(&app, WORKER_A).await;
    let staff = current(&app, STAFF_A).await;
    let new = NewIncident::parse("safety", "消防通道被占", Some(Spot { lat: 39.9, lng: 116.39, accuracy_m: None }), "")
        .unwrap();
    let id = incidents::report(&app.state, &worker, sunshine, "inc-race-0001", new).await.unwrap();

    // ten staff clicks on "accept" at the same moment: one step, one event
    let mut tasks = vec![];
    for _ in 0..10 {
        let state = app.state.clone();
        let staff = staff.clone();
        tasks.push(tokio::spawn(async move { incidents::act(&state, &staff, id, Step::Accept { note: None }).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code, ErrorCode::IncidentState, "{:?}", e.cause),
        }
    }
    assert_eq!(ok, 1);
    let accepts = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(id))
        .filter(incident_event::Column::Action.eq("accept"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(accepts, 1);

    let due = domain::time::local_input(Utc::now() + Duration::hours(2));
    let wid = worker.id.to_string();
    let s = Step::parse("dispatch", &form(&[("assignee", &wid), ("deadline", &due)])).unwrap();
    incidents::act(&app.state, &staff, id, s).await.unwrap();
    // neither both nor none of worker and department
    assert_eq!(Step::parse("dispatch", &form(&[("deadline", &due)])), Err(ErrorCode::InvalidInput));
    assert_eq!(
        Step::parse("dispatch", &form(&[("assignee", &wid), ("department", "物业"), ("deadline", &due)])),
        Err(ErrorCode::InvalidInput)
    );

    // an extension: asked once, a second ask waits for the first, approval moves the deadline
    let later = domain::time::local_input(Utc::now() + Duration::days(3));
    let ask = Step::parse("extend", &form(&[("until", &later), ("reason", "需等配件")])).unwrap();
    incidents::act(&app.state, &worker, id, ask.clone()).await.unwrap();
    assert_eq!(incidents::act(&app.state, &worker, id, ask).await.unwrap_err().code, ErrorCode::ExtensionPending);
    let d = incidents::detail(&app.state, &staff, id).await.unwrap();
    assert!(d.extension.is_some() && d.may(domain::incidents::Action::DecideExtension));
    incidents::act(&app.state, &staff, id, Step::DecideExtension { approve: true, note: None }).await.unwrap();
    let i = incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert!(i.deadline.unwrap() > Utc::now() + Duration::days(2));

    // the deadline passes with the work not done: escalated once per job, staff and worker told
    let past = Utc::now() - Duration::minutes(5);
    incident::Entity::update_many()
        .col_expr(incident::Column::Deadline, sea_orm::sea_query::Expr::value(past))
        .filter(incident::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
    let job = incidents::OverdueJob { incident_id: id, deadline: past.timestamp() };
    incidents::overdue_job(&app.state, job.clone()).await.unwrap();
    incidents::overdue_job(&app.state, job.clone()).await.unwrap();
    let i = incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(i.escalations, 2, "a second run of the same job is the next level, a day later in real life");
    let d = incidents::detail(&app.state, &staff, id).await.unwrap();
    assert!(d.overdue && d.status == Status::Dispatched);
    let rows = incidents::staff_list(&app.state, &staff, None).await.unwrap();
    assert_eq!(rows[0].id, id, "overdue first");
    assert!(rows[0].overdue);
    // a job for an old deadline does nothing
    incidents::overdue_job(&app.state, incidents::OverdueJob { incident_id: id, deadline: past.timestamp() - 60 })
        .await
        .unwrap();
    assert_eq!(incident::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap().escalations, 2);
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(staff.id))
        .filter(notification::Column::Title.starts_with("§incident.overdue|"))
        .filter(notification::Column::Link.eq(format!("/incidents/{id}")))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(told, 2);
    // handled in time or not, the work stops the clock
    incidents::act(&app.state, &worker, id, Step::Handle { note: "已清理".into(), draft: String::new() })
        .await
        .unwrap();
    let d = incidents::detail(&app.state, &staff, id).await.unwrap();
    assert!(!d.overdue);
}

/// Calling the reporter back: staff over the community and the worker the
/// report is dispatched to see the reporter's number only when they ask,
/// each look is appended to the personal-data log (and listed for the
/// community's staff); the reporter, other workers of the grid, the other
/// community and Open311 reports never get it.
#[tokio::test]
async fn the_reporter_is_called_back_only_by_those_handling_it_and_each_look_is_logged() {
    use backend::entities::personal_data_view;
    let app = spawn_app().await;
    let db = &app.state.db;
    let s = app.org_id("阳光社区").await.to_string();
    let resident = browser(&app).await;
    resident.code_login(RESIDENT_A).await;
    let loc = post(
        &resident,
        &app,
        "/incidents/report",
        &[
            ("form_id", "inc-call-0001"),
            ("community_id", &s),
            ("category", "facilities"),
            ("description", "5号楼门禁坏了,请联系我"),
            ("lat", "39.9110"),
            ("lng", "116.3995"),
        ],
        vec![],
    )
    .await;
    let id = id_in(&loc);
    let page = format!("/incidents/{id}");
    let asked = format!("/incidents/{id}?contact=1");
    let tel = format!("tel:{RESIDENT_A}");
    let logged = || async move {
        personal_data_view::Entity::find().order_by_asc(personal_data_view::Column::Id).all(db).await.unwrap()
    };

    // the reporter: their own report, nothing to call
    let (_, html) = resident.page(&asked).await;
    assert!(html.contains("5号楼门禁坏了") && !html.contains("显示电话") && !html.contains(&tel));
    // a worker it is not dispatched to does not get the number
    let worker = browser(&app).await;
    worker.code_login(WORKER_A).await;
    let (_, html) = worker.page(&asked).await;
    assert!(!html.contains("显示电话") && !html.contains(RESIDENT_A));
    // the other community's staff do not reach it at all
    let other = browser(&app).await;
    other.password_login(STAFF_B).await;
    let (_, html) = other.page(&asked).await;
    assert!(!html.contains("5号楼门禁坏了") && !html.contains(RESIDENT_A));
    assert!(logged().await.is_empty(), "nobody has seen the number yet");

    // staff: masked until asked for, then a tel: link, and the look is logged
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let (_, html) = staff.page(&page).await;
    assert!(html.contains("显示电话") && html.contains(&format!("href=\"{asked}\"")) && !html.contains(RESIDENT_A));
    assert!(logged().await.is_empty(), "showing the page logs nothing");
    let (_, html) = staff.page(&asked).await;
    assert!(html.contains(&format!("href=\"{tel}\"")), "{html:.3000}");
    let log = logged().await;
    let staff_id = current(&app, STAFF_A).await.id;
    let resident_id = current(&app, RESIDENT_A).await.id;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].viewer_id, log[0].subject_id, log[0].fields.as_str(), log[0].context.clone()),
        (staff_id, resident_id, "phone", format!("incident:{id}"))
    );
    assert!(log[0].org_path.ends_with(&format!("/{s}/")), "{}", log[0].org_path);

    // dispatched to the worker, who may now call, and that look is logged too
    ok_step(&staff, &app, id, &[("action", "accept"), ("draft", "d-call000001")], vec![]).await;
    let worker_id = current(&app, WORKER_A).await.id;
    let due = domain::time::local_input(Utc::now() + Duration::days(1));
    let wid = worker_id.to_string();
    ok_step(
        &staff,
        &app,
        id,
        &[("action", "dispatch"), ("draft", "d-call000002"), ("assignee", &wid), ("deadline", &due)],
        vec![],
    )
    .await;
    let (_, html) = worker.page(&page).await;
    assert!(html.contains("显示电话") && !html.contains(RESIDENT_A));
    let (_, html) = worker.page(&asked).await;
    assert!(html.contains(&format!("href=\"{tel}\"")));
    let log = logged().await;
    assert_eq!(log.len(), 2);
    assert_eq!((log[1].viewer_id, log[1].subject_id), (worker_id, resident_id));

    // the community's staff read both looks; the other community's do not
    let (_, html) = staff.page("/staff/personal-data").await;
    assert_eq!(html.matches(&format!("事件 #{id}")).count(), 2, "{html:.3000}");
    let (_, html) = other.page("/staff/personal-data").await;
    assert!(!html.contains(&format!("事件 #{id}")));

    // straight to the service: the reporter and an Open311 report are refused
    let me = current(&app, RESIDENT_A).await;
    let err = incidents::reporter_phone(&app.state, &me, id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let b = current(&app, STAFF_B).await;
    assert_eq!(incidents::reporter_phone(&app.state, &b, id).await.unwrap_err().code, ErrorCode::NotFound);
    sea_orm::ConnectionTrait::execute_unprepared(
        db,
        &format!("UPDATE incidents SET source = 'open311' WHERE id = {id}"),
    )
    .await
    .unwrap();
    let staff_user = current(&app, STAFF_A).await;
    assert_eq!(incidents::reporter_phone(&app.state, &staff_user, id).await.unwrap_err().code, ErrorCode::Forbidden);
    let (_, html) = staff.page(&asked).await;
    assert!(!html.contains("显示电话") && !html.contains(RESIDENT_A));
    assert_eq!(logged().await.len(), 2, "refusals log nothing");
}

#[tokio::test]
async fn a_residents_report_is_placed_in_the_grid_whose_outline_holds_it() {
    let app = spawn_app().await;
    let staff = crate::appointments::current(&app, STAFF_A).await;
    let resident = crate::appointments::current(&app, RESIDENT_A).await;
    let community = app.org_id("阳光社区").await;
    let grid = app.org_id("阳光社区第一网格").await;
    let square = r#"{"type":"Polygon","coordinates":[[[116.397,39.908],[116.398,39.908],[116.398,39.909],[116.397,39.909],[116.397,39.908]]]}"#;
    backend::patrol::set_outline(&app.state, &staff, grid, square).await.unwrap();
    let report = |lat: &'static str, lng: &'static str, draft: &'static str| {
        let (state, resident) = (app.state.clone(), resident.clone());
        async move {
            let spot = domain::incidents::Spot::parse(lat, lng, "").unwrap();
            let new = domain::incidents::NewIncident::parse("sanitation", "楼道堆物", spot, "").unwrap();
            let id = backend::incidents::report(&state, &resident, community, draft, new).await.unwrap();
            backend::entities::incident::Entity::find_by_id(id).one(&state.db).await.unwrap().unwrap().grid_id
        }
    };
    assert_eq!(report("39.9087", "116.3975", "inside-grid-1").await, Some(grid), "inside grid 1's outline");
    assert_eq!(report("39.9200", "116.3975", "outside-all-1").await, None, "outside every outline");
}
