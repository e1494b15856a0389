//! Incident forms with photos (plain multipart posts that work without
//! WASM), photo downloads and the nearby-suggestions lookup.
//!
//! Every form answers with a redirect: to the incident on success, back to
//! the form on an error with the typed text kept in the flash store and the
//! photos kept under the form's draft key (nothing the user entered is lost).

use actix_multipart::Multipart;
use actix_web::{get, post};
use actix_web::{http::header, web, HttpMessage, HttpRequest, HttpResponse};
use backend::{auth::CurrentUser, incidents, State};
use domain::{
    incidents::{Category, MAX_PHOTOS, MAX_PHOTO_BYTES},
    ErrorCode,
};
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::HashMap;

use crate::security::see_other;

fn user_of(req: &HttpRequest) -> Option<CurrentUser> {
    req.extensions().get::<CurrentUser>().cloned()
}

/// Text fields and the files of fields named `photo…` (empty file inputs skipped).
async fn read_form(payload: &mut Multipart) -> Result<(HashMap<String, String>, Vec<Vec<u8>>), ErrorCode> {
    let mut fields = HashMap::new();
    let mut files = vec![];
    while let Some(item) = payload.next().await {
        let Ok(mut field) = item else { return Err(ErrorCode::InvalidPhoto) };
        let name = field.name().unwrap_or_default().to_string();
        let is_file = name.starts_with("photo");
        let limit = if is_file { MAX_PHOTO_BYTES } else { 16 * 1024 };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else { return Err(ErrorCode::InvalidPhoto) };
            if buf.len() + chunk.len() > limit {
                return Err(if is_file { ErrorCode::InvalidPhoto } else { ErrorCode::InvalidInput });
            }
            buf.extend_from_slice(&chunk);
        }
        if is_file {
            if !buf.is_empty() {
                if files.len() >= MAX_PHOTOS {
                    return Err(ErrorCode::TooManyPhotos);
                }
                files.push(buf);
            }
        } else {
            fields.insert(name, String::from_utf8_lossy(&buf).into_owned());
        }
    }
    Ok((fields, files))
}

const KEPT: [&str; 9] =
    ["community_id", "category", "description", "lat", "lng", "accuracy", "located_at", "address", "form_id"];

/// POST /incidents/report: a new report with up to nine photos. Before a
/// report with a position is filed, open reports of the same category
/// within 250 m are offered (the form comes back with them) unless the
/// reporter already said it is a new one (`confirm_new=1`).
#[utoipa::path(post, tag = "forms", summary = "The incident report form: category, description, position and up to nine photos", request_body(content = crate::openapi::IncidentReportForm, content_type = "multipart/form-data"), responses((status = 303, description = "to the new incident, to the form with nearby duplicates offered, or back with `error=`")))]
#[post("/incidents/report")]
pub async fn incidents_report(req: HttpRequest, state: web::Data<State>, mut payload: Multipart) -> HttpResponse {
    let Some(user) = user_of(&req) else { return see_other("/login?next=/incidents") };
    let (fields, files) = match read_form(&mut payload).await {
        Ok(x) => x,
        Err(code) => return see_other(&format!("/incidents?error={}", code.as_str())),
    };
    let form_id = fields.get("form_id").cloned().unwrap_or_default();
    if !incidents::valid_draft(&form_id) {
        return see_other(&format!("/incidents?error={}", ErrorCode::InvalidInput.as_str()));
    }
    // sent again (a double tap, an outbox retry after a lost answer): the report already filed
    match incidents::existing(&state, &user, &form_id).await {
        Ok(Some(id)) => return see_other(&format!("/incidents/{id}?reported=1")),
        Ok(None) => {}
        Err(e) => return see_other(&format!("/incidents?error={}", e.code.as_str())),
    }
    let back = |code: Option<ErrorCode>, extra: &str| {
        let fields = fields.clone();
        let state = state.clone();
        let form_id = form_id.clone();
        let extra = extra.to_string();
        async move {
            let kept: Vec<(String, String)> =
                KEPT.iter().filter_map(|k| fields.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
            let key = state.flash.put(Some(user.id), kept).await;
            let error = code.map(|c| format!("&error={}", c.as_str())).unwrap_or_default();
            see_other(&format!("/incidents?draft={key}&form={form_id}{error}{extra}#report"))
        }
    };
    let mut photo_error = None;
    if !files.is_empty() {
        if let Err(e) = incidents::stage_photos(&state, &user, &form_id, "report", files).await {
            photo_error = Some(e.code);
        }
    }
    let parsed = incidents::parse_report(&fields);
    let (community, new) = match (parsed, photo_error) {
        (Err(code), _) | (Ok(_), Some(code)) => return back(Some(code), "").await,
        (Ok(x), None) => x,
    };
    if fields.get("confirm_new").map(String::as_str) != Some("1") {
        if let Some(s) = new.spot {
            match incidents::nearby(&state, &user, community, new.category, s.lat, s.lng).await {
                Ok(near) if !near.is_empty() => return back(None, "&nearby=1").await,
                Ok(_) => {}
                Err(e) => return back(Some(e.code), "").await,
            }
        }
    }
    match incidents::report(&state, &user, community, &form_id, new).await {
        Ok(id) => see_other(&format!("/incidents/{id}?reported=1")),
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!("incident report failed: {c:#}");
            }
            back(Some(e.code), "").await
        }
    }
}

