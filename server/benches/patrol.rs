//! GPS ingest (issue 4): how fast patrol fixes are stored.
//!
//! - *batch ingest*: `backend::patrol::ingest` with outbox batches of 1,000 fixes
//!   (server-reckoned times, the track filter against the fix before the
//!   batch, INSERT … ON CONFLICT DO NOTHING: multi-row VALUES per 1,500 rows on SQLite, one array per column on PostgreSQL;
//!   the dropped fixes read back for the reply) — in-process, no HTTP;
//! - *raw insert*: the same rows inserted into the same table with nothing
//!   else — bare multi-row INSERTs of 1,000 rows and, on PostgreSQL, also the
//!   statement ingest uses there (one array per column unnested in SQL,
//!   `PG_INGEST_ROWS` rows) without ON CONFLICT; the faster of the two is the ceiling;
//! - *OsmAnd*: single-position HTTP requests (`GET /osmand?id=…`) from 16
//!   concurrent clients in the same process, one patrol under way.
//!
//! SQLite and (when it is running) PostgreSQL; figures go into
//! docs/benchmarks.md between `<!-- patrol: -->` markers.
//! Run: `script/bench-patrol` (or `cargo bench -p server --bench patrol`).

mod common;

use backend::entities::{patrol, track_point};
use chrono::{Duration, Utc};
use domain::patrol::{Batch, OutboxItem};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement};
use std::time::Instant;

const FIXES: usize = 60_000;
const BATCH: usize = 1_000;
const OSMAND_REQUESTS: usize = 4_000;
const CLIENTS: usize = 16;

struct Figures {
    database: &'static str,
    raw_how: &'static str,
    ingest_pps: f64,
    raw_pps: f64,
    osmand_rps: f64,
    osmand_p50_ms: f64,
    osmand_p99_ms: f64,
}

/// A walk on a 150 m circle, one fix a second, ending a minute ago.
fn fix(i: usize, now_ms: i64) -> (f64, f64, i64) {
    let a = i as f64 / 900.0 * std::f64::consts::TAU;
    let lat = 39.9600 + 0.00135 * a.sin();
    let lng = 116.4170 + 0.00176 * a.cos();
    (lat, lng, now_ms - 60_000 - (FIXES - i) as i64 * 1000)
}

async fn backdated_patrol(state: &backend::State, worker: &backend::auth::CurrentUser) -> i64 {
    if let Some(p) = backend::patrol::open_patrol(state, worker).await.unwrap() {
        backend::patrol::transition_now(state, worker, p.id, domain::patrol::Transition::End, "bench-end")
            .await
            .unwrap();
    }
    let id = backend::patrol::start(state, worker, None, None).await.unwrap();
    patrol::Entity::update_many()
        .col_expr(patrol::Column::StartedAt, sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(2)))
        .filter(patrol::Column::Id.eq(id))
        .exec(&state.db)
        .await
        .unwrap();
    id
}

