//! Patrols (巡逻) by grid workers: one open patrol per worker at a time (a
//! partial unique index), its events (start, pause, resume, end, gaps the
//! phone reported), every raw position it sent with the reason it was left
//! out of the track if it was, check-ins with the evidence that decided them,
//! and the GPS logger devices (OsmAnd / Traccar Client) registered to workers.
//!
//! Positions and check-ins are evidence: append-only, and unique per patrol
//! by the id the phone gave them, so a batch sent twice is stored once.

use crate::{append_only, drop_append_only, fk};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Patrols as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(big_integer(P::WorkerId))
                .col(big_integer(P::GridId))
                .col(big_integer_null(P::RouteId))
                .col(string_len(P::State, 8))
                .col(timestamp_with_time_zone(P::StartedAt))
                .col(timestamp_with_time_zone_null(P::EndedAt))
                .foreign_key(&mut fk((P::Table, P::WorkerId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((P::Table, P::GridId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((P::Table, P::RouteId), (PatrolRoutes::Table, PatrolRoutes::Id)))
                .check(Expr::cust("state IN ('active', 'paused', 'ended')"))
                .check(Expr::cust("(state = 'ended') = (ended_at IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_patrols_open ON patrols (worker_id) WHERE state <> 'ended'")
            .await?;
        conn.execute_unprepared("CREATE INDEX ix_patrols_grid ON patrols (grid_id, started_at)").await?;

        use PatrolEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(big_pk_auto(E::Id))
                .col(big_integer(E::PatrolId))
                .col(string_len(E::ClientId, 64))
                .col(string_len(E::Kind, 8))
                .col(string_len_null(E::Reason, 16))
                .col(timestamp_with_time_zone(E::At))
                .col(timestamp_with_time_zone_null(E::Until))
                .col(big_integer(E::ActorId))
                .foreign_key(&mut fk((E::Table, E::PatrolId), (P::Table, P::Id)))
                .foreign_key(&mut fk((E::Table, E::ActorId), (Users::Table, Users::Id)))
                .check(Expr::cust("kind IN ('start', 'pause', 'resume', 'end', 'gap')"))
                .check(Expr::cust("(kind = 'gap') = (until IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_patrol_events_client ON patrol_events (patrol_id, client_id)")
            .await?;

        use TrackPoints as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(big_pk_auto(T::Id))
                .col(big_integer(T::PatrolId))
                .col(string_len(T::ClientId, 64))
                .col(double(T::Lat))
                .col(double(T::Lng))
                .col(double(T::AccuracyM))
                .col(double_null(T::SpeedMps))
                .col(double_null(T::Heading))
                .col(double_null(T::Altitude))
                .col(small_integer_null(T::Battery))
                .col(timestamp_with_time_zone_null(T::DeviceAt))
                .col(timestamp_with_time_zone(T::At))
                .col(timestamp_with_time_zone(T::ReceivedAt))
                .col(string_len(T::Source, 8))
                .col(string_len_null(T::Dropped, 16))
                .col(double_null(T::DroppedValue))
                .foreign_key(&mut fk((T::Table, T::PatrolId), (P::Table, P::Id)))
                .check(Expr::cust("source IN ('app', 'osmand')"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_track_points_client ON track_points (patrol_id, client_id)")
            .await?;
        conn.execute_unprepared("CREATE INDEX ix_track_points_at ON track_points (patrol_id, at, id)").await?;
        append_only(m, "track_points", "track points are evidence: append-only").await?;

        use PatrolCheckins as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(big_integer(C::PatrolId))
                .col(big_integer(C::CheckpointId))
                .col(string_len(C::ClientId, 64))
                .col(timestamp_with_time_zone(C::At))
                .col(boolean(C::Accepted))
                .col(text(C::Evidence))
                .col(boolean(C::QrScanned))
                .col(timestamp_with_time_zone(C::ReceivedAt))
                .foreign_key(&mut fk((C::Table, C::PatrolId), (P::Table, P::Id)))
                .foreign_key(&mut fk((C::Table, C::CheckpointId), (Checkpoints::Table, Checkpoints::Id)))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_patrol_checkins_client ON patrol_checkins (patrol_id, client_id)",
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_patrol_checkins_cp ON patrol_checkins (checkpoint_id)").await?;
        append_only(m, "patrol_checkins", "check-ins are evidence: append-only").await?;

        use GpsDevices as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(big_pk_auto(D::Id))
                .col(big_integer(D::WorkerId))
                .col(string_len(D::DeviceId, 64))
                .col(string_len(D::Label, 40))
                .col(timestamp_with_time_zone(D::CreatedAt))
                .foreign_key(&mut fk((D::Table, D::WorkerId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_gps_devices_device ON gps_devices (device_id)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(GpsDevices::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PatrolCheckins::Table).to_owned()).await?;
        drop_append_only(m, "patrol_checkins").await?;
        m.drop_table(Table::drop().table(TrackPoints::Table).to_owned()).await?;
        drop_append_only(m, "track_points").await?;
        m.drop_table(Table::drop().table(PatrolEvents::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Patrols::Table).to_owned()).await
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
enum PatrolRoutes {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Checkpoints {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Patrols {
    Table,
    Id,
    WorkerId,
    GridId,
    RouteId,
    State,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PatrolEvents {
    Table,
    Id,
    PatrolId,
    ClientId,
    Kind,
    Reason,
    At,
    Until,
    ActorId,
}

#[derive(DeriveIden, Clone, Copy)]
enum TrackPoints {
    Table,
    Id,
    PatrolId,
    ClientId,
    Lat,
    Lng,
    AccuracyM,
    SpeedMps,
    Heading,
    Altitude,
    Battery,
    DeviceAt,
    At,
    ReceivedAt,
    Source,
    Dropped,
    DroppedValue,
}

#[derive(DeriveIden, Clone, Copy)]
enum PatrolCheckins {
    Table,
    Id,
    PatrolId,
    CheckpointId,
    ClientId,
    At,
    Accepted,
    Evidence,
    QrScanned,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GpsDevices {
    Table,
    Id,
    WorkerId,
    DeviceId,
    Label,
    CreatedAt,
}
