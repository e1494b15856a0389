//! 预约: capacity under a crowd, quotas, notice, waiting list, closures, the
//! desk, calendar files and the plain-form pages (rules.md §2).

use crate::helpers::*;
use crate::pages::{browser, location, path};
use backend::{
    appointments,
    auth::CurrentUser,
    entities::{booking, household, residence, slot, user},
};
use chrono::{Duration, Utc};
use domain::appointments::{DeskMark, HoursRule, ItemForm, ItemSettings};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// An access token for a demo account (made directly, without the login rate limits).
pub async fn token_of(app: &TestApp, phone: &str) -> String {
    let u = user::Entity::find().filter(user::Column::Phone.eq(phone)).one(&app.state.db).await.unwrap().unwrap();
    backend::auth::issue_session(&app.state, u.id, None).await.unwrap().access_token
}

pub async fn current(app: &TestApp, phone: &str) -> CurrentUser {
    let t = token_of(app, phone).await;
    backend::auth::authenticate(&app.state, &t).await.expect("authenticate")
}

/// An item of 阳光社区 made by its staff. `audience`: anyone / verified / household.
pub async fn an_item(app: &TestApp, audience: &str, quota: Option<(&str, &str)>, notice: (&str, &str)) -> i64 {
    let staff = current(app, STAFF_A).await;
    let (qc, qp) = quota.unwrap_or(("", "week"));
    let s = ItemSettings::parse(&ItemForm {
        name: "老年证办理",
        guide: "请带身份证",
        place: "党群服务中心一楼",
        duration_minutes: "15",
        audience,
        book_notice_hours: notice.0,
        cancel_notice_hours: notice.1,
        window_days: "14",
        quota_count: qc,
        quota_period: qp,
        no_show_limit: "",
        offer_minutes: "30",
    })
    .unwrap();
    appointments::create_item(&app.state, &staff, app.org_id("阳光社区").await, s).await.unwrap()
}

/// A slot of the item starting `from_now` from now.
pub async fn a_slot(app: &TestApp, item: i64, from_now: Duration, capacity: i32) -> i64 {
    let starts = Utc::now() + from_now;
    slot::ActiveModel {
        item_id: Set(item),
        starts_at: Set(starts),
        ends_at: Set(starts + Duration::minutes(30)),
        capacity: Set(capacity),
        booked: Set(0),
        status: Set(domain::appointments::SlotStatus::Open),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

/// `n` new people with access tokens (made directly: 200 code logins would hit the rate limits).
async fn people(app: &TestApp, n: usize) -> Vec<(i64, String)> {
    let mut out = vec![];
    for _ in 0..n {
        let i = rand_minutes();
        let u =
            backend::auth::new_user(&format!("155{i:08}"), &format!("居民{i}")).insert(&app.state.db).await.unwrap();
        let s = backend::auth::issue_session(&app.state, u.id, None).await.unwrap();
        out.push((u.id, s.access_token));
    }
    out
}

async fn booked(app: &TestApp, slot_id: i64) -> i32 {
    slot::Entity::find_by_id(slot_id).one(&app.state.db).await.unwrap().unwrap().booked
}

async fn holding(app: &TestApp, slot_id: i64) -> u64 {
    booking::Entity::find()
        .filter(booking::Column::SlotId.eq(slot_id))
        .filter(booking::Column::Status.is_in(["offered", "booked", "arrived", "served", "no_show"]))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn two_hundred_people_race_for_ten_seats_and_ten_get_one() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let slot_id = a_slot(&app, item, Duration::days(1), 10).await;
    let crowd = people(&app, 200).await;
    let url = app.url("/api/v1/appointments/bookings");
    let client = reqwest::Client::new();
    let tasks: Vec<_> = crowd
        .into_iter()
        .map(|(_, token)| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "slot_id": slot_id }))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                (status, body)
            })
        })
        .collect();
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => ok += 1,
            409 => {
                assert_eq!(body["error"], "slot_full");
                assert!(body["message"].as_str().unwrap().contains("约满"));
                full += 1;
            }
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert_eq!((ok, full), (10, 190));
    assert_eq!(booked(&app, slot_id).await, 10);
    assert_eq!(holding(&app, slot_id).await, 10);
}

