//! Patrol plans (巡逻计划, issue 4): which route a grid worker patrols on
//! which days of the week in which time window, from which day until which
//! day. 到位率 counts the checkpoint visits they require. A plan is never
//! deleted (the figures of past periods rest on it); ending it stamps
//! `ended_at`. Also grid outlines: a GeoJSON polygon ring per org unit
//! (WGS-84), drawn on the patrol sketches.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use PatrolPlans as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_pk_auto(P::Id))
                .col(big_integer(P::RouteId))
                .col(big_integer(P::WorkerId))
                .col(small_integer(P::Weekdays))
                .col(small_integer(P::StartMin))
                .col(small_integer(P::EndMin))
                .col(date(P::ValidFrom))
                .col(date_null(P::ValidUntil))
                .col(big_integer(P::CreatedBy))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone_null(P::EndedAt))
                .foreign_key(&mut fk((P::Table, P::RouteId), (PatrolRoutes::Table, PatrolRoutes::Id)))
                .foreign_key(&mut fk((P::Table, P::WorkerId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((P::Table, P::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::cust("weekdays BETWEEN 1 AND 127"))
                .check(Expr::cust("start_min >= 0 AND end_min <= 1440 AND end_min - start_min >= 10"))
                .check(Expr::cust("valid_until IS NULL OR valid_until >= valid_from"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE INDEX ix_patrol_plans_route ON patrol_plans (route_id)").await?;
        conn.execute_unprepared("CREATE INDEX ix_patrol_plans_worker ON patrol_plans (worker_id)").await?;
        // check-ins by checkpoint and time, for 到位率 over a period
        conn.execute_unprepared("CREATE INDEX ix_patrol_checkins_cp_at ON patrol_checkins (checkpoint_id, at)").await?;
        conn.execute_unprepared("CREATE INDEX ix_incident_events_at ON incident_events (at)").await?;
        m.alter_table(Table::alter().table(OrgUnits::Table).add_column(text_null(OrgUnits::Outline)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        conn.execute_unprepared("DROP INDEX IF EXISTS ix_incident_events_at").await?;
        conn.execute_unprepared("DROP INDEX IF EXISTS ix_patrol_checkins_cp_at").await?;
        m.alter_table(Table::alter().table(OrgUnits::Table).drop_column(OrgUnits::Outline).to_owned()).await?;
        m.drop_table(Table::drop().table(PatrolPlans::Table).to_owned()).await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgUnits {
    Table,
    Outline,
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
enum PatrolPlans {
    Table,
    Id,
    RouteId,
    WorkerId,
    Weekdays,
    StartMin,
    EndMin,
    ValidFrom,
    ValidUntil,
    CreatedBy,
    CreatedAt,
    EndedAt,
}
