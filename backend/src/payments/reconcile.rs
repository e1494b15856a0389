//! Daily reconciliation (rules.md §3): the provider's trade bill for a day
//! (Beijing) against our orders paid that day. Every difference is reported
//! for staff; an order the provider has as paid but we still have open is
//! settled by a query at once. The job runs every morning at 10:00 Beijing
//! (WeChat Pay publishes a day's bill after 9:00) for the day before.

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use domain::{
    money::Fen,
    payments::{Mismatch, OrderStatus, ReconStatus, Reconciliation},
    time::{beijing_at, beijing_date},
};
use sea_orm::{sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::{
    entities::{payment_order, reconciliation},
    error::AppResult,
    jobs::{self, NewJob},
    State,
};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReconcileJob {
    /// The Beijing day to reconcile ("2026-11-22"); yesterday when absent.
    #[serde(default)]
    pub date: Option<String>,
}

/// Yesterday in Beijing, "2026-11-22".
pub fn yesterday() -> String {
    (beijing_date(Utc::now()) - Duration::days(1)).to_string()
}

/// `reconcile` for a typed date ("2026-11-22"), not in the future.
pub async fn reconcile_typed(state: &State, date: &str) -> AppResult<Reconciliation> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| domain::ErrorCode::InvalidTime)?;
    if day > beijing_date(Utc::now()) {
        return Err(domain::ErrorCode::InvalidTime.into());
    }
    reconcile(state, day).await
}

/// Reconciles one day and keeps the result (a second run replaces it).
pub async fn reconcile(state: &State, date: NaiveDate) -> AppResult<Reconciliation> {
    let provider = state.payments.name();
    let theirs = state.payments.trade_bill(state, date).await?;
    let from = beijing_at(date, NaiveTime::MIN);
    let ours = payment_order::Entity::find()
        .filter(payment_order::Column::Provider.eq(provider))
        .filter(payment_order::Column::PaidAt.gte(from))
        .filter(payment_order::Column::PaidAt.lt(from + Duration::days(1)))
        .all(&state.db)
        .await?;
    let paid_here: HashMap<&str, &payment_order::Model> = ours.iter().map(|o| (o.out_trade_no.as_str(), o)).collect();
    let mut mismatches = vec![];
    let success: Vec<_> = theirs.iter().filter(|r| r.state == "SUCCESS").collect();
    for r in &success {
        if let Some(o) = paid_here.get(r.out_trade_no.as_str()) {
            if o.amount_fen != r.amount || o.transaction_id.as_deref() != Some(r.transaction_id.as_str()) {
                mismatches.push(Mismatch {
                    out_trade_no: r.out_trade_no.clone(),
                    transaction_id: r.transaction_id.clone(),
                    problem: "金额或交易号与支付平台不一致".into(),
                    ours: Some(Fen(o.amount_fen)),
                    theirs: Some(Fen(r.amount)),
                });
            }
            continue;
        }
        // not paid here that day: settled on another day, still open, or unknown
        let found = payment_order::Entity::find()
            .filter(payment_order::Column::OutTradeNo.eq(r.out_trade_no.as_str()))
            .one(&state.db)
            .await?;
        let problem = match found {
            None => "我方没有这笔订单".to_string(),
            Some(o) if o.transaction_id.as_deref() == Some(r.transaction_id.as_str()) => continue, // paid just across midnight
            Some(o) if o.status.is_open() => match super::settle(state, &o.out_trade_no).await {
                Ok(OrderStatus::Paid) => "支付平台已收款而我方未确认:已主动查询补记为已支付".into(),
                _ => "支付平台已收款而我方订单仍未支付,查询补记未成功".into(),
            },
            Some(o) => format!("支付平台已收款,我方订单状态为 {}", o.status),
        };
        mismatches.push(Mismatch {
            out_trade_no: r.out_trade_no.clone(),
            transaction_id: r.transaction_id.clone(),
            problem,
            ours: None,
            theirs: Some(Fen(r.amount)),
        });
    }
    for o in &ours {
        if !success.iter().any(|r| r.out_trade_no == o.out_trade_no) {
            mismatches.push(Mismatch {
                out_trade_no: o.out_trade_no.clone(),
                transaction_id: o.transaction_id.clone().unwrap_or_default(),
                problem: "我方记为已支付,支付平台账单中没有".into(),
                ours: Some(Fen(o.amount_fen)),
                theirs: None,
            });
        }
    }
    let report = Reconciliation {
        date: date.format("%Y-%m-%d").to_string(),
        provider: provider.into(),
        status: if mismatches.is_empty() { ReconStatus::Ok } else { ReconStatus::Mismatch },
        provider_count: success.len() as i64,
        provider_total: Fen(success.iter().map(|r| r.amount).sum()),
        our_count: ours.len() as i64,
        our_total: Fen(ours.iter().map(|o| o.amount_fen).sum()),
        mismatches,
        at: domain::time::beijing_time(Utc::now()),
    };
    save(&state.db, &report).await?;
    if report.status == ReconStatus::Ok {
        tracing::info!(date = %report.date, count = report.our_count, "reconciled: all match");
    } else {
        tracing::warn!(date = %report.date, mismatches = report.mismatches.len(), "reconciliation found differences");
    }
    Ok(report)
}

