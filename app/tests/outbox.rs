//! The patrol outbox in a real browser: IndexedDB in headless Chromium,
//! driven by wasm-bindgen-test-runner (script/test), against a pretend
//! server. Ordering, retry, refusals, quarantine, and a reload while
//! offline: nothing is lost and nothing is sent twice.
#![cfg(all(target_arch = "wasm32", feature = "worker"))]

use std::cell::RefCell;
use std::rc::Rc;

use app::patrol::recorder::store::{self, Answer, Store};
use domain::patrol::outbox::{Counts, Kept, RefusalReason, RefusedItem};
use domain::patrol::{Batch, BatchReply, EventKind, GapReason, OutboxItem, PatrolState};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fix(patrol: i64, id: &str, t: i64) -> Kept {
    Kept::new(
        patrol,
        OutboxItem::Fix { id: id.into(), t, lat: 39.96, lng: 116.418, acc: 8.0, speed: None, heading: None, alt: None },
    )
}

fn reply(stored: usize, refused: Vec<RefusedItem>) -> BatchReply {
    BatchReply { stored, duplicates: 0, dropped: vec![], checkins: vec![], refused, state: PatrolState::Active }
}

/// A database of its own for each test.
async fn fresh(name: &str) -> Store {
    let name = format!("outbox-test-{name}-{}", js_sys::Math::random());
    let store = Store::open(&name).await;
    assert!(store.persistent(), "IndexedDB opens in Chromium");
    store
}

/// A pretend server: remembers each batch and gives `answer`.
fn server(seen: &Rc<RefCell<Vec<Batch>>>, answer: Answer) -> impl FnOnce(Batch) -> std::future::Ready<Answer> {
    let seen = seen.clone();
    move |b| {
        seen.borrow_mut().push(b);
        std::future::ready(answer)
    }
}

fn ids(b: &Batch) -> Vec<String> {
    b.items.iter().map(|i| i.id().to_string()).collect()
}

async fn kept_ids(store: &Store) -> Vec<String> {
    let (kept, _) = store.all().await.expect("readable");
    let mut ids: Vec<String> = kept.iter().map(|k| k.item.id().to_string()).collect();
    ids.sort();
    ids
}

#[wasm_bindgen_test]
async fn the_oldest_patrol_goes_first_newest_items_first() {
    let store = fresh("order").await;
    store.put(&[fix(2, "other", 9), fix(1, "f1", 1), fix(1, "f3", 3), fix(1, "f2", 2)]).await;
    let seen = Rc::new(RefCell::new(vec![]));
    let round = store::send_next(&store, false, 10, server(&seen, Answer::Reply(reply(3, vec![])))).await;
    assert_eq!((round.sent, round.gone, round.more), (3, 3, true));
    assert_eq!(round.counts, store.counts().await, "the round's counts are the outbox's");
    let batch = seen.borrow()[0].clone();
    assert_eq!((batch.patrol, batch.sent_at), (1, 10));
    assert_eq!(ids(&batch), ["f3", "f2", "f1"]);
    // what the phone sends is what the server parses
    let json = leptos::serde_json::to_string(&batch).expect("json");
    assert_eq!(leptos::serde_json::from_str::<Batch>(&json).expect("the server's type reads it"), batch);
    assert_eq!(json.matches("\"patrol\"").count(), 1, "items go without the phone's own fields: {json}");
    assert_eq!(kept_ids(&store).await, ["other"]);
    let round = store::send_next(&store, false, 11, server(&seen, Answer::Reply(reply(1, vec![])))).await;
    assert_eq!((round.sent, round.more), (1, false));
    assert_eq!(seen.borrow()[1].patrol, 2);
    assert_eq!(store.counts().await, Some(Counts { waiting: 0, refused: 0 }));
}

#[wasm_bindgen_test]
async fn without_an_answer_nothing_leaves_and_the_same_batch_goes_again() {
    let store = fresh("retry").await;
    store.put(&[fix(1, "a", 1), fix(1, "b", 2), fix(1, "c", 3)]).await;
    let seen = Rc::new(RefCell::new(vec![]));
    for answer in [Answer::Offline, Answer::Status(503), Answer::Status(401), Answer::Status(429), Answer::Status(408)]
    {
        let round = store::send_next(&store, false, 5, server(&seen, answer)).await;
        assert_eq!((round.gone, round.more), (0, false));
        assert_eq!(store.counts().await, Some(Counts { waiting: 3, refused: 0 }));
    }
    // the same items every time, so the server's ids make the resend harmless
    assert!(seen.borrow().iter().all(|b| ids(b) == ["c", "b", "a"]));
    let round = store::send_next(&store, false, 6, server(&seen, Answer::Reply(reply(3, vec![])))).await;
    assert_eq!(round.gone, 3);
    assert!(kept_ids(&store).await.is_empty());
}

