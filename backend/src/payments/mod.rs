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

mod refunds;
mod views;
pub use refunds::*;
pub use views::*;
pub mod reconcile;
pub mod sandbox;
pub mod wechatpay;

use crate::support::codes::new_receipt_code;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::time::beijing_time;
use domain::{
    bills::BillStatus,
    money::Fen,
    notify::NotificationKind,
    payments::{format_receipt_code, OrderLine, OrderStatus, OrderView, ReceiptCheck, TradeState, Unmatched},
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

/// Where a refund stands at the provider (also the column `refunds.status`).
pub use domain::payments::RefundState;

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

/// `ZH` + Beijing date and time + 8 random digits: unique, ≤ 32 characters,
/// only letters and digits (what WeChat Pay accepts).
fn new_trade_no(prefix: &str) -> String {
    let mut r = rand::thread_rng();
    let now = Utc::now().with_timezone(&domain::time::beijing());
    format!("{prefix}{}{:08}", now.format("%Y%m%d%H%M%S"), r.gen_range(0..100_000_000u32))
}

fn status_of(o: &payment_order::Model) -> OrderStatus {
    o.status
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
    if bills.iter().any(|b| b.status != BillStatus::Unpaid) {
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
    // first a write on each bill, one statement per bill in id order:
    // concurrent orders for overlapping bills queue here on PostgreSQL
    // without deadlocking (one `UPDATE … WHERE id IN (…)` locks rows in
    // whatever order its scan meets them), and a bill paid meanwhile is noticed
    for id in &ids {
        let touched = bill::Entity::update_many()
            .col_expr(bill::Column::UpdatedAt, Expr::value(now))
            .filter(bill::Column::Id.eq(*id))
            .filter(bill::Column::Status.eq("unpaid"))
            .exec(&txn)
            .await?;
        if touched.rows_affected != 1 {
            return Err(ErrorCode::BillNotPayable.into());
        }
    }
    let order = payment_order::Entity::insert(payment_order::ActiveModel {
        out_trade_no: Set(no.clone()),
        user_id: Set(payer.id),
        org_unit_id: Set(community),
        provider: Set(state.payments.name().into()),
        amount_fen: Set(amount),
        refunded_fen: Set(0),
        status: Set(OrderStatus::Created),
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
    NewJob::new(CHECK, format!("payment.check:{no}:{attempt}"), CheckJob { out_trade_no: no.into(), attempt }).at(at)
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
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paying))
        .col_expr(payment_order::Column::PayUrl, Expr::value(url.clone()))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::Status.eq(OrderStatus::Created))
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
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paid))
        .col_expr(payment_order::Column::TransactionId, Expr::value(transaction_id.clone()))
        .col_expr(payment_order::Column::ReceiptCode, Expr::value(receipt.clone()))
        .col_expr(payment_order::Column::PaidAt, Expr::value(now))
        .col_expr(payment_order::Column::UpdatedAt, Expr::value(now))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Created, OrderStatus::Paying]))
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
            .col_expr(bill::Column::Status, Expr::value(BillStatus::Paid))
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
        .filter(payment_order::Column::Status.is_in([OrderStatus::Created, OrderStatus::Paying]))
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

/// The public check of a printed receipt: genuine or not, and for how much.
pub async fn check_receipt(state: &State, typed: &str) -> AppResult<ReceiptCheck> {
    let code = domain::payments::normalize_receipt_code(typed).ok_or(ErrorCode::NotFound)?;
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

// ------------------------------------------------------------------ jobs

pub const CHECK: JobKind = JobKind("payment.check");
pub const SANDBOX_NOTIFY: JobKind = JobKind("payment.sandbox_notify");
pub const RECONCILE: JobKind = JobKind("payment.reconcile");
pub const REFUND_CHECK: JobKind = JobKind("payment.refund_check");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(CHECK, |s: State, j| async move { check_job(&s, j).await });
    h.add(SANDBOX_NOTIFY, |s: State, j| async move { sandbox::notify_job(&s, j).await });
    h.add(RECONCILE, |s: State, j| async move { reconcile::job(&s, j).await });
    h.add(REFUND_CHECK, |s: State, j| async move { refund_check_job(&s, j).await });
}
