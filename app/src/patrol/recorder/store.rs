//! The phone's outbox in IndexedDB, and one round of sending it.
//!
//! Records are [`Kept`] (the `OutboxItem`'s fields flat beside `patrol` and
//! `refused`) in the store `outbox` of the database `zhsq-patrol`, keyed by
//! the item's id, as the former JavaScript recorder kept them. Where the
//! browser has no IndexedDB the outbox lives in memory for the page's life.
//!
//! `send_next` is the one place an answer changes the outbox: the rules are
//! `domain::patrol::outbox` (`next_batch`, `settle`, `quarantine`), and
//! nothing is deleted unless the server has it. The recorder passes the real
//! `fetch`; the browser tests (`app/tests/outbox.rs`) pass a pretend server.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;

use domain::patrol::outbox::{self, Counts, Kept, RefusalReason};
use domain::patrol::{Batch, BatchReply};
use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams, Query, TransactionMode};
use leptos::serde_json;
use wasm_bindgen::JsValue;

/// The recorder's database.
pub const DB_NAME: &str = "zhsq-patrol";
const STORE: &str = "outbox";

pub struct Store {
    db: Option<Database>,
    memory: RefCell<Vec<Kept>>,
}

/// What the server did with a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Reply(BatchReply),
    /// Not 2xx (or a 2xx whose body is not a reply).
    Status(u16),
    /// No answer: offline, or the connection failed.
    Offline,
}

/// One round of sending.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// Items in the batch sent (0: nothing waited).
    pub sent: usize,
    /// Items removed: the server has them.
    pub gone: usize,
    /// More waits and is worth sending at once (the server answered).
    pub more: bool,
    pub answer: Option<Answer>,
    /// The outbox after the round (unreadable records count as refused),
    /// from what was read for it: no second read. None when unreadable.
    pub counts: Option<Counts>,
}

fn to_js(k: &Kept) -> Option<JsValue> {
    js_sys::JSON::parse(&serde_json::to_string(k).ok()?).ok()
}

fn from_js(v: &JsValue) -> Option<Kept> {
    serde_json::from_str(&js_sys::JSON::stringify(v).ok()?.as_string()?).ok()
}

impl Store {
    /// The outbox in IndexedDB database `name`, or in memory where there is
    /// no IndexedDB (or it will not open: private modes).
    pub async fn open(name: &str) -> Store {
        Store { db: open_db(name).await, memory: RefCell::new(Vec::new()) }
    }

    pub fn in_memory() -> Store {
        Store { db: None, memory: RefCell::new(Vec::new()) }
    }

    pub fn persistent(&self) -> bool {
        self.db.is_some()
    }

    /// Closes the database (as a reload does).
    pub fn close(self) {
        if let Some(db) = self.db {
            db.close();
        }
    }

    /// Writes records (new ones, or ones marked refused).
    pub async fn put(&self, items: &[Kept]) {
        let Some(db) = &self.db else {
            let mut memory = self.memory.borrow_mut();
            for k in items {
                memory.retain(|m| m.item.id() != k.item.id());
                memory.push(k.clone());
            }
            return;
        };
        let Ok(tx) = db.transaction(&[STORE], TransactionMode::ReadWrite) else { return };
        if let Ok(store) = tx.object_store(STORE) {
            for k in items {
                if let Some(v) = to_js(k) {
                    let _ = store.put(&v, None);
                }
            }
        }
        let _ = tx.await;
    }

    /// Everything kept, and how many records could not be read (left where
    /// they are, never deleted). None when the store cannot be read now.
    pub async fn all(&self) -> Option<(Vec<Kept>, usize)> {
        let Some(db) = &self.db else { return Some((self.memory.borrow().clone(), 0)) };
        let tx = db.transaction(&[STORE], TransactionMode::ReadOnly).ok()?;
        let values = tx.object_store(STORE).ok()?.get_all(None, None).ok()?.await.ok()?;
        let kept: Vec<Kept> = values.iter().filter_map(from_js).collect();
        let unreadable = values.len() - kept.len();
        Some((kept, unreadable))
    }

    /// What waits, and what was refused (unreadable records count as refused).
    pub async fn counts(&self) -> Option<Counts> {
        let (kept, unreadable) = self.all().await?;
        let c = outbox::counts(&kept);
        Some(Counts { waiting: c.waiting, refused: c.refused + unreadable })
    }

