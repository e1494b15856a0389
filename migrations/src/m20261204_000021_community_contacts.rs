//! 首页 (issue 21): the numbers a resident calls, kept on the community:
//! the community office (居委会), the property service (物业) and whether
//! the property service takes home-repair requests (入户报修) here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // one column per statement: SQLite alters one at a time
        for col in [OrgUnits::OfficePhone, OrgUnits::PropertyName, OrgUnits::PropertyPhone] {
            m.alter_table(Table::alter().table(OrgUnits::Table).add_column(text_null(col)).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(OrgUnits::Table)
                .add_column(boolean(OrgUnits::PropertyRepairs).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [OrgUnits::PropertyRepairs, OrgUnits::PropertyPhone, OrgUnits::PropertyName, OrgUnits::OfficePhone] {
            m.alter_table(Table::alter().table(OrgUnits::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgUnits {
    Table,
    OfficePhone,
    PropertyName,
    PropertyPhone,
    PropertyRepairs,
}
