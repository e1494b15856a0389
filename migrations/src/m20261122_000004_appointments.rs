//! 预约 (appointments): service items of a community, their weekly opening
//! hours and closures, the concrete slots with a capacity, bookings and the
//! waiting list.
//!
//! Capacity is the database's job (rules.md §2): `slots.booked` counts the
//! seats held and a CHECK keeps it within `0..=capacity`, so a booking is a
//! guarded `UPDATE … SET booked = booked + 1 WHERE booked < capacity` in the
//! same transaction as the insert. Rows are never deleted.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Statuses in which a booking holds a seat.
const HOLDING: &str = "('offered','booked','arrived','served','no_show')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ServiceItems::Table)
                .col(big_pk_auto(ServiceItems::Id))
                .col(big_integer(ServiceItems::OrgUnitId))
                .col(string_len(ServiceItems::Name, 60))
                .col(text(ServiceItems::Guide))
                .col(string_len(ServiceItems::Place, 100))
                .col(integer(ServiceItems::DurationMinutes))
                .col(string_len(ServiceItems::Audience, 16))
                .col(integer(ServiceItems::BookNoticeMinutes))
                .col(integer(ServiceItems::CancelNoticeMinutes))
                .col(integer(ServiceItems::WindowDays))
                .col(integer_null(ServiceItems::QuotaCount))
                .col(string_len_null(ServiceItems::QuotaPeriod, 8))
                .col(integer_null(ServiceItems::NoShowLimit))
                .col(integer(ServiceItems::OfferMinutes))
                .col(boolean(ServiceItems::Active).default(true))
                .col(big_integer(ServiceItems::CreatedBy))
                .col(timestamp_with_time_zone(ServiceItems::CreatedAt))
                .col(timestamp_with_time_zone(ServiceItems::UpdatedAt))
                .foreign_key(&mut fk((ServiceItems::Table, ServiceItems::OrgUnitId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((ServiceItems::Table, ServiceItems::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::col(ServiceItems::Audience).is_in(["anyone", "verified", "household"]))
                .check(
                    Expr::col(ServiceItems::QuotaPeriod)
                        .is_in(["day", "week", "month"])
                        .or(Expr::col(ServiceItems::QuotaPeriod).is_null()),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServiceHours::Table)
                .col(big_pk_auto(ServiceHours::Id))
                .col(big_integer(ServiceHours::ItemId))
                // "1,3,5": Monday = 1 … Sunday = 7
                .col(string_len(ServiceHours::Weekdays, 20))
                .col(integer(ServiceHours::StartMinute))
                .col(integer(ServiceHours::EndMinute))
                .col(integer(ServiceHours::SlotMinutes))
                .col(integer(ServiceHours::Capacity))
                .col(boolean(ServiceHours::Active).default(true))
                .col(timestamp_with_time_zone(ServiceHours::CreatedAt))
                .foreign_key(&mut fk(
                    (ServiceHours::Table, ServiceHours::ItemId),
                    (ServiceItems::Table, ServiceItems::Id),
                ))
                .check(Expr::col(ServiceHours::EndMinute).gt(Expr::col(ServiceHours::StartMinute)))
                .check(Expr::col(ServiceHours::Capacity).gt(0))
                .to_owned(),
        )
        .await?;

        // 闭馆/节假日: a whole community (item_id null) or one item, days inclusive.
        m.create_table(
            Table::create()
                .table(ServiceClosures::Table)
                .col(big_pk_auto(ServiceClosures::Id))
                .col(big_integer(ServiceClosures::OrgUnitId))
                .col(big_integer_null(ServiceClosures::ItemId))
                .col(date(ServiceClosures::FirstDay))
                .col(date(ServiceClosures::LastDay))
                .col(string_len(ServiceClosures::Reason, 100))
                .col(big_integer(ServiceClosures::CreatedBy))
                .col(timestamp_with_time_zone(ServiceClosures::CreatedAt))
                .foreign_key(&mut fk(
                    (ServiceClosures::Table, ServiceClosures::OrgUnitId),
                    (OrgUnits::Table, OrgUnits::Id),
                ))
                .foreign_key(&mut fk(
                    (ServiceClosures::Table, ServiceClosures::ItemId),
                    (ServiceItems::Table, ServiceItems::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Slots::Table)
                .col(big_pk_auto(Slots::Id))
                .col(big_integer(Slots::ItemId))
                .col(timestamp_with_time_zone(Slots::StartsAt))
                .col(timestamp_with_time_zone(Slots::EndsAt))
                .col(integer(Slots::Capacity))
                .col(integer(Slots::Booked).default(0))
                .col(string_len(Slots::Status, 8).default("open"))
                .col(timestamp_with_time_zone(Slots::CreatedAt))
                .foreign_key(&mut fk((Slots::Table, Slots::ItemId), (ServiceItems::Table, ServiceItems::Id)))
                // the invariant: never more seats held than the slot has
                .check(Expr::col(Slots::Booked).gte(0))
                .check(Expr::col(Slots::Booked).lte(Expr::col(Slots::Capacity)))
                .check(Expr::col(Slots::Status).is_in(["open", "closed"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_slots_item_start")
                .table(Slots::Table)
                .col(Slots::ItemId)
                .col(Slots::StartsAt)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Bookings::Table)
                .col(big_pk_auto(Bookings::Id))
                .col(big_integer(Bookings::SlotId))
                .col(big_integer(Bookings::ItemId))
                .col(big_integer(Bookings::UserId))
                .col(big_integer_null(Bookings::HouseholdId))
                // what the QR code carries and staff type at the desk
                .col(string_len_uniq(Bookings::Code, 16))
                .col(string_len(Bookings::Status, 16))
                // copied from the slot so quotas and queues need no join
                .col(timestamp_with_time_zone(Bookings::StartsAt))
                .col(timestamp_with_time_zone_null(Bookings::OfferExpiresAt))
                .col(timestamp_with_time_zone(Bookings::CreatedAt))
                .col(timestamp_with_time_zone(Bookings::UpdatedAt))
                .col(big_integer_null(Bookings::ChangedBy))
                .col(string_len_null(Bookings::CancelReason, 200))
                .col(big_integer_null(Bookings::RescheduledTo))
                .foreign_key(&mut fk((Bookings::Table, Bookings::SlotId), (Slots::Table, Slots::Id)))
                .foreign_key(&mut fk((Bookings::Table, Bookings::ItemId), (ServiceItems::Table, ServiceItems::Id)))
                .foreign_key(&mut fk((Bookings::Table, Bookings::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((Bookings::Table, Bookings::HouseholdId), (Households::Table, Households::Id)))
                .check(Expr::col(Bookings::Status).is_in([
                    "offered",
                    "booked",
                    "arrived",
                    "served",
                    "no_show",
                    "cancelled",
                    "expired",
                ]))
                .to_owned(),
        )
        .await?;
        let c = m.get_connection();
        // one seat per person per slot (a double click books once)
        c.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX uq_bookings_slot_user ON bookings (slot_id, user_id) WHERE status IN {HOLDING}"
        ))
        .await?;
        c.execute_unprepared("CREATE INDEX ix_bookings_user ON bookings (user_id, starts_at)").await?;
        c.execute_unprepared("CREATE INDEX ix_bookings_household ON bookings (item_id, household_id, starts_at)")
            .await?;
        c.execute_unprepared("CREATE INDEX ix_bookings_slot ON bookings (slot_id, status)").await?;

        m.create_table(
            Table::create()
                .table(Waitlist::Table)
                .col(big_pk_auto(Waitlist::Id))
                .col(big_integer(Waitlist::SlotId))
                .col(big_integer(Waitlist::UserId))
                .col(string_len(Waitlist::Status, 16))
                .col(big_integer_null(Waitlist::BookingId))
                .col(timestamp_with_time_zone(Waitlist::CreatedAt))
                .col(timestamp_with_time_zone(Waitlist::UpdatedAt))
                .foreign_key(&mut fk((Waitlist::Table, Waitlist::SlotId), (Slots::Table, Slots::Id)))
                .foreign_key(&mut fk((Waitlist::Table, Waitlist::UserId), (Users::Table, Users::Id)))
                .check(Expr::col(Waitlist::Status).is_in(["waiting", "offered", "left", "done"]))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_waitlist_slot_user ON waitlist (slot_id, user_id) WHERE status = 'waiting'",
            )
            .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX ix_waitlist_slot ON waitlist (slot_id, status, id)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["waitlist", "bookings", "slots", "service_closures", "service_hours", "service_items"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
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
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceItems {
    Table,
    Id,
    OrgUnitId,
    Name,
    Guide,
    Place,
    DurationMinutes,
    Audience,
    BookNoticeMinutes,
    CancelNoticeMinutes,
    WindowDays,
    QuotaCount,
    QuotaPeriod,
    NoShowLimit,
    OfferMinutes,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceHours {
    Table,
    Id,
    ItemId,
    Weekdays,
    StartMinute,
    EndMinute,
    SlotMinutes,
    Capacity,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceClosures {
    Table,
    Id,
    OrgUnitId,
    ItemId,
    FirstDay,
    LastDay,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Slots {
    Table,
    Id,
    ItemId,
    StartsAt,
    EndsAt,
    Capacity,
    Booked,
    Status,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bookings {
    Table,
    Id,
    SlotId,
    ItemId,
    UserId,
    HouseholdId,
    Code,
    Status,
    StartsAt,
    OfferExpiresAt,
    CreatedAt,
    UpdatedAt,
    ChangedBy,
    CancelReason,
    RescheduledTo,
}

#[derive(DeriveIden, Clone, Copy)]
enum Waitlist {
    Table,
    Id,
    SlotId,
    UserId,
    Status,
    BookingId,
    CreatedAt,
    UpdatedAt,
}
