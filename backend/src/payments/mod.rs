//! Paying bills (rules.md §3): orders, the provider behind one trait,
//! notifications, active queries, refunds and receipts.
//!
//! - An order pays one or more unpaid bills of the payer's households, all in
//!   one community. Its lines lock the bills (`order_bills`: one active line
//!   per bill, a partial unique index), so two orders never hold one bill.
//! - created → paying (the payer is sent to the provider) → paid | closed |
//!   failed; paid → refunded. Only the provider settles an order: its signed
//!   notification (`notification`) or our query of the order (`settle`);
//!   what the browser says on return is never taken as payment.
//! - A success applies once per provider transaction id
//!   (`payment_notifications`, unique): duplicates, replays and retries
//!   change nothing. Bills move unpaid → paid with a guarded update.
//! - Orders not settled are queried by a job until they settle or expire;
//!   an expired order is closed at the provider first (so it can no longer
//!   be paid), then here, and its bills are free again.
//! - Refunds are reserved in the database (bounded by CHECKs on the line,
//!   the order and the bill) before the provider is asked; a refused refund
//!   gives the reservation back.

pub mod reconcile;
pub mod sandbox;
pub mod wechatpay;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::{
    bill::BillStatus,
    money::Fen,
    notify::NotificationKind,
    payment::{
        format_receipt_code, OrderLine, OrderStatus, OrderView, ReceiptCheck, TradeState, Unmatched, RECEIPT_ALPHABET,
    },
    ErrorCode, OrgPath,
};
use rand::Rng;
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{bill, order_bill, org_unit, payment_notification, payment_order, refund, user},
    error::{AppError, AppResult},
    idempotency::Keyed,
    jobs::{self, JobKind, NewJob},
    notify::{self, Draft},
    wxpay::{NotifyError, NotifyHeaders, Transaction, Verifier},
    State,
};

/// How long an order waits for its payer before it is closed.
pub const ORDER_MINUTES: i64 = 30;
/// At most this many bills in one order.
pub const MAX_BILLS: usize = 24;

/// What a provider says when asked to close an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseOutcome {
    Closed,
    /// Too late: the payer has paid (settle it instead).
    AlreadyPaid,
}

/// A refund as sent to the provider.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub amount: Fen,
    pub total: Fen,
    pub reason: String,
}

/// The provider's answer to a refund request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundAccepted {
    pub refund_id: String,
    /// Already refunded (the sandbox); otherwise it is processing and is
    /// checked later (WeChat Pay).
    pub done: bool,
}

/// Where a refund stands at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundState {
    Success,
    Processing,
    /// Closed or abnormal: the money did not go back; the reservation is given back.
    Failed,
}

/// Who is paying, and from where (JSAPI inside WeChat needs the openid; H5
/// needs the payer's address).
#[derive(Clone, Debug, Default)]
pub struct PayerContext {
    pub openid: Option<String>,
    /// The request came from WeChat's in-app browser.
    pub in_wechat: bool,
    pub client_ip: String,
    /// Where the payer returns to (`PUBLIC_URL`).
    pub public_url: String,
}

impl PayerContext {
    /// From a request's User-Agent and client address.
    pub fn from_request(user_agent: &str, client_ip: &str) -> PayerContext {
        PayerContext {
            openid: None,
            in_wechat: user_agent.contains("MicroMessenger"),
            client_ip: client_ip.to_string(),
            public_url: String::new(),
        }
    }
}

/// A payment provider (WeChat Pay, or the sandbox that plays it).
#[async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    /// The merchant and app ids notifications must name.
    fn merchant(&self) -> (String, String);
    /// Registers the order with the provider; returns where the payer goes to pay.
    async fn prepay(
        &self,
        state: &State,
        order: &payment_order::Model,
        description: &str,
        payer: &PayerContext,
    ) -> AppResult<String>;
    /// The provider's record of the order, if it has one.
    async fn query(&self, state: &State, out_trade_no: &str) -> AppResult<Option<Transaction>>;
    async fn close(&self, state: &State, out_trade_no: &str) -> AppResult<CloseOutcome>;
    async fn refund(&self, state: &State, r: &RefundRequest) -> AppResult<RefundAccepted>;
    async fn refund_status(&self, state: &State, out_refund_no: &str) -> AppResult<RefundState>;
    /// Keys that verify and decrypt this provider's notifications.
    async fn verifier(&self, state: &State) -> AppResult<Verifier>;
    /// The provider's trade bill of a day (Beijing), for reconciliation.
    async fn trade_bill(&self, state: &State, date: chrono::NaiveDate) -> AppResult<Vec<crate::wxpay::TradeBillRow>>;
}

fn beijing_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&domain::appointment::beijing()).format("%Y-%m-%d %H:%M").to_string()
}

/// `ZH` + Beijing date and time + 8 random digits: unique, ≤ 32 characters,
/// only letters and digits (what WeChat Pay accepts).
fn new_trade_no(prefix: &str) -> String {
    let mut r = rand::thread_rng();
    let now = Utc::now().with_timezone(&domain::appointment::beijing());
    format!("{prefix}{}{:08}", now.format("%Y%m%d%H%M%S"), r.gen_range(0..100_000_000u32))
}

pub(crate) fn new_receipt_code() -> String {
    let mut r = rand::thread_rng();
    (0..12).map(|_| RECEIPT_ALPHABET[r.gen_range(0..RECEIPT_ALPHABET.len())] as char).collect()
}

