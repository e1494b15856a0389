//! Volunteer routes for external clients (JSON): activities, signing up and
//! withdrawing, the organiser's current code (the organiser page polls it
//! every 30 seconds), the one-tap check after a scan, a person's record and
//! certificate checks (public: anyone holding a code may verify it).

use actix_web::{web, HttpRequest, HttpResponse};
use backend::{volunteer, State};
use domain::volunteer::Direction;
use serde::{Deserialize, Serialize};

use crate::api::{api_err, user, ApiError};

pub fn scope() -> actix_web::Scope {
    web::scope("/volunteer")
        .route("/activities", web::get().to(list))
        .route("/activities/{id}", web::get().to(one))
        .route("/activities/{id}/signup", web::post().to(sign_up))
        .route("/activities/{id}/withdraw", web::post().to(withdraw))
        .route("/activities/{id}/code", web::get().to(code))
        .route("/check", web::post().to(check))
        .route("/me", web::get().to(me))
        .route("/certificates/{code}", web::get().to(certificate))
}

async fn list(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(volunteer::list_for(&state, &u).await.map_err(api_err(&req))?))
}

async fn one(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(volunteer::view(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

#[derive(Serialize)]
struct Signed {
    status: domain::volunteer::SignupStatus,
}

/// `POST …/signup`: a seat, or the waitlist when full (`status` says which).
async fn sign_up(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let status = volunteer::sign_up(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(Signed { status }))
}

async fn withdraw(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    volunteer::withdraw(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct CodeQuery {
    d: Option<String>,
}

/// `GET …/code?d=in|out`: the organiser's current code (URL, SVG, seconds left).
async fn code(
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

#[derive(Deserialize)]
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
async fn check(
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

async fn me(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(volunteer::record(&state, u.id).await.map_err(api_err(&req))?))
}

async fn certificate(
    req: HttpRequest,
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(volunteer::certificate(&state, &code).await.map_err(api_err(&req))?))
}
