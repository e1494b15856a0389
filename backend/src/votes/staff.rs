//! The staff side: a vote's console, paper ballots (entered, then
//! confirmed by another staff member), and reminders to those not voted.

use super::*;

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
        .filter(paper_ballot::Column::Status.eq(domain::votes::PaperStatus::Pending))
        .order_by_asc(paper_ballot::Column::Id)
        .all(&state.db)
        .await?;
    let mut people: Vec<i64> = owners.iter().map(|o| o.user_id).collect();
    people.extend(roll.iter().filter_map(|r| r.voter_user_id));
    people.extend(papers.iter().map(|p| p.entered_by));
    let names =
        crate::support::people::names(state, people.into_iter(), crate::support::people::english(staff)).await?;
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
        status: Set(PaperStatus::Pending),
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
    if p.status != PaperStatus::Pending {
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
        .col_expr(
            paper_ballot::Column::Status,
            Expr::value(if confirm { PaperStatus::Confirmed } else { PaperStatus::Rejected }),
        )
        .col_expr(paper_ballot::Column::DecidedBy, Expr::value(staff.id))
        .col_expr(paper_ballot::Column::DecidedAt, Expr::value(now))
        .col_expr(paper_ballot::Column::BallotId, Expr::value(ballot_id))
        .filter(paper_ballot::Column::Id.eq(paper_id))
        .filter(paper_ballot::Column::Status.eq(domain::votes::PaperStatus::Pending))
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

pub(super) async fn remind_for(state: &State, v: &vote::Model) -> AppResult<usize> {
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
    let day = domain::time::beijing_date(Utc::now());
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
            title: domain::msg::Msg::new("vote.remind.title").with("title", &v.title).encode(),
            body: domain::msg::Msg::new("vote.remind.body").with("until", v.ends_at.to_rfc3339()).encode(),
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
