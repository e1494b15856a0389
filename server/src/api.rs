//! REST routes for external clients (mobile apps, integrations): JSON in and
//! out, Bearer tokens. Errors are `{"error": code, "message": text}` with the
//! status from `ErrorCode::http_status`, in the caller's language.

use actix_web::{delete, get, post};
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
        let mut res = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unavailable {
            res.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
        }
        res.json(crate::openapi::ErrorBody::of(self.code, self.english))
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

/// The JSON API under /api/v1 (documented in /api/openapi.json).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .service(request_code)
            .service(login_code)
            .service(login_password)
            .service(refresh)
            .service(logout)
            .service(auth_me)
            .service(announcements_list)
            .service(announcements_publish)
            .service(announcements_read)
            .service(inbox)
            .service(inbox_read_all)
            .service(inbox_read)
            .service(crate::events::events_stream)
            .service(push_key)
            .service(push_subscribe)
            .service(push_unsubscribe)
            .service(push_test)
            .configure(crate::appointments::routes)
            .configure(crate::payments::routes)
            .configure(crate::votes::routes)
            .configure(crate::volunteer::routes)
            .configure(crate::patrol::routes)
            .configure(crate::patrol::exports),
    );
}

#[utoipa::path(get, tag = "push", summary = "Web Push: whether it is on and the VAPID public key", security(()), responses((status = 200, description = "`{enabled, public_key?}`", body = crate::openapi::PushKeyBody)))]
#[get("/push/key")]
async fn push_key(state: web::Data<State>) -> HttpResponse {
    match &state.push {
        Some(p) => HttpResponse::Ok().json(serde_json::json!({ "enabled": true, "public_key": p.vapid.public_key })),
        None => HttpResponse::Ok().json(serde_json::json!({ "enabled": false })),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PushKeys {
    p256dh: String,
    auth: String,
}

/// The browser's `PushSubscription.toJSON()`, plus a device label.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PushSubscriptionJson {
    endpoint: String,
    #[serde(default)]
    keys: Option<PushKeys>,
    #[serde(default)]
    device: String,
}

#[utoipa::path(post, tag = "push", summary = "Registers this browser for Web Push", request_body = PushSubscriptionJson, responses((status = 201, description = "`{subscribed: true}`", body = crate::openapi::SubscribedBody), crate::openapi::Refused))]
#[post("/push/subscriptions")]
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
        &state.config.push_policy(),
    )
    .map_err(|c| code_err(&req, c))?;
    backend::push::subscribe(&state, &u, sub).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "subscribed": true })))
}

#[utoipa::path(delete, tag = "push", summary = "Removes this browser's subscription", request_body = PushSubscriptionJson, responses((status = 200, description = "`{removed}`: whether there was one", body = crate::openapi::RemovedBody), crate::openapi::Refused))]
#[delete("/push/subscriptions")]
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
#[utoipa::path(post, tag = "push", summary = "Sends a test notification to the caller's devices", responses((status = 202, description = "`{queued: true}`", body = crate::openapi::QueuedBody), crate::openapi::Refused))]
#[post("/push/test")]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    limit: Option<u64>,
}

#[utoipa::path(get, tag = "inbox", summary = "The caller's inbox, newest first", params(InboxQuery), responses((status = 200, description = "a page of inbox items", body = backend::notify::Inbox), crate::openapi::Refused))]
#[get("/inbox")]
async fn inbox(req: HttpRequest, state: web::Data<State>, q: web::Query<InboxQuery>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let page = backend::notify::inbox(&state, &u, q.limit.unwrap_or(20), q.offset).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(post, tag = "inbox", summary = "Marks one item read; answers where it points", params(("id" = i64, Path, description = "inbox item")), responses((status = 200, description = "`{link}`", body = crate::openapi::LinkBody), crate::openapi::Refused))]
#[post("/inbox/{id}/read")]
async fn inbox_read(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let link = backend::notify::open(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "link": link })))
}

#[utoipa::path(post, tag = "inbox", summary = "Marks every item read", responses((status = 200, description = "`{marked: n}`", body = crate::openapi::MarkedBody), crate::openapi::Refused))]
#[post("/inbox/read-all")]
async fn inbox_read_all(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let n = backend::notify::mark_all_read(&state, &u).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "marked": n })))
}

/// `GET /inbox/{id}/open`: a plain link in the inbox page; marks the item
/// read and goes where it points (works without JavaScript).
#[utoipa::path(get, tag = "forms", summary = "Opens an inbox item from the page: marks it read and redirects", params(("id" = i64, Path, description = "inbox item")), responses((status = 303, description = "to the item's link, or to /login or /inbox with an error")))]
#[get("/inbox/{id}/open")]
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
#[utoipa::path(get, tag = "system", summary = "A trivial answer (the framework's ceiling in benchmarks)", security(()), responses((status = 200, description = "`pong`", body = String, content_type = "text/plain")))]
#[get("/ping")]
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("pong")
}

