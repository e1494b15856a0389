//! REST routes for external clients (mobile apps, integrations): JSON in and
//! out, Bearer tokens. Errors are `{"error": code, "message": text}` with the
//! status from `ErrorCode::http_status`, in the caller's language.

use actix_web::{http::StatusCode, web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use app::i18n::Lang;
use backend::{announcements, auth, AppError, State};
use domain::{
    text::{AnnouncementBody, AnnouncementTitle},
    ErrorCode,
};
use serde::{Deserialize, Serialize};

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    english: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": self.code.as_str(), "message": self.code.message(self.english) }))
    }
}

fn english(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| Lang::from_accept_language(v).is_en())
        .unwrap_or(false)
}

pub(crate) fn api_err(req: &HttpRequest) -> impl Fn(AppError) -> ApiError + '_ {
    move |e| {
        if let Some(c) = &e.cause {
            tracing::error!(code = %e.code, "api request failed: {c:#}");
        }
        ApiError { code: e.code, english: english(req) }
    }
}

pub(crate) fn code_err(req: &HttpRequest, code: ErrorCode) -> ApiError {
    ApiError { code, english: english(req) }
}

pub(crate) fn user(req: &HttpRequest) -> Result<auth::CurrentUser, ApiError> {
    req.extensions().get::<auth::CurrentUser>().cloned().ok_or_else(|| code_err(req, ErrorCode::NotLoggedIn))
}

pub fn scope() -> actix_web::Scope {
    web::scope("/api/v1")
        .route("/auth/code", web::post().to(request_code))
        .route("/auth/login", web::post().to(login_code))
        .route("/auth/password", web::post().to(login_password))
        .route("/auth/refresh", web::post().to(refresh))
        .route("/auth/logout", web::post().to(logout))
        .route("/me", web::get().to(me))
        .route("/announcements", web::get().to(list))
        .route("/announcements", web::post().to(publish))
        .route("/announcements/{id}", web::get().to(read))
        .route("/inbox", web::get().to(inbox))
        .route("/inbox/read-all", web::post().to(inbox_read_all))
        .route("/inbox/{id}/read", web::post().to(inbox_read))
        .route("/events", web::get().to(crate::events::stream))
        .route("/push/key", web::get().to(push_key))
        .route("/push/subscriptions", web::post().to(push_subscribe))
        .route("/push/subscriptions", web::delete().to(push_unsubscribe))
        .route("/push/test", web::post().to(push_test))
        .service(crate::appointments::scope())
        .service(crate::payments::scope())
        .service(crate::votes::scope())
        .service(crate::volunteer::scope())
        .service(crate::patrol::scope())
        .configure(crate::patrol::exports)
}

async fn push_key(state: web::Data<State>) -> HttpResponse {
    match &state.push {
        Some(p) => HttpResponse::Ok().json(serde_json::json!({ "enabled": true, "public_key": p.vapid.public_key })),
        None => HttpResponse::Ok().json(serde_json::json!({ "enabled": false })),
    }
}

#[derive(Deserialize)]
pub struct PushKeys {
    p256dh: String,
    auth: String,
}

/// The browser's `PushSubscription.toJSON()`, plus a device label.
#[derive(Deserialize)]
pub struct PushSubscriptionJson {
    endpoint: String,
    #[serde(default)]
    keys: Option<PushKeys>,
    #[serde(default)]
    device: String,
}

async fn push_subscribe(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PushSubscriptionJson>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    if state.push.is_none() {
        return Err(code_err(&req, ErrorCode::Forbidden));
    }
    let b = body.into_inner();
    let keys = b.keys.ok_or_else(|| code_err(&req, ErrorCode::InvalidInput))?;
    let sub = backend::push::NewSubscription::parse(
        &b.endpoint,
        &keys.p256dh,
        &keys.auth,
        &b.device,
        state.config.push_allow_http,
    )
    .map_err(|c| code_err(&req, c))?;
    backend::push::subscribe(&state, &u, sub).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "subscribed": true })))
}

async fn push_unsubscribe(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PushSubscriptionJson>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let removed = backend::push::unsubscribe(&state, &u, &body.endpoint).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "removed": removed })))
}

/// Sends a test notification to the user's own devices (through the inbox,
/// like every other notification).
async fn push_test(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let allowed = state
        .limiter
        .hit(&format!("push-test:{}", u.id), 5, std::time::Duration::from_secs(3600))
        .await
        .map_err(api_err(&req))?;
    if !allowed {
        return Err(code_err(&req, ErrorCode::RateLimited));
    }
    let draft = backend::notify::Draft {
        kind: domain::notify::NotificationKind::System,
        title: "推送测试 / Test".into(),
        body: "收到这条,说明本设备的推送已开启。".into(),
        link: "/inbox/settings".into(),
        key: format!("push-test:{}", uuid::Uuid::new_v4().simple()),
    };
    backend::notify::put(&state.db, u.id, draft).await.map_err(api_err(&req))?;
    state.jobs.kick();
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "queued": true })))
}

#[derive(Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    limit: Option<u64>,
}

async fn inbox(req: HttpRequest, state: web::Data<State>, q: web::Query<InboxQuery>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let page = backend::notify::inbox(&state, &u, q.limit.unwrap_or(20), q.offset).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(page))
}

async fn inbox_read(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let link = backend::notify::open(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "link": link })))
}

async fn inbox_read_all(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let n = backend::notify::mark_all_read(&state, &u).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "marked": n })))
}