fn status_of(o: &payment_order::Model) -> OrderStatus {
    OrderStatus::parse(&o.status).unwrap_or(OrderStatus::Closed)
}

async fn order_by_no<C: ConnectionTrait>(c: &C, no: &str) -> AppResult<payment_order::Model> {
    Ok(payment_order::Entity::find()
        .filter(payment_order::Column::OutTradeNo.eq(no))
        .one(c)
        .await?
        .ok_or(ErrorCode::NotFound)?)
}

async fn lines_of<C: ConnectionTrait>(c: &C, order_id: i64) -> AppResult<Vec<order_bill::Model>> {
    Ok(order_bill::Entity::find()
        .filter(order_bill::Column::OrderId.eq(order_id))
        .order_by_asc(order_bill::Column::BillId)
        .all(c)
        .await?)
}

/// The order a bill is locked to right now, if any.
async fn holder_of<C: ConnectionTrait>(c: &C, bill_id: i64) -> AppResult<Option<payment_order::Model>> {
    let Some(line) = order_bill::Entity::find()
        .filter(order_bill::Column::BillId.eq(bill_id))
        .filter(order_bill::Column::Active.eq(true))
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    Ok(payment_order::Entity::find_by_id(line.order_id).one(c).await?)
}

/// What a create request answers: the order, and whether it is new.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub out_trade_no: String,
    pub created: bool,
}

/// The answer saved under an idempotency key for an order.
pub fn keyed_answer(c: &Created) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// Makes an order for the bills (or finds the payer's open order for
/// exactly these bills: a second click, another tab).
pub async fn create_order(
    state: &State,
    payer: &CurrentUser,
    bill_ids: &[i64],
    keyed: Option<&Keyed>,
) -> AppResult<Created> {
    let mut ids = bill_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ErrorCode::NoBillChosen.into());
    }
    if ids.len() > MAX_BILLS {
        return Err(ErrorCode::InvalidInput.into());
    }
    let households = crate::bills::my_households(state, payer).await?;
    let bills = bill::Entity::find().filter(bill::Column::Id.is_in(ids.clone())).all(&state.db).await?;
    if bills.len() != ids.len() || bills.iter().any(|b| !households.contains(&b.household_id)) {
        return Err(ErrorCode::NotFound.into());
    }
    if bills.iter().any(|b| b.status != "unpaid") {
        return Err(ErrorCode::BillNotPayable.into());
    }
    let community = bills[0].org_unit_id;
    if bills.iter().any(|b| b.org_unit_id != community) {
        return Err(ErrorCode::BillsOfOneCommunity.into());
    }
    if let Some(found) = same_open_order(state, payer, &ids).await? {
        return existing(state, keyed, found).await;
    }
    let now = Utc::now();
    let amount: i64 = bills.iter().map(|b| b.amount_fen - b.paid_fen).sum();
    let no = new_trade_no("ZH");
    let txn = state.db.begin().await?;
    // first a write on the bills (in id order): concurrent orders for the same
    // bills queue here on PostgreSQL, and a bill paid meanwhile is noticed
    let touched = bill::Entity::update_many()
        .col_expr(bill::Column::UpdatedAt, Expr::value(now))
        .filter(bill::Column::Id.is_in(ids.clone()))
        .filter(bill::Column::Status.eq("unpaid"))
        .exec(&txn)
        .await?;
    if touched.rows_affected != ids.len() as u64 {
        return Err(ErrorCode::BillNotPayable.into());
    }
    let order = payment_order::Entity::insert(payment_order::ActiveModel {
        out_trade_no: Set(no.clone()),
        user_id: Set(payer.id),
        org_unit_id: Set(community),
        provider: Set(state.payments.name().into()),
        amount_fen: Set(amount),
        refunded_fen: Set(0),
        status: Set(OrderStatus::Created.as_str().into()),
        transaction_id: Set(None),
        receipt_code: Set(None),
        pay_url: Set(None),
        expires_at: Set(now + Duration::minutes(ORDER_MINUTES)),
        paid_at: Set(None),
        closed_at: Set(None),
        queried_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    for b in &bills {
        let r = order_bill::Entity::insert(order_bill::ActiveModel {
            order_id: Set(order),
            bill_id: Set(b.id),
            amount_fen: Set(b.amount_fen - b.paid_fen),
            refunded_fen: Set(0),
            active: Set(true),
            ..Default::default()
        })
        .exec(&txn)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if crate::db::is_unique_violation(&e) => {
                // another order took the bill first
                txn.rollback().await?;
                return match same_open_order(state, payer, &ids).await? {
                    Some(found) => existing(state, keyed, found).await,
                    None => Err(ErrorCode::BillInPayment.into()),
                };
            }
            Err(e) => return Err(e.into()),
        }
    }
    jobs::enqueue(&txn, check_job_at(&no, 0, now + Duration::minutes(ORDER_MINUTES))).await?;
    let c = Created { out_trade_no: no, created: true };
    if let Some(k) = keyed {
        crate::idempotency::finish(&txn, k, 201, &keyed_answer(&c)).await?;
    }
    txn.commit().await?;
    tracing::info!(order = %c.out_trade_no, bills = ids.len(), amount, "order created");
    Ok(c)
}

