//! Bills (缴费): property fees generated from each dwelling's registered
//! area × a unit price × the period's months; what a resident's households
//! owe; arrears per building for staff. Amounts are integer fen throughout
//! (rules.md §3). Paying them (orders, providers, refunds) builds on this.

use crate::support::scope::managed_community;
use chrono::Utc;
use domain::{
    bills::{ArrearsRow, BillKind, BillStatus, BillView, Period},
    money::{property_fee, Fen},
    ErrorCode,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::{
    auth::CurrentUser,
    entities::{bill, building, dwelling, household, org_unit, residence},
    error::AppResult,
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

/// A community's buildings, their dwellings and the households living in them.
struct Homes {
    buildings: Vec<building::Model>,
    dwellings: Vec<dwelling::Model>,
    households: Vec<household::Model>,
}

async fn homes_of(state: &State, community_id: i64) -> AppResult<Homes> {
    let buildings =
        building::Entity::find().filter(building::Column::CommunityId.eq(community_id)).all(&state.db).await?;
    let dwellings = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.is_in(buildings.iter().map(|b| b.id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    let households = household::Entity::find()
        .filter(household::Column::DwellingId.is_in(dwellings.iter().map(|d| d.id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?;
    Ok(Homes { buildings, dwellings, households })
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
    let Homes { dwellings, households, .. } = homes_of(state, c.id).await?;
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
        let basis = domain::msg::Msg::new("bill.basis.property")
            .with("area", format!("{}.{:02}", area / 100, area % 100))
            .with("price", price_per_m2_month)
            .with("months", period.months)
            .encode();
        let res = bill::Entity::insert(bill::ActiveModel {
            org_unit_id: Set(c.id),
            household_id: Set(h.id),
            kind: Set(BillKind::Property),
            period: Set(period.label.clone()),
            title: Set(format!("{} 物业费", period.label)),
            amount_fen: Set(amount.0),
            paid_fen: Set(0),
            refunded_fen: Set(0),
            status: Set(domain::bills::BillStatus::Unpaid),
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
        kind: Set(kind),
        period: Set(period.label.clone()),
        title: Set(format!("{} {}", period.label, kind.label(false))),
        amount_fen: Set(amount.0),
        paid_fen: Set(0),
        refunded_fen: Set(0),
        status: Set(domain::bills::BillStatus::Unpaid),
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
    let households = homes_of(state, c.id).await?.households;
    let txn = state.db.begin().await?;
    for h in households {
        let tonnes = 8 + h.id % 12;
        let basis = domain::msg::Msg::new("bill.basis.water").with("tonnes", tonnes).with("price", "¥5.00").encode();
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
        .filter(residence::Column::Status.eq(domain::residence::ResidenceStatus::Approved))
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
            kind: b.kind,
            period: b.period,
            title: b.title,
            amount: Fen(b.amount_fen),
            paid: Fen(b.paid_fen),
            status: b.status,
            basis: domain::msg::render(&b.basis, user.lang.is_en()),
        });
    }
    let (unpaid, mut rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|b| b.status == BillStatus::Unpaid);
    rest.reverse();
    Ok(unpaid.into_iter().chain(rest).collect())
}

/// Unpaid bills per building in the staff member's communities.
pub async fn arrears(state: &State, staff: &CurrentUser) -> AppResult<Vec<ArrearsRow>> {
    let communities = crate::support::scope::staff_communities(state, staff).await?;
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
        let Homes { mut buildings, dwellings, households } = homes_of(state, cid).await?;
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
        // household → building, from the one load above
        let building_of: std::collections::HashMap<i64, i64> = households
            .iter()
            .filter_map(|h| dwellings.iter().find(|d| d.id == h.dwelling_id).map(|d| (h.id, d.building_id)))
            .collect();
        for b in buildings {
            let mine: Vec<&bill::Model> =
                unpaid.iter().filter(|x| building_of.get(&x.household_id) == Some(&b.id)).collect();
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

/// One ad-hoc fee for one home (staff): validated like an imported row.
#[allow(clippy::too_many_arguments)]
pub async fn add_fee(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    home: (&str, &str, &str),
    kind: &str,
    period: &str,
    amount: &str,
    basis: &str,
) -> AppResult<Fen> {
    let c = managed_community(state, staff, community_id).await?;
    let kind = BillKind::parse_typed(kind).filter(|k| *k != BillKind::Property).ok_or(ErrorCode::InvalidInput)?;
    let period = Period::parse(period)?;
    let amount = Fen::parse_positive_yuan(amount)?;
    if basis.chars().count() > 100 {
        return Err(ErrorCode::InvalidInput.into());
    }
    let b = building::Entity::find()
        .filter(building::Column::CommunityId.eq(c.id))
        .filter(building::Column::Name.eq(home.0.trim()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let d = dwelling::Entity::find()
        .filter(dwelling::Column::BuildingId.eq(b.id))
        .filter(dwelling::Column::Entrance.eq(home.1.trim()))
        .filter(dwelling::Column::Room.eq(home.2.trim()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let h = household::Entity::find()
        .filter(household::Column::DwellingId.eq(d.id))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    if !insert_bill(&state.db, c.id, h.id, kind, &period, amount, basis.trim(), staff.id).await? {
        return Err(ErrorCode::Conflict.into());
    }
    tracing::info!(community = c.id, household = h.id, kind = kind.as_str(), "ad-hoc fee added");
    Ok(amount)
}

/// Columns of a bill import (first row; Chinese or English names, any order):
/// 楼栋 building · 单元 entrance · 房号 room · 类型 kind · 账期 period ·
/// 金额 amount (yuan) · 说明 basis (optional, e.g. "17.3 吨 × ¥5.00").
const BILL_COLUMNS: [(&str, &[&str], bool); 7] = [
    ("building", &["楼栋", "楼", "building"], true),
    ("entrance", &["单元", "entrance"], true),
    ("room", &["房号", "户", "room", "unit"], true),
    ("kind", &["类型", "费用类型", "kind"], true),
    ("period", &["账期", "period"], true),
    ("amount", &["金额", "金额(元)", "amount"], true),
    ("basis", &["说明", "计算方式", "basis"], false),
];

fn bill_column(key: &str) -> String {
    BILL_COLUMNS.iter().find(|c| c.0 == key).map(|c| c.1[0].to_string()).unwrap_or_else(|| key.to_string())
}

/// Imports utility, parking and other bills from CSV or XLSX into a
/// community. The whole file is checked first (every bad row reported with
/// its number and reason); a file with any error imports nothing; a clean
/// file is imported in one transaction. Property fees are generated, not
/// imported.
pub async fn import_bills(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    bytes: &[u8],
    filename: &str,
) -> AppResult<domain::import::BillOutcome> {
    use domain::import::{BillOutcome, BillSummary, Problem, RowError};
    use std::collections::HashMap;
    let c = managed_community(state, staff, community_id).await?;
    let one = |problem| Ok(BillOutcome::Rejected(vec![RowError { row: 0, column: None, problem, detail: None }]));
    let table = match crate::import::read_table(bytes, filename) {
        Ok(t) => t,
        Err(p) => return one(p),
    };
    let mut rows = table.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = rows.next() else { return one(Problem::Empty) };
    let index: HashMap<&str, usize> = BILL_COLUMNS
        .iter()
        .filter_map(|(key, names, _)| header.iter().position(|h| names.contains(&h.trim())).map(|i| (*key, i)))
        .collect();
    let missing: Vec<RowError> = BILL_COLUMNS
        .iter()
        .filter(|(key, _, required)| *required && !index.contains_key(key))
        .map(|(key, _, _)| RowError {
            row: header_row,
            column: Some(bill_column(key)),
            problem: Problem::MissingColumn,
            detail: None,
        })
        .collect();
    if !missing.is_empty() {
        return Ok(BillOutcome::Rejected(missing));
    }
    let data: Vec<(usize, Vec<String>)> = rows.collect();
    if data.len() > crate::import::MAX_ROWS {
        return one(Problem::TooManyRows);
    }
    // the community's homes: (building, entrance, room) → household
    let Homes { buildings, dwellings, households } = homes_of(state, c.id).await?;
    let mut homes: HashMap<(String, String, String), i64> = HashMap::new();
    for d in &dwellings {
        let (Some(b), Some(h)) =
            (buildings.iter().find(|b| b.id == d.building_id), households.iter().find(|h| h.dwelling_id == d.id))
        else {
            continue;
        };
        homes.insert((b.name.clone(), d.entrance.clone(), d.room.clone()), h.id);
    }
    let existing: std::collections::HashSet<(i64, domain::bills::BillKind, String)> = bill::Entity::find()
        .filter(bill::Column::OrgUnitId.eq(c.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| (b.household_id, b.kind, b.period))
        .collect();

    struct Row {
        household: i64,
        kind: BillKind,
        period: Period,
        amount: Fen,
        basis: String,
    }
    let mut errors = vec![];
    let mut good = vec![];
    let mut seen: HashMap<(i64, &'static str, String), usize> = HashMap::new();
    for (row, cells) in data {
        let cell =
            |key: &str| index.get(key).and_then(|i| cells.get(*i)).map(|s| s.trim().to_string()).unwrap_or_default();
        let err = |key: &str, problem, detail: Option<String>| RowError {
            row,
            column: Some(bill_column(key)),
            problem,
            detail,
        };
        let mut row_errors = vec![];
        for key in ["building", "entrance", "room", "kind", "period", "amount"] {
            if cell(key).is_empty() {
                row_errors.push(err(key, Problem::Empty, None));
            }
        }
        if !row_errors.is_empty() {
            errors.extend(row_errors);
            continue;
        }
        let home = (cell("building"), cell("entrance"), cell("room"));
        let household = homes.get(&home).copied();
        if household.is_none() {
            row_errors.push(err("room", Problem::UnknownHome, Some(format!("{} {} {}", home.0, home.1, home.2))));
        }
        let kind = BillKind::parse_typed(&cell("kind")).filter(|k| *k != BillKind::Property);
        if kind.is_none() {
            row_errors.push(err("kind", Problem::InvalidKind, Some(cell("kind"))));
        }
        let period = Period::parse(&cell("period")).ok();
        if period.is_none() {
            row_errors.push(err("period", Problem::InvalidPeriod, Some(cell("period"))));
        }
        let amount = Fen::parse_positive_yuan(&cell("amount")).ok();
        if amount.is_none() {
            row_errors.push(err("amount", Problem::InvalidAmount, Some(cell("amount"))));
        }
        let basis = cell("basis");
        if basis.chars().count() > 100 {
            row_errors.push(err("basis", Problem::TooLong, None));
        }
        if let (Some(h), Some(k), Some(p), Some(a), true) = (household, kind, period, amount, row_errors.is_empty()) {
            let key = (h, k.as_str(), p.label.clone());
            if let Some(first) = seen.get(&key) {
                errors.push(RowError {
                    row,
                    column: None,
                    problem: Problem::DuplicateInFile,
                    detail: Some(first.to_string()),
                });
                continue;
            }
            seen.insert(key, row);
            if existing.contains(&(h, k, p.label.clone())) {
                errors.push(err("period", Problem::AlreadyBilled, Some(p.label.clone())));
                continue;
            }
            good.push(Row { household: h, kind: k, period: p, amount: a, basis });
        } else {
            errors.extend(row_errors);
        }
    }
    if !errors.is_empty() {
        return Ok(BillOutcome::Rejected(errors));
    }
    if good.is_empty() {
        return one(Problem::Empty);
    }
    let txn = state.db.begin().await?;
    let mut summary = BillSummary { rows: good.len(), ..Default::default() };
    for r in &good {
        if !insert_bill(&txn, c.id, r.household, r.kind, &r.period, r.amount, &r.basis, staff.id).await? {
            // billed meanwhile by someone else: nothing of this file is kept
            txn.rollback().await?;
            return Ok(BillOutcome::Rejected(vec![RowError {
                row: 0,
                column: None,
                problem: Problem::AlreadyBilled,
                detail: Some(r.period.label.clone()),
            }]));
        }
        summary.bills_created += 1;
        summary.total = Fen(summary.total.0 + r.amount.0);
    }
    txn.commit().await?;
    tracing::info!(community = c.id, bills = summary.bills_created, "bills imported");
    Ok(BillOutcome::Imported(summary))
}
