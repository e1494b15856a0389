//! Incidents (事件, issue 4): reports with their place and photos, the
//! workflow's events (append-only: every transition with actor and time),
//! photos (resized, EXIF stripped; kept under a draft key until the report
//! they belong to is sent) and extension requests (one pending at a time).

use crate::{append_only, drop_append_only, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Incidents as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(big_pk_auto(I::Id))
                .col(big_integer(I::CommunityId))
                .col(big_integer_null(I::GridId))
                .col(string_len(I::Category, 16))
                .col(text(I::Description))
                .col(double_null(I::Lat))
                .col(double_null(I::Lng))
                .col(double_null(I::AccuracyM))
                .col(string_len_null(I::Address, 200))
                .col(big_integer(I::ReporterId))
                .col(string_len(I::Source, 8))
                .col(string_len(I::ClientId, 64))
                .col(string_len(I::Status, 12))
                .col(big_integer_null(I::AssigneeId))
                .col(string_len_null(I::Department, 60))
                .col(timestamp_with_time_zone_null(I::Deadline))
                .col(small_integer(I::Escalations).default(0))
                .col(big_integer_null(I::DuplicateOf))
                .col(string_len_null(I::RejectReason, 12))
                .col(small_integer_null(I::Rating))
                .col(text_null(I::RatingComment))
                .col(timestamp_with_time_zone(I::CreatedAt))
                .col(timestamp_with_time_zone(I::UpdatedAt))
                .col(timestamp_with_time_zone_null(I::ClosedAt))
                .foreign_key(&mut fk((I::Table, I::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((I::Table, I::GridId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((I::Table, I::ReporterId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((I::Table, I::AssigneeId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((I::Table, I::DuplicateOf), (I::Table, I::Id)))
                .check(Expr::cust(
                    "status IN ('reported', 'accepted', 'rejected', 'dispatched', 'in_progress', 'handled', 'verified', 'closed')",
                ))
                .check(Expr::cust("source IN ('worker', 'resident', 'staff', 'open311')"))
                .check(Expr::cust("rating IS NULL OR (rating BETWEEN 1 AND 5 AND status = 'closed')"))
                .check(Expr::cust("escalations >= 0"))
                .check(Expr::cust(
                    "status NOT IN ('dispatched', 'in_progress', 'handled', 'verified') OR \
                     (deadline IS NOT NULL AND (assignee_id IS NOT NULL OR department IS NOT NULL))",
                ))
                .check(Expr::cust("(status = 'closed') = (closed_at IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        // the phone's id for the report: a report sent twice (a double tap, an outbox retry) is one
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_incidents_client ON incidents (reporter_id, client_id)")
            .await?;
        conn.execute_unprepared("CREATE INDEX ix_incidents_community ON incidents (community_id, status, created_at)")
            .await?;
        conn.execute_unprepared("CREATE INDEX ix_incidents_assignee ON incidents (assignee_id, status)").await?;

        use IncidentEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(big_pk_auto(E::Id))
                .col(big_integer(E::IncidentId))
                .col(string_len(E::Action, 12))
                .col(string_len(E::FromStatus, 12))
                .col(string_len(E::ToStatus, 12))
                .col(big_integer_null(E::ActorId))
                .col(timestamp_with_time_zone(E::At))
                .col(text_null(E::Note))
                .col(text_null(E::Data))
                .foreign_key(&mut fk((E::Table, E::IncidentId), (I::Table, I::Id)))
                .foreign_key(&mut fk((E::Table, E::ActorId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_incident_events ON incident_events (incident_id, id)").await?;
        append_only(m, "incident_events", "incident events are the record: append-only").await?;

        use IncidentPhotos as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(big_integer_null(P::IncidentId))
                .col(big_integer_null(P::EventId))
                .col(string_len_null(P::Draft, 40))
                .col(big_integer(P::UploaderId))
                .col(string_len(P::Stage, 8))
                .col(string_len(P::Sha256, 64))
                .col(integer(P::Width))
                .col(integer(P::Height))
                .col(blob(P::Jpeg))
                .col(blob(P::Thumb))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .foreign_key(&mut fk((P::Table, P::IncidentId), (I::Table, I::Id)))
                .foreign_key(&mut fk((P::Table, P::EventId), (E::Table, E::Id)))
                .foreign_key(&mut fk((P::Table, P::UploaderId), (Users::Table, Users::Id)))
                .check(Expr::cust("stage IN ('report', 'before', 'after', 'note')"))
                .check(Expr::cust("incident_id IS NOT NULL OR draft IS NOT NULL"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_incident_photos ON incident_photos (incident_id, id)").await?;
        conn.execute_unprepared("CREATE INDEX ix_incident_photos_draft ON incident_photos (uploader_id, draft)")
            .await?;

        use IncidentExtensions as X;
        m.create_table(
            Table::create()
                .table(X::Table)
                .col(big_pk_auto(X::Id))
                .col(big_integer(X::IncidentId))
                .col(big_integer(X::RequestedBy))
                .col(timestamp_with_time_zone(X::Until))
                .col(text(X::Reason))
                .col(string_len(X::Status, 8))
                .col(big_integer_null(X::DecidedBy))
                .col(timestamp_with_time_zone_null(X::DecidedAt))
                .col(timestamp_with_time_zone(X::CreatedAt))
                .foreign_key(&mut fk((X::Table, X::IncidentId), (I::Table, I::Id)))
                .foreign_key(&mut fk((X::Table, X::RequestedBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((X::Table, X::DecidedBy), (Users::Table, Users::Id)))
                .check(Expr::cust("status IN ('pending', 'approved', 'refused')"))
                .check(Expr::cust("(status = 'pending') = (decided_at IS NULL)"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_incident_extensions_pending ON incident_extensions (incident_id) WHERE status = 'pending'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IncidentExtensions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(IncidentPhotos::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(IncidentEvents::Table).to_owned()).await?;
        drop_append_only(m, "incident_events").await?;
        m.drop_table(Table::drop().table(Incidents::Table).to_owned()).await?;
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
enum Incidents {
    Table,
    Id,
    CommunityId,
    GridId,
    Category,
    Description,
    Lat,
    Lng,
    AccuracyM,
    Address,
    ReporterId,
    Source,
    ClientId,
    Status,
    AssigneeId,
    Department,
    Deadline,
    Escalations,
    DuplicateOf,
    RejectReason,
    Rating,
    RatingComment,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IncidentEvents {
    Table,
    Id,
    IncidentId,
    Action,
    FromStatus,
    ToStatus,
    ActorId,
    At,
    Note,
    Data,
}

#[derive(DeriveIden, Clone, Copy)]
enum IncidentPhotos {
    Table,
    Id,
    IncidentId,
    EventId,
    Draft,
    UploaderId,
    Stage,
    Sha256,
    Width,
    Height,
    Jpeg,
    Thumb,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IncidentExtensions {
    Table,
    Id,
    IncidentId,
    RequestedBy,
    Until,
    Reason,
    Status,
    DecidedBy,
    DecidedAt,
    CreatedAt,
}
