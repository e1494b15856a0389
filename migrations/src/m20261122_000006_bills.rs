//! Bills (缴费): what each household owes, in integer fen (rules.md §3).
//! A bill is unique per household, kind and period, so generating a
//! period's property fees twice adds nothing. Paid and refunded amounts are
//! kept by the database within bounds (refunds never exceed what was paid).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Bills::Table)
                .col(big_pk_auto(Bills::Id))
                .col(big_integer(Bills::OrgUnitId))
                .col(big_integer(Bills::HouseholdId))
                .col(string_len(Bills::Kind, 16))
                .col(string_len(Bills::Period, 20))
                .col(string_len(Bills::Title, 60))
                .col(big_integer(Bills::AmountFen))
                .col(big_integer(Bills::PaidFen).default(0))
                .col(big_integer(Bills::RefundedFen).default(0))
                .col(string_len(Bills::Status, 16).default("unpaid"))
                // how the amount was reached, e.g. "89.50 m² × ¥1.85 × 12 个月"
                .col(string_len(Bills::Basis, 200))
                .col(big_integer(Bills::CreatedBy))
                .col(timestamp_with_time_zone(Bills::CreatedAt))
                .col(timestamp_with_time_zone(Bills::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Bills::Table, Bills::OrgUnitId)
                        .to(OrgUnits::Table, OrgUnits::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Bills::Table, Bills::HouseholdId)
                        .to(Households::Table, Households::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .check(Expr::col(Bills::AmountFen).gt(0))
                .check(Expr::col(Bills::PaidFen).gte(0).and(Expr::col(Bills::PaidFen).lte(Expr::col(Bills::AmountFen))))
                .check(
                    Expr::col(Bills::RefundedFen)
                        .gte(0)
                        .and(Expr::col(Bills::RefundedFen).lte(Expr::col(Bills::PaidFen))),
                )
                .check(Expr::col(Bills::Kind).is_in(["property", "water", "electricity", "gas", "parking", "other"]))
                .check(Expr::col(Bills::Status).is_in(["unpaid", "paid", "refunded", "void"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_bills_household_kind_period")
                .table(Bills::Table)
                .col(Bills::HouseholdId)
                .col(Bills::Kind)
                .col(Bills::Period)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_bills_org_status")
                .table(Bills::Table)
                .col(Bills::OrgUnitId)
                .col(Bills::Status)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Bills::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgUnits {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bills {
    Table,
    Id,
    OrgUnitId,
    HouseholdId,
    Kind,
    Period,
    Title,
    AmountFen,
    PaidFen,
    RefundedFen,
    Status,
    Basis,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
