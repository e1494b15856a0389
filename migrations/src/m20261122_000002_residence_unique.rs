//! One live (pending or approved) residence request per person and dwelling,
//! enforced by the database: a double-submitted form cannot create two.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Partial unique indexes: same syntax on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_residences_live ON residences (user_id, dwelling_id) WHERE status <> 'rejected'",
            )
            .await?;
        m.get_connection().execute_unprepared("CREATE INDEX ix_residences_status ON residences (status)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX ix_residences_status").await?;
        m.get_connection().execute_unprepared("DROP INDEX uq_residences_live").await?;
        Ok(())
    }
}