#[utoipa::path(get, tag = "system", summary = "Health: database reachable, where rate limits live", security(()), responses((status = 200, description = "`{status: ok, rate_limits}`", body = crate::openapi::HealthBody), (status = 503, description = "database unavailable", body = crate::openapi::HealthBody)))]
#[get("/healthz")]
pub async fn healthz(state: web::Data<State>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "rate_limits": state.limiter.backend()})),
        Err(_) => HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "database unavailable"})),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PhoneBody {
    phone: String,
}

#[utoipa::path(post, tag = "auth", summary = "Sends a one-time login code by SMS", request_body = PhoneBody, security(()), responses((status = 204, description = "sent"), crate::openapi::Refused))]
#[post("/auth/code")]
async fn request_code(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PhoneBody>,
) -> Result<HttpResponse, ApiError> {
    let ip = app::session::ssr::client_ip(&req);
    auth::request_code(&state, &body.phone, &ip).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CodeLogin {
    phone: String,
    code: String,
}

#[utoipa::path(post, tag = "auth", summary = "Logs in (or registers a resident) with a one-time code", request_body = CodeLogin, security(()), responses((status = 200, body = TokenResponse), crate::openapi::Refused))]
#[post("/auth/login")]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordLogin {
    phone: String,
    password: String,
}

#[utoipa::path(post, tag = "auth", summary = "Staff and admins: logs in with a password (residents and grid workers use one-time codes)", request_body = PasswordLogin, security(()), responses((status = 200, body = TokenResponse), crate::openapi::Refused))]
#[post("/auth/password")]
async fn login_password(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<PasswordLogin>,
) -> Result<HttpResponse, ApiError> {
    let ip = app::session::ssr::client_ip(&req);
    let s = auth::login_with_password(&state, &body.phone, &body.password, &ip).await.map_err(api_err(&req))?;
    Ok(tokens(s))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshBody {
    refresh_token: String,
}

#[utoipa::path(post, tag = "auth", summary = "Rotates the refresh token; a reused one revokes the whole login", request_body = RefreshBody, security(()), responses((status = 200, body = TokenResponse), crate::openapi::Refused))]
#[post("/auth/refresh")]
async fn refresh(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let s = auth::refresh(&state, &body.refresh_token).await.map_err(api_err(&req))?;
    Ok(tokens(s))
}

#[utoipa::path(post, tag = "auth", summary = "Revokes this login's tokens", responses((status = 204, description = "logged out"), crate::openapi::Refused))]
#[post("/auth/logout")]
async fn logout(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    auth::logout(&state, &u.session_id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    id: i64,
    name: String,
    /// masked: the API never returns a full phone number here
    phone: String,
    roles: Vec<RoleOut>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RoleOut {
    #[schema(value_type = String, example = "resident")]
    role: domain::Role,
    org_unit_id: i64,
    org_name: String,
}

#[utoipa::path(get, tag = "auth", summary = "Who is calling (phone masked) and their roles", responses((status = 200, body = Me), crate::openapi::Refused))]
#[get("/me")]
async fn auth_me(req: HttpRequest) -> Result<HttpResponse, ApiError> {
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    page: Option<u64>,
}

#[utoipa::path(get, tag = "announcements", summary = "Announcements the caller may read, a page at a time", params(PageQuery), responses((status = 200, description = "`{items, total, unread, page}`", body = crate::openapi::AnnouncementPageBody), crate::openapi::Refused))]
#[get("/announcements")]
async fn announcements_list(
    req: HttpRequest,
    state: web::Data<State>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let page = q.page.unwrap_or(0).min(backend::MAX_OFFSET);
    let size = app::announcements::PAGE_SIZE;
    let l = announcements::list(&state, &u, size, page.saturating_mul(size)).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(crate::openapi::AnnouncementPageBody {
        items: l.items.into_iter().map(app::announcements::to_view).collect(),
        total: l.total,
        unread: l.unread,
        page,
    }))
}

#[utoipa::path(get, tag = "announcements", summary = "One announcement (marks it read)", params(("id" = i64, Path, description = "announcement")), responses((status = 200, body = app::announcements::Announcement), crate::openapi::Refused))]
#[get("/announcements/{id}")]
async fn announcements_read(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let a = announcements::read(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(app::announcements::to_view(a)))
}

#[derive(Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(post, tag = "announcements", summary = "Staff: publishes (or schedules) an announcement", request_body = NewAnnouncement, responses((status = 201, description = "`{id}`", body = crate::openapi::CreatedBody), crate::openapi::Refused))]
#[post("/announcements")]
async fn announcements_publish(
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
#[utoipa::path(post, tag = "forms", summary = "The inbox settings form (checkboxes `push` and `sms`)", request_body(content = crate::openapi::InboxSettingsForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "back to /inbox/settings with `saved=1` or `error=`")))]
#[post("/inbox/settings")]
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
