//! WeChat OAuth (snsapi_base) against a local fake of WeChat's token endpoint.

use crate::helpers::*;
use crate::pages::{browser, location};
use actix_web::{web, App, HttpResponse, HttpServer};
use std::collections::HashMap;

/// Plays https://api.weixin.qq.com/sns/oauth2/access_token: code "good-…"
/// gives openid "o-…"; anything else is WeChat's invalid-code error.
async fn spawn_fake_wechat() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new().route(
            "/sns/oauth2/access_token",
            web::get().to(|q: web::Query<HashMap<String, String>>| async move {
                let ok = q.get("appid").map(String::as_str) == Some("wx-test-app")
                    && q.get("secret").map(String::as_str) == Some("wx-test-secret")
                    && q.get("grant_type").map(String::as_str) == Some("authorization_code");
                match q.get("code").and_then(|c| c.strip_prefix("good-")) {
                    Some(who) if ok => HttpResponse::Ok().json(serde_json::json!({
                        "access_token": "ACCESS", "expires_in": 7200, "refresh_token": "REFRESH",
                        "openid": format!("o-{who}"), "scope": "snsapi_base"
                    })),
                    _ => HttpResponse::Ok().json(serde_json::json!({"errcode": 40029, "errmsg": "invalid code"})),
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

async fn wechat_app() -> TestApp {
    let fake = spawn_fake_wechat().await;
    spawn_app_with(&[("WECHAT_APPID", "wx-test-app"), ("WECHAT_SECRET", "wx-test-secret"), ("WECHAT_API_BASE", &fake)])
        .await
}

/// Starts the login and returns the state WeChat would echo back.
async fn start(b: &crate::pages::Browser<'_>, app: &TestApp, next: &str) -> String {
    let r = b.client().get(app.url(&format!("/auth/wechat?next={next}"))).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let to = location(&r);
    assert!(to.starts_with("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx-test-app&"), "{to}");
    assert!(to.contains("scope=snsapi_base") && to.ends_with("#wechat_redirect"));
    assert!(to.contains(&format!(
        "redirect_uri={}",
        backend::url::form_urlencoded::byte_serialize(app.url("/auth/wechat/callback").as_bytes()).collect::<String>()
    )));
    let state = to.split("state=").nth(1).unwrap().split(['&', '#']).next().unwrap().to_string();
    state
}

#[tokio::test]
async fn first_wechat_login_binds_after_a_phone_login_then_logs_in_silently() {
    let app = wechat_app().await;
    let b = browser(&app).await;
    let state = start(&b, &app, "/announcements").await;
    let r =
        b.client().get(app.url(&format!("/auth/wechat/callback?code=good-chen&state={state}"))).send().await.unwrap();
    let to = location(&r);
    assert!(to.starts_with("/login?wechat=bind"), "{to}");
    let (_, html) = b.page(&to).await;
    assert!(html.contains("首次使用微信登录"));
    b.code_login(RESIDENT_A).await;
    let bound = backend::wechat::user_by_openid(&app.state, "o-chen").await.unwrap().expect("openid bound");
    assert_eq!(bound.phone, RESIDENT_A);

    // a new browser inside WeChat: no phone needed any more
    let b2 = browser(&app).await;
    let state = start(&b2, &app, "/announcements").await;
    let r =
        b2.client().get(app.url(&format!("/auth/wechat/callback?code=good-chen&state={state}"))).send().await.unwrap();
    assert_eq!(location(&r), "/announcements");
    let (status, html) = b2.page("/announcements").await;
    assert_eq!(status, 200);
    assert!(html.contains("本周六上午社区义诊活动"));
}

#[tokio::test]
async fn a_forged_state_or_a_bad_code_fails_cleanly() {
    let app = wechat_app().await;
    let b = browser(&app).await;
    let state = start(&b, &app, "/").await;
    let r = b.client().get(app.url("/auth/wechat/callback?code=good-x&state=forged")).send().await.unwrap();
    assert_eq!(location(&r), "/login?error=wechat_failed");
    let state2 = start(&b, &app, "/").await;
    assert_ne!(state, state2);
    let r = b.client().get(app.url(&format!("/auth/wechat/callback?code=bad&state={state2}"))).send().await.unwrap();
    assert_eq!(location(&r), "/login?error=wechat_failed");
    let (_, html) = b.page("/login?error=wechat_failed").await;
    assert!(html.contains("微信登录未成功"));
    // nobody got logged in
    let r = b.client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
}

#[tokio::test]
async fn without_configuration_there_is_no_wechat_login() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/auth/wechat")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
