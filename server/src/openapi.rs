//! The OpenAPI document of every route that is not a Leptos server function
//! (the JSON API, OsmAnd, Open311, payment notifications, plain form posts,
//! exports, health). Routes are registered through `utoipa_actix_web`, so a
//! route exists exactly when it is described: `rest` both mounts them and
//! feeds the document served at `/api/openapi.json`.

use actix_web::get;
use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{PartialSchema, ToSchema};

/// Every JSON error: a stable code and a message in the caller's language.
#[derive(serde::Serialize, ToSchema)]
pub struct ErrorBody {
    /// snake_case, stable
    pub error: domain::ErrorCode,
    /// Chinese, or English with `Accept-Language: en`
    #[schema(example = "手机号格式不正确")]
    pub message: &'static str,
}

/// The refusal every JSON route may answer with, declared once and named in
/// each route's `responses(…)`.
#[derive(utoipa::IntoResponses)]
#[response(status = "4XX", description = "error: a stable code and a message in Chinese or English (Accept-Language)")]
#[allow(dead_code)]
pub struct Refused(ErrorBody);

impl ErrorBody {
    pub fn of(code: domain::ErrorCode, english: bool) -> ErrorBody {
        ErrorBody { error: code, message: code.message(english) }
    }
}

/// `POST /bills/pay`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PayBillsForm {
    /// once per bill to pay
    bill: Vec<i64>,
    /// the form's idempotency key
    idem: String,
}

/// `POST /pay/sandbox/{no}`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SandboxChoiceForm {
    /// `success`, `late` or `failure`
    choice: String,
}

/// `POST /votes/{id}/ballot`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BallotForm {
    /// 1-based option numbers, once per chosen option
    choice: Vec<i64>,
    /// "1": cast (the review step's button); without it the form answers
    /// with the review step
    confirm: Option<String>,
}

/// `POST /inbox/settings`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InboxSettingsForm {
    /// a notification kind per ticked box
    push: Vec<String>,
    sms: Vec<String>,
}