/// Answers with the payer's open order for these bills (saved under the key).
async fn existing(state: &State, keyed: Option<&Keyed>, out_trade_no: String) -> AppResult<Created> {
    let c = Created { out_trade_no, created: false };
    if let Some(k) = keyed {
        crate::idempotency::finish(&state.db, k, 200, &keyed_answer(&c)).await?;
    }
    Ok(c)
}

/// The payer's open order holding exactly these bills; `BillInPayment` when
/// some bill is held by another order.
async fn same_open_order(state: &State, payer: &CurrentUser, ids: &[i64]) -> AppResult<Option<String>> {
    let mut holder: Option<payment_order::Model> = None;
    for id in ids {
        match holder_of(&state.db, *id).await? {
            None => {
                if holder.is_some() {
                    return Err(ErrorCode::BillInPayment.into());
                }
            }
            Some(o) => {
                if o.user_id != payer.id || !status_of(&o).is_open() {
                    return Err(ErrorCode::BillInPayment.into());
                }
                if holder.as_ref().is_some_and(|h| h.id != o.id) {
                    return Err(ErrorCode::BillInPayment.into());
                }
                holder = Some(o);
            }
        }
    }
    let Some(o) = holder else { return Ok(None) };
    let mut held: Vec<i64> = lines_of(&state.db, o.id).await?.iter().map(|l| l.bill_id).collect();
    held.sort_unstable();
    if held != ids {
        return Err(ErrorCode::BillInPayment.into());
    }
    Ok(Some(o.out_trade_no))
}

/// The job that queries an unsettled order (and closes it once expired).
fn check_job_at(no: &str, attempt: u32, at: DateTime<Utc>) -> NewJob {
    NewJob::new(
        JobKind::PaymentCheck,
        format!("payment.check:{no}:{attempt}"),
        CheckJob { out_trade_no: no.into(), attempt },
    )
    .at(at)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckJob {
    pub out_trade_no: String,
    pub attempt: u32,
}

/// Seconds after the payer left for the provider when we ask it ourselves.
const QUERY_AFTER: [i64; 5] = [20, 60, 180, 600, 1200];

/// `pay_with` for a payer outside WeChat (tests, the JSON API without context).
pub async fn pay(state: &State, payer: &CurrentUser, no: &str) -> AppResult<String> {
    pay_with(state, payer, no, &PayerContext::from_request("", "127.0.0.1")).await
}

/// Starts paying: registers the order with the provider (once) and returns
/// where the payer goes. Paying again returns the same place.
pub async fn pay_with(state: &State, payer: &CurrentUser, no: &str, ctx: &PayerContext) -> AppResult<String> {
    let o = order_by_no(&state.db, no).await?;
    if o.user_id != payer.id {
        return Err(ErrorCode::NotFound.into());
    }
    let now = Utc::now();
    match status_of(&o) {
        OrderStatus::Paying => {
            return o.pay_url.clone().ok_or_else(|| AppError::internal(anyhow::anyhow!("no pay url")))
        }
        OrderStatus::Created if o.expires_at > now => {}
        OrderStatus::Created => {
            close_now(state, &o).await?;
            return Err(ErrorCode::OrderNotPayable.into());
        }
        _ => return Err(ErrorCode::OrderNotPayable.into()),
    }
    let description = describe(state, &o).await?;
    let mut ctx = ctx.clone();
    ctx.openid = user::Entity::find_by_id(payer.id).one(&state.db).await?.and_then(|u| u.wechat_openid);
    ctx.public_url = state.config.public_url.clone();
    let url = state.payments.prepay(state, &o, &description, &ctx).await?;
    let txn = state.db.begin().await?;
    let moved = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paying.as_str()))
        .col_expr(payment_order::Column::PayUrl, Expr::value(url.clone()))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::Status.eq(OrderStatus::Created.as_str()))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 1 {
        for (i, s) in QUERY_AFTER.iter().enumerate() {
            let at = now + Duration::seconds(*s);
            if at < o.expires_at {
                jobs::enqueue(&txn, check_job_at(no, i as u32 + 1, at)).await?;
            }
        }
    }
    txn.commit().await?;
    // a concurrent click may have moved it first: answer with what is stored
    let o = order_by_no(&state.db, no).await?;
    match status_of(&o) {
        OrderStatus::Paying => Ok(o.pay_url.unwrap_or(url)),
        _ => Err(ErrorCode::OrderNotPayable.into()),
    }
}

async fn describe(state: &State, o: &payment_order::Model) -> AppResult<String> {
    let ids: Vec<i64> = lines_of(&state.db, o.id).await?.iter().map(|l| l.bill_id).collect();
    let bills = bill::Entity::find().filter(bill::Column::Id.is_in(ids)).all(&state.db).await?;
    let first = bills.first().map(|b| b.title.clone()).unwrap_or_default();
    let text = if bills.len() > 1 { format!("{first} 等 {} 项", bills.len()) } else { first };
    Ok(text.chars().take(40).collect())
}

/// How a provider's word about an order was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The order is paid now (its bills too).
    Paid,
    /// Seen before (same transaction): nothing changed.
    Duplicate,
    /// Money taken for an order that can no longer take it (closed, or paid
    /// by another transaction): recorded for staff, bills untouched.
    Unmatched,
}

