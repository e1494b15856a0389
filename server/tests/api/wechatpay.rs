//! The `wechatpay` provider against a local fake of WeChat Pay API v3 that
//! speaks the same protocol and cryptography: it checks our merchant
//! signatures, signs its answers with a platform key, and its notifications
//! are encrypted with the APIv3 key and signed like the real ones.

use crate::appointments::current;
use crate::helpers::*;
use crate::pages::browser;
use backend::{
    entities::{payment_notification, payment_order, user},
    payments::{self, PayerContext},
    wxpay::{self, KeyPair, Notification, NotifyHeaders},
};
use domain::{money::Fen, payments::OrderStatus};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
const APIV3: &str = "0123456789abcdef0123456789ABCDEF";

#[derive(Default)]
struct Book {
    /// out_trade_no → (amount, trade state, transaction id)
    trades: HashMap<String, (i64, String, Option<String>)>,
    refunds: Vec<serde_json::Value>,
    bad_signatures: usize,
    bill: Option<String>,
    /// out_refund_no → SUCCESS / PROCESSING / ABNORMAL
    refund_states: HashMap<String, String>,
}

/// Checks a merchant request's `Authorization` header.
fn merchant_signed(r: &Recorded, merchant: &wxpay::PublicKey, method: &str) -> bool {
    let auth = r.header("authorization");
    let Some(rest) = auth.strip_prefix("WECHATPAY2-SHA256-RSA2048 ") else { return false };
    let field = |name: &str| {
        rest.split(',')
            .find_map(|kv| kv.trim().strip_prefix(&format!("{name}=\"")).map(|v| v.trim_end_matches('"').to_string()))
            .unwrap_or_default()
    };
    let message = format!(
        "{method}\n{}\n{}\n{}\n{}\n",
        r.uri,
        field("timestamp"),
        field("nonce_str"),
        String::from_utf8_lossy(&r.body)
    );
    field("mchid") == MCHID && wxpay::verify(merchant, message.as_bytes(), &field("signature"))
}

fn signed(platform: &KeyPair, status: u16, body: serde_json::Value) -> actix_web::HttpResponse {
    let text = if body.is_null() { String::new() } else { body.to_string() };
    let h = wxpay::sign_notification(platform, chrono::Utc::now().timestamp(), text.as_bytes());
    let mut res = actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    for (k, v) in h.pairs() {
        res.insert_header((k, v));
    }
    res.content_type("application/json").body(text)
}

struct Fake {
    url: String,
    book: Arc<Mutex<Book>>,
    platform: KeyPair,
    merchant: KeyPair,
}

