//! Volunteer service (志愿服务), rules.md §4. An activity keeps the count of
//! its confirmed seats (`signed_up`) with `CHECK (signed_up <= capacity)`,
//! so signing up is a guarded update and a full activity puts people on its
//! waitlist. Attendance is one row per person and activity (checked in and
//! out with the rotating QR code or by the organiser); its credited minutes
//! are fixed when the organiser confirms them, and `volunteer_totals` keeps
//! each person's credited minutes per Beijing day and year so caps hold
//! under concurrent confirmations. Honour hours are append-only and never
//! earn points. A certificate is a frozen snapshot behind a code.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use VolunteerActivities as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(big_pk_auto(A::Id))
                .col(big_integer(A::CommunityId))
                .col(string_len(A::Title, 60))
                .col(text(A::Description))
                .col(string_len(A::Place, 100))
                .col(timestamp_with_time_zone(A::StartsAt))
                .col(timestamp_with_time_zone(A::EndsAt))
                .col(big_integer(A::Capacity))
                .col(big_integer(A::SignedUp).default(0))
                .col(big_integer(A::UnitMinutes))
                .col(big_integer(A::MaxDayMinutes))
                .col(big_integer(A::MaxYearMinutes))
                .col(big_integer(A::PointsPerHour))
                .col(double_null(A::GeoLat))
                .col(double_null(A::GeoLng))
                .col(big_integer_null(A::GeoRadiusM))
                .col(big_integer(A::OrganiserId))
                .col(string_len(A::Secret, 64))
                .col(string_len(A::Status, 16).default("published"))
                .col(big_integer(A::CreatedBy))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .foreign_key(&mut fk((A::Table, A::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((A::Table, A::OrganiserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((A::Table, A::CreatedBy), (Users::Table, Users::Id)))
                // the invariant: never more confirmed seats than the activity has
                .check(Expr::cust("capacity > 0 AND signed_up >= 0 AND signed_up <= capacity"))
                .check(Expr::cust("ends_at > starts_at"))
                .check(Expr::cust(
                    "unit_minutes > 0 AND max_day_minutes > 0 AND max_year_minutes > 0 AND points_per_hour >= 0",
                ))
                .check(Expr::cust(
                    "(geo_lat IS NULL AND geo_lng IS NULL AND geo_radius_m IS NULL) \
                     OR (geo_lat IS NOT NULL AND geo_lng IS NOT NULL AND geo_radius_m > 0)",
                ))
                .check(Expr::col(A::Status).is_in(["published", "cancelled"]))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(
            "CREATE INDEX ix_volunteer_activities_community ON volunteer_activities (community_id, starts_at)",
        )
        .await?;

        use VolunteerSignups as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(big_pk_auto(S::Id))
                .col(big_integer(S::ActivityId))
                .col(big_integer(S::UserId))
                .col(string_len(S::Status, 16))
                .col(timestamp_with_time_zone(S::QueuedAt))
                .col(timestamp_with_time_zone(S::UpdatedAt))
                .foreign_key(&mut fk((S::Table, S::ActivityId), (A::Table, A::Id)))
                .foreign_key(&mut fk((S::Table, S::UserId), (Users::Table, Users::Id)))
                .check(Expr::col(S::Status).is_in(["signed_up", "waitlisted", "withdrawn"]))
                .to_owned(),
        )
        .await?;
        // one row per person and activity (a double click signs up once)
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_volunteer_signups ON volunteer_signups (activity_id, user_id)")
            .await?;
        conn.execute_unprepared(
            "CREATE INDEX ix_volunteer_signups_queue ON volunteer_signups (activity_id, status, queued_at, id)",
        )
        .await?;

        use VolunteerAttendances as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(big_pk_auto(T::Id))
                .col(big_integer(T::ActivityId))
                .col(big_integer(T::UserId))
                .col(timestamp_with_time_zone(T::CheckInAt))
                .col(string_len(T::InHow, 16))
                .col(big_integer_null(T::InDistanceM))
                .col(timestamp_with_time_zone_null(T::CheckOutAt))
                .col(string_len_null(T::OutHow, 16))
                .col(big_integer_null(T::OutDistanceM))
                .col(string_len(T::Status, 16).default("open"))
                .col(big_integer_null(T::CreditedMinutes))
                .col(big_integer_null(T::Points))
                .col(string_len_null(T::CappedBy, 8))
                .col(big_integer_null(T::EntryId))
                .col(big_integer_null(T::CorrectedBy))
                .col(big_integer_null(T::ConfirmedBy))
                .col(timestamp_with_time_zone_null(T::ConfirmedAt))
                .foreign_key(&mut fk((T::Table, T::ActivityId), (A::Table, A::Id)))
                .foreign_key(&mut fk((T::Table, T::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((T::Table, T::EntryId), (PointsEntries::Table, PointsEntries::Id)))
                .foreign_key(&mut fk((T::Table, T::CorrectedBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((T::Table, T::ConfirmedBy), (Users::Table, Users::Id)))
                .check(Expr::col(T::InHow).is_in(["qr", "organiser"]))
                .check(Expr::cust("out_how IS NULL OR out_how IN ('qr', 'organiser')"))
                .check(Expr::cust("check_out_at IS NULL OR check_out_at >= check_in_at"))
                .check(Expr::col(T::Status).is_in(["open", "confirmed"]))
                .check(Expr::cust(
                    "(status = 'confirmed') = (credited_minutes IS NOT NULL AND points IS NOT NULL \
                     AND check_out_at IS NOT NULL AND confirmed_by IS NOT NULL)",
                ))
                .check(Expr::cust("credited_minutes IS NULL OR credited_minutes >= 0"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_volunteer_attendances ON volunteer_attendances (activity_id, user_id)",
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_volunteer_attendances_user ON volunteer_attendances (user_id, id)")
            .await?;

        use VolunteerTotals as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(big_integer(V::UserId))
                .col(string_len(V::Period, 10))
                .col(big_integer(V::Minutes).default(0))
                .primary_key(Index::create().col(V::UserId).col(V::Period))
                .foreign_key(&mut fk((V::Table, V::UserId), (Users::Table, Users::Id)))
                .check(Expr::cust("minutes >= 0"))
                .to_owned(),
        )
        .await?;

        use HonourHours as H;
        m.create_table(
            Table::create()
                .table(H::Table)
                .col(big_pk_auto(H::Id))
                .col(big_integer(H::UserId))
                .col(big_integer(H::CommunityId))
                .col(big_integer(H::Minutes))
                .col(string_len(H::Reason, 200))
                .col(big_integer(H::CreatedBy))
                .col(timestamp_with_time_zone(H::CreatedAt))
                .foreign_key(&mut fk((H::Table, H::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((H::Table, H::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((H::Table, H::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::cust("minutes > 0"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_honour_hours_user ON honour_hours (user_id, id)").await?;
        crate::append_only(m, "honour_hours", "honour hours are append-only").await?;

        use VolunteerCertificates as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(big_integer(C::UserId))
                .col(string_len_uniq(C::Code, 16))
                .col(text(C::Body))
                .col(timestamp_with_time_zone(C::IssuedAt))
                .foreign_key(&mut fk((C::Table, C::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        crate::append_only(m, "volunteer_certificates", "certificates cannot be changed").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            VolunteerCertificates::Table.into_iden(),
            HonourHours::Table.into_iden(),
            VolunteerTotals::Table.into_iden(),
            VolunteerAttendances::Table.into_iden(),
            VolunteerSignups::Table.into_iden(),
            VolunteerActivities::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        crate::drop_append_only(m, "volunteer_certificates").await?;
        crate::drop_append_only(m, "honour_hours").await?;
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
enum PointsEntries {
    #[sea_orm(iden = "points_entries")]
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum VolunteerActivities {
    Table,
    Id,
    CommunityId,
    Title,
    Description,
    Place,
    StartsAt,
    EndsAt,
    Capacity,
    SignedUp,
    UnitMinutes,
    MaxDayMinutes,
    MaxYearMinutes,
    PointsPerHour,
    GeoLat,
    GeoLng,
    GeoRadiusM,
    OrganiserId,
    Secret,
    Status,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VolunteerSignups {
    Table,
    Id,
    ActivityId,
    UserId,
    Status,
    QueuedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VolunteerAttendances {
    Table,
    Id,
    ActivityId,
    UserId,
    CheckInAt,
    InHow,
    InDistanceM,
    CheckOutAt,
    OutHow,
    OutDistanceM,
    Status,
    CreditedMinutes,
    Points,
    CappedBy,
    EntryId,
    CorrectedBy,
    ConfirmedBy,
    ConfirmedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VolunteerTotals {
    Table,
    UserId,
    Period,
    Minutes,
}

#[derive(DeriveIden, Clone, Copy)]
enum HonourHours {
    Table,
    Id,
    UserId,
    CommunityId,
    Minutes,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VolunteerCertificates {
    Table,
    Id,
    UserId,
    Code,
    Body,
    IssuedAt,
}
