//! Deliberation (议事协商), rules.md §4.
//!
//! - Residents propose topics; staff review them (publish with an answer
//!   deadline, or reject with a reason). Staff may publish topics directly.
//! - Comments are threaded. One report per person and comment (primary
//!   key); the report that brings a comment to three hides it until staff
//!   review it (kept: reports no longer hide it; removed: gone for others).
//! - Staff replies can be official answers; the first one stamps the topic
//!   answered, and topics past their deadline without one show as overdue.
//! - Participation points: confirming one has read the materials, a comment
//!   still standing 24 h later (`topic.comment_points` job, or when staff
//!   keep it after review), attending a meeting (recorded by staff). Each
//!   goes through the points ledger with a unique key, cut to what the daily
//!   cap leaves (`participation_days`, compare-and-set). Votes earn nothing.

use chrono::{Duration, Utc};
use domain::time::beijing_day;
use domain::time::beijing_time;
use domain::{
    points::EntryKind,
    topics::{
        grant, parse_comment, thread, CommentStatus, CommentView, TopicPage, TopicStatus, TopicView, COMMENT_POINTS,
        COMMENT_SETTLE_HOURS, DAILY_CAP, HIDE_AT_REPORTS, MEETING_POINTS, READ_POINTS,
    },
    ErrorCode, OrgPath, Phone,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{
        comment_report, org_unit, participation_day as day, topic, topic_comment as comment, topic_participant, user,
        vote,
    },
    error::AppResult,
    jobs::{self, JobKind, NewJob},
    org::path_of,
    points::{post, Posting},
    State,
};

fn status_of(t: &topic::Model) -> TopicStatus {
    t.status
}

async fn can_moderate(state: &State, user: &CurrentUser, community_id: i64) -> AppResult<bool> {
    Ok(user.is_staff() && user.can_manage(&path_of(state, community_id).await?))
}

