//! Points (志愿积分, 参与积分) and the points mall (积分超市), rules.md §4.
//!
//! - `post` appends one ledger entry and moves the balance in the caller's
//!   transaction: the entry's unique key makes a replay a no-op, and the
//!   balance update is guarded (`balance + p >= 0`, plus a CHECK), so no
//!   balance goes below zero. The ledger cannot be edited (triggers).
//! - A redemption takes one unit of stock (guarded `stock >= 1`) and holds
//!   its points (a negative `hold` entry) in one transaction. Staff confirm
//!   the pickup by its code; otherwise the `mall.expire` job releases it
//!   after seven days (a `release` entry, stock back), as does the resident
//!   cancelling it.

use crate::support::scope::managed_community;
use chrono::{Duration, Utc};
use domain::time::beijing_time;
use domain::{
    payments::{format_receipt_code, normalize_receipt_code},
    points::{EntryKind, EntryView, ItemView, PersonLedger, RedemptionStatus, RedemptionView},
    ErrorCode, OrgPath, Phone,
};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{mall_item, org_unit, points_account, points_entry, redemption, user},
    error::{AppError, AppResult},
    jobs::{self, JobKind, NewJob},
    State,
};

/// How long a redemption waits for pickup before it is released.
pub const HOLD_DAYS: i64 = 7;

/// One entry to append.
pub struct Posting<'a> {
    pub user_id: i64,
    pub kind: EntryKind,
    pub points: i64,
    /// Unique: the same key twice is one entry.
    pub key: String,
    pub reason: &'a str,
    pub community_id: Option<i64>,
    pub by: Option<i64>,
    pub reverses: Option<i64>,
}

