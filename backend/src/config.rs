//! Configuration from the environment. Every key has a default, a doc line
//! (docs/configuration.md, .env.example) and is validated at start-up with a
//! readable error.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://data/zhsq.db` (default) or `postgres://…`.
    pub database_url: String,
    pub database_kind: DatabaseKind,
    /// `DATABASE_MAX_CONNECTIONS` (default 10).
    pub database_max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_SECONDS` (default 5): how long a request waits
    /// for a database connection before it is answered 503 `unavailable`.
    pub database_acquire_timeout_seconds: u64,
    /// `REDIS_URL`: optional; when set, rate limits (and later pub/sub) go through Redis.
    pub redis_url: Option<String>,
    /// `REDIS_PREFIX` (default `zhsq:`): key prefix, so instances of one deployment share keys and tests do not.
    pub redis_prefix: String,
    /// `BIND` (default `127.0.0.1:3000`).
    pub bind: SocketAddr,
    /// `TRUSTED_PROXIES` (default: none): addresses or CIDR ranges of the reverse proxies in
    /// front of this instance (`127.0.0.1` for nginx on the same machine). Only their
    /// `X-Forwarded-For` is believed, right to left; with none, the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `HTTP_WORKERS` (default: one per CPU core): HTTP worker threads of this instance.
    pub http_workers: usize,
    /// `PUBLIC_URL` (default `http://127.0.0.1:3000`): how users reach us; https makes cookies Secure.
    pub public_url: String,
    /// `SITE_ROOT` (default `target/site`): built assets (pkg/, icons, manifest, service worker).
    pub site_root: PathBuf,
    /// `DATA_DIR` (default `data`): SQLite file and generated secrets.
    pub data_dir: PathBuf,
    /// `JWT_SECRET`: at least 32 bytes; default: generated once and kept in `DATA_DIR/jwt-secret`.
    pub jwt_secret: Vec<u8>,
    /// `DATA_ENCRYPTION_KEY`: 64 hex characters (32 bytes), the AES-256-GCM key
    /// personal data is encrypted with at rest (ID numbers); every instance of
    /// a deployment needs the same. Default: generated once, kept in `DATA_DIR/data-key`.
    pub data_key: Vec<u8>,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 900).
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_DAYS` (default 30).
    pub refresh_ttl: Duration,
    /// `REFRESH_REUSE_GRACE_SECONDS` (default 10): a refresh token presented again this soon after
    /// its first use is taken as two tabs refreshing at once, not as theft. 0 turns this off.
    pub refresh_reuse_grace: Duration,
    /// `CODE_RESEND_SECONDS` (default 60): how long before a number may ask for another code.
    pub code_resend: Duration,
    /// `CODES_PER_HOUR` (default 10 per number; 3× that per client address).
    pub codes_per_hour: u32,
    /// `CODE_SENDER` (default `dev` in DEV_MODE; required otherwise): where one-time codes go.
    /// `dev` writes them to the log (phone masked) and, in DEV_MODE, to the page /dev/codes;
    /// named outside DEV_MODE, every page carries a banner saying codes are simulated.
    pub code_sender: String,
    /// `DEV_MODE` (default `true` unless `PUBLIC_URL` is https): development pages and hints.
    pub dev_mode: bool,
    /// `DEMO_DATA` (default `false`): load the demo street on an empty database at start-up.
    pub demo_data: bool,
    /// `WECHAT_APPID`, `WECHAT_SECRET`: enable WeChat OAuth (snsapi_base) login when both are set;
    /// the callback is `PUBLIC_URL/auth/wechat/callback`.
    pub wechat_appid: Option<String>,
    pub wechat_secret: Option<String>,
    /// `JOB_WORKER` (default `true`): run the background job worker in this instance.
    pub job_worker: bool,
    /// `JOB_POLL_MS` (default 1000): how often the worker looks for due jobs.
    pub job_poll: Duration,
    /// `JOB_LEASE_SECONDS` (default 300): how long a claimed job is held before another
    /// instance may take it over (a job never runs longer than this).
    pub job_lease: Duration,
    /// `WEB_PUSH` (default `true`): offer Web Push; the VAPID key pair is made on first start.
    pub web_push: bool,
    /// `VAPID_SUBJECT` (default `PUBLIC_URL` when https, else `mailto:admin@localhost`): contact for push services.
    pub vapid_subject: String,
    /// `PUSH_ALLOW_HTTP` (default: `DEV_MODE`): accept plain-http push endpoints (tests only; browsers use https).
    pub push_allow_http: bool,
    /// `PUSH_ALLOW_PRIVATE` (default: `DEV_MODE`): accept push endpoints on any host, loopback and
    /// private addresses included (tests only: outside them the server would connect wherever a user says).
    pub push_allow_private: bool,
    /// `PUSH_SERVICE_HOSTS` (default: the browsers' push services — FCM, Mozilla, WNS, Apple):
    /// the hosts push endpoints may name, comma-separated; `*.example.com` takes its subdomains,
    /// `*` any public host. Addresses are checked after DNS: never loopback or private.
    pub push_hosts: Vec<String>,
    /// `SMS_GATEWAY_URL`: off unless set; an HTTP SMS gateway for codes (`CODE_SENDER=sms`) and notifications.
    pub sms_gateway_url: Option<String>,
    /// `SMS_GATEWAY_TOKEN`: bearer token for the gateway.
    pub sms_gateway_token: Option<String>,
    /// `WECHAT_SUBSCRIBE_TEMPLATE`: off unless set (and WeChat is configured); the
    /// subscription-message (订阅通知) template id.
    pub wechat_subscribe_template: Option<String>,
    /// `WECHAT_SUBSCRIBE_FIELDS` (default `thing1,time2`): the template's title and time fields.
    pub wechat_subscribe_fields: String,
    /// `WECHAT_API_BASE` (default `https://api.weixin.qq.com`): overridable for tests.
    pub wechat_api_base: String,
    /// `PAYMENT_PROVIDER` (default `sandbox` in DEV_MODE; required otherwise): `sandbox` (the
    /// in-app provider, keys made on first use; named outside DEV_MODE, every page carries a
    /// banner saying payments are simulated) or `wechatpay` (WeChat Pay API v3; needs the
    /// `WECHATPAY_*` keys).
    pub payment_provider: String,
    /// The WeChat Pay merchant, when `PAYMENT_PROVIDER=wechatpay`.
    pub wechatpay: Option<WechatPayConfig>,
    /// `MAP_TILE_URL`: off unless set — a tile URL template with `{z}`, `{x}`, `{y}` and
    /// optionally `{s}` drawn under the patrol sketches (e.g. 天地图 with its `tk` key).
    /// `MAP_TILE_CRS` (default `wgs84`; `gcj02` for Amap/Tencent tiles),
    /// `MAP_TILE_SUBDOMAINS` (default `01234567`, the characters `{s}` cycles through),
    /// `MAP_TILE_ATTRIBUTION` (shown under the map).
    pub map_tiles: Option<domain::patrol::TileSource>,
}

