//! Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption,
//! RFC 8292 VAPID) as a notification channel.
//!
//! The VAPID key pair is made on first start and kept in the `settings`
//! table, so every instance signs with the same key and browsers' existing
//! subscriptions stay valid across restarts. Subscriptions are per device;
//! a push service answering 404 or 410 means the subscription is gone, and
//! it is removed.

use async_trait::async_trait;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Utc;
use domain::notify::{NotificationKind, Pref};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use web_push::{
    ContentEncoding, PartialVapidSignatureBuilder, SubscriptionInfo, VapidSignatureBuilder, WebPushMessageBuilder,
};

use crate::{
    auth::CurrentUser,
    entities::{notification, push_subscription, setting},
    error::AppResult,
    notify::Channel,
    State,
};
use domain::ErrorCode;

const VAPID_KEY: &str = "vapid_private_key";

/// The server's VAPID identity.
#[derive(Clone)]
pub struct Vapid {
    signer: PartialVapidSignatureBuilder,
    /// Uncompressed P-256 public key, base64url: the browser's applicationServerKey.
    pub public_key: String,
    /// `mailto:` or `https:` contact for push services (the `sub` claim).
    pub subject: String,
}

impl Vapid {
    /// Loads the key pair, creating it once for the whole deployment.
    pub async fn load_or_create<C: ConnectionTrait>(db: &C, subject: &str) -> anyhow::Result<Vapid> {
        let fresh = URL_SAFE_NO_PAD.encode(jwt_simple::algorithms::ES256KeyPair::generate().to_bytes());
        // the first instance to start wins; everyone reads the stored one
        setting::Entity::insert(setting::ActiveModel {
            key: Set(VAPID_KEY.into()),
            value: Set(fresh),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([setting::Column::Key])
        .exec_without_returning(db)
        .await?;
        let stored = setting::Entity::find_by_id(VAPID_KEY.to_string())
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("VAPID key missing"))?;
        let signer = VapidSignatureBuilder::from_base64_no_sub(&stored.value)
            .map_err(|e| anyhow::anyhow!("stored VAPID key is unusable: {e}"))?;
        let public_key = URL_SAFE_NO_PAD.encode(signer.get_public_key());
        Ok(Vapid { signer, public_key, subject: subject.to_string() })
    }
}

/// A browser's subscription as it arrives from outside, checked.
#[derive(Clone, Debug)]
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub device: String,
}

impl NewSubscription {
    /// `allow_http` admits plain-http endpoints (development and tests only).
    pub fn parse(endpoint: &str, p256dh: &str, auth: &str, device: &str, allow_http: bool) -> Result<Self, ErrorCode> {
        let url = url::Url::parse(endpoint.trim()).map_err(|_| ErrorCode::InvalidInput)?;
        let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
        if !scheme_ok || url.host_str().is_none() || endpoint.len() > 1000 {
            return Err(ErrorCode::InvalidInput);
        }
        let key = URL_SAFE_NO_PAD.decode(p256dh.trim().trim_end_matches('=')).map_err(|_| ErrorCode::InvalidInput)?;
        let secret = URL_SAFE_NO_PAD.decode(auth.trim().trim_end_matches('=')).map_err(|_| ErrorCode::InvalidInput)?;
        // an uncompressed P-256 point and a 16-byte secret (RFC 8291 §3)
        if key.len() != 65 || key[0] != 4 || secret.len() != 16 {
            return Err(ErrorCode::InvalidInput);
        }
        Ok(NewSubscription {
            endpoint: url.to_string(),
            p256dh: URL_SAFE_NO_PAD.encode(key),
            auth: URL_SAFE_NO_PAD.encode(secret),
            device: device.chars().filter(|c| !c.is_control()).take(100).collect(),
        })
    }
}

