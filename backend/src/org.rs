//! The organisation tree and scope: which nodes a user can see and manage.

use domain::{OrgLevel, OrgPath};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::{auth::CurrentUser, entities::org_unit, error::AppResult, State};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgNode {
    pub id: i64,
    pub level: OrgLevel,
    pub name: String,
    pub path: OrgPath,
}

fn node(m: org_unit::Model) -> Option<OrgNode> {
    Some(OrgNode { id: m.id, level: OrgLevel::parse(&m.level)?, name: m.name, path: OrgPath::parse(&m.path)? })
}

/// The path of an organisation node (for `CurrentUser::can_manage`).
pub async fn path_of(state: &State, id: i64) -> AppResult<OrgPath> {
    Ok(get(state, id).await?.ok_or(domain::ErrorCode::NotFound)?.path)
}

pub async fn get(state: &State, id: i64) -> AppResult<Option<OrgNode>> {
    Ok(org_unit::Entity::find_by_id(id).one(&state.db).await?.and_then(node))
}

/// Every node of `path`'s subtree, the node itself included.
pub async fn subtree(state: &State, path: &OrgPath) -> AppResult<Vec<OrgNode>> {
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Path.starts_with(path.as_str()))
        .order_by_asc(org_unit::Column::Path)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(node)
        .collect())
}

/// Nodes whose announcements a user sees: the ancestors of every node they
/// hold a role at (a street's notice reaches its communities), and for staff
/// also everything below.
pub async fn visible_ids(state: &State, user: &CurrentUser) -> AppResult<Vec<i64>> {
    let mut ids: Vec<i64> = Vec::new();
    for g in &user.grants {
        ids.extend(g.org_path.ids());
        if g.role.is_staff() {
            ids.extend(subtree(state, &g.org_path).await?.into_iter().map(|n| n.id));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Nodes a staff member may publish to: the street and community nodes in their scopes.
pub async fn publish_targets(state: &State, user: &CurrentUser) -> AppResult<Vec<OrgNode>> {
    let mut out: Vec<OrgNode> = Vec::new();
    for g in user.grants.iter().filter(|g| g.role.is_staff()) {
        for n in subtree(state, &g.org_path).await? {
            if matches!(n.level, OrgLevel::Street | OrgLevel::Community | OrgLevel::District | OrgLevel::City)
                && !out.iter().any(|o| o.id == n.id)
            {
                out.push(n);
            }
        }
    }
    out.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    Ok(out)
}
