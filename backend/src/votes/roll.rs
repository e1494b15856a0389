//! Opening a vote: the roll frozen (owner keys with their areas, or one
//! row per eligible person for a poll) and the rules that start the chain.

use super::*;

/// The frozen roll, before it is written.
pub(super) struct Roll {
    keys: Vec<OwnerKey>,
    labels: Vec<String>,
}

/// Units in scope with their owners, and the owner keys (Art. 278).
pub(super) async fn owner_roll(state: &State, v: &vote::Model) -> AppResult<Roll> {
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
            .filter(residence::Column::Status.eq(domain::residence::ResidenceStatus::Approved))
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
pub(super) async fn poll_roll(state: &State, v: &vote::Model) -> AppResult<Roll> {
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
            .filter(residence::Column::Status.eq(domain::residence::ResidenceStatus::Approved));
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

pub(super) fn rules_of(v: &vote::Model, total: Weight, roll_hash: String) -> Rules {
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
        .col_expr(vote::Column::Status, Expr::value(VoteStatus::Open))
        .col_expr(vote::Column::TotalArea, Expr::value(total.area))
        .col_expr(vote::Column::TotalCount, Expr::value(total.count))
        .col_expr(vote::Column::RulesText, Expr::value(rules.canonical()))
        .col_expr(vote::Column::HeadHash, Expr::value(h0))
        .col_expr(vote::Column::OpenedAt, Expr::value(now))
        .filter(vote::Column::Id.eq(id))
        .filter(vote::Column::Status.eq(VoteStatus::Draft))
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
