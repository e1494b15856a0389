//! Plain multipart form posts (files), which server functions do not take
//! from a browser without WASM. They answer like every form here: a redirect
//! back to the page, with the outcome kept in the flash store.

use actix_multipart::Multipart;
use actix_web::post;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use backend::{auth::CurrentUser, import, State};
use domain::ErrorCode;
use futures_util::StreamExt;

use crate::security::see_other;

fn back_with(code: ErrorCode) -> HttpResponse {
    see_other(&format!("/staff/import?error={}", code.as_str()))
}

/// Reads `community_id` and `file` (at most `import::MAX_BYTES`) from a multipart form.
async fn read_form(payload: &mut Multipart) -> Result<(Option<i64>, Option<(String, Vec<u8>)>), ErrorCode> {
    let mut community: Option<i64> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(item) = payload.next().await {
        let Ok(mut field) = item else { return Err(ErrorCode::InvalidFile) };
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).unwrap_or_default().to_string();
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let Ok(chunk) = chunk else { return Err(ErrorCode::InvalidFile) };
            if buf.len() + chunk.len() > import::MAX_BYTES {
                return Err(ErrorCode::InvalidFile);
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "community_id" => community = String::from_utf8(buf).ok().and_then(|s| s.trim().parse().ok()),
            "file" => file = Some((filename, buf)),
            _ => {}
        }
    }
    Ok((community, file))
}

/// POST /staff/bills/import: `community_id` and `file` (CSV or XLSX) of
/// utility, parking and other bills; back to /staff/bills/import with the report.
#[utoipa::path(post, tag = "forms", summary = "Staff: imports utility, parking and other bills from CSV or XLSX", request_body(content = crate::openapi::ImportForm, content_type = "multipart/form-data"), responses((status = 303, description = "back to /staff/bills/import with the report or `error=`")))]
#[post("/staff/bills/import")]
pub async fn import_bills(req: HttpRequest, state: web::Data<State>, mut payload: Multipart) -> HttpResponse {
    let back = |code: ErrorCode| see_other(&format!("/staff/bills/import?error={}", code.as_str()));
    let Some(user) = req.extensions().get::<CurrentUser>().cloned() else {
        return see_other("/login?next=/staff/bills/import");
    };
    if !user.is_staff() {
        return back(ErrorCode::Forbidden);
    }
    let (community, file) = match read_form(&mut payload).await {
        Ok(x) => x,
        Err(code) => return back(code),
    };
    let (Some(community), Some((filename, bytes))) = (community, file) else {
        return back(ErrorCode::InvalidInput);
    };
    if bytes.is_empty() {
        return back(ErrorCode::InvalidFile);
    }
    match backend::bills::import_bills(&state, &user, community, &bytes, &filename).await {
        Ok(outcome) => {
            let report = serde_json::to_string(&outcome).unwrap_or_default();
            let key = state.flash.put(Some(user.id), vec![("report".into(), report), ("file".into(), filename)]).await;
            see_other(&format!("/staff/bills/import?report={key}&community={community}"))
        }
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!("bill import failed: {c:#}");
            }
            see_other(&format!("/staff/bills/import?error={}&community={community}", e.code.as_str()))
        }
    }
}

/// POST /staff/import: `community_id` and `file` (CSV or XLSX).
#[utoipa::path(post, tag = "forms", summary = "Staff: imports buildings, units and households from CSV or XLSX", request_body(content = crate::openapi::ImportForm, content_type = "multipart/form-data"), responses((status = 303, description = "back to /staff/import with the report or `error=`")))]
#[post("/staff/import")]
pub async fn import_households(req: HttpRequest, state: web::Data<State>, mut payload: Multipart) -> HttpResponse {
    let Some(user) = req.extensions().get::<CurrentUser>().cloned() else {
        return see_other("/login?next=/staff/import");
    };
    if !user.is_staff() {
        return back_with(ErrorCode::Forbidden);
    }
    let (community, file) = match read_form(&mut payload).await {
        Ok(x) => x,
        Err(code) => return back_with(code),
    };
    let (Some(community), Some((filename, bytes))) = (community, file) else {
        return back_with(ErrorCode::InvalidInput);
    };
    if bytes.is_empty() {
        return back_with(ErrorCode::InvalidFile);
    }
    match import::import(&state, &user, community, &bytes, &filename).await {
        Ok(outcome) => {
            let report = serde_json::to_string(&outcome).unwrap_or_default();
            let key = state.flash.put(Some(user.id), vec![("report".into(), report), ("file".into(), filename)]).await;
            see_other(&format!("/staff/import?report={key}&community={community}"))
        }
        Err(e) => {
            if let Some(c) = &e.cause {
                tracing::error!("import failed: {c:#}");
            }
            see_other(&format!("/staff/import?error={}&community={community}", e.code.as_str()))
        }
    }
}
