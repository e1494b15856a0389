//! The database schema, one file per change, each with a `down`.
//! Backend differences go through `manager.get_database_backend()` only.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_residence_unique;
mod m20261122_000003_notifications;
mod m20261122_000004_appointments;
mod m20261122_000005_idempotency;
mod m20261122_000006_bills;
mod m20261123_000007_payments;
mod m20261123_000008_reconciliations;
mod m20261123_000009_votes;
mod m20261123_000010_points;
mod m20261123_000011_volunteer;
mod m20261123_000012_deliberation;
mod m20261123_000013_volunteer_organisers;
mod m20261123_000014_patrol_routes;
mod m20261123_000015_patrols;
mod m20261123_000016_incidents;
mod m20261123_000017_open311_keys;
mod m20261202_000018_patrol_plans;
mod m20261203_000019_personal_data;
mod m20261204_000020_incident_media;
mod m20261204_000021_community_contacts;

/// A foreign key that refuses deleting what it points at.
pub(crate) fn fk(
    from: (impl IntoIden + Copy, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

/// Makes `table` append-only: UPDATE and DELETE raise an error (a trigger
/// per backend; the same names on every database).
pub(crate) async fn append_only(m: &SchemaManager<'_>, table: &str, message: &str) -> Result<(), DbErr> {
    let conn = m.get_connection();
    match m.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            conn.execute_unprepared(&format!(
                "CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN \
                 RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql"
            ))
            .await?;
            conn.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            ))
            .await?;
        }
        _ => {
            for op in ["UPDATE", "DELETE"] {
                conn.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END",
                    op.to_lowercase()
                ))
                .await?;
            }
        }
    }
    Ok(())
}

/// Drops what `append_only` made besides the triggers (they go with the table).
pub(crate) async fn drop_append_only(m: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if m.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        m.get_connection().execute_unprepared(&format!("DROP FUNCTION IF EXISTS {table}_append_only()")).await?;
    }
    Ok(())
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_residence_unique::Migration),
            Box::new(m20261122_000003_notifications::Migration),
            Box::new(m20261122_000004_appointments::Migration),
            Box::new(m20261122_000005_idempotency::Migration),
            Box::new(m20261122_000006_bills::Migration),
            Box::new(m20261123_000007_payments::Migration),
            Box::new(m20261123_000008_reconciliations::Migration),
            Box::new(m20261123_000009_votes::Migration),
            Box::new(m20261123_000010_points::Migration),
            Box::new(m20261123_000011_volunteer::Migration),
            Box::new(m20261123_000012_deliberation::Migration),
            Box::new(m20261123_000013_volunteer_organisers::Migration),
            Box::new(m20261123_000014_patrol_routes::Migration),
            Box::new(m20261123_000015_patrols::Migration),
            Box::new(m20261123_000016_incidents::Migration),
            Box::new(m20261123_000017_open311_keys::Migration),
            Box::new(m20261202_000018_patrol_plans::Migration),
            Box::new(m20261203_000019_personal_data::Migration),
            Box::new(m20261204_000020_incident_media::Migration),
            Box::new(m20261204_000021_community_contacts::Migration),
        ]
    }
}
