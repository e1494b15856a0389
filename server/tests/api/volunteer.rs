//! 志愿服务 (rules.md §4): places never oversubscribed and the waitlist moves
//! up; rotating, signed check-in codes that expire and bind to the person
//! who scanned them; a geofence that needs a good fix on site; hours
//! credited in units under day caps (also when confirmed concurrently),
//! points posted exactly once; honour hours without points; certificates.

use crate::appointments::current;
use crate::helpers::*;
use crate::points::dwellings;
use crate::votes::resident;
use backend::auth::CurrentUser;
use backend::entities::{notification, points_entry, volunteer_activity, volunteer_signup, volunteer_total};
use backend::volunteer::{self, Fix, NewActivity};
use chrono::Utc;
use domain::volunteer::{Direction, Geofence, HoursRule, SignupStatus};
use domain::ErrorCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const MIN: i64 = 60;

async fn activity(
    app: &TestApp,
    staff: &CurrentUser,
    starts: i64,
    ends: i64,
    capacity: i64,
    rule: HoursRule,
    fence: Option<Geofence>,
) -> i64 {
    volunteer::create(
        &app.state,
        staff,
        NewActivity {
            community_id: app.org_id("阳光社区").await,
            title: "楼道清洁".into(),
            description: String::new(),
            place: "1号楼".into(),
            starts_at: starts,
            ends_at: ends,
            capacity,
            rule,
            geofence: fence,
            organiser_phone: String::new(),
        },
    )
    .await
    .unwrap()
}

async fn people(app: &TestApp, n: usize, prefix: &str) -> Vec<CurrentUser> {
    let homes = dwellings(app, 20).await;
    let mut out = vec![];
    for i in 0..n {
        out.push(resident(app, &format!("{prefix}{i:04}"), homes[i % homes.len()].id, "family_member").await);
    }
    out
}

/// The query parameters of a scan URL.
fn parts(url: &str) -> (i64, Direction, i64, String) {
    let q = url.split_once('?').unwrap().1;
    let get = |k: &str| q.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap().to_string();
    (get("a").parse().unwrap(), Direction::parse(&get("d")).unwrap(), get("w").parse().unwrap(), get("s"))
}

async fn scan_and_check(
    app: &TestApp,
    organiser: &CurrentUser,
    who: &CurrentUser,
    id: i64,
    dir: Direction,
) -> Result<domain::volunteer::AttendanceView, ErrorCode> {
    let code = volunteer::current_code(&app.state, organiser, id, dir).await.unwrap();
    let (a, d, w, s) = parts(&code.url);
    let scanned = volunteer::scan(&app.state, who, a, d, w, &s).await.map_err(|e| e.code)?;
    volunteer::check(&app.state, who, a, d, scanned.at, &scanned.ticket, None).await.map_err(|e| e.code)
}