async fn fake_wechatpay() -> Fake {
    let platform = KeyPair::generate("PLATFORM5157F09EFDC096DE15EBE81A47057A72").unwrap();
    let merchant = KeyPair::generate("MERCHANT3775B6A45ACD588826D15E583A95F5DD").unwrap();
    let book: Arc<Mutex<Book>> = Default::default();
    let (b, p, m) = (book.clone(), platform.clone(), merchant.public());
    let (url, _) = fake_service(move |r| {
        let mut book = b.lock().unwrap();
        let post = !r.body.is_empty();
        if !merchant_signed(r, &m, if post { "POST" } else { "GET" }) {
            book.bad_signatures += 1;
            return signed(&p, 401, serde_json::json!({"code": "SIGN_ERROR", "message": "签名错误"}));
        }
        let v = r.json();
        if r.path == "/v3/pay/transactions/h5" || r.path == "/v3/pay/transactions/jsapi" {
            assert_eq!((v["mchid"].as_str(), v["appid"].as_str()), (Some(MCHID), Some(APPID)));
            assert!(v["notify_url"].as_str().unwrap().ends_with("/api/v1/payments/notify/wechatpay"));
            let no = v["out_trade_no"].as_str().unwrap().to_string();
            book.trades.entry(no.clone()).or_insert((v["amount"]["total"].as_i64().unwrap(), "NOTPAY".into(), None));
            return if r.path.ends_with("h5") {
                assert!(v["scene_info"]["payer_client_ip"].as_str().is_some());
                signed(&p, 200, serde_json::json!({ "h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx{no}") }))
            } else {
                assert_eq!(v["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
                signed(&p, 200, serde_json::json!({ "prepay_id": format!("wx{no}") }))
            };
        }
        if let Some(rest) = r.path.strip_prefix("/v3/pay/transactions/out-trade-no/") {
            if let Some(no) = rest.strip_suffix("/close") {
                return match book.trades.get_mut(no) {
                    Some(t) if t.1 == "SUCCESS" => signed(&p, 400, serde_json::json!({"code": "ORDERPAID", "message": "订单已支付"})),
                    Some(t) => {
                        t.1 = "CLOSED".into();
                        signed(&p, 204, serde_json::Value::Null)
                    }
                    None => signed(&p, 404, serde_json::json!({"code": "ORDER_NOT_EXIST"})),
                };
            }
            return match book.trades.get(rest) {
                Some((amount, state, tx)) => signed(
                    &p,
                    200,
                    serde_json::json!({
                        "appid": APPID, "mchid": MCHID, "out_trade_no": rest, "transaction_id": tx,
                        "trade_type": "MWEB", "trade_state": state, "amount": { "total": amount, "currency": "CNY" },
                    }),
                ),
                None => signed(&p, 404, serde_json::json!({"code": "ORDER_NOT_EXIST"})),
            };
        }
        if r.path == "/v3/bill/tradebill" {
            assert!(r.uri.contains("bill_date=") && r.uri.contains("bill_type=ALL"), "{}", r.uri);
            let rows: Vec<wxpay::TradeBillRow> = book
                .trades
                .iter()
                .filter(|(_, t)| t.1 == "SUCCESS")
                .map(|(no, t)| wxpay::TradeBillRow {
                    time: "2026-11-23 10:00:00".into(),
                    transaction_id: t.2.clone().unwrap_or_default(),
                    out_trade_no: no.clone(),
                    state: "SUCCESS".into(),
                    amount: t.0,
                    refund: 0,
                })
                .collect();
            let text = wxpay::write_trade_bill(APPID, MCHID, &rows);
            let hash = sha1_smol::Sha1::from(text.as_bytes()).digest().to_string().to_uppercase();
            book.bill = Some(text);
            let host = r.header("host").to_string();
            return signed(
                &p,
                200,
                serde_json::json!({ "hash_type": "SHA1", "hash_value": hash, "download_url": format!("http://{host}/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO") }),
            );
        }
        if r.path == "/v3/billdownload/file" {
            return actix_web::HttpResponse::Ok().content_type("text/plain").body(book.bill.clone().unwrap_or_default());
        }
        if let Some(no) = r.path.strip_prefix("/v3/refund/domestic/refunds/") {
            let state = book.refund_states.get(no).cloned().unwrap_or_else(|| "PROCESSING".into());
            return signed(&p, 200, serde_json::json!({ "out_refund_no": no, "refund_id": "50000000382019052709732678859", "status": state }));
        }
        if r.path == "/v3/refund/domestic/refunds" {
            book.refunds.push(v.clone());
            return signed(&p, 200, serde_json::json!({ "refund_id": "50000000382019052709732678859", "status": "PROCESSING" }));
        }
        signed(&p, 404, serde_json::json!({"code": "NOT_FOUND"}))
    })
    .await;
    Fake { url, book, platform, merchant }
}

async fn app_with(fake: &Fake) -> TestApp {
    let private = fake.merchant.private_pem().unwrap();
    let platform = format!("{}={}", fake.platform.serial, fake.platform.public_pem().unwrap());
    spawn_app_with(&[
        ("PAYMENT_PROVIDER", "wechatpay"),
        ("WECHATPAY_MCHID", MCHID),
        ("WECHATPAY_APPID", APPID),
        ("WECHATPAY_SERIAL", &fake.merchant.serial),
        ("WECHATPAY_PRIVATE_KEY", &private),
        ("WECHATPAY_APIV3_KEY", APIV3),
        ("WECHATPAY_PLATFORM_KEYS", &platform),
        ("WECHATPAY_API_BASE", &fake.url),
    ])
    .await
}

/// WeChat Pay's notification of a paid trade, as it would send it.
fn notification(fake: &Fake, no: &str, tx: &str, total: i64, ts: i64) -> (NotifyHeaders, Vec<u8>) {
    let plain = serde_json::json!({
        "appid": APPID, "mchid": MCHID, "out_trade_no": no, "transaction_id": tx, "trade_type": "MWEB",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "CMC", "success_time": "2026-11-23T10:34:56+08:00",
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }, "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
    });
    let key: [u8; 32] = APIV3.as_bytes().try_into().unwrap();
    let n = Notification {
        id: "EV-2018022511223320873".into(),
        create_time: "2026-11-23T10:34:57+08:00".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        resource_type: "encrypt-resource".into(),
        summary: "支付成功".into(),
        resource: wxpay::encrypt_resource(&key, plain.to_string().as_bytes(), "transaction", "transaction").unwrap(),
    };
    let body = serde_json::to_vec(&n).unwrap();
    (wxpay::sign_notification(&fake.platform, ts, &body), body)
}