/// `GET /inbox/{id}/open`: a plain link in the inbox page; marks the item
/// read and goes where it points (works without JavaScript).
pub async fn open_inbox_item(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> HttpResponse {
    let Ok(u) = user(&req) else {
        return HttpResponse::SeeOther().insert_header(("Location", "/login?next=/inbox")).finish();
    };
    match backend::notify::open(&state, &u, id.into_inner()).await {
        Ok(link) => HttpResponse::SeeOther().insert_header(("Location", link)).finish(),
        Err(_) => HttpResponse::SeeOther().insert_header(("Location", "/inbox?error=not_found")).finish(),
    }
}

/// A trivial handler: the framework's ceiling in benchmarks.
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("pong")
}

pub async fn healthz(state: web::Data<State>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "rate_limits": state.limiter.backend()})),
        Err(_) => HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "database unavailable"})),
    }
}

#[derive(Deserialize)]
pub struct PhoneBody {
    phone: String,
}

async fn request_code(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PhoneBody>,
) -> Result<HttpResponse, ApiError> {
    let ip = req.connection_info().realip_remote_addr().unwrap_or("unknown").to_string();
    auth::request_code(&state, &body.phone, &ip).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct TokenResponse {
    token_type: &'static str,
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    refresh_expires_in: u64,
}

fn tokens(s: auth::Session) -> HttpResponse {
    HttpResponse::Ok().json(TokenResponse {
        token_type: "Bearer",
        access_token: s.access_token,
        expires_in: s.access_expires_in.as_secs(),
        refresh_token: s.refresh_token,
        refresh_expires_in: s.refresh_expires_in.as_secs(),
    })
}

#[derive(Deserialize)]
pub struct CodeLogin {
    phone: String,
    code: String,
}

async fn login_code(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<CodeLogin>,
) -> Result<HttpResponse, ApiError> {
    let s = auth::login_with_code(&state, &body.phone, &body.code, auth::CodePurpose::ResidentOrRegister)
        .await
        .map_err(api_err(&req))?;
    Ok(tokens(s))
}

#[derive(Deserialize)]
pub struct PasswordLogin {
    phone: String,
    password: String,
}

async fn login_password(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PasswordLogin>,
) -> Result<HttpResponse, ApiError> {
    let ip = req.connection_info().realip_remote_addr().unwrap_or("unknown").to_string();
    let s = auth::login_with_password(&state, &body.phone, &body.password, &ip).await.map_err(api_err(&req))?;
    Ok(tokens(s))
}

#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let s = auth::refresh(&state, &body.refresh_token).await.map_err(api_err(&req))?;
    Ok(tokens(s))
}

async fn logout(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    auth::logout(&state, &u.session_id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct Me {
    id: i64,
    name: String,
    /// masked: the API never returns a full phone number here
    phone: String,
    roles: Vec<RoleOut>,
}

#[derive(Serialize)]
struct RoleOut {
    role: domain::Role,
    org_unit_id: i64,
    org_name: String,
}

async fn me(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(Me {
        id: u.id,
        name: u.name.clone(),
        phone: u.phone.masked(),
        roles: u
            .grants
            .iter()
            .map(|g| RoleOut { role: g.role, org_unit_id: g.org_unit_id, org_name: g.org_name.clone() })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u64>,
}

async fn list(req: HttpRequest, state: web::Data<State>, q: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let page = q.page.unwrap_or(0);
    let size = app::announcements::PAGE_SIZE;
    let l = announcements::list(&state, &u, size, page * size).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "items": l.items.into_iter().map(app::announcements::to_view).collect::<Vec<_>>(),
        "total": l.total,
        "unread": l.unread,
        "page": page,
    })))
}

async fn read(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let a = announcements::read(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(app::announcements::to_view(a)))
}

#[derive(Deserialize)]
pub struct NewAnnouncement {
    org_unit_id: i64,
    title: String,
    body: String,
    #[serde(default)]
    pinned: bool,
    /// RFC 3339; absent publishes now.
    #[serde(default)]
    publish_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn publish(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<NewAnnouncement>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let b = body.into_inner();
    let new = announcements::NewAnnouncement {
        org_unit_id: b.org_unit_id,
        title: AnnouncementTitle::parse(&b.title).map_err(|c| code_err(&req, c))?,
        body: AnnouncementBody::parse(&b.body).map_err(|c| code_err(&req, c))?,
        pinned: b.pinned,
        publish_at: b.publish_at,
    };
    let id = announcements::publish(&state, &u, new).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id })))
}

/// `POST /inbox/settings`: the settings form (checkboxes `push` and `sms`,
/// one value per type that is on).
pub async fn save_inbox_settings(
    req: HttpRequest,
    state: web::Data<State>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    use domain::notify::{NotificationKind, Pref};
    let Ok(u) = user(&req) else {
        return HttpResponse::SeeOther().insert_header(("Location", "/login?next=/inbox/settings")).finish();
    };
    let on = |field: &str, k: NotificationKind| form.iter().any(|(f, v)| f == field && v == k.as_str());
    let prefs: Vec<Pref> =
        NotificationKind::ALL.into_iter().map(|k| Pref { kind: k, push: on("push", k), sms: on("sms", k) }).collect();
    let to = match backend::notify::set_prefs(&state, &u, &prefs).await {
        Ok(()) => "/inbox/settings?saved=1".to_string(),
        Err(e) => {
            let code = api_err(&req)(e).code;
            format!("/inbox/settings?error={}", code.as_str())
        }
    };
    HttpResponse::SeeOther().insert_header(("Location", to)).finish()
}
