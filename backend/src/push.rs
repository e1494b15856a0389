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
use std::net::IpAddr;

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

/// Where the server may send push messages: the browsers' push services,
/// never this machine or its private network (a subscription is an address
/// a user chose, and the server connects to it).
#[derive(Clone, Debug)]
pub struct EndpointPolicy {
    /// Plain http (development and tests only).
    pub allow_http: bool,
    /// Loopback, private and link-local addresses (development and tests only).
    pub allow_private: bool,
    /// Host names allowed (`*.example.com` matches its subdomains; `*` any
    /// public host). Ignored when `allow_private`.
    pub hosts: Vec<String>,
}

/// The push services of the browsers people use (Chrome and its Chinese
/// derivatives use FCM, Firefox Mozilla's, Edge WNS, Safari Apple's).
pub const DEFAULT_PUSH_HOSTS: &str =
    "fcm.googleapis.com,android.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,*.push.apple.com";

impl EndpointPolicy {
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| {
            h == "*" || *h == host || h.strip_prefix("*.").is_some_and(|suffix| host.ends_with(&format!(".{suffix}")))
        })
    }

    /// Whether the server may connect to `url` as far as its text tells:
    /// scheme, host list, and an address literal's range. Names are checked
    /// again after resolution when sending (`PublicOnly`).
    pub fn allows(&self, url: &url::Url) -> bool {
        let scheme_ok = url.scheme() == "https" || (self.allow_http && url.scheme() == "http");
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        if self.allow_private {
            return url.host().is_some();
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)) && self.hosts.iter().any(|h| h == "*"),
            Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)) && self.hosts.iter().any(|h| h == "*"),
            Some(url::Host::Domain(d)) => !is_local_name(d) && self.host_allowed(d),
            None => false,
        }
    }
}

fn is_local_name(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost"
        || d.ends_with(".localhost")
        || d.ends_with(".local")
        || d.ends_with(".internal")
        || !d.contains('.')
}

/// A globally reachable unicast address: not loopback, private, shared (CGNAT),
/// link-local (cloud metadata at 169.254.169.254), unspecified, multicast,
/// broadcast, documentation or unique-local.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || seg[0] == 0x2001 && seg[1] == 0x0db8
                || (seg[0] == 0x64 && seg[1] == 0xff9b))
        }
    }
}

/// Resolves names for the push client and keeps only public addresses, so a
/// name that points (or is re-pointed) at this machine or its network is
/// never connected to.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Subscriptions kept per user: a new browser beyond this replaces the one
/// that has gone longest without a message.
pub const MAX_SUBSCRIPTIONS_PER_USER: u64 = 10;

