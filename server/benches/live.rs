//! Live patrol positions (issue 4): WATCHERS staff connections hold
//! `GET /api/v1/events?topics=patrols:{grid}` open on one release instance;
//! each of ROUNDS rounds, the grid worker's phone posts a one-fix outbox
//! batch over HTTP, and the latency runs from that request's start to the
//! `position` event arriving on each connection (batch transaction, bus,
//! every stream). With the in-process bus, and through Redis when it is
//! running (`REDIS_URL`: the same path as N instances behind a proxy).
//! The watchers run in the same process and share the two cores.
//! Figures go into docs/benchmarks.md between `<!-- live: -->` markers.
//!
//! Run: `script/bench-live` (or `cargo bench -p server --bench live`).

#[allow(dead_code)] // not every bench uses every helper
mod common;

use chrono::Utc;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WATCHERS: usize = 1_000;
const ROUNDS: usize = 30;

struct Figures {
    bus: &'static str,
    connected: usize,
    delivered: usize,
    expected: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

struct Round {
    t0: Instant,
    latencies: Vec<f64>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(bus: &'static str, extra: &[(&str, &str)]) -> Figures {
    let dir = std::env::temp_dir().join(format!("zhsq-bench-live-{}-{bus}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/live.db", dir.display());
    let (base, state) = common::start(url, &dir, extra).await;
    let worker = common::user(&state, "13700000001").await;
    let staff = common::user(&state, "13900000002").await;
    let staff_token = backend::auth::issue_session(&state, staff.id, None).await.unwrap().access_token;
    let worker_token = backend::auth::issue_session(&state, worker.id, None).await.unwrap().access_token;
    let patrol = backend::patrol::start(&state, &worker, None, None).await.unwrap();
    let p = {
        use sea_orm::EntityTrait;
        backend::entities::patrol::Entity::find_by_id(patrol).one(&state.db).await.unwrap().unwrap()
    };

    let client = reqwest::Client::builder().pool_max_idle_per_host(WATCHERS + 8).build().unwrap();
    let current: Arc<Mutex<Option<Round>>> = Arc::new(Mutex::new(None));
    let connected = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let events = format!("{base}/api/v1/events?topics=patrols:{}", p.grid_id);
    let mut tasks = vec![];
    for _ in 0..WATCHERS {
        let (client, events, token) = (client.clone(), events.clone(), staff_token.clone());
        let (current, connected, received) = (current.clone(), connected.clone(), received.clone());
        tasks.push(tokio::spawn(async move {
            let r = client.get(&events).bearer_auth(&token).header("Accept", "text/event-stream").send().await;
            let Ok(r) = r else { return };
            if r.status() != 200 {
                return;
            }
            connected.fetch_add(1, Ordering::SeqCst);
            let mut body = r.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if frame.contains("event: position\n") {
                        if let Some(rd) = current.lock().unwrap().as_mut() {
                            rd.latencies.push(rd.t0.elapsed().as_secs_f64() * 1000.0);
                        }
                        received.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    let opened = Instant::now();
    while connected.load(Ordering::SeqCst) < WATCHERS && opened.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = connected.load(Ordering::SeqCst);

    let mut all = vec![];
    let mut expected = 0;
    for i in 0..ROUNDS {
        let before = received.load(Ordering::SeqCst);
        *current.lock().unwrap() = Some(Round { t0: Instant::now(), latencies: vec![] });
        let now_ms = Utc::now().timestamp_millis();
        let body = serde_json::json!({
            "patrol": patrol, "sent_at": now_ms,
            "items": [{"type": "fix", "id": format!("live-{i}"), "t": now_ms,
                       "lat": 39.9600 + i as f64 * 0.00001, "lng": 116.4170, "acc": 5.0}],
        });
        let r = client.post(format!("{base}/api/v1/patrol/batch")).bearer_auth(&worker_token).json(&body).send().await;
        assert_eq!(r.unwrap().status(), 200);
        let waited = Instant::now();
        while received.load(Ordering::SeqCst) < before + n && waited.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let rd = current.lock().unwrap().take().unwrap();
        all.extend(rd.latencies);
        expected += n;
        // the next fix a little later (a phone sends every few seconds)
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    for t in tasks {
        t.abort();
    }
    let _ = std::fs::remove_dir_all(&dir);
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Figures {
        bus,
        connected: n,
        delivered: all.len(),
        expected,
        p50_ms: pct(&all, 0.5),
        p99_ms: pct(&all, 0.99),
        max_ms: all.last().copied().unwrap_or(f64::NAN),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let figures = rt.block_on(async {
        let mut out = vec![run("in-process", &[]).await];
        let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        // the default Redis of the development and CI machines
        let reachable = redis == "redis://127.0.0.1:6379"
            && std::net::TcpStream::connect_timeout(&"127.0.0.1:6379".parse().unwrap(), Duration::from_secs(1)).is_ok();
        if reachable {
            let prefix = format!("zhsq-bench-live-{}:", std::process::id());
            out.push(run("Redis", &[("REDIS_URL", redis.as_str()), ("REDIS_PREFIX", prefix.as_str())]).await);
        }
        out
    });
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut s = String::new();
    s.push_str("<!-- live: written by script/bench-live -->\n");
    s.push_str("## Live patrol positions (script/bench-live)\n\n");
    s.push_str(&format!(
        "{WATCHERS} staff connections watch one grid (`/api/v1/events?topics=patrols:{{grid}}`) on one release \
         instance (SQLite); each of {ROUNDS} rounds the grid worker's phone posts a one-fix outbox batch over HTTP, \
         and the latency runs from that request's start to the `position` event on each connection (the batch's \
         transaction, the bus, every stream). The watchers run in the same process on the same {cpus} CPUs. \
         {}.\n\n",
        Utc::now().format("%Y-%m-%d")
    ));
    s.push_str("| bus | connections | events delivered / expected | p50 | p99 | max |\n|---|---|---|---|---|---|\n");
    for f in &figures {
        s.push_str(&format!(
            "| {} | {} | {} / {} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            f.bus, f.connected, f.delivered, f.expected, f.p50_ms, f.p99_ms, f.max_ms
        ));
    }
    s.push_str("<!-- /live -->\n");
    print!("{s}");
    common::write_section("live", &s);
}
