//! Server-only core of 智慧社区: configuration, database, entities and the
//! services (identity, organisation, announcements). Never linked into the
//! WASM client (CI checks that).

pub mod adapters;
pub mod announcements;
pub mod appointments;
pub mod auth;
pub mod bills;
pub mod client_addr;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod entities;
pub mod error;
pub mod events;
pub mod figures;
pub mod flash;
pub mod idempotency;
pub mod import;
pub mod incidents;
pub mod jobs;
pub mod notify;
pub mod open311;
pub mod org;
pub mod patrol;
pub mod payments;
pub mod points;
pub mod push;
pub mod ratelimit;
pub mod residence;
pub mod sender;
pub mod support;
pub mod topics;
pub mod volunteer;
pub mod votes;
pub mod wechat;
pub mod wxpay;

use std::sync::Arc;

pub use config::Config;
pub use error::{AppError, AppResult};

/// The furthest a caller may page into a list (an offset from a query string).
pub const MAX_OFFSET: u64 = 1_000_000_000;

/// Everything a request needs, cheap to clone.
#[derive(Clone)]
pub struct State(Arc<Inner>);

pub struct Inner {
    pub db: sea_orm::DatabaseConnection,
    pub config: Config,
    pub limiter: Arc<dyn ratelimit::RateLimiter>,
    pub sender: Arc<dyn sender::CodeSender>,
    /// Set when the development code sender is in use.
    pub dev_sender: Option<Arc<sender::DevSender>>,
    pub flash: flash::FlashStore,
    /// Set when WeChat login is configured.
    pub wechat: Option<wechat::WeChat>,
    /// Live events: in-process, or through Redis when configured.
    pub bus: Arc<dyn events::Bus>,
    /// Wakes this instance's job worker.
    pub jobs: jobs::Kicker,
    /// What runs each kind of background job (`job_handlers`).
    pub job_handlers: jobs::Handlers,
    /// Ways beyond the inbox to reach people (Web Push, SMS, WeChat), as configured.
    pub channels: Vec<Arc<dyn notify::Channel>>,
    /// Set when Web Push is on.
    pub push: Option<Arc<push::WebPush>>,
    /// Who takes payments (the sandbox unless WeChat Pay is configured).
    pub payments: Arc<dyn payments::Provider>,
    /// Set when the sandbox provider is in use (its pay page and notifications).
    pub sandbox: Option<Arc<payments::sandbox::Sandbox>>,
    /// Set when WeChat Pay is the provider (its JSAPI page).
    pub wechatpay: Option<Arc<payments::wechatpay::WechatPay>>,
}

/// Every feature's background jobs: the one place that names them all.
pub fn job_handlers() -> jobs::Handlers {
    let mut h = jobs::Handlers::default();
    notify::register_jobs(&mut h);
    appointments::register_jobs(&mut h);
    payments::register_jobs(&mut h);
    votes::register_jobs(&mut h);
    points::register_jobs(&mut h);
    topics::register_jobs(&mut h);
    incidents::register_jobs(&mut h);
    h
}

impl std::ops::Deref for State {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl State {
    /// Connects to the database (and Redis when configured), runs the
    /// migrations and, when asked, loads the demo data into an empty database.
    pub async fn init(mut config: Config) -> anyhow::Result<State> {
        config.ensure_secrets()?;
        let db = db::connect_migrated(&config).await?;
        let limiter: Arc<dyn ratelimit::RateLimiter> = match &config.redis_url {
            Some(url) => Arc::new(ratelimit::RedisLimiter::connect(url, &config.redis_prefix).await?),
            None => Arc::new(ratelimit::MemoryLimiter::default()),
        };
        let flash = match &config.redis_url {
            Some(url) => flash::FlashStore::redis(url, &config.redis_prefix).await?,
            None => flash::FlashStore::default(),
        };
        let bus: Arc<dyn events::Bus> = match &config.redis_url {
            Some(url) => Arc::new(events::RedisBus::connect(url, &config.redis_prefix).await?),
            None => Arc::new(events::MemoryBus::default()),
        };
        let push = if config.web_push {
            Some(Arc::new(push::WebPush::new(
                push::Vapid::load_or_create(&db, &config.vapid_subject).await?,
                config.push_policy(),
            )))
        } else {
            None
        };
        let mut channels: Vec<Arc<dyn notify::Channel>> = Vec::new();
        if let Some(p) = &push {
            channels.push(p.clone());
        }
        let sms = config
            .sms_gateway_url
            .as_deref()
            .map(|u| Arc::new(adapters::SmsGateway::new(u, config.sms_gateway_token.as_deref())));
        if let Some(g) = &sms {
            channels.push(Arc::new(adapters::SmsChannel(g.clone())));
        }
        if let Some(w) = adapters::WeChatSubscribe::from_config(&config) {
            channels.push(Arc::new(w));
        }
        let dev = Arc::new(sender::DevSender::default());
        let code_sender: Arc<dyn sender::CodeSender> = match (config.code_sender.as_str(), &sms) {
            ("sms", Some(g)) => g.clone(),
            _ => dev.clone(),
        };
        let (payments, sandbox, wechatpay): (Arc<dyn payments::Provider>, _, _) = match &config.wechatpay {
            Some(w) => {
                let w = Arc::new(payments::wechatpay::WechatPay::new(w, &config.public_url)?);
                (w.clone(), None, Some(w))
            }
            None => {
                let s = Arc::new(payments::sandbox::Sandbox::default());
                (s.clone(), Some(s), None)
            }
        };
        let state = State(Arc::new(Inner {
            payments,
            sandbox,
            wechatpay,
            db,
            limiter,
            dev_sender: (config.code_sender == "dev").then_some(dev),
            sender: code_sender,
            flash,
            wechat: wechat::WeChat::from_config(&config),
            bus,
            jobs: jobs::Kicker::default(),
            job_handlers: job_handlers(),
            channels,
            push,
            config,
        }));
        if state.config.demo_data {
            demo::seed_if_empty(&state).await?;
        }
        // appointment slots for the booking windows: now, and every night after
        appointments::slots_job(&state, appointments::SlotsJob {}).await?;
        // tomorrow morning's reconciliation with the payment provider
        payments::reconcile::schedule(&state.db).await?;
        Ok(state)
    }
}
pub use url;

#[cfg(test)]
mod tests {
    #[test]
    fn every_job_kind_has_one_handler() {
        assert_eq!(
            super::job_handlers().kinds(),
            [
                "announcement.fanout",
                "appointment.offer_expire",
                "appointment.slots_daily",
                "incident.overdue",
                "mall.expire",
                "notify.deliver",
                "payment.check",
                "payment.reconcile",
                "payment.refund_check",
                "payment.sandbox_notify",
                "remind",
                "topic.comment_points",
                "vote.close",
                "vote.open",
                "vote.remind",
            ]
        );
    }
}
