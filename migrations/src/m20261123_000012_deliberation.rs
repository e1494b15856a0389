//! Deliberation (议事协商), rules.md §4. Topics proposed by residents wait
//! for staff review before anyone sees them; comments are threaded
//! (`parent_id`), one report per person and comment (primary key), and the
//! third report hides a comment until staff review it. Participation points
//! go through the points ledger; `participation_days` keeps each person's
//! points per Beijing day so the daily cap holds under concurrency.

use crate::fk;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Topics as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(big_pk_auto(T::Id))
                .col(big_integer(T::CommunityId))
                .col(string_len(T::Title, 60))
                .col(text(T::Body))
                .col(string_len(T::Status, 16))
                .col(big_integer(T::ProposedBy))
                .col(big_integer_null(T::ReviewedBy))
                .col(string_len_null(T::ReviewNote, 200))
                .col(big_integer(T::AnswerDays).default(7))
                .col(timestamp_with_time_zone_null(T::PublishedAt))
                .col(timestamp_with_time_zone_null(T::AnswerDueAt))
                .col(timestamp_with_time_zone_null(T::AnsweredAt))
                .col(big_integer_null(T::VoteId))
                .col(timestamp_with_time_zone(T::CreatedAt))
                .foreign_key(&mut fk((T::Table, T::CommunityId), (OrgUnits::Table, OrgUnits::Id)))
                .foreign_key(&mut fk((T::Table, T::ProposedBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((T::Table, T::ReviewedBy), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((T::Table, T::VoteId), (Votes::Table, Votes::Id)))
                .check(Expr::col(T::Status).is_in(["pending", "published", "rejected", "closed"]))
                .check(Expr::cust("answer_days BETWEEN 1 AND 60"))
                .check(Expr::cust(
                    "(status IN ('published', 'closed')) = (published_at IS NOT NULL AND answer_due_at IS NOT NULL)",
                ))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared("CREATE INDEX ix_topics_community ON topics (community_id, status, id)").await?;

        use TopicComments as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .col(big_pk_auto(C::Id))
                .col(big_integer(C::TopicId))
                .col(big_integer_null(C::ParentId))
                .col(big_integer(C::UserId))
                .col(text(C::Body))
                .col(boolean(C::Official).default(false))
                .col(string_len(C::Status, 16).default("visible"))
                .col(big_integer(C::Reports).default(0))
                .col(boolean(C::Reviewed).default(false))
                .col(big_integer_null(C::ReviewedBy))
                .col(timestamp_with_time_zone(C::CreatedAt))
                .foreign_key(&mut fk((C::Table, C::TopicId), (T::Table, T::Id)))
                .foreign_key(&mut fk((C::Table, C::ParentId), (C::Table, C::Id)))
                .foreign_key(&mut fk((C::Table, C::UserId), (Users::Table, Users::Id)))
                .foreign_key(&mut fk((C::Table, C::ReviewedBy), (Users::Table, Users::Id)))
                .check(Expr::col(C::Status).is_in(["visible", "hidden", "removed"]))
                .check(Expr::cust("reports >= 0"))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared("CREATE INDEX ix_topic_comments_topic ON topic_comments (topic_id, id)").await?;
        conn.execute_unprepared("CREATE INDEX ix_topic_comments_status ON topic_comments (status, id)").await?;

        use CommentReports as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .col(big_integer(R::CommentId))
                .col(big_integer(R::UserId))
                .col(string_len(R::Reason, 100))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .primary_key(Index::create().col(R::CommentId).col(R::UserId))
                .foreign_key(&mut fk((R::Table, R::CommentId), (C::Table, C::Id)))
                .foreign_key(&mut fk((R::Table, R::UserId), (Users::Table, Users::Id)))
                .to_owned(),
        )
        .await?;

        use TopicParticipants as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .col(big_integer(P::TopicId))
                .col(big_integer(P::UserId))
                .col(string_len(P::Kind, 16))
                .col(big_integer_null(P::RecordedBy))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .primary_key(Index::create().col(P::TopicId).col(P::UserId).col(P::Kind))
                .foreign_key(&mut fk((P::Table, P::TopicId), (T::Table, T::Id)))
                .foreign_key(&mut fk((P::Table, P::UserId), (Users::Table, Users::Id)))
                .check(Expr::col(P::Kind).is_in(["read", "meeting"]))
                .to_owned(),
        )
        .await?;

        use ParticipationDays as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(big_integer(D::UserId))
                .col(string_len(D::Day, 10))
                .col(big_integer(D::Points).default(0))
                .primary_key(Index::create().col(D::UserId).col(D::Day))
                .foreign_key(&mut fk((D::Table, D::UserId), (Users::Table, Users::Id)))
                .check(Expr::cust("points >= 0"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ParticipationDays::Table.into_iden(),
            TopicParticipants::Table.into_iden(),
            CommentReports::Table.into_iden(),
            TopicComments::Table.into_iden(),
            Topics::Table.into_iden(),
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
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Votes {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Topics {
    Table,
    Id,
    CommunityId,
    Title,
    Body,
    Status,
    ProposedBy,
    ReviewedBy,
    ReviewNote,
    AnswerDays,
    PublishedAt,
    AnswerDueAt,
    AnsweredAt,
    VoteId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TopicComments {
    Table,
    Id,
    TopicId,
    ParentId,
    UserId,
    Body,
    Official,
    Status,
    Reports,
    Reviewed,
    ReviewedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommentReports {
    Table,
    CommentId,
    UserId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TopicParticipants {
    Table,
    TopicId,
    UserId,
    Kind,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ParticipationDays {
    Table,
    UserId,
    Day,
    Points,
}