#[tokio::test]
async fn places_are_never_oversubscribed_and_the_waitlist_moves_up() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let now = Utc::now().timestamp();
    let id = activity(&app, &staff, now + 3600, now + 7200, 3, HoursRule::default(), None).await;
    let ps = people(&app, 8, "1351000").await;
    let results = futures_util::future::join_all(ps.iter().map(|p| volunteer::sign_up(&app.state, p, id))).await;
    let statuses: Vec<SignupStatus> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == SignupStatus::SignedUp).count(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == SignupStatus::Waitlisted).count(), 5);
    let db = &app.state.db;
    let row = volunteer_activity::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    assert_eq!(row.signed_up, 3);

    // the same person five times at once: one row, one answer
    let solo = &people(&app, 1, "1352000").await[0];
    let again = futures_util::future::join_all((0..5).map(|_| volunteer::sign_up(&app.state, solo, id))).await;
    assert!(again.iter().all(|r| r.as_ref().unwrap() == &SignupStatus::Waitlisted));
    let rows = volunteer_signup::Entity::find()
        .filter(volunteer_signup::Column::ActivityId.eq(id))
        .filter(volunteer_signup::Column::UserId.eq(solo.id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(rows, 1);

    // a seat given up goes to the first on the waitlist, who is told
    let seated: Vec<&CurrentUser> =
        ps.iter().zip(&statuses).filter(|(_, s)| **s == SignupStatus::SignedUp).map(|(p, _)| p).collect();
    let first_waiting = {
        let v = volunteer::organise(&app.state, &staff, id).await.unwrap();
        v.roster.iter().find(|r| r.queue == Some(1)).unwrap().name.clone()
    };
    volunteer::withdraw(&app.state, seated[0], id).await.unwrap();
    let v = volunteer::organise(&app.state, &staff, id).await.unwrap();
    assert_eq!(v.activity.signed_up, 3, "the seat was taken straight away");
    let promoted = v.roster.iter().find(|r| r.name == first_waiting).unwrap();
    assert_eq!(promoted.status, SignupStatus::SignedUp);
    assert_eq!(v.roster.iter().filter(|r| r.status == SignupStatus::Waitlisted).count(), 5);
    let told = notification::Entity::find()
        .filter(notification::Column::DedupeKey.eq(format!("volunteer:{id}:promoted")))
        .count(db)
        .await
        .unwrap();
    assert_eq!(told, 1);
    // withdrawing from the waitlist frees no seat; signing up again joins the end
    volunteer::withdraw(&app.state, solo, id).await.unwrap();
    assert_eq!(volunteer::sign_up(&app.state, solo, id).await.unwrap(), SignupStatus::Waitlisted);
    let v = volunteer::view(&app.state, solo, id).await.unwrap();
    assert_eq!(v.my_queue, Some(5));
    // a resident of another community does not see it
    let other = current(&app, RESIDENT_B).await;
    assert_eq!(volunteer::sign_up(&app.state, &other, id).await.unwrap_err().code, ErrorCode::NotFound);
}

#[tokio::test]
async fn rotating_codes_check_in_and_out_and_confirmed_hours_post_points_once() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let now = Utc::now().timestamp();
    let (start, end) = (now - 30 * MIN, now + 120 * MIN);
    let id = activity(&app, &staff, start, end, 10, HoursRule::default(), None).await;
    let ps = people(&app, 3, "1353000").await;
    let (vol, stranger, late) = (&ps[0], &ps[1], &ps[2]);
    volunteer::sign_up(&app.state, vol, id).await.unwrap();

    // a resident cannot show the code; the organiser can
    assert_eq!(
        volunteer::current_code(&app.state, vol, id, Direction::In).await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    let code = volunteer::current_code(&app.state, &staff, id, Direction::In).await.unwrap();
    assert!(code.svg.contains("<svg"));
    assert!((1..=30).contains(&code.seconds_left));
    let (a, d, w, s) = parts(&code.url);

    // tampered, from another direction, or too old: refused
    // the last character changed (to one it is not: appending a fixed "0" matched one code in 16)
    let last = if s.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &s[..s.len() - 1]);
    assert_eq!(volunteer::scan(&app.state, vol, a, d, w, &tampered).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(volunteer::scan(&app.state, vol, a, Direction::Out, w, &s).await.unwrap_err().code, ErrorCode::NotFound);
    let row = volunteer_activity::Entity::find_by_id(id).one(&app.state.db).await.unwrap().unwrap();
    let old = volunteer::scan_url(&app.state, &row, Direction::In, w - 2).unwrap();
    let (_, _, ow, os) = parts(&old);
    assert_eq!(volunteer::scan(&app.state, vol, a, d, ow, &os).await.unwrap_err().code, ErrorCode::QrExpired);
    // the code from the window before still works (scanned as it changed)
    let prev = volunteer::scan_url(&app.state, &row, Direction::In, w - 1).unwrap();
    let (_, _, pw, ps_) = parts(&prev);
    assert!(volunteer::scan(&app.state, vol, a, d, pw, &ps_).await.is_ok());

    // a ticket belongs to the person who scanned
    let scanned = volunteer::scan(&app.state, vol, a, d, w, &s).await.unwrap();
    let theft = volunteer::check(&app.state, stranger, a, d, scanned.at, &scanned.ticket, None).await;
    assert_eq!(theft.unwrap_err().code, ErrorCode::NotFound);
    // someone not signed up cannot check in with a good ticket of their own
    assert_eq!(scan_and_check(&app, &staff, stranger, id, Direction::In).await.unwrap_err(), ErrorCode::NotSignedUp);
    // checking out before checking in
    volunteer::sign_up(&app.state, late, id).await.unwrap();
    assert_eq!(scan_and_check(&app, &staff, late, id, Direction::Out).await.unwrap_err(), ErrorCode::NotCheckedIn);

    let checked = volunteer::check(&app.state, vol, a, d, scanned.at, &scanned.ticket, None).await.unwrap();
    assert!(!checked.confirmed && checked.check_out.is_none());
    // twice: still one attendance with the first time
    let again = scan_and_check(&app, &staff, vol, id, Direction::In).await.unwrap();
    assert_eq!(again.check_in, checked.check_in);
    let out = scan_and_check(&app, &staff, vol, id, Direction::Out).await.unwrap();
    assert!(out.check_out.is_some());

    // the organiser corrects the times (in at the start, out 20 minutes after the end)
    let local = |t: i64| domain::time::local_input(chrono::TimeZone::timestamp_opt(&Utc, t, 0).unwrap());
    volunteer::correct(&app.state, &staff, out.id, &local(start), &local(end + 20 * MIN)).await.unwrap();
    assert_eq!(
        volunteer::correct(&app.state, &staff, out.id, &local(end), &local(start)).await.unwrap_err().code,
        ErrorCode::InvalidTime
    );
    assert_eq!(
        volunteer::correct(&app.state, vol, out.id, &local(start), &local(end)).await.unwrap_err().code,
        ErrorCode::Forbidden
    );

    let before = backend::points::balance(&app.state.db, vol.id).await.unwrap();
    let confirms = futures_util::future::join_all((0..4).map(|_| volunteer::confirm(&app.state, &staff, out.id))).await;
    let ok: Vec<_> = confirms.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 1, "confirmed once");
    assert!(confirms
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| e.code == ErrorCode::AlreadyDecided || e.code == ErrorCode::Conflict));
    // 150 minutes inside the activity (the 20 after the end do not count), 10 points an hour
    assert_eq!((ok[0].actual_minutes, ok[0].credited_minutes, ok[0].points), (150, 150, 25));
    assert_eq!(backend::points::balance(&app.state.db, vol.id).await.unwrap(), before + 25);
    let entries = points_entry::Entity::find()
        .filter(points_entry::Column::EntryKey.eq(format!("service:{}", out.id)))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(entries, 1);
    // confirmed hours cannot be corrected or re-confirmed, and checking out again is refused
    assert_eq!(
        volunteer::correct(&app.state, &staff, out.id, &local(start), &local(end)).await.unwrap_err().code,
        ErrorCode::AlreadyDecided
    );
    assert_eq!(scan_and_check(&app, &staff, vol, id, Direction::Out).await.unwrap_err(), ErrorCode::AlreadyDecided);
    let r = volunteer::record(&app.state, vol.id, false).await.unwrap();
    assert_eq!((r.service_minutes, r.service_points), (150, 25));
    // the organiser checks in a walk-in by phone; without a check-out nothing can be confirmed
    let walk_in = volunteer::organiser_check(&app.state, &staff, id, RESIDENT_A, Direction::In).await.unwrap();
    assert!(walk_in.in_by_organiser);
    assert_eq!(volunteer::confirm(&app.state, &staff, walk_in.id).await.unwrap_err().code, ErrorCode::NotCheckedOut);
}