/// Saves a device's subscription for the user (a device that changes hands
/// moves to its new user).
pub async fn subscribe(state: &State, user: &CurrentUser, s: NewSubscription) -> AppResult<()> {
    push_subscription::Entity::insert(push_subscription::ActiveModel {
        user_id: Set(user.id),
        endpoint: Set(s.endpoint),
        p256dh: Set(s.p256dh),
        auth: Set(s.auth),
        device: Set(s.device),
        created_at: Set(Utc::now()),
        last_sent_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(push_subscription::Column::Endpoint)
            .update_columns([
                push_subscription::Column::UserId,
                push_subscription::Column::P256dh,
                push_subscription::Column::Auth,
                push_subscription::Column::Device,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

pub async fn unsubscribe(state: &State, user: &CurrentUser, endpoint: &str) -> AppResult<bool> {
    let r = push_subscription::Entity::delete_many()
        .filter(push_subscription::Column::UserId.eq(user.id))
        .filter(push_subscription::Column::Endpoint.eq(endpoint.trim()))
        .exec(&state.db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn devices(state: &State, user_id: i64) -> AppResult<Vec<push_subscription::Model>> {
    Ok(push_subscription::Entity::find().filter(push_subscription::Column::UserId.eq(user_id)).all(&state.db).await?)
}

/// What the service worker receives (public/sw.js).
#[derive(serde::Serialize)]
struct Payload<'a> {
    title: &'a str,
    body: &'a str,
    link: &'a str,
    tag: String,
}

pub struct WebPush {
    pub vapid: Vapid,
    client: reqwest::Client,
}

impl WebPush {
    pub fn new(vapid: Vapid) -> WebPush {
        WebPush { vapid, client: crate::adapters::http_client() }
    }

    /// Encrypts and sends one message to one subscription. `Ok(false)` means
    /// the subscription is gone (404/410) and was removed.
    pub async fn send_one(
        &self,
        state: &State,
        sub: &push_subscription::Model,
        payload: &[u8],
        ttl: u32,
        urgency: domain::notify::Urgency,
    ) -> anyhow::Result<bool> {
        let info = SubscriptionInfo::new(sub.endpoint.as_str(), sub.p256dh.as_str(), sub.auth.as_str());
        let mut sig = self.vapid.signer.clone().add_sub_info(&info);
        sig.add_claim("sub", self.vapid.subject.as_str());
        // RFC 8292 §2: the audience is the push resource's origin, port
        // included (the crate's default drops a non-default port)
        let origin = url::Url::parse(&sub.endpoint)?.origin().ascii_serialization();
        sig.add_claim("aud", origin.as_str());
        let mut msg = WebPushMessageBuilder::new(&info);
        msg.set_payload(ContentEncoding::Aes128Gcm, payload);
        msg.set_ttl(ttl);
        msg.set_urgency(match urgency {
            domain::notify::Urgency::Low => web_push::Urgency::Low,
            domain::notify::Urgency::Normal => web_push::Urgency::Normal,
            domain::notify::Urgency::High => web_push::Urgency::High,
        });
        msg.set_vapid_signature(sig.build()?);
        let req: http::Request<Vec<u8>> = web_push::request_builder::build_request(msg.build()?);
        let (parts, body) = req.into_parts();
        let mut out = self.client.post(parts.uri.to_string()).body(body);
        for (name, value) in parts.headers.iter() {
            out = out.header(name.as_str(), value.as_bytes());
        }
        let res = out.send().await?;
        let status = res.status().as_u16();
        match status {
            200..=299 => {
                push_subscription::Entity::update_many()
                    .col_expr(push_subscription::Column::LastSentAt, sea_orm::sea_query::Expr::value(Utc::now()))
                    .filter(push_subscription::Column::Id.eq(sub.id))
                    .exec(&state.db)
                    .await?;
                Ok(true)
            }
            404 | 410 => {
                push_subscription::Entity::delete_by_id(sub.id).exec(&state.db).await?;
                tracing::info!(subscription = sub.id, status, "push subscription gone; removed");
                Ok(false)
            }
            _ => {
                let text: String = res.text().await.unwrap_or_default().chars().take(200).collect();
                anyhow::bail!("push service answered {status}: {text}")
            }
        }
    }
}

#[async_trait]
impl Channel for WebPush {
    fn name(&self) -> &'static str {
        "web_push"
    }

    async fn send(
        &self,
        state: &State,
        item: &notification::Model,
        kind: NotificationKind,
        pref: &Pref,
    ) -> anyhow::Result<()> {
        if !pref.push {
            return Ok(());
        }
        let subs = devices(state, item.user_id).await?;
        if subs.is_empty() {
            return Ok(());
        }
        let body: String = item.body.chars().take(120).collect();
        let payload = serde_json::to_vec(&Payload {
            title: &item.title,
            body: &body,
            link: &item.link,
            tag: format!("n{}", item.id),
        })?;
        let mut errors = Vec::new();
        for s in &subs {
            if let Err(e) = self.send_one(state, s, &payload, kind.push_ttl_seconds(), kind.urgency()).await {
                errors.push(format!("subscription {}: {e}", s.id));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NewSubscription;

    const KEY: &str = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
    const AUTH: &str = "tBHItJI5svbpez7KI4CCXg";

    #[test]
    fn subscriptions_are_checked_at_the_edge() {
        let ok = NewSubscription::parse("https://push.example.com/send/abc", KEY, AUTH, "Android", false).unwrap();
        assert_eq!(ok.p256dh, KEY);
        assert!(NewSubscription::parse("http://push.example.com/x", KEY, AUTH, "", false).is_err());
        assert!(NewSubscription::parse("http://127.0.0.1:9/x", KEY, AUTH, "", true).is_ok());
        assert!(NewSubscription::parse("javascript:alert(1)", KEY, AUTH, "", true).is_err());
        assert!(NewSubscription::parse("https://p.example/x", "AAAA", AUTH, "", false).is_err());
        assert!(NewSubscription::parse("https://p.example/x", KEY, "c2hvcnQ", "", false).is_err());
    }
}