/// `POST /staff/import` and `/staff/bills/import`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    community_id: i64,
    /// CSV (UTF-8 or GBK) or XLSX, at most 5 MiB
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /incidents/report`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IncidentReportForm {
    /// a client-made id: a resend files nothing twice
    form_id: String,
    community_id: i64,
    category: String,
    description: String,
    lat: Option<f64>,
    lng: Option<f64>,
    accuracy: Option<f64>,
    located_at: Option<String>,
    address: Option<String>,
    /// `1` after seeing the nearby open reports
    confirm_new: Option<String>,
    /// up to nine photos of at most 10 MiB each
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

/// `POST /incidents/{id}/step`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IncidentStepForm {
    /// `accept`, `assign`, `start`, `handle`, `note`, `extend`, `decide_extension`, `verify`, `reopen`, `close`, `rate`…
    action: String,
    /// the step's fields (note, worker, deadline, stars…)
    note: Option<String>,
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

/// `POST /open311/v2/requests.{fmt}`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Open311RequestForm {
    api_key: String,
    service_code: String,
    lat: Option<f64>,
    long: Option<f64>,
    address_string: Option<String>,
    description: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    media_url: Option<String>,
}

/// The OsmAnd / Traccar Client fields (query string or form).
#[derive(ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OsmAndQuery {
    /// the registered device id (`deviceid` also accepted)
    id: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    /// `lat,lon` instead of the two
    location: Option<String>,
    /// Unix seconds or ms, or ISO 8601
    timestamp: Option<String>,
    /// knots
    speed: Option<f64>,
    bearing: Option<f64>,
    altitude: Option<f64>,
    /// metres (`hdop` also accepted)
    accuracy: Option<f64>,
    /// battery percent
    batt: Option<f64>,
    /// `false` or `0` for a fix that is not valid
    valid: Option<String>,
}

/// Every documented route, mounted on `app` (see the module comment).
pub fn rest(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use crate::*;
    cfg.service(openapi_json)
        .service(api::healthz)
        .service(api::ping)
        .service(upload::import_households)
        .service(api::open_inbox_item)
        .service(api::save_inbox_settings)
        .service(appointments::appointments_calendar)
        .service(payments::pay_bills)
        .service(votes::votes_cast_form)
        .service(payments::sandbox_page)
        .service(payments::sandbox_decide)
        .service(payments::wechat_jsapi)
        .service(payments::payments_export)
        .service(upload::import_bills)
        .service(figures::figures_csv)
        .service(figures::figures_xlsx)
        .service(incidents::incidents_report)
        .service(incidents::incidents_step)
        .service(incidents::incidents_photo)
        .service(incidents::incidents_nearby)
        .service(wechat::wechat_start)
        .service(wechat::wechat_callback)
        .configure(patrol::osmand_routes)
        .configure(open311::routes)
        .configure(api::routes);
}

/// The document: the routes of `rest`, with the login schemes.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new().into_utoipa_app().configure(rest).split_for_parts();
    doc.info = utoipa::openapi::InfoBuilder::new()
        .title("智慧社区 API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Routes outside the Leptos server functions: the JSON API for apps and integrations, OsmAnd and \
             Open311 for devices and partners, payment notifications, plain HTML form posts and exports. \
             Errors are `{error, message}` with a stable code; messages are Chinese unless `Accept-Language` \
             asks for English.",
        ))
        .license(Some(utoipa::openapi::License::new("AGPL-3.0-or-later")))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
    );
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(app::session::ACCESS_COOKIE))),
    );
    // every route needs a login unless it says `security(())`
    doc.security = Some(vec![
        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
        utoipa::openapi::security::SecurityRequirement::new("cookie", Vec::<String>::new()),
    ]);
    default_errors(&mut doc);
    doc
}

/// Any route can be refused before its handler runs (cross-site, too large,
/// an unreadable path, query or body): an operation that describes no 4xx
/// answer of its own gets our error shape, as JSON or, for a browser
/// navigation, a short page.
fn default_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = ResponseBuilder::new()
        .description("refused: `{error, message}` with a stable code (a short page for a browser navigation)")
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
        .content("text/html", ContentBuilder::new().schema(Some(String::schema())).build())
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
            &mut item.head,
            &mut item.options,
        ];
        for op in operations.into_iter().flatten() {
            if !op.responses.responses.keys().any(|k| k.starts_with('4')) {
                op.responses.responses.insert("4XX".into(), RefOr::T(error.clone()));
            }
        }
    }
}

use utoipa_actix_web::AppExt;

/// `GET /api/openapi.json`
#[utoipa::path(get, tag = "system", summary = "This document", security(()), responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
#[get("/api/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").insert_header(("Cache-Control", "no-cache")).body(doc.0.clone())
}

/// The document, serialised once at start-up.
pub struct OpenApiJson(pub String);

// ------------------------------------------------------------------ response bodies
// What the JSON routes answer, described for the document (schemathesis
// checks every answer against them: script/fuzz-api).

/// `GET /api/v1/push/key`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PushKeyBody {
    pub enabled: bool,
    /// the VAPID public key (base64url), when Web Push is on
    pub public_key: Option<String>,
}

/// `POST /api/v1/push/subscriptions`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SubscribedBody {
    pub subscribed: bool,
}

/// `DELETE /api/v1/push/subscriptions`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RemovedBody {
    /// whether this browser had a subscription to remove
    pub removed: bool,
}

/// `POST /api/v1/push/test`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QueuedBody {
    pub queued: bool,
}

/// `POST /api/v1/inbox/{id}/read`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LinkBody {
    /// where the item points: a path inside the app
    pub link: String,
}

/// `POST /api/v1/inbox/read-all`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MarkedBody {
    #[schema(minimum = 0)]
    pub marked: u64,
}

/// `GET /healthz`
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HealthBody {
    /// "ok", or "database unavailable" (503)
    pub status: String,
    /// "memory" or "redis" (absent when the database is away)
    pub rate_limits: Option<String>,
}

/// `GET /api/v1/announcements`: a page of what the caller may read.
#[derive(serde::Serialize, ToSchema)]
pub struct AnnouncementPageBody {
    pub items: Vec<app::announcements::Announcement>,
    pub total: u64,
    pub unread: u64,
    /// the page asked for, from 0
    pub page: u64,
}

/// `201`: what was made.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreatedBody {
    pub id: i64,
}

/// `GET /api/v1/patrols/{id}.geojson`: an RFC 7946 FeatureCollection, the
/// track as one MultiLineString (a line per stretch without a gap) and each
/// checkpoint as a Point with its check-ins.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FeatureCollectionBody {
    #[schema(rename = "type", pattern = "^FeatureCollection$")]
    pub kind: String,
    pub features: Vec<FeatureBody>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct FeatureBody {
    #[schema(rename = "type", pattern = "^Feature$")]
    pub kind: String,
    pub geometry: GeometryBody,
    /// the track: patrol, state, started_at, ended_at, times; a checkpoint:
    /// name, radius, seq, visited, checkins
    pub properties: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct GeometryBody {
    #[schema(rename = "type", pattern = "^(MultiLineString|Point)$")]
    pub kind: String,
    /// [lng, lat] (WGS-84) for a Point, lines of them for a MultiLineString
    pub coordinates: Vec<serde_json::Value>,
}
