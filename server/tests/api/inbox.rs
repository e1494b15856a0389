//! The inbox, persisted jobs and live events, through the real HTTP API.

use crate::helpers::*;
use crate::pages::location;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// Polls until `f` is true (jobs run in the background), at most 15 s.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

pub async fn inbox(app: &TestApp, token: &str) -> Value {
    let r = app.get_bearer("/api/v1/inbox", token).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn publish(app: &TestApp, token: &str, org: i64, title: &str, extra: Value) -> i64 {
    let mut body = json!({ "org_unit_id": org, "title": title, "body": "正文" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = app.post_bearer("/api/v1/announcements", token, body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_announcement_reaches_the_inboxes_of_its_community_only_and_reading_it_clears_the_item() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await.access_token;
    let resident_a = app.login_code(RESIDENT_A).await.access_token;
    let resident_b = app.login_code(RESIDENT_B).await.access_token;
    let sunshine = app.org_id("阳光社区").await;
    let id = publish(&app, &staff, sunshine, "停水通知", json!({})).await;

    eventually("resident A's inbox item", || async { inbox(&app, &resident_a).await["total"] == 1 }).await;
    let a = inbox(&app, &resident_a).await;
    assert_eq!(a["unread"], 1);
    assert_eq!(a["items"][0]["title"], "停水通知");
    assert_eq!(a["items"][0]["kind"], "announcement");
    assert_eq!(a["items"][0]["link"], format!("/announcements/{id}"));
    // 和谐社区 hears nothing; the author gets no copy of their own notice
    assert_eq!(inbox(&app, &resident_b).await["total"], 0);
    assert_eq!(inbox(&app, &staff).await["total"], 0);

    // the job ran once and is done; running due jobs again changes nothing
    let job = backend::jobs::find(&app.state.db, &format!("announcement:{id}")).await.unwrap().unwrap();
    assert_eq!(job.status, "done");
    backend::jobs::run_due(&app.state, "another-instance").await.unwrap();
    assert_eq!(inbox(&app, &resident_a).await["total"], 1);

    // reading the announcement itself marks the inbox item read
    let r = app.get_bearer(&format!("/api/v1/announcements/{id}"), &resident_a).await;
    assert_eq!(r.status(), 200);
    assert_eq!(inbox(&app, &resident_a).await["unread"], 0);
}

#[tokio::test]
async fn inbox_items_belong_to_their_owner() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await.access_token;
    let resident_a = app.login_code(RESIDENT_A).await.access_token;
    let worker = app.login_code(WORKER_A).await.access_token;
    publish(&app, &staff, app.org_id("阳光社区").await, "消防演练", json!({})).await;
    eventually("an item", || async { inbox(&app, &resident_a).await["total"] == 1 }).await;
    let item = inbox(&app, &resident_a).await["items"][0]["id"].as_i64().unwrap();
    // someone else cannot open or mark it
    let r = app.post_bearer(&format!("/api/v1/inbox/{item}/read"), &worker, json!({})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(inbox(&app, &resident_a).await["unread"], 1);
    let r = app.post_bearer(&format!("/api/v1/inbox/{item}/read"), &resident_a, json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(inbox(&app, &resident_a).await["unread"], 0);
    // anonymous
    let r = reqwest::get(app.url("/api/v1/inbox")).await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_scheduled_announcement_stays_out_of_sight_until_its_time_and_then_arrives_once() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await.access_token;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let id = publish(&app, &staff, app.org_id("阳光社区").await, "周末停电检修", json!({ "publish_at": at })).await;

    // not yet: residents neither list nor open it; staff see it as scheduled
    let list: Value = app.get_bearer("/api/v1/announcements", &resident).await.json().await.unwrap();
    assert!(!list.to_string().contains("周末停电检修"));
    assert_eq!(app.get_bearer(&format!("/api/v1/announcements/{id}"), &resident).await.status(), 404);
    let staff_user = backend::auth::authenticate(&app.state, &staff).await.unwrap();
    let scheduled = backend::announcements::scheduled(&app.state, &staff_user).await.unwrap();
    assert_eq!(scheduled.iter().map(|a| a.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(inbox(&app, &resident).await["total"], 0);

    eventually("the scheduled announcement", || async { inbox(&app, &resident).await["total"] == 1 }).await;
    let list: Value = app.get_bearer("/api/v1/announcements", &resident).await.json().await.unwrap();
    assert!(list.to_string().contains("周末停电检修"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(inbox(&app, &resident).await["total"], 1, "delivered once");

    // a time in the past or too far ahead is refused, in words
    let r = app
        .post_bearer(
            "/api/v1/announcements",
            &staff,
            json!({ "org_unit_id": app.org_id("阳光社区").await, "title": "t", "body": "b",
                    "publish_at": chrono::Utc::now() - chrono::Duration::hours(2) }),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_time");
}

#[tokio::test]
async fn a_reminder_is_delivered_once_however_many_workers_race_for_it() {
    let app = spawn_app_with(&[("JOB_WORKER", "false")]).await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    let draft = backend::notify::Draft {
        kind: domain::notify::NotificationKind::System,
        title: "明天上午9点取件".into(),
        body: "请带身份证".into(),
        link: "/inbox".into(),
        key: "pickup-1".into(),
    };
    let due = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert!(backend::notify::remind_at(&app.state.db, user.id, due, draft.clone()).await.unwrap());
    // scheduling it again is a no-op
    assert!(!backend::notify::remind_at(&app.state.db, user.id, due, draft).await.unwrap());

    // three instances poll at the same moment: one claims it
    let (a, b, c) = tokio::join!(
        backend::jobs::run_due(&app.state, "a"),
        backend::jobs::run_due(&app.state, "b"),
        backend::jobs::run_due(&app.state, "c"),
    );
    let remind_runs = [a.unwrap(), b.unwrap(), c.unwrap()];
    assert!(remind_runs.iter().sum::<usize>() >= 1);
    // deliver jobs run too; drain
    while backend::jobs::run_due(&app.state, "a").await.unwrap() > 0 {}
    assert_eq!(inbox(&app, &resident).await["total"], 1);

    // an instance died holding a job: once the lease is over, another takes it
    use backend::entities::job;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let draft2 = backend::notify::Draft {
        kind: domain::notify::NotificationKind::System,
        title: "第二条".into(),
        body: String::new(),
        link: "/inbox".into(),
        key: "pickup-2".into(),
    };
    backend::notify::remind_at(&app.state.db, user.id, due, draft2).await.unwrap();
    let row = backend::jobs::find(&app.state.db, &format!("remind:{}:pickup-2", user.id)).await.unwrap().unwrap();
    let mut held: job::ActiveModel = row.clone().into();
    held.locked_by = Set(Some("dead-instance".into()));
    held.locked_until = Set(Some(chrono::Utc::now() + chrono::Duration::seconds(2)));
    held.attempts = Set(1);
    held.update(&app.state.db).await.unwrap();
    assert_eq!(backend::jobs::run_due(&app.state, "a").await.unwrap(), 0, "leased elsewhere");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    while backend::jobs::run_due(&app.state, "a").await.unwrap() > 0 {}
    assert_eq!(inbox(&app, &resident).await["total"], 2);
    let row = job::Entity::find_by_id(row.id).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("done", 2));

    // a cancelled reminder never fires
    let draft3 = backend::notify::Draft {
        kind: domain::notify::NotificationKind::System,
        title: "取消的".into(),
        body: String::new(),
        link: "/inbox".into(),
        key: "pickup-3".into(),
    };
    backend::notify::remind_at(&app.state.db, user.id, due, draft3).await.unwrap();
    assert!(backend::notify::cancel_reminder(&app.state.db, user.id, "pickup-3").await.unwrap());
    while backend::jobs::run_due(&app.state, "a").await.unwrap() > 0 {}
    assert_eq!(inbox(&app, &resident).await["total"], 2);
}

#[tokio::test]
async fn a_failing_job_is_retried_later_and_gives_up_after_its_attempts() {
    let app = spawn_app_with(&[("JOB_WORKER", "false")]).await;
    use backend::jobs::NewJob;
    // an announcement that does not exist yet is "not published"... use an unknown payload instead
    let mut bad = NewJob::new(backend::notify::REMIND, "bad-payload", json!({ "nonsense": true }));
    bad.max_attempts = 2;
    backend::jobs::enqueue(&app.state.db, bad).await.unwrap();
    assert_eq!(backend::jobs::run_due(&app.state, "a").await.unwrap(), 1);
    let j = backend::jobs::find(&app.state.db, "bad-payload").await.unwrap().unwrap();
    assert_eq!((j.status.as_str(), j.attempts), ("pending", 1));
    assert!(j.run_at > chrono::Utc::now() + chrono::Duration::seconds(5), "backed off");
    assert!(j.last_error.unwrap().contains("bad payload"));
    // not due again yet
    assert_eq!(backend::jobs::run_due(&app.state, "a").await.unwrap(), 0);
}

#[tokio::test]
async fn the_applicant_hears_of_the_residence_decision_in_the_inbox() {
    let app = spawn_app().await;
    let newcomer = "13600000000";
    app.browser_login(newcomer).await;
    let (c, b, d) = crate::residence::a_dwelling(&app).await;
    let r = crate::residence::submit(&app, c, b, d, "tenant", "").await;
    assert_eq!(location(&r), "/residence?submitted=1");
    let staff = app.login_password(STAFF_A).await.access_token;
    let staff_user = backend::auth::authenticate(&app.state, &staff).await.unwrap();
    let pending = backend::residence::pending(&app.state, &staff_user, None).await.unwrap();
    backend::residence::decide(&app.state, &staff_user, pending[0].id, false, "门牌号不符").await.unwrap();

    // the inbox page shows it, unread, with the reason
    let mut html = String::new();
    for _ in 0..50 {
        html = app.page("/inbox").await.1;
        if html.contains("住户认证未通过") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(html.contains("住户认证未通过") && html.contains("门牌号不符"), "{html}");
    assert!(html.contains("1 条未读"));
    assert!(html.contains(r#"data-unread="1""#), "badge in the navigation");
    // opening it marks it read and leads to the residence page
    let id: i64 = html.split("/inbox/").nth(1).unwrap().split('/').next().unwrap().parse().unwrap();
    let r = app.client.get(app.url(&format!("/inbox/{id}/open"))).send().await.unwrap();
    assert_eq!(location(&r), "/residence");
    let (_, html) = app.page("/inbox").await;
    assert!(html.contains("0 条未读"));
}

#[tokio::test]
async fn notification_settings_are_a_plain_form() {
    let app = spawn_app_with(&[("CODE_RESEND_SECONDS", "0")]).await;
    app.browser_login(RESIDENT_A).await;
    let (status, html) = app.page("/inbox/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains("预约提醒") && html.contains(r#"name="sms""#));
    // push for announcements only; SMS for appointment reminders (and a forged SMS for announcements)
    let r = app
        .client
        .post(app.url("/inbox/settings"))
        .form(&[("push", "announcement"), ("sms", "appointment_reminder"), ("sms", "announcement")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/inbox/settings?saved=1");
    let token = app.login_code(RESIDENT_A).await.access_token;
    let user = backend::auth::authenticate(&app.state, &token).await.unwrap();
    let prefs = backend::notify::prefs(&app.state, &user).await.unwrap();
    use domain::notify::NotificationKind as K;
    let p = |k: K| prefs.iter().find(|p| p.kind == k).copied().unwrap();
    assert!(p(K::Announcement).push && !p(K::Announcement).sms, "SMS is not offered for announcements");
    assert!(!p(K::Task).push);
    assert!(p(K::AppointmentReminder).sms && !p(K::AppointmentReminder).push);
    let (_, html) = app.page("/inbox/settings?saved=1").await;
    assert!(html.contains("设置已保存"));
}

/// A minimal server-sent-events reader.
pub struct Sse {
    stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

#[derive(Debug, Default, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl Sse {
    pub async fn connect(base: &str, token: &str, last_id: Option<&str>, query: &str) -> Sse {
        let mut req = reqwest::Client::new().get(format!("{base}/api/v1/events{query}")).bearer_auth(token);
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id);
        }
        let r = req.send().await.expect("connect");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        Sse { stream: Box::pin(r.bytes_stream()), buf: String::new() }
    }

    /// The next event (comments and retry lines skipped), within 15 s.
    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let mut ev = SseEvent::default();
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id: ") {
                            ev.id = Some(v.to_string());
                        } else if let Some(v) = line.strip_prefix("event: ") {
                            ev.event = v.to_string();
                        } else if let Some(v) = line.strip_prefix("data: ") {
                            ev.data = v.to_string();
                        }
                    }
                    if !ev.event.is_empty() {
                        return ev;
                    }
                    continue;
                }
                let chunk = self.stream.next().await.expect("stream open").expect("chunk");
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 15 s")
    }

    /// Reads until the server ends the stream; false if it is still open after 10 s.
    pub async fn ends(&mut self) -> bool {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.stream.next().await {
                    None | Some(Err(_)) => return,
                    Some(Ok(chunk)) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                }
            }
        })
        .await
        .is_ok()
    }

    pub async fn next_of(&mut self, kind: &str) -> SseEvent {
        loop {
            let ev = self.next().await;
            if std::env::var("TEST_LOG").is_ok() {
                eprintln!("sse: {ev:?}");
            }
            if ev.event == kind {
                return ev;
            }
        }
    }
}

#[tokio::test]
async fn live_events_arrive_and_a_reconnect_misses_nothing() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await.access_token;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let org = app.org_id("阳光社区").await;

    let mut sse = Sse::connect(&app.address, &resident, None, "").await;
    let hello = sse.next().await;
    assert_eq!((hello.event.as_str(), hello.data.as_str()), ("hello", r#"{"unread":0}"#));
    publish(&app, &staff, org, "第一条", json!({})).await;
    let first = sse.next_of("inbox").await;
    assert!(first.data.contains("第一条") && first.data.contains(r#""unread":1"#), "{}", first.data);
    drop(sse);

    // while away, another notice; reconnecting with Last-Event-ID brings it
    publish(&app, &staff, org, "第二条", json!({})).await;
    eventually("second item", || async { inbox(&app, &resident).await["total"] == 2 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sse = Sse::connect(&app.address, &resident, first.id.as_deref(), "").await;
    let missed = sse.next_of("inbox").await;
    assert!(missed.data.contains("第二条"), "{}", missed.data);

    // an id we no longer know: told to reload, with the current count
    let mut sse = Sse::connect(&app.address, &resident, Some("99999999999999-0"), "").await;
    let reset = sse.next().await;
    assert_eq!(reset.event, "reset");
    assert!(reset.data.contains(r#""unread":2"#));
}

#[tokio::test]
async fn logging_out_ends_that_logins_event_streams_and_no_other() {
    let app = spawn_app_with(&[("CODE_RESEND_SECONDS", "0")]).await;
    let staff = app.login_password(STAFF_A).await.access_token;
    let org = app.org_id("阳光社区").await;
    let phone = app.login_code(RESIDENT_A).await.access_token;
    let laptop = app.login_code(RESIDENT_A).await.access_token;
    let mut on_phone = Sse::connect(&app.address, &phone, None, "").await;
    let mut on_laptop = Sse::connect(&app.address, &laptop, None, "").await;
    assert_eq!(on_phone.next().await.event, "hello");
    assert_eq!(on_laptop.next().await.event, "hello");
    let r = app.post_bearer("/api/v1/auth/logout", &phone, json!({})).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert!(on_phone.ends().await, "the logged-out login's stream ends at once");
    // the other login still hears what happens, and never the revocation itself
    publish(&app, &staff, org, "仍然收到", json!({})).await;
    let ev = on_laptop.next_of("inbox").await;
    assert!(ev.data.contains("仍然收到"));
    let r = app.get_bearer("/api/v1/events", &phone).await;
    assert_eq!(r.status(), 401, "and the logged-out login cannot listen again");
}

#[tokio::test]
async fn live_events_are_only_for_those_entitled() {
    let app = spawn_app().await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let r = reqwest::get(app.url("/api/v1/events")).await.unwrap();
    assert_eq!(r.status(), 401);
    let other = app.org_id("和谐社区").await;
    let r = app.get_bearer(&format!("/api/v1/events?topics=org:{other}"), &resident).await;
    assert_eq!(r.status(), 404);
    let r = app.get_bearer("/api/v1/events?topics=user:1", &resident).await;
    assert_eq!(r.status(), 400);
    // the resident's own community is fine, and announcements published there arrive
    let mine = app.org_id("阳光社区").await;
    let mut sse = Sse::connect(&app.address, &resident, None, &format!("?topics=org:{mine}")).await;
    let staff = app.login_password(STAFF_A).await.access_token;
    publish(&app, &staff, mine, "社区通知", json!({})).await;
    let ev = sse.next_of("announcement").await;
    assert!(ev.data.contains("社区通知"));
}

#[tokio::test]
async fn reminders_ahead_of_an_appointment_skip_lead_times_already_past_and_cancel_together() {
    let app = spawn_app_with(&[("JOB_WORKER", "false")]).await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    let leads = [chrono::Duration::hours(24), chrono::Duration::hours(1)];
    let draft = |key: &str| backend::notify::Draft {
        kind: domain::notify::NotificationKind::AppointmentReminder,
        title: "居住证办理".into(),
        body: String::new(),
        link: "/inbox".into(),
        key: key.into(),
    };
    // two days ahead: both reminders, at 24 h and 1 h before
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    assert_eq!(
        backend::notify::remind_before(&app.state.db, user.id, start, &leads, draft("appt-7")).await.unwrap(),
        2
    );
    let j = backend::jobs::find(&app.state.db, &format!("remind:{}:appt-7:1440m", user.id)).await.unwrap().unwrap();
    assert_eq!(j.run_at.timestamp(), (start - chrono::Duration::hours(24)).timestamp());
    // booked two hours ahead: only the 1 h reminder
    let soon = chrono::Utc::now() + chrono::Duration::hours(2);
    assert_eq!(backend::notify::remind_before(&app.state.db, user.id, soon, &leads, draft("appt-8")).await.unwrap(), 1);
    // the appointment is cancelled: its reminders go with it
    assert_eq!(backend::notify::cancel_reminders_before(&app.state.db, user.id, "appt-7", &leads).await.unwrap(), 2);
    let j = backend::jobs::find(&app.state.db, &format!("remind:{}:appt-7:60m", user.id)).await.unwrap().unwrap();
    assert_eq!(j.status, "cancelled");
}

#[tokio::test]
async fn the_same_notification_twice_is_one_inbox_item() {
    let app = spawn_app_with(&[("JOB_WORKER", "false")]).await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    let draft = backend::notify::Draft {
        kind: domain::notify::NotificationKind::System,
        title: "只来一次".into(),
        body: String::new(),
        link: "/inbox".into(),
        key: "once".into(),
    };
    let first = backend::notify::put(&app.state.db, user.id, draft.clone()).await.unwrap();
    assert!(first.is_some());
    assert_eq!(backend::notify::put(&app.state.db, user.id, draft).await.unwrap(), None);
    assert_eq!(inbox(&app, &resident).await["items"][0]["id"].as_i64(), first);
    assert_eq!(inbox(&app, &resident).await["total"], 1);
    // and one delivery job for it
    let job = backend::jobs::find(&app.state.db, &format!("deliver:{}", first.unwrap())).await.unwrap();
    assert!(job.is_some());
}