#[tokio::test]
async fn a_double_submit_books_once() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let slot_id = a_slot(&app, item, Duration::days(1), 5).await;
    let (_, token) = people(&app, 1).await.remove(0);
    let a = app.post_bearer("/api/v1/appointments/bookings", &token, serde_json::json!({ "slot_id": slot_id }));
    let b = app.post_bearer("/api/v1/appointments/bookings", &token, serde_json::json!({ "slot_id": slot_id }));
    let (a, b) = tokio::join!(a, b);
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (serde_json::Value, serde_json::Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"], "the same booking both times");
    assert_eq!(booked(&app, slot_id).await, 1);
}

#[tokio::test]
async fn the_database_refuses_more_seats_than_capacity_whatever_the_code_does() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let slot_id = a_slot(&app, item, Duration::days(1), 1).await;
    use sea_orm::ConnectionTrait;
    let r = app.state.db.execute_unprepared(&format!("UPDATE slots SET booked = 2 WHERE id = {slot_id}")).await;
    assert!(r.is_err(), "CHECK (booked <= capacity)");
    // and staff cannot shrink a slot below what is booked
    let (_, token) = people(&app, 1).await.remove(0);
    let r = app.post_bearer("/api/v1/appointments/bookings", &token, serde_json::json!({ "slot_id": slot_id })).await;
    assert_eq!(r.status(), 201);
    let staff = current(&app, STAFF_A).await;
    let e = appointments::set_capacity(&app.state, &staff, slot_id, 0).await.unwrap_err();
    assert_eq!(e.code, domain::ErrorCode::CapacityBelowBooked);
    appointments::set_capacity(&app.state, &staff, slot_id, 3).await.unwrap();
}

