//! Refunds: staff refund part or all of a paid order (never more than was
//! paid, each bill's share given back), the provider is asked, and a job
//! checks until it says the money has gone back.

use super::*;

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
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Refunded))
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
        .col_expr(bill::Column::Status, Expr::value(BillStatus::Refunded))
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
        status: Set(RefundState::Processing),
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

pub(super) async fn give_back(
    state: &State,
    refund_row: i64,
    o: &payment_order::Model,
    line: &order_bill::Model,
    amount: Fen,
) -> AppResult<()> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let moved = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(domain::payments::RefundState::Failed))
        .col_expr(refund::Column::UpdatedAt, Expr::value(now))
        .filter(refund::Column::Id.eq(refund_row))
        .filter(refund::Column::Status.eq(domain::payments::RefundState::Processing))
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
        .col_expr(payment_order::Column::Status, Expr::value(OrderStatus::Paid))
        .filter(payment_order::Column::Id.eq(o.id))
        .filter(payment_order::Column::RefundedFen.eq(0))
        .exec(&txn)
        .await?;
    bill::Entity::update_many()
        .col_expr(bill::Column::RefundedFen, Expr::col(bill::Column::RefundedFen).sub(amount.0))
        .col_expr(bill::Column::Status, Expr::value(BillStatus::Paid))
        .filter(bill::Column::Id.eq(line.bill_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

pub(super) fn refund_check_at(refund_row: i64, attempt: u32) -> NewJob {
    let wait = Duration::seconds(60 * i64::from(attempt.clamp(1, 60)));
    NewJob::new(
        REFUND_CHECK,
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
pub(super) async fn refund_settled(state: &State, refund_row: i64, outcome: RefundState) -> AppResult<()> {
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
                .col_expr(refund::Column::Status, Expr::value(domain::payments::RefundState::Success))
                .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(refund::Column::Id.eq(r.id))
                .filter(refund::Column::Status.eq(domain::payments::RefundState::Processing))
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
    if r.status != RefundState::Processing {
        return Ok(r.status);
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
