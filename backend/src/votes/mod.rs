//! Votes (投票): community polls and owners' decisions under Civil Code
//! Art. 278 (rules in `domain::votes`, rules.md §1).
//!
//! - A vote is made as a draft. When it opens (at its start time, by the
//!   `vote.open` job, or at once by staff) the roll is frozen into
//!   `vote_roll` (owner keys with their areas, or one row per eligible person
//!   for polls) and the rules, with the roll's hash, start the ballot chain.
//! - Casting is one transaction: the `vote_participation` primary key allows
//!   one ballot per key (claimed first, so a repeat is `already_voted` before
//!   any counter moves), then a guarded counter update on the vote
//!   (`status = 'open' AND ends_at > now`) serialises appends; the
//!   ballot row carries `prev_hash` and `hash`. Ballot rows cannot be updated
//!   or deleted (database triggers).
//! - Paper ballots are entered by one staff member and count only when a
//!   different one confirms them (CHECK in the database as well).
//! - Closing (at the end time by `vote.close`, or by staff) is a guarded
//!   update; the result is computed from the ballots and stored with the
//!   objection period.

mod ballots;
mod roll;
mod staff;
mod verify;
mod views;
pub use ballots::*;
pub use roll::*;
pub use staff::*;
pub use verify::*;
pub use views::*;

use crate::support::scope::managed_community;
use chrono::{Duration, TimeZone, Utc};
use domain::time::beijing_time;
use domain::time::local_input;
use domain::{
    notify::NotificationKind,
    payments::{format_receipt_code, normalize_receipt_code},
    votes::{
        self as dv, BallotRecord, Decision, Eligibility, Matter, MyStanding, NewVote, OwnerKey, OwnerTally,
        PaperStatus, PaperView, ReceiptView, RollRow, Rules, StaffVote, UnitOwners, VoteKind, VoteStatus, VoteView,
        Weight,
    },
    ErrorCode, OrgPath,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::{
    auth::CurrentUser,
    entities::{
        ballot, building, dwelling, org_unit, paper_ballot, residence, user, vote, vote_participation, vote_roll,
        vote_roll_owner,
    },
    error::{AppError, AppResult},
    jobs::{self, JobKind, NewJob},
    notify::{self, Draft},
    State,
};

pub(super) fn internal(msg: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("{msg}"))
}

pub(super) fn community_path(c: &org_unit::Model) -> AppResult<OrgPath> {
    OrgPath::parse(&c.path).ok_or_else(|| internal("bad org path"))
}

