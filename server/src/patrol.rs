//! Patrol routes for phones and GPS loggers:
//!
//! - `POST /api/v1/patrol/batch`: the worker's outbox (JSON, signed in);
//!   idempotent, every item accounted for in the answer.
//! - `GET|POST /api/v1/osmand` (and `/osmand`): the OsmAnd / Traccar Client
//!   protocol, form or JSON (`protocols.md`). No login: the registered
//!   device id names the worker. Bad requests get a 400 with the reason in
//!   plain text; an unknown device 400 (form) or 404 (JSON).
//! - `GET /api/v1/patrols/{id}.gpx` and `.geojson`: exports.

use actix_web::{get, post};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use backend::{patrol, State};
use domain::{osmand, ErrorCode};

use crate::api::{api_err, user, ApiError};

/// A batch of 1,000 fixes is about 150 KB of JSON.
const BATCH_LIMIT: usize = 1024 * 1024;

/// Under /api/v1 (see `api::routes`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/patrol").app_data(web::PayloadConfig::new(BATCH_LIMIT)).service(patrol_batch),
    );
}

/// Exports, for the patrol's worker and staff over its grid (Bearer or cookie).
pub fn exports(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(patrol_gpx).service(patrol_geojson);
}

#[utoipa::path(get, tag = "patrol", summary = "A patrol's track as GPX 1.1 (its worker, and staff over its grid)", params(("id" = i64, Path, description = "patrol")), responses((status = 200, description = "GPX 1.1", body = String, content_type = "application/gpx+xml"), crate::openapi::Refused))]
#[get("/patrols/{id}.gpx")]
async fn patrol_gpx(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let body = patrol::gpx(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok()
        .content_type("application/gpx+xml; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"patrol-{id}.gpx\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

#[utoipa::path(get, tag = "patrol", summary = "A patrol's track and check-ins as GeoJSON", params(("id" = i64, Path, description = "patrol")), responses((status = 200, description = "a FeatureCollection", body = crate::openapi::FeatureCollectionBody, content_type = "application/geo+json"), crate::openapi::Refused))]
#[get("/patrols/{id}.geojson")]
async fn patrol_geojson(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let body = patrol::geojson(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"patrol-{id}.geojson\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body.to_string()))
}

/// OsmAnd at `/api/v1/osmand` and `/osmand` (loggers are set up with either).
pub fn osmand_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    let limit = || web::PayloadConfig::new(BATCH_LIMIT);
    cfg.service(
        utoipa_actix_web::scope("/api/v1/osmand").app_data(limit()).service(osmand_api_get).service(osmand_api_post),
    )
    .service(utoipa_actix_web::scope("/osmand").app_data(limit()).service(osmand_get).service(osmand_post));
}

#[utoipa::path(post, tag = "patrol", summary = "The grid worker's outbox: GPS fixes, check-ins and notes, idempotent; every item accounted for", request_body(content = domain::patrol::Batch, description = "`{patrol, sent_at, items: [...]}`", content_type = "application/json"), responses((status = 200, description = "per item: stored, duplicate, dropped from the track or refused, each with the reason", body = domain::patrol::BatchReply), (status = 413, description = "over 1 MiB", body = crate::openapi::ErrorBody), crate::openapi::Refused))]
#[post("/batch")]
async fn patrol_batch(req: HttpRequest, state: web::Data<State>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let (batch, unreadable) = patrol::read_batch(&body, u.lang.is_en()).map_err(api_err(&req))?;
    let mut reply = patrol::ingest(&state, &u, batch).await.map_err(api_err(&req))?;
    reply.refused.splice(0..0, unreadable);
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(reply))
}

fn bad(msg: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().content_type("text/plain; charset=utf-8").body(msg.to_string())
}

fn pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// The four OsmAnd operations (GET and POST at `/api/v1/osmand` and
/// `/osmand`): one handler, documented under an operation id each.
macro_rules! osmand_operation {
    ($name:ident, $method:ident, $id:literal) => {
        #[utoipa::path(
            $method,
            operation_id = $id,
            tag = "patrol",
            summary = "OsmAnd / Traccar Client position (query, form or JSON); the registered device id names the worker",
            params(crate::openapi::OsmAndQuery),
            request_body(content = crate::openapi::OsmAndQuery, description = "the same fields as a form, or Traccar's JSON `{device_id, location}`", content_type = "application/x-www-form-urlencoded"),
            security(()),
            responses(
                (status = 200, description = "stored"),
                (status = 400, description = "the reason in plain text (also an unknown device, for forms)", body = String, content_type = "text/plain"),
                (status = 404, description = "an unknown device (JSON)", body = String, content_type = "text/plain"),
                (status = 503, description = "try again later", body = String, content_type = "text/plain")
            )
        )]
        #[$method("")]
        async fn $name(req: HttpRequest, state: web::Data<State>, body: web::Bytes) -> HttpResponse {
            osmand_request(req, state, body).await
        }
    };
}
osmand_operation!(osmand_api_get, get, "osmand_api_get");
osmand_operation!(osmand_api_post, post, "osmand_api_post");
osmand_operation!(osmand_get, get, "osmand_get");
osmand_operation!(osmand_post, post, "osmand_post");

/// One OsmAnd request: form (query or body) or JSON.
async fn osmand_request(req: HttpRequest, state: web::Data<State>, body: web::Bytes) -> HttpResponse {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let (positions, unknown) = if json {
        let parsed: osmand::JsonBody = match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return bad(format!("cannot read the JSON body: {e}")),
        };
        match osmand::from_json(parsed) {
            Ok(p) => (p, HttpResponse::NotFound().content_type("text/plain").body("unknown device")),
            Err(e) => return bad(e),
        }
    } else {
        let mut kv = pairs(req.query_string());
        if !body.is_empty() {
            match std::str::from_utf8(&body) {
                Ok(s) => kv.extend(pairs(s)),
                Err(_) => return bad("the body is not UTF-8 form data"),
            }
        }
        match osmand::parse_form(&kv) {
            Ok(p) => (vec![p], bad("unknown device")),
            Err(e) => return bad(e),
        }
    };
    match patrol::osmand(&state, positions).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(e) if e.code == ErrorCode::NotFound => unknown,
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!("osmand request failed: {c:#}");
            }
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("try again later")
        }
    }
}
