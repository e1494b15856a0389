//! The inbox and everything that carries its items to people.
//!
//! Every notification is first an inbox row (the truth, unique per user and
//! dedupe key, so nothing is delivered twice). Putting it there enqueues a
//! `notify.deliver` job in the same transaction; that job tells the user's
//! open pages (live events) and then each configured channel (Web Push, SMS,
//! WeChat subscription messages) according to the user's preferences.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::notify::{is_internal_link, InboxItem, NotificationKind, Pref};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{announcement, notification, notification_pref, org_unit, user_role},
    error::AppResult,
    events::Topic,
    jobs::{self, JobKind, NewJob},
    State,
};
use domain::ErrorCode;

/// A notification before it is put into an inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// A path inside the app, opened when the item is clicked.
    pub link: String,
    /// Unique per user: the same key twice is one item.
    pub key: String,
}

impl Draft {
    fn checked(mut self) -> Draft {
        self.title = self.title.chars().take(100).collect();
        self.body = self.body.chars().take(500).collect();
        if !is_internal_link(&self.link) {
            self.link = "/inbox".into();
        }
        self.key = self.key.chars().take(150).collect();
        self
    }
}

/// Puts an item into one user's inbox (inside the caller's transaction when
/// `conn` is one) and enqueues its delivery. Returns the new item's id, or
/// `None` when the user already has an item with that key.
pub async fn put<C: ConnectionTrait>(conn: &C, user_id: i64, draft: Draft) -> AppResult<Option<i64>> {
    let d = draft.checked();
    let row = notification::ActiveModel {
        user_id: Set(user_id),
        kind: Set(d.kind),
        title: Set(d.title),
        body: Set(d.body),
        link: Set(d.link),
        dedupe_key: Set(d.key.clone()),
        created_at: Set(Utc::now()),
        read_at: Set(None),
        ..Default::default()
    };
    // one statement: the new id (RETURNING on PostgreSQL, rowid on SQLite), or nothing on conflict
    let id = match notification::Entity::insert(row)
        .on_conflict_do_nothing_on([notification::Column::UserId, notification::Column::DedupeKey])
        .exec(conn)
        .await?
    {
        sea_orm::TryInsertResult::Inserted(r) => r.last_insert_id,
        _ => return Ok(None),
    };
    jobs::enqueue(conn, NewJob::new(DELIVER, format!("deliver:{id}"), DeliverJob { notification_id: id })).await?;
    Ok(Some(id))
}

/// Schedules a reminder: at `at`, `draft` lands in the user's inbox (once,
/// however often the job runs). Scheduling the same key again keeps the first.
pub async fn remind_at<C: ConnectionTrait>(conn: &C, user_id: i64, at: DateTime<Utc>, draft: Draft) -> AppResult<bool> {
    let key = format!("remind:{user_id}:{}", draft.key);
    jobs::enqueue(conn, NewJob::new(REMIND, key, RemindJob { user_id, draft }).at(at)).await
}

/// Reminders ahead of something that starts at `starts_at` (an appointment:
/// 24 h and 1 h before; an activity: at its start), one per lead time, each
/// keyed `{key}:{minutes}m`. Lead times already past are skipped, so booking
/// two hours ahead gets only the one-hour reminder. Returns how many were set.
pub async fn remind_before<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    starts_at: DateTime<Utc>,
    leads: &[chrono::Duration],
    draft: Draft,
) -> AppResult<usize> {
    let now = Utc::now();
    let mut n = 0;
    for lead in leads {
        let at = starts_at - *lead;
        if at <= now {
            continue;
        }
        let d = Draft { key: format!("{}:{}m", draft.key, lead.num_minutes()), ..draft.clone() };
        if remind_at(conn, user_id, at, d).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Cancels every reminder `remind_before` set for `key`.
pub async fn cancel_reminders_before<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    key: &str,
    leads: &[chrono::Duration],
) -> AppResult<usize> {
    let mut n = 0;
    for lead in leads {
        if cancel_reminder(conn, user_id, &format!("{key}:{}m", lead.num_minutes())).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Cancels a reminder that has not fired (the appointment was cancelled).
pub async fn cancel_reminder<C: ConnectionTrait>(conn: &C, user_id: i64, key: &str) -> AppResult<bool> {
    jobs::cancel(conn, &format!("remind:{user_id}:{key}")).await
}

/// One page of a user's inbox, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    pub total: u64,
    pub unread: u64,
}

pub async fn inbox(state: &State, user: &CurrentUser, limit: u64, offset: u64) -> AppResult<Inbox> {
    let q = notification::Entity::find().filter(notification::Column::UserId.eq(user.id));
    let total = q.clone().count(&state.db).await?;
    let unread = unread(state, user.id).await?;
    let rows = q
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(limit.min(100))
        // beyond i64 the query builder would panic; nothing is that far anyway
        .offset(Ord::min(offset, crate::MAX_OFFSET))
        .all(&state.db)
        .await?;
    let en = user.lang.is_en();
    Ok(Inbox { items: rows.into_iter().map(|r| item(r, en)).collect(), total, unread })
}

/// An inbox row as its reader sees it: system messages (`domain::msg`) in
/// the reader's language.
fn item(r: notification::Model, en: bool) -> InboxItem {
    InboxItem {
        id: r.id,
        kind: r.kind,
        title: domain::msg::render(&r.title, en),
        body: domain::msg::render(&r.body, en),
        link: r.link,
        created: domain::time::beijing_time(r.created_at),
        read: r.read_at.is_some(),
    }
}

pub async fn unread(state: &State, user_id: i64) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(&state.db)
        .await?)
}