/// A topic the user may see: published or closed in their communities,
/// their own proposals, anything for staff of the community.
async fn visible(state: &State, user: &CurrentUser, id: i64) -> AppResult<topic::Model> {
    let t = topic::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if can_moderate(state, user, t.community_id).await? {
        return Ok(t);
    }
    let seen = matches!(status_of(&t), TopicStatus::Published | TopicStatus::Closed)
        && crate::org::visible_ids(state, user).await?.contains(&t.community_id);
    if seen || t.proposed_by == user.id {
        Ok(t)
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

async fn moderated(state: &State, staff: &CurrentUser, id: i64) -> AppResult<topic::Model> {
    let t = topic::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !can_moderate(state, staff, t.community_id).await? {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(t)
}

fn check_title(title: &str) -> AppResult<String> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 60 {
        return Err(ErrorCode::InvalidTitle.into());
    }
    Ok(title.into())
}

fn check_body(body: &str) -> AppResult<String> {
    let body = body.trim().replace("\r\n", "\n");
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(ErrorCode::InvalidBody.into());
    }
    Ok(body)
}

// ------------------------------------------------------------------ topics

/// A resident proposes a topic (or staff publish one directly).
pub async fn propose(
    state: &State,
    user: &CurrentUser,
    community_id: i64,
    title: &str,
    body: &str,
    answer_days: i64,
) -> AppResult<i64> {
    let (title, body) = (check_title(title)?, check_body(body)?);
    // topics belong to a community: not to a street or the city above it,
    // which the resident also sees
    let is_community = crate::entities::org_unit::Entity::find_by_id(community_id)
        .one(&state.db)
        .await?
        .is_some_and(|o| o.level == domain::OrgLevel::Community);
    if !is_community {
        return Err(ErrorCode::NotFound.into());
    }
    let staff = can_moderate(state, user, community_id).await?;
    if !staff && !crate::org::visible_ids(state, user).await?.contains(&community_id) {
        return Err(ErrorCode::NotFound.into());
    }
    let now = Utc::now();
    let r = topic::Entity::insert(topic::ActiveModel {
        community_id: Set(community_id),
        title: Set(title),
        body: Set(body),
        status: Set(if staff { TopicStatus::Published } else { TopicStatus::Pending }),
        proposed_by: Set(user.id),
        reviewed_by: Set(staff.then_some(user.id)),
        answer_days: Set(answer_days),
        published_at: Set(staff.then_some(now)),
        answer_due_at: Set(staff.then_some(now + Duration::days(answer_days))),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(r.last_insert_id)
}

/// Staff publish a proposal (with its answer deadline) or reject it with a reason.
pub async fn review(
    state: &State,
    staff: &CurrentUser,
    id: i64,
    publish: bool,
    answer_days: i64,
    note: &str,
) -> AppResult<()> {
    let t = moderated(state, staff, id).await?;
    let note = note.trim();
    if !publish && note.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    let now = Utc::now();
    let mut q = topic::Entity::update_many()
        .col_expr(topic::Column::ReviewedBy, Expr::value(staff.id))
        .col_expr(
            topic::Column::ReviewNote,
            Expr::value((!note.is_empty()).then(|| note.chars().take(200).collect::<String>())),
        )
        .filter(topic::Column::Id.eq(id))
        .filter(topic::Column::Status.eq(TopicStatus::Pending));
    q = if publish {
        q.col_expr(topic::Column::Status, Expr::value(TopicStatus::Published))
            .col_expr(topic::Column::AnswerDays, Expr::value(answer_days))
            .col_expr(topic::Column::PublishedAt, Expr::value(now))
            .col_expr(topic::Column::AnswerDueAt, Expr::value(now + Duration::days(answer_days)))
    } else {
        q.col_expr(topic::Column::Status, Expr::value(TopicStatus::Rejected))
    };
    let txn = state.db.begin().await?;
    if q.exec(&txn).await?.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    crate::notify::put(
        &txn,
        t.proposed_by,
        crate::notify::Draft {
            kind: domain::notify::NotificationKind::System,
            title: domain::msg::Msg::new(if publish { "topic.published.title" } else { "topic.rejected.title" })
                .with("title", &t.title)
                .encode(),
            body: if publish {
                domain::msg::Msg::new("topic.published.body").encode()
            } else {
                domain::msg::Msg::new("topic.rejected.body").with("why", note).encode()
            },
            link: format!("/topics/{id}"),
            key: format!("topic:{id}:reviewed"),
        },
    )
    .await?;
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

/// Staff close a topic: comments stop.
pub async fn close(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    moderated(state, staff, id).await?;
    let r = topic::Entity::update_many()
        .col_expr(topic::Column::Status, Expr::value(TopicStatus::Closed))
        .filter(topic::Column::Id.eq(id))
        .filter(topic::Column::Status.eq(TopicStatus::Published))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    Ok(())
}

/// Staff link a vote of the same community to the topic (or unlink: `None`).
pub async fn link_vote(state: &State, staff: &CurrentUser, id: i64, vote_id: Option<i64>) -> AppResult<()> {
    let t = moderated(state, staff, id).await?;
    if let Some(v) = vote_id {
        let v = vote::Entity::find_by_id(v).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        if v.community_id != t.community_id {
            return Err(ErrorCode::InvalidInput.into());
        }
    }
    topic::Entity::update_many()
        .col_expr(topic::Column::VoteId, Expr::value(vote_id))
        .filter(topic::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

async fn views(state: &State, viewer: &CurrentUser, rows: Vec<topic::Model>) -> AppResult<Vec<TopicView>> {
    let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
    let counts: Vec<(i64, i64)> = comment::Entity::find()
        .select_only()
        .column(comment::Column::TopicId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(comment::Column::TopicId.is_in(ids.clone()))
        .filter(comment::Column::Status.eq(CommentStatus::Visible))
        .group_by(comment::Column::TopicId)
        .into_tuple()
        .all(&state.db)
        .await?;
    let counts: HashMap<i64, i64> = counts.into_iter().collect();
    let read: std::collections::HashSet<i64> = topic_participant::Entity::find()
        .filter(topic_participant::Column::TopicId.is_in(ids))
        .filter(topic_participant::Column::UserId.eq(viewer.id))
        .filter(topic_participant::Column::Kind.eq("read"))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| p.topic_id)
        .collect();
    // names and paths in one query: who may moderate is decided from them
    let communities: HashMap<i64, (String, Option<OrgPath>)> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(rows.iter().map(|t| t.community_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.name, OrgPath::parse(&c.path))))
        .collect();
    let people: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|t| t.proposed_by).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let votes: HashMap<i64, String> = vote::Entity::find()
        .filter(vote::Column::Id.is_in(rows.iter().filter_map(|t| t.vote_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.title))
        .collect();
    let now = Utc::now();
    let mut out = vec![];
    for t in rows {
        let (community, path) = communities.get(&t.community_id).cloned().unwrap_or_default();
        let moderator = viewer.is_staff() && path.is_some_and(|p| viewer.can_manage(&p));
        let proposer = people.get(&t.proposed_by);
        let by_resident = t.reviewed_by != Some(t.proposed_by);
        out.push(TopicView {
            id: t.id,
            community,
            title: t.title.clone(),
            body: t.body.clone(),
            status: status_of(&t),
            proposer: proposer
                .map(|p| crate::support::people::name_of(p, crate::support::people::english(viewer)))
                .unwrap_or_default(),
            by_resident,
            created_at: beijing_time(t.created_at),
            published_at: t.published_at.map(beijing_time),
            answer_due_at: t.answer_due_at.map(beijing_time),
            answered_at: t.answered_at.map(beijing_time),
            overdue: t.answered_at.is_none()
                && status_of(&t) == TopicStatus::Published
                && t.answer_due_at.is_some_and(|d| d < now),
            review_note: t.review_note.clone(),
            vote: t.vote_id.and_then(|v| votes.get(&v).map(|title| (v, title.clone()))),
            comments: counts.get(&t.id).copied().unwrap_or(0),
            i_read: read.contains(&t.id),
            can_moderate: moderator,
        });
    }
    Ok(out)
}

/// Topics a resident sees: published and closed ones of their communities,
/// and their own proposals; newest first.
pub async fn list_for(state: &State, user: &CurrentUser) -> AppResult<Vec<TopicView>> {
    let ids = crate::org::visible_ids(state, user).await?;
    let rows = topic::Entity::find()
        .filter(
            topic::Column::CommunityId
                .is_in(ids)
                .and(topic::Column::Status.is_in([TopicStatus::Published, TopicStatus::Closed]))
                .or(topic::Column::ProposedBy.eq(user.id)),
        )
        .order_by_desc(topic::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    views(state, user, rows).await
}

/// Every topic of the staff member's communities: proposals first.
pub async fn staff_list(state: &State, staff: &CurrentUser) -> AppResult<Vec<TopicView>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = topic::Entity::find()
        .filter(topic::Column::CommunityId.is_in(communities))
        .order_by_desc(topic::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?;
    let mut v = views(state, staff, rows).await?;
    v.sort_by_key(|t| (t.status != TopicStatus::Pending, !t.overdue));
    Ok(v)
}

async fn comment_views(
    state: &State,
    viewer: &CurrentUser,
    rows: Vec<comment::Model>,
    moderator: bool,
) -> AppResult<Vec<CommentView>> {
    let people =
        crate::support::people::names(state, rows.iter().map(|c| c.user_id), crate::support::people::english(viewer))
            .await?;
    let reported: std::collections::HashSet<i64> = comment_report::Entity::find()
        .filter(comment_report::Column::CommentId.is_in(rows.iter().map(|c| c.id).collect::<Vec<_>>()))
        .filter(comment_report::Column::UserId.eq(viewer.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| r.comment_id)
        .collect();
    let titles: HashMap<i64, String> = topic::Entity::find()
        .filter(topic::Column::Id.is_in(rows.iter().map(|c| c.topic_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| {
            let status = c.status;
            let shown = status == CommentStatus::Visible || moderator || c.user_id == viewer.id;
            CommentView {
                id: c.id,
                parent_id: c.parent_id,
                depth: 0,
                author: people.get(&c.user_id).cloned().unwrap_or_default(),
                body: if shown { c.body.clone() } else { String::new() },
                official: c.official,
                status,
                reports: if moderator { c.reports } else { 0 },
                reviewed: c.reviewed,
                mine: c.user_id == viewer.id,
                i_reported: reported.contains(&c.id),
                created_at: beijing_time(c.created_at),
                topic_id: c.topic_id,
                topic: titles.get(&c.topic_id).cloned().unwrap_or_default(),
            }
        })
        .collect())
}

/// One topic with its comments in thread order.
pub async fn page(state: &State, user: &CurrentUser, id: i64) -> AppResult<TopicPage> {
    let t = visible(state, user, id).await?;
    let moderator = can_moderate(state, user, t.community_id).await?;
    let rows = comment::Entity::find()
        .filter(comment::Column::TopicId.eq(id))
        .order_by_asc(comment::Column::Id)
        .all(&state.db)
        .await?;
    let views_ = comment_views(state, user, rows, moderator).await?;
    let items: Vec<(i64, Option<i64>, CommentView)> = views_.into_iter().map(|c| (c.id, c.parent_id, c)).collect();
    let comments = thread(&items).into_iter().map(|(depth, c)| CommentView { depth, ..c }).collect();
    let linkable_votes = if moderator {
        vote::Entity::find()
            .filter(vote::Column::CommunityId.eq(t.community_id))
            .order_by_desc(vote::Column::Id)
            .limit(50)
            .all(&state.db)
            .await?
            .into_iter()
            .map(|v| (v.id, v.title))
            .collect()
    } else {
        vec![]
    };
    let topic = views(state, user, vec![t]).await?.pop().ok_or(ErrorCode::NotFound)?;
    Ok(TopicPage { topic, comments, linkable_votes })
}

// ------------------------------------------------------------------ points

/// Awards participation points once per `key`, cut to what today's cap
/// leaves. Returns the points given (0 when capped or already given).
pub async fn award(
    state: &State,
    user_id: i64,
    community_id: i64,
    points: i64,
    key: &str,
    reason: &str,
) -> AppResult<i64> {
    let today = beijing_day(Utc::now());
    for _ in 0..10 {
        let txn = state.db.begin().await?;
        // the write first: on SQLite the transaction holds the lock before it reads
        day::Entity::insert(day::ActiveModel { user_id: Set(user_id), day: Set(today.clone()), points: Set(0) })
            .on_conflict_do_nothing_on([day::Column::UserId, day::Column::Day])
            .exec_without_returning(&txn)
            .await?;
        let used = day::Entity::find()
            .filter(day::Column::UserId.eq(user_id))
            .filter(day::Column::Day.eq(today.clone()))
            .one(&txn)
            .await?
            .map(|d| d.points)
            .unwrap_or(0);
        let g = grant(points, used, DAILY_CAP);
        if g == 0 {
            return Ok(0);
        }
        let posted = post(
            &txn,
            Posting {
                user_id,
                kind: EntryKind::Participation,
                points: g,
                key: key.into(),
                reason,
                community_id: Some(community_id),
                by: None,
                reverses: None,
            },
        )
        .await?;
        if posted.is_none() {
            return Ok(0);
        }
        let r = day::Entity::update_many()
            .col_expr(day::Column::Points, Expr::col(day::Column::Points).add(g))
            .filter(day::Column::UserId.eq(user_id))
            .filter(day::Column::Day.eq(today.clone()))
            .filter(day::Column::Points.eq(used))
            .exec(&txn)
            .await?;
        if r.rows_affected != 1 {
            continue; // another award moved today's total: count again
        }
        txn.commit().await?;
        return Ok(g);
    }
    Err(ErrorCode::Conflict.into())
}

/// A resident confirms they have read the materials (once per topic).
pub async fn mark_read(state: &State, user: &CurrentUser, id: i64) -> AppResult<i64> {
    let t = visible(state, user, id).await?;
    if status_of(&t) != TopicStatus::Published {
        return Err(ErrorCode::TopicNotOpen.into());
    }
    let r = topic_participant::Entity::insert(topic_participant::ActiveModel {
        topic_id: Set(id),
        user_id: Set(user.id),
        kind: Set("read".into()),
        recorded_by: Set(None),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([
        topic_participant::Column::TopicId,
        topic_participant::Column::UserId,
        topic_participant::Column::Kind,
    ])
    .exec(&state.db)
    .await?;
    if !matches!(r, sea_orm::TryInsertResult::Inserted(_)) {
        return Ok(0);
    }
    award(
        state,
        user.id,
        t.community_id,
        READ_POINTS,
        &format!("read:{id}:{}", user.id),
        &format!("阅读议题材料:{}", t.title),
    )
    .await
}

/// Staff record who attended the topic's meeting (phone numbers, one per
/// line or separated by commas). Returns how many were recorded now.
pub async fn record_meeting(state: &State, staff: &CurrentUser, id: i64, phones: &str) -> AppResult<usize> {
    let t = moderated(state, staff, id).await?;
    let mut parsed = vec![];
    for p in phones
        .split(|c: char| matches!(c, ',' | ';' | '\u{ff0c}' | '\u{3001}' | '\u{ff1b}') || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        parsed.push(Phone::parse(p)?);
    }
    if parsed.is_empty() {
        return Err(ErrorCode::InvalidPhone.into());
    }
    let mut n = 0;
    for p in parsed {
        let u = user::Entity::find()
            .filter(user::Column::Phone.eq(p.as_str()))
            .one(&state.db)
            .await?
            .ok_or(ErrorCode::NotRegistered)?;
        let r = topic_participant::Entity::insert(topic_participant::ActiveModel {
            topic_id: Set(id),
            user_id: Set(u.id),
            kind: Set("meeting".into()),
            recorded_by: Set(Some(staff.id)),
            created_at: Set(Utc::now()),
        })
        .on_conflict_do_nothing_on([
            topic_participant::Column::TopicId,
            topic_participant::Column::UserId,
            topic_participant::Column::Kind,
        ])
        .exec(&state.db)
        .await?;
        if matches!(r, sea_orm::TryInsertResult::Inserted(_)) {
            award(
                state,
                u.id,
                t.community_id,
                MEETING_POINTS,
                &format!("meeting:{id}:{}", u.id),
                &format!("参加议事会:{}", t.title),
            )
            .await?;
            n += 1;
        }
    }
    Ok(n)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommentPointsJob {
    pub comment: i64,
}

async fn comment_points(state: &State, c: &comment::Model) -> AppResult<i64> {
    if c.official || c.status != CommentStatus::Visible {
        return Ok(0);
    }
    let t = topic::Entity::find_by_id(c.topic_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    award(
        state,
        c.user_id,
        t.community_id,
        COMMENT_POINTS,
        &format!("comment:{}", c.id),
        &format!("参与议题讨论:{}", t.title),
    )
    .await
}

/// A comment still standing a day later earns its points (hidden ones wait
/// for staff review; removed ones never do).
pub async fn comment_points_job(state: &State, j: CommentPointsJob) -> anyhow::Result<()> {
    let Some(c) = comment::Entity::find_by_id(j.comment).one(&state.db).await? else { return Ok(()) };
    comment_points(state, &c).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

// ------------------------------------------------------------------ comments

/// Posts a comment or a reply. Staff of the community may mark it as an
/// official answer; the first official answer stamps the topic answered.
pub async fn comment(
    state: &State,
    user: &CurrentUser,
    id: i64,
    parent: Option<i64>,
    body: &str,
    official: bool,
) -> AppResult<i64> {
    let t = visible(state, user, id).await?;
    if status_of(&t) != TopicStatus::Published {
        return Err(ErrorCode::TopicNotOpen.into());
    }
    let body = parse_comment(body)?;
    if official && !can_moderate(state, user, t.community_id).await? {
        return Err(ErrorCode::Forbidden.into());
    }
    if let Some(p) = parent {
        let p = comment::Entity::find_by_id(p).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        if p.topic_id != id {
            return Err(ErrorCode::NotFound.into());
        }
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let r = comment::Entity::insert(comment::ActiveModel {
        topic_id: Set(id),
        parent_id: Set(parent),
        user_id: Set(user.id),
        body: Set(body),
        official: Set(official),
        status: Set(CommentStatus::Visible),
        reports: Set(0),
        reviewed: Set(official),
        reviewed_by: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let cid = r.last_insert_id;
    if official {
        topic::Entity::update_many()
            .col_expr(topic::Column::AnsweredAt, Expr::value(now))
            .filter(topic::Column::Id.eq(id))
            .filter(topic::Column::AnsweredAt.is_null())
            .exec(&txn)
            .await?;
    } else {
        jobs::enqueue(
            &txn,
            NewJob::new(COMMENT_POINTS_JOB, format!("topic:comment:{cid}"), CommentPointsJob { comment: cid })
                .at(now + Duration::hours(COMMENT_SETTLE_HOURS)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(cid)
}

/// Reports a comment (once per person); the report that brings it to three
/// hides it until staff review it. Returns whether it is now hidden.
pub async fn report(state: &State, user: &CurrentUser, comment_id: i64, reason: &str) -> AppResult<bool> {
    let c = comment::Entity::find_by_id(comment_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    visible(state, user, c.topic_id).await?;
    if c.user_id == user.id || c.official {
        return Err(ErrorCode::Forbidden.into());
    }
    let txn = state.db.begin().await?;
    let r = comment_report::Entity::insert(comment_report::ActiveModel {
        comment_id: Set(comment_id),
        user_id: Set(user.id),
        reason: Set(reason.trim().chars().take(100).collect()),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([comment_report::Column::CommentId, comment_report::Column::UserId])
    .exec(&txn)
    .await?;
    if !matches!(r, sea_orm::TryInsertResult::Inserted(_)) {
        drop(txn);
        let now = comment::Entity::find_by_id(comment_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        return Ok(now.status == CommentStatus::Hidden);
    }
    comment::Entity::update_many()
        .col_expr(comment::Column::Reports, Expr::col(comment::Column::Reports).add(1))
        .filter(comment::Column::Id.eq(comment_id))
        .exec(&txn)
        .await?;
    let hid = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(CommentStatus::Hidden))
        .filter(comment::Column::Id.eq(comment_id))
        .filter(comment::Column::Status.eq(CommentStatus::Visible))
        .filter(comment::Column::Reviewed.eq(false))
        .filter(comment::Column::Reports.gte(HIDE_AT_REPORTS))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    txn.commit().await?;
    Ok(hid)
}

/// Staff decide on a reported comment: keep it (reports no longer hide it,
/// and it earns its points if its day has passed) or remove it.
pub async fn moderate(state: &State, staff: &CurrentUser, comment_id: i64, keep: bool) -> AppResult<()> {
    let c = comment::Entity::find_by_id(comment_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    moderated(state, staff, c.topic_id).await?;
    let to = if keep { CommentStatus::Visible } else { CommentStatus::Removed };
    comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(to.as_str()))
        .col_expr(comment::Column::Reviewed, Expr::value(true))
        .col_expr(comment::Column::ReviewedBy, Expr::value(staff.id))
        .filter(comment::Column::Id.eq(comment_id))
        .filter(comment::Column::Status.ne(CommentStatus::Removed))
        .exec(&state.db)
        .await?;
    if keep && c.created_at + Duration::hours(COMMENT_SETTLE_HOURS) <= Utc::now() {
        let c = comment::Entity::find_by_id(comment_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
        comment_points(state, &c).await?;
    }
    Ok(())
}

/// Comments waiting for staff: hidden by reports, or reported and not yet reviewed.
pub async fn moderation_queue(state: &State, staff: &CurrentUser) -> AppResult<Vec<CommentView>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let topics: Vec<i64> = topic::Entity::find()
        .filter(topic::Column::CommunityId.is_in(communities))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let rows = comment::Entity::find()
        .filter(comment::Column::TopicId.is_in(topics))
        .filter(comment::Column::Reports.gt(0))
        .filter(comment::Column::Reviewed.eq(false))
        .filter(comment::Column::Status.ne(CommentStatus::Removed))
        .order_by_desc(comment::Column::Reports)
        .limit(200)
        .all(&state.db)
        .await?;
    comment_views(state, staff, rows, true).await
}

// ------------------------------------------------------------------ jobs

pub const COMMENT_POINTS_JOB: JobKind = JobKind("topic.comment_points");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(COMMENT_POINTS_JOB, |s: State, j| async move { comment_points_job(&s, j).await });
}
