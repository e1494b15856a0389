//! Appointment routes outside Leptos: the `.ics` download for "add to
//! calendar", and the JSON API for external clients (and the booking
//! benchmark): list items and slots, book, cancel, see one's bookings.

use actix_web::{web, HttpRequest, HttpResponse};
use backend::{
    appointments,
    idempotency::{self, Keyed, Start},
    State,
};
use domain::ErrorCode;
use serde::Deserialize;

use crate::api::{api_err, code_err, user, ApiError};

/// `GET /appointments/bookings/{id}/calendar.ics` (cookie login).
pub async fn calendar(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    let Ok(u) = user(&req) else {
        return HttpResponse::SeeOther()
            .insert_header(("Location", format!("/login?next=/appointments/bookings/{id}")))
            .finish();
    };
    match appointments::ics(&state, &u, id).await {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header(("Content-Disposition", format!("attachment; filename=\"appointment-{id}.ics\"")))
            .insert_header(("Cache-Control", "private, no-store"))
            .body(body),
        Err(e) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(e.code.http_status())
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
        )
        .content_type("text/plain; charset=utf-8")
        .body(e.code.message(false)),
    }
}

pub fn scope() -> actix_web::Scope {
    web::scope("/appointments")
        .route("/items", web::get().to(items))
        .route("/items/{id}/slots", web::get().to(slots))
        .route("/bookings", web::get().to(mine))
        .route("/bookings", web::post().to(book))
        .route("/bookings/{id}", web::get().to(one))
        .route("/bookings/{id}/cancel", web::post().to(cancel))
}

async fn items(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::items_for(&state, &u).await.map_err(api_err(&req))?))
}

async fn slots(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::days(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

async fn mine(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::mine(&state, &u).await.map_err(api_err(&req))?))
}

async fn one(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::booking(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

#[derive(Deserialize)]
pub struct BookBody {
    slot_id: i64,
}

/// `POST /api/v1/appointments/bookings {"slot_id": n}`: 201 with the booking,
/// 409 `slot_full` when every seat is taken.
/// With an `Idempotency-Key` header (rules.md §3) a replay answers with the
/// same booking, the same key for another slot is refused (422), and a
/// duplicate still running gets 409.
async fn book(req: HttpRequest, state: web::Data<State>, body: web::Json<BookBody>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let key = req.headers().get("Idempotency-Key").map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let keyed = match key {
        Some(k) => Some(
            Keyed::parse(u.id, "booking.create", &k, format!("slot_id={}", body.slot_id).as_bytes())
                .map_err(|c| code_err(&req, c))?,
        ),
        None => None,
    };
    let id = match &keyed {
        Some(k) => match idempotency::start(&state.db, k).await.map_err(api_err(&req))? {
            Start::Replay(saved) => serde_json::from_str::<serde_json::Value>(&saved.body)
                .ok()
                .and_then(|v| v["booking_id"].as_i64())
                .ok_or_else(|| code_err(&req, ErrorCode::Internal))?,
            Start::Fresh => match appointments::book_keyed(&state, &u, body.slot_id, Some(k)).await {
                Ok(id) => id,
                Err(e) => {
                    idempotency::release(&state.db, k).await.map_err(api_err(&req))?;
                    return Err(api_err(&req)(e));
                }
            },
        },
        None => appointments::book(&state, &u, body.slot_id).await.map_err(api_err(&req))?,
    };
    let b = appointments::booking(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(b))
}

async fn cancel(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    appointments::cancel(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}
