//! Fixed-window rate limits: in-process by default, in Redis when
//! `REDIS_URL` is set (so every instance of a deployment counts together).

use async_trait::async_trait;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::error::AppResult;

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one hit on `key`; returns false when more than `limit` hits
    /// fell in the current `window`.
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> AppResult<bool>;
    /// Forgets a key (after a successful login, say).
    async fn reset(&self, key: &str) -> AppResult<()>;
    fn backend(&self) -> &'static str;
}

#[derive(Default)]
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> AppResult<bool> {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(86_400));
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Ok(entry.1 <= limit)
    }
    async fn reset(&self, key: &str) -> AppResult<()> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }
    fn backend(&self) -> &'static str {
        "memory"
    }
}

pub struct RedisLimiter {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl RedisLimiter {
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisLimiter> {
        let client = redis::Client::open(url)?;
        let conn = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        Ok(RedisLimiter {
            conn,
            prefix: format!("{prefix}rl:"),
            script: redis::Script::new(
                "local c = redis.call('INCR', KEYS[1]) \
                 if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
                 return c",
            ),
        })
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> AppResult<bool> {
        let mut conn = self.conn.clone();
        let count: u64 = self
            .script
            .key(format!("{}{key}", self.prefix))
            .arg(window.as_millis() as u64)
            .invoke_async(&mut conn)
            .await?;
        Ok(count <= u64::from(limit))
    }
    async fn reset(&self, key: &str) -> AppResult<()> {
        let mut conn = self.conn.clone();
        let _: () = redis::cmd("DEL").arg(format!("{}{key}", self.prefix)).query_async(&mut conn).await?;
        Ok(())
    }
    fn backend(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_window() {
        let l = MemoryLimiter::default();
        let w = Duration::from_millis(200);
        assert!(l.hit("k", 2, w).await.unwrap());
        assert!(l.hit("k", 2, w).await.unwrap());
        assert!(!l.hit("k", 2, w).await.unwrap());
        assert!(l.hit("other", 2, w).await.unwrap());
        tokio::time::sleep(w).await;
        assert!(l.hit("k", 2, w).await.unwrap());
        l.reset("k").await.unwrap();
    }
}
