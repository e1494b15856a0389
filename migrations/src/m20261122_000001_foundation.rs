//! Organisation tree, buildings, units, households, users and roles,
//! residence verification, one-time codes, refresh tokens, announcements.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OrgUnits::Table)
                .col(big_pk_auto(OrgUnits::Id))
                .col(big_integer_null(OrgUnits::ParentId))
                .col(string_len(OrgUnits::Level, 16))
                .col(string_len(OrgUnits::Name, 100))
                .col(string_len_uniq(OrgUnits::Path, 255))
                .col(timestamp_with_time_zone(OrgUnits::CreatedAt))
                .foreign_key(&mut fk((OrgUnits::Table, OrgUnits::ParentId), (OrgUnits::Table, OrgUnits::Id)))
                .check(Expr::col(OrgUnits::Level).is_in(["city", "district", "street", "community", "grid"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_org_units_parent_name")
                .table(OrgUnits::Table)
                .col(OrgUnits::ParentId)
                .col(OrgUnits::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Buildings::Table)
                .col(big_pk_auto(Buildings::Id))
                .col(big_integer(Buildings::CommunityId))
                .col(big_integer(Buildings::GridId))
                .col(string_len(Buildings::Name, 50))
                .col(timestamp_with_time_zone(Buildings::CreatedAt))
                .foreign_key(&mut fk((Buildings::Table, Buildings::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((Buildings::Table, Buildings::GridId), (OrgUnits::Table, OrgUnits::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_buildings_community_name")
                .table(Buildings::Table)
                .col(Buildings::CommunityId)
                .col(Buildings::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        // 户 / 房: one dwelling, the unit of Art. 278 (专有部分) with its area.
        m.create_table(
            Table::create()
                .table(Dwellings::Table)
                .col(big_pk_auto(Dwellings::Id))
                .col(big_integer(Dwellings::BuildingId))
                .col(string_len(Dwellings::Entrance, 20))
                .col(string_len(Dwellings::Room, 20))
                // 0.01 m² integers, never a float (rules.md §1)
                .col(big_integer_null(Dwellings::AreaCentiM2))
                .col(timestamp_with_time_zone(Dwellings::CreatedAt))
                .foreign_key(&mut fk((Dwellings::Table, Dwellings::BuildingId), (Buildings::Table, Buildings::Id)))
                .check(Expr::col(Dwellings::AreaCentiM2).gt(0).or(Expr::col(Dwellings::AreaCentiM2).is_null()))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_dwellings_building_entrance_room")
                .table(Dwellings::Table)
                .col(Dwellings::BuildingId)
                .col(Dwellings::Entrance)
                .col(Dwellings::Room)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Households::Table)
                .col(big_pk_auto(Households::Id))
                .col(big_integer_uniq(Households::DwellingId))
                .col(string_len_null(Households::HeadName, 30))
                .col(integer(Households::Members).default(0))
                .col(timestamp_with_time_zone(Households::CreatedAt))
                .foreign_key(&mut fk((Households::Table, Households::DwellingId), (Dwellings::Table, Dwellings::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_len_uniq(Users::Phone, 20))
                .col(string_len(Users::Name, 30))
                .col(string_len_null(Users::PasswordHash, 255))
                .col(string_len_null(Users::WechatOpenid, 64).unique_key())
                .col(string_len(Users::Lang, 8).default("zh"))
                .col(integer(Users::FailedLogins).default(0))
                .col(timestamp_with_time_zone_null(Users::LockedUntil))
                .col(boolean(Users::Active).default(true))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserRoles::Table)
                .col(big_pk_auto(UserRoles::Id))
                .col(big_integer(UserRoles::UserId))
                .col(string_len(UserRoles::Role, 16))
                .col(big_integer(UserRoles::OrgUnitId))
                .col(timestamp_with_time_zone(UserRoles::CreatedAt))
                .foreign_key(&mut fk((UserRoles::Table, UserRoles::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((UserRoles::Table, UserRoles::OrgUnitId), (OrgUnits::Table, OrgUnits::Id)))
                .check(Expr::col(UserRoles::Role).is_in(["resident", "grid_worker", "staff", "admin"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_user_roles")
                .table(UserRoles::Table)
                .col(UserRoles::UserId)
                .col(UserRoles::Role)
                .col(UserRoles::OrgUnitId)
                .unique()
                .to_owned(),
        )
        .await?;

        // 住户认证: a person asks to be bound to a dwelling; staff decide.
        m.create_table(
            Table::create()
                .table(Residences::Table)
                .col(big_pk_auto(Residences::Id))
                .col(big_integer(Residences::UserId))
                .col(big_integer(Residences::DwellingId))
                .col(string_len(Residences::Relation, 16))
                .col(big_integer_null(Residences::AreaCentiM2))
                .col(string_len(Residences::Status, 16).default("pending"))
                .col(string_len_null(Residences::Reason, 200))
                .col(big_integer_null(Residences::ReviewedBy))
                .col(timestamp_with_time_zone_null(Residences::ReviewedAt))
                .col(timestamp_with_time_zone(Residences::CreatedAt))
                .foreign_key(&mut fk((Residences::Table, Residences::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((Residences::Table, Residences::DwellingId), (Dwellings::Table, Dwellings::Id)))
                .check(Expr::col(Residences::Relation).is_in(["owner", "co_owner", "tenant", "family_member"]))
                .check(Expr::col(Residences::Status).is_in(["pending", "approved", "rejected"]))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OtpCodes::Table)
                .col(big_pk_auto(OtpCodes::Id))
                .col(string_len(OtpCodes::Phone, 20))
                .col(string_len(OtpCodes::CodeHash, 64))
                .col(integer(OtpCodes::Attempts).default(0))
                .col(timestamp_with_time_zone(OtpCodes::ExpiresAt))
                .col(timestamp_with_time_zone_null(OtpCodes::ConsumedAt))
                .col(timestamp_with_time_zone(OtpCodes::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_otp_codes_phone").table(OtpCodes::Table).col(OtpCodes::Phone).to_owned(),
        )
        .await?;

        // Refresh tokens rotate; only their SHA-256 is stored. A family is one
        // login; reusing a spent token revokes the whole family.
        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(big_pk_auto(RefreshTokens::Id))
                .col(string_len(RefreshTokens::FamilyId, 64))
                .col(big_integer(RefreshTokens::UserId))
                .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .foreign_key(&mut fk((RefreshTokens::Table, RefreshTokens::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Announcements::Table)
                .col(big_pk_auto(Announcements::Id))
                .col(big_integer(Announcements::OrgUnitId))
                .col(string_len(Announcements::Title, 200))
                .col(text(Announcements::Body))
                .col(boolean(Announcements::Pinned).default(false))
                .col(big_integer(Announcements::AuthorId))
                .col(timestamp_with_time_zone(Announcements::PublishedAt))
                .foreign_key(&mut fk((Announcements::Table, Announcements::OrgUnitId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((Announcements::Table, Announcements::AuthorId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_announcements_org_published")
                .table(Announcements::Table)
                .col(Announcements::OrgUnitId)
                .col(Announcements::PublishedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AnnouncementReads::Table)
                .col(big_integer(AnnouncementReads::UserId))
                .col(big_integer(AnnouncementReads::AnnouncementId))
                .col(timestamp_with_time_zone(AnnouncementReads::ReadAt))
                .primary_key(Index::create().col(AnnouncementReads::UserId).col(AnnouncementReads::AnnouncementId))
                .foreign_key(&mut fk((AnnouncementReads::Table, AnnouncementReads::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk(
                    (AnnouncementReads::Table, AnnouncementReads::AnnouncementId),
                    (Announcements::Table, Announcements::Id),
                ))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AnnouncementReads::Table.into_iden(),
            Announcements::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            OtpCodes::Table.into_iden(),
            Residences::Table.into_iden(),
            UserRoles::Table.into_iden(),
            Users::Table.into_iden(),
            Households::Table.into_iden(),
            Dwellings::Table.into_iden(),
            Buildings::Table.into_iden(),
            OrgUnits::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum OrgUnits {
    Table,
    Id,
    ParentId,
    Level,
    Name,
    Path,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Buildings {
    Table,
    Id,
    CommunityId,
    GridId,
    Name,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Dwellings {
    Table,
    Id,
    BuildingId,
    Entrance,
    Room,
    AreaCentiM2,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Households {
    Table,
    Id,
    DwellingId,
    HeadName,
    Members,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Phone,
    Name,
    PasswordHash,
    WechatOpenid,
    Lang,
    FailedLogins,
    LockedUntil,
    Active,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum UserRoles {
    Table,
    Id,
    UserId,
    Role,
    OrgUnitId,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Residences {
    Table,
    Id,
    UserId,
    DwellingId,
    Relation,
    AreaCentiM2,
    Status,
    Reason,
    ReviewedBy,
    ReviewedAt,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum OtpCodes {
    Table,
    Id,
    Phone,
    CodeHash,
    Attempts,
    ExpiresAt,
    ConsumedAt,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum Announcements {
    Table,
    Id,
    OrgUnitId,
    Title,
    Body,
    Pinned,
    AuthorId,
    PublishedAt,
}
#[derive(DeriveIden, Clone, Copy)]
enum AnnouncementReads {
    Table,
    UserId,
    AnnouncementId,
    ReadAt,
}
