//! Notifications: the per-user inbox (the truth), channel preferences per
//! type, Web Push subscriptions (one per device), the persisted job queue
//! (reminders and scheduled work; an outbox written in the same transaction
//! as the change that causes it) and instance-wide settings such as the VAPID
//! key pair generated at first run.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn to_users(from: (Notifications, Notifications)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .col(big_pk_auto(Notifications::Id))
                .col(big_integer(Notifications::UserId))
                .col(string_len(Notifications::Kind, 32))
                .col(string_len(Notifications::Title, 100))
                .col(string_len(Notifications::Body, 500))
                .col(string_len(Notifications::Link, 255))
                // what caused it, e.g. "announcement:12": one item per cause and person
                .col(string_len(Notifications::DedupeKey, 120))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .foreign_key(&mut to_users((Notifications::Table, Notifications::UserId)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_notifications_user_dedupe")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::DedupeKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL")
            .await?;

        m.create_table(
            Table::create()
                .table(NotificationPrefs::Table)
                .col(big_integer(NotificationPrefs::UserId))
                .col(string_len(NotificationPrefs::Kind, 32))
                .col(boolean(NotificationPrefs::Push))
                .col(boolean(NotificationPrefs::Sms))
                .col(timestamp_with_time_zone(NotificationPrefs::UpdatedAt))
                .primary_key(Index::create().col(NotificationPrefs::UserId).col(NotificationPrefs::Kind))
                .foreign_key(
                    ForeignKey::create()
                        .from(NotificationPrefs::Table, NotificationPrefs::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PushSubscriptions::Table)
                .col(big_pk_auto(PushSubscriptions::Id))
                .col(big_integer(PushSubscriptions::UserId))
                .col(string_len_uniq(PushSubscriptions::Endpoint, 1000))
                .col(string_len(PushSubscriptions::P256dh, 200))
                .col(string_len(PushSubscriptions::Auth, 100))
                .col(string_len(PushSubscriptions::Device, 100))
                .col(timestamp_with_time_zone(PushSubscriptions::CreatedAt))
                .col(timestamp_with_time_zone_null(PushSubscriptions::LastSentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PushSubscriptions::Table, PushSubscriptions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_push_subscriptions_user")
                .table(PushSubscriptions::Table)
                .col(PushSubscriptions::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(big_pk_auto(Jobs::Id))
                .col(string_len(Jobs::Kind, 40))
                // one job per cause: scheduling the same reminder twice is a no-op
                .col(string_len_uniq(Jobs::DedupeKey, 160))
                .col(text(Jobs::Payload))
                .col(timestamp_with_time_zone(Jobs::RunAt))
                .col(string_len(Jobs::Status, 16))
                .col(integer(Jobs::Attempts))
                .col(integer(Jobs::MaxAttempts))
                .col(timestamp_with_time_zone_null(Jobs::LockedUntil))
                .col(string_len_null(Jobs::LockedBy, 80))
                .col(string_len_null(Jobs::LastError, 500))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                .check(Expr::col(Jobs::Status).is_in(["pending", "done", "failed", "cancelled"]))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX ix_jobs_due ON jobs (run_at) WHERE status = 'pending'")
            .await?;

        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(string_len(Settings::Key, 60).primary_key())
                .col(text(Settings::Value))
                .col(timestamp_with_time_zone(Settings::CreatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Settings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Jobs::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PushSubscriptions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(NotificationPrefs::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Notifications::Table).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Body,
    Link,
    DedupeKey,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum NotificationPrefs {
    Table,
    UserId,
    Kind,
    Push,
    Sms,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PushSubscriptions {
    Table,
    Id,
    UserId,
    Endpoint,
    P256dh,
    Auth,
    Device,
    CreatedAt,
    LastSentAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Id,
    Kind,
    DedupeKey,
    Payload,
    RunAt,
    Status,
    Attempts,
    MaxAttempts,
    LockedUntil,
    LockedBy,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Settings {
    Table,
    Key,
    Value,
    CreatedAt,
}
