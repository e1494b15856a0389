//! Vote routes outside Leptos: the ballot form (`POST /votes/{id}/ballot`,
//! several `choice` fields for multiple-choice polls) and the JSON API for
//! external clients: list, one vote, cast, the published ballot chain and
//! receipt checks.

use actix_web::{get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use backend::{votes, State};
use serde::{Deserialize, Serialize};

use crate::api::{api_err, user, ApiError};

use crate::security::see_other;

/// `POST /votes/{id}/ballot` (form: `choice` once per chosen option): casts
/// the ballot and shows the receipt; on error back to the vote with the
/// choices kept.
#[utoipa::path(post, tag = "forms", summary = "The ballot form (`choice` once per chosen option)", params(("id" = i64, Path, description = "vote")), request_body(content = crate::openapi::BallotForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "with `confirm=1`: to the receipt, or back to the vote with the choices kept and `error=`; without it: to the review step")))]
#[post("/votes/{id}/ballot")]
pub async fn votes_cast_form(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    let Ok(u) = user(&req) else {
        return see_other(&format!("/login?next=/votes/{id}"));
    };
    let fields: Vec<(String, String)> = backend::url::form_urlencoded::parse(&body).into_owned().collect();
    let choices: Vec<String> = fields.iter().filter(|(k, _)| k == "choice").map(|(_, v)| v.clone()).collect();
    // a ballot is cast only from the review step (WCAG 3.3.4): a form
    // without `confirm=1` is shown its choices to confirm first
    if !fields.iter().any(|(k, v)| k == "confirm" && v == "1") {
        // a vote one cannot see answers as casting into it would
        if let Err(e) = votes::view(&state, &u, id).await {
            return see_other(&format!("/votes/{id}?error={}", e.code.as_str()));
        }
        let review: String = choices
            .iter()
            .filter(|c| c.len() <= 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .map(|c| format!("&choice={c}"))
            .collect();
        return see_other(&format!("/votes/{id}?review=1{review}#ballot"));
    }
    match votes::cast(&state, &u, id, &choices).await {
        Ok(receipt) => {
            see_other(&format!("/votes/{id}?receipt={}#receipt", domain::payments::format_receipt_code(&receipt)))
        }
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!(code = %e.code, "casting a ballot failed: {c:#}");
            }
            let kept: Vec<String> = choices.iter().filter(|c| c.len() <= 3).cloned().collect();
            see_other(&format!("/votes/{id}?error={}&sel={}#ballot", e.code.as_str(), kept.join(",")))
        }
    }
}

/// Under /api/v1 (see `api::routes`).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/votes")
            .service(votes_list)
            .service(votes_receipt)
            .service(votes_one)
            .service(votes_cast)
            .service(votes_chain),
    );
}

#[utoipa::path(get, tag = "votes", summary = "Votes the caller may see", responses((status = 200, body = [domain::votes::VoteView]), crate::openapi::Refused))]
#[get("")]
async fn votes_list(req: HttpRequest, state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(votes::list(&state, &u).await.map_err(api_err(&req))?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct OneVote {
    vote: domain::votes::VoteView,
    standing: domain::votes::MyStanding,
}

#[utoipa::path(get, tag = "votes", summary = "One vote and the caller's standing in it", params(("id" = i64, Path, description = "vote")), responses((status = 200, body = OneVote), crate::openapi::Refused))]
#[get("/{id}")]
async fn votes_one(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let id = id.into_inner();
    let vote = votes::view(&state, &u, id).await.map_err(api_err(&req))?;
    let standing = votes::standing(&state, &u, id).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Ok().json(OneVote { vote, standing }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CastBody {
    /// 1-based option numbers (owners' decisions: 1 yes, 2 no, 3 abstain).
    choices: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Cast {
    receipt: String,
}

/// `POST /api/v1/votes/{id}/ballots {"choices": [1]}`: 201 with the receipt;
/// 409 `already_voted` for a second ballot of the same key (nothing changes).
#[utoipa::path(post, tag = "votes", summary = "Casts a ballot (409 already_voted for a second one: nothing changes)", params(("id" = i64, Path, description = "vote")), request_body = CastBody, responses((status = 201, body = Cast), crate::openapi::Refused))]
#[post("/{id}/ballots")]
async fn votes_cast(
    req: HttpRequest,
    state: web::Data<State>,
    id: web::Path<i64>,
    body: web::Json<CastBody>,
) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    let raw: Vec<String> = body.choices.iter().map(|c| c.to_string()).collect();
    let receipt = votes::cast(&state, &u, id.into_inner(), &raw).await.map_err(api_err(&req))?;
    Ok(HttpResponse::Created().json(Cast { receipt: domain::payments::format_receipt_code(&receipt) }))
}

/// The published chain: rules text and every ballot as hashed.
#[utoipa::path(get, tag = "votes", summary = "The published chain: rules text and every ballot as hashed", params(("id" = i64, Path, description = "vote")), responses((status = 200, body = backend::votes::Chain), crate::openapi::Refused))]
#[get("/{id}/chain")]
async fn votes_chain(req: HttpRequest, state: web::Data<State>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let u = user(&req)?;
    Ok(HttpResponse::Ok().json(votes::chain(&state, &u, id.into_inner()).await.map_err(api_err(&req))?))
}

/// Anyone with a receipt code: is the ballot in an intact chain?
#[utoipa::path(get, tag = "votes", summary = "Checks a ballot receipt: is it in an intact chain?", params(("code" = String, Path, description = "the receipt code")), security(()), responses((status = 200, body = domain::votes::ReceiptView), crate::openapi::Refused))]
#[get("/receipts/{code}")]
async fn votes_receipt(
    req: HttpRequest,
    state: web::Data<State>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(votes::receipt(&state, &code).await.map_err(api_err(&req))?))
}
