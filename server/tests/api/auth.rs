use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn health_check_reports_database_and_limiter() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let expected = if std::env::var("TEST_REDIS_URL").is_ok() { "redis" } else { "memory" };
    assert_eq!(v["rate_limits"], expected);
}

#[tokio::test]
async fn code_login_then_me_shows_masked_phone_and_roles() {
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    let r = app.get_bearer("/api/v1/me", &t.access_token).await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    assert_eq!(me["phone"], "138****0001");
    assert_eq!(me["roles"][0]["role"], "resident");
    assert_eq!(me["roles"][0]["org_name"], "阳光社区");
    let body = me.to_string();
    assert!(!body.contains(RESIDENT_A), "full phone number leaked: {body}");
}

#[tokio::test]
async fn first_code_login_registers_a_resident_without_roles() {
    let app = spawn_app().await;
    let t = app.login_code("13612345678").await;
    let me: serde_json::Value = app.get_bearer("/api/v1/me", &t.access_token).await.json().await.unwrap();
    assert_eq!(me["roles"].as_array().unwrap().len(), 0);
    // without a verified residence there is nothing to read
    let list: serde_json::Value = app.get_bearer("/api/v1/announcements", &t.access_token).await.json().await.unwrap();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn invalid_phone_is_a_clear_error_in_chinese_or_english() {
    let app = spawn_app().await;
    let r = app.request_code("12345").await;
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_phone");
    assert!(v["message"].as_str().unwrap().contains("手机号"));
    let r = app
        .client
        .post(app.url("/api/v1/auth/code"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .json(&json!({"phone": "12345"}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("mobile number"));
}

#[tokio::test]
async fn codes_are_rate_limited_per_phone() {
    let app = spawn_app().await;
    assert_eq!(app.request_code(RESIDENT_A).await.status(), 204);
    let r = app.request_code(RESIDENT_A).await;
    assert_eq!(r.status(), 429);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "rate_limited");
    // another number is not affected
    assert_eq!(app.request_code(RESIDENT_B).await.status(), 204);
}

#[tokio::test]
async fn wrong_codes_lock_the_code_after_five_attempts() {
    let app = spawn_app().await;
    app.request_code(RESIDENT_A).await;
    let good = app.last_code(RESIDENT_A);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    for i in 0..5 {
        let r = app.post_json("/api/v1/auth/login", json!({"phone": RESIDENT_A, "code": wrong})).await;
        let v: serde_json::Value = r.json().await.unwrap();
        let expected = if i < 4 { "invalid_code" } else { "too_many_attempts" };
        assert_eq!(v["error"], expected, "attempt {i}");
    }
    // now even the right code is refused
    let r = app.post_json("/api/v1/auth/login", json!({"phone": RESIDENT_A, "code": good})).await;
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn parallel_wrong_codes_are_compared_at_most_five_times() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app().await;
    app.request_code(RESIDENT_A).await;
    let good = app.last_code(RESIDENT_A);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let url = app.url("/api/v1/auth/login");
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&json!({"phone": RESIDENT_A, "code": wrong}))
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            v["error"].as_str().unwrap_or_default().to_string()
        }));
    }
    let mut compared_and_wrong = 0;
    for t in tasks {
        let e = t.await.unwrap();
        assert!(e == "invalid_code" || e == "too_many_attempts", "{e}");
        compared_and_wrong += (e == "invalid_code") as u32;
    }
    assert!(compared_and_wrong <= 5, "{compared_and_wrong} guesses were compared");
    let row = backend::entities::otp_code::Entity::find()
        .filter(backend::entities::otp_code::Column::Phone.eq(RESIDENT_A))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 5, "every attempt is claimed before it is compared, and no more than five are");
    let r = app.post_json("/api/v1/auth/login", json!({"phone": RESIDENT_A, "code": good})).await;
    assert_eq!(r.status(), 429, "the right code comes too late");
}

