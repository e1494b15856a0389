//! Casting and counting: the tally, closing with the decision, the ballot
//! chain's appends, a ballot cast, and co-owners designating who votes.

use super::*;

/// The live figures: per option weights and the owners' tally.
pub(super) async fn tally<C: ConnectionTrait>(conn: &C, v: &vote::Model) -> AppResult<(Vec<Weight>, OwnerTally)> {
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
pub(super) struct Stored {
    pub(super) per_option: Vec<Weight>,
    pub(super) decision: Option<Decision>,
}

/// Closes the vote and stores the result (guarded: once).
pub async fn close(state: &State, id: i64) -> AppResult<Option<Decision>> {
    let now = Utc::now();
    let (v, _) = load(state, id).await?;
    let txn = state.db.begin().await?;
    let objection_until = now + Duration::days(v.objection_days as i64);
    let r = vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Closed))
        .col_expr(vote::Column::ClosedAt, Expr::value(now))
        .col_expr(vote::Column::ObjectionUntil, Expr::value(objection_until))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Open))
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
pub(super) async fn append(
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
        .filter(vote::Column::Status.eq(VoteStatus::Open))
        .filter(vote::Column::EndsAt.gt(now))
        .exec(txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::VoteNotOpen.into());
    }
    let head = vote::Entity::find_by_id(v.id).one(txn).await?.ok_or(ErrorCode::NotFound)?;
    let prev = head.head_hash.clone().ok_or_else(|| internal("open vote without a chain"))?;
    let receipt = crate::support::codes::new_receipt_code();
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
