//! Request middleware: who is calling (access token from the Bearer header or
//! the cookie, refreshed transparently from the refresh cookie). The security
//! headers and the cross-site check are in `security`.

use actix_web::{
    body::{EitherBody, MessageBody},
    cookie::{Cookie, SameSite},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, Error, HttpMessage,
};
use app::session::{ACCESS_COOKIE, REFRESH_COOKIE};
use backend::{auth, AppError, State};
use domain::ErrorCode;

/// The database (or Redis) is away: the caller cannot be told who they are,
/// and must not be told they are logged out (a 401 would send a phone's app
/// to the login page, an emptied cookie would end the session).
fn db_away(r: &Result<auth::CurrentUser, AppError>) -> bool {
    matches!(r, Err(e) if e.code == ErrorCode::Unavailable)
}

fn skip_auth(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/icons/")
        || matches!(path, "/sw.js" | "/manifest.webmanifest" | "/favicon.ico" | "/offline.html" | "/healthz")
}

pub fn bearer(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string())
}

/// An HttpOnly, SameSite=Lax cookie for the whole site (Secure over https).
pub fn session_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(name.to_string(), value.to_string())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// Puts the `CurrentUser` into the request extensions when the caller is
/// logged in. An expired cookie session is renewed from the refresh cookie
/// (rotating it); a Bearer caller refreshes explicitly via the API. When the
/// database cannot be reached the request is answered 503 "try again" and
/// the session is left as it is.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if skip_auth(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<State>>().map(|s| s.get_ref().clone()) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let away = |req: ServiceRequest| {
        let res = crate::security::refusal(req.request(), ErrorCode::Unavailable);
        Ok(req.into_response(res).map_into_right_body())
    };
    let mut renewed: Option<auth::Session> = None;
    let mut clear = false;
    if let Some(token) = bearer(&req) {
        let r = auth::authenticate(&state, &token).await;
        if db_away(&r) {
            return away(req);
        }
        if let Ok(user) = r {
            req.extensions_mut().insert(user);
        }
    } else {
        let access = req.cookie(ACCESS_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
        let refresh = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
        let mut user = match &access {
            Some(t) => {
                let r = auth::authenticate(&state, t).await;
                if db_away(&r) {
                    return away(req);
                }
                r.ok()
            }
            None => None,
        };
        if user.is_none() {
            if let Some(rt) = refresh {
                match auth::refresh(&state, &rt).await {
                    Ok(s) => {
                        let r = auth::authenticate(&state, &s.access_token).await;
                        if db_away(&r) {
                            return away(req);
                        }
                        user = r.ok();
                        renewed = Some(s);
                    }
                    Err(e) if e.code == ErrorCode::Unavailable => return away(req),
                    Err(_) => clear = true,
                }
            } else if access.is_some() {
                clear = true;
            }
        }
        if let Some(u) = user {
            req.extensions_mut().insert(u);
        }
    }
    let secure = state.config.https();
    let mut res = next.call(req).await?;
    if let Some(s) = renewed {
        let _ = res.response_mut().add_cookie(&session_cookie(
            ACCESS_COOKIE,
            &s.access_token,
            s.access_expires_in.as_secs() as i64,
            secure,
        ));
        let _ = res.response_mut().add_cookie(&session_cookie(
            REFRESH_COOKIE,
            &s.refresh_token,
            s.refresh_expires_in.as_secs() as i64,
            secure,
        ));
    } else if clear && !res.headers().contains_key(header::SET_COOKIE) {
        let _ = res.response_mut().add_cookie(&session_cookie(ACCESS_COOKIE, "", 0, secure));
        let _ = res.response_mut().add_cookie(&session_cookie(REFRESH_COOKIE, "", 0, secure));
    }
    Ok(res.map_into_left_body())
}

/// The cookie the client sets when it sends a form (`app::enhance::Draft`).
pub const DRAFT_COOKIE: &str = "zhsq_draft";

/// The client keeps what a form held until its post is answered
/// (`app::enhance`): the answer to a page's post takes the cookie away, so a
/// page that opens with the cookie still there knows the post never arrived.
/// Posts a script sends itself (`Sec-Fetch-Mode: cors`) leave it alone.
pub async fn draft_answered(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let answered = req.method() == actix_web::http::Method::POST
        && req.cookie(DRAFT_COOKIE).is_some()
        && req.headers().get("sec-fetch-mode").is_none_or(|m| m.as_bytes() == b"navigate");
    let mut res = next.call(req).await?;
    if answered {
        let gone = Cookie::build(DRAFT_COOKIE, "")
            .path("/")
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::ZERO)
            .finish();
        let _ = res.response_mut().add_cookie(&gone);
    }
    Ok(res)
}
