//! Votes (投票): community polls and owners' decisions under Civil Code
//! Art. 278 (rules in `domain::vote`, rules.md §1).
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

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    notify::NotificationKind,
    payment::{format_receipt_code, normalize_receipt_code},
    vote::{
        self as dv, BallotRecord, Decision, Eligibility, Matter, MyStanding, NewVote, OwnerKey, OwnerTally, PaperView,
        ReceiptView, RollRow, Rules, StaffVote, UnitOwners, VoteKind, VoteStatus, VoteView, Weight,
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
    announcements::beijing_time,
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

fn internal(msg: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("{msg}"))
}

fn community_path(c: &org_unit::Model) -> AppResult<OrgPath> {
    OrgPath::parse(&c.path).ok_or_else(|| internal("bad org path"))
}

async fn managed_community(state: &State, staff: &CurrentUser, id: i64) -> AppResult<org_unit::Model> {
    let c = org_unit::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !staff.is_staff() || !staff.can_manage(&community_path(&c)?) || c.level != "community" {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(c)
}

async fn load(state: &State, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let v = vote::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = org_unit::Entity::find_by_id(v.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    Ok((v, c))
}

/// A vote the user may see (residents and staff of its community), else 404.
async fn visible(state: &State, user: &CurrentUser, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let (v, c) = load(state, id).await?;
    let path = community_path(&c)?;
    if !crate::announcements::in_scope(user, &path) || v.status == VoteStatus::Cancelled.as_str() {
        return Err(ErrorCode::NotFound.into());
    }
    if v.status == VoteStatus::Draft.as_str() && !user.can_manage(&path) {
        return Err(ErrorCode::NotFound.into());
    }
    Ok((v, c))
}

async fn managed(state: &State, staff: &CurrentUser, id: i64) -> AppResult<(vote::Model, org_unit::Model)> {
    let (v, c) = load(state, id).await?;
    if !staff.is_staff() || !staff.can_manage(&community_path(&c)?) {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok((v, c))
}

fn kind_of(v: &vote::Model) -> VoteKind {
    VoteKind::parse(&v.kind).unwrap_or(VoteKind::Poll)
}

fn status_of(v: &vote::Model) -> VoteStatus {
    VoteStatus::parse(&v.status).unwrap_or(VoteStatus::Draft)
}

fn options_of(v: &vote::Model) -> Vec<String> {
    serde_json::from_str(&v.options).unwrap_or_default()
}

fn job_key(what: &str, id: i64) -> String {
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
        kind: Set(new.kind.as_str().into()),
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
        status: Set(VoteStatus::Draft.as_str().into()),
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
    jobs::enqueue(&txn, NewJob::new(JobKind::VoteOpen, job_key("open", id), VoteJob { vote_id: id }).at(starts))
        .await?;
    jobs::enqueue(&txn, NewJob::new(JobKind::VoteClose, job_key("close", id), VoteJob { vote_id: id }).at(ends))
        .await?;
    // a day before the end, everyone on the roll who has not voted hears of it
    let remind_at = ends - Duration::hours(24);
    if remind_at > starts {
        jobs::enqueue(
            &txn,
            NewJob::new(JobKind::VoteRemind, job_key("remind", id), VoteJob { vote_id: id }).at(remind_at),
        )
        .await?;
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
            .filter(vote::Column::Status.eq(VoteStatus::Draft.as_str()))
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
        .filter(vote::Column::Status.eq(VoteStatus::Open.as_str()))
        .filter(vote::Column::EndsAt.gt(now))
        .exec(&state.db)
        .await?;
    close(state, id).await.map(|_| ())
}

/// Withdraws a draft (nothing was frozen yet).
pub async fn cancel(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    managed(state, staff, id).await?;
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Cancelled.as_str()))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Draft.as_str()))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    Ok(())
}

/// The frozen roll, before it is written.
struct Roll {
    keys: Vec<OwnerKey>,
    labels: Vec<String>,
}

