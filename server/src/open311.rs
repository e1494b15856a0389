//! Open311 GeoReport v2 endpoints under `/open311/v2/`, in JSON or XML by
//! the path's extension, with the standard's error format
//! (`[{"code": 400, "description": "…"}]`). See `backend::open311`.

use actix_web::{get, post};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use backend::{open311, support::xml::Xml, State};
use domain::{incidents::Category, ErrorCode};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Xml,
}

fn format(ext: &str) -> Option<Format> {
    match ext {
        "json" => Some(Format::Json),
        "xml" => Some(Format::Xml),
        _ => None,
    }
}

fn xml_value(x: &mut Xml, name: &str, v: &Value) {
    match v {
        Value::Null => {
            x.empty(name, &[]);
        }
        Value::Array(items) => {
            x.open(name, &[]);
            for i in items {
                xml_value(x, "value", i);
            }
            x.close(name);
        }
        Value::Object(m) => {
            x.open(name, &[]);
            for (k, v) in m {
                xml_value(x, k, v);
            }
            x.close(name);
        }
        Value::String(s) => {
            x.text(name, s);
        }
        other => {
            x.text(name, &other.to_string());
        }
    }
}

/// A list in the standard's shapes: a JSON array, or `<root><item>…</item></root>`.
/// An Open311 error, as GeoReport v2 shapes it (always inside an array).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Open311Error {
    /// the HTTP status
    code: u16,
    description: &'static str,
}

fn answer(status: StatusCode, fmt: Format, root: &str, item: &str, items: Value) -> HttpResponse {
    match fmt {
        Format::Json => HttpResponse::build(status).content_type("application/json; charset=utf-8").json(items),
        Format::Xml => {
            let mut x = Xml::compact();
            x.open(root, &[]);
            for i in items.as_array().map(Vec::as_slice).unwrap_or_default() {
                xml_value(&mut x, item, i);
            }
            x.close(root);
            HttpResponse::build(status).content_type("text/xml; charset=utf-8").body(x.finish())
        }
    }
}

fn error(fmt: Format, code: ErrorCode, status: u16) -> HttpResponse {
    let s = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let description = match code {
        // the shared message speaks of the figures' periods; say what Open311's filters take
        ErrorCode::InvalidDateRange => {
            "start_date / end_date 有误:请用 ISO 8601(如 2026-12-04T09:00:00+08:00),结束不早于开始,相隔不超过90天"
        }
        _ => code.message(false),
    };
    let body = [Open311Error { code: status, description }];
    answer(s, fmt, "errors", "error", serde_json::to_value(body).unwrap_or(Value::Null))
}

/// Open311 speaks 400 (bad request), 403 (bad key) and 404 (not found).
fn refuse(fmt: Format, code: ErrorCode) -> HttpResponse {
    let status = match code {
        ErrorCode::NotFound => 404,
        ErrorCode::Forbidden | ErrorCode::NotLoggedIn | ErrorCode::CrossSite => 403,
        ErrorCode::TooLarge => 413,
        ErrorCode::Internal => 500,
        ErrorCode::Unavailable => 503,
        _ => 400,
    };
    if code == ErrorCode::Internal {
        tracing::error!("open311: internal error");
    }
    error(fmt, code, status)
}

/// A refusal before the handler ran (see `security::refusal`), as Open311
/// shapes errors: in the format the path asks for, JSON when it names none.
pub fn refusal(req: &HttpRequest, code: ErrorCode) -> HttpResponse {
    let fmt = if req.path().ends_with(".xml") { Format::Xml } else { Format::Json };
    refuse(fmt, code)
}

fn bad_format() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json; charset=utf-8")
        .json([Open311Error { code: 404, description: "format must be json or xml" }])
}

fn english(req: &HttpRequest) -> bool {
    req.headers().get("accept-language").and_then(|v| v.to_str().ok()).is_some_and(|l| l.trim_start().starts_with("en"))
}