#[tokio::test]
async fn the_day_cap_holds_when_two_activities_are_confirmed_at_once() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let now = Utc::now().timestamp();
    let start = now - 30 * MIN;
    let rule = HoursRule { max_day_minutes: 180, ..HoursRule::default() };
    let one = activity(&app, &staff, start, start + 150 * MIN, 5, rule, None).await;
    let two = activity(&app, &staff, start, start + 150 * MIN, 5, rule, None).await;
    let p = &people(&app, 1, "1354000").await[0];
    let local = |t: i64| domain::time::local_input(chrono::TimeZone::timestamp_opt(&Utc, t, 0).unwrap());
    let mut ids = vec![];
    for a in [one, two] {
        volunteer::sign_up(&app.state, p, a).await.unwrap();
        let v = scan_and_check(&app, &staff, p, a, Direction::In).await.unwrap();
        volunteer::correct(&app.state, &staff, v.id, &local(start), &local(start + 150 * MIN)).await.unwrap();
        ids.push(v.id);
    }
    let results = futures_util::future::join_all(ids.iter().map(|t| volunteer::confirm(&app.state, &staff, *t))).await;
    let credits: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let total: i64 = credits.iter().map(|c| c.credited_minutes).sum();
    assert_eq!(total, 180, "150 + the 30 left under the day cap");
    assert!(credits.iter().any(|c| c.capped_by == Some(domain::volunteer::Cap::Day)));
    assert_eq!(credits.iter().map(|c| c.points).sum::<i64>(), 25 + 5);
    let day = volunteer_total::Entity::find()
        .filter(volunteer_total::Column::UserId.eq(p.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(day.iter().all(|d| d.minutes == 180), "day and year totals agree with the credits: {day:?}");
}

#[tokio::test]
async fn a_geofence_needs_a_good_fix_on_site() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let now = Utc::now().timestamp();
    let fence = Geofence { lat: 39.9087, lng: 116.3975, radius_m: 100 };
    let id = activity(&app, &staff, now - 10 * MIN, now + 60 * MIN, 5, HoursRule::default(), Some(fence)).await;
    let p = &people(&app, 1, "1355000").await[0];
    volunteer::sign_up(&app.state, p, id).await.unwrap();
    let code = volunteer::current_code(&app.state, &staff, id, Direction::In).await.unwrap();
    let (a, d, w, s) = parts(&code.url);
    let t = volunteer::scan(&app.state, p, a, d, w, &s).await.unwrap();
    let try_with = |fix: Option<Fix>| volunteer::check(&app.state, p, a, d, t.at, &t.ticket, fix);
    assert_eq!(try_with(None).await.unwrap_err().code, ErrorCode::LocationRequired);
    let far = Fix { lat: 39.9187, lng: 116.3975, accuracy_m: 5.0 };
    assert_eq!(try_with(Some(far)).await.unwrap_err().code, ErrorCode::OutsideGeofence);
    let vague = Fix { lat: 39.9087, lng: 116.3975, accuracy_m: 800.0 };
    assert_eq!(try_with(Some(vague)).await.unwrap_err().code, ErrorCode::OutsideGeofence);
    let near = Fix { lat: 39.9091, lng: 116.3975, accuracy_m: 15.0 };
    let v = try_with(Some(near)).await.unwrap();
    assert_eq!(v.in_distance_m, Some(44));
}

