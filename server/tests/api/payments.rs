//! 缴费 (payments): orders over several bills, the sandbox provider, signed
//! and encrypted notifications applied once, active queries, refunds,
//! receipts. Runs on SQLite and PostgreSQL (TEST_DATABASE).

use crate::appointments::{current, token_of};
use crate::helpers::*;
use crate::pages::{browser, location};
use backend::{
    entities::{bill, order_bill, payment_notification, payment_order, sandbox_trade},
    payments::{self, sandbox::Choice, Applied},
    wxpay::{self, Amount, KeyPair, NotifyHeaders, Transaction},
};
use domain::{money::Fen, payments::OrderStatus, ErrorCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// Resident A's unpaid bills (the demo has the 2026-H2 property fee; this adds 2026-Q4 water).
async fn two_bills(app: &TestApp) -> Vec<i64> {
    water_bill(app, "2026-Q4").await
}

/// The first bill of resident A, and a new water bill of that quarter.
async fn water_bill(app: &TestApp, period: &str) -> Vec<i64> {
    let a = current(app, RESIDENT_A).await;
    let first = backend::bills::mine(&app.state, &a).await.unwrap();
    let b = bill::Entity::find_by_id(first[0].id).one(&app.state.db).await.unwrap().unwrap();
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let water = bill::ActiveModel {
        org_unit_id: Set(b.org_unit_id),
        household_id: Set(b.household_id),
        kind: Set(domain::bills::BillKind::Water),
        period: Set(period.into()),
        title: Set(format!("{period} 水费")),
        amount_fen: Set(8_650),
        paid_fen: Set(0),
        refunded_fen: Set(0),
        status: Set(domain::bills::BillStatus::Unpaid),
        basis: Set("17.3 吨 × ¥5.00".into()),
        created_by: Set(b.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    vec![b.id, water.id]
}

async fn order_row(app: &TestApp, no: &str) -> payment_order::Model {
    payment_order::Entity::find()
        .filter(payment_order::Column::OutTradeNo.eq(no))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn bills_of(app: &TestApp, ids: &[i64]) -> Vec<bill::Model> {
    bill::Entity::find().filter(bill::Column::Id.is_in(ids.to_vec())).all(&app.state.db).await.unwrap()
}

/// Waits (for the job worker) until the order has this status.
async fn wait_status(app: &TestApp, no: &str, want: OrderStatus) -> payment_order::Model {
    for _ in 0..100 {
        let o = order_row(app, no).await;
        if o.status == want.as_str() {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("order {no} never became {want:?}: {:?}", order_row(app, no).await.status);
}

fn paid_tx(no: &str, transaction_id: &str, total: i64) -> Transaction {
    Transaction {
        appid: payments::sandbox::APPID.into(),
        mchid: payments::sandbox::MCHID.into(),
        out_trade_no: no.into(),
        transaction_id: Some(transaction_id.into()),
        trade_type: Some("JSAPI".into()),
        trade_state: "SUCCESS".into(),
        trade_state_desc: None,
        bank_type: None,
        success_time: None,
        payer: None,
        amount: Some(Amount { total, payer_total: Some(total), currency: Some("CNY".into()), payer_currency: None }),
    }
}

async fn post_notification(app: &TestApp, h: &NotifyHeaders, body: &[u8]) -> u16 {
    let mut r = app.client.post(app.url("/api/v1/payments/notify/sandbox")).body(body.to_vec());
    for (k, v) in h.pairs() {
        r = r.header(k, v);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn create(app: &TestApp, token: &str, ids: &[i64], key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/payments/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&serde_json::json!({ "bill_ids": ids }))
        .send()
        .await
        .unwrap()
}

/// Many bills, many overlapping orders at once, each naming its bills in a
/// different order: they queue, none deadlocks (PostgreSQL aborts one of two
/// transactions that lock the same rows in opposite orders, a 500 here), and
/// no bill is ever on two open orders.
#[tokio::test]
async fn many_bills_clicked_at_once_queue_without_deadlock() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for q in 1..=6 {
        ids.extend(water_bill(&app, &format!("2025-M{q:02}")).await);
    }
    ids.sort_unstable();
    ids.dedup();
    let token = token_of(&app, RESIDENT_A).await;
    let answers = futures_util::future::join_all((0..24).map(|i| {
        let (app, token) = (&app, token.clone());
        // every order takes most of the bills, rotated and sometimes reversed
        let mut mine: Vec<i64> = ids.iter().cycle().skip(i % ids.len()).take(ids.len() - 1 - i % 3).copied().collect();
        if i % 2 == 1 {
            mine.reverse();
        }
        async move { create(app, &token, &mine, &format!("many-key-{i}")).await }
    }))
    .await;
    let mut created = 0;
    for r in answers {
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(matches!(status, 200 | 201 | 409), "{status} {v}");
        if status == 409 {
            assert!(["bill_in_payment", "bill_not_payable"].contains(&v["error"].as_str().unwrap_or_default()), "{v}");
        }
        created += (status == 201) as i32;
    }
    assert!(created >= 1, "at least one order");
    // no bill is on two open orders
    let active =
        order_bill::Entity::find().filter(order_bill::Column::Active.eq(true)).all(&app.state.db).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    assert!(active.iter().all(|ob| seen.insert(ob.bill_id)), "a bill on two open orders: {active:?}");
}

#[tokio::test]
async fn simultaneous_pay_clicks_give_one_order_and_one_charge() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let token = token_of(&app, RESIDENT_A).await;
    // 20 clicks at once, each its own key (several tabs): one order
    let answers = futures_util::future::join_all((0..20).map(|i| {
        let (app, token, ids) = (&app, token.clone(), ids.clone());
        async move { create(app, &token, &ids, &format!("click-key-{i}")).await }
    }))
    .await;
    let mut created = 0;
    let mut numbers = std::collections::BTreeSet::new();
    for r in answers {
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(status == 201 || status == 200, "{status} {v}");
        created += (status == 201) as i32;
        numbers.insert(v["out_trade_no"].as_str().unwrap().to_string());
    }
    assert_eq!((created, numbers.len()), (1, 1), "one order for the same bills");
    let no = numbers.into_iter().next().unwrap();
    let active = order_bill::Entity::find().filter(order_bill::Column::Active.eq(true)).count(&app.state.db).await;
    assert_eq!(active.unwrap(), 2);

    // paying, many times at once: one place to pay
    let urls = futures_util::future::join_all((0..10).map(|_| {
        let (app, token, no) = (&app, token.clone(), no.clone());
        async move {
            let r = app.post_bearer(&format!("/api/v1/payments/orders/{no}/pay"), &token, serde_json::json!({})).await;
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()["pay_url"].as_str().unwrap().to_string()
        }
    }))
    .await;
    assert!(urls.iter().all(|u| u == &format!("/pay/sandbox/{no}")), "{urls:?}");
    assert_eq!(order_row(&app, &no).await.status, "paying");

    // the payer presses "success" twice at once: one transaction
    let sb = app.state.sandbox.clone().unwrap();
    let (x, y) = tokio::join!(sb.decide(&app.state, &no, Choice::Success), sb.decide(&app.state, &no, Choice::Success));
    x.unwrap();
    y.unwrap();
    let o = wait_status(&app, &no, OrderStatus::Paid).await;
    // both notifications (sent twice) and the worker's queries: the ledger is exact
    tokio::time::sleep(std::time::Duration::from_millis(6_500)).await;
    let bills = bills_of(&app, &ids).await;
    assert!(bills.iter().all(|b| b.status == "paid" && b.paid_fen == b.amount_fen), "{bills:?}");
    assert_eq!(bills.iter().map(|b| b.amount_fen).sum::<i64>(), o.amount_fen);
    let applied = payment_notification::Entity::find().count(&app.state.db).await.unwrap();
    assert_eq!(applied, 1, "one success recorded");
    let jobs_done =
        backend::jobs::find(&app.state.db, &format!("sandbox.notify:{}:2", o.transaction_id.clone().unwrap()))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(jobs_done.status, "done", "the duplicate notification was delivered and taken as a duplicate");
    assert!(o.receipt_code.is_some());

    // a paid bill cannot be put in another order
    let r = create(&app, &token, &ids[..1], "later-key").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "bill_not_payable");
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_another_request() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let token = token_of(&app, RESIDENT_A).await;
    let first = create(&app, &token, &ids, "order-k1").await;
    assert_eq!(first.status(), 201);
    let no = first.json::<serde_json::Value>().await.unwrap()["out_trade_no"].clone();
    let again = create(&app, &token, &ids, "order-k1").await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["out_trade_no"], no);
    let other = create(&app, &token, &ids[..1], "order-k1").await;
    assert_eq!(other.status(), 422);
    let missing = app
        .client
        .post(app.url("/api/v1/payments/orders"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "bill_ids": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400, "a key is required");
    // paying under a key: the same answer again; the key for another order is refused
    let no = no.as_str().unwrap().to_string();
    let pay = |key: &'static str, no: String| {
        let (app, token) = (&app, token.clone());
        async move {
            app.client
                .post(app.url(&format!("/api/v1/payments/orders/{no}/pay")))
                .bearer_auth(&token)
                .header("Idempotency-Key", key)
                .send()
                .await
                .unwrap()
        }
    };
    let p1 = pay("pay-key-1", no.clone()).await;
    assert_eq!(p1.status(), 200);
    let url = p1.json::<serde_json::Value>().await.unwrap()["pay_url"].clone();
    let p2 = pay("pay-key-1", no.clone()).await;
    assert_eq!(p2.json::<serde_json::Value>().await.unwrap()["pay_url"], url);
    assert_eq!(pay("pay-key-1", "ZH0".into()).await.status(), 422);
    // one bill of the open order in a different order: refused, with the reason
    let part = create(&app, &token, &ids[..1], "order-k2").await;
    assert_eq!(part.status(), 409);
    assert_eq!(part.json::<serde_json::Value>().await.unwrap()["error"], "bill_in_payment");
    // someone else's bills are not found
    let b = token_of(&app, RESIDENT_B).await;
    assert_eq!(create(&app, &b, &ids, "order-k3").await.status(), 404);
}

#[tokio::test]
async fn notifications_duplicated_replayed_tampered_or_forged_leave_the_ledger_exact() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let a = current(&app, RESIDENT_A).await;
    let c = payments::create_order(&app.state, &a, &ids, None).await.unwrap();
    let no = c.out_trade_no;
    payments::pay(&app.state, &a, &no).await.unwrap();
    let total = order_row(&app, &no).await.amount_fen;
    let sb = app.state.sandbox.clone().unwrap();
    let now = chrono::Utc::now().timestamp();

    // stale (a replay from 10 minutes ago), and from the future
    let tx = paid_tx(&no, "4200000000000000000000000001", total);
    let (h, body) = sb.signed(&app.state, &tx, now - 600).await.unwrap();
    assert_eq!(post_notification(&app, &h, &body).await, 401);
    let (h, body) = sb.signed(&app.state, &tx, now + 400).await.unwrap();
    assert_eq!(post_notification(&app, &h, &body).await, 401);
    // tampered: the body changed after signing
    let (h, body) = sb.signed(&app.state, &tx, now).await.unwrap();
    let mut changed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    changed["summary"] = "改过".into();
    assert_eq!(post_notification(&app, &h, &serde_json::to_vec(&changed).unwrap()).await, 401);
    // signed by a key that is not the platform's (under the platform's serial)
    let forger = KeyPair::generate("x").unwrap();
    let mut forged = wxpay::sign_notification(&forger, now, &body);
    forged.serial = h.serial.clone();
    assert_eq!(post_notification(&app, &forged, &body).await, 401);
    // headers missing
    assert_eq!(post_notification(&app, &NotifyHeaders::default(), &body).await, 401);
    // correctly signed, but for another amount: not applied
    let (h2, body2) =
        sb.signed(&app.state, &paid_tx(&no, "4200000000000000000000000002", total - 1), now).await.unwrap();
    assert_eq!(post_notification(&app, &h2, &body2).await, 400);
    // another merchant
    let mut foreign = paid_tx(&no, "4200000000000000000000000003", total);
    foreign.mchid = "1234567890".into();
    let (h3, body3) = sb.signed(&app.state, &foreign, now).await.unwrap();
    assert_eq!(post_notification(&app, &h3, &body3).await, 400);
    assert_eq!(order_row(&app, &no).await.status, "paying", "nothing above was taken");
    assert_eq!(payment_notification::Entity::find().count(&app.state.db).await.unwrap(), 0);

    // the genuine one, delivered five times at once and then again later
    let codes = futures_util::future::join_all((0..5).map(|_| post_notification(&app, &h, &body))).await;
    assert!(codes.iter().all(|c| *c == 204), "{codes:?}");
    let (h4, body4) = sb.signed(&app.state, &tx, now + 5).await.unwrap();
    assert_eq!(post_notification(&app, &h4, &body4).await, 204);
    let o = order_row(&app, &no).await;
    assert_eq!((o.status.as_str(), o.transaction_id.as_deref()), ("paid", tx.transaction_id.as_deref()));
    let bills = bills_of(&app, &ids).await;
    assert!(bills.iter().all(|b| b.paid_fen == b.amount_fen && b.status == "paid"));
    assert_eq!(payment_notification::Entity::find().count(&app.state.db).await.unwrap(), 1);
    // a second, different transaction for the same order (paid twice at the
    // provider): recorded for staff, the bills untouched
    let (h5, body5) = sb.signed(&app.state, &paid_tx(&no, "4200000000000000000000000009", total), now).await.unwrap();
    assert_eq!(post_notification(&app, &h5, &body5).await, 204);
    let staff = current(&app, STAFF_A).await;
    let odd = payments::unmatched(&app.state, &staff).await.unwrap();
    assert_eq!(odd.len(), 1);
    assert_eq!(odd[0].transaction_id, "4200000000000000000000000009");
    let again = bills_of(&app, &ids).await;
    assert_eq!(again, bills, "bills paid once");
}

#[tokio::test]
async fn a_late_notification_is_overtaken_by_the_query_and_failures_free_the_bills() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let a = current(&app, RESIDENT_A).await;
    let sb = app.state.sandbox.clone().unwrap();

    // failure: the query finds PAYERROR; the bills are free for a new order
    let no = payments::create_order(&app.state, &a, &ids, None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &no).await.unwrap();
    sb.decide(&app.state, &no, Choice::Failure).await.unwrap();
    let v = payments::order(&app.state, &a, &no).await.unwrap(); // the payer's page asks the provider
    assert_eq!(v.status, OrderStatus::Failed);
    assert_eq!(
        order_bill::Entity::find().filter(order_bill::Column::Active.eq(true)).count(&app.state.db).await.unwrap(),
        0
    );

    // paid, notification held back: "confirming" until the query settles it
    let no = payments::create_order(&app.state, &a, &ids, None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &no).await.unwrap();
    sb.decide(&app.state, &no, Choice::Late).await.unwrap();
    assert_eq!(order_row(&app, &no).await.status, "paying", "the browser's return is not payment");
    assert_eq!(payments::settle(&app.state, &no).await.unwrap(), OrderStatus::Paid);
    let o = order_row(&app, &no).await;
    let n = payment_notification::Entity::find().one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((n.notify_id.as_str(), Some(n.transaction_id.clone())), ("query", o.transaction_id.clone()));
    // the held-back notification arrives later: a duplicate, nothing changes
    let t = sandbox_trade::Entity::find()
        .filter(sandbox_trade::Column::OutTradeNo.eq(no.as_str()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let tx = paid_tx(&no, t.transaction_id.as_deref().unwrap(), t.amount_fen);
    let (h, body) = sb.signed(&app.state, &tx, chrono::Utc::now().timestamp()).await.unwrap();
    assert!(matches!(payments::notification(&app.state, &h, &body).await, Ok(Applied::Duplicate)));
    assert_eq!(payment_notification::Entity::find().count(&app.state.db).await.unwrap(), 1);

    // an order left unpaid past its time is closed at the provider, then here
    let others: Vec<i64> = {
        let mut x = water_bill(&app, "2026-Q3").await;
        x.retain(|id| !ids.contains(id));
        x
    };
    let no = payments::create_order(&app.state, &a, &others, None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &no).await.unwrap();
    use sea_orm::{sea_query::Expr, QueryFilter as _};
    payment_order::Entity::update_many()
        .col_expr(payment_order::Column::ExpiresAt, Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .filter(payment_order::Column::OutTradeNo.eq(no.as_str()))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(payments::settle(&app.state, &no).await.unwrap(), OrderStatus::Closed);
    let t = sandbox_trade::Entity::find()
        .filter(sandbox_trade::Column::OutTradeNo.eq(no.as_str()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.state, "CLOSED", "closed at the provider, so it cannot be paid any more");
    // paying after the close: the sandbox refuses, the order stays closed
    sb.decide(&app.state, &no, Choice::Success).await.unwrap();
    assert_eq!(order_row(&app, &no).await.status, "closed");
}

#[tokio::test]
async fn refunds_are_bounded_even_when_concurrent_and_receipts_check() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let a = current(&app, RESIDENT_A).await;
    let no = payments::create_order(&app.state, &a, &ids, None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &no).await.unwrap();
    app.state.sandbox.clone().unwrap().decide(&app.state, &no, Choice::Success).await.unwrap();
    let o = wait_status(&app, &no, OrderStatus::Paid).await;
    let staff = current(&app, STAFF_A).await;
    let water = ids[1];
    // ten refunds of ¥10 at once against a ¥86.50 bill: at most eight succeed
    let results = futures_util::future::join_all(
        (0..10).map(|_| payments::refund(&app.state, &staff, &no, water, Fen(1_000), "多收退还")),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 8, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code == ErrorCode::RefundTooLarge));
    let b = bill::Entity::find_by_id(water).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((b.refunded_fen, b.status.as_str()), (8_000, "paid"));
    // the rest of it: the bill is refunded in full
    payments::refund(&app.state, &staff, &no, water, Fen(650), "全额退还").await.unwrap();
    let b = bill::Entity::find_by_id(water).one(&app.state.db).await.unwrap().unwrap();
    assert_eq!((b.refunded_fen, b.status.as_str()), (8_650, "refunded"));
    let e = payments::refund(&app.state, &staff, &no, water, Fen(1), "再退").await.unwrap_err();
    assert_eq!(e.code, ErrorCode::RefundTooLarge);
    let after = order_row(&app, &no).await;
    assert_eq!((after.status.as_str(), after.refunded_fen), ("refunded", 8_650));
    // staff of another community, residents: no
    let other = current(&app, STAFF_B).await;
    assert_eq!(
        payments::refund(&app.state, &other, &no, ids[0], Fen(1), "x").await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        payments::refund(&app.state, &a, &no, ids[0], Fen(1), "x").await.unwrap_err().code,
        ErrorCode::Forbidden
    );
    // the database itself refuses more refunded than paid
    use sea_orm::{sea_query::Expr, QueryFilter as _};
    let raw = bill::Entity::update_many()
        .col_expr(bill::Column::RefundedFen, Expr::value(b.paid_fen + 1))
        .filter(bill::Column::Id.eq(water))
        .exec(&app.state.db)
        .await;
    assert!(raw.is_err(), "CHECK refunded ≤ paid");

    // the receipt code checks publicly, with nothing personal
    let code = o.receipt_code.unwrap();
    let path = format!("/api/v1/payments/receipts/{}", code.to_lowercase());
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    crate::access::conforms("GET", &path, 200, &text).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["amount"], o.amount_fen);
    assert_eq!(v["community"], "阳光社区");
    assert!(!v.to_string().contains(RESIDENT_A));
    let r = app.client.get(app.url("/api/v1/payments/receipts/AAAA-BBBB-CCCC")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // staff export: one row per bill, the refund shown
    let s = browser(&app).await;
    s.password_login(STAFF_A).await;
    let (status, csv) = s.page("/staff/bills/orders.csv").await;
    assert_eq!(status, 200);
    assert!(csv.contains(&no) && csv.contains("86.50") && csv.contains("已退款"), "{csv}");
}

#[tokio::test]
async fn paying_two_bills_with_plain_forms_ends_on_a_receipt() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let r = browser(&app).await;
    r.code_login(RESIDENT_A).await;
    let (_, html) = r.page("/bills").await;
    assert!(html.contains("name=\"bill\"") && html.contains("name=\"idem\""), "{html}");
    let idem = html.split("name=\"idem\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let fields = [("bill", ids[0].to_string()), ("bill", ids[1].to_string()), ("idem", idem.clone())];
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = r.form("/bills/pay", "/bills", &f).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.starts_with("/pay/sandbox/"), "{to}");
    // the same form sent again (a double submit): the same order
    let res2 = r.form("/bills/pay", "/bills", &f).await;
    assert_eq!(location(&res2), to);
    let (status, page) = r.page(&to).await;
    assert_eq!(status, 200);
    assert!(page.contains("沙箱支付") && page.contains("value=\"success\""), "{page}");
    let no = to.trim_start_matches("/pay/sandbox/").to_string();
    let back = r.form(&to, &to, &[("choice", "success")]).await;
    assert_eq!(location(&back), format!("/pay/orders/{no}"));
    wait_status(&app, &no, OrderStatus::Paid).await;
    let (_, order) = r.page(&format!("/pay/orders/{no}")).await;
    let order = order.replace("<!>", "");
    assert!(order.contains("已支付") && order.contains("收据"), "{order}");
    let (_, receipt) = r.page(&format!("/pay/orders/{no}/receipt")).await;
    let receipt = receipt.replace("<!>", "");
    let code = order_row(&app, &no).await.receipt_code.unwrap();
    let shown = domain::payments::format_receipt_code(&code);
    assert!(receipt.contains(&shown) && receipt.contains("2026年第4季度水费"), "{receipt}");
    // anyone can check it
    let anon = browser(&app).await;
    let (_, check) = anon.page(&format!("/receipts/check?code={shown}")).await;
    assert!(check.replace("<!>", "").contains("收据真实有效"), "{check}");
}

#[tokio::test]
async fn reconciliation_settles_what_we_missed_and_reports_what_differs() {
    let app = spawn_app().await;
    let ids = two_bills(&app).await;
    let a = current(&app, RESIDENT_A).await;
    let sb = app.state.sandbox.clone().unwrap();
    // one order paid and notified; one paid with its notification held back
    let first = payments::create_order(&app.state, &a, &ids[..1], None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &first).await.unwrap();
    sb.decide(&app.state, &first, Choice::Success).await.unwrap();
    wait_status(&app, &first, OrderStatus::Paid).await;
    let late = payments::create_order(&app.state, &a, &ids[1..], None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &late).await.unwrap();
    sb.decide(&app.state, &late, Choice::Late).await.unwrap();
    assert_eq!(order_row(&app, &late).await.status, "paying");

    let today = domain::time::beijing_date(chrono::Utc::now());
    let r = payments::reconcile::reconcile(&app.state, today).await.unwrap();
    assert_eq!((r.status.as_str(), r.provider_count, r.our_count), ("mismatch", 2, 1), "{r:?}");
    assert_eq!(r.mismatches.len(), 1);
    assert_eq!(r.mismatches[0].out_trade_no, late);
    assert!(r.mismatches[0].problem.contains("已主动查询补记为已支付"), "{r:?}");
    assert_eq!(order_row(&app, &late).await.status, "paid", "settled by the reconciliation");
    // run again: everything matches now, and the day has one record
    let r = payments::reconcile::reconcile(&app.state, today).await.unwrap();
    assert_eq!((r.status.as_str(), r.provider_count, r.our_count), ("ok", 2, 2), "{r:?}");
    assert_eq!(r.provider_total.0, r.our_total.0);
    let days = payments::reconcile::recent(&app.state, 7).await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].status, "ok");

    // the provider's book says the first trade happened the day before: reported on both days
    use sea_orm::{sea_query::Expr, QueryFilter as _};
    sandbox_trade::Entity::update_many()
        .col_expr(sandbox_trade::Column::SuccessTime, Expr::value(chrono::Utc::now() - chrono::Duration::days(1)))
        .filter(sandbox_trade::Column::OutTradeNo.eq(first.as_str()))
        .exec(&app.state.db)
        .await
        .unwrap();
    let r = payments::reconcile::reconcile(&app.state, today).await.unwrap();
    assert_eq!(r.status, "mismatch");
    assert!(r.mismatches.iter().any(|m| m.out_trade_no == first && m.problem.contains("支付平台账单中没有")), "{r:?}");

    // staff see it on the console, and can run it for a day
    let s = browser(&app).await;
    s.password_login(STAFF_A).await;
    let (_, html) = s.page("/staff/bills").await;
    let html = html.replace("<!>", "");
    assert!(html.contains("与支付平台对账") && html.contains("支付平台账单中没有"), "{html}");
    let res = s.form(crate::pages::path::<app::bills::RunReconcile>(), "/staff/bills", &[("date", "2099-01-01")]).await;
    assert!(location(&res).contains("error=invalid_time"), "{}", location(&res));
}
