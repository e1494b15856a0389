//! 积分 and 积分超市 (rules.md §4): an append-only ledger whose sum is the
//! balance, never below zero, replays are no-ops; redemptions hold points and
//! stock together and never oversell; random sequences of awards,
//! redemptions, cancellations, expiries, pickups and reversals keep every
//! invariant.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::{browser, location, path};
use crate::votes::resident;
use backend::auth::CurrentUser;
use backend::entities::{dwelling, mall_item, points_account, points_entry, redemption};
use backend::points::{post, Posting};
use domain::points::EntryKind;
use domain::ErrorCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait};

async fn give(app: &TestApp, user: i64, points: i64, key: &str) -> Option<i64> {
    let txn = app.state.db.begin().await.unwrap();
    let id = post(
        &txn,
        Posting {
            user_id: user,
            kind: EntryKind::Service,
            points,
            key: key.into(),
            reason: "志愿服务",
            community_id: Some(app.org_id("阳光社区").await),
            by: None,
            reverses: None,
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    id
}

/// Every account equals the sum of its entries and no prefix goes below zero.
async fn ledger_is_exact(app: &TestApp) {
    let db = &app.state.db;
    for a in points_account::Entity::find().all(db).await.unwrap() {
        let entries = points_entry::Entity::find()
            .filter(points_entry::Column::UserId.eq(a.user_id))
            .order_by_asc(points_entry::Column::Id)
            .all(db)
            .await
            .unwrap();
        let sum: i64 = entries.iter().map(|e| e.points).sum();
        assert_eq!(a.balance, sum, "balance is the sum of the ledger");
        assert!(a.balance >= 0);
        assert!(
            domain::points::running_balances(&entries.iter().map(|e| e.points).collect::<Vec<_>>()).is_some(),
            "never below zero at any point"
        );
    }
}

pub async fn dwellings(app: &TestApp, n: usize) -> Vec<dwelling::Model> {
    let community = app.org_id("阳光社区").await;
    let buildings: Vec<i64> = backend::entities::building::Entity::find()
        .filter(backend::entities::building::Column::CommunityId.eq(community))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(buildings))
        .order_by_asc(dwelling::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn awards_and_redemptions_at_the_same_moment_keep_the_ledger_readable() {
    // the case (PostgreSQL): awards and holds for one resident at the
    // same moment once left a hold ordered (by id) before the award it spent
    let app = spawn_app_with(&[("DATABASE_MAX_CONNECTIONS", "30")]).await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let item = backend::points::create_item(&app.state, &staff, community, "纸巾", "", 10, 1000).await.unwrap();
    let homes = dwellings(&app, 1).await;
    let state = app.state.clone();
    let posting = move |state: backend::State, who: i64, i: usize, points: i64| async move {
        let txn = state.db.begin().await.unwrap();
        let p = Posting {
            user_id: who,
            kind: if points > 0 { EntryKind::Service } else { EntryKind::Hold },
            points,
            key: format!("burst:{who}:{i}"),
            reason: "并发",
            community_id: Some(community),
            by: None,
            reverses: None,
        };
        match post(&txn, p).await {
            Ok(_) => txn.commit().await.unwrap(),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::NotEnoughPoints);
                txn.rollback().await.unwrap();
            }
        }
    };
    // each round a new person at zero, where a hold needs the award beside it
    let mut people = vec![];
    for round in 0..8 {
        let who = resident(&app, &format!("134500001{round:02}"), homes[0].id, "tenant").await;
        let tasks: Vec<_> = (0..80)
            .map(|i| tokio::spawn(posting(state.clone(), who.id, i, if i % 2 == 0 { 10 } else { -10 })))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        people.push(who);
    }
    // and the mall's own path
    let who = resident(&app, "13450000077", homes[0].id, "tenant").await;
    let redeems: Vec<_> = (0..40)
        .map(|i| {
            let (state, who) = (state.clone(), who.clone());
            tokio::spawn(async move {
                let _ = backend::points::redeem(&state, &who, item, &format!("burst-redeem:{i}")).await;
            })
        })
        .chain((0..40).map(|i| tokio::spawn(posting(state.clone(), who.id, 1000 + i, 10))))
        .collect();
    for t in redeems {
        t.await.unwrap();
    }
    people.push(who);
    ledger_is_exact(&app).await;
    for who in &people {
        let (balance, entries) = backend::points::ledger(&app.state, who.id).await.expect("the ledger reads");
        assert_eq!(balance, entries.first().map(|e| e.balance_after).unwrap_or(0));
    }
    // history written before the fix (a hold by id before its award) still reads
    let old = resident(&app, "13450000088", homes[0].id, "tenant").await;
    for (i, kind, points) in [(0, "hold", -10i64), (1, "service", 10)] {
        app.state
            .db
            .execute_unprepared(&format!(
                "INSERT INTO points_entries (user_id, kind, points, entry_key, reason, created_at) \
                 VALUES ({}, '{kind}', {points}, 'legacy:{i}', '旧记录', CURRENT_TIMESTAMP)",
                old.id
            ))
            .await
            .unwrap();
    }
    let (_, entries) = backend::points::ledger(&app.state, old.id).await.expect("no 500 for old history");
    assert_eq!(entries.len(), 2);
}

#[tokio::test]
async fn a_hundred_redemptions_of_ten_in_stock_give_exactly_ten() {
    let app = spawn_app().await;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let item = backend::points::create_item(&app.state, &staff, community, "环保购物袋", "", 5, 10).await.unwrap();
    let homes = dwellings(&app, 48).await;
    let sum_of_balances = |accounts: Vec<points_account::Model>| accounts.iter().map(|a| a.balance).sum::<i64>();
    let before = sum_of_balances(points_account::Entity::find().all(&app.state.db).await.unwrap());
    let mut people: Vec<CurrentUser> = vec![];
    for i in 0..100 {
        let u = resident(&app, &format!("1340000{i:04}"), homes[i % homes.len()].id, "family_member").await;
        assert!(give(&app, u.id, 10, &format!("grant:{i}")).await.is_some());
        people.push(u);
    }
    // replaying an award changes nothing
    assert!(give(&app, people[0].id, 10, "grant:0").await.is_none());
    let keys: Vec<String> = (0..people.len()).map(|i| format!("k{i}")).collect();
    let results = futures_util::future::join_all(
        people.iter().zip(&keys).map(|(u, k)| backend::points::redeem(&app.state, u, item, k)),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 10, "exactly the stock");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code == ErrorCode::OutOfStock));
    let db = &app.state.db;
    let row = mall_item::Entity::find_by_id(item).one(db).await.unwrap().unwrap();
    assert_eq!(row.stock, 0);
    assert_eq!(redemption::Entity::find().count(db).await.unwrap(), 10);
    let total = sum_of_balances(points_account::Entity::find().all(db).await.unwrap());
    assert_eq!(total - before, 100 * 10 - 10 * 5);
    ledger_is_exact(&app).await;

    // one person, 12 points, ten redemptions of a 5-point item at once: two
    let plenty = backend::points::create_item(&app.state, &staff, community, "肥皂", "", 5, 50).await.unwrap();
    let solo = resident(&app, "13450000000", homes[0].id, "tenant").await;
    give(&app, solo.id, 12, "solo").await;
    let keys: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let tries =
        futures_util::future::join_all(keys.iter().map(|k| backend::points::redeem(&app.state, &solo, plenty, k)))
            .await;
    assert_eq!(tries.iter().filter(|r| r.is_ok()).count(), 2);
    assert!(tries.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code == ErrorCode::NotEnoughPoints));
    assert_eq!(backend::points::balance(db, solo.id).await.unwrap(), 2);
    assert_eq!(mall_item::Entity::find_by_id(plenty).one(db).await.unwrap().unwrap().stock, 48, "stock given back");
    // the same form twice is one redemption
    give(&app, solo.id, 10, "solo-2").await;
    let a = backend::points::redeem(&app.state, &solo, plenty, "same").await.unwrap();
    let b = backend::points::redeem(&app.state, &solo, plenty, "same").await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(backend::points::balance(db, solo.id).await.unwrap(), 7);
    // the ledger cannot be edited
    assert!(db.execute_unprepared("UPDATE points_entries SET points = 1000").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM points_entries").await.is_err());
    assert!(db.execute_unprepared("UPDATE points_accounts SET balance = -1").await.is_err(), "CHECK balance >= 0");
    ledger_is_exact(&app).await;
}

