//! SMS and WeChat subscription-message adapters against local fakes of the
//! gateway and of WeChat's API (no network calls).

use crate::helpers::*;
use crate::inbox::{eventually, publish};
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// Answers like an SMS gateway and like WeChat's token and bizsend endpoints.
async fn fakes() -> (String, Recorder) {
    fake_service(|r: &Recorded| {
        if r.path.starts_with("/cgi-bin/stable_token") {
            HttpResponse::Ok().json(json!({ "access_token": "TOKEN-1", "expires_in": 7200 }))
        } else if r.path.starts_with("/cgi-bin/message/subscribe/bizsend") {
            HttpResponse::Ok().json(json!({ "errcode": 0, "errmsg": "ok" }))
        } else {
            HttpResponse::Ok().json(json!({ "ok": true }))
        }
    })
    .await
}

/// JSON bodies of the requests to paths starting with `prefix`, with the
/// Authorization header as `_auth`.
fn calls(log: &Recorder, prefix: &str) -> Vec<Value> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|r| r.uri.starts_with(prefix))
        .map(|r| {
            let mut v = r.json();
            if let Some(o) = v.as_object_mut() {
                o.insert("_auth".into(), json!(r.header("authorization")));
            }
            v
        })
        .collect()
}

#[tokio::test]
async fn codes_and_opted_in_reminders_go_out_by_sms() {
    let (base, log) = fakes().await;
    let url = format!("{base}/sms");
    let app =
        spawn_app_with(&[("CODE_SENDER", "sms"), ("SMS_GATEWAY_URL", &url), ("SMS_GATEWAY_TOKEN", "gw-secret")]).await;
    let r = app.request_code(RESIDENT_A).await;
    assert_eq!(r.status(), 204);
    let sent = calls(&log, "/sms");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["phone"], RESIDENT_A);
    assert_eq!(sent[0]["template"], "login_code");
    assert_eq!(sent[0]["_auth"], "Bearer gw-secret");
    let code = sent[0]["params"]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(app.state.dev_sender.is_none(), "no development code page with a real sender");

    // log in with the code that went by SMS
    let r = app.post_json("/api/v1/auth/login", json!({ "phone": RESIDENT_A, "code": code })).await;
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let user = backend::auth::authenticate(&app.state, token["access_token"].as_str().unwrap()).await.unwrap();

    // SMS only for types that allow it and only when switched on
    let mut prefs = backend::notify::prefs(&app.state, &user).await.unwrap();
    for p in prefs.iter_mut() {
        p.sms = true; // announcements cannot have SMS whatever is asked
    }
    backend::notify::set_prefs(&app.state, &user, &prefs).await.unwrap();
    let staff = app.login_password(STAFF_A).await.access_token;
    publish(&app, &staff, app.org_id("阳光社区").await, "不发短信的公告", json!({})).await;
    let draft = backend::notify::Draft {
        kind: domain::notify::NotificationKind::AppointmentReminder,
        title: "明天9:00 居住证办理".into(),
        body: String::new(),
        link: "/inbox".into(),
        key: "appt-1".into(),
    };
    backend::notify::remind_at(&app.state.db, user.id, chrono::Utc::now(), draft).await.unwrap();
    app.state.jobs.kick();
    eventually("the reminder SMS", || async { calls(&log, "/sms").len() >= 2 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let sent = calls(&log, "/sms");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["template"], "appointment_reminder");
    assert_eq!(sent[1]["params"]["title"], "明天9:00 居住证办理");
    assert!(sent[1]["params"]["link"].as_str().unwrap().ends_with("/inbox"));
}

#[tokio::test]
async fn wechat_users_get_a_subscription_message() {
    let (base, log) = fakes().await;
    let app = spawn_app_with(&[
        ("WECHAT_APPID", "wx-test-app"),
        ("WECHAT_SECRET", "wx-test-secret"),
        ("WECHAT_API_BASE", &base),
        ("WECHAT_SUBSCRIBE_TEMPLATE", "TPL-123"),
    ])
    .await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    assert!(backend::wechat::bind(&app.state, user.id, "openid-resident-a").await.unwrap());
    let staff = app.login_password(STAFF_A).await.access_token;
    let id = publish(
        &app,
        &staff,
        app.org_id("阳光社区").await,
        "社区义诊活动报名开始啦请各位居民尽快报名参加谢谢",
        json!({}),
    )
    .await;
    eventually("the subscription message", || async { !calls(&log, "/cgi-bin/message/subscribe/bizsend").is_empty() })
        .await;
    let tokens = calls(&log, "/cgi-bin/stable_token");
    assert_eq!(tokens[0]["appid"], "wx-test-app");
    let sent = calls(&log, "/cgi-bin/message/subscribe/bizsend");
    let to_a: Vec<&Value> = sent.iter().filter(|m| m["touser"] == "openid-resident-a").collect();
    assert_eq!(to_a.len(), 1);
    let m = to_a[0];
    assert_eq!(m["template_id"], "TPL-123");
    assert!(m["page"].as_str().unwrap().ends_with(&format!("/announcements/{id}")));
    assert_eq!(m["data"]["thing1"]["value"].as_str().unwrap().chars().count(), 20, "thing fields are cut to 20");
    assert!(m["data"]["time2"]["value"].as_str().unwrap().starts_with("20"));
    // the token is fetched once and reused
    assert_eq!(tokens.len(), 1);
    assert!(log.lock().unwrap().iter().any(|r| r.uri.contains("access_token=TOKEN-1")));
}
