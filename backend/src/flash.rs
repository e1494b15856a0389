//! Keeps what a user typed into a form that failed, for plain (no-JavaScript)
//! form posts: the server answers those with a redirect back to the form, and
//! the form is filled again from here. Short-lived: in-process on a single
//! instance, in Redis when configured, so the redirect may land on any
//! instance behind the proxy.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const TTL: Duration = Duration::from_secs(600);

/// (stored at, owner, fields)
type Entry = (Instant, Option<i64>, Vec<(String, String)>);

#[derive(Default)]
pub struct FlashStore {
    entries: Mutex<HashMap<String, Entry>>,
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    owner: Option<i64>,
    fields: Vec<(String, String)>,
}

impl FlashStore {
    /// Keeps drafts in Redis under `prefix`, shared by every instance.
    pub async fn redis(url: &str, prefix: &str) -> anyhow::Result<FlashStore> {
        let client = redis::Client::open(url)?;
        let conn = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        Ok(FlashStore { entries: Mutex::default(), redis: Some((conn, format!("{prefix}flash:"))) })
    }

    /// Stores the fields for `user_id`; returns the key to put in the redirect URL.
    pub async fn put(&self, user_id: Option<i64>, fields: Vec<(String, String)>) -> String {
        let key = uuid::Uuid::new_v4().simple().to_string();
        if let Some((conn, prefix)) = &self.redis {
            let value = serde_json::to_string(&Stored { owner: user_id, fields: fields.clone() }).unwrap_or_default();
            let mut conn = conn.clone();
            let r: redis::RedisResult<()> = redis::cmd("SET")
                .arg(format!("{prefix}{key}"))
                .arg(value)
                .arg("EX")
                .arg(TTL.as_secs())
                .query_async(&mut conn)
                .await;
            match r {
                Ok(()) => return key,
                // Redis away: keep it here; the user most likely comes back to this instance
                Err(e) => tracing::warn!(error = %e, "flash: Redis unavailable; kept in process"),
            }
        }
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        m.retain(|_, (t, _, _)| now.duration_since(*t) < TTL);
        m.insert(key.clone(), (now, user_id, fields));
        key
    }

    /// The fields stored under `key`, only for the same user.
    pub async fn get(&self, key: &str, user_id: Option<i64>) -> Vec<(String, String)> {
        self.read(key, user_id, false).await
    }

    /// Like `get`, but the fields are gone after this read (a secret shown
    /// once: a reload does not show it again).
    pub async fn take(&self, key: &str, user_id: Option<i64>) -> Vec<(String, String)> {
        self.read(key, user_id, true).await
    }

    async fn read(&self, key: &str, user_id: Option<i64>, remove: bool) -> Vec<(String, String)> {
        if let Some((conn, prefix)) = &self.redis {
            if key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric()) {
                let mut conn = conn.clone();
                let raw: redis::RedisResult<Option<String>> = redis::cmd(if remove { "GETDEL" } else { "GET" })
                    .arg(format!("{prefix}{key}"))
                    .query_async(&mut conn)
                    .await;
                if let Ok(Some(stored)) = raw.map(|o| o.and_then(|v| serde_json::from_str::<Stored>(&v).ok())) {
                    return if stored.owner == user_id { stored.fields } else { Vec::new() };
                }
            }
        }
        let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match m.get(key) {
            Some((t, owner, fields)) if *owner == user_id && t.elapsed() < TTL => {
                if remove {
                    m.remove(key).map(|(_, _, fields)| fields).unwrap_or_default()
                } else {
                    fields.clone()
                }
            }
            _ => Vec::new(),
        }
    }
}