#[tokio::test]
async fn address_limits_believe_forwarded_headers_only_from_trusted_proxies() {
    // CODES_PER_HOUR=1: three codes an hour per client address
    let phones = ["13611110001", "13611110002", "13611110003", "13611110004", "13611110005"];
    let send = |app: &TestApp, phone: &'static str, xff: String| {
        let url = app.url("/api/v1/auth/code");
        async move {
            reqwest::Client::new()
                .post(url)
                .header("X-Forwarded-For", xff)
                .json(&json!({ "phone": phone }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // no trusted proxy: a client rotating the header is still one address
    let app = spawn_app_with(&[("CODES_PER_HOUR", "1")]).await;
    let mut statuses = vec![];
    for (i, phone) in phones.iter().enumerate() {
        statuses.push(send(&app, phone, format!("203.0.113.{i}")).await);
    }
    assert_eq!(statuses, [204, 204, 204, 429, 429], "X-Forwarded-For from anyone is not believed");
    // behind nginx on loopback: the right-most untrusted hop is the client
    let app = spawn_app_with(&[("CODES_PER_HOUR", "1"), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let mut statuses = vec![];
    for (i, phone) in phones.iter().enumerate() {
        // what the client wrote (rotating) on the left, what nginx appended on the right
        statuses.push(send(&app, phone, format!("198.18.0.{i}, 198.51.100.7")).await);
    }
    assert_eq!(statuses, [204, 204, 204, 429, 429], "a forged prefix changes nothing");
    let other = send(&app, "13611110006", "198.51.100.8".into()).await;
    assert_eq!(other, 204, "another real client has its own limit");
}

#[tokio::test]
async fn a_code_logs_in_once_even_when_sent_concurrently() {
    let app = spawn_app().await;
    app.request_code(RESIDENT_A).await;
    let code = app.last_code(RESIDENT_A);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let url = app.url("/api/v1/auth/login");
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"phone": RESIDENT_A, "code": code}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one login per code");
}

#[tokio::test]
async fn staff_password_login_and_lockout() {
    let app = spawn_app().await;
    app.login_password(STAFF_A).await;
    for i in 0..5 {
        let r = app.post_json("/api/v1/auth/password", json!({"phone": STAFF_B, "password": "wrong"})).await;
        let v: serde_json::Value = r.json().await.unwrap();
        let expected = if i < 4 { "invalid_credentials" } else { "account_locked" };
        assert_eq!(v["error"], expected, "attempt {i}");
    }
    // locked: even the right password is refused for now
    let r = app.post_json("/api/v1/auth/password", json!({"phone": STAFF_B, "password": PASSWORD})).await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "account_locked");
}

#[tokio::test]
async fn unknown_numbers_answer_wrong_passwords_as_real_accounts_do() {
    let app = spawn_app().await;
    let mut answers = vec![];
    for phone in [STAFF_B, "13611112222"] {
        let mut seq = vec![];
        for _ in 0..6 {
            let r = app.post_json("/api/v1/auth/password", json!({"phone": phone, "password": "wrong"})).await;
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            seq.push((status, v["error"].as_str().unwrap().to_string()));
        }
        answers.push(seq);
    }
    assert_eq!(answers[0], answers[1], "a real and an unknown number are told the same");
    assert_eq!(answers[1][4].1, "account_locked");
}

#[tokio::test]
async fn residents_and_unknown_numbers_cannot_use_passwords() {
    let app = spawn_app().await;
    for phone in [RESIDENT_A, "13611112222"] {
        let r = app.post_json("/api/v1/auth/password", json!({"phone": phone, "password": PASSWORD})).await;
        assert_eq!(r.status(), 401, "{phone}");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_login() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let first = app.login_code(RESIDENT_A).await;
    let r = app.post_json("/api/v1/auth/refresh", json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(r.status(), 200);
    let second: Tokens = r.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(app.get_bearer("/api/v1/me", &second.access_token).await.status(), 200);
    // the first refresh token is spent: presenting it again means it was copied
    let r = app.post_json("/api/v1/auth/refresh", json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(r.status(), 401);
    // ... and the whole family is gone, including the newest tokens
    let r = app.post_json("/api/v1/auth/refresh", json!({"refresh_token": second.refresh_token})).await;
    assert_eq!(r.status(), 401);
    assert_eq!(app.get_bearer("/api/v1/me", &second.access_token).await.status(), 401);
}

#[tokio::test]
async fn refresh_tokens_are_stored_hashed() {
    use backend::entities::refresh_token;
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    let rows = refresh_token::Entity::find().all(&app.state.db).await.unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.token_hash != t.refresh_token && r.token_hash.len() == 64));
}

#[tokio::test]
async fn logout_revokes_access_tokens_of_that_login() {
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    let other = app.login_password(STAFF_A).await;
    let r =
        reqwest::Client::new().post(app.url("/api/v1/auth/logout")).bearer_auth(&t.access_token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_bearer("/api/v1/me", &t.access_token).await.status(), 401);
    let r = app.post_json("/api/v1/auth/refresh", json!({"refresh_token": t.refresh_token})).await;
    assert_eq!(r.status(), 401);
    // other logins are untouched
    assert_eq!(app.get_bearer("/api/v1/me", &other.access_token).await.status(), 200);
}

#[tokio::test]
async fn forged_tokens_are_rejected() {
    use base64::Engine;
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = t.access_token.split('.').collect();
    // alg "none"
    let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_header}.{}.", parts[1]);
    // a changed payload with the old signature
    let mut claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!(1);
    let tampered = format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2]);
    // HS512 signed with the right secret: wrong algorithm
    let wrong_alg = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(app.state.config.jwt_secret.as_slice()),
    )
    .unwrap();
    // expired
    let mut old = claims.clone();
    old["sub"] = serde_json::from_slice::<serde_json::Value>(&b64.decode(parts[1]).unwrap()).unwrap()["sub"].clone();
    old["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &old,
        &jsonwebtoken::EncodingKey::from_secret(app.state.config.jwt_secret.as_slice()),
    )
    .unwrap();
    for (name, token) in [
        ("none", none),
        ("tampered", tampered),
        ("wrong alg", wrong_alg),
        ("expired", expired),
        ("garbage", "x.y.z".into()),
    ] {
        assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 401, "{name}");
    }
    assert_eq!(app.get_bearer("/api/v1/me", &t.access_token).await.status(), 200);
}
