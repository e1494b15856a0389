//! Payments (rules.md §3): orders that pay one or more bills, the bills
//! locked to an open order, the provider's notifications applied at most once
//! per transaction, refunds, and the sandbox provider's own book of trades.
//!
//! - An order's bills are rows of `order_bills`; a bill belongs to at most
//!   one *active* line (partial unique index), so two orders can never hold
//!   the same bill at once, and a bill is paid at most once.
//! - `payment_notifications` is unique per provider and transaction id: a
//!   notification applies once, however often it is delivered.
//! - Refunded amounts are bounded by the database on orders, lines and bills.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn refund_bounds(refunded: impl IntoIden + Copy, amount: impl IntoIden + Copy) -> SimpleExpr {
    Expr::col(refunded).gte(0).and(Expr::col(refunded).lte(Expr::col(amount)))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(big_pk_auto(Orders::Id))
                .col(string_len_uniq(Orders::OutTradeNo, 32))
                .col(big_integer(Orders::UserId))
                .col(big_integer(Orders::OrgUnitId))
                .col(string_len(Orders::Provider, 16))
                .col(big_integer(Orders::AmountFen))
                .col(big_integer(Orders::RefundedFen).default(0))
                .col(string_len(Orders::Status, 16))
                .col(string_len_null(Orders::TransactionId, 64))
                .col(string_len_null(Orders::ReceiptCode, 16))
                // where the payer continues paying (provider page, H5 link)
                .col(text_null(Orders::PayUrl))
                .col(timestamp_with_time_zone(Orders::ExpiresAt))
                .col(timestamp_with_time_zone_null(Orders::PaidAt))
                .col(timestamp_with_time_zone_null(Orders::ClosedAt))
                .col(timestamp_with_time_zone_null(Orders::QueriedAt))
                .col(timestamp_with_time_zone(Orders::CreatedAt))
                .col(timestamp_with_time_zone(Orders::UpdatedAt))
                .foreign_key(&mut fk((Orders::Table, Orders::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((Orders::Table, Orders::OrgUnitId), (OrgUnits::Table, OrgUnits::Id)))
                .check(Expr::col(Orders::AmountFen).gt(0))
                .check(refund_bounds(Orders::RefundedFen, Orders::AmountFen))
                .check(Expr::col(Orders::Status).is_in(["created", "paying", "paid", "closed", "failed", "refunded"]))
                .check(Expr::col(Orders::Provider).is_in(["sandbox", "wechatpay"]))
                .to_owned(),
        )
        .await?;
        let c = m.get_connection();
        c.execute_unprepared("CREATE UNIQUE INDEX uq_orders_transaction ON payment_orders (provider, transaction_id)")
            .await?;
        c.execute_unprepared("CREATE UNIQUE INDEX uq_orders_receipt ON payment_orders (receipt_code)").await?;
        c.execute_unprepared("CREATE INDEX ix_orders_user ON payment_orders (user_id, id)").await?;
        c.execute_unprepared("CREATE INDEX ix_orders_open ON payment_orders (status, expires_at)").await?;

        m.create_table(
            Table::create()
                .table(Lines::Table)
                .col(big_pk_auto(Lines::Id))
                .col(big_integer(Lines::OrderId))
                .col(big_integer(Lines::BillId))
                .col(big_integer(Lines::AmountFen))
                .col(big_integer(Lines::RefundedFen).default(0))
                // holds its bill: while the order is open or paid
                .col(boolean(Lines::Active))
                .foreign_key(&mut fk((Lines::Table, Lines::OrderId), (Orders::Table, Orders::Id)))
                .foreign_key(&mut fk((Lines::Table, Lines::BillId), (Bills::Table, Bills::Id)))
                .check(Expr::col(Lines::AmountFen).gt(0))
                .check(refund_bounds(Lines::RefundedFen, Lines::AmountFen))
                .to_owned(),
        )
        .await?;
        let c = m.get_connection();
        // the lock: one active order line per bill
        c.execute_unprepared("CREATE UNIQUE INDEX uq_order_bills_active ON order_bills (bill_id) WHERE active = TRUE")
            .await?;
        c.execute_unprepared("CREATE INDEX ix_order_bills_order ON order_bills (order_id)").await?;

        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(big_pk_auto(Notifications::Id))
                .col(string_len(Notifications::Provider, 16))
                .col(string_len(Notifications::TransactionId, 64))
                .col(string_len(Notifications::NotifyId, 64))
                .col(string_len(Notifications::OutTradeNo, 32))
                .col(string_len(Notifications::TradeState, 16))
                .col(big_integer(Notifications::AmountFen))
                .col(string_len(Notifications::Outcome, 16))
                .col(string_len_null(Notifications::Detail, 200))
                .col(timestamp_with_time_zone(Notifications::ReceivedAt))
                .check(Expr::col(Notifications::Outcome).is_in(["applied", "unmatched"]))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_payment_notifications_tx ON payment_notifications (provider, transaction_id)",
            )
            .await?;

        m.create_table(
            Table::create()
                .table(Refunds::Table)
                .col(big_pk_auto(Refunds::Id))
                .col(string_len_uniq(Refunds::OutRefundNo, 32))
                .col(big_integer(Refunds::OrderId))
                .col(big_integer(Refunds::LineId))
                .col(big_integer(Refunds::AmountFen))
                .col(string_len(Refunds::Reason, 200))
                .col(string_len(Refunds::Status, 16))
                .col(string_len_null(Refunds::RefundId, 64))
                .col(big_integer(Refunds::CreatedBy))
                .col(timestamp_with_time_zone(Refunds::CreatedAt))
                .col(timestamp_with_time_zone(Refunds::UpdatedAt))
                .foreign_key(&mut fk((Refunds::Table, Refunds::OrderId), (Orders::Table, Orders::Id)))
                .foreign_key(&mut fk((Refunds::Table, Refunds::LineId), (Lines::Table, Lines::Id)))
                .foreign_key(&mut fk((Refunds::Table, Refunds::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::col(Refunds::AmountFen).gt(0))
                .check(Expr::col(Refunds::Status).is_in(["processing", "success", "failed"]))
                .to_owned(),
        )
        .await?;

        // The sandbox provider's own book: what "the provider" knows about a
        // trade, apart from our orders, as WeChat Pay would keep it.
        m.create_table(
            Table::create()
                .table(Sandbox::Table)
                .col(big_pk_auto(Sandbox::Id))
                .col(string_len_uniq(Sandbox::OutTradeNo, 32))
                .col(string_len(Sandbox::Mchid, 32))
                .col(string_len(Sandbox::Appid, 32))
                .col(string_len(Sandbox::Description, 128))
                .col(big_integer(Sandbox::AmountFen))
                .col(big_integer(Sandbox::RefundedFen).default(0))
                .col(string_len(Sandbox::State, 16))
                .col(string_len_null(Sandbox::TransactionId, 64))
                .col(timestamp_with_time_zone_null(Sandbox::SuccessTime))
                .col(timestamp_with_time_zone(Sandbox::CreatedAt))
                .col(timestamp_with_time_zone(Sandbox::UpdatedAt))
                .check(refund_bounds(Sandbox::RefundedFen, Sandbox::AmountFen))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["sandbox_trades", "refunds", "payment_notifications", "order_bills", "payment_orders"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgUnits {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bills {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    #[sea_orm(iden = "payment_orders")]
    Table,
    Id,
    OutTradeNo,
    UserId,
    OrgUnitId,
    Provider,
    AmountFen,
    RefundedFen,
    Status,
    TransactionId,
    ReceiptCode,
    PayUrl,
    ExpiresAt,
    PaidAt,
    ClosedAt,
    QueriedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Lines {
    #[sea_orm(iden = "order_bills")]
    Table,
    Id,
    OrderId,
    BillId,
    AmountFen,
    RefundedFen,
    Active,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    #[sea_orm(iden = "payment_notifications")]
    Table,
    Id,
    Provider,
    TransactionId,
    NotifyId,
    OutTradeNo,
    TradeState,
    AmountFen,
    Outcome,
    Detail,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Refunds {
    Table,
    Id,
    OutRefundNo,
    OrderId,
    LineId,
    AmountFen,
    Reason,
    Status,
    RefundId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sandbox {
    #[sea_orm(iden = "sandbox_trades")]
    Table,
    Id,
    OutTradeNo,
    Mchid,
    Appid,
    Description,
    AmountFen,
    RefundedFen,
    State,
    TransactionId,
    SuccessTime,
    CreatedAt,
    UpdatedAt,
}
