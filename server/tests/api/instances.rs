//! Real server processes (the `zhsq` binary): a restart loses no scheduled
//! work, and two instances sharing PostgreSQL and Redis behave as one.

use crate::helpers::*;
use crate::inbox::Sse;
use serde_json::json;
use std::time::Duration;

struct Instance {
    child: tokio::process::Child,
    base: String,
}

impl Instance {
    async fn start(env: &[(String, String)]) -> Instance {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_zhsq"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("LOG", "warn")
            .env("HTTP_WORKERS", "1")
            .env("JOB_POLL_MS", "200")
            .env("SITE_ROOT", "../target/site")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(if std::env::var("TEST_LOG").is_ok() {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            })
            .kill_on_drop(true);
        let child = cmd.spawn().expect("start zhsq");
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
                if r.status() == 200 {
                    return Instance { child, base };
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("zhsq did not start on {base}");
    }

    /// kill -9: no shutdown, no cleanup.
    async fn kill(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

async fn shared_env(dir: &std::path::Path, redis: Option<String>) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABASE_URL".to_string(), database_url(dir).await),
        ("DATA_DIR".to_string(), dir.display().to_string()),
        ("JWT_SECRET".to_string(), "multi-instance-secret-0123456789abcdef-0123".to_string()),
        ("DATA_ENCRYPTION_KEY".to_string(), "0f".repeat(32)),
        ("DEMO_DATA".to_string(), "true".to_string()),
        ("DATABASE_MAX_CONNECTIONS".to_string(), "5".to_string()),
        ("JOB_LEASE_SECONDS".to_string(), "5".to_string()),
    ];
    if let Some(r) = redis {
        env.push(("REDIS_URL".to_string(), r));
        env.push(("REDIS_PREFIX".to_string(), format!("zhsq-mi-{}:", uuid::Uuid::new_v4().simple())));
    }
    env
}

async fn password_login(base: &str, phone: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/password"))
        .json(&json!({ "phone": phone, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {phone}");
    r.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// The same calls the in-process tests make, against any base URL.
fn at(base: &str) -> TestAppLike {
    TestAppLike { base: base.to_string() }
}

struct TestAppLike {
    base: String,
}

impl TestAppLike {
    async fn inbox_total(&self, token: &str) -> u64 {
        let r =
            reqwest::Client::new().get(format!("{}/api/v1/inbox", self.base)).bearer_auth(token).send().await.unwrap();
        r.json::<serde_json::Value>().await.unwrap()["total"].as_u64().unwrap()
    }
    async fn publish(&self, token: &str, org: i64, title: &str, extra: serde_json::Value) -> i64 {
        let mut body = json!({ "org_unit_id": org, "title": title, "body": "正文" });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/announcements", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn scheduled_work_survives_a_kill_and_fires_once_after_the_restart() {
    let dir = TempDir(std::env::temp_dir().join(format!("zhsq-restart-{}", uuid::Uuid::new_v4().simple())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let env = shared_env(&dir.0, None).await;
    let a = Instance::start(&env).await;
    let admin = password_login(&a.base, ADMIN).await;
    let staff = password_login(&a.base, STAFF_A).await;
    let sunshine = sunshine_id(&env).await;
    let at_time = chrono::Utc::now() + chrono::Duration::seconds(3);
    at(&a.base).publish(&admin, sunshine, "重启前定好的通知", json!({ "publish_at": at_time })).await;
    a.kill().await;

    tokio::time::sleep(Duration::from_secs(1)).await;
    let b = Instance::start(&env).await;
    let api = at(&b.base);
    for _ in 0..150 {
        if api.inbox_total(&staff).await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(api.inbox_total(&staff).await, 1, "fired after the restart");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(api.inbox_total(&staff).await, 1, "and only once");
    b.kill().await;
}

/// The id of 阳光社区, read from the shared database.
async fn sunshine_id(env: &[(String, String)]) -> i64 {
    use backend::entities::org_unit;
    use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
    let url = &env.iter().find(|(k, _)| k == "DATABASE_URL").unwrap().1;
    let db = Database::connect(url.as_str()).await.unwrap();
    let id = org_unit::Entity::find().filter(org_unit::Column::Name.eq("阳光社区")).one(&db).await.unwrap().unwrap().id;
    db.close().await.ok();
    id
}

#[tokio::test]
async fn two_instances_share_events_and_jobs_through_postgresql_and_redis() {
    let (Ok(redis), "postgres") = (std::env::var("TEST_REDIS_URL"), backend_name().as_str()) else {
        eprintln!("skipped: needs TEST_DATABASE=postgres and TEST_REDIS_URL (script/test runs it)");
        return;
    };
    let dir = TempDir(std::env::temp_dir().join(format!("zhsq-mi-{}", uuid::Uuid::new_v4().simple())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let env = shared_env(&dir.0, Some(redis)).await;
    let a = Instance::start(&env).await;
    let b = Instance::start(&env).await; // demo data is already there: B loads nothing
    let admin = password_login(&a.base, ADMIN).await;
    let staff = password_login(&b.base, STAFF_A).await;
    let sunshine = sunshine_id(&env).await;

    // a listener on B; the announcement is published through A
    let mut sse = Sse::connect(&b.base, &staff, None, &format!("?topics=org:{sunshine}")).await;
    assert_eq!(sse.next().await.event, "hello");
    at(&a.base).publish(&admin, sunshine, "经由A发布", json!({})).await;
    // both the inbox item and the community's announcement event, in either order
    let (mut inbox_seen, mut announcement_seen) = (false, false);
    while !(inbox_seen && announcement_seen) {
        let ev = sse.next().await;
        assert!(ev.data.contains("经由A发布"), "{ev:?}");
        inbox_seen |= ev.event == "inbox";
        announcement_seen |= ev.event == "announcement";
    }

    // work scheduled through A, then A is killed: B does it, once
    let when = chrono::Utc::now() + chrono::Duration::seconds(2);
    at(&a.base).publish(&admin, sunshine, "A死后由B发出", json!({ "publish_at": when })).await;
    a.kill().await;
    let ev = sse.next_of("inbox").await;
    assert!(ev.data.contains("A死后由B发出"), "{}", ev.data);
    let api = at(&b.base);
    assert_eq!(api.inbox_total(&staff).await, 2, "nothing lost, nothing twice");
    drop(sse);
    b.kill().await;
}
