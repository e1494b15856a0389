//! Open311 (issue 20): a request's `media_url` is kept as given, in its own
//! column (it was folded into the description, and GET answered null).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Incidents::Table).add_column(text_null(Incidents::MediaUrl)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Incidents::Table).drop_column(Incidents::MediaUrl).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Incidents {
    Table,
    MediaUrl,
}
