//! WeChat OAuth login (网页授权, `snsapi_base`: silent, gives the openid).
//! Production adapter behind configuration (`WECHAT_APPID`, `WECHAT_SECRET`);
//! tests point `WECHAT_API_BASE` at a local fake of WeChat's token endpoint.
//!
//! Flow: /auth/wechat → WeChat's authorize page → /auth/wechat/callback with a
//! single-use `code` → exchanged server-side for the openid. A known openid
//! logs in; an unknown one is remembered in a signed, short-lived cookie and
//! bound to the account the user then logs in to by phone.

use domain::ErrorCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::{
    entities::user,
    error::{AppError, AppResult},
    State,
};

pub const AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";

#[derive(Clone)]
pub struct WeChat {
    appid: String,
    secret: String,
    api_base: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct TokenReply {
    openid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

impl WeChat {
    pub fn from_config(config: &crate::Config) -> Option<WeChat> {
        Some(WeChat {
            appid: config.wechat_appid.clone()?,
            secret: config.wechat_secret.clone()?,
            api_base: config.wechat_api_base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().ok()?,
        })
    }

    /// Where to send the browser: WeChat's authorize page, which comes back
    /// to `redirect_uri?code=…&state=…`.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("appid", &self.appid)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_base")
            .append_pair("state", state)
            .finish();
        format!("{AUTHORIZE_URL}?{q}#wechat_redirect")
    }

    /// Exchanges the single-use code for the user's openid.
    pub async fn exchange_code(&self, code: &str) -> AppResult<String> {
        let url = format!("{}/sns/oauth2/access_token", self.api_base);
        let reply: TokenReply = self
            .http
            .get(url)
            .query(&[
                ("appid", self.appid.as_str()),
                ("secret", self.secret.as_str()),
                ("code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| AppError { code: ErrorCode::WechatFailed, cause: Some(e.into()) })?
            .json()
            .await
            .map_err(|e| AppError { code: ErrorCode::WechatFailed, cause: Some(e.into()) })?;
        match (reply.openid, reply.errcode) {
            (Some(openid), None | Some(0)) if !openid.is_empty() && openid.len() <= 64 => Ok(openid),
            (_, code) => Err(AppError {
                code: ErrorCode::WechatFailed,
                cause: Some(anyhow::anyhow!("wechat errcode {code:?}: {}", reply.errmsg.unwrap_or_default())),
            }),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct BindClaims {
    openid: String,
    exp: i64,
    iss: String,
}

const BIND_ISSUER: &str = "zhsq-wechat-bind";

/// A signed token that carries an openid to bind after the next login (10 minutes).
pub fn bind_token(state: &State, openid: &str) -> AppResult<String> {
    let claims =
        BindClaims { openid: openid.to_string(), exp: chrono::Utc::now().timestamp() + 600, iss: BIND_ISSUER.into() };
    crate::auth::sign(state, &claims)
}

pub fn read_bind_token(state: &State, token: &str) -> Option<String> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_issuer(&[BIND_ISSUER]);
    jsonwebtoken::decode::<BindClaims>(token, &jsonwebtoken::DecodingKey::from_secret(&state.config.jwt_secret), &v)
        .ok()
        .map(|d| d.claims.openid)
}

pub async fn user_by_openid(state: &State, openid: &str) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::WechatOpenid.eq(openid))
        .filter(user::Column::Active.eq(true))
        .one(&state.db)
        .await?)
}

/// Binds `openid` to the user, unless another account holds it already.
pub async fn bind(state: &State, user_id: i64, openid: &str) -> AppResult<bool> {
    if user_by_openid(state, openid).await?.is_some() {
        return Ok(false);
    }
    let Some(u) = user::Entity::find_by_id(user_id).one(&state.db).await? else { return Ok(false) };
    let mut am: user::ActiveModel = u.into();
    am.wechat_openid = Set(Some(openid.to_string()));
    match am.update(&state.db).await {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