/// Units in scope with their owners, and the owner keys (Art. 278).
async fn owner_roll(state: &State, v: &vote::Model) -> AppResult<Roll> {
    let buildings = match v.building_id {
        Some(b) => building::Entity::find_by_id(b).all(&state.db).await?,
        None => {
            building::Entity::find().filter(building::Column::CommunityId.eq(v.community_id)).all(&state.db).await?
        }
    };
    let names: HashMap<i64, String> = buildings.iter().map(|b| (b.id, b.name.clone())).collect();
    let dwellings = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(buildings.iter().map(|b| b.id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    let mut owners: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in dwellings.chunks(5_000) {
        let rows = residence::Entity::find()
            .filter(residence::Column::DwellingId.is_in(chunk.iter().map(|d| d.id).collect::<Vec<_>>()))
            .filter(residence::Column::Status.eq("approved"))
            .filter(residence::Column::Relation.is_in(["owner", "co_owner"]))
            .all(&state.db)
            .await?;
        for r in rows {
            owners.entry(r.dwelling_id).or_default().push(r.user_id);
        }
    }
    let mut units = Vec::with_capacity(dwellings.len());
    let mut address: HashMap<i64, String> = HashMap::new();
    for d in &dwellings {
        let area = dv::effective_area(d.area_centi_m2, d.surveyed_area_centi_m2, d.contract_area_centi_m2)
            .ok_or(ErrorCode::RollIncomplete)?;
        address.insert(
            d.id,
            format!("{}{}{}", names.get(&d.building_id).map(String::as_str).unwrap_or(""), d.entrance, d.room),
        );
        units.push(UnitOwners {
            unit: d.id,
            area,
            owners: owners.remove(&d.id).unwrap_or_default(),
            developer: d.developer_held,
        });
    }
    let keys = dv::owner_keys(&units);
    let labels = keys
        .iter()
        .map(|k| {
            let first = k.units.first().and_then(|u| address.get(u)).cloned().unwrap_or_default();
            let label = if k.developer {
                format!("建设单位未售房屋 {first} 等")
            } else if k.units.len() > 1 {
                format!("{first} 等")
            } else {
                first
            };
            if k.units.len() > 1 {
                format!("{label}{}套", k.units.len())
            } else {
                label
            }
        })
        .collect();
    Ok(Roll { keys, labels })
}

/// One key per eligible person (polls): verified residents, or owners only.
async fn poll_roll(state: &State, v: &vote::Model) -> AppResult<Roll> {
    let buildings: Vec<i64> = match v.building_id {
        Some(b) => vec![b],
        None => building::Entity::find()
            .filter(building::Column::CommunityId.eq(v.community_id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|b| b.id)
            .collect(),
    };
    let dwellings: Vec<i64> = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(buildings))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let mut people: Vec<i64> = vec![];
    for chunk in dwellings.chunks(5_000) {
        let mut q = residence::Entity::find()
            .filter(residence::Column::DwellingId.is_in(chunk.to_vec()))
            .filter(residence::Column::Status.eq("approved"));
        if v.eligibility == Eligibility::Owners.as_str() {
            q = q.filter(residence::Column::Relation.is_in(["owner", "co_owner"]));
        }
        people.extend(q.all(&state.db).await?.into_iter().map(|r| r.user_id));
    }
    people.sort_unstable();
    people.dedup();
    let keys: Vec<OwnerKey> = people
        .iter()
        .enumerate()
        .map(|(i, u)| OwnerKey { key_no: i as i64 + 1, units: vec![], area: 0, owners: vec![*u], developer: false })
        .collect();
    let labels = keys.iter().map(|k| format!("居民 {}", k.key_no)).collect();
    Ok(Roll { keys, labels })
}

fn rules_of(v: &vote::Model, total: Weight, roll_hash: String) -> Rules {
    Rules {
        vote_id: v.id,
        kind: kind_of(v),
        title: v.title.clone(),
        body: v.body.clone(),
        options: options_of(v),
        max_choices: v.max_choices as i64,
        matter: v.matter.and_then(|m| Matter::from_item(m as i64)),
        eligibility: Eligibility::parse(&v.eligibility).unwrap_or(Eligibility::Residents),
        community_id: v.community_id,
        building_id: v.building_id,
        secret: v.secret,
        live_results: v.live_results,
        deemed_consent: v.deemed_consent,
        starts_at: v.starts_at.to_rfc3339(),
        ends_at: v.ends_at.to_rfc3339(),
        total,
        roll_hash,
    }
}

/// Freezes the roll and the rules into the chain and opens the vote.
pub async fn open(state: &State, id: i64) -> AppResult<()> {
    let (v, _) = load(state, id).await?;
    if status_of(&v) != VoteStatus::Draft {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let roll = match kind_of(&v) {
        VoteKind::Owners => owner_roll(state, &v).await?,
        VoteKind::Poll => poll_roll(state, &v).await?,
    };
    let rows: Vec<(i64, i64, Vec<i64>, Option<i64>)> =
        roll.keys.iter().map(|k| (k.key_no, k.area, k.units.clone(), dv::designated_voter(&k.owners, &[]))).collect();
    let total = Weight { area: roll.keys.iter().map(|k| k.area).sum(), count: roll.keys.len() as i64 };
    let roll_hash = dv::sha256_hex(dv::roll_bytes(&rows).as_bytes());
    let now = Utc::now();
    let rules = rules_of(&v, total, roll_hash);
    let h0 = dv::chain_start(&rules);
    let txn = state.db.begin().await?;
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Open.as_str()))
        .col_expr(vote::Column::TotalArea, Expr::value(total.area))
        .col_expr(vote::Column::TotalCount, Expr::value(total.count))
        .col_expr(vote::Column::RulesText, Expr::value(rules.canonical()))
        .col_expr(vote::Column::HeadHash, Expr::value(h0))
        .col_expr(vote::Column::OpenedAt, Expr::value(now))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Draft.as_str()))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let roll_rows: Vec<vote_roll::ActiveModel> = roll
        .keys
        .iter()
        .zip(&roll.labels)
        .zip(&rows)
        .map(|((k, label), row)| vote_roll::ActiveModel {
            vote_id: Set(id),
            key_no: Set(k.key_no),
            area: Set(k.area),
            units: Set(k.units.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(",")),
            label: Set(label.chars().take(200).collect()),
            developer: Set(k.developer),
            voter_user_id: Set(row.3),
        })
        .collect();
    for chunk in roll_rows.chunks(2_000) {
        vote_roll::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    let owner_rows: Vec<vote_roll_owner::ActiveModel> = roll
        .keys
        .iter()
        .filter(|k| k.owners.len() > 1 || kind_of(&v) == VoteKind::Owners)
        .flat_map(|k| {
            k.owners.iter().map(move |o| vote_roll_owner::ActiveModel {
                vote_id: Set(id),
                key_no: Set(k.key_no),
                user_id: Set(*o),
                designee_user_id: Set(None),
            })
        })
        .collect();
    for chunk in owner_rows.chunks(2_000) {
        vote_roll_owner::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    // opened early (by staff): the start-time job has nothing left to do
    jobs::cancel(&txn, &job_key("open", id)).await?;
    txn.commit().await?;
    Ok(())
}

/// The live figures: per option weights and the owners' tally.
async fn tally<C: ConnectionTrait>(conn: &C, v: &vote::Model) -> AppResult<(Vec<Weight>, OwnerTally)> {
    let options = options_of(v).len();
    let mut per = vec![Weight::default(); options];
    if v.max_choices == 1 {
        let rows: Vec<(Option<i32>, i64, i64)> = ballot::Entity::find()
            .select_only()
            .column(ballot::Column::Choice)
            .column_as(Expr::cust("CAST(COALESCE(SUM(area), 0) AS BIGINT)"), "area")
            .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
            .filter(ballot::Column::VoteId.eq(v.id))
            .group_by(ballot::Column::Choice)
            .into_tuple()
            .all(conn)
            .await?;
        for (choice, area, n) in rows {
            if let Some(w) = choice.and_then(|c| per.get_mut((c as usize).wrapping_sub(1))) {
                *w = *w + Weight { area, count: n };
            }
        }
    } else {
        let rows: Vec<(String, i64)> = ballot::Entity::find()
            .select_only()
            .column(ballot::Column::Choices)
            .column(ballot::Column::Area)
            .filter(ballot::Column::VoteId.eq(v.id))
            .into_tuple()
            .all(conn)
            .await?;
        for (choices, area) in rows {
            for c in choices.split(',').filter_map(|c| c.parse::<usize>().ok()) {
                if let Some(w) = per.get_mut(c.wrapping_sub(1)) {
                    *w = *w + Weight { area, count: 1 };
                }
            }
        }
    }
    let at = |i: usize| per.get(i).copied().unwrap_or_default();
    let t = OwnerTally {
        total: Weight { area: v.total_area, count: v.total_count },
        participated: Weight { area: v.participated_area, count: v.participated_count },
        yes: at(0),
        no: at(1),
        abstain: at(2),
    };
    Ok((per, t))
}

/// What is stored at closing.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    per_option: Vec<Weight>,
    decision: Option<Decision>,
}

