//! Live updates. Something happens (an inbox item, an announcement, later a
//! patrol position or a vote's turnout) and is published on a topic; every
//! server-sent-events connection subscribed to that topic, on any instance,
//! receives it.
//!
//! - Without Redis: one process, an in-memory ring buffer for replay.
//! - With Redis: each event is appended to one capped Redis stream (its id is
//!   the event id, ordered across all instances) and published on one
//!   pub/sub channel in the same atomic script; every instance holds one
//!   subscriber connection and fans events out to its local connections.
//!
//! A client that reconnects sends `Last-Event-ID`; it gets what it missed
//! from the stream (or ring), or `Replay::TooOld` when that has been trimmed,
//! and then reloads its state (the inbox, being in the database, is never
//! lost: live events are a convenience on top).

use crate::AppResult;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many events are kept for replay.
const RETAIN: usize = 2000;
/// Per-topic buffer for slow connections before they are told to reload.
const TOPIC_BUFFER: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(skip)]
    pub id: String,
    pub topic: String,
    /// The SSE `event:` name, e.g. "inbox".
    pub kind: String,
    /// JSON text sent as `data:`.
    pub data: String,
}

/// A topic a connection may listen to. Parsed from outside input; who may
/// listen to which is decided by the caller (see `server::events`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One person's inbox.
    User(i64),
    /// Everything published for one org unit (announcements, later queues).
    Org(i64),
    /// Positions and states of the patrols in one grid (staff over it only).
    Patrols(i64),
}

impl Topic {
    pub fn key(&self) -> String {
        match self {
            Topic::User(id) => format!("user:{id}"),
            Topic::Org(id) => format!("org:{id}"),
            Topic::Patrols(id) => format!("patrols:{id}"),
        }
    }
}

/// Result of asking for the events after a given id.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    Events(Vec<Event>),
    /// Some events after that id are no longer kept: reload instead.
    TooOld,
}

#[async_trait]
pub trait Bus: Send + Sync {
    /// Publishes to every subscriber on every instance; returns the event id.
    async fn publish(&self, topic: &Topic, kind: &str, data: &serde_json::Value) -> AppResult<String>;
    /// Events after `after` on any of `topics`, oldest first.
    async fn replay(&self, topics: &[Topic], after: &str) -> AppResult<Replay>;
    /// The id a connection starting now should resume from if it drops.
    async fn head(&self) -> AppResult<String>;
    fn hub(&self) -> &Hub;
    fn backend(&self) -> &'static str;
}

/// This instance's local fan-out: one broadcast channel per topic that has
/// listeners; channels without receivers are dropped.
#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<String, broadcast::Sender<Arc<Event>>>>,
}

impl Hub {
    pub fn subscribe(&self, topic: &Topic) -> broadcast::Receiver<Arc<Event>> {
        let mut map = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 1024 {
            map.retain(|_, tx| tx.receiver_count() > 0);
        }
        map.entry(topic.key()).or_insert_with(|| broadcast::channel(TOPIC_BUFFER).0).subscribe()
    }

    pub fn deliver(&self, event: Arc<Event>) {
        let map = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = map.get(&event.topic) {
            // no receivers left is not an error
            let _ = tx.send(event);
        }
    }

    /// Open subscriptions on this instance (for health and benchmarks).
    pub fn listeners(&self) -> usize {
        let map = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        map.values().map(|tx| tx.receiver_count()).sum()
    }
}

/// Single-process bus: ids are "<epoch>-<n>"; after a restart the epoch
/// differs and a reconnecting client is told to reload.
pub struct MemoryBus {
    epoch: String,
    ring: Mutex<(u64, VecDeque<Arc<Event>>)>,
    hub: Hub,
}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus {
            epoch: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
            ring: Mutex::new((0, VecDeque::new())),
            hub: Hub::default(),
        }
    }
}

impl MemoryBus {
    fn parse(&self, id: &str) -> Option<u64> {
        let (epoch, n) = id.split_once('-')?;
        (epoch == self.epoch).then(|| n.parse().ok()).flatten()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, topic: &Topic, kind: &str, data: &serde_json::Value) -> AppResult<String> {
        let event = {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            ring.0 += 1;
            let event = Arc::new(Event {
                id: format!("{}-{}", self.epoch, ring.0),
                topic: topic.key(),
                kind: kind.to_string(),
                data: data.to_string(),
            });
            ring.1.push_back(event.clone());
            if ring.1.len() > RETAIN {
                ring.1.pop_front();
            }
            event
        };
        let id = event.id.clone();
        self.hub.deliver(event);
        Ok(id)
    }

