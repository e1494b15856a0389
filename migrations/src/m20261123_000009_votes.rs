//! Votes (rules.md §1): community polls and owners' decisions under Civil
//! Code Art. 278. The roll is frozen into `vote_roll` when voting opens; one
//! ballot per key (`vote_participation` primary key); ballots are append-only
//! (triggers refuse UPDATE and DELETE) and hash-chained; a paper ballot counts
//! only once a second staff member confirms it. Dwellings gain the surveyed
//! and contract areas (used when no registered area exists) and a flag for
//! units the developer still holds.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one ALTER option per statement.
        for col in [
            big_integer_null(Dwellings::SurveyedAreaCentiM2),
            big_integer_null(Dwellings::ContractAreaCentiM2),
            boolean(Dwellings::DeveloperHeld).default(false).to_owned(),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table(Dwellings::Table).add_column(&mut col).to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(Votes::Table)
                .col(big_pk_auto(Votes::Id))
                .col(big_integer(Votes::CommunityId))
                .col(big_integer_null(Votes::BuildingId))
                .col(string_len(Votes::Kind, 16))
                .col(string_len(Votes::Title, 200))
                .col(text(Votes::Body))
                // JSON array of option texts
                .col(text(Votes::Options))
                .col(integer(Votes::MaxChoices).default(1))
                .col(integer_null(Votes::Matter))
                .col(string_len(Votes::Eligibility, 16))
                .col(boolean(Votes::Secret).default(false))
                .col(boolean(Votes::LiveResults).default(false))
                .col(boolean(Votes::DeemedConsent).default(false))
                .col(integer(Votes::ObjectionDays).default(7))
                .col(string_len(Votes::Status, 16).default("draft"))
                .col(timestamp_with_time_zone(Votes::StartsAt))
                .col(timestamp_with_time_zone(Votes::EndsAt))
                .col(big_integer(Votes::TotalArea).default(0))
                .col(big_integer(Votes::TotalCount).default(0))
                .col(big_integer(Votes::ParticipatedArea).default(0))
                .col(big_integer(Votes::ParticipatedCount).default(0))
                .col(big_integer(Votes::BallotCount).default(0))
                .col(text_null(Votes::RulesText))
                .col(string_len_null(Votes::HeadHash, 64))
                // JSON: per-option weights and the decision, written at close
                .col(text_null(Votes::Result))
                .col(big_integer(Votes::CreatedBy))
                .col(timestamp_with_time_zone(Votes::CreatedAt))
                .col(timestamp_with_time_zone_null(Votes::OpenedAt))
                .col(timestamp_with_time_zone_null(Votes::ClosedAt))
                .col(timestamp_with_time_zone_null(Votes::ObjectionUntil))
                .col(timestamp_with_time_zone_null(Votes::RemindedAt))
                .foreign_key(&mut fk((Votes::Table, Votes::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((Votes::Table, Votes::BuildingId), (Buildings::Table, Buildings::Id)))
                .foreign_key(&mut fk((Votes::Table, Votes::CreatedBy), (Users::Table, Users::Id)))
                .check(Expr::col(Votes::Kind).is_in(["poll", "owners"]))
                .check(Expr::col(Votes::Status).is_in(["draft", "open", "closed", "cancelled"]))
                .check(Expr::col(Votes::Eligibility).is_in(["residents", "owners"]))
                .check(Expr::cust("(kind = 'owners') = (matter IS NOT NULL)"))
                .check(Expr::cust("matter IS NULL OR matter BETWEEN 1 AND 9"))
                .check(Expr::cust("max_choices >= 1"))
                .check(Expr::cust("ends_at > starts_at"))
                .check(Expr::cust("participated_count BETWEEN 0 AND total_count"))
                .check(Expr::cust("participated_area BETWEEN 0 AND total_area"))
                .check(Expr::cust("ballot_count = participated_count"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("CREATE INDEX ix_votes_community_status ON votes (community_id, status)")
            .await?;

        // The frozen roll: one row per key (owner key, or person for polls).
        m.create_table(
            Table::create()
                .table(VoteRoll::Table)
                .col(big_integer(VoteRoll::VoteId))
                .col(big_integer(VoteRoll::KeyNo))
                .col(big_integer(VoteRoll::Area))
                // comma-separated dwelling ids
                .col(text(VoteRoll::Units))
                .col(string_len(VoteRoll::Label, 200))
                .col(boolean(VoteRoll::Developer).default(false))
                .col(big_integer_null(VoteRoll::VoterUserId))
                .primary_key(Index::create().col(VoteRoll::VoteId).col(VoteRoll::KeyNo))
                .foreign_key(&mut fk((VoteRoll::Table, VoteRoll::VoteId), (Votes::Table, Votes::Id)))
                .foreign_key(&mut fk((VoteRoll::Table, VoteRoll::VoterUserId), (Users::Table, Users::Id)))
                .check(Expr::cust("area >= 0 AND key_no >= 1"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_vote_roll_voter ON vote_roll (vote_id, voter_user_id) WHERE voter_user_id IS NOT NULL",
            )
            .await?;

        // Registered owners of each key and whom each designates to vote.
        m.create_table(
            Table::create()
                .table(VoteRollOwners::Table)
                .col(big_integer(VoteRollOwners::VoteId))
                .col(big_integer(VoteRollOwners::KeyNo))
                .col(big_integer(VoteRollOwners::UserId))
                .col(big_integer_null(VoteRollOwners::DesigneeUserId))
                .primary_key(Index::create().col(VoteRollOwners::VoteId).col(VoteRollOwners::UserId))
                .foreign_key(&mut fk((VoteRollOwners::Table, VoteRollOwners::VoteId), (Votes::Table, Votes::Id)))
                .foreign_key(&mut fk((VoteRollOwners::Table, VoteRollOwners::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;

        // One ballot per key: the primary key is the rule.
        m.create_table(
            Table::create()
                .table(VoteParticipation::Table)
                .col(big_integer(VoteParticipation::VoteId))
                .col(big_integer(VoteParticipation::KeyNo))
                .primary_key(Index::create().col(VoteParticipation::VoteId).col(VoteParticipation::KeyNo))
                .foreign_key(&mut fk((VoteParticipation::Table, VoteParticipation::VoteId), (Votes::Table, Votes::Id)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Ballots::Table)
                .col(big_pk_auto(Ballots::Id))
                .col(big_integer(Ballots::VoteId))
                .col(big_integer(Ballots::Seq))
                // NULL for a secret ballot
                .col(big_integer_null(Ballots::KeyNo))
                .col(big_integer(Ballots::Area))
                // "1" or "1,3"
                .col(string_len(Ballots::Choices, 200))
                // the single choice, for tallying in SQL; NULL for multiple choice
                .col(integer_null(Ballots::Choice))
                .col(string_len(Ballots::Channel, 8))
                .col(string_len_uniq(Ballots::Receipt, 16))
                .col(string_len(Ballots::CastAt, 40))
                .col(string_len(Ballots::PrevHash, 64))
                .col(string_len(Ballots::Hash, 64))
                .col(timestamp_with_time_zone(Ballots::CreatedAt))
                .foreign_key(&mut fk((Ballots::Table, Ballots::VoteId), (Votes::Table, Votes::Id)))
                .check(Expr::col(Ballots::Channel).is_in(["online", "paper"]))
                .check(Expr::cust("seq >= 1 AND area >= 0"))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE UNIQUE INDEX uq_ballots_seq ON ballots (vote_id, seq)").await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_ballots_key ON ballots (vote_id, key_no) WHERE key_no IS NOT NULL",
        )
        .await?;
        crate::append_only(m, "ballots", "ballots are append-only").await?;

        // Paper ballots: entered by one staff member, counted once another confirms.
        m.create_table(
            Table::create()
                .table(PaperBallots::Table)
                .col(big_pk_auto(PaperBallots::Id))
                .col(big_integer(PaperBallots::VoteId))
                .col(big_integer(PaperBallots::KeyNo))
                .col(string_len(PaperBallots::Choices, 200))
                .col(string_len(PaperBallots::Status, 16).default("pending"))
                .col(string_len_null(PaperBallots::Note, 200))
                .col(big_integer(PaperBallots::EnteredBy))
                .col(timestamp_with_time_zone(PaperBallots::EnteredAt))
                .col(big_integer_null(PaperBallots::DecidedBy))
                .col(timestamp_with_time_zone_null(PaperBallots::DecidedAt))
                .col(big_integer_null(PaperBallots::BallotId))
                .foreign_key(&mut fk((PaperBallots::Table, PaperBallots::VoteId), (Votes::Table, Votes::Id)))
                .foreign_key(&mut fk((PaperBallots::Table, PaperBallots::EnteredBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((PaperBallots::Table, PaperBallots::DecidedBy), (Users::Table, Users::Id)))
                .check(Expr::col(PaperBallots::Status).is_in(["pending", "confirmed", "rejected"]))
                .check(Expr::cust("decided_by IS NULL OR decided_by <> entered_by"))
                .check(Expr::cust("(status = 'confirmed') = (ballot_id IS NOT NULL)"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX uq_paper_ballots_pending ON paper_ballots (vote_id, key_no) WHERE status = 'pending'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PaperBallots::Table.into_iden(),
            Ballots::Table.into_iden(),
            VoteParticipation::Table.into_iden(),
            VoteRollOwners::Table.into_iden(),
            VoteRoll::Table.into_iden(),
            Votes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        crate::drop_append_only(m, "ballots").await?;
        for c in [Dwellings::DeveloperHeld, Dwellings::ContractAreaCentiM2, Dwellings::SurveyedAreaCentiM2] {
            m.alter_table(Table::alter().table(Dwellings::Table).drop_column(c).to_owned()).await?;
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
enum Buildings {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dwellings {
    Table,
    SurveyedAreaCentiM2,
    ContractAreaCentiM2,
    DeveloperHeld,
}

#[derive(DeriveIden, Clone, Copy)]
enum Votes {
    Table,
    Id,
    CommunityId,
    BuildingId,
    Kind,
    Title,
    Body,
    Options,
    MaxChoices,
    Matter,
    Eligibility,
    Secret,
    LiveResults,
    DeemedConsent,
    ObjectionDays,
    Status,
    StartsAt,
    EndsAt,
    TotalArea,
    TotalCount,
    ParticipatedArea,
    ParticipatedCount,
    BallotCount,
    RulesText,
    HeadHash,
    Result,
    CreatedBy,
    CreatedAt,
    OpenedAt,
    ClosedAt,
    ObjectionUntil,
    RemindedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum VoteRoll {
    #[sea_orm(iden = "vote_roll")]
    Table,
    VoteId,
    KeyNo,
    Area,
    Units,
    Label,
    Developer,
    VoterUserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum VoteRollOwners {
    Table,
    VoteId,
    KeyNo,
    UserId,
    DesigneeUserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum VoteParticipation {
    #[sea_orm(iden = "vote_participation")]
    Table,
    VoteId,
    KeyNo,
}

#[derive(DeriveIden, Clone, Copy)]
enum Ballots {
    Table,
    Id,
    VoteId,
    Seq,
    KeyNo,
    Area,
    Choices,
    Choice,
    Channel,
    Receipt,
    CastAt,
    PrevHash,
    Hash,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaperBallots {
    Table,
    Id,
    VoteId,
    KeyNo,
    Choices,
    Status,
    Note,
    EnteredBy,
    EnteredAt,
    DecidedBy,
    DecidedAt,
    BallotId,
}
