//! What schemathesis (script/fuzz-api) found, kept as regressions: page
//! numbers and offsets beyond i64 (the query builder panicked), path segments
//! that are not what the route takes (actix's plain-text 404), a decoded path
//! that made an invalid Location header (500), and paths that match nothing
//! (an empty 404). Every such answer is our error shape.

use crate::helpers::*;

async fn error_of(r: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = r.text().await.unwrap();
    (status, ct, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

#[tokio::test]
async fn far_pages_and_offsets_are_empty_not_a_crash() {
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    for path in [
        "/api/v1/announcements?page=18446744073709551615",
        "/api/v1/announcements?page=9223372036854775807",
        "/api/v1/inbox?offset=18446744073709551615",
    ] {
        let r = app.get_bearer(path, &t.access_token).await;
        assert_eq!(r.status(), 200, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{path}: {v}");
    }
    // and the server is still there
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn unreadable_paths_queries_and_bodies_get_our_error_shape() {
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    // an id beyond i64 names nothing
    for path in ["/api/v1/votes/9223372036854775808", "/api/v1/volunteer/activities/-9223372036854775809/code"] {
        let (status, ct, v) = error_of(app.get_bearer(path, &t.access_token).await).await;
        assert_eq!((status, v["error"].as_str()), (404, Some("not_found")), "{path}: {v}");
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        assert_eq!(v["message"], "内容不存在或已删除");
    }
    // a query that does not parse
    let (status, _, v) =
        error_of(app.get_bearer("/api/v1/incidents/nearby?community_id=x&lat=1", &t.access_token).await).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_input")), "{v}");
    // JSON that is not JSON, in English when asked
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("Content-Type", "application/json")
        .header("Accept-Language", "en")
        .body("{\"phone\":")
        .send()
        .await
        .unwrap();
    let (status, _, v) = error_of(r).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_input")), "{v}");
    assert!(v["message"].as_str().unwrap().is_ascii(), "{v}");
    // Open311 keeps its own shape, in the format the path names
    let (status, ct, v) =
        error_of(app.client.get(app.url("/open311/v2/requests/-9223372036854775809.json")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(v[0]["code"], 404, "{v}");
    let r = app.client.get(app.url("/open311/v2/requests/99999999999999999999.xml")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("<errors><error><code>404</code>"));
}

#[tokio::test]
async fn a_redirect_to_a_strange_path_is_encoded_not_a_500() {
    let app = spawn_app().await;
    // the sandbox cashier of an order number holding a control character
    let r = app
        .client
        .post(app.url("/pay/sandbox/%C3%8F%C2%A5%0F"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/pay/sandbox/%C3%8F%C2%A5%0F");
}

#[tokio::test]
async fn a_path_that_matches_nothing_is_a_page_or_json_not_an_empty_answer() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/no/such/page")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let html = r.text().await.unwrap();
    assert!(html.contains("内容不存在或已删除") && html.contains("href=\"/\""), "{html}");
    let (status, _, v) = error_of(app.client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap()).await;
    assert_eq!((status, v["error"].as_str()), (404, Some("not_found")), "{v}");
}

/// The database going away (script/chaos restarts PostgreSQL for real): a
/// logged-in caller is asked to try again, 503 with Retry-After, and is not
/// logged out: no 401 to the app, no emptied cookies for the browser.
#[tokio::test]
async fn with_the_database_away_callers_are_asked_to_try_again_and_stay_logged_in() {
    let app = spawn_app().await;
    let t = app.login_code(RESIDENT_A).await;
    assert_eq!(app.get_bearer("/api/v1/me", &t.access_token).await.status(), 200);
    // every connection of the pool closed, as when the server is gone
    match app.state.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => app.state.db.get_postgres_connection_pool().close().await,
        _ => app.state.db.get_sqlite_connection_pool().close().await,
    }
    let r = app.get_bearer("/api/v1/me", &t.access_token).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let (_, _, v) = error_of(r).await;
    assert_eq!(v["error"], "unavailable", "{v}");
    assert!(v["message"].as_str().unwrap_or_default().contains("稍后重试"), "{v}");

    let r = reqwest::Client::new()
        .get(app.url("/bills"))
        .header("accept", "text/html")
        .header("cookie", format!("zhsq_at={}; zhsq_rt={}", t.access_token, t.refresh_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get_all("set-cookie").iter().next().is_none(), "the session cookies are left alone");
    let body = r.text().await.unwrap();
    assert!(body.contains("服务暂时不可用") && body.contains("<html"), "{body}");

    // an expired access cookie with a refresh cookie: the refresh cannot run either, and is not thrown away
    let r = reqwest::Client::new()
        .get(app.url("/bills"))
        .header("accept", "text/html")
        .header("cookie", format!("zhsq_rt={}", t.refresh_token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get_all("set-cookie").iter().next().is_none());
}
