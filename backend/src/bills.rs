//! Bills (缴费): property fees generated from each dwelling's registered
//! area × a unit price × the period's months; what a resident's households
//! owe; arrears per building for staff. Amounts are integer fen throughout
//! (rules.md §3). Paying them (orders, providers, refunds) builds on this.

use chrono::Utc;
use domain::{
    bill::{ArrearsRow, BillKind, BillStatus, BillView, Period},
    money::{property_fee, Fen},
    ErrorCode, OrgPath,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{bill, building, dwelling, household, org_unit, residence},
    error::{AppError, AppResult},
    State,
};

/// What a generation run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    pub created: i64,
    /// Households that already had this period's bill (left as they were).
    pub existing: i64,
    /// Dwellings without a registered area (nothing to compute from).
    pub without_area: i64,
    pub total: Fen,
}

async fn managed_community(state: &State, staff: &CurrentUser, id: i64) -> AppResult<org_unit::Model> {
    let c = org_unit::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let path = OrgPath::parse(&c.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if !staff.can_manage(&path) || c.level != "community" {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(c)
}

/// Makes one property-fee bill per household of the community for the
/// period, in one transaction; households that have it already keep theirs.
pub async fn generate_property_fees(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    period: &Period,
    price_per_m2_month: Fen,
) -> AppResult<Generated> {
    let c = managed_community(state, staff, community_id).await?;
    generate_for(state, &c, staff.id, period, price_per_m2_month).await
}

/// `generate_property_fees` without the permission check (demo data).
pub(crate) async fn generate_for(
    state: &State,
    c: &org_unit::Model,
    by: i64,
    period: &Period,
    price_per_m2_month: Fen,
) -> AppResult<Generated> {
    if price_per_m2_month.0 <= 0 {
        return Err(ErrorCode::InvalidAmount.into());
    }
    let buildings = building::Entity::find().filter(building::Column::CommunityId.eq(c.id)).all(&state.db).await?;
    let ids: Vec<i64> = buildings.iter().map(|b| b.id).collect();
    let dwellings = dwelling::Entity::find().filter(dwelling::Column::BuildingId.is_in(ids)).all(&state.db).await?;
    let dwelling_ids: Vec<i64> = dwellings.iter().map(|d| d.id).collect();
    let households =
        household::Entity::find().filter(household::Column::DwellingId.is_in(dwelling_ids)).all(&state.db).await?;
    let now = Utc::now();
    let mut out = Generated::default();
    let txn = state.db.begin().await?;
    for h in households {
        let Some(d) = dwellings.iter().find(|d| d.id == h.dwelling_id) else { continue };
        let Some(area) = d.area_centi_m2 else {
            out.without_area += 1;
            continue;
        };
        let amount = property_fee(area, price_per_m2_month.0, period.months);
        if amount.0 <= 0 {
            out.without_area += 1;
            continue;
        }
        let basis =
            format!("{}.{:02} m² × {}/m²/月 × {} 个月", area / 100, area % 100, price_per_m2_month, period.months);
        let res = bill::Entity::insert(bill::ActiveModel {
            org_unit_id: Set(c.id),
            household_id: Set(h.id),
            kind: Set(BillKind::Property.as_str().into()),
            period: Set(period.label.clone()),
            title: Set(format!("{} 物业费", period.label)),
            amount_fen: Set(amount.0),
            paid_fen: Set(0),
            refunded_fen: Set(0),
            status: Set("unpaid".into()),
            basis: Set(basis),
            created_by: Set(by),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([bill::Column::HouseholdId, bill::Column::Kind, bill::Column::Period])
        .exec_without_returning(&txn)
        .await?;
        if matches!(res, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
            out.created += 1;
            out.total = Fen(out.total.0 + amount.0);
        } else {
            out.existing += 1;
        }
    }
    txn.commit().await?;
    tracing::info!(community = c.id, period = %period.label, created = out.created, "property fees generated");
    Ok(out)
}

/// One bill (an ad-hoc fee, an imported reading); a household's bill for
/// the same kind and period already there is left alone. Returns whether
/// it was added.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_bill<C: sea_orm::ConnectionTrait>(
    conn: &C,
    org_unit_id: i64,
    household_id: i64,
    kind: BillKind,
    period: &Period,
    amount: Fen,
    basis: &str,
    by: i64,
) -> AppResult<bool> {
    if amount.0 <= 0 {
        return Err(ErrorCode::InvalidAmount.into());
    }
    let now = Utc::now();
    let res = bill::Entity::insert(bill::ActiveModel {
        org_unit_id: Set(org_unit_id),
        household_id: Set(household_id),
        kind: Set(kind.as_str().into()),
        period: Set(period.label.clone()),
        title: Set(format!("{} {}", period.label, kind.label(false))),
        amount_fen: Set(amount.0),
        paid_fen: Set(0),
        refunded_fen: Set(0),
        status: Set("unpaid".into()),
        basis: Set(basis.chars().take(200).collect()),
        created_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([bill::Column::HouseholdId, bill::Column::Kind, bill::Column::Period])
    .exec_without_returning(conn)
    .await?;
    Ok(matches!(res, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// Demo water bills for a month: 8 to 19 tonnes at ¥5.00 per household.
pub(crate) async fn demo_water(state: &State, c: &org_unit::Model, by: i64, period: &Period) -> AppResult<()> {
    let buildings = building::Entity::find().filter(building::Column::CommunityId.eq(c.id)).all(&state.db).await?;
    let ids: Vec<i64> = buildings.iter().map(|b| b.id).collect();
    let dwellings: Vec<i64> = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let households =
        household::Entity::find().filter(household::Column::DwellingId.is_in(dwellings)).all(&state.db).await?;
    let txn = state.db.begin().await?;
    for h in households {
        let tonnes = 8 + h.id % 12;
        let basis = format!("{tonnes} 吨 × ¥5.00/吨");
        insert_bill(&txn, c.id, h.id, BillKind::Water, period, Fen(tonnes * 500), &basis, by).await?;
    }
    txn.commit().await?;
    Ok(())
}

pub(crate) async fn address(state: &State, household_id: i64) -> AppResult<String> {
    let h = household::Entity::find_by_id(household_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let d = dwelling::Entity::find_by_id(h.dwelling_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let b = building::Entity::find_by_id(d.building_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = org_unit::Entity::find_by_id(b.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    Ok(format!("{} {} {} {}", c.name, b.name, d.entrance, d.room))
}

/// The households a person is a verified member of.
pub async fn my_households(state: &State, user: &CurrentUser) -> AppResult<Vec<i64>> {
    let rows = residence::Entity::find()
        .filter(residence::Column::UserId.eq(user.id))
        .filter(residence::Column::Status.eq("approved"))
        .all(&state.db)
        .await?;
    let dwellings: Vec<i64> = rows.iter().map(|r| r.dwelling_id).collect();
    let mut ids: Vec<i64> = household::Entity::find()
        .filter(household::Column::DwellingId.is_in(dwellings))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The bills of the person's households: unpaid first (oldest first), then the rest (newest first).
pub async fn mine(state: &State, user: &CurrentUser) -> AppResult<Vec<BillView>> {
    let households = my_households(state, user).await?;
    let rows = bill::Entity::find()
        .filter(bill::Column::HouseholdId.is_in(households))
        .filter(bill::Column::Status.ne("void"))
        .order_by_asc(bill::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for b in rows {
        out.push(BillView {
            id: b.id,
            address: address(state, b.household_id).await?,
            kind: BillKind::parse(&b.kind).unwrap_or(BillKind::Other),
            period: b.period,
            title: b.title,
            amount: Fen(b.amount_fen),
            paid: Fen(b.paid_fen),
            status: BillStatus::parse(&b.status).unwrap_or(BillStatus::Unpaid),
            basis: b.basis,
        });
    }
    let (unpaid, mut rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|b| b.status == BillStatus::Unpaid);
    rest.reverse();
    Ok(unpaid.into_iter().chain(rest).collect())
}

/// Unpaid bills per building in the staff member's communities.
pub async fn arrears(state: &State, staff: &CurrentUser) -> AppResult<Vec<ArrearsRow>> {
    let communities = crate::appointments::staff_communities(state, staff).await?;
    let mut out = vec![];
    for (cid, cname) in communities {
        let unpaid = bill::Entity::find()
            .filter(bill::Column::OrgUnitId.eq(cid))
            .filter(bill::Column::Status.eq("unpaid"))
            .all(&state.db)
            .await?;
        if unpaid.is_empty() {
            continue;
        }
        let mut buildings =
            building::Entity::find().filter(building::Column::CommunityId.eq(cid)).all(&state.db).await?;
        buildings.sort_by_key(|b| {
            (
                b.name
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .parse::<u64>()
                    .unwrap_or(u64::MAX),
                b.name.clone(),
            )
        });
        for b in buildings {
            let dwellings: Vec<i64> = dwelling::Entity::find()
                .filter(dwelling::Column::BuildingId.eq(b.id))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|d| d.id)
                .collect();
            let hs: Vec<i64> = household::Entity::find()
                .filter(household::Column::DwellingId.is_in(dwellings))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|h| h.id)
                .collect();
            let mine: Vec<&bill::Model> = unpaid.iter().filter(|x| hs.contains(&x.household_id)).collect();
            if mine.is_empty() {
                continue;
            }
            let mut owing: Vec<i64> = mine.iter().map(|x| x.household_id).collect();
            owing.sort_unstable();
            owing.dedup();
            out.push(ArrearsRow {
                community: cname.clone(),
                building: b.name,
                households: owing.len() as i64,
                bills: mine.len() as i64,
                owed: Fen(mine.iter().map(|x| x.amount_fen - x.paid_fen).sum()),
            });
        }
    }
    Ok(out)
}