#[tokio::test]
async fn honour_hours_earn_no_points_and_certificates_can_be_checked() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let p = &people(&app, 1, "1356000").await[0];
    let phone = "13560000000";
    assert_eq!(volunteer::issue_certificate(&app.state, p).await.unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(
        volunteer::add_honour(&app.state, &staff, phone, "1.25", "防汛值守").await.unwrap_err().code,
        ErrorCode::InvalidInput
    );
    assert_eq!(
        volunteer::add_honour(&app.state, &staff, phone, "2", " ").await.unwrap_err().code,
        ErrorCode::ReasonRequired
    );
    volunteer::add_honour(&app.state, &staff, phone, "2.5", "防汛值守").await.unwrap();
    // staff of another community cannot
    let other = current(&app, STAFF_B).await;
    assert!(volunteer::add_honour(&app.state, &other, phone, "1", "x").await.is_err());
    let r = volunteer::record(&app.state, p.id, false).await.unwrap();
    assert_eq!((r.honour_minutes, r.service_minutes, r.service_points), (150, 0, 0));
    assert_eq!(backend::points::balance(&app.state.db, p.id).await.unwrap(), 0, "honour hours earn no points");

    let code = volunteer::issue_certificate(&app.state, p).await.unwrap();
    assert_eq!(volunteer::issue_certificate(&app.state, p).await.unwrap(), code, "nothing new: the same certificate");
    let c = volunteer::certificate(&app.state, &code).await.unwrap();
    assert_eq!((c.honour_minutes, c.lines.len()), (150, 1));
    assert_eq!(c.communities, vec!["阳光社区".to_string()]);
    // checked by anyone over HTTP, lower case and without dashes too
    let bare = code.replace('-', "").to_lowercase();
    let path = format!("/api/v1/volunteer/certificates/{bare}");
    let res = reqwest::get(app.url(&path)).await.unwrap();
    assert_eq!(res.status(), 200);
    crate::access::conforms("GET", &path, 200, &res.text().await.unwrap()).unwrap();
    let res = reqwest::get(app.url("/api/v1/volunteer/certificates/AAAA-BBBB-CCCC")).await.unwrap();
    assert_eq!(res.status(), 404);
    // more hours: a new certificate
    volunteer::add_honour(&app.state, &staff, phone, "1", "社区运动会服务").await.unwrap();
    assert_ne!(volunteer::issue_certificate(&app.state, p).await.unwrap(), code);
}

