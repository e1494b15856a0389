//! Web Push interoperability: our server encrypts and signs a notification
//! for a subscription made by an independent implementation (npm http_ece,
//! driven by end2end/tools/push-peer.mjs), a local push service receives it,
//! and the independent side decrypts it to the exact plaintext.

use crate::helpers::*;
use crate::inbox::{eventually, publish};
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// A push service: `/ok/*` accepts (201), `/gone/*` answers 410.
async fn push_service() -> (String, Recorder) {
    fake_service(|r: &Recorded| {
        if r.path.starts_with("/gone") {
            HttpResponse::Gone().finish()
        } else {
            HttpResponse::Created().finish()
        }
    })
    .await
}

fn node(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");
    let mut child = std::process::Command::new("node")
        .arg("tools/push-peer.mjs")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node (installed by script/setup with end2end's npm packages)");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "push-peer.mjs failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test]
async fn a_push_encrypted_by_us_is_decrypted_by_an_independent_implementation() {
    let app = spawn_app().await;
    let (service, got) = push_service().await;
    let keys: Value = serde_json::from_slice(&node(&["gen"], None)).unwrap();
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let staff = app.login_password(STAFF_A).await.access_token;

    let key: Value = app.get_bearer("/api/v1/push/key", &resident).await.json().await.unwrap();
    assert_eq!(key["enabled"], true);
    let public_key = key["public_key"].as_str().unwrap().to_string();

    // one live device and one whose subscription the push service has dropped
    for path in ["/ok/device-1", "/gone/device-2"] {
        let r = app
            .post_bearer(
                "/api/v1/push/subscriptions",
                &resident,
                json!({ "endpoint": format!("{service}{path}"),
                        "keys": { "p256dh": keys["p256dh"], "auth": keys["auth"] }, "device": "Android Chrome" }),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // bad subscriptions are refused at the edge
    let r = app
        .post_bearer(
            "/api/v1/push/subscriptions",
            &resident,
            json!({ "endpoint": "ftp://x/y", "keys": { "p256dh": keys["p256dh"], "auth": keys["auth"] } }),
        )
        .await;
    assert_eq!(r.status(), 400);

    let title = "明天上午9点至11点停水";
    let id = publish(&app, &staff, app.org_id("阳光社区").await, title, json!({})).await;
    eventually("two push requests", || async { got.lock().unwrap().len() >= 2 }).await;
    let received = got.lock().unwrap().clone();
    let ok = received.iter().find(|r| r.path == "/ok/device-1").expect("the live device got it");

    // RFC 8030 / 8291 / 8292 headers, TTL and urgency from the type (announcement)
    assert_eq!(ok.header("content-encoding"), "aes128gcm");
    assert_eq!(ok.header("ttl"), "86400");
    assert_eq!(ok.header("urgency"), "low");
    let auth = ok.header("authorization");
    assert!(auth.starts_with("vapid t="), "{auth}");
    let (t, k) = auth.trim_start_matches("vapid t=").split_once(", k=").unwrap();
    assert_eq!(k, public_key, "signed with the key browsers subscribed with");
    // the VAPID JWT verifies with that public key, for this push service's origin
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(k).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let dk = jsonwebtoken::DecodingKey::from_ec_components(&b64(&raw[1..33]), &b64(&raw[33..65])).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(t, &dk, &v).expect("a valid VAPID signature").claims;
    assert_eq!(claims["aud"], service.as_str(), "{claims}");
    assert_eq!(claims["sub"], "mailto:admin@localhost");

    // the independent implementation decrypts it to exactly what we meant
    let plain = node(&["decrypt", keys["private"].as_str().unwrap(), keys["auth"].as_str().unwrap()], Some(&ok.body));
    let msg: Value = serde_json::from_slice(&plain).expect("JSON plaintext");
    assert_eq!(msg["title"], title);
    assert_eq!(msg["link"], format!("/announcements/{id}"));
    assert_eq!(msg["body"], "正文");
    assert!(msg["tag"].as_str().unwrap().starts_with('n'));

    // the 410 subscription is gone; the live one stays
    // (the service answers before our worker removes it, so wait for that)
    let resident_user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    eventually("the gone subscription removed and the live one marked sent", || async {
        let d = backend::push::devices(&app.state, resident_user.id).await.unwrap();
        d.len() == 1 && d[0].last_sent_at.is_some()
    })
    .await;
    let devices = backend::push::devices(&app.state, resident_user.id).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert!(devices[0].endpoint.ends_with("/ok/device-1") && devices[0].last_sent_at.is_some());
}

#[tokio::test]
async fn push_follows_the_users_preferences_and_unsubscribing_stops_it() {
    let app = spawn_app().await;
    let (service, got) = push_service().await;
    let keys: Value = serde_json::from_slice(&node(&["gen"], None)).unwrap();
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let staff = app.login_password(STAFF_A).await.access_token;
    let endpoint = format!("{service}/ok/phone");
    let sub = json!({ "endpoint": endpoint, "keys": { "p256dh": keys["p256dh"], "auth": keys["auth"] } });
    assert_eq!(app.post_bearer("/api/v1/push/subscriptions", &resident, sub.clone()).await.status(), 201);

    // announcements switched off for push: the inbox still gets it, the phone does not
    let user = backend::auth::authenticate(&app.state, &resident).await.unwrap();
    let mut prefs = backend::notify::prefs(&app.state, &user).await.unwrap();
    for p in prefs.iter_mut() {
        p.push = p.kind != domain::notify::NotificationKind::Announcement;
    }
    backend::notify::set_prefs(&app.state, &user, &prefs).await.unwrap();
    publish(&app, &staff, app.org_id("阳光社区").await, "只进消息", json!({})).await;
    eventually("the inbox item", || async { crate::inbox::inbox(&app, &resident).await["total"] == 1 }).await;
    // the test push (a system message) does come through
    let r = app.post_bearer("/api/v1/push/test", &resident, json!({})).await;
    assert_eq!(r.status(), 202);
    eventually("the test push", || async { got.lock().unwrap().len() == 1 }).await;
    assert_eq!(got.lock().unwrap().len(), 1, "the announcement was not pushed");

    // unsubscribed: nothing more
    let r = reqwest::Client::new()
        .delete(app.url("/api/v1/push/subscriptions"))
        .bearer_auth(&resident)
        .json(&sub)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["removed"], true);
    app.post_bearer("/api/v1/push/test", &resident, json!({})).await;
    eventually("the second inbox item", || async { crate::inbox::inbox(&app, &resident).await["total"] == 3 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn push_goes_only_to_push_services_never_to_this_machine_or_its_network() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    // production: https only, the browsers' push services only
    let app = spawn_app_with(&[("PUSH_ALLOW_HTTP", "false"), ("PUSH_ALLOW_PRIVATE", "false")]).await;
    let keys: Value = serde_json::from_slice(&node(&["gen"], None)).unwrap();
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let subscribe = |endpoint: String| {
        let body = json!({ "endpoint": endpoint, "keys": { "p256dh": keys["p256dh"], "auth": keys["auth"] } });
        let token = resident.clone();
        let app = &app;
        async move { app.post_bearer("/api/v1/push/subscriptions", &token, body).await.status().as_u16() }
    };
    for bad in [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.8/x",
        "https://192.168.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://0.0.0.0/x",
        "https://push.attacker.example/x",
    ] {
        assert_eq!(subscribe(bad.to_string()).await, 400, "{bad}");
    }
    // one account keeps at most ten browsers: the eleventh and twelfth replace the oldest
    for i in 0..12 {
        assert_eq!(subscribe(format!("https://fcm.googleapis.com/fcm/send/device-{i}")).await, 201);
    }
    let uid = app.state.db.clone();
    let kept = backend::entities::push_subscription::Entity::find().count(&uid).await.unwrap();
    assert_eq!(kept, backend::push::MAX_SUBSCRIPTIONS_PER_USER);
    let newest = backend::entities::push_subscription::Entity::find()
        .filter(backend::entities::push_subscription::Column::Endpoint.contains("device-11"))
        .count(&uid)
        .await
        .unwrap();
    assert_eq!(newest, 1, "the newest browser is kept");

    // at send time too: a subscription to a private address (stored before
    // the policy, say) is never connected to, and is removed
    let app = spawn_app_with(&[("PUSH_ALLOW_PRIVATE", "false"), ("PUSH_SERVICE_HOSTS", "*")]).await;
    let (service, got) = push_service().await;
    let resident = app.login_code(RESIDENT_A).await.access_token;
    let staff = app.login_password(STAFF_A).await.access_token;
    let me: Value = app.get_bearer("/api/v1/me", &resident).await.json().await.unwrap();
    use sea_orm::ActiveModelTrait;
    backend::entities::push_subscription::ActiveModel {
        user_id: sea_orm::Set(me["id"].as_i64().unwrap()),
        endpoint: sea_orm::Set(format!("{service}/ok/inside")),
        p256dh: sea_orm::Set(keys["p256dh"].as_str().unwrap().to_string()),
        auth: sea_orm::Set(keys["auth"].as_str().unwrap().to_string()),
        device: sea_orm::Set("planted".into()),
        created_at: sea_orm::Set(chrono::Utc::now()),
        last_sent_at: sea_orm::Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    publish(&app, &staff, app.org_id("阳光社区").await, "停水通知", json!({})).await;
    eventually("the planted subscription removed", || async {
        backend::entities::push_subscription::Entity::find().count(&app.state.db).await.unwrap() == 0
    })
    .await;
    assert!(got.lock().unwrap().is_empty(), "nothing was sent to 127.0.0.1");
}