#[tokio::test]
async fn one_booking_per_household_per_week_across_members() {
    let app = spawn_app().await;
    let item = an_item(&app, "household", Some(("1", "week")), ("1", "2")).await;
    let monday_next = {
        // two slots in the same Beijing week, well ahead
        let today = backend::appointments::today();
        let days_to_monday = 7 - chrono::Datelike::weekday(&today).num_days_from_monday() as i64;
        domain::time::beijing_at(
            today + Duration::days(days_to_monday),
            chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        )
    };
    let s1 = a_slot(&app, item, monday_next - Utc::now(), 5).await;
    let s2 = a_slot(&app, item, monday_next - Utc::now() + Duration::days(2), 5).await;
    let s3 = a_slot(&app, item, monday_next - Utc::now() + Duration::days(7), 5).await;

    // resident A and a second member of the same household
    let a = token_of(&app, RESIDENT_A).await;
    let a_user = current(&app, RESIDENT_A).await;
    let home = residence::Entity::find()
        .filter(residence::Column::UserId.eq(a_user.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let (member_id, member) = people(&app, 1).await.remove(0);
    residence::ActiveModel {
        user_id: Set(member_id),
        dwelling_id: Set(home.dwelling_id),
        relation: Set("family_member".into()),
        area_centi_m2: Set(None),
        status: Set(domain::residence::ResidenceStatus::Approved),
        reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(Some(Utc::now())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    // both members at the same moment, on different slots: exactly one gets in
    let (r1, r2) = tokio::join!(
        app.post_bearer("/api/v1/appointments/bookings", &a, serde_json::json!({ "slot_id": s1 })),
        app.post_bearer("/api/v1/appointments/bookings", &member, serde_json::json!({ "slot_id": s2 })),
    );
    let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 403]);
    let refused = if r1.status() == 403 { r1 } else { r2 };
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "quota_reached");
    // the next week is another period
    let r = app.post_bearer("/api/v1/appointments/bookings", &member, serde_json::json!({ "slot_id": s3 })).await;
    assert_eq!(r.status(), 201);
    let hh = household::Entity::find()
        .filter(household::Column::DwellingId.eq(home.dwelling_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let n = booking::Entity::find().filter(booking::Column::HouseholdId.eq(hh.id)).count(&app.state.db).await.unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn people_without_a_verified_home_cannot_book_resident_items() {
    let app = spawn_app().await;
    let item = an_item(&app, "verified", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(1), 5).await;
    let (_, stranger) = people(&app, 1).await.remove(0);
    let r = app.post_bearer("/api/v1/appointments/bookings", &stranger, serde_json::json!({ "slot_id": s })).await;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "not_verified");
    assert!(body["message"].as_str().unwrap().contains("住户认证"));
    // a resident of the other community is not verified here either
    let b = token_of(&app, RESIDENT_B).await;
    let r = app.post_bearer("/api/v1/appointments/bookings", &b, serde_json::json!({ "slot_id": s })).await;
    assert_eq!(r.status(), 403);
    let a = token_of(&app, RESIDENT_A).await;
    let r = app.post_bearer("/api/v1/appointments/bookings", &a, serde_json::json!({ "slot_id": s })).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn notice_windows_are_enforced_with_reasons() {
    let app = spawn_app().await;
    // book at least 1 h ahead, cancel until 2 h before
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let soon = a_slot(&app, item, Duration::minutes(30), 5).await;
    let in_90 = a_slot(&app, item, Duration::minutes(90), 5).await;
    let far = a_slot(&app, item, Duration::days(20), 5).await;
    let (_, token) = people(&app, 1).await.remove(0);
    let book = |s: i64| app.post_bearer("/api/v1/appointments/bookings", &token, serde_json::json!({ "slot_id": s }));
    let r = book(soon).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "too_late_to_book");
    let r = book(far).await;
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "outside_window");
    let r = book(in_90).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app.post_bearer(&format!("/api/v1/appointments/bookings/{id}/cancel"), &token, serde_json::json!({})).await;
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_late_to_cancel");
    assert!(body["message"].as_str().unwrap().contains("取消截止"));
    assert_eq!(booked(&app, in_90).await, 1, "nothing changed");
}

#[tokio::test]
async fn a_freed_seat_goes_to_the_waiting_list_then_on() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(2), 1).await;
    let crowd = people(&app, 4).await;
    let mut users = vec![];
    for (_, token) in &crowd {
        users.push(backend::auth::authenticate(&app.state, token).await.unwrap());
    }
    let (a, b, c, d) = (&users[0], &users[1], &users[2], &users[3]);
    let first = appointments::book(&app.state, a, s).await.unwrap();
    assert_eq!(appointments::book(&app.state, b, s).await.unwrap_err().code, domain::ErrorCode::SlotFull);
    appointments::join_waitlist(&app.state, b, s).await.unwrap();
    appointments::join_waitlist(&app.state, c, s).await.unwrap();
    assert_eq!(
        appointments::join_waitlist(&app.state, b, s).await.unwrap_err().code,
        domain::ErrorCode::AlreadyWaiting
    );

    // A cancels: the seat is held for B, not thrown open
    appointments::cancel(&app.state, a, first).await.unwrap();
    assert_eq!(booked(&app, s).await, 1);
    assert_eq!(appointments::book(&app.state, d, s).await.unwrap_err().code, domain::ErrorCode::SlotFull);
    let offer = appointments::mine(&app.state, b).await.unwrap().remove(0);
    assert_eq!(offer.status, domain::appointments::BookingStatus::Offered);
    // B is told, in the inbox
    let inbox = backend::notify::inbox(&app.state, b, 10, 0).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.title.contains("候补到号")));

    // B lets it run out: the expiry passes it to C
    booking::Entity::update_many()
        .col_expr(booking::Column::OfferExpiresAt, sea_orm::sea_query::Expr::value(Utc::now() - Duration::seconds(1)))
        .filter(booking::Column::Id.eq(offer.id))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        appointments::accept_offer(&app.state, b, offer.id).await.unwrap_err().code,
        domain::ErrorCode::OfferExpired
    );
    appointments::offer_expire_job(&app.state, appointments::OfferExpireJob { booking_id: offer.id }).await.unwrap();
    // running it twice changes nothing
    appointments::offer_expire_job(&app.state, appointments::OfferExpireJob { booking_id: offer.id }).await.unwrap();
    let c_offer = appointments::mine(&app.state, c).await.unwrap().remove(0);
    assert_eq!(c_offer.status, domain::appointments::BookingStatus::Offered);
    appointments::accept_offer(&app.state, c, c_offer.id).await.unwrap();
    assert_eq!(
        appointments::booking(&app.state, c, c_offer.id).await.unwrap().status,
        domain::appointments::BookingStatus::Booked
    );
    assert_eq!(booked(&app, s).await, 1);
    assert_eq!(holding(&app, s).await, 1);

    // C cancels with nobody waiting: the seat is free again
    appointments::cancel(&app.state, c, c_offer.id).await.unwrap();
    assert_eq!(booked(&app, s).await, 0);
    appointments::book(&app.state, d, s).await.unwrap();
}