/// WeChat Pay API v3 merchant settings (all required when it is the provider).
#[derive(Clone)]
pub struct WechatPayConfig {
    /// `WECHATPAY_MCHID`: the merchant id (商户号).
    pub mchid: String,
    /// `WECHATPAY_APPID` (default `WECHAT_APPID`): the official account's appid.
    pub appid: String,
    /// `WECHATPAY_SERIAL`: serial number of the merchant API certificate.
    pub serial: String,
    /// `WECHATPAY_PRIVATE_KEY`: the merchant API private key (PKCS#8 PEM), or a path to it.
    pub private_key_pem: String,
    /// `WECHATPAY_APIV3_KEY`: the 32-character APIv3 key (decrypts notifications).
    pub apiv3_key: [u8; 32],
    /// `WECHATPAY_PLATFORM_KEYS`: `serial=PEM-or-path` pairs separated by `;` — the platform
    /// certificates' public keys (or a `PUB_KEY_ID_…` WeChat Pay public key); several during a rotation.
    pub platform_keys: Vec<(String, String)>,
    /// `WECHATPAY_API_BASE` (default `https://api.mch.weixin.qq.com`): overridable for tests.
    pub api_base: String,
}

fn pem_or_file(key: &'static str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    if v.starts_with("-----BEGIN") {
        return Ok(v.replace("\\n", "\n"));
    }
    std::fs::read_to_string(v).map_err(|e| err(key, format!("cannot read {v}: {e}")))
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log.
        f.debug_struct("Config")
            .field("database_kind", &self.database_kind)
            .field("redis", &self.redis_url.is_some())
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("dev_mode", &self.dev_mode)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error in {key}: {message}")]
pub struct ConfigError {
    pub key: &'static str,
    pub message: String,
}

