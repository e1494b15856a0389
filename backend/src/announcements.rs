//! 社区公告: staff publish to a community (or a street); residents read them,
//! with unread counts.

use chrono::{DateTime, Utc};
use domain::{
    text::{AnnouncementBody, AnnouncementTitle},
    ErrorCode,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{announcement, announcement_read, org_unit, user},
    error::AppResult,
    org, State,
};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnnouncementView {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub org_unit_id: i64,
    pub org_name: String,
    pub author_name: String,
    pub pinned: bool,
    pub published_at: DateTime<Utc>,
    pub read: bool,
}

pub struct NewAnnouncement {
    pub org_unit_id: i64,
    pub title: AnnouncementTitle,
    pub body: AnnouncementBody,
    pub pinned: bool,
    /// 定时发布: a later publication time; `None` publishes now.
    pub publish_at: Option<DateTime<Utc>>,
}

pub async fn publish(state: &State, actor: &CurrentUser, new: NewAnnouncement) -> AppResult<i64> {
    let target = org::get(state, new.org_unit_id).await?.ok_or(ErrorCode::NotFound)?;
    if !actor.can_manage(&target.path) {
        return Err(ErrorCode::Forbidden.into());
    }
    if matches!(target.level, domain::OrgLevel::Grid) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let now = Utc::now();
    let at = match new.publish_at {
        None => now,
        Some(t) if t > now - chrono::Duration::minutes(1) && t < now + chrono::Duration::days(90) => Ord::max(t, now),
        Some(_) => return Err(ErrorCode::InvalidTime.into()),
    };
    // The announcement and its inbox fan-out commit together.
    let txn = state.db.begin().await?;
    let row = announcement::ActiveModel {
        org_unit_id: Set(target.id),
        title: Set(new.title.into_inner()),
        body: Set(new.body.into_inner()),
        pinned: Set(new.pinned),
        author_id: Set(actor.id),
        published_at: Set(at),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::notify::schedule_announcement(&txn, row.id, at).await?;
    txn.commit().await?;
    if at <= now {
        state.jobs.kick();
    }
    tracing::info!(
        announcement = row.id,
        org_unit = target.id,
        actor = actor.id,
        scheduled = at > now,
        "announcement published"
    );
    Ok(row.id)
}

fn unread_filter(user_id: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::col((announcement::Entity, announcement::Column::Id)).not_in_subquery(
        Query::select()
            .column(announcement_read::Column::AnnouncementId)
            .from(announcement_read::Entity)
            .and_where(Expr::col(announcement_read::Column::UserId).eq(Expr::val(user_id)))
            .to_owned(),
    )
}

/// One page of the announcements a user may see, newest first (pinned on top).
#[derive(Clone, Debug)]
pub struct Listing {
    pub items: Vec<AnnouncementView>,
    pub total: u64,
    pub unread: u64,
}

/// A page of announcements with the total and the unread count; the user's
/// visible org units are worked out once for all three.
pub async fn list(state: &State, user: &CurrentUser, limit: u64, offset: u64) -> AppResult<Listing> {
    let ids = org::visible_ids(state, user).await?;
    let q = announcement::Entity::find()
        .filter(announcement::Column::OrgUnitId.is_in(ids))
        .filter(announcement::Column::PublishedAt.lte(Utc::now()));
    let total = q.clone().count(&state.db).await?;
    let unread = q.clone().filter(unread_filter(user.id)).count(&state.db).await?;
    let rows = q
        .order_by_desc(announcement::Column::Pinned)
        .order_by_desc(announcement::Column::PublishedAt)
        .order_by_desc(announcement::Column::Id)
        .limit(Ord::min(limit, 100))
        // beyond i64 the query builder would panic; nothing is that far anyway
        .offset(Ord::min(offset, crate::MAX_OFFSET))
        .all(&state.db)
        .await?;
    Ok(Listing { items: views(state, user, rows).await?, total, unread })
}

/// One announcement, marked read for the user. Outside the user's scope it
/// does not exist (404), so ids of other communities reveal nothing.
pub async fn read(state: &State, user: &CurrentUser, id: i64) -> AppResult<AnnouncementView> {
    let row = announcement::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let ids = org::visible_ids(state, user).await?;
    if !ids.contains(&row.org_unit_id) {
        return Err(ErrorCode::NotFound.into());
    }
    // scheduled and not yet out: only staff who may manage it see it
    if row.published_at > Utc::now() {
        let target = org::get(state, row.org_unit_id).await?.ok_or(ErrorCode::NotFound)?;
        if !user.can_manage(&target.path) {
            return Err(ErrorCode::NotFound.into());
        }
    }
    let mark =
        announcement_read::ActiveModel { user_id: Set(user.id), announcement_id: Set(id), read_at: Set(Utc::now()) };
    if let Err(e) = announcement_read::Entity::insert(mark)
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                announcement_read::Column::UserId,
                announcement_read::Column::AnnouncementId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await
    {
        if !crate::db::is_unique_violation(&e) {
            return Err(e.into());
        }
    }
    crate::notify::mark_read_by_key(state, user.id, &crate::notify::announcement_key(id)).await?;
    let mut v = views(state, user, vec![row]).await?;
    let mut one = v.pop().ok_or(ErrorCode::NotFound)?;
    one.read = true;
    Ok(one)
}

async fn views(state: &State, user: &CurrentUser, rows: Vec<announcement::Model>) -> AppResult<Vec<AnnouncementView>> {
    let ann_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let read: Vec<i64> = announcement_read::Entity::find()
        .filter(announcement_read::Column::UserId.eq(user.id))
        .filter(announcement_read::Column::AnnouncementId.is_in(ann_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| r.announcement_id)
        .collect();
    let org_ids: Vec<i64> = rows.iter().map(|r| r.org_unit_id).collect();
    let orgs = org_unit::Entity::find().filter(org_unit::Column::Id.is_in(org_ids)).all(&state.db).await?;
    let author_ids: Vec<i64> = rows.iter().map(|r| r.author_id).collect();
    let authors = user::Entity::find().filter(user::Column::Id.is_in(author_ids)).all(&state.db).await?;
    Ok(rows
        .into_iter()
        .map(|r| AnnouncementView {
            org_name: orgs.iter().find(|o| o.id == r.org_unit_id).map(|o| o.name.clone()).unwrap_or_default(),
            author_name: authors
                .iter()
                .find(|a| a.id == r.author_id)
                .map(|a| crate::support::people::name_of(a, crate::support::people::english(user)))
                .unwrap_or_default(),
            read: read.contains(&r.id),
            id: r.id,
            title: r.title,
            body: r.body,
            org_unit_id: r.org_unit_id,
            pinned: r.pinned,
            published_at: r.published_at,
        })
        .collect())
}

pub type Timestamp = DateTime<Utc>;

/// Announcements set to go out later (定时发布) in the staff member's scope, soonest first.
pub async fn scheduled(state: &State, staff: &CurrentUser) -> AppResult<Vec<AnnouncementView>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let ids: Vec<i64> = org::publish_targets(state, staff).await?.into_iter().map(|n| n.id).collect();
    let rows = announcement::Entity::find()
        .filter(announcement::Column::OrgUnitId.is_in(ids))
        .filter(announcement::Column::PublishedAt.gt(Utc::now()))
        .order_by_asc(announcement::Column::PublishedAt)
        .limit(50)
        .all(&state.db)
        .await?;
    views(state, staff, rows).await
}
