//! Patrol routes for phones and GPS loggers:
//!
//! - `POST /api/v1/patrol/batch`: the worker's outbox (JSON, signed in);
//!   idempotent, every item accounted for in the answer.
//! - `GET|POST /api/v1/osmand` (and `/osmand`): the OsmAnd / Traccar Client
//!   protocol, form or JSON (`protocols.md`). No login: the registered
//!   device id names the worker. Bad requests get a 400 with the reason in
//!   plain text; an unknown device 400 (form) or 404 (JSON).
//! - `GET /api/v1/patrols/{id}.gpx` and `.geojson`: exports.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use backend::{tracking, State};
use domain::{osmand, patrol::Batch, ErrorCode};

use crate::api::{api_err, code_err, user, ApiError};

/// A batch of 1,000 fixes is about 150 KB of JSON.
const BATCH_LIMIT: usize = 1024 * 1024;

pub fn scope() -> actix_web::Scope {
    web::scope("/patrol").app_data(web::PayloadConfig::new(BATCH_LIMIT)).route("/batch", web::post().to(batch))
}

/// Exports, for the patrol's worker and staff over its grid (Bearer or cookie).
pub fn exports(cfg: &mut web::ServiceConfig) {
    cfg.route("/patrols/{id}.gpx", web::get().to(gpx)).route("/patrols/{id}.geojson", web::get().to(geojson));
}

async fn gpx(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let body = tracking::gpx(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok()
        .content_type("application/gpx+xml; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"patrol-{id}.gpx\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

async fn geojson(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let body = tracking::geojson(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"patrol-{id}.geojson\"")))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body.to_string()))
}

pub fn osmand_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(["/api/v1/osmand", "/osmand"])
            .app_data(web::PayloadConfig::new(BATCH_LIMIT))
            .route(web::get().to(osmand_request))
            .route(web::post().to(osmand_request)),
    );
}

async fn batch(req: HttpRequest, state: web::Data<State>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let batch: Batch = serde_json::from_slice(&body).map_err(|_| code_err(&req, ErrorCode::InvalidInput))?;
    let reply = tracking::ingest(&state, &u, batch).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(reply))
}

fn bad(msg: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().content_type("text/plain; charset=utf-8").body(msg.to_string())
}

fn pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

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
    match tracking::osmand(&state, positions).await {
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