/// Closes the vote and stores the result (guarded: once).
pub async fn close(state: &State, id: i64) -> AppResult<Option<Decision>> {
    let now = Utc::now();
    let (v, _) = load(state, id).await?;
    let txn = state.db.begin().await?;
    let objection_until = now + Duration::days(v.objection_days as i64);
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Closed.as_str()))
        .col_expr(vote::Column::ClosedAt, Expr::value(now))
        .col_expr(vote::Column::ObjectionUntil, Expr::value(objection_until))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Open.as_str()))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    // read again inside the transaction: the counters are final now
    let v = vote::Entity::find_by_id(id).one(&txn).await?.ok_or(ErrorCode::NotFound)?;
    let (per_option, t) = tally(&txn, &v).await?;
    let decision = match (kind_of(&v), v.matter.and_then(|m| Matter::from_item(m as i64))) {
        (VoteKind::Owners, Some(m)) => Some(dv::decide(m, &t, v.deemed_consent)),
        _ => None,
    };
    let stored = serde_json::to_string(&Stored { per_option, decision }).map_err(AppError::internal)?;
    vote::Entity::update_many()
        .col_expr(vote::Column::Result, Expr::value(stored))
        .filter(vote::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(decision)
}

/// Appends one ballot (inside `txn`, which it begins with the guarded
/// counter update). Returns the receipt code and the sequence number.
async fn append(
    txn: &DatabaseTransaction,
    v: &vote::Model,
    key_no: i64,
    area: i64,
    choices: &[i64],
    channel: &str,
) -> AppResult<(String, i64, i64)> {
    let now = Utc::now();
    // One ballot per key first: a repeat (online twice, or a paper ballot
    // confirmed for a home that has just voted online) is `already_voted`
    // before any counter moves, so no CHECK on the counters can fire.
    let taken =
        vote_participation::Entity::insert(vote_participation::ActiveModel { vote_id: Set(v.id), key_no: Set(key_no) })
            .on_conflict_do_nothing_on([vote_participation::Column::VoteId, vote_participation::Column::KeyNo])
            .exec_without_returning(txn)
            .await?;
    if !matches!(taken, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Err(ErrorCode::AlreadyVoted.into());
    }
    // the guarded counter update serialises appends to the chain
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::BallotCount, Expr::col(vote::Column::BallotCount).add(1))
        .col_expr(vote::Column::ParticipatedCount, Expr::col(vote::Column::ParticipatedCount).add(1))
        .col_expr(vote::Column::ParticipatedArea, Expr::col(vote::Column::ParticipatedArea).add(area))
        .filter(vote::Column::Id.eq(v.id))
        .filter(vote::Column::Status.eq(VoteStatus::Open.as_str()))
        .filter(vote::Column::EndsAt.gt(now))
        .exec(txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let head = vote::Entity::find_by_id(v.id).one(txn).await?.ok_or(ErrorCode::NotFound)?;
    let prev = head.head_hash.clone().ok_or_else(|| internal("open vote without a chain"))?;
    let receipt = crate::payments::new_receipt_code();
    let record = BallotRecord {
        vote_id: v.id,
        seq: head.ballot_count,
        key_no: (!v.secret).then_some(key_no),
        area,
        choices: choices.to_vec(),
        channel: channel.into(),
        receipt_hash: dv::sha256_hex(receipt.as_bytes()),
        // a secret ballot carries its day only: a time to the second could be
        // matched with who was seen voting then
        cast_at: if v.secret { now.format("%Y-%m-%d") } else { now.format("%Y-%m-%dT%H:%M:%SZ") }.to_string(),
    };
    let hash = dv::chain_next(&prev, &record)?;
    let inserted = ballot::Entity::insert(ballot::ActiveModel {
        vote_id: Set(v.id),
        seq: Set(record.seq),
        key_no: Set(record.key_no),
        area: Set(area),
        choices: Set(choices.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")),
        choice: Set((choices.len() == 1 && v.max_choices == 1).then(|| choices[0] as i32)),
        channel: Set(channel.into()),
        receipt: Set(receipt.clone()),
        cast_at: Set(record.cast_at.clone()),
        prev_hash: Set(prev),
        hash: Set(hash.clone()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    vote::Entity::update_many()
        .col_expr(vote::Column::HeadHash, Expr::value(hash))
        .filter(vote::Column::Id.eq(v.id))
        .exec(txn)
        .await?;
    Ok((receipt, record.seq, inserted.last_insert_id))
}

/// A resident casts their ballot online. Returns the receipt code.
pub async fn cast(state: &State, user: &CurrentUser, id: i64, raw: &[String]) -> AppResult<String> {
    let (v, _) = visible(state, user, id).await?;
    if status_of(&v) != VoteStatus::Open || v.ends_at <= Utc::now() {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let choices = dv::parse_choices(raw, options_of(&v).len(), v.max_choices as usize)?;
    let key = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .filter(vote_roll::Column::VoterUserId.eq(user.id))
        .one(&state.db)
        .await?;
    let Some(key) = key else {
        let owner = vote_roll_owner::Entity::find()
            .filter(vote_roll_owner::Column::VoteId.eq(id))
            .filter(vote_roll_owner::Column::UserId.eq(user.id))
            .one(&state.db)
            .await?;
        return Err(if owner.is_some() { ErrorCode::NeedsDesignation } else { ErrorCode::NotOnRoll }.into());
    };
    let txn = state.db.begin().await?;
    let (receipt, _, _) = append(&txn, &v, key.key_no, key.area, &choices, "online").await?;
    txn.commit().await?;
    Ok(receipt)
}

/// A co-owner designates who of them casts the key's ballot (themselves or
/// another co-owner). When all registered co-owners name the same person,
/// that person is the key's voter. Possible until the key has voted.
pub async fn designate(state: &State, user: &CurrentUser, id: i64, designee: i64) -> AppResult<Option<i64>> {
    let (v, _) = visible(state, user, id).await?;
    if status_of(&v) != VoteStatus::Open {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let me = vote_roll_owner::Entity::find()
        .filter(vote_roll_owner::Column::VoteId.eq(id))
        .filter(vote_roll_owner::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotOnRoll)?;
    let txn = state.db.begin().await?;
    let owners = vote_roll_owner::Entity::find()
        .filter(vote_roll_owner::Column::VoteId.eq(id))
        .filter(vote_roll_owner::Column::KeyNo.eq(me.key_no))
        .all(&txn)
        .await?;
    if !owners.iter().any(|o| o.user_id == designee) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let voted = vote_participation::Entity::find_by_id((id, me.key_no)).one(&txn).await?.is_some();
    if voted {
        return Err(ErrorCode::AlreadyVoted.into());
    }
    vote_roll_owner::Entity::update_many()
        .col_expr(vote_roll_owner::Column::DesigneeUserId, Expr::value(designee))
        .filter(vote_roll_owner::Column::VoteId.eq(id))
        .filter(vote_roll_owner::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let ids: Vec<i64> = owners.iter().map(|o| o.user_id).collect();
    let designations: Vec<(i64, i64)> = owners
        .iter()
        .map(|o| (o.user_id, if o.user_id == user.id { Some(designee) } else { o.designee_user_id }))
        .filter_map(|(by, to)| to.map(|t| (by, t)))
        .collect();
    let voter = dv::designated_voter(&ids, &designations);
    vote_roll::Entity::update_many()
        .col_expr(vote_roll::Column::VoterUserId, Expr::value(voter))
        .filter(vote_roll::Column::VoteId.eq(id))
        .filter(vote_roll::Column::KeyNo.eq(me.key_no))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(voter)
}

fn view_of(v: &vote::Model, c: &org_unit::Model, building: Option<String>, per: Vec<Weight>, show: bool) -> VoteView {
    let stored: Option<Stored> = v.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let total = Weight { area: v.total_area, count: v.total_count };
    let participated = Weight { area: v.participated_area, count: v.participated_count };
    VoteView {
        id: v.id,
        kind: kind_of(v),
        title: v.title.clone(),
        body: v.body.clone(),
        options: options_of(v),
        max_choices: v.max_choices as i64,
        matter: v.matter.and_then(|m| Matter::from_item(m as i64)),
        eligibility: Eligibility::parse(&v.eligibility).unwrap_or(Eligibility::Residents),
        community: c.name.clone(),
        building,
        secret: v.secret,
        live_results: v.live_results,
        deemed_consent: v.deemed_consent,
        status: status_of(v),
        starts_at: beijing_time(v.starts_at),
        ends_at: beijing_time(v.ends_at),
        objection_until: v.objection_until.map(beijing_time),
        total,
        participated,
        gap: dv::quorum_gap(total, participated),
        ballots: v.ballot_count,
        head_hash: v.head_hash.clone(),
        results: if show { stored.as_ref().map(|s| s.per_option.clone()).unwrap_or(per) } else { vec![] },
        decision: stored.and_then(|s| s.decision),
    }
}

async fn building_name(state: &State, v: &vote::Model) -> AppResult<Option<String>> {
    Ok(match v.building_id {
        Some(b) => building::Entity::find_by_id(b).one(&state.db).await?.map(|b| b.name),
        None => None,
    })
}

/// One vote as the user may see it: results only once closed, or live for
/// polls that say so.
pub async fn view(state: &State, user: &CurrentUser, id: i64) -> AppResult<VoteView> {
    let (v, c) = visible(state, user, id).await?;
    let status = status_of(&v);
    let show = status == VoteStatus::Closed || (status == VoteStatus::Open && v.live_results);
    let per = if show && v.result.is_none() { tally(&state.db, &v).await?.0 } else { vec![] };
    Ok(view_of(&v, &c, building_name(state, &v).await?, per, show))
}

/// Votes of the user's communities (staff: those they manage, drafts too).
pub async fn list(state: &State, user: &CurrentUser) -> AppResult<Vec<VoteView>> {
    let ids = crate::org::visible_ids(state, user).await?;
    let rows = vote::Entity::find()
        .filter(vote::Column::CommunityId.is_in(ids))
        .filter(vote::Column::Status.ne(VoteStatus::Cancelled.as_str()))
        .order_by_desc(vote::Column::StartsAt)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut out = vec![];
    let mut communities: HashMap<i64, org_unit::Model> = HashMap::new();
    for v in rows {
        if !communities.contains_key(&v.community_id) {
            if let Some(c) = org_unit::Entity::find_by_id(v.community_id).one(&state.db).await? {
                communities.insert(c.id, c);
            }
        }
        let Some(c) = communities.get(&v.community_id) else { continue };
        let path = community_path(c)?;
        if !crate::announcements::in_scope(user, &path)
            || (v.status == VoteStatus::Draft.as_str() && !user.can_manage(&path))
        {
            continue;
        }
        let b = building_name(state, &v).await?;
        let show = v.status == VoteStatus::Closed.as_str();
        out.push(view_of(&v, c, b, vec![], show));
    }
    Ok(out)
}

/// Where the user stands: on the roll, designated, voted (with the receipt).
pub async fn standing(state: &State, user: &CurrentUser, id: i64) -> AppResult<MyStanding> {
    let (v, _) = visible(state, user, id).await?;
    if status_of(&v) == VoteStatus::Draft {
        return Ok(MyStanding::NotOnRoll);
    }
    let key = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .filter(vote_roll::Column::VoterUserId.eq(user.id))
        .one(&state.db)
        .await?;
    let owner = vote_roll_owner::Entity::find()
        .filter(vote_roll_owner::Column::VoteId.eq(id))
        .filter(vote_roll_owner::Column::UserId.eq(user.id))
        .one(&state.db)
        .await?;
    let key_no = match (&key, &owner) {
        (Some(k), _) => k.key_no,
        (None, Some(o)) => o.key_no,
        (None, None) => return Ok(MyStanding::NotOnRoll),
    };
    if !v.secret {
        if let Some(b) = ballot::Entity::find()
            .filter(ballot::Column::VoteId.eq(id))
            .filter(ballot::Column::KeyNo.eq(key_no))
            .one(&state.db)
            .await?
        {
            return Ok(MyStanding::Voted {
                key_no,
                receipt: format_receipt_code(&b.receipt),
                seq: b.seq,
                choices: parse_list(&b.choices),
                channel: b.channel,
            });
        }
    } else if vote_participation::Entity::find_by_id((id, key_no)).one(&state.db).await?.is_some() {
        return Ok(MyStanding::Voted {
            key_no,
            receipt: String::new(),
            seq: 0,
            choices: vec![],
            channel: String::new(),
        });
    }
    if let Some(k) = key {
        return Ok(MyStanding::MayVote { key_no, area: k.area });
    }
    let row = vote_roll::Entity::find_by_id((id, key_no)).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if let Some(voter) = row.voter_user_id {
        let name = user::Entity::find_by_id(voter).one(&state.db).await?.map(|u| u.name).unwrap_or_default();
        return Ok(MyStanding::OtherVoter { key_no, voter: name });
    }
    let co = vote_roll_owner::Entity::find()
        .filter(vote_roll_owner::Column::VoteId.eq(id))
        .filter(vote_roll_owner::Column::KeyNo.eq(key_no))
        .all(&state.db)
        .await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(co.iter().map(|o| o.user_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    Ok(MyStanding::NeedsDesignation {
        key_no,
        co_owners: users.into_iter().map(|u| (u.id, u.name)).collect(),
        mine: owner.and_then(|o| o.designee_user_id),
    })
}

fn parse_list(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|c| c.parse().ok()).collect()
}

/// Loads a vote's ballots in chain order and recomputes the chain.
async fn verify(state: &State, v: &vote::Model) -> AppResult<(bool, Vec<ballot::Model>)> {
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::VoteId.eq(v.id))
        .order_by_asc(ballot::Column::Seq)
        .all(&state.db)
        .await?;
    let ok = match &v.rules_text {
        None => ballots.is_empty(),
        Some(rules) => {
            let records: Vec<(BallotRecord, String, String)> =
                ballots.iter().map(|b| (record_of(b), b.prev_hash.clone(), b.hash.clone())).collect();
            verify_text(rules, &records).as_deref() == Some(v.head_hash.as_deref().unwrap_or(""))
        }
    };
    Ok((ok, ballots))
}

fn record_of(b: &ballot::Model) -> BallotRecord {
    BallotRecord {
        vote_id: b.vote_id,
        seq: b.seq,
        key_no: b.key_no,
        area: b.area,
        choices: parse_list(&b.choices),
        channel: b.channel.clone(),
        receipt_hash: dv::sha256_hex(b.receipt.as_bytes()),
        cast_at: b.cast_at.clone(),
    }
}

/// Verifies a chain against the stored canonical rules text.
fn verify_text(rules_text: &str, ballots: &[(BallotRecord, String, String)]) -> Option<String> {
    let mut head = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update([0u8; 32]);
        h.update(rules_text.as_bytes());
        hex::encode(h.finalize())
    };
    for (i, (b, prev, hash)) in ballots.iter().enumerate() {
        if b.seq != i as i64 + 1 || *prev != head {
            return None;
        }
        let h = dv::chain_next(&head, b).ok()?;
        if h != *hash {
            return None;
        }
        head = h;
    }
    Some(head)
}

/// Anyone holding a receipt code checks that their ballot is in the chain
/// and that the chain holds from the rules to the head.
pub async fn receipt(state: &State, code: &str) -> AppResult<ReceiptView> {
    let code = normalize_receipt_code(code).ok_or(ErrorCode::NotFound)?;
    let b = ballot::Entity::find()
        .filter(ballot::Column::Receipt.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let (v, _) = load(state, b.vote_id).await?;
    let (ok, ballots) = verify(state, &v).await?;
    let options = options_of(&v);
    Ok(ReceiptView {
        vote_id: v.id,
        title: v.title.clone(),
        seq: b.seq,
        // a secret ballot's receipt proves it was counted, never how it was
        // cast: a receipt that showed the choice could be sold with the vote
        secret: v.secret,
        choices: if v.secret {
            vec![]
        } else {
            parse_list(&b.choices)
                .into_iter()
                .map(|c| options.get((c as usize).wrapping_sub(1)).cloned().unwrap_or_default())
                .collect()
        },
        channel: b.channel.clone(),
        cast_at: b.cast_at.clone(),
        hash: b.hash.clone(),
        head_hash: v.head_hash.clone().unwrap_or_default(),
        ballots: ballots.len() as i64,
        chain_ok: ok,
    })
}

/// The published chain: the rules text and every ballot as hashed (receipt
/// codes replaced by their SHA-256).
///
/// While the vote is open only what shows that nothing is changed is
/// published: each ballot's sequence number, receipt hash, previous hash and
/// hash, and the running head. Whose ballot it is, its area, choices, channel
/// and time are `null` until the vote closes: a key number beside a choice
/// would show staff (who can match keys to homes) each home's vote live, and
/// a poll's tally before its time. At closing everything is revealed, with
/// the frozen roll the rules' `roll` line commits to, so anyone can recompute
/// the roll hash, every ballot hash and the tally.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chain {
    pub vote_id: i64,
    pub rules: String,
    pub head_hash: String,
    /// Whether the ballots' contents and the roll are shown (after closing).
    pub revealed: bool,
    pub ballots: Vec<ChainEntry>,
    /// The frozen roll, after closing: `sha256(roll text)` is the rules'
    /// `roll` line, the text being `zhsq-vote-roll/1\n` then one line per key
    /// `key|area|unit ids joined by ,|voter user id or empty`.
    pub roll: Option<Vec<RollKey>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainEntry {
    pub seq: i64,
    pub key_no: Option<i64>,
    pub area: Option<i64>,
    pub choices: Option<Vec<i64>>,
    pub channel: Option<String>,
    pub receipt_hash: String,
    pub cast_at: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// One key of the frozen roll, as the roll hash commits to it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RollKey {
    pub key_no: i64,
    /// 0.01 m² (owners' decisions), 0 for a poll
    pub area: i64,
    pub units: Vec<i64>,
    /// who was to cast the key's ballot when the roll froze (co-owners: none yet)
    pub voter: Option<i64>,
}

pub async fn chain(state: &State, user: &CurrentUser, id: i64) -> AppResult<Chain> {
    let (v, _) = visible(state, user, id).await?;
    if status_of(&v) == VoteStatus::Draft {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let (_, ballots) = verify(state, &v).await?;
    let revealed = status_of(&v) == VoteStatus::Closed;
    Ok(Chain {
        vote_id: v.id,
        rules: v.rules_text.clone().unwrap_or_default(),
        head_hash: v.head_hash.clone().unwrap_or_default(),
        revealed,
        ballots: ballots
            .iter()
            .map(|b| {
                let r = record_of(b);
                ChainEntry {
                    seq: r.seq,
                    key_no: r.key_no.filter(|_| revealed),
                    area: revealed.then_some(r.area),
                    choices: revealed.then_some(r.choices),
                    channel: revealed.then_some(r.channel),
                    receipt_hash: r.receipt_hash,
                    cast_at: revealed.then_some(r.cast_at),
                    prev_hash: b.prev_hash.clone(),
                    hash: b.hash.clone(),
                }
            })
            .collect(),
        roll: if revealed { Some(frozen_roll(state, v.id).await?) } else { None },
    })
}

/// The roll as it froze at opening (the voter a key had then: its single
/// owner, none for co-owners who had yet to designate), in key order.
pub async fn frozen_roll(state: &State, id: i64) -> AppResult<Vec<RollKey>> {
    let roll = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .order_by_asc(vote_roll::Column::KeyNo)
        .all(&state.db)
        .await?;
    let mut owners: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for o in vote_roll_owner::Entity::find().filter(vote_roll_owner::Column::VoteId.eq(id)).all(&state.db).await? {
        owners.entry(o.key_no).or_default().push(o.user_id);
    }
    Ok(roll
        .into_iter()
        .map(|r| RollKey {
            key_no: r.key_no,
            area: r.area,
            units: parse_list(&r.units),
            voter: match owners.get(&r.key_no) {
                Some(o) => dv::designated_voter(o, &[]),
                None => r.voter_user_id,
            },
        })
        .collect())
}

/// The staff view of one vote: roll with turnout (never choices while open),
/// paper ballots to confirm, chain check.
pub async fn staff_view(state: &State, staff: &CurrentUser, id: i64) -> AppResult<StaffVote> {
    let (v, c) = managed(state, staff, id).await?;
    let status = status_of(&v);
    let show = status == VoteStatus::Closed || (status == VoteStatus::Open && v.live_results);
    let per = if show && v.result.is_none() { tally(&state.db, &v).await?.0 } else { vec![] };
    let view = view_of(&v, &c, building_name(state, &v).await?, per, show);
    let roll = vote_roll::Entity::find()
        .filter(vote_roll::Column::VoteId.eq(id))
        .order_by_asc(vote_roll::Column::KeyNo)
        .limit(2_000)
        .all(&state.db)
        .await?;
    let voted: std::collections::HashSet<i64> = vote_participation::Entity::find()
        .filter(vote_participation::Column::VoteId.eq(id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| p.key_no)
        .collect();
    let owners = vote_roll_owner::Entity::find().filter(vote_roll_owner::Column::VoteId.eq(id)).all(&state.db).await?;
    let papers = paper_ballot::Entity::find()
        .filter(paper_ballot::Column::VoteId.eq(id))
        .filter(paper_ballot::Column::Status.eq("pending"))
        .order_by_asc(paper_ballot::Column::Id)
        .all(&state.db)
        .await?;
    let mut people: Vec<i64> = owners.iter().map(|o| o.user_id).collect();
    people.extend(roll.iter().filter_map(|r| r.voter_user_id));
    people.extend(papers.iter().map(|p| p.entered_by));
    let names: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(people))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut owners_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for o in &owners {
        owners_of.entry(o.key_no).or_default().push(names.get(&o.user_id).cloned().unwrap_or_default());
    }
    let poll = kind_of(&v) == VoteKind::Poll;
    let labels: HashMap<i64, String> = roll.iter().map(|r| (r.key_no, r.label.clone())).collect();
    let options = options_of(&v);
    let (chain_ok, _) = verify(state, &v).await?;
    // a secret ballot's participation is not shown row by row while it is
    // open: staff reloading the roll would see names ticked in the order the
    // ballots enter the chain, and at closing match each to its choice
    let participation_hidden = v.secret && status == VoteStatus::Open;
    Ok(StaffVote {
        participation_hidden,
        vote: view,
        roll: roll
            .iter()
            .map(|r| RollRow {
                key_no: r.key_no,
                label: if poll {
                    names.get(&r.voter_user_id.unwrap_or(0)).cloned().unwrap_or_else(|| r.label.clone())
                } else {
                    r.label.clone()
                },
                area: r.area,
                owners: owners_of.get(&r.key_no).cloned().unwrap_or_default(),
                voter: r.voter_user_id.and_then(|u| names.get(&u).cloned()),
                voted: !participation_hidden && voted.contains(&r.key_no),
                pending_paper: papers.iter().any(|p| p.key_no == r.key_no),
            })
            .collect(),
        pending: papers
            .iter()
            .map(|p| PaperView {
                id: p.id,
                key_no: p.key_no,
                label: labels.get(&p.key_no).cloned().unwrap_or_default(),
                choices: parse_list(&p.choices)
                    .into_iter()
                    .map(|c| options.get((c as usize).wrapping_sub(1)).cloned().unwrap_or_default())
                    .collect(),
                note: p.note.clone().unwrap_or_default(),
                entered_by: names.get(&p.entered_by).cloned().unwrap_or_default(),
                entered_by_me: p.entered_by == staff.id,
                entered_at: beijing_time(p.entered_at),
            })
            .collect(),
        chain_ok,
    })
}

/// Staff enter a paper ballot for a key; it counts once another staff
/// member confirms it.
pub async fn enter_paper(
    state: &State,
    staff: &CurrentUser,
    id: i64,
    key_no: i64,
    raw: &[String],
    note: &str,
) -> AppResult<i64> {
    let (v, _) = managed(state, staff, id).await?;
    if status_of(&v) != VoteStatus::Open {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let choices = dv::parse_choices(raw, options_of(&v).len(), v.max_choices as usize)?;
    vote_roll::Entity::find_by_id((id, key_no)).one(&state.db).await?.ok_or(ErrorCode::NotOnRoll)?;
    if vote_participation::Entity::find_by_id((id, key_no)).one(&state.db).await?.is_some() {
        return Err(ErrorCode::AlreadyVoted.into());
    }
    let note: String = note.trim().chars().take(200).collect();
    let r = paper_ballot::Entity::insert(paper_ballot::ActiveModel {
        vote_id: Set(id),
        key_no: Set(key_no),
        choices: Set(choices.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")),
        status: Set("pending".into()),
        note: Set((!note.is_empty()).then_some(note)),
        entered_by: Set(staff.id),
        entered_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await
    .map_err(|e| if crate::db::is_unique_violation(&e) { ErrorCode::Conflict.into() } else { AppError::from(e) })?;
    Ok(r.last_insert_id)
}

/// A second staff member confirms (the ballot is appended) or rejects a
/// paper ballot.
pub async fn decide_paper(state: &State, staff: &CurrentUser, paper_id: i64, confirm: bool) -> AppResult<()> {
    let p = paper_ballot::Entity::find_by_id(paper_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let (v, _) = managed(state, staff, p.vote_id).await?;
    if p.status != "pending" {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    if p.entered_by == staff.id {
        return Err(ErrorCode::SameStaff.into());
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let ballot_id = if confirm {
        let key = vote_roll::Entity::find_by_id((v.id, p.key_no)).one(&txn).await?.ok_or(ErrorCode::NotOnRoll)?;
        let (_, _, ballot_id) = append(&txn, &v, p.key_no, key.area, &parse_list(&p.choices), "paper").await?;
        Some(ballot_id)
    } else {
        None
    };
    let r = paper_ballot::Entity::update_many()
        .col_expr(paper_ballot::Column::Status, Expr::value(if confirm { "confirmed" } else { "rejected" }))
        .col_expr(paper_ballot::Column::DecidedBy, Expr::value(staff.id))
        .col_expr(paper_ballot::Column::DecidedAt, Expr::value(now))
        .col_expr(paper_ballot::Column::BallotId, Expr::value(ballot_id))
        .filter(paper_ballot::Column::Id.eq(paper_id))
        .filter(paper_ballot::Column::Status.eq("pending"))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    txn.commit().await?;
    Ok(())
}

/// Reminds everyone on the roll who can vote and has not (once a day).
pub async fn remind(state: &State, staff: &CurrentUser, id: i64) -> AppResult<usize> {
    let (v, _) = managed(state, staff, id).await?;
    remind_for(state, &v).await
}

pub async fn remind_job(state: &State, j: VoteJob) -> anyhow::Result<()> {
    let (v, _) = load(state, j.vote_id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    match remind_for(state, &v).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == ErrorCode::VoteNotOpen => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

async fn remind_for(state: &State, v: &vote::Model) -> AppResult<usize> {
    let id = v.id;
    if status_of(v) != VoteStatus::Open {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let voted: std::collections::HashSet<i64> = vote_participation::Entity::find()
        .filter(vote_participation::Column::VoteId.eq(id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| p.key_no)
        .collect();
    let roll = vote_roll::Entity::find().filter(vote_roll::Column::VoteId.eq(id)).all(&state.db).await?;
    let owners = vote_roll_owner::Entity::find().filter(vote_roll_owner::Column::VoteId.eq(id)).all(&state.db).await?;
    let day = domain::appointment::beijing_date(Utc::now());
    let mut targets: Vec<i64> =
        roll.iter().filter(|r| !voted.contains(&r.key_no)).filter_map(|r| r.voter_user_id).collect();
    // keys still without a voter: every co-owner, so they can designate one
    let without: std::collections::HashSet<i64> =
        roll.iter().filter(|r| !voted.contains(&r.key_no) && r.voter_user_id.is_none()).map(|r| r.key_no).collect();
    targets.extend(owners.iter().filter(|o| without.contains(&o.key_no)).map(|o| o.user_id));
    targets.sort_unstable();
    targets.dedup();
    let txn = state.db.begin().await?;
    let mut n = 0;
    for u in targets {
        let draft = Draft {
            kind: NotificationKind::VoteClosing,
            title: format!("请参加投票:{}", v.title),
            body: format!("投票将于 {} 截止,您尚未投票。", beijing_time(v.ends_at)),
            link: format!("/votes/{id}"),
            key: format!("vote:{id}:remind:{day}"),
        };
        if notify::put(&txn, u, draft).await?.is_some() {
            n += 1;
        }
    }
    vote::Entity::update_many()
        .col_expr(vote::Column::RemindedAt, Expr::value(Utc::now()))
        .filter(vote::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.jobs.kick();
    Ok(n)
}

/// When a vote's times are shown in forms: `2026-11-23T09:00` (Beijing).
pub fn local_input(t: DateTime<Utc>) -> String {
    (t.naive_utc() + Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string()
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