/// POST /incidents/{id}/step: one workflow step (`action` and its fields),
/// with photos for starting, handling and progress notes.
#[utoipa::path(post, tag = "forms", summary = "One workflow step of an incident (`action` and its fields, photos where the step takes them)", params(("id" = i64, Path, description = "incident")), request_body(content = crate::openapi::IncidentStepForm, content_type = "multipart/form-data"), responses((status = 303, description = "back to the incident, with `error=` when refused")))]
#[post("/incidents/{id}/step")]
pub async fn incidents_step(
    req: HttpRequest,
    state: web::Data<State>,
    path: web::Path<i64>,
    mut payload: Multipart,
) -> HttpResponse {
    let id = path.into_inner();
    let page = format!("/incidents/{id}");
    let Some(user) = user_of(&req) else { return see_other(&format!("/login?next={page}")) };
    let (fields, files) = match read_form(&mut payload).await {
        Ok(x) => x,
        Err(code) => return see_other(&format!("{page}?error={}", code.as_str())),
    };
    let action = fields.get("action").cloned().unwrap_or_default();
    let draft = fields.get("draft").cloned().unwrap_or_default();
    let fail = |code: ErrorCode| {
        let state = state.clone();
        let kept: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let action = action.clone();
        async move {
            let key = state.flash.put(Some(user.id), kept).await;
            see_other(&format!("/incidents/{id}?error={}&action={action}&draft={key}#act", code.as_str()))
        }
    };
    if !files.is_empty() {
        let stage = match action.as_str() {
            "start" => "before",
            "handle" => "after",
            _ => "note",
        };
        if let Err(e) = incidents::stage_photos(&state, &user, &draft, stage, files).await {
            return fail(e.code).await;
        }
    }
    let step = match incidents::Step::parse(&action, &fields) {
        Ok(s) => s,
        Err(code) => return fail(code).await,
    };
    match incidents::act(&state, &user, id, step).await {
        Ok(_) => see_other(&format!("{page}?done={action}")),
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!("incident step failed: {c:#}");
            }
            fail(e.code).await
        }
    }
}

/// GET /incidents/photos/{id} and /incidents/photos/{id}/thumb: the stored
/// JPEG (no EXIF) for those who may see the incident.
#[utoipa::path(get, tag = "incidents", summary = "An incident photo (EXIF stripped) for those who may see the incident", params(("id" = i64, Path, description = "photo"), ("size" = String, Path, description = "`full` or `thumb`")), responses((status = 200, description = "JPEG", body = String, content_type = "image/jpeg")))]
#[get("/incidents/photos/{id}/{size}")]
pub async fn incidents_photo(
    req: HttpRequest,
    state: web::Data<State>,
    path: web::Path<(i64, String)>,
) -> HttpResponse {
    let (id, size) = path.into_inner();
    let Some(user) = user_of(&req) else { return crate::security::refusal(&req, ErrorCode::NotLoggedIn) };
    match incidents::photo_bytes(&state, &user, id, size == "thumb").await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("image/jpeg")
            .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(bytes),
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!(code = %e.code, "photo failed: {c:#}");
            }
            crate::security::refusal(&req, e.code)
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    community_id: i64,
    category: String,
    lat: f64,
    lng: f64,
}

/// GET /api/v1/incidents/nearby: open reports of the category within 250 m.
#[utoipa::path(get, tag = "incidents", summary = "Open incidents of a category within 250 m (duplicate check before reporting)", params(NearbyQuery), responses((status = 200, body = [domain::incidents::IncidentRow]), crate::openapi::Refused))]
#[get("/api/v1/incidents/nearby")]
pub async fn incidents_nearby(req: HttpRequest, state: web::Data<State>, q: web::Query<NearbyQuery>) -> HttpResponse {
    let Some(user) = user_of(&req) else { return HttpResponse::Unauthorized().json(err(ErrorCode::NotLoggedIn)) };
    let Some(category) = Category::parse(&q.category) else {
        return HttpResponse::UnprocessableEntity().json(err(ErrorCode::InvalidCategory));
    };
    if !(-90.0..=90.0).contains(&q.lat) || !(-180.0..=180.0).contains(&q.lng) {
        return HttpResponse::UnprocessableEntity().json(err(ErrorCode::InvalidLocation));
    }
    match incidents::nearby(&state, &user, q.community_id, category, q.lat, q.lng).await {
        Ok(rows) => HttpResponse::Ok().json(rows),
        Err(e) => HttpResponse::build(actix_web::http::StatusCode::from_u16(e.code.http_status()).unwrap_or_default())
            .json(err(e.code)),
    }
}

fn err(code: ErrorCode) -> crate::openapi::ErrorBody {
    crate::openapi::ErrorBody::of(code, false)
}
