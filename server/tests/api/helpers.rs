use backend::Config;
use server::Application;
use std::collections::HashMap;

pub const RESIDENT_A: &str = "13800000001"; // 阳光社区
pub const RESIDENT_B: &str = "13800000002"; // 和谐社区
pub const STAFF_A: &str = "13900000002"; // 阳光社区
pub const STAFF_B: &str = "13900000003"; // 和谐社区
pub const ADMIN: &str = "13900000001"; // 幸福街道
pub const WORKER_A: &str = "13700000001";
pub const PASSWORD: &str = backend::demo::DEMO_PASSWORD;

pub struct TestApp {
    pub address: String,
    pub state: backend::State,
    pub client: reqwest::Client,
    _data_dir: TempDir,
}

pub struct TempDir(pub std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn backend_name() -> String {
    std::env::var("TEST_DATABASE").unwrap_or_else(|_| "sqlite".into())
}

pub async fn database_url(dir: &std::path::Path) -> String {
    match backend_name().as_str() {
        "postgres" => {
            use sea_orm::{ConnectionTrait, Database};
            let admin =
                std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let name = format!("zhsq_t_{}", uuid::Uuid::new_v4().simple());
            let db = Database::connect(&admin).await.expect("connect to PostgreSQL admin database");
            db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            db.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}/test.db", dir.display()),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber_init();
    }
    let dir = std::env::temp_dir().join(format!("zhsq-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("DATABASE_URL".into(), database_url(&dir).await);
    env.insert("DATA_DIR".into(), dir.display().to_string());
    env.insert("BIND".into(), "127.0.0.1:0".into());
    env.insert("JWT_SECRET".into(), "test-secret-test-secret-test-secret-0123456789".into());
    env.insert("DEMO_DATA".into(), "true".into());
    env.insert("DATABASE_MAX_CONNECTIONS".into(), "5".into());
    env.insert("SITE_ROOT".into(), "../target/site".into());
    env.insert("HTTP_WORKERS".into(), "1".into());
    env.insert("JOB_POLL_MS".into(), "100".into());
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        env.insert("REDIS_URL".into(), redis);
        env.insert("REDIS_PREFIX".into(), format!("zhsq-test-{}:", uuid::Uuid::new_v4().simple()));
    }
    for (k, v) in extra {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
    let app = Application::build(config).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port);
    let state = app.state.clone();
    tokio::spawn(app.into_server());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    TestApp { address, state, client, _data_dir: TempDir(dir) }
}

fn tracing_subscriber_init() -> Result<(), ()> {
    Ok(())
}

#[derive(Debug, serde::Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn last_code(&self, phone: &str) -> String {
        self.state.dev_sender.as_ref().and_then(|s| s.latest_for(phone)).expect("a code was sent")
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(&body).send().await.expect("request")
    }

    pub async fn request_code(&self, phone: &str) -> reqwest::Response {
        self.post_json("/api/v1/auth/code", serde_json::json!({ "phone": phone })).await
    }

    /// Logs in through the JSON API with a code; returns the tokens.
    pub async fn login_code(&self, phone: &str) -> Tokens {
        let r = self.request_code(phone).await;
        assert_eq!(r.status(), 204, "request code for {phone}");
        let code = self.last_code(phone);
        let r = self.post_json("/api/v1/auth/login", serde_json::json!({ "phone": phone, "code": code })).await;
        assert_eq!(r.status(), 200, "login {phone}");
        r.json().await.expect("tokens")
    }

    pub async fn login_password(&self, phone: &str) -> Tokens {
        let r =
            self.post_json("/api/v1/auth/password", serde_json::json!({ "phone": phone, "password": PASSWORD })).await;
        assert_eq!(r.status(), 200, "password login {phone}");
        r.json().await.expect("tokens")
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        reqwest::Client::new().get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post_bearer(&self, path: &str, token: &str, body: serde_json::Value) -> reqwest::Response {
        reqwest::Client::new().post(self.url(path)).bearer_auth(token).json(&body).send().await.expect("request")
    }

    /// The org unit id of a named node of the demo tree.
    pub async fn org_id(&self, name: &str) -> i64 {
        use backend::entities::org_unit;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        org_unit::Entity::find()
            .filter(org_unit::Column::Name.eq(name))
            .one(&self.state.db)
            .await
            .expect("query")
            .expect("org exists")
            .id
    }
}

/// One request a fake outside service received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Path with query string.
    pub uri: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub type Recorder = std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>;

/// A local fake of an outside HTTP service (push service, SMS gateway,
/// WeChat): records every request and answers with `answer`.
pub async fn fake_service<F>(answer: F) -> (String, Recorder)
where
    F: Fn(&Recorded) -> actix_web::HttpResponse + Clone + Send + 'static,
{
    use actix_web::{web, App, HttpRequest, HttpServer};
    let got: Recorder = Default::default();
    let log = got.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        let answer = answer.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let r = Recorded {
                uri: req.uri().to_string(),
                path: req.path().to_string(),
                headers: req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect(),
                body: body.to_vec(),
            };
            let res = answer(&r);
            log.lock().unwrap().push(r);
            async move { res }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind a fake service");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{addr}"), got)
}