#[tokio::test]
async fn moving_a_booking_takes_the_new_seat_first() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", Some(("1", "month")), ("1", "2")).await;
    let s1 = a_slot(&app, item, Duration::days(2), 2).await;
    let s2 = a_slot(&app, item, Duration::days(2) + Duration::hours(1), 1).await;
    let crowd = people(&app, 2).await;
    let a = backend::auth::authenticate(&app.state, &crowd[0].1).await.unwrap();
    let b = backend::auth::authenticate(&app.state, &crowd[1].1).await.unwrap();
    let old = appointments::book(&app.state, &a, s1).await.unwrap();
    // the quota does not count the booking being moved
    let new = appointments::reschedule(&app.state, &a, old, s2).await.unwrap();
    assert_ne!(old, new);
    assert_eq!((booked(&app, s1).await, booked(&app, s2).await), (0, 1));
    let old_view = appointments::booking(&app.state, &a, old).await.unwrap();
    assert_eq!(old_view.status, domain::appointments::BookingStatus::Cancelled);
    // a move to a full slot fails and leaves the booking where it was
    appointments::book(&app.state, &b, s1).await.unwrap();
    let s3 = a_slot(&app, item, Duration::days(3), 1).await;
    let c = people(&app, 1).await.remove(0);
    let c = backend::auth::authenticate(&app.state, &c.1).await.unwrap();
    appointments::book(&app.state, &c, s3).await.unwrap();
    assert_eq!(appointments::reschedule(&app.state, &a, new, s3).await.unwrap_err().code, domain::ErrorCode::SlotFull);
    assert_eq!(
        appointments::booking(&app.state, &a, new).await.unwrap().status,
        domain::appointments::BookingStatus::Booked
    );
    assert_eq!(booked(&app, s2).await, 1);
}

#[tokio::test]
async fn a_closure_cancels_bookings_and_tells_people() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(3), 3).await;
    let (_, token) = people(&app, 1).await.remove(0);
    let u = backend::auth::authenticate(&app.state, &token).await.unwrap();
    let id = appointments::book(&app.state, &u, s).await.unwrap();
    let staff = current(&app, STAFF_A).await;
    let day = domain::time::beijing_date(Utc::now() + Duration::days(3)).format("%Y-%m-%d").to_string();
    let closure = domain::appointments::Closure::parse(&day, "").unwrap();
    let n = appointments::add_closure(&app.state, &staff, app.org_id("阳光社区").await, None, closure, "电路检修")
        .await
        .unwrap();
    assert_eq!(n, 1);
    let v = appointments::booking(&app.state, &u, id).await.unwrap();
    assert_eq!(v.status, domain::appointments::BookingStatus::Cancelled);
    assert!(v.cancel_reason.unwrap().contains("电路检修"));
    assert_eq!(booked(&app, s).await, 0);
    assert_eq!(appointments::book(&app.state, &u, s).await.unwrap_err().code, domain::ErrorCode::SlotClosed);
    let inbox = backend::notify::inbox(&app.state, &u, 10, 0).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.title.contains("预约已取消") && i.body.contains("电路检修")));
    // staff of another community cannot close this one
    let other = current(&app, STAFF_B).await;
    let closure = domain::appointments::Closure::parse(&day, "").unwrap();
    assert!(appointments::add_closure(&app.state, &other, app.org_id("阳光社区").await, None, closure, "x")
        .await
        .is_err());
}

