//! Payment notifications per second: ORDERS open orders (each paying one
//! bill) get their provider notification, signed and encrypted as WeChat Pay
//! v3 does it, posted over HTTP by CONCURRENCY clients at once; then every
//! one of them again (duplicates, as providers retry). Each must verify
//! (RSA-SHA256), decrypt (AES-256-GCM) and apply at most once. Afterwards the
//! ledger must be exact: every order paid once, one notification row each.
//! Runs on SQLite and (when it is running) PostgreSQL; the figures go into
//! docs/benchmarks.md between `<!-- notify: -->` markers.
//!
//! Run: `script/bench-notify` (or `cargo bench -p server --bench notify`).

mod common;

use backend::{entities, payments, wxpay};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::time::Instant;

const ORDERS: usize = 1000;
const CONCURRENCY: usize = 16;

struct Pass {
    per_second: f64,
    p50: f64,
    p99: f64,
}

struct Figures {
    database: &'static str,
    first: Pass,
    again: Pass,
    exact: bool,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn post_all(client: &reqwest::Client, url: &str, signed: &[(wxpay::NotifyHeaders, Vec<u8>)]) -> Pass {
    use futures_util::StreamExt;
    let started = Instant::now();
    let mut lat: Vec<f64> = futures_util::stream::iter(signed.iter())
        .map(|(h, body)| async move {
            let t = Instant::now();
            let mut r = client.post(url).body(body.clone());
            for (k, v) in h.pairs() {
                r = r.header(k, v);
            }
            let status = r.send().await.unwrap().status().as_u16();
            assert_eq!(status, 204, "every genuine notification is taken");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let wall = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Pass { per_second: signed.len() as f64 / wall, p50: pct(&lat, 0.5), p99: pct(&lat, 0.99) }
}

async fn run(database: &'static str, url: String, dir: &std::path::Path) -> Figures {
    let (base, state) = common::start(url, dir, &[("JOB_WORKER", "false")]).await;

    // resident A's household gets ORDERS small bills, each paid by its own order
    let payer = common::user(&state, "13800000001").await;
    let first = backend::bills::mine(&state, &payer).await.unwrap();
    let template = entities::bill::Entity::find_by_id(first[0].id).one(&state.db).await.unwrap().unwrap();
    let now = Utc::now();
    let mut orders = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS {
        let b = entities::bill::ActiveModel {
            org_unit_id: Set(template.org_unit_id),
            household_id: Set(template.household_id),
            kind: Set(domain::bills::BillKind::Other),
            period: Set(format!("B{i:05}")),
            title: Set(format!("压力测试费用 {i}")),
            amount_fen: Set(100 + i as i64),
            paid_fen: Set(0),
            refunded_fen: Set(0),
            status: Set(domain::bills::BillStatus::Unpaid),
            basis: Set("bench".into()),
            created_by: Set(template.created_by),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&state.db)
        .await
        .unwrap();
        let c = payments::create_order(&state, &payer, &[b.id], None).await.unwrap();
        payments::pay(&state, &payer, &c.out_trade_no).await.unwrap();
        orders.push((c.out_trade_no, b.amount_fen));
    }
    // the provider's notifications, signed now (well inside the 300 s window)
    let sandbox = state.sandbox.clone().unwrap();
    let mut signed = Vec::with_capacity(ORDERS);
    for (i, (no, amount)) in orders.iter().enumerate() {
        let tx = wxpay::Transaction {
            appid: payments::sandbox::APPID.into(),
            mchid: payments::sandbox::MCHID.into(),
            out_trade_no: no.clone(),
            transaction_id: Some(format!("42000000{i:020}")),
            trade_type: Some("JSAPI".into()),
            trade_state: "SUCCESS".into(),
            trade_state_desc: None,
            bank_type: None,
            success_time: None,
            payer: None,
            amount: Some(wxpay::Amount { total: *amount, payer_total: None, currency: None, payer_currency: None }),
        };
        signed.push(sandbox.signed(&state, &tx, Utc::now().timestamp()).await.unwrap());
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
    let url = format!("{base}/api/v1/payments/notify/sandbox");
    let first_pass = post_all(&client, &url, &signed).await;
    let again = post_all(&client, &url, &signed).await;

    let paid = entities::payment_order::Entity::find()
        .filter(entities::payment_order::Column::Status.eq("paid"))
        .count(&state.db)
        .await
        .unwrap();
    let rows = entities::payment_notification::Entity::find().count(&state.db).await.unwrap();
    let bills_paid = entities::bill::Entity::find()
        .filter(entities::bill::Column::Kind.eq("other"))
        .filter(entities::bill::Column::Status.eq("paid"))
        .count(&state.db)
        .await
        .unwrap();
    let exact = paid as usize == ORDERS && rows as usize == ORDERS && bills_paid as usize == ORDERS;
    Figures { database, first: first_pass, again, exact }
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("zhsq-bench-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = vec![run("SQLite", format!("sqlite://{}/bench.db", dir.display()), &dir).await];
    if let Some(url) = common::fresh_postgres("zhsq_bench_notify").await {
        all.push(run("PostgreSQL", url, &dir).await);
        common::drop_postgres("zhsq_bench_notify").await;
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut rows = String::new();
    for f in &all {
        for (what, p) in [("first delivery (applied)", &f.first), ("delivered again (duplicate)", &f.again)] {
            rows.push_str(&format!(
                "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} |\n",
                f.database,
                what,
                p.per_second,
                p.p50,
                p.p99,
                if f.exact { "yes" } else { "**no**" }
            ));
        }
    }
    let section = format!(
        "<!-- notify: written by script/bench-notify -->\n\
## Payment notifications (script/bench-notify)\n\n\
{ORDERS} open orders each get their provider notification (WeChat Pay v3 format: RSA-SHA256 signed\n\
headers, AES-256-GCM resource), posted to `/api/v1/payments/notify/sandbox` by {CONCURRENCY} clients at\n\
once; then all of them again, as providers retry. Each is verified, decrypted and applied at most once\n\
(order paid, bill paid, one ledger row, an inbox item) in one transaction. \"Exact\" means afterwards\n\
{ORDERS} orders paid, {ORDERS} bills paid and {ORDERS} notification rows. Release build in one process,\n\
the HTTP client on the same two cores. Last run: {}.\n\n\
| database | pass | notifications/s | p50 | p99 | exact |\n\
| --- | --- | --- | --- | --- | --- |\n{rows}<!-- /notify -->\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    print!("{section}");
    common::write_section("notify", &section);
    for f in &all {
        assert!(f.exact, "{}: every order must be paid exactly once", f.database);
    }
}
