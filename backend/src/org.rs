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
    Some(OrgNode { id: m.id, level: m.level, name: m.name, path: OrgPath::parse(&m.path)? })
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

/// The numbers a community's residents call (首页, 我的).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contacts {
    pub community_id: i64,
    pub community: String,
    pub office_phone: Option<String>,
    pub property_name: Option<String>,
    pub property_phone: Option<String>,
    /// The property service takes home-repair requests (入户报修) here.
    pub property_repairs: bool,
}

fn contacts_of(m: org_unit::Model) -> Contacts {
    Contacts {
        community_id: m.id,
        community: m.name,
        office_phone: m.office_phone,
        property_name: m.property_name,
        property_phone: m.property_phone,
        property_repairs: m.property_repairs,
    }
}

/// The contacts of the communities a person belongs to (where they hold a
/// role at or below a community), nearest first.
pub async fn my_contacts(state: &State, user: &CurrentUser) -> AppResult<Vec<Contacts>> {
    let mut out: Vec<Contacts> = vec![];
    for g in &user.grants {
        for id in g.org_path.ids().into_iter().rev() {
            let Some(m) = org_unit::Entity::find_by_id(id).one(&state.db).await? else { continue };
            if m.level == OrgLevel::Community {
                if !out.iter().any(|c| c.community_id == m.id) {
                    out.push(contacts_of(m));
                }
                break;
            }
        }
    }
    Ok(out)
}

/// The contacts of every community in a staff member's scope.
pub async fn staff_contacts(state: &State, staff: &CurrentUser) -> AppResult<Vec<Contacts>> {
    if !staff.is_staff() {
        return Err(domain::ErrorCode::Forbidden.into());
    }
    let mut out: Vec<Contacts> = vec![];
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        let rows = org_unit::Entity::find()
            .filter(org_unit::Column::Path.starts_with(g.org_path.as_str()))
            .filter(org_unit::Column::Level.eq(OrgLevel::Community))
            .order_by_asc(org_unit::Column::Path)
            .all(&state.db)
            .await?;
        for m in rows {
            if !out.iter().any(|c| c.community_id == m.id) {
                out.push(contacts_of(m));
            }
        }
    }
    Ok(out)
}

/// Staff set a community's numbers; an empty field clears it, a field that
/// is no number is refused and nothing changes.
pub async fn set_contacts(
    state: &State,
    staff: &CurrentUser,
    community_id: i64,
    office_phone: &str,
    property_name: &str,
    property_phone: &str,
    property_repairs: bool,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    let m = org_unit::Entity::find_by_id(community_id).one(&state.db).await?.ok_or(domain::ErrorCode::NotFound)?;
    let path = OrgPath::parse(&m.path).ok_or(domain::ErrorCode::NotFound)?;
    if m.level != OrgLevel::Community || !staff.can_manage(&path) {
        return Err(domain::ErrorCode::NotFound.into());
    }
    let number = |s: &str| -> AppResult<Option<String>> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            Ok(Some(domain::phone::ContactNumber::parse(s)?.as_str().to_string()))
        }
    };
    let office = number(office_phone)?;
    let property = number(property_phone)?;
    let name: Option<String> =
        Some(property_name.trim().chars().take(40).collect::<String>()).filter(|s| !s.is_empty());
    org_unit::Entity::update_many()
        .col_expr(org_unit::Column::OfficePhone, Expr::value(office))
        .col_expr(org_unit::Column::PropertyName, Expr::value(name))
        .col_expr(org_unit::Column::PropertyPhone, Expr::value(property))
        .col_expr(org_unit::Column::PropertyRepairs, Expr::value(property_repairs))
        .filter(org_unit::Column::Id.eq(community_id))
        .exec(&state.db)
        .await?;
    Ok(())
}
