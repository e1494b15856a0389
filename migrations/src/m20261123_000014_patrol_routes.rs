//! Patrol routes (巡逻线路) per grid, with checkpoints (定点): a WGS-84
//! point, a radius, an order when the route is ordered, and optionally a
//! QR code posted on site (its token is unique).

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use PatrolRoutes as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(big_pk_auto(R::Id))
                .col(big_integer(R::GridId))
                .col(string_len(R::Name, 60))
                .col(boolean(R::Ordered).default(false))
                .col(boolean(R::Active).default(true))
                .col(big_integer(R::CreatedBy))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .foreign_key(&mut fk((R::Table, R::GridId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((R::Table, R::CreatedBy), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        use Checkpoints as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(big_integer(C::RouteId))
                .col(integer(C::Seq))
                .col(string_len(C::Name, 60))
                .col(double(C::Lat))
                .col(double(C::Lng))
                .col(integer(C::RadiusM))
                .col(string_len_null(C::QrToken, 32))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .foreign_key(&mut fk((C::Table, C::RouteId), (R::Table, R::Id)))
                .check(Expr::cust("lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180"))
                .check(Expr::cust("radius_m BETWEEN 5 AND 500"))
                .check(Expr::cust("seq >= 1"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_checkpoints_seq ON checkpoints (route_id, seq)").await?;
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_checkpoints_qr ON checkpoints (qr_token)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Checkpoints::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PatrolRoutes::Table).to_owned()).await
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
    GridId,
    Name,
    Ordered,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Checkpoints {
    Table,
    Id,
    RouteId,
    Seq,
    Name,
    Lat,
    Lng,
    RadiusM,
    QrToken,
    CreatedAt,
}