/// A small deterministic generator (the sequences differ per seed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn random_sequences_keep_the_ledger_and_the_stock_exact() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let staff = current(&app, STAFF_A).await;
    let community = app.org_id("阳光社区").await;
    let homes = dwellings(&app, 4).await;
    let mut people = vec![];
    for (i, home) in homes.iter().enumerate() {
        people.push(resident(&app, &format!("1344000000{i}"), home.id, "owner").await);
    }
    let items = [
        backend::points::create_item(&app.state, &staff, community, "雨伞", "", 7, 5).await.unwrap(),
        backend::points::create_item(&app.state, &staff, community, "毛巾", "", 3, 8).await.unwrap(),
    ];
    let mut restocked = [0i64; 2];
    for seed in 1..=6u64 {
        let mut r = Lcg(seed * 7919);
        for step in 0..40 {
            let who = &people[r.next(4) as usize];
            match r.next(7) {
                0 | 1 => {
                    // an award, sometimes a replay of an earlier key
                    let key = format!("award:{seed}:{}", r.next(12));
                    give(&app, who.id, 1 + r.next(9) as i64, &key).await;
                }
                2 => {
                    let item = items[r.next(2) as usize];
                    match backend::points::redeem(&app.state, who, item, &format!("{seed}-{step}")).await {
                        Ok(_) => {}
                        Err(e) => assert!(matches!(e.code, ErrorCode::OutOfStock | ErrorCode::NotEnoughPoints), "{e}"),
                    }
                }
                3 => {
                    let pending = redemption::Entity::find()
                        .filter(redemption::Column::UserId.eq(who.id))
                        .filter(redemption::Column::Status.eq("pending"))
                        .one(db)
                        .await
                        .unwrap();
                    if let Some(p) = pending {
                        backend::points::cancel(&app.state, who, p.id).await.unwrap();
                        assert_eq!(
                            backend::points::cancel(&app.state, who, p.id).await.unwrap_err().code,
                            ErrorCode::AlreadyDecided
                        );
                    }
                }
                4 => {
                    // the hold runs out: the job releases it (once, however often it runs)
                    if let Some(p) = redemption::Entity::find()
                        .filter(redemption::Column::Status.eq("pending"))
                        .one(db)
                        .await
                        .unwrap()
                    {
                        db.execute_unprepared(&format!(
                            "UPDATE redemptions SET expires_at = created_at WHERE id = {}",
                            p.id
                        ))
                        .await
                        .unwrap();
                        for _ in 0..2 {
                            backend::points::expire_job(&app.state, backend::points::ExpireJob { redemption: p.id })
                                .await
                                .unwrap();
                        }
                        let after = redemption::Entity::find_by_id(p.id).one(db).await.unwrap().unwrap();
                        assert_eq!(after.status, "expired");
                    }
                }
                5 => {
                    if let Some(p) = redemption::Entity::find()
                        .filter(redemption::Column::Status.eq("pending"))
                        .one(db)
                        .await
                        .unwrap()
                    {
                        backend::points::pickup(&app.state, &staff, &p.code).await.unwrap();
                        assert_eq!(
                            backend::points::pickup(&app.state, &staff, &p.code).await.unwrap_err().code,
                            ErrorCode::AlreadyDecided
                        );
                    }
                }
                _ => {
                    // staff reverse an award: refused (and nothing changes) when already spent
                    let award = points_entry::Entity::find()
                        .filter(points_entry::Column::UserId.eq(who.id))
                        .filter(points_entry::Column::Kind.eq("service"))
                        .order_by_desc(points_entry::Column::Id)
                        .one(db)
                        .await
                        .unwrap();
                    if let Some(e) = award {
                        let before = backend::points::balance(db, who.id).await.unwrap();
                        match backend::points::reverse(&app.state, &staff, e.id, "录入错误").await {
                            Ok(()) => {
                                assert_eq!(backend::points::balance(db, who.id).await.unwrap(), before - e.points)
                            }
                            Err(err) => {
                                assert!(
                                    matches!(err.code, ErrorCode::NotEnoughPoints | ErrorCode::AlreadyDecided),
                                    "{err}"
                                );
                                assert_eq!(backend::points::balance(db, who.id).await.unwrap(), before);
                            }
                        }
                    }
                    if r.next(3) == 0 {
                        let i = r.next(2) as usize;
                        backend::points::restock(&app.state, &staff, items[i], 2, true).await.unwrap();
                        restocked[i] += 2;
                    }
                }
            }
            ledger_is_exact(&app).await;
            // stock: what is left + what is held + what was handed over = what was put in
            for (i, (item, initial)) in items.iter().zip([5i64, 8]).enumerate() {
                let left = mall_item::Entity::find_by_id(*item).one(db).await.unwrap().unwrap().stock;
                let out = redemption::Entity::find()
                    .filter(redemption::Column::ItemId.eq(*item))
                    .filter(redemption::Column::Status.is_in(["pending", "picked_up"]))
                    .count(db)
                    .await
                    .unwrap() as i64;
                assert!(left >= 0);
                assert_eq!(left + out, initial + restocked[i], "seed {seed} step {step}");
            }
        }
    }
}