async fn save<C: ConnectionTrait>(db: &C, r: &Reconciliation) -> AppResult<()> {
    let mismatches = serde_json::to_string(&r.mismatches).unwrap_or_else(|_| "[]".into());
    let now = Utc::now();
    let inserted = reconciliation::Entity::insert(reconciliation::ActiveModel {
        provider: Set(r.provider.clone()),
        bill_date: Set(r.date.clone()),
        status: Set(r.status),
        provider_count: Set(r.provider_count),
        provider_total_fen: Set(r.provider_total.0),
        our_count: Set(r.our_count),
        our_total_fen: Set(r.our_total.0),
        mismatches: Set(mismatches.clone()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([reconciliation::Column::Provider, reconciliation::Column::BillDate])
    .exec_without_returning(db)
    .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        reconciliation::Entity::update_many()
            .col_expr(reconciliation::Column::Status, Expr::value(r.status))
            .col_expr(reconciliation::Column::ProviderCount, Expr::value(r.provider_count))
            .col_expr(reconciliation::Column::ProviderTotalFen, Expr::value(r.provider_total.0))
            .col_expr(reconciliation::Column::OurCount, Expr::value(r.our_count))
            .col_expr(reconciliation::Column::OurTotalFen, Expr::value(r.our_total.0))
            .col_expr(reconciliation::Column::Mismatches, Expr::value(mismatches))
            .col_expr(reconciliation::Column::CreatedAt, Expr::value(now))
            .filter(reconciliation::Column::Provider.eq(r.provider.as_str()))
            .filter(reconciliation::Column::BillDate.eq(r.date.as_str()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The latest reconciliations, newest day first.
pub async fn recent(state: &State, limit: u64) -> AppResult<Vec<Reconciliation>> {
    let rows = reconciliation::Entity::find()
        .order_by_desc(reconciliation::Column::BillDate)
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Reconciliation {
            date: r.bill_date,
            provider: r.provider,
            status: r.status,
            provider_count: r.provider_count,
            provider_total: Fen(r.provider_total_fen),
            our_count: r.our_count,
            our_total: Fen(r.our_total_fen),
            mismatches: serde_json::from_str(&r.mismatches).unwrap_or_default(),
            at: domain::time::beijing_time(r.created_at),
        })
        .collect())
}

/// Tomorrow's 10:00 (Beijing) run, once.
pub async fn schedule<C: ConnectionTrait>(conn: &C) -> AppResult<bool> {
    let tomorrow = beijing_date(Utc::now()) + Duration::days(1);
    let at = beijing_at(tomorrow, NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN));
    jobs::enqueue(
        conn,
        NewJob::new(super::RECONCILE, format!("reconcile:{tomorrow}"), ReconcileJob { date: None }).at(at),
    )
    .await
}

pub async fn job(state: &State, j: ReconcileJob) -> anyhow::Result<()> {
    let date = match j.date.as_deref() {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")?,
        None => beijing_date(Utc::now()) - Duration::days(1),
    };
    let outcome = reconcile(state, date).await;
    schedule(&state.db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    outcome.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))
}