/// GET /open311/v2/services.{fmt}
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2: the service list (incident categories)", params(("fmt" = String, Path, description = "`json` or `xml`"), ("jurisdiction_id" = Option<String>, Query, description = "ignored: one jurisdiction")), security(()), responses((status = 200, description = "JSON (an array) or XML as the standard shapes it", content(([backend::open311::ServiceOut] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/services.{fmt}")]
pub async fn open311_services(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(fmt) = format(&path) else { return bad_format() };
    let items = serde_json::to_value(open311::services(english(&req))).unwrap_or(Value::Null);
    answer(StatusCode::OK, fmt, "services", "service", items)
}

/// A service definition: no service has extra attributes.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Open311ServiceDefinition {
    service_code: &'static str,
    /// always empty
    attributes: Vec<serde_json::Value>,
}

/// What filing a request answers (inside an array, as the standard has it).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Open311Created {
    service_request_id: String,
    /// finds the request again at `tokens/{token}` (this key only)
    token: String,
    service_notice: &'static str,
    /// always null: no accounts
    account_id: Option<String>,
}

/// The request a token became.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Open311TokenFound {
    service_request_id: String,
    token: String,
}

/// GET /open311/v2/services/{code}.{fmt}: no extra attributes for any service.
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2: one service's definition (no extra attributes)", params(("code" = String, Path, description = "service code"), ("fmt" = String, Path, description = "`json` or `xml`")), security(()), responses((status = 200, description = "JSON or XML as the standard shapes it", content((Open311ServiceDefinition = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/services/{code}.{fmt}")]
pub async fn open311_service(path: web::Path<(String, String)>) -> HttpResponse {
    let (code, ext) = path.into_inner();
    let Some(fmt) = format(&ext) else { return bad_format() };
    let Some(c) = Category::parse(&code) else { return refuse(fmt, ErrorCode::NotFound) };
    let def = serde_json::to_value(Open311ServiceDefinition { service_code: c.as_str(), attributes: vec![] })
        .unwrap_or(Value::Null);
    match fmt {
        Format::Json => HttpResponse::Ok().content_type("application/json; charset=utf-8").json(def),
        Format::Xml => {
            let mut x = Xml::compact();
            xml_value(&mut x, "service_definition", &def);
            HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(x.finish())
        }
    }
}

/// The answer's format and the client behind `api_key`, or the answer refusing them.
async fn begin(state: &State, ext: &str, key: Option<&String>) -> Result<(Format, open311::Client), HttpResponse> {
    let Some(fmt) = format(ext) else { return Err(bad_format()) };
    match open311::client(state, key.map(String::as_str)).await {
        Ok(Some(c)) => Ok((fmt, c)),
        Ok(None) => Err(error(fmt, ErrorCode::Forbidden, 403)),
        Err(e) => Err(refuse(fmt, e.code)),
    }
}

/// A list of requests (or updates) as the standard shapes it, or the refusal.
fn listed<T: serde::Serialize>(fmt: Format, root: &str, item: &str, rows: backend::AppResult<Vec<T>>) -> HttpResponse {
    match rows {
        Ok(rows) => answer(StatusCode::OK, fmt, root, item, serde_json::to_value(rows).unwrap_or(Value::Null)),
        Err(e) => refuse(fmt, e.code),
    }
}