    async fn replay(&self, topics: &[Topic], after: &str) -> AppResult<Replay> {
        let Some(after) = self.parse(after) else { return Ok(Replay::TooOld) };
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = ring.1.front().and_then(|e| self.parse(&e.id)).unwrap_or(ring.0 + 1);
        if after > ring.0 || after + 1 < oldest {
            return Ok(Replay::TooOld);
        }
        let keys: Vec<String> = topics.iter().map(Topic::key).collect();
        Ok(Replay::Events(
            ring.1
                .iter()
                .filter(|e| self.parse(&e.id).is_some_and(|n| n > after) && keys.contains(&e.topic))
                .map(|e| Event::clone(e))
                .collect(),
        ))
    }

    async fn head(&self) -> AppResult<String> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        Ok(format!("{}-{}", self.epoch, ring.0))
    }

    fn hub(&self) -> &Hub {
        &self.hub
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// Stream ids are "<ms>-<seq>"; compared as number pairs.
fn stream_id(s: &str) -> Option<(u64, u64)> {
    let (ms, seq) = s.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

pub struct RedisBus {
    conn: redis::aio::ConnectionManager,
    stream: String,
    channel: String,
    publish: redis::Script,
    hub: Arc<HubHolder>,
}

/// The hub shared with the subscriber task.
#[derive(Default)]
pub struct HubHolder {
    hub: Hub,
}

impl RedisBus {
    /// Connects and starts this instance's subscriber task, which re-connects
    /// by itself and, after a gap, fills it from the stream.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisBus> {
        let client = redis::Client::open(url)?;
        let conn = redis::aio::ConnectionManager::new(client.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis: {e}"))?;
        let bus = RedisBus {
            conn,
            stream: format!("{prefix}events"),
            channel: format!("{prefix}events:live"),
            publish: redis::Script::new(
                "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2]) \
                 redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[2]) \
                 return id",
            ),
            hub: Arc::new(HubHolder::default()),
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(subscriber(
            client,
            bus.conn.clone(),
            bus.stream.clone(),
            bus.channel.clone(),
            bus.hub.clone(),
            ready_tx,
        ));
        // wait for the first subscription so nothing published after start-up is missed
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), ready_rx).await;
        Ok(bus)
    }
}

async fn subscriber(
    client: redis::Client,
    mut conn: redis::aio::ConnectionManager,
    stream: String,
    channel: String,
    holder: Arc<HubHolder>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut last_seen: Option<String> = None;
    let mut backoff = std::time::Duration::from_millis(200);
    loop {
        let pubsub = async {
            let mut p = client.get_async_pubsub().await?;
            p.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(p)
        }
        .await;
        let pubsub = match pubsub {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "events: Redis subscriber cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
                continue;
            }
        };
        backoff = std::time::Duration::from_millis(200);
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        // fill the gap while we were away
        if let Some(after) = &last_seen {
            let gap: redis::RedisResult<Vec<(String, HashMap<String, String>)>> = redis::cmd("XRANGE")
                .arg(&stream)
                .arg(format!("({after}"))
                .arg("+")
                .arg("COUNT")
                .arg(RETAIN)
                .query_async(&mut conn)
                .await
                .map(|v: redis::streams::StreamRangeReply| {
                    v.ids
                        .into_iter()
                        .map(|e| {
                            let fields = e
                                .map
                                .into_iter()
                                .filter_map(|(k, v)| redis::from_redis_value::<String>(v).ok().map(|v| (k, v)))
                                .collect();
                            (e.id, fields)
                        })
                        .collect()
                });
            if let Ok(entries) = gap {
                for (id, fields) in entries {
                    if let Some(ev) = fields.get("e").and_then(|raw| decode(&id, raw)) {
                        last_seen = Some(id);
                        holder.hub.deliver(Arc::new(ev));
                    }
                }
            }
        }
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = msg.get_payload::<String>() else { continue };
            let Some((id, raw)) = payload.split_once(' ') else { continue };
            if let (Some(seen), Some(new)) = (last_seen.as_deref().and_then(stream_id), stream_id(id)) {
                if new <= seen {
                    continue; // already delivered while filling a gap
                }
            }
            if let Some(ev) = decode(id, raw) {
                last_seen = Some(id.to_string());
                holder.hub.deliver(Arc::new(ev));
            }
        }
        tracing::warn!("events: Redis subscriber disconnected; reconnecting");
    }
}