    async fn remove(&self, ids: &[String]) {
        let Some(db) = &self.db else {
            let gone: HashSet<&str> = ids.iter().map(String::as_str).collect();
            self.memory.borrow_mut().retain(|k| !gone.contains(k.item.id()));
            return;
        };
        let Ok(tx) = db.transaction(&[STORE], TransactionMode::ReadWrite) else { return };
        if let Ok(store) = tx.object_store(STORE) {
            for id in ids {
                let _ = store.delete(Query::from(JsValue::from_str(id)));
            }
        }
        let _ = tx.await;
    }
}

async fn open_db(name: &str) -> Option<Database> {
    let factory = Factory::new().ok()?;
    let mut request = factory.open(name, Some(1)).ok()?;
    request.on_upgrade_needed(|event| {
        let Ok(db) = event.database() else { return };
        if !db.store_names().iter().any(|n| n == STORE) {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single("id")));
            let _ = db.create_object_store(STORE, params);
        }
    });
    request.await.ok()
}

/// Sends the next batch with `post` and applies the answer: what the server
/// has leaves the outbox; what it refused stays, marked with its reason; a
/// batch it cannot take at all (4xx other than 401, 408, 429) is
/// quarantined; anything else (offline, 401, 5xx) changes nothing.
pub async fn send_next<F, Fut>(store: &Store, en: bool, now_ms: i64, post: F) -> Round
where
    F: FnOnce(Batch) -> Fut,
    Fut: Future<Output = Answer>,
{
    let Some((mut kept, unreadable)) = store.all().await else {
        return Round { sent: 0, gone: 0, more: false, answer: None, counts: None };
    };
    let counted = |kept: &[Kept]| {
        let c = outbox::counts(kept);
        Some(Counts { waiting: c.waiting, refused: c.refused + unreadable })
    };
    let Some((patrol, chosen)) = outbox::next_batch(&kept) else {
        return Round { sent: 0, gone: 0, more: false, answer: None, counts: counted(&kept) };
    };
    let sent: Vec<String> = chosen.iter().map(|&i| kept[i].item.id().to_string()).collect();
    let waiting = outbox::counts(&kept).waiting;
    let batch = Batch { patrol, sent_at: now_ms, items: chosen.iter().map(|&i| kept[i].item.clone()).collect() };
    let answer = post(batch).await;
    let mut round = Round { sent: sent.len(), gone: 0, more: false, answer: None, counts: None };
    // the outbox as it is after the answer, and the records that changed
    let marked = |kept: &[Kept]| -> Vec<Kept> {
        let sent: HashSet<&str> = sent.iter().map(String::as_str).collect();
        kept.iter().filter(|k| k.patrol == patrol && sent.contains(k.item.id())).cloned().collect()
    };
    match &answer {
        Answer::Reply(reply) => {
            round.gone = outbox::settle(&mut kept, patrol, &sent, reply);
            let stay = marked(&kept);
            let refused: HashSet<&str> = stay.iter().map(|k| k.item.id()).collect();
            let gone: Vec<String> = sent.iter().filter(|i| !refused.contains(i.as_str())).cloned().collect();
            store.remove(&gone).await;
            store.put(&stay).await;
            round.more = waiting > sent.len();
        }
        Answer::Status(code) if quarantines(*code) => {
            // the server cannot take the batch at all: kept aside, never deleted
            let reason =
                if *code == 403 || *code == 404 { RefusalReason::PatrolGone } else { RefusalReason::BatchRefused };
            outbox::quarantine(&mut kept, patrol, &sent, reason, en);
            store.put(&marked(&kept)).await;
            round.more = waiting > sent.len();
        }
        Answer::Status(_) | Answer::Offline => {}
    }
    round.counts = counted(&kept);
    round.answer = Some(answer);
    round
}

/// A status that means the server will never take this batch as it is.
pub fn quarantines(code: u16) -> bool {
    (400..500).contains(&code) && !matches!(code, 401 | 408 | 429)
}

impl Answer {
    /// The server's reply, if it gave one.
    pub fn reply(&self) -> Option<&BatchReply> {
        match self {
            Answer::Reply(r) => Some(r),
            _ => None,
        }
    }
}
