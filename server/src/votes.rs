//! Vote routes outside Leptos: the ballot form (`POST /votes/{id}/ballot`,
//! several `choice` fields for multiple-choice polls) and the JSON API for
//! external clients: list, one vote, cast, the published ballot chain and
//! receipt checks.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use backend::{votes, State};
use serde::{Deserialize, Serialize};

use crate::api::{api_err, user, ApiError};

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// `POST /votes/{id}/ballot` (form: `choice` once per chosen option): casts
/// the ballot and shows the receipt; on error back to the vote with the
/// choices kept.
pub async fn cast_form(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    let Ok(u) = user(&req) else {
        return see_other(&format!("/login?next=/votes/{id}"));
    };
    let choices: Vec<String> = backend::url::form_urlencoded::parse(&body)
        .into_owned()
        .filter(|(k, _)| k == "choice")
        .map(|(_, v)| v)
        .collect();
    match votes::cast(&state, &u, id, &choices).await {
        Ok(receipt) => see_other(&format!("/votes/{id}?receipt={}", domain::payment::format_receipt_code(&receipt))),
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!(code = %e.code, "casting a ballot failed: {c:#}");
            }
            let kept: Vec<String> = choices.iter().filter(|c| c.len() <= 3).cloned().collect();
            see_other(&format!("/votes/{id}?error={}&sel={}", e.code.as_str(), kept.join(",")))
        }
    }
}

pub fn scope() -> actix_web::Scope {
    web::scope("/votes")
        .route("", web::get().to(list))
        .route("/receipts/{code}", web::get().to(receipt))
        .route("/{id}", web::get().to(one))
        .route("/{id}/ballots", web::post().to(cast))
        .route("/{id}/chain", web::get().to(chain))
}

async fn list(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(votes::list(&state, &u).await.map_err(api_err(&req))?))
}

#[derive(Serialize)]
struct OneVote {
    vote: domain::vote::VoteView,
    standing: domain::vote::MyStanding,
}

async fn one(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let vote = votes::view(&state, &u, id).await.map_err(api_err(&req))?;
    let standing = votes::standing(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(OneVote { vote, standing }))
}

#[derive(Deserialize)]
pub struct CastBody {
    /// 1-based option numbers (owners' decisions: 1 yes, 2 no, 3 abstain).
    choices: Vec<i64>,
}

#[derive(Serialize)]
struct Cast {
    receipt: String,
}

/// `POST /api/v1/votes/{id}/ballots {"choices": [1]}`: 201 with the receipt;
/// 409 `already_voted` for a second ballot of the same key (nothing changes).
async fn cast(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
    body: web::Json<CastBody>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let raw: Vec<String> = body.choices.iter().map(|c| c.to_string()).collect();
    let receipt = votes::cast(&state, &u, id.into_inner(), &raw).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(Cast { receipt: domain::payment::format_receipt_code(&receipt) }))
}

/// The published chain: rules text and every ballot as hashed.
async fn chain(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(votes::chain(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

/// Anyone with a receipt code: is the ballot in an intact chain?
async fn receipt(req: HttpRequest, state: web::Data<State>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(votes::receipt(&state, &code).await.map_err(api_err(&req))?))
}