#[tokio::test]
async fn residents_redeem_and_staff_hand_over_with_plain_forms() {
    let app = spawn_app().await;
    let staff = browser(&app).await;
    staff.password_login(STAFF_A).await;
    let community = app.org_id("阳光社区").await.to_string();
    // bad cost: refused in words, the form kept
    let r = staff
        .form(
            path::<app::points::AddMallItem>(),
            "/staff/points",
            &[
                ("community_id", &community),
                ("name", "环保袋"),
                ("description", "可重复使用"),
                ("cost", "0"),
                ("stock", "3"),
            ],
        )
        .await;
    let to = location(&r);
    assert!(to.starts_with("/staff/points?error=invalid_points") && to.contains("name="), "{to}");
    let (_, html) = staff.page(&to).await;
    assert!(html.contains("积分须为1到100000之间的整数") && html.contains("value=\"环保袋\""));
    let r = staff
        .form(
            path::<app::points::AddMallItem>(),
            "/staff/points",
            &[
                ("community_id", &community),
                ("name", "环保袋"),
                ("description", "可重复使用"),
                ("cost", "50"),
                ("stock", "3"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/staff/points?item_added=1");
    // give resident A 30 points (a double submit is one award)
    let (_, html) = staff.page("/staff/points").await;
    let idem = html.split("name=\"idem\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    for _ in 0..2 {
        let r = staff
            .form(
                path::<app::points::AwardPoints>(),
                "/staff/points",
                &[("phone", RESIDENT_A), ("points", "30"), ("reason", "垃圾分类督导志愿服务"), ("idem", &idem)],
            )
            .await;
        assert!(location(&r).starts_with("/staff/points?awarded=30"));
    }
    let a = current(&app, RESIDENT_A).await;
    assert_eq!(backend::points::balance(&app.state.db, a.id).await.unwrap(), 60 + 30, "the demo's 60 and these 30");
    // a resident of the other community is not theirs to award
    let r = staff
        .form(
            path::<app::points::AwardPoints>(),
            "/staff/points",
            &[("phone", RESIDENT_B), ("points", "30"), ("reason", "x"), ("idem", "other")],
        )
        .await;
    assert!(location(&r).contains("error=not_found"), "{}", location(&r));

    let resident_page = browser(&app).await;
    resident_page.code_login(RESIDENT_A).await;
    let (_, html) = resident_page.page("/points").await;
    assert!(html.contains("垃圾分类督导志愿服务") && html.contains("环保袋"), "{html}");
    let item = mall_item::Entity::find()
        .filter(mall_item::Column::Name.eq("环保袋"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let r = resident_page
        .form(path::<app::points::RedeemItem>(), "/points", &[("item_id", &item.id.to_string()), ("idem", "page-1")])
        .await;
    let to = location(&r);
    assert!(to.starts_with("/points?redeemed="), "{to}");
    let code = backend::url::form_urlencoded::parse(to.split('?').nth(1).unwrap().as_bytes())
        .find(|(k, _)| k == "redeemed")
        .unwrap()
        .1
        .to_string();
    let (_, html) = resident_page.page(&to).await;
    assert!(html.contains(&code) && html.contains("待领取"));
    // not enough points for a second one: refused in words
    let r = resident_page
        .form(path::<app::points::RedeemItem>(), "/points", &[("item_id", &item.id.to_string()), ("idem", "page-2")])
        .await;
    assert!(location(&r).contains("error=not_enough_points"));
    // staff hand it over against the code
    let r =
        staff.form(path::<app::points::PickupRedemption>(), "/staff/points", &[("code", &code.to_lowercase())]).await;
    assert!(location(&r).starts_with("/staff/points?picked="), "{}", location(&r));
    let r = staff.form(path::<app::points::PickupRedemption>(), "/staff/points", &[("code", &code)]).await;
    assert!(location(&r).contains("error=already_decided"));
    let (_, html) = resident_page.page("/points").await;
    assert!(html.contains("已领取"));
    // staff look the resident up: masked phone, the ledger explained
    let (_, html) = staff.page(&format!("/staff/points?phone={RESIDENT_A}")).await;
    assert!(html.contains("138****0001"), "masked");
    assert!(!html.contains(RESIDENT_A), "the full number is not in the page");
    assert!(html.contains("兑换 环保袋"));
}