/// Applies a successful transaction, once per transaction id.
pub async fn apply_success(state: &State, tx: &Transaction, source: &str) -> AppResult<Applied> {
    let provider = state.payments.name();
    let (mchid, appid) = state.payments.merchant();
    if tx.mchid != mchid || tx.appid != appid {
        return Err(ErrorCode::BadSignature.into());
    }
    if TradeState::parse(&tx.trade_state).and_then(|s| s.settles()) != Some(OrderStatus::Paid) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let transaction_id = tx.transaction_id.clone().filter(|t| !t.is_empty()).ok_or(ErrorCode::InvalidInput)?;
    let total = tx.amount.as_ref().map(|a| a.total).ok_or(ErrorCode::InvalidInput)?;
    let o = order_by_no(&state.db, &tx.out_trade_no).await?;
    if total != o.amount_fen || o.provider != provider {
        tracing::warn!(order = %o.out_trade_no, total, expected = o.amount_fen, "payment amount does not match the order");
        return Err(ErrorCode::InvalidAmount.into());
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let status = status_of(&o);
    // open, or settled before by this same transaction (the insert below says so)
    let (outcome, detail) = if status.is_open() || o.transaction_id.as_deref() == Some(transaction_id.as_str()) {
        ("applied", None)
    } else {
        ("unmatched", Some(format!("订单状态为 {},收到支付 {},需人工核对退款", o.status, Fen(total))))
    };
    let recorded = payment_notification::Entity::insert(payment_notification::ActiveModel {
        provider: Set(provider.into()),
        transaction_id: Set(transaction_id.clone()),
        notify_id: Set(source.chars().take(64).collect()),
        out_trade_no: Set(o.out_trade_no.clone()),
        trade_state: Set(tx.trade_state.clone()),
        amount_fen: Set(total),
        outcome: Set(outcome.into()),
        detail: Set(detail.clone()),
        received_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([payment_notification::Column::Provider, payment_notification::Column::TransactionId])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(recorded, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        txn.rollback().await?;
        return Ok(Applied::Duplicate);
    }
    if outcome == "unmatched" {
        txn.commit().await?;
        tracing::error!(order = %o.out_trade_no, %transaction_id, "payment for an order that cannot take it; staff must settle it");
        return Ok(Applied::Unmatched);
    }
    let receipt = new_receipt_code();
    let moved = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paid.as_str()))
        .col_expr(payment_order::Column::TransactionId, Expr::value(transaction_id.clone()))
        .col_expr(payment_order::Column::ReceiptCode, Expr::value(receipt.clone()))
        .col_expr(payment_order::Column::PaidAt, Expr::value(now))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Created.as_str(), OrderStatus::Paying.as_str()]))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        // settled meanwhile by another path (a query racing this notification)
        txn.rollback().await?;
        return Ok(Applied::Duplicate);
    }
    let lines = lines_of(&txn, o.id).await?;
    for l in &lines {
        let paid = bill::Entity::update_many()
            .col_expr(bill::Column::PaidFen, Expr::col(bill::Column::PaidFen).add(l.amount_fen))
            .col_expr(bill::Column::Status, Expr::value(BillStatus::Paid.as_str()))
            .col_expr(bill::Column::UpdatedAt, Expr::value(now))
            .filter(bill::Column::Id.eq(l.bill_id))
            .filter(bill::Column::Status.eq("unpaid"))
            .exec(&txn)
            .await?;
        if paid.rows_affected != 1 {
            txn.rollback().await?;
            return Err(AppError::internal(anyhow::anyhow!(
                "bill {} of order {} was not unpaid",
                l.bill_id,
                o.out_trade_no
            )));
        }
    }
    notify::put(
        &txn,
        o.user_id,
        Draft {
            kind: NotificationKind::Payment,
            title: domain::msg::Msg::new("payment.paid.title").with("amount", Fen(o.amount_fen)).encode(),
            body: domain::msg::Msg::new("payment.paid.body")
                .with("order", &o.out_trade_no)
                .with("receipt", format_receipt_code(&receipt))
                .encode(),
            link: format!("/pay/orders/{}", o.out_trade_no),
            key: format!("paid:{}", o.out_trade_no),
        },
    )
    .await?;
    jobs::cancel(&txn, &format!("payment.check:{}:0", o.out_trade_no)).await?;
    txn.commit().await?;
    state.jobs.kick();
    tracing::info!(order = %o.out_trade_no, source, "order paid");
    Ok(Applied::Paid)
}

/// Why a notification was refused (answered 4xx, so the provider retries).
#[derive(Debug)]
pub enum Refused {
    Invalid(NotifyError),
    Rejected(AppError),
}

/// Handles a provider's notification: verify, decrypt, apply once.
pub async fn notification(state: &State, headers: &NotifyHeaders, body: &[u8]) -> Result<Applied, Refused> {
    let verifier = state.payments.verifier(state).await.map_err(Refused::Rejected)?;
    let (n, plain) = verifier.open(headers, body, Utc::now().timestamp()).map_err(Refused::Invalid)?;
    if n.event_type.starts_with("REFUND.") {
        // a refund's result: ask the provider (its answer is signed) and settle
        let v: serde_json::Value =
            serde_json::from_slice(&plain).map_err(|_| Refused::Invalid(NotifyError::BadBody))?;
        let no = v["out_refund_no"].as_str().unwrap_or_default();
        if let Some(r) = refund::Entity::find()
            .filter(refund::Column::OutRefundNo.eq(no))
            .one(&state.db)
            .await
            .map_err(|e| Refused::Rejected(e.into()))?
        {
            check_refund(state, r.id).await.map_err(Refused::Rejected)?;
        }
        return Ok(Applied::Duplicate);
    }
    if n.event_type != "TRANSACTION.SUCCESS" {
        return Ok(Applied::Duplicate); // other events: acknowledged
    }
    let tx: Transaction = serde_json::from_slice(&plain).map_err(|_| Refused::Invalid(NotifyError::BadBody))?;
    apply_success(state, &tx, &n.id).await.map_err(Refused::Rejected)
}

