use crate::helpers::*;
use serde_json::json;

async fn publish(app: &TestApp, token: &str, org: i64, title: &str) -> reqwest::Response {
    app.post_bearer(
        "/api/v1/announcements",
        token,
        json!({"org_unit_id": org, "title": title, "body": "正文\n\n第二段"}),
    )
    .await
}

#[tokio::test]
async fn staff_publish_and_residents_read_with_unread_counts() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await;
    let resident = app.login_code(RESIDENT_A).await;
    let before: serde_json::Value =
        app.get_bearer("/api/v1/announcements", &resident.access_token).await.json().await.unwrap();
    let sunshine = app.org_id("阳光社区").await;
    let r = publish(&app, &staff.access_token, sunshine, "电梯维保通知").await;
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();

    let list: serde_json::Value =
        app.get_bearer("/api/v1/announcements", &resident.access_token).await.json().await.unwrap();
    assert_eq!(list["total"].as_u64().unwrap(), before["total"].as_u64().unwrap() + 1);
    assert_eq!(list["unread"].as_u64().unwrap(), before["unread"].as_u64().unwrap() + 1);
    assert!(list["items"].as_array().unwrap().iter().any(|a| a["title"] == "电梯维保通知"));

    let r = app.get_bearer(&format!("/api/v1/announcements/{id}"), &resident.access_token).await;
    assert_eq!(r.status(), 200);
    let a: serde_json::Value = r.json().await.unwrap();
    assert_eq!(a["body"], "正文\n\n第二段");
    assert_eq!(a["read"], true);
    let after: serde_json::Value =
        app.get_bearer("/api/v1/announcements", &resident.access_token).await.json().await.unwrap();
    assert_eq!(after["unread"].as_u64().unwrap(), before["unread"].as_u64().unwrap());
    // reading twice changes nothing
    app.get_bearer(&format!("/api/v1/announcements/{id}"), &resident.access_token).await;
    let again: serde_json::Value =
        app.get_bearer("/api/v1/announcements", &resident.access_token).await.json().await.unwrap();
    assert_eq!(again["unread"], after["unread"]);
}

#[tokio::test]
async fn street_notices_reach_every_community_of_the_street() {
    let app = spawn_app().await;
    let admin = app.login_password(ADMIN).await;
    let street = app.org_id("幸福街道").await;
    assert_eq!(publish(&app, &admin.access_token, street, "街道通知").await.status(), 201);
    for phone in [RESIDENT_A, RESIDENT_B] {
        let t = app.login_code(phone).await;
        let list: serde_json::Value =
            app.get_bearer("/api/v1/announcements", &t.access_token).await.json().await.unwrap();
        assert!(list["items"].as_array().unwrap().iter().any(|a| a["title"] == "街道通知"), "{phone}");
    }
}

#[tokio::test]
async fn other_communities_get_403_or_404() {
    let app = spawn_app().await;
    let staff_a = app.login_password(STAFF_A).await;
    let staff_b = app.login_password(STAFF_B).await;
    let resident_b = app.login_code(RESIDENT_B).await;
    let worker_a = app.login_code(WORKER_A).await;
    let sunshine = app.org_id("阳光社区").await;
    let street = app.org_id("幸福街道").await;
    let id =
        publish(&app, &staff_a.access_token, sunshine, "仅阳光社区").await.json::<serde_json::Value>().await.unwrap()
            ["id"]
            .as_i64()
            .unwrap();

    // staff of another community may not publish here, nor to the street above them
    assert_eq!(publish(&app, &staff_b.access_token, sunshine, "越权").await.status(), 403);
    assert_eq!(publish(&app, &staff_a.access_token, street, "越权").await.status(), 403);
    // residents and grid workers may not publish at all
    assert_eq!(publish(&app, &resident_b.access_token, sunshine, "越权").await.status(), 403);
    assert_eq!(publish(&app, &worker_a.access_token, sunshine, "越权").await.status(), 403);
    // a resident or staff member of another community cannot read it: it does not exist for them
    for t in [&resident_b.access_token, &staff_b.access_token] {
        let r = app.get_bearer(&format!("/api/v1/announcements/{id}"), t).await;
        assert_eq!(r.status(), 404);
        let list: serde_json::Value = app.get_bearer("/api/v1/announcements", t).await.json().await.unwrap();
        assert!(!list["items"].as_array().unwrap().iter().any(|a| a["id"] == id));
    }
    // the grid worker of that community can read it
    assert_eq!(app.get_bearer(&format!("/api/v1/announcements/{id}"), &worker_a.access_token).await.status(), 200);
}

#[tokio::test]
async fn anonymous_callers_get_401_everywhere() {
    let app = spawn_app().await;
    let c = reqwest::Client::new();
    for path in ["/api/v1/me", "/api/v1/announcements", "/api/v1/announcements/1"] {
        assert_eq!(c.get(app.url(path)).send().await.unwrap().status(), 401, "{path}");
    }
    let r = c
        .post(app.url("/api/v1/announcements"))
        .json(&json!({"org_unit_id": 1, "title": "x", "body": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn invalid_announcements_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let staff = app.login_password(STAFF_A).await;
    let sunshine = app.org_id("阳光社区").await;
    for (title, body, code) in [
        ("", "正文", "invalid_title"),
        (&"长".repeat(61)[..], "正文", "invalid_title"),
        ("标题", "   ", "invalid_body"),
    ] {
        let r = app
            .post_bearer(
                "/api/v1/announcements",
                &staff.access_token,
                json!({"org_unit_id": sunshine, "title": title, "body": body}),
            )
            .await;
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], code);
    }
    let r = app
        .post_bearer(
            "/api/v1/announcements",
            &staff.access_token,
            json!({"org_unit_id": 999999, "title": "t", "body": "b"}),
        )
        .await;
    assert_eq!(r.status(), 404);
}