/// Marks one item read and returns where it leads. Another user's item does
/// not exist for this one.
pub async fn open(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    let row = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    mark_read_where(state, user.id, notification::Column::Id.eq(id)).await?;
    Ok(row.link)
}

pub async fn mark_all_read(state: &State, user: &CurrentUser) -> AppResult<u64> {
    mark_read_where(state, user.id, notification::Column::Id.gt(0)).await
}

/// Reading the thing an item points at marks the item read (an announcement
/// opened from the list rather than from the inbox).
pub async fn mark_read_by_key(state: &State, user_id: i64, key: &str) -> AppResult<u64> {
    mark_read_where(state, user_id, notification::Column::DedupeKey.eq(key)).await
}

async fn mark_read_where(state: &State, user_id: i64, cond: impl sea_orm::sea_query::IntoCondition) -> AppResult<u64> {
    let r = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .filter(cond)
        .exec(&state.db)
        .await?;
    if r.rows_affected > 0 {
        publish_unread(state, user_id).await;
    }
    Ok(r.rows_affected)
}

/// Tells the user's open pages the new unread count (best effort: the page
/// shows the database's count whenever it loads).
async fn publish_unread(state: &State, user_id: i64) {
    let Ok(n) = unread(state, user_id).await else { return };
    if let Err(e) = state.bus.publish(&Topic::User(user_id), "unread", &serde_json::json!({ "unread": n })).await {
        tracing::warn!(error = %e, "live event not published");
    }
}

/// The user's channel choices for every type (defaults where never set).
pub async fn prefs(state: &State, user: &CurrentUser) -> AppResult<Vec<Pref>> {
    let rows =
        notification_pref::Entity::find().filter(notification_pref::Column::UserId.eq(user.id)).all(&state.db).await?;
    Ok(NotificationKind::ALL
        .into_iter()
        .map(|kind| {
            rows.iter()
                .find(|r| r.kind == kind.as_str())
                .map(|r| Pref { kind, push: r.push, sms: r.sms && kind.sms_allowed() })
                .unwrap_or_else(|| Pref::default_for(kind))
        })
        .collect())
}

async fn pref_for(state: &State, user_id: i64, kind: NotificationKind) -> AppResult<Pref> {
    let row = notification_pref::Entity::find_by_id((user_id, kind.as_str().to_string())).one(&state.db).await?;
    Ok(row
        .map(|r| Pref { kind, push: r.push, sms: r.sms && kind.sms_allowed() })
        .unwrap_or_else(|| Pref::default_for(kind)))
}