#[tokio::test]
async fn opening_hours_make_slots_once_and_skip_closed_days() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let staff = current(&app, STAFF_A).await;
    let all: Vec<String> = (1..=7).map(|d| d.to_string()).collect();
    let rule = HoursRule::parse(&all, "09:00", "10:00", "30", "4").unwrap();
    let made = appointments::add_hours(&app.state, &staff, item, rule).await.unwrap();
    // 15 days (today + 14) × 2 slots, minus today's if already past
    assert!((28..=30).contains(&made), "{made}");
    assert_eq!(appointments::ensure_slots(&app.state, item).await.unwrap(), 0, "idempotent");
    // staff of the other community do not see this item at all
    let other = current(&app, STAFF_B).await;
    assert_eq!(appointments::staff_item(&app.state, &other, item).await.unwrap_err().code, domain::ErrorCode::NotFound);
}

#[tokio::test]
async fn the_desk_marks_once_and_no_shows_limit_online_booking() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("0", "0")).await;
    let s = a_slot(&app, item, Duration::minutes(10), 5).await;
    let (uid, token) = people(&app, 1).await.remove(0);
    let u = backend::auth::authenticate(&app.state, &token).await.unwrap();
    let id = appointments::book(&app.state, &u, s).await.unwrap();
    let staff = current(&app, STAFF_A).await;
    let code = appointments::booking(&app.state, &u, id).await.unwrap().code;
    let (entry, _) = appointments::find_by_code(&app.state, &staff, &code.to_lowercase()).await.unwrap();
    assert_eq!(entry.booking_id, id);
    assert!(entry.phone.contains("****"), "masked: {}", entry.phone);
    // no-show only once the slot has begun
    assert_eq!(
        appointments::mark(&app.state, &staff, id, DeskMark::NoShow).await.unwrap_err().code,
        domain::ErrorCode::InvalidTime
    );
    appointments::mark(&app.state, &staff, id, DeskMark::Arrived).await.unwrap();
    assert_eq!(
        appointments::mark(&app.state, &staff, id, DeskMark::Arrived).await.unwrap_err().code,
        domain::ErrorCode::AlreadyDecided
    );
    appointments::mark(&app.state, &staff, id, DeskMark::Served).await.unwrap();
    // other communities' staff cannot see or mark it
    let other = current(&app, STAFF_B).await;
    assert!(appointments::find_by_code(&app.state, &other, &code).await.is_err());

    // three recorded no-shows suspend online booking where the item says so
    for _ in 0..3 {
        let past = a_slot(&app, item, -Duration::days(1) - Duration::minutes(rand_minutes()), 5).await;
        booking::ActiveModel {
            slot_id: Set(past),
            item_id: Set(item),
            user_id: Set(uid),
            household_id: Set(None),
            code: Set(format!("N{:07}", rand_minutes())),
            status: Set(domain::appointments::BookingStatus::NoShow),
            starts_at: Set(Utc::now() - Duration::days(1)),
            offer_expires_at: Set(None),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            changed_by: Set(Some(staff.id)),
            cancel_reason: Set(None),
            rescheduled_to: Set(None),
            ..Default::default()
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let strict = {
        let s = ItemSettings::parse(&ItemForm {
            name: "法律咨询",
            guide: "",
            place: "调解室",
            duration_minutes: "30",
            audience: "anyone",
            book_notice_hours: "0",
            cancel_notice_hours: "0",
            window_days: "7",
            quota_count: "",
            quota_period: "week",
            no_show_limit: "3",
            offer_minutes: "30",
        })
        .unwrap();
        appointments::create_item(&app.state, &staff, app.org_id("阳光社区").await, s).await.unwrap()
    };
    let s2 = a_slot(&app, strict, Duration::days(1), 5).await;
    assert_eq!(appointments::book(&app.state, &u, s2).await.unwrap_err().code, domain::ErrorCode::NoShowLimit);
    let day = domain::appointments::parse_day(&appointments::booking(&app.state, &u, id).await.unwrap().date).unwrap();
    let q = appointments::queue(&app.state, &staff, day, None).await.unwrap();
    assert!(q.iter().any(|e| e.booking_id == id && e.no_shows == 3));
}

fn rand_minutes() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static N: AtomicI64 = AtomicI64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn the_calendar_file_is_for_the_owner_only() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(1), 5).await;
    let crowd = people(&app, 2).await;
    let u = backend::auth::authenticate(&app.state, &crowd[0].1).await.unwrap();
    let id = appointments::book(&app.state, &u, s).await.unwrap();
    let r = app.get_bearer(&format!("/appointments/bookings/{id}/calendar.ics"), &crowd[0].1).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let body = r.text().await.unwrap();
    assert!(body.contains("BEGIN:VEVENT") && body.contains("DTSTART:") && body.contains("老年证办理"));
    let r = app.get_bearer(&format!("/appointments/bookings/{id}/calendar.ics"), &crowd[1].1).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn booking_and_cancelling_work_with_plain_forms() {
    let app = spawn_app().await;
    let item = an_item(&app, "verified", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(1), 2).await;
    let late = a_slot(&app, item, Duration::minutes(90), 2).await;
    app.browser_login(RESIDENT_A).await;
    let (status, html) = app.page(&format!("/appointments/items/{item}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("老年证办理") && html.contains("余2/2"), "{html}");
    let r = app
        .form(
            path::<app::appointments::BookSlot>(),
            &format!("/appointments/items/{item}"),
            &[("item", &item.to_string()), ("slot", &s.to_string())],
        )
        .await;
    assert_eq!(r.status(), 302);
    let to = location(&r);
    assert!(to.starts_with("/appointments/bookings/") && to.ends_with("?done=booked"), "{to}");
    let (_, html) = app.page(&to).await;
    assert!(html.contains("预约成功") && html.contains("<svg") && html.contains("添加到日历"), "{html}");
    let id = to.trim_start_matches("/appointments/bookings/").split('?').next().unwrap().to_string();

    // booking the one too close to cancel, then cancelling it, is refused in words
    let r = app
        .form(
            path::<app::appointments::BookSlot>(),
            &format!("/appointments/items/{item}"),
            &[("item", &item.to_string()), ("slot", &late.to_string())],
        )
        .await;
    let late_page = location(&r);
    let late_id = late_page.trim_start_matches("/appointments/bookings/").split('?').next().unwrap().to_string();
    let r = app
        .form(path::<app::appointments::ChangeBooking>(), &late_page, &[("id", &late_id), ("action", "cancel")])
        .await;
    assert_eq!(location(&r), format!("/appointments/bookings/{late_id}?error=too_late_to_cancel"));
    let (_, html) = app.page(&location(&r)).await;
    assert!(html.contains("已过取消截止时间"));

    // the first one can be cancelled
    let r = app.form(path::<app::appointments::ChangeBooking>(), &to, &[("id", &id), ("action", "cancel")]).await;
    assert_eq!(location(&r), format!("/appointments/bookings/{id}?done=cancel"));
    assert_eq!(booked(&app, s).await, 0);

    // the desk finds the late one by its code and marks arrival
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let u = current(&app, RESIDENT_A).await;
    let code = appointments::booking(&app.state, &u, late_id.parse().unwrap()).await.unwrap().code;
    let (_, html) = staff.page(&format!("/staff/appointments/check?code={code}")).await;
    assert!(html.contains(&code) && html.contains("到场"), "{html}");
    let back = format!("/staff/appointments/check?code={code}");
    let r = staff
        .form(
            path::<app::appointments::DeskMark>(),
            &back,
            &[("booking_id", &late_id), ("mark", "arrived"), ("back", &back)],
        )
        .await;
    assert_eq!(location(&r), format!("{back}&marked=arrived"));
    // the queue of the slot's day (90 minutes from now may be tomorrow in Beijing)
    let day = domain::time::local_input(Utc::now() + Duration::minutes(90))[..10].to_string();
    let (_, html) = staff.page(&format!("/staff/appointments/queue?day={day}")).await;
    assert!(html.contains("已到场"), "{html}");
}

#[tokio::test]
async fn reminders_follow_the_booking_and_errors_speak_english_when_asked() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(2), 1).await;
    let crowd = people(&app, 2).await;
    let u = backend::auth::authenticate(&app.state, &crowd[0].1).await.unwrap();
    let id = appointments::book(&app.state, &u, s).await.unwrap();
    // 24 h and 1 h before, both pending
    for lead in ["1440m", "60m"] {
        let j = backend::jobs::find(&app.state.db, &format!("remind:{}:booking:{id}:{lead}", u.id)).await.unwrap();
        assert_eq!(j.expect("reminder scheduled").status, "pending");
    }
    // the slot is full: the second person is told so, in English when they ask for it
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/appointments/bookings"))
        .bearer_auth(&crowd[1].1)
        .header("Accept-Language", "en-US,en;q=0.9")
        .json(&serde_json::json!({ "slot_id": s }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("fully booked"), "{body}");
    // cancelling takes the reminders back
    appointments::cancel(&app.state, &u, id).await.unwrap();
    for lead in ["1440m", "60m"] {
        let j = backend::jobs::find(&app.state.db, &format!("remind:{}:booking:{id}:{lead}", u.id)).await.unwrap();
        assert_eq!(j.unwrap().status, "cancelled");
    }
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_and_release() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s1 = a_slot(&app, item, Duration::days(1), 1).await;
    let s2 = a_slot(&app, item, Duration::days(2), 5).await;
    let crowd = people(&app, 2).await;
    let post = |token: &str, key: &str, slot: i64| {
        reqwest::Client::new()
            .post(app.url("/api/v1/appointments/bookings"))
            .bearer_auth(token.to_string())
            .header("Idempotency-Key", key.to_string())
            .json(&serde_json::json!({ "slot_id": slot }))
            .send()
    };
    let (t0, t1) = (crowd[0].1.clone(), crowd[1].1.clone());
    // the same key at once: one booking, the other answer is the same booking or "still running"
    let (a, b) = tokio::join!(post(&t0, "booking-k1", s1), post(&t0, "booking-k1", s1));
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert!(statuses == [201, 201] || statuses == [201, 409], "{statuses:?}");
    assert_eq!(booked(&app, s1).await, 1);
    // a replay later: the same booking, nothing new
    let r = post(&t0, "booking-k1", s1).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: serde_json::Value = r.json().await.unwrap();
    assert_eq!(booked(&app, s1).await, 1);
    // the same key for another request: refused, in words
    let r = post(&t0, "booking-k1", s2).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "idempotency_mismatch");
    // a failed request gives its key back: after a seat frees, the retry books
    let r = post(&t1, "booking-k2", s1).await.unwrap();
    assert_eq!(r.status(), 409);
    let u0 = backend::auth::authenticate(&app.state, &t0).await.unwrap();
    appointments::cancel(&app.state, &u0, first["id"].as_i64().unwrap()).await.unwrap();
    let r = post(&t1, "booking-k2", s1).await.unwrap();
    assert_eq!(r.status(), 201);
    // bad keys are refused
    let r = post(&t1, &"x".repeat(256), s2).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "invalid_idempotency_key");
}

