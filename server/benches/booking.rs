//! Booking under a crowd: 200 people ask for the same 10-seat slot at once,
//! over HTTP, against the release build, on SQLite and (when it is running)
//! PostgreSQL. Prints the latency of every answer (p50, p99, max), checks that
//! each round gave exactly 10 bookings and 190 "full" answers, and writes the
//! figures into docs/benchmarks.md between `<!-- booking: -->` markers.
//!
//! Run: `script/bench-booking` (or `cargo bench -p server --bench booking`).

mod common;

use backend::entities;
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, Set};
use std::time::Instant;

const PEOPLE: usize = 200;
const SEATS: i32 = 10;
const ROUNDS: usize = 20;

struct Figures {
    database: &'static str,
    requests: usize,
    p50: f64,
    p99: f64,
    max: f64,
    wall_per_round: f64,
    exact_rounds: usize,
}

async fn run(database: &'static str, url: String, dir: &std::path::Path) -> Figures {
    let (base, state) = common::start(url, dir, &[]).await;

    // an item open to anyone, made by 阳光社区's staff
    let staff = common::user(&state, "13900000002").await;
    let community = staff.grants[0].org_unit_id;
    let settings = domain::appointments::ItemSettings::parse(&domain::appointments::ItemForm {
        name: "压力测试事项",
        guide: "",
        place: "服务大厅",
        duration_minutes: "10",
        audience: "anyone",
        book_notice_hours: "0",
        cancel_notice_hours: "0",
        window_days: "30",
        quota_count: "",
        quota_period: "week",
        no_show_limit: "",
        offer_minutes: "30",
    })
    .unwrap();
    let item = backend::appointments::create_item(&state, &staff, community, settings).await.unwrap();

    let mut tokens = vec![];
    for i in 0..PEOPLE {
        let u =
            backend::auth::new_user(&format!("1560000{i:04}"), &format!("压测{i}")).insert(&state.db).await.unwrap();
        tokens.push(backend::auth::issue_session(&state, u.id, None).await.unwrap().access_token);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(PEOPLE).build().unwrap();
    let mut latencies: Vec<f64> = vec![];
    let mut exact = 0;
    let mut wall = 0.0;
    for round in 0..ROUNDS {
        let starts = Utc::now() + Duration::days(1) + Duration::minutes(30 * round as i64);
        let slot = entities::slot::ActiveModel {
            item_id: Set(item),
            starts_at: Set(starts),
            ends_at: Set(starts + Duration::minutes(30)),
            capacity: Set(SEATS),
            booked: Set(0),
            status: Set(domain::appointments::SlotStatus::Open),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&state.db)
        .await
        .unwrap()
        .id;
        let t0 = Instant::now();
        let tasks: Vec<_> = tokens
            .iter()
            .map(|token| {
                let (client, url, token) =
                    (client.clone(), format!("{base}/api/v1/appointments/bookings"), token.clone());
                tokio::spawn(async move {
                    let t = Instant::now();
                    let r = client
                        .post(url)
                        .bearer_auth(token)
                        .json(&serde_json::json!({ "slot_id": slot }))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    (status, t.elapsed().as_secs_f64() * 1000.0)
                })
            })
            .collect();
        let mut ok = 0;
        let mut full = 0;
        for t in tasks {
            let (status, ms) = t.await.unwrap();
            latencies.push(ms);
            match status {
                201 => ok += 1,
                409 => full += 1,
                other => panic!("unexpected status {other}"),
            }
        }
        wall += t0.elapsed().as_secs_f64() * 1000.0;
        let booked = {
            use sea_orm::EntityTrait;
            entities::slot::Entity::find_by_id(slot).one(&state.db).await.unwrap().unwrap().booked as i64
        };
        if ok == SEATS as usize && full == PEOPLE - SEATS as usize && booked == SEATS as i64 {
            exact += 1;
        } else {
            eprintln!("round {round}: {ok} booked, {full} full, slot says {booked}");
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    Figures {
        database,
        requests: latencies.len(),
        p50: pct(0.50),
        p99: pct(0.99),
        max: *latencies.last().unwrap(),
        wall_per_round: wall / ROUNDS as f64,
        exact_rounds: exact,
    }
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("zhsq-bench-booking-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = vec![run("SQLite", format!("sqlite://{}/bench.db", dir.display()), &dir).await];
    if let Some(url) = common::fresh_postgres("zhsq_bench_booking").await {
        all.push(run("PostgreSQL", url, &dir).await);
        common::drop_postgres("zhsq_bench_booking").await;
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut rows = String::new();
    for f in &all {
        rows.push_str(&format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} ms | {}/{} |\n",
            f.database, f.requests, f.p50, f.p99, f.max, f.wall_per_round, f.exact_rounds, ROUNDS
        ));
    }
    let section = format!(
        "<!-- booking: written by script/bench-booking -->\n\
## Booking under a crowd (script/bench-booking)\n\n\
{PEOPLE} people ask for the same {SEATS}-seat slot at the same moment (`POST /api/v1/appointments/bookings`,\n\
each with their own login), {ROUNDS} rounds, a fresh slot each round; the release build in one process\n\
with its default pool, the HTTP client on the same two cores. Latency is from sending a request to\n\
reading its answer (a booking or a clear `slot_full`). \"Exact rounds\" counts rounds that ended with\n\
exactly {SEATS} bookings, {} refusals and the slot's counter at {SEATS}. Last run: {}.\n\n\
| database | requests | p50 | p99 | max | one round (all {PEOPLE} answered) | exact rounds |\n\
| --- | --- | --- | --- | --- | --- | --- |\n{rows}<!-- /booking -->\n",
        PEOPLE - SEATS as usize,
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    print!("{section}");
    common::write_section("booking", &section);
    for f in &all {
        assert_eq!(f.exact_rounds, ROUNDS, "{}: every round must give exactly {SEATS} bookings", f.database);
    }
}