/// Asks the provider about an open order and settles it by the answer;
/// closes it (at the provider first) when it has expired unpaid. Returns
/// the order's status afterwards.
pub async fn settle(state: &State, no: &str) -> AppResult<OrderStatus> {
    let o = order_by_no(&state.db, no).await?;
    if !status_of(&o).is_open() {
        return Ok(status_of(&o));
    }
    let now = Utc::now();
    payment_order::Entity::update_many()
        .col_expr(payment_order::Column::QueriedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .exec(&state.db)
        .await?;
    let found = if status_of(&o) == OrderStatus::Paying { state.payments.query(state, no).await? } else { None };
    if let Some(tx) = &found {
        match TradeState::parse(&tx.trade_state).and_then(|s| s.settles()) {
            Some(OrderStatus::Paid) => {
                apply_success(state, tx, "query").await?;
            }
            Some(end @ (OrderStatus::Failed | OrderStatus::Closed)) => {
                end_order(state, &o, end).await?;
            }
            _ => {}
        }
    }
    let o = order_by_no(&state.db, no).await?;
    if status_of(&o).is_open() && o.expires_at <= now {
        close_now(state, &o).await?;
    }
    Ok(status_of(&order_by_no(&state.db, no).await?))
}

/// Closes an open order at the provider, then here. If the payer paid in
/// the meantime the payment is applied instead.
async fn close_now(state: &State, o: &payment_order::Model) -> AppResult<OrderStatus> {
    // a paying order is closed at the provider first, so it cannot be paid afterwards
    if status_of(o) == OrderStatus::Paying
        && state.payments.close(state, &o.out_trade_no).await? == CloseOutcome::AlreadyPaid
    {
        if let Some(tx) = state.payments.query(state, &o.out_trade_no).await? {
            apply_success(state, &tx, "query").await?;
        }
        return Ok(status_of(&order_by_no(&state.db, &o.out_trade_no).await?));
    }
    end_order(state, o, OrderStatus::Closed).await?;
    Ok(status_of(&order_by_no(&state.db, &o.out_trade_no).await?))
}

/// Moves an open order to closed or failed and frees its bills.
async fn end_order(state: &State, o: &payment_order::Model, to: OrderStatus) -> AppResult<()> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let moved = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(payment_order::Column::ClosedAt, Expr::value(now))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Created.as_str(), OrderStatus::Paying.as_str()]))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 1 {
        order_bill::Entity::update_many()
            .col_expr(order_bill::Column::Active, Expr::value(false))
            .filter(order_bill::Column::OrderId.eq(o.id))
            .exec(&txn)
            .await?;
        tracing::info!(order = %o.out_trade_no, to = to.as_str(), "order ended unpaid");
    }
    txn.commit().await?;
    Ok(())
}

/// The payer cancels an open order (the bills are free again at once).
pub async fn cancel(state: &State, payer: &CurrentUser, no: &str) -> AppResult<OrderStatus> {
    let o = order_by_no(&state.db, no).await?;
    if o.user_id != payer.id {
        return Err(ErrorCode::NotFound.into());
    }
    if !status_of(&o).is_open() {
        return Err(ErrorCode::OrderNotPayable.into());
    }
    close_now(state, &o).await
}

pub async fn check_job(state: &State, j: CheckJob) -> anyhow::Result<()> {
    match settle(state, &j.out_trade_no).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn can_see(viewer: &CurrentUser, o: &payment_order::Model, community: &org_unit::Model) -> bool {
    if o.user_id == viewer.id {
        return true;
    }
    OrgPath::parse(&community.path).is_some_and(|p| viewer.can_manage(&p))
}

async fn view_of(state: &State, o: &payment_order::Model) -> AppResult<OrderView> {
    Ok(views_of(state, std::slice::from_ref(o)).await?.pop().ok_or(ErrorCode::NotFound)?)
}

/// Orders as pages show them (the payer's phone masked), with their lines,
/// bills, payers and communities loaded once for the whole list.
async fn views_of(state: &State, orders: &[payment_order::Model]) -> AppResult<Vec<OrderView>> {
    use std::collections::HashMap;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut lines: HashMap<i64, Vec<order_bill::Model>> = HashMap::new();
    for ids in ids.chunks(500) {
        for l in order_bill::Entity::find()
            .filter(order_bill::Column::OrderId.is_in(ids.to_vec()))
            .order_by_asc(order_bill::Column::BillId)
            .all(&state.db)
            .await?
        {
            lines.entry(l.order_id).or_default().push(l);
        }
    }
    let mut bills: HashMap<i64, bill::Model> = HashMap::new();
    let bill_ids: Vec<i64> = lines.values().flatten().map(|l| l.bill_id).collect();
    for ids in bill_ids.chunks(500) {
        for b in bill::Entity::find().filter(bill::Column::Id.is_in(ids.to_vec())).all(&state.db).await? {
            bills.insert(b.id, b);
        }
    }
    let mut users: Vec<i64> = orders.iter().map(|o| o.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let phones: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(users))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.phone))
        .collect();
    let mut units: Vec<i64> = orders.iter().map(|o| o.org_unit_id).collect();
    units.sort_unstable();
    units.dedup();
    let communities: HashMap<i64, String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(units))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut addresses: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(orders.len());
    for o in orders {
        let mut view_lines = vec![];
        for l in lines.get(&o.id).map(Vec::as_slice).unwrap_or_default() {
            let b = bills.get(&l.bill_id);
            let address = match b {
                Some(b) => match addresses.get(&b.household_id) {
                    Some(a) => a.clone(),
                    None => {
                        let a = crate::bills::address(state, b.household_id).await?;
                        addresses.insert(b.household_id, a.clone());
                        a
                    }
                },
                None => String::new(),
            };
            view_lines.push(OrderLine {
                bill_id: l.bill_id,
                title: b.map(|b| b.title.clone()).unwrap_or_default(),
                address,
                amount: Fen(l.amount_fen),
                refunded: Fen(l.refunded_fen),
            });
        }
        out.push(OrderView {
            out_trade_no: o.out_trade_no.clone(),
            status: status_of(o),
            provider: o.provider.clone(),
            amount: Fen(o.amount_fen),
            refunded: Fen(o.refunded_fen),
            lines: view_lines,
            created_at: beijing_text(o.created_at),
            paid_at: o.paid_at.map(beijing_text),
            transaction_id: o.transaction_id.clone(),
            receipt_code: o.receipt_code.as_deref().map(format_receipt_code),
            community: communities.get(&o.org_unit_id).cloned().unwrap_or_default(),
            payer: domain::phone::mask_phone(phones.get(&o.user_id).map(String::as_str).unwrap_or_default()),
        });
    }
    Ok(out)
}

