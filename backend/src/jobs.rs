//! Persisted background work: reminders, scheduled announcements, the
//! fan-out of notifications to push, SMS and WeChat, payment order queries,
//! and the sandbox payment provider's notifications.
//!
//! An outbox table (`jobs`) in the same database as everything else, so a job
//! is enqueued in the same transaction as the change that causes it: either
//! both happen or neither. Every instance runs a worker that claims due jobs
//! with a compare-and-set update (works the same on SQLite and PostgreSQL),
//! holds a lease while running them, and retries failures with backoff. A job
//! claimed by an instance that dies is taken over when its lease runs out.
//!
//! A job may therefore run more than once; handlers make their effects
//! idempotent (inbox items carry a unique dedupe key), so each reminder is
//! delivered once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{de::DeserializeOwned, Serialize};
use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc};

use crate::{entities::job, error::AppResult, State};

/// A kind of background job: its stable name, stored with each job. Each
/// feature names its own kinds and registers their handlers
/// (`Handlers::add`, called from `crate::job_handlers`), so this module
/// names no feature and no feature's jobs need this module to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JobKind(pub &'static str);

impl JobKind {
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

type Run = Box<dyn Fn(State, String) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync>;

/// The handler of every job kind, by name.
#[derive(Default)]
pub struct Handlers(HashMap<&'static str, Run>);

impl Handlers {
    /// Registers what runs a job of `kind`, whose payload is a `P` (JSON).
    /// A kind registered twice is a programming error, caught at start-up.
    pub fn add<P, F, Fut>(&mut self, kind: JobKind, run: F)
    where
        P: DeserializeOwned + 'static,
        F: Fn(State, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let boxed: Run = Box::new(move |state, raw| match serde_json::from_str::<P>(&raw) {
            Ok(p) => Box::pin(run(state, p)),
            Err(e) => {
                let message = format!("bad payload for {}: {e}", kind.0);
                Box::pin(async move { Err(anyhow::anyhow!(message)) })
            }
        });
        let fresh = self.0.insert(kind.0, boxed).is_none();
        assert!(fresh, "job kind {} registered twice", kind.0);
    }

    /// The kinds registered, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<&'static str> = self.0.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

/// A job's state (the column `jobs.status`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::Display, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum Status {
    Pending,
    Done,
    Failed,
    Cancelled,
}

domain::coded!(Status);

/// A job to enqueue. The dedupe key makes enqueueing idempotent: a second
/// job with the same key is not added (and reports `false`).
pub struct NewJob {
    pub kind: JobKind,
    pub dedupe_key: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: JobKind, dedupe_key: impl Into<String>, payload: impl Serialize) -> NewJob {
        NewJob {
            kind,
            dedupe_key: dedupe_key.into(),
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
            run_at: Utc::now(),
            max_attempts: 8,
        }
    }

    pub fn at(mut self, run_at: DateTime<Utc>) -> NewJob {
        self.run_at = run_at;
        self
    }
}

/// Adds a job (inside the caller's transaction when `conn` is one). Returns
/// whether it was added; an existing job with the same key is left alone.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, new: NewJob) -> AppResult<bool> {
    let row = job::ActiveModel {
        kind: Set(new.kind.as_str().to_string()),
        dedupe_key: Set(new.dedupe_key),
        payload: Set(new.payload.to_string()),
        run_at: Set(new.run_at),
        status: Set(Status::Pending),
        attempts: Set(0),
        max_attempts: Set(Ord::max(new.max_attempts, 1)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let res = job::Entity::insert(row)
        .on_conflict_do_nothing_on([job::Column::DedupeKey])
        .exec_without_returning(conn)
        .await?;
    Ok(matches!(res, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// Cancels a pending job that has not started (a reminder for something
/// that was cancelled). Returns whether one was cancelled.
pub async fn cancel<C: ConnectionTrait>(conn: &C, dedupe_key: &str) -> AppResult<bool> {
    let now = Utc::now();
    let r = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::value(Status::Cancelled))
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .filter(job::Column::DedupeKey.eq(dedupe_key))
        .filter(job::Column::Status.eq(Status::Pending))
        .filter(job::Column::LockedUntil.is_null().or(job::Column::LockedUntil.lt(now)))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The job row with that key, if any (tests, staff views).
pub async fn find<C: ConnectionTrait>(conn: &C, dedupe_key: &str) -> AppResult<Option<job::Model>> {
    Ok(job::Entity::find().filter(job::Column::DedupeKey.eq(dedupe_key)).one(conn).await?)
}

/// Wakes this instance's worker at once (after enqueueing something due now)
/// instead of at its next poll.
#[derive(Clone, Default)]
pub struct Kicker(Arc<tokio::sync::Notify>);

impl Kicker {
    pub fn kick(&self) {
        self.0.notify_one();
    }
}

/// Retry delay after the n-th failed attempt: 10 s, 20 s, 40 s … at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let secs = 10i64.saturating_mul(1i64 << attempts.clamp(1, 16).saturating_sub(1));
    Duration::seconds(Ord::min(secs, 3600))
}

/// Runs this instance's worker until the process ends.
pub fn spawn_worker(state: State) -> tokio::task::JoinHandle<()> {
    let instance = format!("{}-{}", hostname(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
    tracing::info!(%instance, "job worker started");
    tokio::spawn(async move {
        let poll = state.config.job_poll;
        loop {
            match run_due(&state, &instance).await {
                Ok(n) if n > 0 => continue, // there may be more
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "job worker: cannot read the job table; retrying"),
            }
            tokio::select! {
                _ = state.jobs.0.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    })
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| format!("pid{}", std::process::id()))
}

/// Claims and runs the jobs due now (at most a batch); returns how many ran.
pub async fn run_due(state: &State, instance: &str) -> AppResult<usize> {
    let now = Utc::now();
    let due = job::Entity::find()
        .filter(job::Column::Status.eq(Status::Pending))
        .filter(job::Column::RunAt.lte(now))
        .filter(job::Column::LockedUntil.is_null().or(job::Column::LockedUntil.lt(now)))
        .order_by_asc(job::Column::RunAt)
        .order_by_asc(job::Column::Id)
        .limit(20)
        .all(&state.db)
        .await?;
    let mut claimed = Vec::new();
    for j in due {
        if let Some(j) = claim(state, j, instance).await? {
            claimed.push(j);
        }
    }
    let n = claimed.len();
    use futures::StreamExt;
    futures::stream::iter(claimed)
        .for_each_concurrent(4, |j| async move {
            if let Err(e) = run_one(state, j, instance).await {
                tracing::warn!(error = %e, "job worker: cannot record a job's outcome");
            }
        })
        .await;
    Ok(n)
}

/// Compare-and-set: only one instance wins a job.
async fn claim(state: &State, j: job::Model, instance: &str) -> AppResult<Option<job::Model>> {
    let now = Utc::now();
    let lease = Duration::from_std(state.config.job_lease).unwrap_or(Duration::minutes(5));
    let r = job::Entity::update_many()
        .col_expr(job::Column::LockedBy, Expr::value(instance))
        .col_expr(job::Column::LockedUntil, Expr::value(now + lease))
        .col_expr(job::Column::Attempts, Expr::col(job::Column::Attempts).add(1))
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::Status.eq(Status::Pending))
        .filter(job::Column::LockedUntil.is_null().or(job::Column::LockedUntil.lt(now)))
        .exec(&state.db)
        .await?;
    Ok((r.rows_affected == 1).then(|| job::Model { attempts: j.attempts + 1, ..j }))
}

async fn run_one(state: &State, j: job::Model, instance: &str) -> AppResult<()> {
    // Stop before the lease runs out, so no other instance starts it meanwhile.
    let limit =
        state.config.job_lease.saturating_sub(std::time::Duration::from_secs(1)).max(std::time::Duration::from_secs(1));
    let outcome = match tokio::time::timeout(limit, dispatch(state, &j)).await {
        Ok(r) => r,
        Err(_) => Err(anyhow::anyhow!("timed out after {} s", limit.as_secs())),
    };
    let now = Utc::now();
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::LockedBy.eq(instance));
    match outcome {
        Ok(()) => {
            tracing::debug!(job = j.id, kind = %j.kind, "job done");
            update = update
                .col_expr(job::Column::Status, Expr::value(Status::Done))
                .col_expr(job::Column::FinishedAt, Expr::value(now));
        }
        Err(e) => {
            let message: String = format!("{e:#}").chars().take(500).collect();
            if j.attempts >= j.max_attempts {
                tracing::error!(job = j.id, kind = %j.kind, error = %message, "job failed for good");
                update = update
                    .col_expr(job::Column::Status, Expr::value(Status::Failed))
                    .col_expr(job::Column::FinishedAt, Expr::value(now));
            } else {
                tracing::warn!(job = j.id, kind = %j.kind, attempt = j.attempts, error = %message, "job failed; will retry");
                update = update.col_expr(job::Column::RunAt, Expr::value(now + backoff(j.attempts)));
            }
            update = update.col_expr(job::Column::LastError, Expr::value(message));
        }
    }
    update.exec(&state.db).await?;
    Ok(())
}

async fn dispatch(state: &State, j: &job::Model) -> anyhow::Result<()> {
    match state.job_handlers.0.get(j.kind.as_str()) {
        Some(run) => run(state.clone(), j.payload.clone()).await,
        None => Err(anyhow::anyhow!("unknown job kind {:?}", j.kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(4), Duration::seconds(80));
        assert_eq!(backoff(30), Duration::hours(1));
    }
}
