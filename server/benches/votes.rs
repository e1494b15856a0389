//! An owners' decision over 100,000 units (rules.md §1). A building of
//! UNITS dwellings is made with SQL: registered owners for 99,000 of them
//! (every 50th unit belongs to the owner of the unit before it, so those
//! merge into one key), the last 1,000 held by the developer (one key).
//! Measured: freezing the roll (`votes::open`: owner keys, roll rows, rules
//! hash), casting one online ballot at that size, checking one receipt (the
//! whole chain recomputed) and the tally (`votes::close`: the counters, one
//! GROUP BY over the ballots, the Art. 278 decision, stored). 70% of the keys
//! vote (hash-chained ballots written in bulk for the set-up).
//! Runs on SQLite and (when it is running) PostgreSQL; the figures go into
//! docs/benchmarks.md between `<!-- votes: -->` markers.
//!
//! Run: `script/bench-votes` (or `cargo bench -p server --bench votes`).

mod common;

use backend::entities::{ballot, building, vote, vote_participation, vote_roll};
use chrono::Utc;
use domain::votes::{BallotRecord, NewVote, VoteForm};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set, Statement,
};
use std::time::Instant;

const UNITS: i64 = 100_000;
const DEVELOPER_FROM: i64 = 99_001;

struct Figures {
    database: &'static str,
    keys: i64,
    ballots: i64,
    open_ms: f64,
    cast_ms: f64,
    receipt_ms: f64,
    tally_ms: Vec<f64>,
    passed: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn code(n: u64) -> String {
    let a = domain::payments::RECEIPT_ALPHABET;
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5151;
    (0..12)
        .map(|_| {
            let c = a[(x % a.len() as u64) as usize] as char;
            x = x / a.len() as u64 + n.wrapping_mul(31);
            c
        })
        .collect()
}

async fn exec(state: &backend::State, sql: &str) {
    state.db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn scalar(state: &backend::State, sql: &str) -> i64 {
    let row =
        state.db.query_one_raw(Statement::from_string(state.db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn run(database: &'static str, url: String, dir: &std::path::Path) -> Figures {
    let (_base, state) = common::start(url, dir, &[]).await;
    let pg = state.db.get_database_backend() == DbBackend::Postgres;
    let staff = common::user(&state, "13900000002").await;
    let community = staff.grants[0].org_path.ids().last().copied().unwrap();
    let now = Utc::now().to_rfc3339();
    let b = building::ActiveModel {
        community_id: Set(community),
        grid_id: Set(community),
        name: Set("万户大楼".into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    // a grid of the community is required by the FK on grid_id: take any grid below it
    let grid = scalar(&state, &format!("SELECT MIN(id) FROM org_units WHERE parent_id = {community}")).await;
    let b = building::ActiveModel { grid_id: Set(grid), ..b }.insert(&state.db).await.unwrap();
    // "INSERT … SELECT … FROM 1..=n" in each dialect
    let series = |n: i64, body: &str| {
        if pg {
            format!("{body} FROM generate_series(1, {n}) AS s(i)")
        } else {
            format!("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) {body} FROM s")
        }
    };
    let t = Instant::now();
    let (phone, name) =
        if pg { ("'15' || lpad(i::text, 9, '0')", "'业主' || i") } else { ("printf('15%09d', i)", "'业主' || i") };
    exec(
        &state,
        &series(
            UNITS,
            &format!(
                "INSERT INTO dwellings (building_id, entrance, room, area_centi_m2, developer_held, created_at) \
                 SELECT {}, 'E' || (i / 1000), 'R' || i, 6000 + (i * 37) % 9000, i >= {DEVELOPER_FROM}, '{now}'",
                b.id
            ),
        ),
    )
    .await;
    exec(
        &state,
        &series(
            UNITS,
            &format!(
                "INSERT INTO users (phone, name, lang, failed_logins, active, created_at) \
                 SELECT {phone}, {name}, 'zh', 0, {}, '{now}'",
                if pg { "true" } else { "1" }
            ),
        ),
    )
    .await;
    let d0 = scalar(&state, &format!("SELECT MIN(id) FROM dwellings WHERE building_id = {}", b.id)).await;
    let u0 = scalar(&state, "SELECT MIN(id) FROM users WHERE phone LIKE '15%'").await;
    exec(
        &state,
        &series(
            DEVELOPER_FROM - 1,
            &format!(
                "INSERT INTO residences (user_id, dwelling_id, relation, status, created_at) \
                 SELECT {u0} + (CASE WHEN i % 50 = 0 THEN i - 2 ELSE i - 1 END), {d0} + i - 1, 'owner', 'approved', '{now}'"
            ),
        ),
    )
    .await;
    // every owner holds the resident role at the community (verified residents)
    exec(
        &state,
        &format!(
            "INSERT INTO user_roles (user_id, role, org_unit_id, created_at) \
             SELECT id, 'resident', {community}, '{now}' FROM users WHERE phone LIKE '15%'"
        ),
    )
    .await;
    println!("{database}: set-up of {UNITS} units in {:.1} s", t.elapsed().as_secs_f64());

    let start = domain::time::local_input(Utc::now() + chrono::Duration::hours(1));
    let end = domain::time::local_input(Utc::now() + chrono::Duration::days(3));
    let bid = b.id.to_string();
    let new = NewVote::parse(
        &VoteForm {
            kind: "owners",
            title: "选聘物业服务企业",
            body: "万户大楼业主大会表决。",
            matter: "4",
            building_id: &bid,
            starts_at: &start,
            ends_at: &end,
            ..Default::default()
        },
        Utc::now().timestamp(),
    )
    .unwrap();
    let id = backend::votes::create(&state, &staff, community, new).await.unwrap();
    vote::Entity::update_many()
        .col_expr(vote::Column::StartsAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(vote::Column::Id.eq(id))
        .exec(&state.db)
        .await
        .unwrap();
    let t = Instant::now();
    backend::votes::open(&state, id).await.unwrap();
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let keys =
        vote_roll::Entity::find().filter(vote_roll::Column::VoteId.eq(id)).count(&state.db).await.unwrap() as i64;
    let v = vote::Entity::find_by_id(id).one(&state.db).await.unwrap().unwrap();
    assert_eq!(v.total_count, keys);

    // 70% of the keys vote: the chain built here, written in bulk
    let roll = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .order_by_asc(vote_roll::Column::KeyNo)
        .all(&state.db)
        .await
        .unwrap();
    let voting: Vec<&vote_roll::Model> = roll.iter().filter(|r| r.key_no % 10 < 7).collect();
    let mut head = v.head_hash.clone().unwrap();
    let mut rows = Vec::with_capacity(voting.len());
    let mut area = 0i64;
    let cast_at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for (i, r) in voting.iter().enumerate() {
        let choice = if r.key_no % 10 < 5 { 1 } else { 1 + r.key_no % 3 };
        let receipt = code(r.key_no as u64 * 7 + id as u64);
        let rec = BallotRecord {
            vote_id: id,
            seq: i as i64 + 1,
            key_no: Some(r.key_no),
            area: r.area,
            choices: vec![choice],
            channel: "online".into(),
            receipt_hash: domain::votes::sha256_hex(receipt.as_bytes()),
            cast_at: cast_at.clone(),
        };
        let h = domain::votes::chain_next(&head, &rec).unwrap();
        area += r.area;
        rows.push(ballot::ActiveModel {
            vote_id: Set(id),
            seq: Set(rec.seq),
            key_no: Set(rec.key_no),
            area: Set(r.area),
            choices: Set(choice.to_string()),
            choice: Set(Some(choice as i32)),
            channel: Set("online".into()),
            receipt: Set(receipt),
            cast_at: Set(cast_at.clone()),
            prev_hash: Set(head.clone()),
            hash: Set(h.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        });
        head = h;
    }
    let n = rows.len() as i64;
    let first_receipt = match &rows[0].receipt {
        sea_orm::ActiveValue::Set(c) => c.clone(),
        _ => unreachable!(),
    };
    let parts: Vec<vote_participation::ActiveModel> =
        voting.iter().map(|r| vote_participation::ActiveModel { vote_id: Set(id), key_no: Set(r.key_no) }).collect();
    for chunk in rows.chunks(1_000) {
        ballot::Entity::insert_many(chunk.to_vec()).exec_without_returning(&state.db).await.unwrap();
    }
    for chunk in parts.chunks(5_000) {
        vote_participation::Entity::insert_many(chunk.to_vec()).exec_without_returning(&state.db).await.unwrap();
    }
    exec(
        &state,
        &format!(
            "UPDATE votes SET ballot_count = {n}, participated_count = {n}, participated_area = {area}, head_hash = '{head}' WHERE id = {id}"
        ),
    )
    .await;

    // one online ballot at this size, 20 times (20 owners who had not voted)
    let mut casts = vec![];
    for r in roll.iter().filter(|r| r.key_no % 10 >= 7 && r.voter_user_id.is_some()).take(20) {
        let phone: String = backend::entities::user::Entity::find_by_id(r.voter_user_id.unwrap())
            .one(&state.db)
            .await
            .unwrap()
            .unwrap()
            .phone;
        let voter = common::user(&state, &phone).await;
        let t = Instant::now();
        backend::votes::cast(&state, &voter, id, &["1".to_string()]).await.unwrap();
        casts.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let cast_ms = median(&mut casts);

    let mut receipts = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        let r = backend::votes::receipt(&state, &first_receipt).await.unwrap();
        receipts.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(r.chain_ok, "the chain verifies");
    }
    let receipt_ms = median(&mut receipts);

    let mut tally_ms = vec![];
    let mut passed = false;
    for _ in 0..5 {
        exec(&state, &format!("UPDATE votes SET status = 'open', result = NULL, closed_at = NULL WHERE id = {id}"))
            .await;
        let t = Instant::now();
        passed = backend::votes::close(&state, id).await.unwrap().unwrap().passed;
        tally_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let ballots = scalar(&state, &format!("SELECT COUNT(*) FROM ballots WHERE vote_id = {id}")).await;
    Figures { database, keys, ballots, open_ms, cast_ms, receipt_ms, tally_ms, passed }
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("zhsq-bench-votes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = vec![run("SQLite", format!("sqlite://{}/bench.db", dir.display()), &dir).await];
    if let Some(url) = common::fresh_postgres("zhsq_bench_votes").await {
        all.push(run("PostgreSQL", url, &dir).await);
        common::drop_postgres("zhsq_bench_votes").await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let mut rows = String::new();
    for f in all.iter_mut() {
        let (min, max) =
            (f.tally_ms.iter().cloned().fold(f64::MAX, f64::min), f.tally_ms.iter().cloned().fold(0.0, f64::max));
        let med = median(&mut f.tally_ms);
        rows.push_str(&format!(
            "| {} | {} | {} | {:.0} ms | {:.1} ms | {:.0} ms | **{:.0} ms** ({:.0}–{:.0}) | {} |\n",
            f.database,
            f.keys,
            f.ballots,
            f.open_ms,
            f.cast_ms,
            f.receipt_ms,
            med,
            min,
            max,
            if f.passed { "passed" } else { "not passed" }
        ));
    }
    let section = format!(
        "<!-- votes: written by script/bench-votes -->\n\
## Owners' decision over {UNITS} units (script/bench-votes)\n\n\
One building of {UNITS} dwellings with registered areas: 99,000 with registered owners (every 50th\n\
unit belongs to the owner of the unit before it, so the two form one key), 1,000 still held by the\n\
developer (one key). *Open* freezes the roll: loads units and owners, groups them into owner keys,\n\
writes one roll row per key and hashes roll and rules into the start of the ballot chain. 70% of the\n\
keys then vote (hash-chained ballots written in bulk for the set-up); *cast* is one more online ballot\n\
at that size (median of 20); *receipt* checks one receipt, which recomputes the whole chain (median of\n\
3); *tally* is closing the vote: the guarded status change, one GROUP BY over the ballots, the Art. 278\n\
decision in integer arithmetic, the stored result (median of 5, range in brackets; aim < 200 ms on\n\
PostgreSQL). Release build in one process. Last run: {}.\n\n\
| database | keys | ballots | open (freeze roll) | cast one | receipt (whole chain) | tally | decision |\n\
| --- | --- | --- | --- | --- | --- | --- | --- |\n{rows}<!-- /votes -->\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
    );
    print!("{section}");
    common::write_section("votes", &section);
    for f in &all {
        assert!(f.ballots > 60_000, "{}: the ballots are there", f.database);
    }
}
