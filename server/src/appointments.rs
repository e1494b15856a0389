//! Appointment routes outside Leptos: the `.ics` download for "add to
//! calendar", and the JSON API for external clients (and the booking
//! benchmark): list items and slots, book, cancel, see one's bookings.

use actix_web::{get, post};
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
#[utoipa::path(get, tag = "appointments", summary = "A booking as an iCalendar file (add to calendar)", params(("id" = i64, Path, description = "booking")), responses((status = 200, description = "text/calendar", body = String, content_type = "text/calendar"), (status = 303, description = "to /login")))]
#[get("/appointments/bookings/{id}/calendar.ics")]
pub async fn appointments_calendar(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> HttpResponse {
    let id = id.into_inner();
    let Ok(u) = user(&req) else {
        return crate::security::see_other(&format!("/login?next=/appointments/bookings/{id}"));
    };
    match appointments::ics(&state, &u, id).await {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header(("Content-Disposition", format!("attachment; filename=\"appointment-{id}.ics\"")))
            .insert_header(("Cache-Control", "private, no-store"))
            .body(body),
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!(code = %e.code, "calendar failed: {c:#}");
            }
            crate::security::refusal(&req, e.code)
        }
    }
}

/// Under /api/v1 (see `api::routes`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/appointments")
            .service(appointments_items)
            .service(appointments_slots)
            .service(appointments_mine)
            .service(appointments_book)
            .service(appointments_one)
            .service(appointments_cancel),
    );
}

#[utoipa::path(get, tag = "appointments", summary = "Services that can be booked in the caller's communities", responses((status = 200, body = [domain::appointments::ItemView]), crate::openapi::Refused))]
#[get("/items")]
async fn appointments_items(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::items_for(&state, &u).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "appointments", summary = "The bookable days and slots of a service", params(("id" = i64, Path, description = "service")), responses((status = 200, body = [domain::appointments::DayView]), crate::openapi::Refused))]
#[get("/items/{id}/slots")]
async fn appointments_slots(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::days(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "appointments", summary = "The caller's bookings", responses((status = 200, body = [domain::appointments::BookingView]), crate::openapi::Refused))]
#[get("/bookings")]
async fn appointments_mine(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::mine(&state, &u).await.map_err(api_err(&req))?))
}

#[utoipa::path(get, tag = "appointments", summary = "One of the caller's bookings (staff: any of the communities they manage)", params(("id" = i64, Path, description = "booking")), responses((status = 200, body = domain::appointments::BookingView), crate::openapi::Refused))]
#[get("/bookings/{id}")]
async fn appointments_one(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(appointments::booking(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BookBody {
    slot_id: i64,
}

/// `POST /api/v1/appointments/bookings {"slot_id": n}`: 201 with the booking,
/// 409 `slot_full` when every seat is taken.
/// With an `Idempotency-Key` header (rules.md §3) a replay answers with the
/// same booking, the same key for another slot is refused (422), and a
/// duplicate still running gets 409.
#[utoipa::path(post, tag = "appointments", summary = "Books a slot (409 slot_full when every seat is taken)", request_body = BookBody, params(("Idempotency-Key" = Option<String>, Header, description = "a client-chosen key (8–64 of A–Z a–z 0–9 - _): a replay answers as the first time")), responses((status = 201, description = "the booking (an Idempotency-Key replay: the same booking)", body = domain::appointments::BookingView), crate::openapi::Refused))]
#[post("/bookings")]
async fn appointments_book(
    req: HttpRequest,
    state: web::Data<State>,
    body: web::Json<BookBody>,
) -> Result<HttpResponse, ApiError> {
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

#[utoipa::path(post, tag = "appointments", summary = "Cancels one of the caller's bookings", params(("id" = i64, Path, description = "booking")), responses((status = 204, description = "cancelled"), crate::openapi::Refused))]
#[post("/bookings/{id}/cancel")]
async fn appointments_cancel(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    appointments::cancel(&state, &u, id.into_inner()).await.map_err(api_err(&req))?;
    Ok(HttpResponse::NoContent().finish())
}