pub(super) async fn load(state: &State, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let v = vote::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = org_unit::Entity::find_by_id(v.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    Ok((v, c))
}

/// A vote the user may see (residents and staff of its community), else 404.
pub(super) async fn visible(state: &State, user: &CurrentUser, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let (v, c) = load(state, id).await?;
    let path = community_path(&c)?;
    if !crate::support::scope::in_scope(user, &path) || v.status == VoteStatus::Cancelled {
        return Err(ErrorCode::NotFound.into());
    }
    if v.status == VoteStatus::Draft && !user.can_manage(&path) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok((v, c))
}

pub(super) async fn managed(state: &State, staff: &CurrentUser, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let (v, c) = load(state, id).await?;
    if !staff.is_staff() || !staff.can_manage(&community_path(&c)?) {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok((v, c))
}

pub(super) fn kind_of(v: &vote::Model) -> VoteKind {
    v.kind
}

pub(super) fn status_of(v: &vote::Model) -> VoteStatus {
    v.status
}

pub(super) fn options_of(v: &vote::Model) -> Vec<String> {
    serde_json::from_str(&v.options).unwrap_or_default()
}

pub(super) fn job_key(what: &str, id: i64) -> String {
    format!("vote:{what}:{id}")
}

/// Creates a draft vote (staff of the community). It opens by itself at its
/// start time and closes at its end time.
pub async fn create(state: &State, staff: &CurrentUser, community_id: i64, new: NewVote) -> AppResult<i64> {
    let c = managed_community(state, staff, community_id).await?;
    create_for(state, &c, staff.id, new).await
}

/// `create` without the permission check (demo data).
pub(crate) async fn create_for(state: &State, c: &org_unit::Model, by: i64, new: NewVote) -> AppResult<i64> {
    if let Some(b) = new.building_id {
        let b = building::Entity::find_by_id(b).one(&state.db).await?.ok_or(ErrorCode::InvalidInput)?;
        if b.community_id != c.id {
            return Err(ErrorCode::InvalidInput.into());
        }
    }
    let at = |s: i64| Utc.timestamp_opt(s, 0).single().ok_or(ErrorCode::InvalidTime);
    let (starts, ends) = (at(new.starts_at)?, at(new.ends_at)?);
    let txn = state.db.begin().await?;
    let row = vote::Entity::insert(vote::ActiveModel {
        community_id: Set(c.id),
        building_id: Set(new.building_id),
        kind: Set(new.kind),
        title: Set(new.title),
        body: Set(new.body),
        options: Set(serde_json::to_string(&new.options).map_err(AppError::internal)?),
        max_choices: Set(new.max_choices as i32),
        matter: Set(new.matter.map(|m| m.item() as i32)),
        eligibility: Set(new.eligibility.as_str().into()),
        secret: Set(new.secret),
        live_results: Set(new.live_results),
        deemed_consent: Set(new.deemed_consent),
        objection_days: Set(new.objection_days as i32),
        status: Set(VoteStatus::Draft),
        starts_at: Set(starts),
        ends_at: Set(ends),
        total_area: Set(0),
        total_count: Set(0),
        participated_area: Set(0),
        participated_count: Set(0),
        ballot_count: Set(0),
        created_by: Set(by),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let id = row.last_insert_id;
    jobs::enqueue(&txn, NewJob::new(OPEN, job_key("open", id), VoteJob { vote_id: id }).at(starts)).await?;
    jobs::enqueue(&txn, NewJob::new(CLOSE, job_key("close", id), VoteJob { vote_id: id }).at(ends)).await?;
    // a day before the end, everyone on the roll who has not voted hears of it
    let remind_at = ends - Duration::hours(24);
    if remind_at > starts {
        jobs::enqueue(&txn, NewJob::new(REMIND, job_key("remind", id), VoteJob { vote_id: id }).at(remind_at)).await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(id)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VoteJob {
    pub vote_id: i64,
}

pub async fn open_job(state: &State, j: VoteJob) -> anyhow::Result<()> {
    match open(state, j.vote_id).await {
        Ok(()) => Ok(()),
        // already open, closed or cancelled: nothing to do
        Err(e) if e.code == ErrorCode::VoteNotOpen => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

pub async fn close_job(state: &State, j: VoteJob) -> anyhow::Result<()> {
    match close(state, j.vote_id).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::VoteNotOpen => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// Staff open a draft now (its start time moves to now).
pub async fn open_now(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    let (v, _) = managed(state, staff, id).await?;
    if status_of(&v) != VoteStatus::Draft {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let now = Utc::now();
    if v.starts_at > now {
        vote::Entity::update_many()
            .col_expr(vote::Column::StartsAt, Expr::value(now))
            .filter(vote::Column::Id.eq(id))
            .filter(vote::Column::Status.eq(VoteStatus::Draft))
            .exec(&state.db)
            .await?;
    }
    open(state, id).await
}

/// Staff close an open vote now (its end time moves to now).
pub async fn close_now(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    let (v, _) = managed(state, staff, id).await?;
    if status_of(&v) != VoteStatus::Open {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let now = Utc::now();
    vote::Entity::update_many()
        .col_expr(vote::Column::EndsAt, Expr::value(now))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Open))
        .filter(vote::Column::EndsAt.gt(now))
        .exec(&state.db)
        .await?;
    close(state, id).await.map(|_| ())
}

/// Withdraws a draft (nothing was frozen yet).
pub async fn cancel(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    managed(state, staff, id).await?;
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Cancelled))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Draft))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    Ok(())
}

/// The current time as Unix seconds (forms compare times against it).
pub fn now_ts() -> i64 {
    Utc::now().timestamp()
}

/// The staff form's default window: from now for seven days.
pub fn default_window() -> (String, String) {
    let now = Utc::now();
    (local_input(now), local_input(now + Duration::days(7)))
}

// ------------------------------------------------------------------ jobs

pub const OPEN: JobKind = JobKind("vote.open");
pub const CLOSE: JobKind = JobKind("vote.close");
pub const REMIND: JobKind = JobKind("vote.remind");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(OPEN, |s: State, j| async move { open_job(&s, j).await });
    h.add(CLOSE, |s: State, j| async move { close_job(&s, j).await });
    h.add(REMIND, |s: State, j| async move { remind_job(&s, j).await });
}
