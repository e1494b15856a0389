//! Production adapters, all off unless configured, none reached by tests
//! except through local fakes:
//!
//! - `SmsGateway`: an HTTP SMS gateway (the deployment's provider or an
//!   internal relay) taking `POST {phone, template, params}` with a bearer
//!   token. Sends one-time codes (`CODE_SENDER=sms`) and, where the user
//!   switched SMS on for a type that allows it, notifications.
//! - `WeChatSubscribe`: WeChat official-account subscription messages
//!   (订阅通知, `cgi-bin/message/subscribe/bizsend`) to users who logged in
//!   with WeChat, following their push preference. Access tokens come from
//!   `cgi-bin/stable_token`, which hands every instance the same token, so
//!   instances never invalidate each other's.

use async_trait::async_trait;
use domain::{
    notify::{NotificationKind, Pref},
    Phone,
};
use sea_orm::EntityTrait;
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use crate::{
    entities::{notification, user},
    error::{AppError, AppResult},
    notify::Channel,
    sender::CodeSender,
    State,
};

/// Outbound HTTP for adapters and push: bounded in time, never redirected.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub struct SmsGateway {
    url: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl SmsGateway {
    pub fn new(url: &str, token: Option<&str>) -> SmsGateway {
        SmsGateway { url: url.to_string(), token: token.map(str::to_string), client: http_client() }
    }

    pub async fn send(&self, phone: &str, template: &str, params: serde_json::Value) -> anyhow::Result<()> {
        let mut req = self
            .client
            .post(&self.url)
            .json(&serde_json::json!({ "phone": phone, "template": template, "params": params }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await?;
        if !res.status().is_success() {
            anyhow::bail!("SMS gateway answered {}", res.status());
        }
        Ok(())
    }
}

#[async_trait]
impl CodeSender for SmsGateway {
    async fn send(&self, phone: &Phone, code: &str) -> AppResult<()> {
        SmsGateway::send(self, phone.as_str(), "login_code", serde_json::json!({ "code": code }))
            .await
            .map_err(AppError::internal)?;
        tracing::info!(phone = %phone.masked(), "one-time code sent by SMS");
        Ok(())
    }
}

/// SMS for notifications: only types that allow it, only when switched on.
pub struct SmsChannel(pub std::sync::Arc<SmsGateway>);

#[async_trait]
impl Channel for SmsChannel {
    fn name(&self) -> &'static str {
        "sms"
    }

    async fn send(
        &self,
        state: &State,
        item: &notification::Model,
        kind: NotificationKind,
        pref: &Pref,
    ) -> anyhow::Result<()> {
        if !(pref.sms && kind.sms_allowed()) {
            return Ok(());
        }
        let Some(u) = user::Entity::find_by_id(item.user_id).one(&state.db).await? else { return Ok(()) };
        let link = format!("{}{}", state.config.public_url.trim_end_matches('/'), item.link);
        let title: String = item.title.chars().take(30).collect();
        self.0.send(&u.phone, kind.as_str(), serde_json::json!({ "title": title, "link": link })).await
    }
}

pub struct WeChatSubscribe {
    api_base: String,
    appid: String,
    secret: String,
    template_id: String,
    /// Template field names for the title and the time, e.g. `thing1,time2`.
    fields: (String, String),
    token: Mutex<Option<(String, Instant)>>,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    expires_in: Option<u64>,
    errcode: Option<i64>,
}

#[derive(Deserialize)]
struct SendReply {
    errcode: Option<i64>,
    errmsg: Option<String>,
}

impl WeChatSubscribe {
    pub fn from_config(c: &crate::Config) -> Option<WeChatSubscribe> {
        let (appid, secret, template_id) =
            (c.wechat_appid.clone()?, c.wechat_secret.clone()?, c.wechat_subscribe_template.clone()?);
        let (a, b) = c.wechat_subscribe_fields.split_once(',')?;
        Some(WeChatSubscribe {
            api_base: c.wechat_api_base.trim_end_matches('/').to_string(),
            appid,
            secret,
            template_id,
            fields: (a.trim().to_string(), b.trim().to_string()),
            token: Mutex::new(None),
            client: http_client(),
        })
    }

    async fn access_token(&self, refresh: bool) -> anyhow::Result<String> {
        let mut cached = self.token.lock().await;
        if let (false, Some((t, until))) = (refresh, cached.as_ref()) {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let reply: TokenReply = self
            .client
            .post(format!("{}/cgi-bin/stable_token", self.api_base))
            .json(&serde_json::json!({
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": false,
            }))
            .send()
            .await?
            .json()
            .await?;
        match (reply.access_token, reply.errcode) {
            (Some(t), None | Some(0)) => {
                let ttl = reply.expires_in.unwrap_or(7200).saturating_sub(300).max(60);
                *cached = Some((t.clone(), Instant::now() + Duration::from_secs(ttl)));
                Ok(t)
            }
            (_, code) => anyhow::bail!("WeChat token refused (errcode {code:?})"),
        }
    }
}

#[async_trait]
impl Channel for WeChatSubscribe {
    fn name(&self) -> &'static str {
        "wechat_subscribe"
    }

    async fn send(
        &self,
        state: &State,
        item: &notification::Model,
        _kind: NotificationKind,
        pref: &Pref,
    ) -> anyhow::Result<()> {
        if !pref.push {
            return Ok(());
        }
        let Some(u) = user::Entity::find_by_id(item.user_id).one(&state.db).await? else { return Ok(()) };
        let Some(openid) = u.wechat_openid else { return Ok(()) };
        // "thing" fields hold at most 20 characters
        let title: String = item.title.chars().take(20).collect();
        let time = domain::time::beijing_time(item.created_at);
        let body = serde_json::json!({
            "touser": openid,
            "template_id": self.template_id,
            "page": format!("{}{}", state.config.public_url.trim_end_matches('/'), item.link),
            "data": { &self.fields.0: { "value": title }, &self.fields.1: { "value": time } },
        });
        for refresh in [false, true] {
            let token = self.access_token(refresh).await?;
            let reply: SendReply = self
                .client
                .post(format!("{}/cgi-bin/message/subscribe/bizsend?access_token={token}", self.api_base))
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            match reply.errcode.unwrap_or(0) {
                0 => return Ok(()),
                // the user has not subscribed (or used up their one-time consent): nothing to send
                43101 => return Ok(()),
                // token expired or replaced: fetch a fresh one once
                40001 | 42001 if !refresh => continue,
                code => anyhow::bail!("WeChat bizsend errcode {code}: {}", reply.errmsg.unwrap_or_default()),
            }
        }
        Ok(())
    }
}