#[tokio::test]
async fn the_code_route_is_for_the_organiser_only() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let now = Utc::now().timestamp();
    let id = activity(&app, &staff, now - 10 * MIN, now + 60 * MIN, 5, HoursRule::default(), None).await;
    let path = format!("/api/v1/volunteer/activities/{id}/code?d=out");
    let s = app.login_password(STAFF_A).await;
    let res = app.get_bearer(&path, &s.access_token).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["url"].as_str().unwrap().contains("d=out"));
    let r = app.login_code(RESIDENT_A).await;
    assert_eq!(app.get_bearer(&path, &r.access_token).await.status(), 403, "seen, not organised");
    // staff of another community cannot tell it from an activity that does not exist
    let b = app.login_password(STAFF_B).await;
    assert_eq!(app.get_bearer(&path, &b.access_token).await.status(), 404);
    let missing = "/api/v1/volunteer/activities/987654321/code?d=out";
    assert_eq!(app.get_bearer(missing, &b.access_token).await.status(), 404);
    let res = reqwest::get(app.url(&path)).await.unwrap();
    assert_eq!(res.status(), 401);
    // sign up over JSON
    let res = app
        .post_bearer(&format!("/api/v1/volunteer/activities/{id}/signup"), &r.access_token, serde_json::json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "signed_up");
}

#[tokio::test]
async fn approved_organisers_publish_and_run_their_own_activities() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let ps = people(&app, 2, "1357000").await;
    let (organiser, other) = (&ps[0], &ps[1]);
    let now = Utc::now().timestamp();
    let new = |by: &str| NewActivity {
        community_id: community,
        title: format!("{by}组织的读书会"),
        description: String::new(),
        place: "活动室".into(),
        starts_at: now - 10 * MIN,
        ends_at: now + 60 * MIN,
        capacity: 10,
        rule: HoursRule::default(),
        geofence: None,
        organiser_phone: "13900000002".into(),
    };
    assert_eq!(volunteer::create(&app.state, organiser, new("居民")).await.unwrap_err().code, ErrorCode::Forbidden);
    assert!(volunteer::approve_organiser(&app.state, organiser, community, "13570000001").await.is_err());
    // a person from another community cannot be approved here
    assert_eq!(
        volunteer::approve_organiser(&app.state, &staff, community, RESIDENT_B).await.unwrap_err().code,
        ErrorCode::NotRegistered
    );
    volunteer::approve_organiser(&app.state, &staff, community, "13570000000").await.unwrap();
    volunteer::approve_organiser(&app.state, &staff, community, "13570000000").await.unwrap();
    assert_eq!(volunteer::organisers(&app.state, &staff).await.unwrap().len(), 1);
    assert_eq!(
        volunteer::organiser_communities(&app.state, organiser).await.unwrap(),
        vec![(community, "阳光社区".to_string())]
    );
    // they publish (and run it themselves, whatever phone the form carries)
    let id = volunteer::create(&app.state, organiser, new("居民")).await.unwrap();
    let v = volunteer::organise(&app.state, organiser, id).await.unwrap();
    assert!(v.activity.can_organise);
    assert!(volunteer::current_code(&app.state, organiser, id, Direction::In).await.is_ok());
    assert_eq!(volunteer::organise(&app.state, other, id).await.unwrap_err().code, ErrorCode::Forbidden);
    // the staff of the community can still step in
    assert!(volunteer::organise(&app.state, &staff, id).await.is_ok());
    volunteer::revoke_organiser(&app.state, &staff, community, organiser.id).await.unwrap();
    assert_eq!(volunteer::create(&app.state, organiser, new("居民")).await.unwrap_err().code, ErrorCode::Forbidden);
    // the activity already published keeps its organiser
    assert!(volunteer::current_code(&app.state, organiser, id, Direction::Out).await.is_ok());
}