/// POST /open311/v2/requests.{fmt} (form-encoded, with `api_key`).
#[utoipa::path(post, tag = "open311", summary = "GeoReport v2: files a service request (form-encoded, with api_key)", params(("fmt" = String, Path, description = "`json` or `xml`")), request_body(content = crate::openapi::Open311RequestForm, content_type = "application/x-www-form-urlencoded"), security(()), responses((status = 201, description = "JSON (an array) or XML as the standard shapes it", content(([Open311Created] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[post("/open311/v2/requests.{fmt}")]
pub async fn open311_create(
    state: web::Data<State>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let fields: HashMap<String, String> = form.into_inner().into_iter().collect();
    let (fmt, c) = match begin(&state, &path, fields.get("api_key")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match open311::create(&state, &c, &fields).await {
        Ok((id, token)) => answer(
            StatusCode::CREATED,
            fmt,
            "service_requests",
            "request",
            serde_json::to_value([Open311Created {
                service_request_id: id.to_string(),
                token,
                service_notice: "社区将尽快受理",
                account_id: None,
            }])
            .unwrap_or(Value::Null),
        ),
        Err(e) => refuse(fmt, e.code),
    }
}

/// GET /open311/v2/requests.{fmt}
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2: service requests filed with this key", params(("fmt" = String, Path, description = "`json` or `xml`"), ("api_key" = Option<String>, Query, description = "the client's Open311 key"), ("service_request_id" = Option<String>, Query, description = "comma-separated ids"), ("service_code" = Option<String>, Query), ("status" = Option<String>, Query, description = "`open` or `closed`"), ("start_date" = Option<String>, Query, description = "ISO 8601"), ("end_date" = Option<String>, Query, description = "ISO 8601")), security(()), responses((status = 200, description = "JSON (an array) or XML as the standard shapes it", content(([backend::open311::RequestOut] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/requests.{fmt}")]
pub async fn open311_list(
    state: web::Data<State>,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (fmt, c) = match begin(&state, &path, q.get("api_key")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match open311::Filter::parse(&q) {
        Ok(f) => listed(fmt, "service_requests", "request", open311::requests(&state, &c, &f).await),
        Err(code) => refuse(fmt, code),
    }
}

/// GET /open311/v2/requests/{id}.{fmt}
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2: one service request", params(("id" = i64, Path, description = "service_request_id"), ("fmt" = String, Path, description = "`json` or `xml`"), ("api_key" = Option<String>, Query, description = "the client's Open311 key")), security(()), responses((status = 200, description = "JSON (an array) or XML as the standard shapes it", content(([backend::open311::RequestOut] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/requests/{id:[^/.]+}.{fmt}")]
pub async fn open311_one(
    state: web::Data<State>,
    path: web::Path<(i64, String)>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (id, ext) = path.into_inner();
    let (fmt, c) = match begin(&state, &ext, q.get("api_key")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let filter = open311::Filter { ids: vec![id], ..Default::default() };
    match open311::requests(&state, &c, &filter).await {
        Ok(rows) if rows.is_empty() => refuse(fmt, ErrorCode::NotFound),
        rows => listed(fmt, "service_requests", "request", rows),
    }
}

/// GET /open311/v2/tokens/{token}.{fmt}
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2: the request id a token became", params(("token" = String, Path), ("fmt" = String, Path, description = "`json` or `xml`"), ("api_key" = Option<String>, Query, description = "the client's Open311 key")), security(()), responses((status = 200, description = "JSON (an array) or XML as the standard shapes it", content(([Open311TokenFound] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/tokens/{token}.{fmt}")]
pub async fn open311_token(
    state: web::Data<State>,
    path: web::Path<(String, String)>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (token, ext) = path.into_inner();
    let (fmt, c) = match begin(&state, &ext, q.get("api_key")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let found = open311::by_token(&state, &c, &token).await;
    listed(
        fmt,
        "service_requests",
        "request",
        found.map(|id| vec![Open311TokenFound { service_request_id: id.to_string(), token: token.clone() }]),
    )
}

/// GET /open311/v2/servicerequestupdates.{fmt}
#[utoipa::path(get, tag = "open311", summary = "GeoReport v2 extension: status updates of this key's requests", params(("fmt" = String, Path, description = "`json` or `xml`"), ("api_key" = Option<String>, Query, description = "the client's Open311 key"), ("start_date" = Option<String>, Query), ("end_date" = Option<String>, Query)), security(()), responses((status = 200, description = "JSON (an array) or XML as the standard shapes it", content(([backend::open311::UpdateOut] = "application/json"), (String = "text/xml"))), (status = "4XX", description = "Open311 errors: `[{code, description}]` (an unknown format: JSON)", content(([Open311Error] = "application/json"), (String = "text/xml")))))]
#[get("/open311/v2/servicerequestupdates.{fmt}")]
pub async fn open311_updates(
    state: web::Data<State>,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (fmt, c) = match begin(&state, &path, q.get("api_key")).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match open311::Filter::parse(&q) {
        Ok(f) => listed(fmt, "service_request_updates", "request_update", open311::updates(&state, &c, &f).await),
        Err(code) => refuse(fmt, code),
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(open311_services)
        .service(open311_service)
        .service(open311_create)
        .service(open311_list)
        .service(open311_one)
        .service(open311_token)
        .service(open311_updates);
}