/// Appends an entry and moves the balance (inside `conn`'s transaction).
/// `Ok(Some(id))` for a new entry, `Ok(None)` when the key was already
/// posted (nothing changes), `not_enough_points` when the balance would go
/// below zero (the caller's transaction must then roll back).
pub async fn post<C: ConnectionTrait>(conn: &C, p: Posting<'_>) -> AppResult<Option<i64>> {
    let now = Utc::now();
    // Serialise the person's postings on their account row before the entry
    // takes its id: entries then commit in id order, so the ledger read in id
    // order never dips below zero (on PostgreSQL an award could otherwise
    // take a lower id than it commits in, after a hold it paid for).
    points_account::Entity::insert(points_account::ActiveModel {
        user_id: Set(p.user_id),
        balance: Set(0),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([points_account::Column::UserId])
    .exec_without_returning(conn)
    .await?;
    points_account::Entity::update_many()
        .col_expr(points_account::Column::UpdatedAt, Expr::value(now))
        .filter(points_account::Column::UserId.eq(p.user_id))
        .exec(conn)
        .await?;
    let res = points_entry::Entity::insert(points_entry::ActiveModel {
        user_id: Set(p.user_id),
        kind: Set(p.kind),
        points: Set(p.points),
        entry_key: Set(p.key.chars().take(160).collect()),
        reason: Set(p.reason.chars().take(200).collect()),
        community_id: Set(p.community_id),
        created_by: Set(p.by),
        reverses_id: Set(p.reverses),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([points_entry::Column::EntryKey])
    .exec(conn)
    .await?;
    let id = match res {
        sea_orm::TryInsertResult::Inserted(r) => r.last_insert_id,
        _ => return Ok(None),
    };
    let r = points_account::Entity::update_many()
        .col_expr(points_account::Column::Balance, Expr::col(points_account::Column::Balance).add(p.points))
        .col_expr(points_account::Column::UpdatedAt, Expr::value(now))
        .filter(points_account::Column::UserId.eq(p.user_id))
        .filter(Expr::col(points_account::Column::Balance).add(p.points).gte(0))
        .exec(conn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::NotEnoughPoints.into());
    }
    Ok(Some(id))
}

pub async fn balance<C: ConnectionTrait>(conn: &C, user_id: i64) -> AppResult<i64> {
    Ok(points_account::Entity::find_by_id(user_id).one(conn).await?.map(|a| a.balance).unwrap_or(0))
}

/// A person's balance and every entry behind it, newest first.
pub async fn ledger(state: &State, user_id: i64) -> AppResult<(i64, Vec<EntryView>)> {
    let rows = points_entry::Entity::find()
        .filter(points_entry::Column::UserId.eq(user_id))
        .order_by_asc(points_entry::Column::Id)
        .all(&state.db)
        .await?;
    let points: Vec<i64> = rows.iter().map(|e| e.points).collect();
    // History written before postings were serialised may dip below zero in
    // id order: show it as recorded rather than fail the page.
    let running = domain::points::running_balances(&points).unwrap_or_else(|| {
        tracing::warn!(user_id, "points ledger in id order dips below zero; shown as recorded");
        let mut b = 0i64;
        points
            .iter()
            .map(|p| {
                b += p;
                b
            })
            .collect()
    });
    let reversed: std::collections::HashSet<i64> = rows.iter().filter_map(|e| e.reverses_id).collect();
    let mut out: Vec<EntryView> = rows
        .iter()
        .zip(running)
        .map(|(e, after)| EntryView {
            id: e.id,
            kind: e.kind,
            points: e.points,
            reason: e.reason.clone(),
            at: beijing_time(e.created_at),
            balance_after: after,
            reversed: reversed.contains(&e.id),
        })
        .collect();
    out.reverse();
    Ok((balance(&state.db, user_id).await?, out))
}

/// Staff give points with a reason (积分调整). `idem` is the form's key: a
/// double submit is one entry.
pub async fn award(
    state: &State,
    staff: &CurrentUser,
    phone: &str,
    points: i64,
    reason: &str,
    idem: &str,
) -> AppResult<bool> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let phone = Phone::parse(phone)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    let u = user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    let community = crate::support::scope::managed_community_of_user(state, staff, u.id).await?;
    let txn = state.db.begin().await?;
    let posted = post(
        &txn,
        Posting {
            user_id: u.id,
            kind: EntryKind::Adjustment,
            points,
            key: format!("adjust:{}:{}", staff.id, idem.chars().take(64).collect::<String>()),
            reason,
            community_id: Some(community),
            by: Some(staff.id),
            reverses: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(posted.is_some())
}

/// Staff reverse an award (a new entry with the opposite amount; once).
/// Refused when the points were already spent (no balance below zero).
pub async fn reverse(state: &State, staff: &CurrentUser, entry_id: i64, reason: &str) -> AppResult<()> {
    let e = points_entry::Entity::find_by_id(entry_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let kind = e.kind;
    if !kind.reversible() {
        return Err(ErrorCode::InvalidInput.into());
    }
    let c = match e.community_id {
        Some(c) => org_unit::Entity::find_by_id(c).one(&state.db).await?.ok_or(ErrorCode::NotFound)?,
        None => return Err(ErrorCode::Forbidden.into()),
    };
    let path = OrgPath::parse(&c.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if !staff.can_manage(&path) {
        return Err(ErrorCode::Forbidden.into());
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    let txn = state.db.begin().await?;
    let posted = post(
        &txn,
        Posting {
            user_id: e.user_id,
            kind: EntryKind::Reversal,
            points: -e.points,
            key: format!("reverse:{}", e.id),
            reason,
            community_id: e.community_id,
            by: Some(staff.id),
            reverses: Some(e.id),
        },
    )
    .await?;
    if posted.is_none() {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    txn.commit().await?;
    Ok(())
}

pub async fn staff_ledger(state: &State, staff: &CurrentUser, phone: &str) -> AppResult<PersonLedger> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let phone = Phone::parse(phone)?;
    let u = user::Entity::find()
        .filter(user::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    crate::support::scope::managed_community_of_user(state, staff, u.id).await?;
    let (balance, entries) = ledger(state, u.id).await?;
    Ok(PersonLedger {
        name: crate::support::people::name_of(&u, crate::support::people::english(staff)),
        phone_masked: phone.masked(),
        balance,
        entries,
    })
}

async fn managed_item(state: &State, staff: &CurrentUser, id: i64) -> AppResult<mall_item::Model> {
    let item = mall_item::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    managed_community(state, staff, item.community_id).await?;
    Ok(item)
}

/// Staff put an item in the mall.
pub async fn create_item(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    name: &str,
    description: &str,
    cost: i64,
    stock: i64,
) -> AppResult<i64> {
    let c = managed_community(state, staff, community_id).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ErrorCode::InvalidTitle.into());
    }
    let r = mall_item::Entity::insert(mall_item::ActiveModel {
        community_id: Set(c.id),
        name: Set(name.into()),
        description: Set(description.trim().chars().take(500).collect()),
        cost: Set(cost),
        stock: Set(stock),
        active: Set(true),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(r.last_insert_id)
}

/// Staff add (or take away) stock and switch an item on or off.
pub async fn restock(state: &State, staff: &CurrentUser, id: i64, delta: i64, active: bool) -> AppResult<()> {
    managed_item(state, staff, id).await?;
    let r = mall_item::Entity::update_many()
        .col_expr(mall_item::Column::Stock, Expr::col(mall_item::Column::Stock).add(delta))
        .col_expr(mall_item::Column::Active, Expr::value(active))
        .filter(mall_item::Column::Id.eq(id))
        .filter(Expr::col(mall_item::Column::Stock).add(delta).gte(0))
        .exec(&state.db)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::OutOfStock.into());
    }
    Ok(())
}

async fn item_views(state: &State, items: Vec<mall_item::Model>) -> AppResult<Vec<ItemView>> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let held: Vec<(i64, i64)> = redemption::Entity::find()
        .select_only()
        .column(redemption::Column::ItemId)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .filter(redemption::Column::ItemId.is_in(ids))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .group_by(redemption::Column::ItemId)
        .into_tuple()
        .all(&state.db)
        .await?;
    let held: HashMap<i64, i64> = held.into_iter().collect();
    let communities: Vec<i64> = items.iter().map(|i| i.community_id).collect();
    let names: HashMap<i64, String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(communities))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut out = vec![];
    for i in items {
        out.push(ItemView {
            id: i.id,
            community: names.get(&i.community_id).cloned().unwrap_or_default(),
            name: i.name,
            description: i.description,
            cost: i.cost,
            stock: i.stock,
            active: i.active,
            held: held.get(&i.id).copied().unwrap_or(0),
        });
    }
    Ok(out)
}

/// The mall a resident sees: active items of their communities.
pub async fn items_for(state: &State, user: &CurrentUser) -> AppResult<Vec<ItemView>> {
    let ids = crate::org::visible_ids(state, user).await?;
    let items = mall_item::Entity::find()
        .filter(mall_item::Column::CommunityId.is_in(ids))
        .filter(mall_item::Column::Active.eq(true))
        .order_by_asc(mall_item::Column::Cost)
        .all(&state.db)
        .await?;
    item_views(state, items).await
}

/// Every item of the communities a staff member manages.
pub async fn staff_items(state: &State, staff: &CurrentUser) -> AppResult<Vec<ItemView>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let items = mall_item::Entity::find()
        .filter(mall_item::Column::CommunityId.is_in(communities))
        .order_by_asc(mall_item::Column::Id)
        .all(&state.db)
        .await?;
    item_views(state, items).await
}

/// `people`: the redeemers' names too, in this language (English when true).
async fn redemption_views(
    state: &State,
    rows: Vec<redemption::Model>,
    people: Option<bool>,
) -> AppResult<Vec<RedemptionView>> {
    let items: HashMap<i64, String> = mall_item::Entity::find()
        .filter(mall_item::Column::Id.is_in(rows.iter().map(|r| r.item_id).collect::<Vec<_>>()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    let names: HashMap<i64, String> = if let Some(en) = people {
        crate::support::people::names(state, rows.iter().map(|r| r.user_id), en).await?
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|r| RedemptionView {
            id: r.id,
            item: items.get(&r.item_id).cloned().unwrap_or_default(),
            cost: r.cost,
            code: format_receipt_code(&r.code),
            status: r.status,
            created_at: beijing_time(r.created_at),
            expires_at: beijing_time(r.expires_at),
            person: names.get(&r.user_id).cloned().unwrap_or_default(),
        })
        .collect())
}

pub async fn my_redemptions(state: &State, user: &CurrentUser) -> AppResult<Vec<RedemptionView>> {
    let rows = redemption::Entity::find()
        .filter(redemption::Column::UserId.eq(user.id))
        .order_by_desc(redemption::Column::Id)
        .limit(50)
        .all(&state.db)
        .await?;
    redemption_views(state, rows, None).await
}

/// Redemptions waiting for pickup in the staff member's communities.
pub async fn staff_pending(state: &State, staff: &CurrentUser) -> AppResult<Vec<RedemptionView>> {
    let items: Vec<i64> = staff_items(state, staff).await?.into_iter().map(|i| i.id).collect();
    let rows = redemption::Entity::find()
        .filter(redemption::Column::ItemId.is_in(items))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .order_by_asc(redemption::Column::Id)
        .limit(200)
        .all(&state.db)
        .await?;
    redemption_views(state, rows, Some(crate::support::people::english(staff))).await
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExpireJob {
    pub redemption: i64,
}

/// A resident redeems one item: stock and points held together. `idem` is
/// the form's key: a double submit is one redemption.
pub async fn redeem(state: &State, user: &CurrentUser, item_id: i64, idem: &str) -> AppResult<RedemptionView> {
    let item = mall_item::Entity::find_by_id(item_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !crate::org::visible_ids(state, user).await?.contains(&item.community_id) {
        return Err(ErrorCode::NotFound.into());
    }
    let hold_key = format!("hold:{}:{}", user.id, idem.chars().take(64).collect::<String>());
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let r = mall_item::Entity::update_many()
        .col_expr(mall_item::Column::Stock, Expr::col(mall_item::Column::Stock).sub(1))
        .filter(mall_item::Column::Id.eq(item_id))
        .filter(mall_item::Column::Active.eq(true))
        .filter(mall_item::Column::Stock.gte(1))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(ErrorCode::OutOfStock.into());
    }
    let hold = post(
        &txn,
        Posting {
            user_id: user.id,
            kind: EntryKind::Hold,
            points: -item.cost,
            key: hold_key.clone(),
            reason: &domain::msg::Msg::new("ledger.redeem").with("item", &item.name).encode(),
            community_id: Some(item.community_id),
            by: Some(user.id),
            reverses: None,
        },
    )
    .await?;
    let Some(hold) = hold else {
        // the same form twice: the first redemption stands, this one changes nothing
        drop(txn);
        let e = points_entry::Entity::find()
            .filter(points_entry::Column::EntryKey.eq(hold_key))
            .one(&state.db)
            .await?
            .ok_or(ErrorCode::Conflict)?;
        let r = redemption::Entity::find()
            .filter(redemption::Column::HoldEntryId.eq(e.id))
            .one(&state.db)
            .await?
            .ok_or(ErrorCode::Conflict)?;
        return redemption_views(state, vec![r], None).await?.pop().ok_or_else(|| ErrorCode::Conflict.into());
    };
    let expires = now + Duration::days(HOLD_DAYS);
    let code = crate::support::codes::new_receipt_code();
    let ins = redemption::Entity::insert(redemption::ActiveModel {
        item_id: Set(item_id),
        user_id: Set(user.id),
        cost: Set(item.cost),
        code: Set(code),
        status: Set(RedemptionStatus::Pending),
        hold_entry_id: Set(hold),
        release_entry_id: Set(None),
        expires_at: Set(expires),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let id = ins.last_insert_id;
    crate::notify::put(
        &txn,
        user.id,
        crate::notify::Draft {
            kind: domain::notify::NotificationKind::MyRequests,
            title: domain::msg::Msg::new("mall.redeemed.title").with("item", &item.name).encode(),
            body: domain::msg::Msg::new("mall.redeemed.body").with("cost", item.cost).with("days", HOLD_DAYS).encode(),
            link: "/points".into(),
            key: format!("mall:{id}:redeemed"),
        },
    )
    .await?;
    jobs::enqueue(&txn, NewJob::new(EXPIRE, format!("mall:expire:{id}"), ExpireJob { redemption: id }).at(expires))
        .await?;
    txn.commit().await?;
    let row = redemption::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    redemption_views(state, vec![row], None).await?.pop().ok_or_else(|| ErrorCode::NotFound.into())
}

/// Gives a pending redemption's points and stock back (expired or cancelled).
async fn release(state: &State, r: &redemption::Model, to: RedemptionStatus, by: Option<i64>) -> AppResult<()> {
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let entry = post(
        &txn,
        Posting {
            user_id: r.user_id,
            kind: EntryKind::Release,
            points: r.cost,
            key: format!("release:{}", r.id),
            reason: &domain::msg::Msg::new(if to == RedemptionStatus::Expired {
                "ledger.expired"
            } else {
                "ledger.cancelled"
            })
            .encode(),
            community_id: None,
            by,
            reverses: None,
        },
    )
    .await?
    .ok_or(ErrorCode::AlreadyDecided)?;
    let u = redemption::Entity::update_many()
        .col_expr(redemption::Column::Status, Expr::value(to.as_str()))
        .col_expr(redemption::Column::ReleaseEntryId, Expr::value(entry))
        .col_expr(redemption::Column::DecidedBy, Expr::value(by))
        .col_expr(redemption::Column::DecidedAt, Expr::value(now))
        .filter(redemption::Column::Id.eq(r.id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .exec(&txn)
        .await?;
    if u.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    mall_item::Entity::update_many()
        .col_expr(mall_item::Column::Stock, Expr::col(mall_item::Column::Stock).add(1))
        .filter(mall_item::Column::Id.eq(r.item_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The resident cancels a redemption not yet picked up.
pub async fn cancel(state: &State, user: &CurrentUser, id: i64) -> AppResult<()> {
    let r = redemption::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if r.user_id != user.id {
        return Err(ErrorCode::NotFound.into());
    }
    release(state, &r, RedemptionStatus::Cancelled, Some(user.id)).await
}

pub async fn expire_job(state: &State, j: ExpireJob) -> anyhow::Result<()> {
    let Some(r) = redemption::Entity::find_by_id(j.redemption).one(&state.db).await? else { return Ok(()) };
    if r.status != RedemptionStatus::Pending || r.expires_at > Utc::now() {
        return Ok(());
    }
    match release(state, &r, RedemptionStatus::Expired, None).await {
        Ok(()) => Ok(()),
        Err(e) if e.code == ErrorCode::AlreadyDecided => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// Staff hand the item over against its pickup code.
pub async fn pickup(state: &State, staff: &CurrentUser, code: &str) -> AppResult<RedemptionView> {
    let code = normalize_receipt_code(code).ok_or(ErrorCode::NotFound)?;
    let r = redemption::Entity::find()
        .filter(redemption::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    managed_item(state, staff, r.item_id).await?;
    let u = redemption::Entity::update_many()
        .col_expr(redemption::Column::Status, Expr::value(RedemptionStatus::PickedUp))
        .col_expr(redemption::Column::DecidedBy, Expr::value(staff.id))
        .col_expr(redemption::Column::DecidedAt, Expr::value(Utc::now()))
        .filter(redemption::Column::Id.eq(r.id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .exec(&state.db)
        .await?;
    if u.rows_affected != 1 {
        return Err(ErrorCode::AlreadyDecided.into());
    }
    let row = redemption::Entity::find_by_id(r.id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    redemption_views(state, vec![row], Some(crate::support::people::english(staff)))
        .await?
        .pop()
        .ok_or_else(|| ErrorCode::NotFound.into())
}

// ------------------------------------------------------------------ jobs

pub const EXPIRE: JobKind = JobKind("mall.expire");

/// The background jobs of this feature.
pub fn register_jobs(h: &mut jobs::Handlers) {
    h.add(EXPIRE, |s: State, j| async move { expire_job(&s, j).await });
}
