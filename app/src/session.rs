//! What every page needs to know about the request: who is logged in, the
//! language, large-text mode, whether we are inside WeChat. Plus the
//! server-side helpers that server functions share.

use crate::i18n::Lang;
use domain::{ErrorCode, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const LANG_COOKIE: &str = "zhsq_lang";
pub const LARGE_TEXT_COOKIE: &str = "zhsq_large";
/// Set when a WeChat user closes the "open in the browser" hint for good.
pub const NO_HINT_COOKIE: &str = "zhsq_nohint";
pub const ACCESS_COOKIE: &str = "zhsq_at";
pub const REFRESH_COOKIE: &str = "zhsq_rt";
/// Carries a WeChat openid to bind at the next login (signed, 10 minutes).
pub const WECHAT_BIND_COOKIE: &str = "zhsq_wx_bind";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    /// Masked (138****8000): the full number is never sent to a page.
    pub phone_masked: String,
    pub roles: Vec<(Role, String)>,
    pub primary: Option<Role>,
    /// Unread inbox items when the page was rendered.
    pub unread: u64,
}

impl UserInfo {
    pub fn is_staff(&self) -> bool {
        self.roles.iter().any(|(r, _)| r.is_staff())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: Option<UserInfo>,
    pub lang: Lang,
    pub large_text: bool,
    pub in_wechat: bool,
    /// The WeChat hint was closed for good on this phone.
    pub hint_closed: bool,
    pub dev_mode: bool,
    /// Payments run on the sandbox outside development (a banner on every page).
    pub simulated_payments: bool,
    /// One-time codes go to the log outside development (a banner on every page).
    pub simulated_codes: bool,
    /// WeChat login is configured.
    pub wechat_login: bool,
}

/// Shown to the user for a server function error.
pub fn error_text(e: &ServerFnError, lang: Lang) -> String {
    let code = match e {
        ServerFnError::ServerError(s) => ErrorCode::parse(s).unwrap_or(ErrorCode::Internal),
        _ => ErrorCode::Internal,
    };
    code.message(lang.is_en()).to_string()
}

pub fn code_text(code: &str, lang: Lang) -> String {
    ErrorCode::parse(code).unwrap_or(ErrorCode::Internal).message(lang.is_en()).to_string()
}

#[server]
pub async fn get_session() -> Result<SessionInfo, ServerFnError> {
    use ssr::*;
    let req = request()?;
    let unread = match current_user() {
        Some(u) => backend::notify::unread(&state()?, u.id).await.unwrap_or(0),
        None => 0,
    };
    let user = current_user().map(|u| UserInfo {
        unread,
        id: u.id,
        name: u.name.clone(),
        phone_masked: u.phone.masked(),
        roles: u.grants.iter().map(|g| (g.role, g.org_name.clone())).collect(),
        primary: u.primary_role(),
    });
    Ok(SessionInfo {
        user,
        lang: lang_of(&req),
        large_text: large_text_of(&req),
        in_wechat: in_wechat(&req),
        hint_closed: req.cookie(NO_HINT_COOKIE).is_some_and(|c| c.value() == "1"),
        dev_mode: state()?.config.dev_mode,
        simulated_payments: state()?.config.simulated_payments(),
        simulated_codes: state()?.config.simulated_codes(),
        wechat_login: state()?.wechat.is_some(),
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use actix_web::{
        cookie::{Cookie, SameSite},
        http::header,
        HttpMessage, HttpRequest,
    };
    use backend::{auth::CurrentUser, State};

    /// The response header by which a page hands its CSP nonce to the
    /// server's header middleware, which turns it into the policy and drops it.
    pub const NONCE_HEADER: &str = "x-csp-nonce";

    pub fn err(code: ErrorCode) -> ServerFnError {
        page_status(code);
        ServerFnError::ServerError(code.as_str().to_string())
    }

    /// Maps a service error to what the user sees; the cause goes to the log only.
    pub fn app_err(e: backend::AppError) -> ServerFnError {
        if let Some(cause) = &e.cause {
            tracing::error!(code = %e.code, "request failed: {cause:#}");
        }
        err(e.code)
    }

    /// A page whose record does not exist or is not the reader's answers
    /// 404, one the reader may see but not use 403 (as the REST API does),
    /// not 200 with the error text. Only for rendering pages (GET): a form's
    /// server function gets its status from `server::security::server_fn_status`.
    pub fn page_status(code: ErrorCode) {
        use actix_web::http::{Method, StatusCode};
        let status = match code {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            _ => return,
        };
        let is_page = request().map(|r| r.method() == Method::GET).unwrap_or(false);
        if let (true, Some(res)) = (is_page, use_context::<leptos_actix::ResponseOptions>()) {
            res.set_status(status);
        }
    }

    pub fn state() -> Result<State, ServerFnError> {
        use_context::<State>().ok_or_else(|| err(ErrorCode::Internal))
    }

    pub fn request() -> Result<HttpRequest, ServerFnError> {
        use_context::<leptos_actix::Request>().map(|r| r.into_inner()).ok_or_else(|| err(ErrorCode::Internal))
    }

    /// Set by the authentication middleware.
    pub fn current_user() -> Option<CurrentUser> {
        request().ok().and_then(|r| r.extensions().get::<CurrentUser>().cloned())
    }

    pub fn require_user() -> Result<CurrentUser, ServerFnError> {
        current_user().ok_or_else(|| err(ErrorCode::NotLoggedIn))
    }

    /// The caller, who must hold a staff role: anyone else is turned away
    /// before their input is looked at (a plain form goes back to `page`).
    pub fn require_staff(page: &str) -> Result<CurrentUser, ServerFnError> {
        let user = require_user()?;
        if user.is_staff() {
            Ok(user)
        } else {
            Err(fail_form(page, ErrorCode::Forbidden, &[]))
        }
    }

    /// The caller, who must hold `role` (staff roles do not stand in for it).
    pub fn require_role(role: domain::Role, page: &str) -> Result<CurrentUser, ServerFnError> {
        let user = require_user()?;
        if user.has_role(role) {
            Ok(user)
        } else {
            Err(fail_form(page, ErrorCode::Forbidden, &[]))
        }
    }

    pub fn lang_of(req: &HttpRequest) -> Lang {
        if let Some(l) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return l;
        }
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    }

    pub fn large_text_of(req: &HttpRequest) -> bool {
        req.cookie(LARGE_TEXT_COOKIE).map(|c| c.value() == "1").unwrap_or(false)
    }

    /// WeChat's in-app browser, but not WeCom (企业微信), which says `wxwork` too.
    pub fn in_wechat(req: &HttpRequest) -> bool {
        let ua = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        ua.contains("MicroMessenger") && !ua.contains("wxwork")
    }

    /// The outcome of an import kept in the flash store under `report`
    /// (the upload redirects here with its key): the file's name and the report.
    pub async fn import_report<T: serde::de::DeserializeOwned>(
        state: &State,
        user: &CurrentUser,
        report: Option<String>,
    ) -> (Option<String>, Option<T>) {
        let kept = match report {
            Some(k) => state.flash.get(&k, Some(user.id)).await,
            None => Vec::new(),
        };
        let field = |n: &str| kept.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        (field("file"), field("report").and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// The client's address for rate limits and payment orders: the TCP
    /// peer, or what the proxies in `TRUSTED_PROXIES` say it is
    /// (`backend::client_addr`); never a header the client alone wrote.
    pub fn client_ip(req: &HttpRequest) -> String {
        let trusted =
            req.app_data::<actix_web::web::Data<State>>().map(|s| s.config.trusted_proxies.clone()).unwrap_or_default();
        let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
        backend::client_addr::client_ip(req.peer_addr().map(|a| a.ip()), &forwarded, &trusted)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// A plain HTML form post (no WASM): answer with a redirect, not data.
    pub fn is_plain_form(req: &HttpRequest) -> bool {
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.contains("text/html"))
            .unwrap_or(false)
    }

    pub fn query(pairs: &[(&str, &str)]) -> String {
        let mut s = backend::url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }

    /// Fails a form: a plain post is sent back to `page` with the error and
    /// what the user typed (`keep`), so nothing is lost; a hydrated form just
    /// gets the error, and its inputs are still on the screen.
    pub fn fail_form(page: &str, code: ErrorCode, keep: &[(&str, &str)]) -> ServerFnError {
        if let Ok(req) = request() {
            if is_plain_form(&req) {
                let mut pairs = vec![("error", code.as_str())];
                pairs.extend_from_slice(keep);
                // "/staff#contacts": back to the form itself, the query before the fragment
                let (path, fragment) =
                    page.split_once('#').map(|(p, f)| (p, format!("#{f}"))).unwrap_or((page, String::new()));
                leptos_actix::redirect(&format!("{path}?{}{fragment}", query(&pairs)));
            }
        }
        err(code)
    }

    /// A service error on a form: the cause is logged, and the form goes back
    /// to `page` with the error and what was typed (see `fail_form`).
    pub fn form_error(e: backend::AppError, page: &str, keep: &[(&str, &str)]) -> ServerFnError {
        let code = e.code;
        let _ = app_err(e);
        fail_form(page, code, keep)
    }

    pub fn cookie(
        name: &str,
        value: &str,
        max_age_secs: i64,
        http_only: bool,
    ) -> Result<Cookie<'static>, ServerFnError> {
        let secure = state()?.config.https();
        Ok(Cookie::build(name.to_string(), value.to_string())
            .path("/")
            .http_only(http_only)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
            .finish())
    }

    pub fn set_cookie(c: Cookie<'static>) {
        if let Some(res) = use_context::<leptos_actix::ResponseOptions>() {
            if let Ok(v) = header::HeaderValue::from_str(&c.to_string()) {
                res.append_header(header::SET_COOKIE, v);
            }
        }
    }

    /// Puts a new login into the cookies, and binds a WeChat openid waiting
    /// in the bind cookie to the account that just logged in.
    pub async fn finish_login(s: &backend::auth::Session) -> Result<(), ServerFnError> {
        set_session_cookies(s)?;
        let req = request()?;
        // a language chosen on another device follows the user, unless this browser has its own
        if req.cookie(LANG_COOKIE).is_none() {
            let state = state()?;
            if backend::auth::language(&state, s.user_id).await.map_err(app_err)? == Some(crate::i18n::Lang::En) {
                set_cookie(cookie(LANG_COOKIE, "en", 365 * 86_400, false)?);
            }
        }
        if let Some(c) = req.cookie(WECHAT_BIND_COOKIE) {
            let state = state()?;
            if let Some(openid) = backend::wechat::read_bind_token(&state, c.value()) {
                backend::wechat::bind(&state, s.user_id, &openid).await.map_err(app_err)?;
            }
            set_cookie(cookie(WECHAT_BIND_COOKIE, "", 0, true)?);
        }
        Ok(())
    }

    pub fn set_session_cookies(s: &backend::auth::Session) -> Result<(), ServerFnError> {
        set_cookie(cookie(ACCESS_COOKIE, &s.access_token, s.access_expires_in.as_secs() as i64, true)?);
        set_cookie(cookie(REFRESH_COOKIE, &s.refresh_token, s.refresh_expires_in.as_secs() as i64, true)?);
        Ok(())
    }

    pub fn clear_session_cookies() -> Result<(), ServerFnError> {
        set_cookie(cookie(ACCESS_COOKIE, "", 0, true)?);
        set_cookie(cookie(REFRESH_COOKIE, "", 0, true)?);
        Ok(())
    }
}
