//! Where a staff member may act: the communities under their staff grants.

use domain::{ErrorCode, OrgLevel, OrgPath};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::CurrentUser,
    entities::org_unit,
    error::{AppError, AppResult},
    State,
};

/// The communities a staff member manages, (id, name), in the order their
/// grants reach them; an error for anyone who is not staff.
pub async fn staff_communities(state: &State, staff: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let mut out = vec![];
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        for n in crate::org::subtree(state, &g.org_path).await? {
            if n.level == OrgLevel::Community && !out.iter().any(|(id, _)| *id == n.id) {
                out.push((n.id, n.name));
            }
        }
    }
    Ok(out)
}

/// A community the staff member manages: 404 when there is none with this
/// id, 403 when it is not a community or not theirs.
pub async fn managed_community(state: &State, staff: &CurrentUser, id: i64) -> AppResult<org_unit::Model> {
    let c = org_unit::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let path = OrgPath::parse(&c.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if !staff.can_manage(&path) || c.level != OrgLevel::Community {
        return Err(ErrorCode::Forbidden.into());
    }
    Ok(c)
}

/// Whether an org node (a community's path) is in the user's reach: they
/// live or work under it, or manage it as staff.
pub fn in_scope(user: &CurrentUser, path: &OrgPath) -> bool {
    user.grants.iter().any(|g| path.contains(&g.org_path) || (g.role.is_staff() && g.org_path.contains(path)))
}

/// The communities a user belongs to or manages, (id, name), by id: where
/// they may propose a topic or report an incident.
pub async fn visible_communities(state: &State, user: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    let ids = crate::org::visible_ids(state, user).await?;
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(ids))
        .filter(org_unit::Column::Level.eq(OrgLevel::Community))
        .order_by_asc(org_unit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// The grids a staff member manages, (id, name); an error for anyone who is
/// not staff.
pub async fn staff_grids(state: &State, staff: &CurrentUser) -> AppResult<Vec<(i64, String)>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let mut out: Vec<(i64, String)> = vec![];
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        for n in crate::org::subtree(state, &g.org_path).await? {
            if n.level == OrgLevel::Grid && !out.iter().any(|(id, _)| *id == n.id) {
                out.push((n.id, n.name));
            }
        }
    }
    Ok(out)
}

/// The community (in the staff member's scope) a person lives or works in:
/// 404 when they have none there.
pub async fn managed_community_of_user(state: &State, staff: &CurrentUser, user_id: i64) -> AppResult<i64> {
    let grants = crate::auth::load_grants(state, user_id).await?;
    grants
        .iter()
        .filter(|g| staff.can_manage(&g.org_path))
        .filter_map(|g| g.org_path.ids().get(3).copied())
        .next()
        .ok_or_else(|| ErrorCode::NotFound.into())
}