#[wasm_bindgen_test]
async fn a_refused_item_stays_marked_and_is_not_sent_again_unless_transient() {
    let store = fresh("refused").await;
    store.put(&[fix(1, "ok", 1), fix(1, "bad", 2), fix(1, "later", 3)]).await;
    let seen = Rc::new(RefCell::new(vec![]));
    let answer = Answer::Reply(reply(
        1,
        vec![
            RefusedItem::new("bad", RefusalReason::BadId, false),
            RefusedItem::new("later", RefusalReason::OverLimit, false),
        ],
    ));
    let round = store::send_next(&store, false, 5, server(&seen, answer)).await;
    assert_eq!(round.gone, 1);
    assert_eq!(kept_ids(&store).await, ["bad", "later"]);
    assert_eq!(store.counts().await, Some(Counts { waiting: 1, refused: 1 }));
    let (kept, _) = store.all().await.expect("readable");
    let bad = kept.iter().find(|k| k.item.id() == "bad").expect("kept");
    assert_eq!(bad.refused.as_ref().map(|r| (r.reason, r.text.as_str())), Some((RefusalReason::BadId, "记录编号无效")));
    // over the limit is worth sending again; a bad id is not
    store::send_next(&store, false, 6, server(&seen, Answer::Reply(reply(1, vec![])))).await;
    assert_eq!(ids(&seen.borrow()[1]), ["later"]);
    assert_eq!(kept_ids(&store).await, ["bad"]);
    let round = store::send_next(&store, false, 7, server(&seen, Answer::Offline)).await;
    assert_eq!(round.sent, 0, "nothing waits");
}

#[wasm_bindgen_test]
async fn a_batch_the_server_cannot_take_is_quarantined_never_deleted() {
    let store = fresh("quarantine").await;
    store.put(&[fix(1, "a", 1), fix(1, "b", 2), fix(2, "c", 3)]).await;
    let seen = Rc::new(RefCell::new(vec![]));
    let round = store::send_next(&store, true, 5, server(&seen, Answer::Status(400))).await;
    assert_eq!((round.sent, round.gone, round.more), (2, 0, true));
    assert_eq!(store.counts().await, Some(Counts { waiting: 1, refused: 2 }));
    let (kept, _) = store.all().await.expect("readable");
    assert!(kept
        .iter()
        .filter(|k| k.patrol == 1)
        .all(|k| k.refused.as_ref().map(|r| r.reason) == Some(RefusalReason::BatchRefused)));
    // the other patrol is not held up; its patrol is gone on the server
    store::send_next(&store, false, 6, server(&seen, Answer::Status(404))).await;
    assert_eq!(seen.borrow()[1].patrol, 2);
    assert_eq!(store.counts().await, Some(Counts { waiting: 0, refused: 3 }));
    assert_eq!(kept_ids(&store).await, ["a", "b", "c"]);
}

#[wasm_bindgen_test]
async fn a_reload_while_offline_finds_every_item_and_sends_each_once() {
    let name = format!("outbox-test-reload-{}", js_sys::Math::random());
    let store = Store::open(&name).await;
    let gap = Kept::new(
        1,
        OutboxItem::Event {
            id: "g1".into(),
            t: 2,
            kind: EventKind::Gap,
            until: Some(40_000),
            reason: Some(GapReason::Offline),
        },
    );
    store.put(&[fix(1, "a", 1), gap, fix(1, "b", 3)]).await;
    let seen = Rc::new(RefCell::new(vec![]));
    store::send_next(&store, false, 5, server(&seen, Answer::Offline)).await;
    store.close();
    // the page again, still offline: the same outbox
    let store = Store::open(&name).await;
    assert_eq!(store.counts().await, Some(Counts { waiting: 3, refused: 0 }));
    store.put(&[fix(1, "c", 50_000)]).await;
    store::send_next(&store, false, 6, server(&seen, Answer::Offline)).await;
    let round = store::send_next(&store, false, 7, server(&seen, Answer::Reply(reply(4, vec![])))).await;
    assert_eq!((round.sent, round.gone), (4, 4));
    assert_eq!(ids(&seen.borrow()[2]), ["c", "b", "g1", "a"]);
    assert!(kept_ids(&store).await.is_empty());
}

#[wasm_bindgen_test]
async fn records_the_javascript_recorder_left_are_read_and_an_unreadable_one_is_kept() {
    let name = format!("outbox-test-legacy-{}", js_sys::Math::random());
    let store = Store::open(&name).await;
    store.close();
    // written as public/patrol.js wrote them, straight into IndexedDB
    let factory = idb::Factory::new().expect("indexedDB");
    let db = factory.open(&name, Some(1)).expect("open").await.expect("opened");
    let tx = db.transaction(&["outbox"], idb::TransactionMode::ReadWrite).expect("tx");
    let outbox = tx.object_store("outbox").expect("store");
    for raw in [
        r#"{"type":"fix","id":"f-old","t":1733400000000,"lat":39.96,"lng":116.418,"acc":8,"speed":null,"heading":null,"alt":null,"patrol":7}"#,
        r#"{"type":"checkin","id":"c-old","t":1733400001000,"checkpoint":3,"qr":null,"patrol":7,"refused":{"reason":"unknown_checkpoint","text":"该点位不在本次巡逻的线路上"}}"#,
        r#"{"type":"teleport","id":"x-new","t":1,"patrol":7}"#,
    ] {
        let v: JsValue = js_sys::JSON::parse(raw).expect("json");
        outbox.put(&v, None).expect("put");
    }
    tx.await.expect("written");
    db.close();
    let store = Store::open(&name).await;
    let (kept, unreadable) = store.all().await.expect("readable");
    assert_eq!((kept.len(), unreadable), (2, 1));
    assert_eq!(store.counts().await, Some(Counts { waiting: 1, refused: 2 }));
    let seen = Rc::new(RefCell::new(vec![]));
    store::send_next(&store, false, 5, server(&seen, Answer::Reply(reply(1, vec![])))).await;
    assert_eq!(ids(&seen.borrow()[0]), ["f-old"]);
    // the record no type of ours reads is still there, for someone to look at
    assert_eq!(store.counts().await, Some(Counts { waiting: 0, refused: 2 }));
}
