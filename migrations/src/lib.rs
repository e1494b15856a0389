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
        ]
    }
}