async fn run(database: &'static str, url: String, dir: &std::path::Path) -> Figures {
    let (base, state) = common::start(url, dir, &[]).await;
    let worker = common::user(&state, "13700000001").await;

    // batch ingest
    let id = backdated_patrol(&state, &worker).await;
    let now_ms = Utc::now().timestamp_millis();
    let items: Vec<OutboxItem> = (0..FIXES)
        .map(|i| {
            let (lat, lng, t) = fix(i, now_ms);
            OutboxItem::Fix { id: format!("b{i}"), t, lat, lng, acc: 5.0, speed: Some(1.0), heading: None, alt: None }
        })
        .collect();
    let started = Instant::now();
    for chunk in items.chunks(BATCH) {
        let reply =
            backend::patrol::ingest(&state, &worker, Batch { patrol: id, sent_at: now_ms, items: chunk.to_vec() })
                .await
                .unwrap();
        assert_eq!(reply.stored, chunk.len());
        assert!(reply.dropped.is_empty(), "{:?}", reply.dropped.first());
    }
    let ingest_s = started.elapsed().as_secs_f64();
    let stored =
        track_point::Entity::find().filter(track_point::Column::PatrolId.eq(id)).count(&state.db).await.unwrap();
    assert_eq!(stored as usize, FIXES);

    // the same rows, bare INSERTs of the same size into the same table
    let raw_id = backdated_patrol(&state, &worker).await;
    let now = Utc::now();
    let rows: Vec<track_point::ActiveModel> = (0..FIXES)
        .map(|i| {
            let (lat, lng, t) = fix(i, now_ms);
            let at = chrono::DateTime::from_timestamp_millis(t).unwrap();
            track_point::ActiveModel {
                patrol_id: Set(raw_id),
                client_id: Set(format!("b{i}")),
                lat: Set(lat),
                lng: Set(lng),
                accuracy_m: Set(5.0),
                speed_mps: Set(Some(1.0)),
                heading: Set(None),
                altitude: Set(None),
                battery: Set(None),
                device_at: Set(Some(at)),
                at: Set(at),
                received_at: Set(now),
                source: Set("app".into()),
                dropped: Set(None),
                dropped_value: Set(None),
                ..Default::default()
            }
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(BATCH) {
        track_point::Entity::insert_many(chunk.to_vec()).exec_without_returning(&state.db).await.unwrap();
    }
    let mut raw_s = started.elapsed().as_secs_f64();
    let mut raw_how = "multi-row VALUES";
    if database == "PostgreSQL" {
        // and the way ingest writes on PostgreSQL (one array per column, pg_chunk() rows), without ON CONFLICT
        let arrays_id = backdated_patrol(&state, &worker).await;
        let sql = backend::patrol::PG_INSERT.replace("ON CONFLICT (patrol_id, client_id) DO NOTHING", "");
        let started = Instant::now();
        for chunk in (0..FIXES).collect::<Vec<_>>().chunks(backend::patrol::pg_chunk()) {
            let rows: Vec<backend::patrol::NewFix> = chunk
                .iter()
                .map(|&i| {
                    let (lat, lng, t) = fix(i, now_ms);
                    backend::patrol::NewFix {
                        client_id: format!("b{i}"),
                        fix: domain::geo::Fix { lat, lng, accuracy_m: 5.0, at: t / 1000, device_at: Some(t / 1000) },
                        speed_mps: Some(1.0),
                        heading: None,
                        altitude: None,
                        battery: None,
                        dropped: None,
                    }
                })
                .collect();
            let values = backend::patrol::pg_values(arrays_id, now, "app", &rows);
            state.db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, &sql, values)).await.unwrap();
        }
        let arrays_s = started.elapsed().as_secs_f64();
        if arrays_s < raw_s {
            raw_s = arrays_s;
            raw_how = "arrays unnested in SQL";
        }
    }

    // OsmAnd, single positions over HTTP
    let device = backend::patrol::register_device(&state, &worker, None, "bench").await.unwrap();
    backdated_patrol(&state, &worker).await;
    let client = reqwest::Client::new();
    let t0 = Utc::now().timestamp() - OSMAND_REQUESTS as i64;
    let started = Instant::now();
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let (client, base, device) = (client.clone(), base.clone(), device.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            for i in (c..OSMAND_REQUESTS).step_by(CLIENTS) {
                let (la, ln, _) = fix(i, 0);
                let url = format!(
                    "{base}/osmand?id={device}&timestamp={}&lat={la:.6}&lon={ln:.6}&accuracy=5&speed=2&batt=80",
                    t0 + i as i64
                );
                let s = Instant::now();
                let r = client.get(url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                lat.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut latencies = vec![];
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let osmand_s = started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Figures {
        database,
        raw_how,
        ingest_pps: FIXES as f64 / ingest_s,
        raw_pps: FIXES as f64 / raw_s,
        osmand_rps: OSMAND_REQUESTS as f64 / osmand_s,
        osmand_p50_ms: pct(0.50),
        osmand_p99_ms: pct(0.99),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let figures = rt.block_on(async {
        let mut out = vec![];
        let dir = std::env::temp_dir().join(format!("zhsq-bench-patrol-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        out.push(run("SQLite", format!("sqlite://{}/bench.db", dir.display()), &dir).await);
        if let Some(url) = common::fresh_postgres("zhsq_bench_patrol").await {
            let pg_dir = dir.join("pg");
            std::fs::create_dir_all(&pg_dir).unwrap();
            out.push(run("PostgreSQL", url, &pg_dir).await);
            common::drop_postgres("zhsq_bench_patrol").await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        out
    });
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut s = String::new();
    s.push_str("<!-- patrol: written by script/bench-patrol -->\n");
    s.push_str("## GPS ingest (script/bench-patrol)\n\n");
    s.push_str(&format!(
        "{FIXES} fixes in outbox batches of {BATCH} through `backend::patrol::ingest` (reckoned times, the track filter, \
         INSERT … ON CONFLICT DO NOTHING), beside the same rows written into the same table in the same run by bare \
         INSERTs (the faster of multi-row VALUES and, on PostgreSQL, the array-unnesting statement ingest uses, \
         without ON CONFLICT); then {OSMAND_REQUESTS} single-position OsmAnd \
         requests over HTTP from {CLIENTS} concurrent clients in the same process. PostgreSQL statements of {} rows \
         (`PG_INGEST_ROWS`). Release build, {cpus} CPUs, {}.\n\n",
        backend::patrol::pg_chunk(),
        Utc::now().format("%Y-%m-%d")
    ));
    let verdict = match figures.iter().find(|f| f.database == "PostgreSQL") {
        Some(pg) if pg.ingest_pps >= 20_000.0 && pg.ingest_pps >= 0.5 * pg.raw_pps => "Met in this run.",
        Some(_) => "NOT met in this run.",
        None => "PostgreSQL was not running: not measured.",
    };
    s.push_str(&format!(
        "Targets (issue 4): at least 20,000 fixes/s on PostgreSQL and ingest at least half of the raw insert. \
         {verdict}\n\n"
    ));
    s.push_str("| database | batch ingest | raw insert | raw by | ingest / raw | OsmAnd requests | OsmAnd p50 | OsmAnd p99 |\n");
    s.push_str("|---|---|---|---|---|---|---|---|\n");
    for f in &figures {
        s.push_str(&format!(
            "| {} | {:.0} fixes/s | {:.0} rows/s | {} | {:.0}% | {:.0} /s | {:.1} ms | {:.1} ms |\n",
            f.database,
            f.ingest_pps,
            f.raw_pps,
            f.raw_how,
            100.0 * f.ingest_pps / f.raw_pps,
            f.osmand_rps,
            f.osmand_p50_ms,
            f.osmand_p99_ms
        ));
    }
    s.push_str("<!-- /patrol -->\n");
    print!("{s}");
    common::write_section("patrol", &s);
}