/// Seconds between the active queries a viewer's page may cause.
const VIEW_QUERY_EVERY: i64 = 5;

/// One order, for its payer or for staff of its community. A payer looking
/// at an order still confirming makes us ask the provider (at most every
/// few seconds), so a late notification does not keep them waiting.
pub async fn order(state: &State, viewer: &CurrentUser, no: &str) -> AppResult<OrderView> {
    let mut o = order_by_no(&state.db, no).await?;
    let community = org_unit::Entity::find_by_id(o.org_unit_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !can_see(viewer, &o, &community) {
        return Err(ErrorCode::NotFound.into());
    }
    let now = Utc::now();
    let due = o.queried_at.is_none_or(|t| t < now - Duration::seconds(VIEW_QUERY_EVERY));
    if o.user_id == viewer.id && status_of(&o) == OrderStatus::Paying && due {
        if let Err(e) = settle(state, no).await {
            tracing::warn!(order = %no, error = %e, "order query failed; the page shows it still confirming");
        }
        o = order_by_no(&state.db, no).await?;
    }
    view_of(state, &o).await
}

/// Where the payer continues paying an order that is being paid.
pub async fn pay_url(state: &State, payer: &CurrentUser, no: &str) -> AppResult<Option<String>> {
    let o = order_by_no(&state.db, no).await?;
    Ok((o.user_id == payer.id && status_of(&o) == OrderStatus::Paying).then_some(o.pay_url).flatten())
}

/// The payer's orders, newest first.
pub async fn mine(state: &State, payer: &CurrentUser, limit: u64) -> AppResult<Vec<OrderView>> {
    let rows = payment_order::Entity::find()
        .filter(payment_order::Column::UserId.eq(payer.id))
        .order_by_desc(payment_order::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    views_of(state, &rows).await
}

/// The payer's open order holding a bill, if any (the bills page links it).
pub async fn open_order_of_bill(state: &State, payer: &CurrentUser, bill_id: i64) -> AppResult<Option<String>> {
    Ok(holder_of(&state.db, bill_id)
        .await?
        .filter(|o| o.user_id == payer.id && status_of(o).is_open())
        .map(|o| o.out_trade_no))
}

/// Orders of the staff member's communities, newest first (settled ones:
/// paid, refunded, and money that could not be matched).
pub async fn staff_orders(state: &State, staff: &CurrentUser, limit: u64) -> AppResult<Vec<OrderView>> {
    let communities: Vec<i64> =
        crate::appointments::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = payment_order::Entity::find()
        .filter(payment_order::Column::OrgUnitId.is_in(communities))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Paid.as_str(), OrderStatus::Refunded.as_str()]))
        .order_by_desc(payment_order::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    views_of(state, &rows).await
}

