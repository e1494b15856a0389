//! Personal data (issue 7): the ID number a resident gives with a residence
//! request, stored only encrypted (AES-256-GCM, `backend::crypto`), and the
//! log of staff views of personal data in full (who saw whose phone or ID
//! number, when, and where). The log is append-only: nothing updates or
//! deletes its rows.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Residences::Table).add_column(text_null(Residences::IdNumberEnc)).to_owned(),
        )
        .await?;
        use PersonalDataViews as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(big_pk_auto(V::Id))
                .col(big_integer(V::ViewerId))
                .col(big_integer(V::SubjectId))
                // what was shown in full: "phone", "id_number" (comma separated)
                .col(string_len(V::Fields, 64))
                // where: "residence:12"
                .col(string_len(V::Context, 64))
                // the community the subject was seen in (who may read this row)
                .col(string_len(V::OrgPath, 255))
                .col(timestamp_with_time_zone(V::At))
                .foreign_key(&mut fk((V::Table, V::ViewerId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((V::Table, V::SubjectId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE INDEX ix_personal_data_views_path_at ON personal_data_views (org_path, at)")
            .await?;
        conn.execute_unprepared("CREATE INDEX ix_personal_data_views_subject ON personal_data_views (subject_id)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PersonalDataViews::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Residences::Table).drop_column(Residences::IdNumberEnc).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Residences {
    Table,
    IdNumberEnc,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum PersonalDataViews {
    Table,
    Id,
    ViewerId,
    SubjectId,
    Fields,
    Context,
    OrgPath,
    At,
}