/// Saves the whole settings form at once.
pub async fn set_prefs(state: &State, user: &CurrentUser, prefs: &[Pref]) -> AppResult<()> {
    let txn = state.db.begin().await?;
    for p in prefs {
        let row = notification_pref::ActiveModel {
            user_id: Set(user.id),
            kind: Set(p.kind.as_str().to_string()),
            push: Set(p.push),
            sms: Set(p.sms && p.kind.sms_allowed()),
            updated_at: Set(Utc::now()),
        };
        notification_pref::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([notification_pref::Column::UserId, notification_pref::Column::Kind])
                    .update_columns([
                        notification_pref::Column::Push,
                        notification_pref::Column::Sms,
                        notification_pref::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A way to reach a person beyond the inbox: Web Push, SMS, WeChat
/// subscription messages. Each decides from the preference whether it acts.
#[async_trait]
pub trait Channel: Send + Sync {
    fn name(&self) -> &'static str;
    async fn send(
        &self,
        state: &State,
        item: &notification::Model,
        kind: NotificationKind,
        pref: &Pref,
    ) -> anyhow::Result<()>;
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeliverJob {
    pub notification_id: i64,
}

/// `notify.deliver`: live event first (cheap, instant), then each channel.
/// A channel's failure fails the job, which is retried; channels keep their
/// own sends idempotent (the push payload carries the item id as its tag).
pub async fn deliver_job(state: &State, job: DeliverJob) -> anyhow::Result<()> {
    let Some(mut item) = notification::Entity::find_by_id(job.notification_id).one(&state.db).await? else {
        return Ok(()); // nothing to deliver
    };
    // system messages go out in the reader's language (`domain::msg`)
    let en =
        crate::entities::user::Entity::find_by_id(item.user_id).one(&state.db).await?.is_some_and(|u| u.lang.is_en());
    item.title = domain::msg::render(&item.title, en);
    item.body = domain::msg::render(&item.body, en);
    let kind = item.kind;
    let unread = unread(state, item.user_id).await.unwrap_or(0);
    let data = serde_json::json!({
        "id": item.id, "kind": kind.as_str(), "title": item.title, "link": item.link, "unread": unread,
    });
    if let Err(e) = state.bus.publish(&Topic::User(item.user_id), "inbox", &data).await {
        tracing::warn!(error = %e, "live event not published");
    }
    if item.read_at.is_some() || state.channels.is_empty() {
        return Ok(());
    }
    let pref = pref_for(state, item.user_id, kind).await?;
    let mut failed = Vec::new();
    for ch in &state.channels {
        if let Err(e) = ch.send(state, &item, kind, &pref).await {
            tracing::warn!(channel = ch.name(), error = %e, "notification channel failed");
            failed.push(format!("{}: {e}", ch.name()));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(failed.join("; ")))
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RemindJob {
    pub user_id: i64,
    pub draft: Draft,
}

/// `remind`: the reminder's inbox item (the unique key makes a second run a no-op).
pub async fn remind_job(state: &State, job: RemindJob) -> anyhow::Result<()> {
    if put(&state.db, job.user_id, job.draft).await?.is_some() {
        state.jobs.kick();
    }
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AnnouncementJob {
    pub announcement_id: i64,
}

/// The dedupe key of an announcement's inbox items.
pub fn announcement_key(id: i64) -> String {
    format!("announcement:{id}")
}

/// Enqueues the inbox fan-out of an announcement at its publication time
/// (inside the transaction that creates it).
pub async fn schedule_announcement<C: ConnectionTrait>(conn: &C, id: i64, at: DateTime<Utc>) -> AppResult<bool> {
    jobs::enqueue(
        conn,
        NewJob::new(ANNOUNCEMENT_FANOUT, format!("announcement:{id}"), AnnouncementJob { announcement_id: id }).at(at),
    )
    .await
}

/// `announcement.fanout`: everyone with a role in the announcement's part of
/// the tree gets an inbox item (the author excepted), in batches.
pub async fn announcement_job(state: &State, job: AnnouncementJob) -> anyhow::Result<()> {
    let Some(a) = announcement::Entity::find_by_id(job.announcement_id).one(&state.db).await? else {
        return Ok(()); // withdrawn
    };
    if a.published_at > Utc::now() + chrono::Duration::seconds(1) {
        anyhow::bail!("announcement {} is not published yet", a.id);
    }
    let Some(org) = org_unit::Entity::find_by_id(a.org_unit_id).one(&state.db).await? else { return Ok(()) };
    let units: Vec<i64> = org_unit::Entity::find()
        .filter(org_unit::Column::Path.starts_with(&org.path))
        .select_only()
        .column(org_unit::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut users: Vec<i64> = Vec::new();
    for chunk in units.chunks(500) {
        let ids: Vec<i64> = user_role::Entity::find()
            .filter(user_role::Column::OrgUnitId.is_in(chunk.to_vec()))
            .select_only()
            .column(user_role::Column::UserId)
            .distinct()
            .into_tuple()
            .all(&state.db)
            .await?;
        users.extend(ids);
    }
    users.sort_unstable();
    users.dedup();
    users.retain(|u| *u != a.author_id);
    let title: String = a.title.chars().take(100).collect();
    let body: String = a.body.chars().take(120).collect();
    let draft = Draft {
        kind: NotificationKind::Announcement,
        title,
        body,
        link: format!("/announcements/{}", a.id),
        key: announcement_key(a.id),
    };
    for chunk in users.chunks(200) {
        let txn = state.db.begin().await?;
        for u in chunk {
            put(&txn, *u, draft.clone()).await?;
        }
        txn.commit().await?;
        state.jobs.kick();
    }
    if let Err(e) = state
        .bus
        .publish(&Topic::Org(a.org_unit_id), "announcement", &serde_json::json!({ "id": a.id, "title": a.title }))
        .await
    {
        tracing::warn!(error = %e, "live event not published");
    }
    tracing::info!(announcement = a.id, recipients = users.len(), "announcement delivered to inboxes");
    Ok(())
}

// ------------------------------------------------------------------ jobs

pub const DELIVER: JobKind = JobKind("notify.deliver");
pub const ANNOUNCEMENT_FANOUT: JobKind = JobKind("announcement.fanout");
pub const REMIND: JobKind = JobKind("remind");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(DELIVER, |s: State, j| async move { deliver_job(&s, j).await });
    h.add(ANNOUNCEMENT_FANOUT, |s: State, j| async move { announcement_job(&s, j).await });
    h.add(REMIND, |s: State, j| async move { remind_job(&s, j).await });
}
