//! What residents read of votes: one vote, the list, and where the reader
//! stands (may vote, voted, another co-owner votes, needs designating).

use super::*;

pub(super) fn view_of(
    v: &vote::Model,
    c: &org_unit::Model,
    building: Option<String>,
    per: Vec<Weight>,
    show: bool,
) -> VoteView {
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

pub(super) async fn building_name(state: &State, v: &vote::Model) -> AppResult<Option<String>> {
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
        .filter(vote::Column::Status.ne(VoteStatus::Cancelled))
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
        if !crate::support::scope::in_scope(user, &path) || (v.status == VoteStatus::Draft && !user.can_manage(&path)) {
            continue;
        }
        let b = building_name(state, &v).await?;
        let show = v.status == VoteStatus::Closed;
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
        let name = user::Entity::find_by_id(voter)
            .one(&state.db)
            .await?
            .map(|u| crate::support::people::name_of(&u, crate::support::people::english(user)))
            .unwrap_or_default();
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
        co_owners: users
            .into_iter()
            .map(|u| (u.id, crate::support::people::name_of(&u, crate::support::people::english(user))))
            .collect(),
        mine: owner.and_then(|o| o.designee_user_id),
    })
}
