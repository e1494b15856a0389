//! Volunteer routes for external clients (JSON): activities, signing up and
//! withdrawing, the organiser's current code (the organiser page polls it
//! every 30 seconds), the one-tap check after a scan, a person's record and
//! certificate checks (public: anyone holding a code may verify it).

use actix_web::{get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use backend::{volunteer, State};
use domain::volunteer::Direction;
use serde::{Deserialize, Serialize};

use crate::api::{api_err, user, ApiError};

/// Under /api/v1 (see `api::routes`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/volunteer")
            .service(volunteer_list)
            .service(volunteer_one)
            .service(volunteer_sign_up)
            .service(volunteer_withdraw)
            .service(volunteer_code)
            .service(volunteer_check)
            .service(volunteer_me)
            .service(volunteer_certificate),
    );
}

#[utoipa::path(get, tag = "volunteer", summary = "Volunteer activities open to the caller", responses((status = 200, body = [domain::volunteer::ActivityView]), crate::openapi::Refused))]
#[get("/activities")]
async fn volunteer_list(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(volunteer::list_for(&state, &u).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "volunteer", summary = "One activity", params(("id" = i64, Path, description = "activity")), responses((status = 200, body = domain::volunteer::ActivityView), crate::openapi::Refused))]
#[get("/activities/{id}")]
async fn volunteer_one(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(volunteer::view(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Signed {
    /// `signed_up` or `waitlisted`
    #[schema(value_type = String)]
    status: domain::volunteer::SignupStatus,
}

/// `POST …/signup`: a seat, or the waitlist when full (`status` says which).
#[utoipa::path(post, tag = "volunteer", summary = "Signs up: a seat, or the waitlist when full", params(("id" = i64, Path, description = "activity")), responses((status = 200, body = Signed), crate::openapi::Refused))]
#[post("/activities/{id}/signup")]
async fn volunteer_sign_up(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let status = volunteer::sign_up(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(Signed { status }))
}

#[utoipa::path(post, tag = "volunteer", summary = "Withdraws from an activity", params(("id" = i64, Path, description = "activity")), responses((status = 204, description = "withdrawn"), crate::openapi::Refused))]
#[post("/activities/{id}/withdraw")]
async fn volunteer_withdraw(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    volunteer::withdraw(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    d: Option<String>,
}

/// `GET …/code?d=in|out`: the organiser's current code (URL, SVG, seconds left).
#[utoipa::path(get, tag = "volunteer", summary = "Organisers: the current rotating check-in code (URL, SVG, seconds left)", params(("id" = i64, Path, description = "activity"), CodeQuery), responses((status = 200, body = domain::volunteer::CodeView), crate::openapi::Refused))]
#[get("/activities/{id}/code")]
async fn volunteer_code(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let dir = Direction::parse(q.d.as_deref().unwrap_or("in"))
        .ok_or_else(|| api_err(&req)(domain::ErrorCode::InvalidInput.into()))?;
    let c = volunteer::current_code(&state, &u, id.into_inner(), dir).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(c))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CheckBody {
    activity: i64,
    direction: String,
    /// From the scan: `at` and `ticket` of `GET /volunteer/scan`'s answer.
    at: i64,
    ticket: String,
    lat: Option<f64>,
    lng: Option<f64>,
    accuracy: Option<f64>,
}

/// `POST /volunteer/check`: checks in or out after a scan.
#[utoipa::path(post, tag = "volunteer", summary = "Checks in or out after scanning the organiser's code", request_body = CheckBody, responses((status = 200, body = domain::volunteer::AttendanceView), crate::openapi::Refused))]
#[post("/check")]
async fn volunteer_check(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<CheckBody>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let dir = Direction::parse(&body.direction).ok_or_else(|| api_err(&req)(domain::ErrorCode::InvalidInput.into()))?;
    let fix = match (body.lat, body.lng, body.accuracy) {
        (Some(lat), Some(lng), Some(accuracy_m)) => Some(volunteer::Fix { lat, lng, accuracy_m }),
        _ => None,
    };
    let a =
        volunteer::check(&state, &u, body.activity, dir, body.at, &body.ticket, fix).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(a))
}

#[utoipa::path(get, tag = "volunteer", summary = "The caller's volunteer record: hours and points", responses((status = 200, body = domain::volunteer::HoursRecord), crate::openapi::Refused))]
#[get("/me")]
async fn volunteer_me(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok()
        .json(volunteer::record(&state, u.id, backend::support::people::english(&u)).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "volunteer", summary = "Checks a service certificate (anyone holding its code)", params(("code" = String, Path, description = "the certificate code")), security(()), responses((status = 200, body = domain::volunteer::Certificate), crate::openapi::Refused))]
#[get("/certificates/{code}")]
async fn volunteer_certificate(
    req: HttpRequest,
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(volunteer::certificate(&state, &code).await.map_err(api_err(&req))?))
}