fn decode(id: &str, raw: &str) -> Option<Event> {
    let mut ev: Event = serde_json::from_str(raw).ok()?;
    ev.id = id.to_string();
    Some(ev)
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &Topic, kind: &str, data: &serde_json::Value) -> AppResult<String> {
        let ev = Event { id: String::new(), topic: topic.key(), kind: kind.to_string(), data: data.to_string() };
        let raw = serde_json::to_string(&ev).map_err(crate::AppError::internal)?;
        let mut conn = self.conn.clone();
        let id: String =
            self.publish.key(&self.stream).key(&self.channel).arg(RETAIN).arg(raw).invoke_async(&mut conn).await?;
        Ok(id)
    }

    async fn replay(&self, topics: &[Topic], after: &str) -> AppResult<Replay> {
        let Some(after_id) = stream_id(after) else { return Ok(Replay::TooOld) };
        let mut conn = self.conn.clone();
        // Trimming removes the oldest entries first; Redis 7 records the
        // newest id it removed. Anything after `after` gone means: reload.
        let info: redis::RedisResult<HashMap<String, redis::Value>> =
            redis::cmd("XINFO").arg("STREAM").arg(&self.stream).query_async(&mut conn).await;
        match info {
            Ok(info) => {
                let id_of = |key: &str| {
                    info.get(key)
                        .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
                        .and_then(|s| stream_id(&s))
                };
                // an id this stream never gave out: not ours to replay from
                if id_of("last-generated-id").is_some_and(|last| after_id > last) {
                    return Ok(Replay::TooOld);
                }
                let deleted = info
                    .get("max-deleted-entry-id")
                    .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
                    .and_then(|s| stream_id(&s));
                match deleted {
                    Some(d) if d > after_id => return Ok(Replay::TooOld),
                    Some(_) => {}
                    None => {
                        // Redis before 7: be safe, compare with the oldest kept entry
                        let first: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                            .arg(&self.stream)
                            .arg("-")
                            .arg("+")
                            .arg("COUNT")
                            .arg(1)
                            .query_async(&mut conn)
                            .await?;
                        if first.ids.first().and_then(|e| stream_id(&e.id)).is_some_and(|oldest| oldest > after_id) {
                            return Ok(Replay::TooOld);
                        }
                    }
                }
            }
            // no stream yet: nothing was ever published, so nothing was missed
            Err(_) => return Ok(Replay::Events(vec![])),
        }
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.stream)
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(RETAIN)
            .query_async(&mut conn)
            .await?;
        let keys: Vec<String> = topics.iter().map(Topic::key).collect();
        let mut out = Vec::new();
        for entry in reply.ids {
            let raw: Option<String> = entry.get("e");
            if let Some(ev) = raw.as_deref().and_then(|raw| decode(&entry.id, raw)) {
                if keys.contains(&ev.topic) {
                    out.push(ev);
                }
            }
        }
        Ok(Replay::Events(out))
    }

    async fn head(&self) -> AppResult<String> {
        let mut conn = self.conn.clone();
        let last: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&self.stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        Ok(last.ids.first().map(|e| e.id.clone()).unwrap_or_else(|| "0-0".to_string()))
    }

    fn hub(&self) -> &Hub {
        &self.hub.hub
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_bus_delivers_and_replays() {
        let bus = MemoryBus::default();
        let mut rx = bus.hub().subscribe(&Topic::User(1));
        let start = bus.head().await.unwrap();
        bus.publish(&Topic::User(2), "inbox", &serde_json::json!({"n": 0})).await.unwrap();
        let id = bus.publish(&Topic::User(1), "inbox", &serde_json::json!({"n": 1})).await.unwrap();
        let got = rx.recv().await.unwrap();
        assert_eq!((got.id.as_str(), got.data.as_str()), (id.as_str(), r#"{"n":1}"#));
        // replay: only my topics, only after the id
        match bus.replay(&[Topic::User(1)], &start).await.unwrap() {
            Replay::Events(v) => assert_eq!(v.len(), 1),
            r => panic!("{r:?}"),
        }
        assert_eq!(bus.replay(&[Topic::User(1)], &id).await.unwrap(), Replay::Events(vec![]));
        // another process's ids, or garbage: reload
        assert_eq!(bus.replay(&[Topic::User(1)], "abcdefgh-1").await.unwrap(), Replay::TooOld);
        assert_eq!(bus.replay(&[Topic::User(1)], "x").await.unwrap(), Replay::TooOld);
    }

    #[tokio::test]
    async fn memory_bus_says_too_old_after_trimming() {
        let bus = MemoryBus::default();
        let start = bus.head().await.unwrap();
        for _ in 0..RETAIN + 1 {
            bus.publish(&Topic::Org(1), "x", &serde_json::json!(null)).await.unwrap();
        }
        assert_eq!(bus.replay(&[Topic::Org(1)], &start).await.unwrap(), Replay::TooOld);
    }

    #[test]
    fn stream_ids_compare_as_pairs() {
        assert!(stream_id("1700000000000-10") > stream_id("1700000000000-9"));
        assert_eq!(stream_id("nope"), None);
    }
}
