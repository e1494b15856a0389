//! WeChat OAuth (snsapi_base) routes. 404 unless WECHAT_APPID/SECRET are set.

use actix_web::get;
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use app::session::{ACCESS_COOKIE, REFRESH_COOKIE};
use backend::{auth, wechat, State};
use serde::Deserialize;

pub const STATE_COOKIE: &str = "zhsq_wx_state";
pub const BIND_COOKIE: &str = app::session::WECHAT_BIND_COOKIE;

use crate::middleware::session_cookie as cookie;

fn found(to: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Found();
    b.insert_header((header::LOCATION, to.to_string()));
    b
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Start {
    next: Option<String>,
}

/// GET /auth/wechat?next=/path: off to WeChat's authorize page.
#[utoipa::path(get, tag = "auth", summary = "Inside WeChat: off to WeChat's authorize page (snsapi_base)", params(Start), security(()), responses((status = 302, description = "to open.weixin.qq.com"), (status = 404, description = "WeChat login is not configured", body = crate::openapi::ErrorBody)))]
#[get("/auth/wechat")]
pub async fn wechat_start(req: HttpRequest, state: web::Data<State>, q: web::Query<Start>) -> HttpResponse {
    let Some(wx) = &state.wechat else { return crate::security::refusal(&req, domain::ErrorCode::NotFound) };
    let next = app::auth::safe_next(q.next.as_deref().unwrap_or("/"));
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = format!("{}/auth/wechat/callback", state.config.public_url.trim_end_matches('/'));
    let secure = state.config.https();
    found(&wx.authorize_url(&redirect_uri, &nonce))
        .cookie(cookie(STATE_COOKIE, &format!("{nonce}|{next}"), 600, secure))
        .finish()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
}

/// GET /auth/wechat/callback?code=…&state=…
#[utoipa::path(get, tag = "auth", summary = "WeChat's OAuth callback: logs in the bound resident or asks to bind", params(Callback), security(()), responses((status = 302, description = "to the page asked for, or to /login to bind the phone"), (status = 404, description = "WeChat login is not configured", body = crate::openapi::ErrorBody)))]
#[get("/auth/wechat/callback")]
pub async fn wechat_callback(req: HttpRequest, state: web::Data<State>, q: web::Query<Callback>) -> HttpResponse {
    let Some(wx) = &state.wechat else { return crate::security::refusal(&req, domain::ErrorCode::NotFound) };
    let secure = state.config.https();
    let failed = |why: &str| {
        tracing::warn!("wechat login failed: {why}");
        found("/login?error=wechat_failed").cookie(cookie(STATE_COOKIE, "", 0, secure)).finish()
    };
    let saved = req.cookie(STATE_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    let (nonce, next) = saved.split_once('|').unwrap_or(("", "/"));
    let (Some(code), Some(got)) = (q.code.as_deref(), q.state.as_deref()) else { return failed("no code") };
    if nonce.is_empty() || got != nonce {
        return failed("state mismatch");
    }
    let next = app::auth::safe_next(next);
    let openid = match wx.exchange_code(code).await {
        Ok(o) => o,
        Err(e) => return failed(&e.to_string()),
    };
    match wechat::user_by_openid(&state, &openid).await {
        Ok(Some(user)) => match auth::issue_session(&state, user.id, None).await {
            Ok(s) => found(&next)
                .cookie(cookie(STATE_COOKIE, "", 0, secure))
                .cookie(cookie(ACCESS_COOKIE, &s.access_token, s.access_expires_in.as_secs() as i64, secure))
                .cookie(cookie(REFRESH_COOKIE, &s.refresh_token, s.refresh_expires_in.as_secs() as i64, secure))
                .finish(),
            Err(e) => failed(&e.to_string()),
        },
        Ok(None) => match wechat::bind_token(&state, &openid) {
            // not known yet: log in by phone once, and the openid is bound to that account
            Ok(t) => {
                let q = backend::url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("wechat", "bind")
                    .append_pair("next", &next)
                    .finish();
                found(&format!("/login?{q}"))
                    .cookie(cookie(STATE_COOKIE, "", 0, secure))
                    .cookie(cookie(BIND_COOKIE, &t, 600, secure))
                    .finish()
            }
            Err(e) => failed(&e.to_string()),
        },
        Err(e) => failed(&e.to_string()),
    }
}
