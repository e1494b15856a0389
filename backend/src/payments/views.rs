//! Orders as people read them: the payer's own, one order (its payer or the
//! community's staff), staff's list and the provider's payments nobody
//! ordered (unmatched).

use super::*;

pub(super) fn can_see(viewer: &CurrentUser, o: &payment_order::Model, community: &org_unit::Model) -> bool {
    if o.user_id == viewer.id {
        return true;
    }
    OrgPath::parse(&community.path).is_some_and(|p| viewer.can_manage(&p))
}

pub(super) async fn view_of(state: &State, o: &payment_order::Model) -> AppResult<OrderView> {
    Ok(views_of(state, std::slice::from_ref(o)).await?.pop().ok_or(ErrorCode::NotFound)?)
}

/// Orders as pages show them (the payer's phone masked), with their lines,
/// bills, payers and communities loaded once for the whole list.
pub(super) async fn views_of(state: &State, orders: &[payment_order::Model]) -> AppResult<Vec<OrderView>> {
    use std::collections::HashMap;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut lines: HashMap<i64, Vec<order_bill::Model>> = HashMap::new();
    for ids in ids.chunks(500) {
        for l in order_bill::Entity::find()
            .filter(order_bill::Column::OrderId.is_in(ids.to_vec()))
            .order_by_asc(order_bill::Column::BillId)
            .all(&state.db)
            .await?
        {
            lines.entry(l.order_id).or_default().push(l);
        }
    }
    let mut bills: HashMap<i64, bill::Model> = HashMap::new();
    let bill_ids: Vec<i64> = lines.values().flatten().map(|l| l.bill_id).collect();
    for ids in bill_ids.chunks(500) {
        for b in bill::Entity::find().filter(bill::Column::Id.is_in(ids.to_vec())).all(&state.db).await? {
            bills.insert(b.id, b);
        }
    }
    let mut users: Vec<i64> = orders.iter().map(|o| o.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let phones: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(users))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.phone))
        .collect();
    let mut units: Vec<i64> = orders.iter().map(|o| o.org_unit_id).collect();
    units.sort_unstable();
    units.dedup();
    let communities: HashMap<i64, String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(units))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut addresses: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(orders.len());
    for o in orders {
        let mut view_lines = vec![];
        for l in lines.get(&o.id).map(Vec::as_slice).unwrap_or_default() {
            let b = bills.get(&l.bill_id);
            let address = match b {
                Some(b) => match addresses.get(&b.household_id) {
                    Some(a) => a.clone(),
                    None => {
                        let a = crate::bills::address(state, b.household_id).await?;
                        addresses.insert(b.household_id, a.clone());
                        a
                    }
                },
                None => String::new(),
            };
            view_lines.push(OrderLine {
                bill_id: l.bill_id,
                title: b.map(|b| b.title.clone()).unwrap_or_default(),
                address,
                amount: Fen(l.amount_fen),
                refunded: Fen(l.refunded_fen),
            });
        }
        out.push(OrderView {
            out_trade_no: o.out_trade_no.clone(),
            status: status_of(o),
            provider: o.provider.clone(),
            amount: Fen(o.amount_fen),
            refunded: Fen(o.refunded_fen),
            lines: view_lines,
            created_at: beijing_time(o.created_at),
            paid_at: o.paid_at.map(beijing_time),
            transaction_id: o.transaction_id.clone(),
            receipt_code: o.receipt_code.as_deref().map(format_receipt_code),
            community: communities.get(&o.org_unit_id).cloned().unwrap_or_default(),
            payer: domain::phone::mask_phone(phones.get(&o.user_id).map(String::as_str).unwrap_or_default()),
        });
    }
    Ok(out)
}

/// Seconds between the active queries a viewer's page may cause.
const VIEW_QUERY_EVERY: i64 = 5;

/// One order, for its payer or for staff of its community. A payer looking
/// at an order still confirming makes us ask the provider (at most every
/// few seconds), so a late notification does not keep them waiting.
pub async fn order(state: &State, viewer: &CurrentUser, no: &str) -> AppResult<OrderView> {
    let mut o = order_by_no(&state.db, no).await?;
    let community = org_unit::Entity::find_by_id(o.org_unit_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    if !can_see(viewer, &o, &community) {
        return Err(ErrorCode::NotFound.into());
    }
    let now = Utc::now();
    let due = o.queried_at.is_none_or(|t| t < now - Duration::seconds(VIEW_QUERY_EVERY));
    if o.user_id == viewer.id && status_of(&o) == OrderStatus::Paying && due {
        if let Err(e) = settle(state, no).await {
            tracing::warn!(order = %no, error = %e, "order query failed; the page shows it still confirming");
        }
        o = order_by_no(&state.db, no).await?;
    }
    view_of(state, &o).await
}

/// Where the payer continues paying an order that is being paid.
pub async fn pay_url(state: &State, payer: &CurrentUser, no: &str) -> AppResult<Option<String>> {
    let o = order_by_no(&state.db, no).await?;
    Ok((o.user_id == payer.id && status_of(&o) == OrderStatus::Paying).then_some(o.pay_url).flatten())
}

/// The payer's orders, newest first.
pub async fn mine(state: &State, payer: &CurrentUser, limit: u64) -> AppResult<Vec<OrderView>> {
    let rows = payment_order::Entity::find()
        .filter(payment_order::Column::UserId.eq(payer.id))
        .order_by_desc(payment_order::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    views_of(state, &rows).await
}

/// The payer's open order holding a bill, if any (the bills page links it).
pub async fn open_order_of_bill(state: &State, payer: &CurrentUser, bill_id: i64) -> AppResult<Option<String>> {
    Ok(holder_of(&state.db, bill_id)
        .await?
        .filter(|o| o.user_id == payer.id && status_of(o).is_open())
        .map(|o| o.out_trade_no))
}

/// Orders of the staff member's communities, newest first (settled ones:
/// paid, refunded, and money that could not be matched).
pub async fn staff_orders(state: &State, staff: &CurrentUser, limit: u64) -> AppResult<Vec<OrderView>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = payment_order::Entity::find()
        .filter(payment_order::Column::OrgUnitId.is_in(communities))
        .filter(payment_order::Column::Status.is_in([OrderStatus::Paid, OrderStatus::Refunded]))
        .order_by_desc(payment_order::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?;
    views_of(state, &rows).await
}

pub async fn unmatched(state: &State, staff: &CurrentUser) -> AppResult<Vec<Unmatched>> {
    let communities: Vec<i64> =
        crate::support::scope::staff_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let rows = payment_notification::Entity::find()
        .filter(payment_notification::Column::Outcome.eq("unmatched"))
        .order_by_desc(payment_notification::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut out = vec![];
    for n in rows {
        let Ok(o) = order_by_no(&state.db, &n.out_trade_no).await else { continue };
        if communities.contains(&o.org_unit_id) {
            out.push(Unmatched {
                out_trade_no: n.out_trade_no,
                transaction_id: n.transaction_id,
                amount: Fen(n.amount_fen),
                detail: n.detail.unwrap_or_default(),
                received_at: beijing_time(n.received_at),
            });
        }
    }
    Ok(out)
}