impl NewSubscription {
    /// Checks a subscription from outside against where the server may connect.
    pub fn parse(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        device: &str,
        policy: &EndpointPolicy,
    ) -> Result<Self, ErrorCode> {
        let url = url::Url::parse(endpoint.trim()).map_err(|_| ErrorCode::InvalidInput)?;
        if !policy.allows(&url) || endpoint.len() > 1000 {
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
    let mine = devices(state, user.id).await?;
    if mine.len() as u64 >= MAX_SUBSCRIPTIONS_PER_USER && !mine.iter().any(|d| d.endpoint == s.endpoint) {
        let mut by_age: Vec<_> = mine.iter().map(|d| (d.last_sent_at.unwrap_or(d.created_at), d.id)).collect();
        by_age.sort();
        let surplus = mine.len() + 1 - MAX_SUBSCRIPTIONS_PER_USER as usize;
        let ids: Vec<i64> = by_age.iter().take(surplus).map(|(_, id)| *id).collect();
        push_subscription::Entity::delete_many()
            .filter(push_subscription::Column::Id.is_in(ids))
            .exec(&state.db)
            .await?;
    }
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
    policy: EndpointPolicy,
    client: reqwest::Client,
}

impl WebPush {
    pub fn new(vapid: Vapid, policy: EndpointPolicy) -> WebPush {
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none());
        if !policy.allow_private {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        WebPush { vapid, policy, client: builder.build().unwrap_or_default() }
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
        // checked again: the policy may have narrowed since the browser subscribed
        let endpoint = url::Url::parse(&sub.endpoint)?;
        if !self.policy.allows(&endpoint) {
            push_subscription::Entity::delete_by_id(sub.id).exec(&state.db).await?;
            tracing::warn!(subscription = sub.id, "push endpoint not allowed by the push policy; removed");
            return Ok(false);
        }
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
    use super::*;

    const KEY: &str = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
    const AUTH: &str = "tBHItJI5svbpez7KI4CCXg";

    fn production() -> EndpointPolicy {
        EndpointPolicy {
            allow_http: false,
            allow_private: false,
            hosts: DEFAULT_PUSH_HOSTS.split(',').map(String::from).collect(),
        }
    }

    fn dev() -> EndpointPolicy {
        EndpointPolicy { allow_http: true, allow_private: true, hosts: vec![] }
    }

    #[test]
    fn subscriptions_are_checked_at_the_edge() {
        let p = production();
        let ok = NewSubscription::parse("https://fcm.googleapis.com/fcm/send/abc", KEY, AUTH, "Android", &p).unwrap();
        assert_eq!(ok.p256dh, KEY);
        assert!(NewSubscription::parse("https://wns2-sg2p.notify.windows.com/w/?token=x", KEY, AUTH, "", &p).is_ok());
        assert!(NewSubscription::parse("https://web.push.apple.com/QG", KEY, AUTH, "", &p).is_ok());
        assert!(NewSubscription::parse("http://fcm.googleapis.com/x", KEY, AUTH, "", &p).is_err());
        assert!(NewSubscription::parse("http://127.0.0.1:9/x", KEY, AUTH, "", &dev()).is_ok());
        assert!(NewSubscription::parse("javascript:alert(1)", KEY, AUTH, "", &dev()).is_err());
        assert!(NewSubscription::parse("https://fcm.googleapis.com/x", "AAAA", AUTH, "", &p).is_err());
        assert!(NewSubscription::parse("https://fcm.googleapis.com/x", KEY, "c2hvcnQ", "", &p).is_err());
    }

    #[test]
    fn no_push_to_this_machine_or_its_network() {
        let mut any_public = production();
        any_public.hosts = vec!["*".into()];
        for bad in [
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://10.1.2.3/x",
            "https://192.168.1.1/x",
            "https://172.16.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://0.0.0.0/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[fd00::1]/x",
            "https://100.64.0.1/x",
            "https://metadata/x",
            "https://user:pw@fcm.googleapis.com/x",
        ] {
            for p in [production(), any_public.clone()] {
                assert!(NewSubscription::parse(bad, KEY, AUTH, "", &p).is_err(), "{bad} with {:?}", p.hosts);
            }
        }
        // only the known push services, unless configured otherwise
        assert!(NewSubscription::parse("https://push.evil.example/x", KEY, AUTH, "", &production()).is_err());
        assert!(
            NewSubscription::parse("https://fcm.googleapis.com.evil.example/x", KEY, AUTH, "", &production()).is_err()
        );
        assert!(NewSubscription::parse("https://push.evil.example/x", KEY, AUTH, "", &any_public).is_ok());
        assert!(NewSubscription::parse("https://8.8.8.8/x", KEY, AUTH, "", &any_public).is_ok());
        assert!(is_public("8.8.8.8".parse().unwrap()) && !is_public("169.254.169.254".parse().unwrap()));
    }

    #[tokio::test]
    async fn names_are_resolved_to_public_addresses_only() {
        use reqwest::dns::Resolve;
        let r = PublicOnly.resolve("localhost".parse().unwrap()).await;
        assert!(r.is_err(), "localhost resolves to loopback only");
    }
}
