//! Residents staff approve as volunteer organisers of a community: they may
//! publish activities there themselves (rules.md §4: 谁组织谁记录).

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use VolunteerOrganisers as O;
        m.create_table(
            Table::create()
                .table(O::Table)
                .col(big_integer(O::CommunityId))
                .col(big_integer(O::UserId))
                .col(big_integer(O::ApprovedBy))
                .col(timestamp_with_time_zone(O::CreatedAt))
                .primary_key(Index::create().col(O::CommunityId).col(O::UserId))
                .foreign_key(&mut fk((O::Table, O::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((O::Table, O::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((O::Table, O::ApprovedBy), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(VolunteerOrganisers::Table).to_owned()).await
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
enum VolunteerOrganisers {
    Table,
    CommunityId,
    UserId,
    ApprovedBy,
    CreatedAt,
}
