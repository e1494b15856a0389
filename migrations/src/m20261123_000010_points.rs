//! Points and the points mall (rules.md §4). `points_entries` is the
//! append-only ledger (triggers refuse UPDATE and DELETE; a unique key per
//! entry makes a replayed award a no-op; one reversal per entry);
//! `points_accounts.balance` is its sum, kept by guarded updates with
//! `CHECK (balance >= 0)`. `mall_items.stock` has `CHECK (stock >= 0)`; a
//! redemption holds one unit of stock and its points together.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PointsAccounts::Table)
                .col(big_integer(PointsAccounts::UserId).primary_key())
                .col(big_integer(PointsAccounts::Balance).default(0))
                .col(timestamp_with_time_zone(PointsAccounts::UpdatedAt))
                .foreign_key(&mut fk((PointsAccounts::Table, PointsAccounts::UserId), (Users::Table, Users::Id)))
                .check(Expr::cust("balance >= 0"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PointsEntries::Table)
                .col(big_pk_auto(PointsEntries::Id))
                .col(big_integer(PointsEntries::UserId))
                .col(string_len(PointsEntries::Kind, 16))
                .col(big_integer(PointsEntries::Points))
                .col(string_len_uniq(PointsEntries::EntryKey, 160))
                .col(string_len(PointsEntries::Reason, 200))
                .col(big_integer_null(PointsEntries::CommunityId))
                .col(big_integer_null(PointsEntries::CreatedBy))
                .col(big_integer_null(PointsEntries::ReversesId))
                .col(timestamp_with_time_zone(PointsEntries::CreatedAt))
                .foreign_key(&mut fk((PointsEntries::Table, PointsEntries::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk(
                    (PointsEntries::Table, PointsEntries::CommunityId),
                    (OrgUnits::Table, OrgUnits::Id),
                ))
                .foreign_key(&mut fk((PointsEntries::Table, PointsEntries::CreatedBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk(
                    (PointsEntries::Table, PointsEntries::ReversesId),
                    (PointsEntries::Table, PointsEntries::Id),
                ))
                .check(Expr::col(PointsEntries::Kind).is_in([
                    "service",
                    "participation",
                    "adjustment",
                    "hold",
                    "release",
                    "reversal",
                ]))
                .check(Expr::cust(
                    "(kind IN ('service', 'participation', 'adjustment', 'release') AND points > 0) \
                     OR (kind = 'hold' AND points < 0) OR (kind = 'reversal' AND points <> 0)",
                ))
                .check(Expr::cust("(kind = 'reversal') = (reverses_id IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE INDEX ix_points_entries_user ON points_entries (user_id, id)").await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_points_entries_reverses ON points_entries (reverses_id) WHERE reverses_id IS NOT NULL",
        )
        .await?;
        crate::append_only(m, "points_entries", "the points ledger is append-only").await?;

        m.create_table(
            Table::create()
                .table(MallItems::Table)
                .col(big_pk_auto(MallItems::Id))
                .col(big_integer(MallItems::CommunityId))
                .col(string_len(MallItems::Name, 60))
                .col(text(MallItems::Description))
                .col(big_integer(MallItems::Cost))
                .col(big_integer(MallItems::Stock))
                .col(boolean(MallItems::Active).default(true))
                .col(big_integer(MallItems::CreatedBy))
                .col(timestamp_with_time_zone(MallItems::CreatedAt))
                .foreign_key(&mut fk((MallItems::Table, MallItems::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((MallItems::Table, MallItems::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::cust("cost > 0 AND stock >= 0"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Redemptions::Table)
                .col(big_pk_auto(Redemptions::Id))
                .col(big_integer(Redemptions::ItemId))
                .col(big_integer(Redemptions::UserId))
                .col(big_integer(Redemptions::Cost))
                .col(string_len_uniq(Redemptions::Code, 16))
                .col(string_len(Redemptions::Status, 16).default("pending"))
                .col(big_integer(Redemptions::HoldEntryId))
                .col(big_integer_null(Redemptions::ReleaseEntryId))
                .col(timestamp_with_time_zone(Redemptions::ExpiresAt))
                .col(big_integer_null(Redemptions::DecidedBy))
                .col(timestamp_with_time_zone_null(Redemptions::DecidedAt))
                .col(timestamp_with_time_zone(Redemptions::CreatedAt))
                .foreign_key(&mut fk((Redemptions::Table, Redemptions::ItemId), (MallItems::Table, MallItems::Id)))
                .foreign_key(&mut fk((Redemptions::Table, Redemptions::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk(
                    (Redemptions::Table, Redemptions::HoldEntryId),
                    (PointsEntries::Table, PointsEntries::Id),
                ))
                .foreign_key(&mut fk(
                    (Redemptions::Table, Redemptions::ReleaseEntryId),
                    (PointsEntries::Table, PointsEntries::Id),
                ))
                .check(Expr::col(Redemptions::Status).is_in(["pending", "picked_up", "expired", "cancelled"]))
                .check(Expr::cust("(status IN ('expired', 'cancelled')) = (release_entry_id IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_redemptions_user ON redemptions (user_id, id)").await?;
        conn.execute_unprepared("CREATE INDEX ix_redemptions_item_status ON redemptions (item_id, status)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Redemptions::Table.into_iden(),
            MallItems::Table.into_iden(),
            PointsEntries::Table.into_iden(),
            PointsAccounts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        crate::drop_append_only(m, "points_entries").await?;
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
enum PointsAccounts {
    Table,
    UserId,
    Balance,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PointsEntries {
    #[sea_orm(iden = "points_entries")]
    Table,
    Id,
    UserId,
    Kind,
    Points,
    EntryKey,
    Reason,
    CommunityId,
    CreatedBy,
    ReversesId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MallItems {
    Table,
    Id,
    CommunityId,
    Name,
    Description,
    Cost,
    Stock,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Redemptions {
    Table,
    Id,
    ItemId,
    UserId,
    Cost,
    Code,
    Status,
    HoldEntryId,
    ReleaseEntryId,
    ExpiresAt,
    DecidedBy,
    DecidedAt,
    CreatedAt,
}
