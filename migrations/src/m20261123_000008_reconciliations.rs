//! Daily reconciliation of our payments with the provider's trade bill:
//! one row per provider and day, with what did not match.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Reconciliations::Table)
                .col(big_pk_auto(Reconciliations::Id))
                .col(string_len(Reconciliations::Provider, 16))
                .col(string_len(Reconciliations::BillDate, 10))
                .col(string_len(Reconciliations::Status, 16))
                .col(big_integer(Reconciliations::ProviderCount))
                .col(big_integer(Reconciliations::ProviderTotalFen))
                .col(big_integer(Reconciliations::OurCount))
                .col(big_integer(Reconciliations::OurTotalFen))
                .col(text(Reconciliations::Mismatches))
                .col(timestamp_with_time_zone(Reconciliations::CreatedAt))
                .check(Expr::col(Reconciliations::Status).is_in(["ok", "mismatch", "failed"]))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX uq_reconciliations_day ON reconciliations (provider, bill_date)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Reconciliations::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Reconciliations {
    Table,
    Id,
    Provider,
    BillDate,
    Status,
    ProviderCount,
    ProviderTotalFen,
    OurCount,
    OurTotalFen,
    Mismatches,
    CreatedAt,
}