#[tokio::test]
async fn cancellations_racing_a_closure_end_clean() {
    let app = spawn_app().await;
    let item = an_item(&app, "anyone", None, ("1", "2")).await;
    let s = a_slot(&app, item, Duration::days(3), 10).await;
    let crowd = people(&app, 10).await;
    let mut mine = vec![];
    for (_, token) in &crowd {
        let u = backend::auth::authenticate(&app.state, token).await.unwrap();
        let id = appointments::book(&app.state, &u, s).await.unwrap();
        mine.push((u, id));
    }
    let staff = current(&app, STAFF_A).await;
    let day = domain::time::beijing_date(Utc::now() + Duration::days(3)).format("%Y-%m-%d").to_string();
    let community = app.org_id("阳光社区").await;
    let closure = {
        let state = app.state.clone();
        let day = day.clone();
        tokio::spawn(async move {
            let c = domain::appointments::Closure::parse(&day, "").unwrap();
            appointments::add_closure(&state, &staff, community, None, c, "停电").await.map(|_| ())
        })
    };
    let cancels: Vec<_> = mine
        .into_iter()
        .map(|(u, id)| {
            let state = app.state.clone();
            tokio::spawn(async move { appointments::cancel(&state, &u, id).await })
        })
        .collect();
    closure.await.unwrap().expect("the closure goes through");
    for c in cancels {
        match c.await.unwrap() {
            Ok(()) => {}
            Err(e) => assert_eq!(e.code, domain::ErrorCode::AlreadyDecided, "{e}"),
        }
    }
    assert_eq!(booked(&app, s).await, 0);
    assert_eq!(holding(&app, s).await, 0);
}
