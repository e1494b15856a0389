//! API keys for Open311 GeoReport v2 clients: one per client and community,
//! stored as a SHA-256 hash, revoked rather than deleted.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Open311Keys as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .col(big_pk_auto(K::Id))
                .col(big_integer(K::CommunityId))
                .col(string_len(K::KeyHash, 64).unique_key())
                .col(string_len(K::Prefix, 16))
                .col(string_len(K::Label, 60))
                .col(big_integer(K::CreatedBy))
                .col(timestamp_with_time_zone(K::CreatedAt))
                .col(timestamp_with_time_zone_null(K::RevokedAt))
                .foreign_key(&mut fk((K::Table, K::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((K::Table, K::CreatedBy), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Open311Keys::Table).to_owned()).await
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
enum Open311Keys {
    #[sea_orm(iden = "open311_keys")]
    Table,
    Id,
    CommunityId,
    KeyHash,
    Prefix,
    Label,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}