pub async fn unmatched(state: &State, staff: &CurrentUser) -> AppResult<Vec<Unmatched>> {
    let communities: Vec<i64> =
        crate::appointments::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = payment_notification::Entity::find()
        .filter(payment_notification::Column::Outcome.eq("unmatched"))
        .order_by_desc(payment_notification::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut out = vec![];
    for n in rows {
        let Ok(o) = order_by_no(&state.db, &n.out_trade_no).await else { continue };
        if communities.contains(&o.org_unit_id) {
            out.push(Unmatched {
                out_trade_no: n.out_trade_no,
                transaction_id: n.transaction_id,
                amount: Fen(n.amount_fen),
                detail: n.detail.unwrap_or_default(),
                received_at: beijing_text(n.received_at),
            });
        }
    }
    Ok(out)
}

/// Refunds part or all of one bill of a paid order (staff of its community).
pub async fn refund(
    state: &State,
    staff: &CurrentUser,
    no: &str,
    bill_id: i64,
    amount: Fen,
    reason: &str,
) -> AppResult<()> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ErrorCode::ReasonRequired.into());
    }
    if amount.0 <= 0 {
        return Err(ErrorCode::InvalidAmount.into());
    }
    let o = order_by_no(&state.db, no).await?;
    let community = org_unit::Entity::find_by_id(o.org_unit_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !staff.is_staff() || !OrgPath::parse(&community.path).is_some_and(|p| staff.can_manage(&p)) {
        return Err(ErrorCode::Forbidden.into());
    }
    if !matches!(status_of(&o), OrderStatus::Paid | OrderStatus::Refunded) {
        return Err(ErrorCode::OrderNotPayable.into());
    }
    let line = order_bill::Entity::find()
        .filter(order_bill::Column::OrderId.eq(o.id))
        .filter(order_bill::Column::BillId.eq(bill_id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let now = Utc::now();
    let out_refund_no = new_trade_no("RF");
    let txn = state.db.begin().await?;
    // reserve: each bound is checked by the update's guard (and the CHECKs)
    let reserved = order_bill::Entity::update_many()
        .col_expr(order_bill::Column::RefundedFen, Expr::col(order_bill::Column::RefundedFen).add(amount.0))
        .filter(order_bill::Column::Id.eq(line.id))
        .filter(Expr::col(order_bill::Column::RefundedFen).add(amount.0).lte(Expr::col(order_bill::Column::AmountFen)))
        .exec(&txn)
        .await?;
    if reserved.rows_affected != 1 {
        return Err(ErrorCode::RefundTooLarge.into());
    }
    let on_order = payment_order::Entity::update_many()
        .col_expr(payment_order::Column::RefundedFen, Expr::col(payment_order::Column::RefundedFen).add(amount.0))
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Refunded.as_str()))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(
            Expr::col(payment_order::Column::RefundedFen)
                .add(amount.0)
                .lte(Expr::col(payment_order::Column::AmountFen)),
        )
        .exec(&txn)
        .await?;
    let on_bill = bill::Entity::update_many()
        .col_expr(bill::Column::RefundedFen, Expr::col(bill::Column::RefundedFen).add(amount.0))
        .col_expr(bill::Column::UpdatedAt, Expr::value(now))
        .filter(bill::Column::Id.eq(bill_id))
        .filter(Expr::col(bill::Column::RefundedFen).add(amount.0).lte(Expr::col(bill::Column::PaidFen)))
        .exec(&txn)
        .await?;
    if on_order.rows_affected != 1 || on_bill.rows_affected != 1 {
        return Err(ErrorCode::RefundTooLarge.into());
    }
    // fully refunded bills say so
    bill::Entity::update_many()
        .col_expr(bill::Column::Status, Expr::value(BillStatus::Refunded.as_str()))
        .filter(bill::Column::Id.eq(bill_id))
        .filter(Expr::col(bill::Column::RefundedFen).eq(Expr::col(bill::Column::PaidFen)))
        .exec(&txn)
        .await?;
    let r = refund::Entity::insert(refund::ActiveModel {
        out_refund_no: Set(out_refund_no.clone()),
        order_id: Set(o.id),
        line_id: Set(line.id),
        amount_fen: Set(amount.0),
        reason: Set(reason.into()),
        status: Set("processing".into()),
        refund_id: Set(None),
        created_by: Set(staff.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    txn.commit().await?;
    let asked = state
        .payments
        .refund(
            state,
            &RefundRequest {
                out_trade_no: o.out_trade_no.clone(),
                out_refund_no,
                amount,
                total: Fen(o.amount_fen),
                reason: reason.into(),
            },
        )
        .await;
    match asked {
        Ok(a) => {
            refund::Entity::update_many()
                .col_expr(refund::Column::RefundId, Expr::value(a.refund_id))
                .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(refund::Column::Id.eq(r))
                .exec(&state.db)
                .await?;
            if a.done {
                refund_settled(state, r, RefundState::Success).await?;
            } else {
                jobs::enqueue(&state.db, refund_check_at(r, 1)).await?;
            }
            tracing::info!(order = %o.out_trade_no, refund = r, amount = amount.0, done = a.done, "refund accepted");
            Ok(())
        }
        Err(e) => {
            give_back(state, r, &o, &line, amount).await?;
            tracing::warn!(order = %o.out_trade_no, error = %e, "refund refused by the provider; reservation given back");
            Err(ErrorCode::PaymentUnavailable.into())
        }
    }
}

async fn give_back(
    state: &State,
    refund_row: i64,
    o: &payment_order::Model,
    line: &order_bill::Model,
    amount: Fen,
) -> AppResult<()> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let moved = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value("failed"))
        .col_expr(refund::Column::UpdatedAt, Expr::value(now))
        .filter(refund::Column::Id.eq(refund_row))
        .filter(refund::Column::Status.eq("processing"))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(()); // settled before
    }
    order_bill::Entity::update_many()
        .col_expr(order_bill::Column::RefundedFen, Expr::col(order_bill::Column::RefundedFen).sub(amount.0))
        .filter(order_bill::Column::Id.eq(line.id))
        .exec(&txn)
        .await?;
    payment_order::Entity::update_many()
        .col_expr(payment_order::Column::RefundedFen, Expr::col(payment_order::Column::RefundedFen).sub(amount.0))
        .filter(payment_order::Column::Id.eq(o.id))
        .exec(&txn)
        .await?;
    payment_order::Entity::update_many()
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paid.as_str()))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::RefundedFen.eq(0))
        .exec(&txn)
        .await?;
    bill::Entity::update_many()
        .col_expr(bill::Column::RefundedFen, Expr::col(bill::Column::RefundedFen).sub(amount.0))
        .col_expr(bill::Column::Status, Expr::value(BillStatus::Paid.as_str()))
        .filter(bill::Column::Id.eq(line.bill_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

fn refund_check_at(refund_row: i64, attempt: u32) -> NewJob {
    let wait = Duration::seconds(60 * i64::from(attempt.clamp(1, 60)));
    NewJob::new(
        JobKind::RefundCheck,
        format!("refund.check:{refund_row}:{attempt}"),
        RefundCheckJob { refund: refund_row, attempt },
    )
    .at(Utc::now() + wait)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefundCheckJob {
    pub refund: i64,
    pub attempt: u32,
}

/// Settles a processing refund by what the provider says: done (the payer
/// is told), or failed (the reservation is given back).
async fn refund_settled(state: &State, refund_row: i64, outcome: RefundState) -> AppResult<()> {
    let Some(r) = refund::Entity::find_by_id(refund_row).one(&state.db).await? else { return Ok(()) };
    let o = payment_order::Entity::find_by_id(r.order_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    match outcome {
        RefundState::Processing => Ok(()),
        RefundState::Failed => {
            let line = order_bill::Entity::find_by_id(r.line_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
            tracing::warn!(order = %o.out_trade_no, refund = r.id, "refund failed at the provider; reservation given back");
            give_back(state, r.id, &o, &line, Fen(r.amount_fen)).await
        }
        RefundState::Success => {
            let txn = state.db.begin().await?;
            let moved = refund::Entity::update_many()
                .col_expr(refund::Column::Status, Expr::value("success"))
                .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(refund::Column::Id.eq(r.id))
                .filter(refund::Column::Status.eq("processing"))
                .exec(&txn)
                .await?;
            if moved.rows_affected == 1 {
                notify::put(
                    &txn,
                    o.user_id,
                    Draft {
                        kind: NotificationKind::Payment,
                        title: domain::msg::Msg::new("payment.refund.title").with("amount", Fen(r.amount_fen)).encode(),
                        body: domain::msg::Msg::new("payment.refund.body")
                            .with("order", &o.out_trade_no)
                            .with("amount", Fen(r.amount_fen))
                            .with("why", &r.reason)
                            .encode(),
                        link: format!("/pay/orders/{}", o.out_trade_no),
                        key: format!("refund:{}", r.id),
                    },
                )
                .await?;
            }
            txn.commit().await?;
            state.jobs.kick();
            Ok(())
        }
    }
}

/// Asks the provider where a processing refund stands and settles it.
pub async fn check_refund(state: &State, refund_row: i64) -> AppResult<RefundState> {
    let Some(r) = refund::Entity::find_by_id(refund_row).one(&state.db).await? else {
        return Err(ErrorCode::NotFound.into());
    };
    if r.status != "processing" {
        return Ok(if r.status == "success" { RefundState::Success } else { RefundState::Failed });
    }
    let now = state.payments.refund_status(state, &r.out_refund_no).await?;
    refund_settled(state, r.id, now).await?;
    Ok(now)
}

pub async fn refund_check_job(state: &State, j: RefundCheckJob) -> anyhow::Result<()> {
    match check_refund(state, j.refund).await {
        Ok(RefundState::Processing) if j.attempt < 20 => {
            jobs::enqueue(&state.db, refund_check_at(j.refund, j.attempt + 1))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// The public check of a printed receipt: genuine or not, and for how much.
pub async fn check_receipt(state: &State, typed: &str) -> AppResult<ReceiptCheck> {
    let code = domain::payment::normalize_receipt_code(typed).ok_or(ErrorCode::NotFound)?;
    let o = payment_order::Entity::find()
        .filter(payment_order::Column::ReceiptCode.eq(code.as_str()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let v = view_of(state, &o).await?;
    Ok(ReceiptCheck {
        receipt_code: format_receipt_code(&code),
        community: v.community,
        amount: v.amount,
        refunded: v.refunded,
        paid_at: v.paid_at.unwrap_or_default(),
        items: v.lines.into_iter().map(|l| l.title).collect(),
    })
}

/// Rows for the staff export (CSV): one per bill of each settled order.
pub async fn export_rows(state: &State, staff: &CurrentUser) -> AppResult<Vec<Vec<String>>> {
    let mut rows = vec![vec![
        "订单号".to_string(),
        "支付时间".into(),
        "社区".into(),
        "地址".into(),
        "账单".into(),
        "金额(元)".into(),
        "已退(元)".into(),
        "状态".into(),
        "交易号".into(),
        "收据编号".into(),
    ]];
    for o in staff_orders(state, staff, 10_000).await? {
        for l in &o.lines {
            rows.push(vec![
                o.out_trade_no.clone(),
                o.paid_at.clone().unwrap_or_default(),
                o.community.clone(),
                l.address.clone(),
                l.title.clone(),
                l.amount.yuan(),
                l.refunded.yuan(),
                o.status.label(false).into(),
                o.transaction_id.clone().unwrap_or_default(),
                o.receipt_code.clone().unwrap_or_default(),
            ]);
        }
    }
    Ok(rows)
}