async fn post(app: &TestApp, h: &NotifyHeaders, body: &[u8]) -> u16 {
    let mut r = app.client.post(app.url("/api/v1/payments/notify/wechatpay")).body(body.to_vec());
    for (k, v) in h.pairs() {
        r = r.header(k, v);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn unpaid(app: &TestApp, who: &backend::auth::CurrentUser) -> Vec<i64> {
    backend::bills::mine(&app.state, who)
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.status == domain::bills::BillStatus::Unpaid)
        .map(|b| b.id)
        .collect()
}

async fn status(app: &TestApp, no: &str) -> domain::payments::OrderStatus {
    payment_order::Entity::find()
        .filter(payment_order::Column::OutTradeNo.eq(no))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn h5_payment_notified_once_queried_closed_and_refunded_against_the_fake() {
    let fake = fake_wechatpay().await;
    let app = app_with(&fake).await;
    let a = current(&app, RESIDENT_A).await;
    let bills = unpaid(&app, &a).await;
    assert_eq!(bills.len(), 2);

    // H5 outside WeChat: the payer goes to WeChat Pay's page
    let no = payments::create_order(&app.state, &a, &bills[..1], None).await.unwrap().out_trade_no;
    let url = payments::pay(&app.state, &a, &no).await.unwrap();
    assert!(url.starts_with("https://wx.tenpay.com/") && url.contains("&redirect_url=http"), "{url}");
    let total = fake.book.lock().unwrap().trades[&no].0;
    // WeChat Pay takes the money and notifies (twice, and once with a forged signature)
    {
        let mut b = fake.book.lock().unwrap();
        let t = b.trades.get_mut(&no).unwrap();
        t.1 = "SUCCESS".into();
        t.2 = Some("4200000001202611230000000001".into());
    }
    let now = chrono::Utc::now().timestamp();
    let (h, body) = notification(&fake, &no, "4200000001202611230000000001", total, now);
    let mut forged = h.clone();
    forged.signature = Some(fake.merchant.sign(&wxpay::notification_message(&now.to_string(), "x", &body)));
    assert_eq!(post(&app, &forged, &body).await, 401);
    assert_eq!(post(&app, &h, &body).await, 204);
    assert_eq!(post(&app, &h, &body).await, 204);
    assert_eq!(status(&app, &no).await, "paid");
    assert_eq!(payment_notification::Entity::find().count(&app.state.db).await.unwrap(), 1);

    // paid without a notification: our query finds it (the answer's signature checked)
    let no2 = payments::create_order(&app.state, &a, &bills[1..], None).await.unwrap().out_trade_no;
    payments::pay(&app.state, &a, &no2).await.unwrap();
    assert_eq!(payments::settle(&app.state, &no2).await.unwrap(), OrderStatus::Paying, "NOTPAY: still open");
    {
        let mut b = fake.book.lock().unwrap();
        let t = b.trades.get_mut(&no2).unwrap();
        t.1 = "SUCCESS".into();
        t.2 = Some("4200000001202611230000000002".into());
    }
    assert_eq!(payments::settle(&app.state, &no2).await.unwrap(), OrderStatus::Paid);

    // a refund goes to WeChat Pay with the amounts in fen
    let staff = current(&app, STAFF_A).await;
    payments::refund(&app.state, &staff, &no, bills[0], Fen(1_000), "多收退还").await.unwrap();
    let refunds = fake.book.lock().unwrap().refunds.clone();
    assert_eq!(refunds.len(), 1);
    use backend::entities::refund;
    let row = refund::Entity::find().one(&app.state.db).await.unwrap().unwrap();
    assert_eq!(row.status, "processing", "WeChat Pay said PROCESSING");
    // WeChat Pay finishes it and says so: the notification makes us ask, and the payer is told
    fake.book.lock().unwrap().refund_states.insert(row.out_refund_no.clone(), "SUCCESS".into());
    let key: [u8; 32] = APIV3.as_bytes().try_into().unwrap();
    let plain = serde_json::json!({ "mchid": MCHID, "out_trade_no": no, "out_refund_no": row.out_refund_no, "refund_status": "SUCCESS" });
    let n = Notification {
        id: "EV-refund-1".into(),
        create_time: "2026-11-23T10:40:00+08:00".into(),
        event_type: "REFUND.SUCCESS".into(),
        resource_type: "encrypt-resource".into(),
        summary: "退款成功".into(),
        resource: wxpay::encrypt_resource(&key, plain.to_string().as_bytes(), "refund", "refund").unwrap(),
    };
    let body = serde_json::to_vec(&n).unwrap();
    let h = wxpay::sign_notification(&fake.platform, chrono::Utc::now().timestamp(), &body);
    assert_eq!(post(&app, &h, &body).await, 204);
    assert_eq!(refund::Entity::find_by_id(row.id).one(&app.state.db).await.unwrap().unwrap().status, "success");
    // a refund WeChat Pay cannot complete (ABNORMAL): the amounts are given back
    payments::refund(&app.state, &staff, &no, bills[0], Fen(500), "再退一次").await.unwrap();
    let second =
        refund::Entity::find().filter(refund::Column::Reason.eq("再退一次")).one(&app.state.db).await.unwrap().unwrap();
    fake.book.lock().unwrap().refund_states.insert(second.out_refund_no.clone(), "ABNORMAL".into());
    assert_eq!(payments::check_refund(&app.state, second.id).await.unwrap(), payments::RefundState::Failed);
    let o = payment_order::Entity::find()
        .filter(payment_order::Column::OutTradeNo.eq(no.as_str()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.refunded_fen, 1_000, "only the completed refund counts");
    assert_eq!(
        (refunds[0]["out_trade_no"].as_str(), refunds[0]["amount"]["refund"].as_i64()),
        (Some(no.as_str()), Some(1_000))
    );
    assert_eq!(refunds[0]["amount"]["total"].as_i64(), Some(total));

    // the day's trade bill (downloaded, its hash checked) matches what we recorded
    let today = domain::time::beijing_date(chrono::Utc::now());
    let r = payments::reconcile::reconcile(&app.state, today).await.unwrap();
    assert_eq!((r.status.as_str(), r.provider_count, r.our_count), ("ok", 2, 2), "{r:?}");
    assert_eq!(fake.book.lock().unwrap().bad_signatures, 0, "every request we sent was signed correctly");
}

#[tokio::test]
async fn inside_wechat_jsapi_is_used_and_expired_orders_close_at_wechat_first() {
    let fake = fake_wechatpay().await;
    let app = app_with(&fake).await;
    let a = current(&app, RESIDENT_A).await;
    let mut u: user::ActiveModel = user::Entity::find_by_id(a.id).one(&app.state.db).await.unwrap().unwrap().into();
    u.wechat_openid = Set(Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()));
    u.update(&app.state.db).await.unwrap();
    let bills = unpaid(&app, &a).await;
    let no = payments::create_order(&app.state, &a, &bills, None).await.unwrap().out_trade_no;
    let ctx = PayerContext::from_request("Mozilla/5.0 (iPhone) MicroMessenger/8.0.50", "10.0.0.8");
    let url = payments::pay_with(&app.state, &a, &no, &ctx).await.unwrap();
    assert_eq!(url, format!("/pay/wechat/{no}?prepay_id=wx{no}"));
    // the page hands signed parameters to WeChat's JS bridge
    let r = browser(&app).await;
    r.code_login(RESIDENT_A).await;
    let (status_code, html) = r.page(&url).await;
    assert_eq!(status_code, 200);
    assert!(html.contains("getBrandWCPayRequest"), "{html}");
    let params: serde_json::Value =
        serde_json::from_str(html.split("getBrandWCPayRequest', ").nth(1).unwrap().split(", function").next().unwrap())
            .unwrap();
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        params["appId"].as_str().unwrap(),
        params["timeStamp"].as_str().unwrap(),
        params["nonceStr"].as_str().unwrap(),
        params["package"].as_str().unwrap()
    );
    assert!(wxpay::verify(&fake.merchant.public(), message.as_bytes(), params["paySign"].as_str().unwrap()));

    // unpaid past its time: closed at WeChat Pay, then here; the bills are free
    use sea_orm::sea_query::Expr;
    payment_order::Entity::update_many()
        .col_expr(payment_order::Column::ExpiresAt, Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .filter(payment_order::Column::OutTradeNo.eq(no.as_str()))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(payments::settle(&app.state, &no).await.unwrap(), OrderStatus::Closed);
    assert_eq!(fake.book.lock().unwrap().trades[&no].1, "CLOSED");

    // the payer paid just before the close: WeChat refuses to close, the payment is applied
    let no = payments::create_order(&app.state, &a, &bills, None).await.unwrap().out_trade_no;
    payments::pay_with(&app.state, &a, &no, &ctx).await.unwrap();
    {
        let mut b = fake.book.lock().unwrap();
        let t = b.trades.get_mut(&no).unwrap();
        t.1 = "SUCCESS".into();
        t.2 = Some("4200000001202611230000000003".into());
    }
    assert_eq!(payments::cancel(&app.state, &a, &no).await.unwrap(), OrderStatus::Paid);
    assert_eq!(status(&app, &no).await, "paid");
}