fn err(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { key, message: message.into() }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads configuration through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}/zhsq.db", data_dir.display()));
        let database_kind = if database_url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            DatabaseKind::Postgres
        } else {
            return Err(err("DATABASE_URL", "only sqlite://path and postgres://user@host/db are supported"));
        };
        let database_max_connections = parse_num(&get, "DATABASE_MAX_CONNECTIONS", 10, 1, 1000)? as u32;
        let database_acquire_timeout_seconds = parse_num(&get, "DATABASE_ACQUIRE_TIMEOUT_SECONDS", 5, 1, 120)?;
        let redis_url = get("REDIS_URL");
        if let Some(u) = &redis_url {
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return Err(err("REDIS_URL", "must start with redis:// or rediss://"));
            }
        }
        let redis_prefix = get("REDIS_PREFIX").unwrap_or_else(|| "zhsq:".into());
        let bind: SocketAddr = get("BIND")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|_| err("BIND", "must be host:port, for example 127.0.0.1:3000"))?;
        let trusted_proxies = crate::client_addr::parse_trusted(&get("TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|m| err("TRUSTED_PROXIES", m))?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as u64;
        let http_workers = parse_num(&get, "HTTP_WORKERS", cores, 1, 256)? as usize;
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}"));
        let parsed = url::Url::parse(&public_url).map_err(|_| err("PUBLIC_URL", "must be an absolute http(s) URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(err("PUBLIC_URL", "must be an absolute http(s) URL"));
        }
        let https = parsed.scheme() == "https";
        let site_root = PathBuf::from(get("SITE_ROOT").unwrap_or_else(|| "target/site".into()));
        let jwt_secret = match get("JWT_SECRET") {
            Some(s) if s.len() >= 32 => s.into_bytes(),
            Some(_) => return Err(err("JWT_SECRET", "must be at least 32 bytes")),
            None => Vec::new(), // filled by `ensure_secrets`
        };
        let data_key = match get("DATA_ENCRYPTION_KEY") {
            Some(s) => match hex::decode(s.trim()) {
                Ok(k) if k.len() == 32 => k,
                _ => return Err(err("DATA_ENCRYPTION_KEY", "must be 64 hex characters (32 bytes)")),
            },
            None => Vec::new(), // filled by `ensure_secrets`
        };
        let access_ttl = Duration::from_secs(parse_num(&get, "ACCESS_TOKEN_TTL_SECONDS", 900, 10, 86_400)?);
        let refresh_ttl = Duration::from_secs(86_400 * parse_num(&get, "REFRESH_TOKEN_TTL_DAYS", 30, 1, 365)?);
        let refresh_reuse_grace = Duration::from_secs(parse_num(&get, "REFRESH_REUSE_GRACE_SECONDS", 10, 0, 60)?);
        let code_resend = Duration::from_secs(parse_num(&get, "CODE_RESEND_SECONDS", 60, 0, 3600)?);
        let codes_per_hour = parse_num(&get, "CODES_PER_HOUR", 10, 1, 10_000)? as u32;
        // Secure by default: outside development, the simulated code sender and
        // payment provider run only when named on purpose (and every page says so).
        let dev_mode = parse_bool(&get, "DEV_MODE", !https)?;
        let code_sender = dev_default(
            &get,
            "CODE_SENDER",
            dev_mode,
            "dev",
            "required outside DEV_MODE: `sms` (with SMS_GATEWAY_URL), or `dev` to show codes in the log \
             (every page then says that codes are simulated)",
        )?;
        let sms_gateway_url = get("SMS_GATEWAY_URL").filter(|s| !s.is_empty());
        if let Some(u) = &sms_gateway_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(err("SMS_GATEWAY_URL", "must be an http(s) URL"));
            }
        }
        let sms_gateway_token = get("SMS_GATEWAY_TOKEN").filter(|s| !s.is_empty());
        match code_sender.as_str() {
            "dev" => {}
            "sms" if sms_gateway_url.is_some() => {}
            "sms" => return Err(err("CODE_SENDER", "`sms` needs SMS_GATEWAY_URL")),
            _ => return Err(err("CODE_SENDER", "must be `dev` or `sms`")),
        }
        let wechat_subscribe_template = get("WECHAT_SUBSCRIBE_TEMPLATE").filter(|s| !s.is_empty());
        let wechat_subscribe_fields = get("WECHAT_SUBSCRIBE_FIELDS").unwrap_or_else(|| "thing1,time2".into());
        if wechat_subscribe_fields.split(',').filter(|f| !f.trim().is_empty()).count() != 2 {
            return Err(err("WECHAT_SUBSCRIBE_FIELDS", "must name two fields, for example thing1,time2"));
        }
        let demo_data = parse_bool(&get, "DEMO_DATA", false)?;
        let wechat_appid = get("WECHAT_APPID");
        let wechat_secret = get("WECHAT_SECRET");
        if wechat_appid.is_some() != wechat_secret.is_some() {
            return Err(err("WECHAT_APPID", "WECHAT_APPID and WECHAT_SECRET must be set together"));
        }
        let web_push = parse_bool(&get, "WEB_PUSH", true)?;
        let vapid_subject = get("VAPID_SUBJECT").unwrap_or_else(|| {
            if https {
                public_url.clone()
            } else {
                "mailto:admin@localhost".to_string()
            }
        });
        if !(vapid_subject.starts_with("mailto:") || vapid_subject.starts_with("https://")) {
            return Err(err("VAPID_SUBJECT", "must start with mailto: or https://"));
        }
        let push_allow_http = parse_bool(&get, "PUSH_ALLOW_HTTP", dev_mode)?;
        let push_allow_private = parse_bool(&get, "PUSH_ALLOW_PRIVATE", dev_mode)?;
        let push_hosts: Vec<String> = get("PUSH_SERVICE_HOSTS")
            .unwrap_or_else(|| crate::push::DEFAULT_PUSH_HOSTS.into())
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let job_worker = parse_bool(&get, "JOB_WORKER", true)?;
        let job_poll = Duration::from_millis(parse_num(&get, "JOB_POLL_MS", 1000, 50, 60_000)?);
        let job_lease = Duration::from_secs(parse_num(&get, "JOB_LEASE_SECONDS", 300, 2, 86_400)?);
        let wechat_api_base = get("WECHAT_API_BASE").unwrap_or_else(|| "https://api.weixin.qq.com".into());
        let payment_provider = dev_default(
            &get,
            "PAYMENT_PROVIDER",
            dev_mode,
            "sandbox",
            "required outside DEV_MODE: `wechatpay`, or `sandbox` to simulate payments \
             (every page then says that payments are simulated)",
        )?;
        let wechatpay = match payment_provider.as_str() {
            "sandbox" => None,
            "wechatpay" => {
                let need = |k: &'static str| {
                    get(k)
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| err(k, "required when PAYMENT_PROVIDER=wechatpay"))
                };
                let apiv3 = need("WECHATPAY_APIV3_KEY")?;
                let apiv3_key: [u8; 32] = apiv3
                    .trim()
                    .as_bytes()
                    .try_into()
                    .map_err(|_| err("WECHATPAY_APIV3_KEY", "must be exactly 32 characters"))?;
                let mut platform_keys = vec![];
                for pair in need("WECHATPAY_PLATFORM_KEYS")?.split(';').filter(|p| !p.trim().is_empty()) {
                    let (serial, pem) = pair
                        .split_once('=')
                        .ok_or_else(|| err("WECHATPAY_PLATFORM_KEYS", "expected serial=PEM-or-path"))?;
                    platform_keys.push((serial.trim().to_string(), pem_or_file("WECHATPAY_PLATFORM_KEYS", pem)?));
                }
                Some(WechatPayConfig {
                    mchid: need("WECHATPAY_MCHID")?,
                    appid: get("WECHATPAY_APPID")
                        .or_else(|| wechat_appid.clone())
                        .ok_or_else(|| err("WECHATPAY_APPID", "required (or WECHAT_APPID)"))?,
                    serial: need("WECHATPAY_SERIAL")?,
                    private_key_pem: pem_or_file("WECHATPAY_PRIVATE_KEY", &need("WECHATPAY_PRIVATE_KEY")?)?,
                    apiv3_key,
                    platform_keys,
                    api_base: get("WECHATPAY_API_BASE").unwrap_or_else(|| "https://api.mch.weixin.qq.com".into()),
                })
            }
            _ => return Err(err("PAYMENT_PROVIDER", "must be sandbox or wechatpay")),
        };
        let map_tiles = match get("MAP_TILE_URL") {
            None => None,
            Some(template) => {
                let template = template.trim().to_string();
                if !(template.starts_with("https://") || template.starts_with("http://"))
                    || !["{z}", "{x}", "{y}"].iter().all(|k| template.contains(k))
                {
                    return Err(err("MAP_TILE_URL", "must be an http(s) URL template containing {z}, {x} and {y}"));
                }
                let gcj02 = match get("MAP_TILE_CRS").as_deref().map(str::trim) {
                    None | Some("wgs84") | Some("cgcs2000") => false,
                    Some("gcj02") => true,
                    Some(_) => return Err(err("MAP_TILE_CRS", "must be wgs84 (天地图) or gcj02 (Amap, Tencent)")),
                };
                Some(domain::patrol::TileSource {
                    template,
                    gcj02,
                    subdomains: get("MAP_TILE_SUBDOMAINS").unwrap_or_else(|| "01234567".into()),
                    attribution: get("MAP_TILE_ATTRIBUTION").unwrap_or_default(),
                })
            }
        };
        Ok(Config {
            database_url,
            database_kind,
            database_max_connections,
            database_acquire_timeout_seconds,
            redis_url,
            redis_prefix,
            bind,
            trusted_proxies,
            http_workers,
            public_url,
            site_root,
            data_dir,
            jwt_secret,
            data_key,
            access_ttl,
            refresh_ttl,
            refresh_reuse_grace,
            code_resend,
            codes_per_hour,
            code_sender,
            dev_mode,
            demo_data,
            wechat_appid,
            wechat_secret,
            wechat_api_base,
            sms_gateway_url,
            sms_gateway_token,
            wechat_subscribe_template,
            wechat_subscribe_fields,
            web_push,
            vapid_subject,
            push_allow_http,
            push_allow_private,
            push_hosts,
            job_worker,
            job_poll,
            job_lease,
            payment_provider,
            wechatpay,
            map_tiles,
        })
    }

    /// Where push messages may go (`backend::push::EndpointPolicy`).
    pub fn push_policy(&self) -> crate::push::EndpointPolicy {
        crate::push::EndpointPolicy {
            allow_http: self.push_allow_http,
            allow_private: self.push_allow_private,
            hosts: self.push_hosts.clone(),
        }
    }

    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Payments are simulated (the sandbox cashier) outside development: the
    /// operator named `PAYMENT_PROVIDER=sandbox` on purpose, and every page
    /// carries a banner saying so.
    pub fn simulated_payments(&self) -> bool {
        !self.dev_mode && self.payment_provider == "sandbox"
    }

    /// One-time codes go to the log instead of a phone outside development
    /// (`CODE_SENDER=dev` named on purpose); every page says so.
    pub fn simulated_codes(&self) -> bool {
        !self.dev_mode && self.code_sender == "dev"
    }

    /// Creates the data directory and a persistent JWT secret and data key
    /// when none is configured.
    pub fn ensure_secrets(&mut self) -> std::io::Result<()> {
        use rand::RngCore;
        if self.jwt_secret.is_empty() {
            std::fs::create_dir_all(&self.data_dir)?;
            let path = self.data_dir.join("jwt-secret");
            match std::fs::read(&path) {
                Ok(s) if s.len() >= 32 => self.jwt_secret = s,
                _ => {
                    let mut b = [0u8; 48];
                    rand::rngs::OsRng.fill_bytes(&mut b);
                    let s = hex::encode(b).into_bytes();
                    std::fs::write(&path, &s)?;
                    self.jwt_secret = s;
                }
            }
        }
        if self.data_key.is_empty() {
            std::fs::create_dir_all(&self.data_dir)?;
            let path = self.data_dir.join("data-key");
            match std::fs::read_to_string(&path).ok().and_then(|s| hex::decode(s.trim()).ok()) {
                Some(k) if k.len() == 32 => self.data_key = k,
                Some(_) => {
                    return Err(std::io::Error::other(format!("{} does not hold a 32-byte hex key", path.display())))
                }
                None if path.exists() => {
                    return Err(std::io::Error::other(format!("{} is unreadable", path.display())))
                }
                None => {
                    let mut b = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut b);
                    std::fs::write(&path, hex::encode(b))?;
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                    }
                    self.data_key = b.to_vec();
                }
            }
        }
        Ok(())
    }
}

fn parse_num(
    get: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(err(key, format!("must be a whole number from {min} to {max}, got {v:?}"))),
        },
    }
}

/// A setting with a default in development only: outside `DEV_MODE` it must
/// be named, or the server refuses to start with `why`.
fn dev_default(
    get: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    dev_mode: bool,
    default: &str,
    why: &str,
) -> Result<String, ConfigError> {
    match get(key) {
        Some(v) => Ok(v),
        None if dev_mode => Ok(default.to_string()),
        None => Err(err(key, why)),
    }
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, key: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(key).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(err(key, format!("must be true or false, got {v:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_sqlite_on_loopback() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.database_kind, DatabaseKind::Sqlite);
        assert_eq!(c.bind.to_string(), "127.0.0.1:3000");
        assert!(c.dev_mode && !c.https());
    }

    #[test]
    fn unsupported_database_is_a_clear_error() {
        let e = cfg(&[("DATABASE_URL", "mysql://x")]).err().unwrap();
        assert_eq!(e.key, "DATABASE_URL");
        assert!(e.to_string().contains("sqlite://"));
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(cfg(&[("BIND", "nope")]).err().unwrap().key, "BIND");
        assert_eq!(cfg(&[("JWT_SECRET", "short")]).err().unwrap().key, "JWT_SECRET");
        assert_eq!(cfg(&[("DATA_ENCRYPTION_KEY", "abcd")]).err().unwrap().key, "DATA_ENCRYPTION_KEY");
        assert_eq!(cfg(&[("DATA_ENCRYPTION_KEY", &"zz".repeat(32))]).err().unwrap().key, "DATA_ENCRYPTION_KEY");
        assert_eq!(cfg(&[("DATA_ENCRYPTION_KEY", &"0a".repeat(32))]).unwrap().data_key, vec![0x0a; 32]);
        assert_eq!(
            cfg(&[("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "0")]).err().unwrap().key,
            "DATABASE_ACQUIRE_TIMEOUT_SECONDS"
        );
        assert_eq!(cfg(&[("ACCESS_TOKEN_TTL_SECONDS", "0")]).err().unwrap().key, "ACCESS_TOKEN_TTL_SECONDS");
        assert_eq!(cfg(&[("DEV_MODE", "maybe")]).err().unwrap().key, "DEV_MODE");
        assert_eq!(cfg(&[("REDIS_URL", "http://x")]).err().unwrap().key, "REDIS_URL");
        assert_eq!(cfg(&[("WECHAT_APPID", "wx1")]).err().unwrap().key, "WECHAT_APPID");
        assert_eq!(cfg(&[("TRUSTED_PROXIES", "nginx")]).err().unwrap().key, "TRUSTED_PROXIES");
        assert_eq!(cfg(&[("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).unwrap().trusted_proxies.len(), 2);
    }

    #[test]
    fn https_turns_dev_mode_off() {
        let c =
            cfg(&[("PUBLIC_URL", "https://sq.example.cn"), ("PAYMENT_PROVIDER", "sandbox"), ("CODE_SENDER", "dev")])
                .unwrap();
        assert!(c.https() && !c.dev_mode);
    }

    #[test]
    fn production_refuses_to_start_on_simulations_it_did_not_name() {
        // the case: https, no DEV_MODE, PAYMENT_PROVIDER forgotten
        let e = cfg(&[("PUBLIC_URL", "https://sq.example.cn"), ("CODE_SENDER", "dev")]).err().unwrap();
        assert_eq!(e.key, "PAYMENT_PROVIDER");
        let e = cfg(&[("DEV_MODE", "false"), ("PAYMENT_PROVIDER", "sandbox")]).err().unwrap();
        assert_eq!(e.key, "CODE_SENDER");
        // named on purpose: it starts, and says so on every page
        let c = cfg(&[("DEV_MODE", "false"), ("PAYMENT_PROVIDER", "sandbox"), ("CODE_SENDER", "dev")]).unwrap();
        assert!(c.simulated_payments() && c.simulated_codes());
        let c = cfg(&[
            ("DEV_MODE", "false"),
            ("PAYMENT_PROVIDER", "sandbox"),
            ("CODE_SENDER", "sms"),
            ("SMS_GATEWAY_URL", "https://sms.example.cn/send"),
        ])
        .unwrap();
        assert!(c.simulated_payments() && !c.simulated_codes());
        // development keeps its defaults and shows no banner
        let c = cfg(&[]).unwrap();
        assert_eq!((c.payment_provider.as_str(), c.code_sender.as_str()), ("sandbox", "dev"));
        assert!(!c.simulated_payments() && !c.simulated_codes());
    }
}
