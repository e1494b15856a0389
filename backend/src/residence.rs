//! 住户认证: a person asks to be bound to a dwelling as owner, co-owner,
//! tenant or family member; staff of that community approve or reject with a
//! reason. Approval grants the resident role in the community. Bills, votes
//! and quotas later hang off approved residences.

use crate::support::personal_data::log_view;
use chrono::Utc;
use domain::{
    residence::{AreaCentiM2, Relation, ResidenceStatus},
    ErrorCode, IdNumber, OrgLevel, OrgPath, Role,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use crate::{
    auth::CurrentUser,
    entities::{building, dwelling, org_unit, personal_data_view, residence, user, user_role},
    error::{AppError, AppResult},
    State,
};

pub use domain::residence::{Choice, ResidenceView};

pub async fn communities(state: &State) -> AppResult<Vec<Choice>> {
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Level.eq(OrgLevel::Community))
        .order_by_asc(org_unit::Column::Path)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| Choice { id: o.id, name: o.name })
        .collect())
}

pub async fn buildings(state: &State, community_id: i64) -> AppResult<Vec<Choice>> {
    let mut rows =
        building::Entity::find().filter(building::Column::CommunityId.eq(community_id)).all(&state.db).await?;
    rows.sort_by_key(|b| natural_key(&b.name));
    Ok(rows.into_iter().map(|b| Choice { id: b.id, name: b.name }).collect())
}

pub async fn dwellings(state: &State, building_id: i64) -> AppResult<Vec<Choice>> {
    let mut rows = dwelling::Entity::find().filter(dwelling::Column::BuildingId.eq(building_id)).all(&state.db).await?;
    rows.sort_by(|a, b| {
        (natural_key(&a.entrance), natural_key(&a.room)).cmp(&(natural_key(&b.entrance), natural_key(&b.room)))
    });
    Ok(rows.into_iter().map(|d| Choice { id: d.id, name: format!("{} {}", d.entrance, d.room) }).collect())
}

/// Sorts "10号楼" after "9号楼".
fn natural_key(s: &str) -> (u64, String) {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    (digits.parse().unwrap_or(u64::MAX), s.to_string())
}

pub struct NewResidence {
    pub dwelling_id: i64,
    pub relation: Relation,
    pub area: Option<AreaCentiM2>,
    /// optional: speeds up the check; stored encrypted, shown masked
    pub id_number: Option<IdNumber>,
}

impl NewResidence {
    /// Parses the form fields; owners and co-owners must give the registered
    /// area; an ID number, when given, must be a valid one.
    pub fn parse(dwelling_id: &str, relation: &str, area: &str, id_number: &str) -> Result<NewResidence, ErrorCode> {
        let dwelling_id = dwelling_id.trim().parse().map_err(|_| ErrorCode::InvalidInput)?;
        let relation = Relation::parse(relation.trim()).ok_or(ErrorCode::InvalidInput)?;
        let area = if relation.needs_area() {
            Some(AreaCentiM2::parse(area)?)
        } else if area.trim().is_empty() {
            None
        } else {
            Some(AreaCentiM2::parse(area)?)
        };
        let id_number = if id_number.trim().is_empty() { None } else { Some(IdNumber::parse(id_number)?) };
        Ok(NewResidence { dwelling_id, relation, area, id_number })
    }
}

pub async fn request(state: &State, user: &CurrentUser, new: NewResidence) -> AppResult<i64> {
    dwelling::Entity::find_by_id(new.dwelling_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let id_number_enc = match &new.id_number {
        Some(n) => Some(data_key(state)?.seal(&id_context(user.id), n.as_str())?),
        None => None,
    };
    let row = residence::ActiveModel {
        user_id: Set(user.id),
        dwelling_id: Set(new.dwelling_id),
        relation: Set(new.relation.as_str().into()),
        area_centi_m2: Set(new.area.map(|a| a.centi())),
        status: Set(ResidenceStatus::Pending),
        reason: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        created_at: Set(Utc::now()),
        id_number_enc: Set(id_number_enc),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(|e| if crate::db::is_unique_violation(&e) { ErrorCode::Conflict.into() } else { AppError::from(e) })?;
    Ok(row.id)
}

fn data_key(state: &State) -> AppResult<crate::crypto::DataKey> {
    crate::crypto::DataKey::new(&state.config.data_key)
}

/// The associated data an applicant's ID number is sealed with.
fn id_context(user_id: i64) -> String {
    format!("residence-user:{user_id}")
}

/// The community (and its path) a dwelling belongs to.
async fn community_of(state: &State, dwelling_id: i64) -> AppResult<org_unit::Model> {
    let d = dwelling::Entity::find_by_id(dwelling_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let b = building::Entity::find_by_id(d.building_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    Ok(org_unit::Entity::find_by_id(b.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?)
}

/// Approves or rejects a pending request. Only staff whose scope holds the
/// dwelling's community may decide; a request is decided once (compare-and-swap).
pub async fn decide(state: &State, staff: &CurrentUser, id: i64, approve: bool, reason: &str) -> AppResult<()> {
    let row = residence::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let community = community_of(state, row.dwelling_id).await?;
    let path = OrgPath::parse(&community.path).ok_or_else(|| AppError::internal(anyhow::anyhow!("bad org path")))?;
    if !staff.can_manage(&path) {
        // outside the staff member's communities the request does not exist for them
        return Err(ErrorCode::NotFound.into());
    }
    let reason = reason.trim();
    if !approve && reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    if reason.chars().count() > 200 {
        return Err(ErrorCode::InvalidInput.into());
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let status = if approve { ResidenceStatus::Approved } else { ResidenceStatus::Rejected };
    let done = residence::Entity::update_many()
        .col_expr(residence::Column::Status, Expr::value(status.as_str()))
        .col_expr(residence::Column::Reason, Expr::value((!reason.is_empty()).then(|| reason.to_string())))
        .col_expr(residence::Column::ReviewedBy, Expr::value(staff.id))
        .col_expr(residence::Column::ReviewedAt, Expr::value(now))
        .filter(residence::Column::Id.eq(id))
        .filter(residence::Column::Status.eq(ResidenceStatus::Pending))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(ErrorCode::AlreadyDecided.into());
    }
    if approve {
        let has_role = user_role::Entity::find()
            .filter(user_role::Column::UserId.eq(row.user_id))
            .filter(user_role::Column::Role.eq(Role::Resident))
            .filter(user_role::Column::OrgUnitId.eq(community.id))
            .one(&txn)
            .await?
            .is_some();
        if !has_role {
            user_role::ActiveModel {
                user_id: Set(row.user_id),
                role: Set(Role::Resident),
                org_unit_id: Set(community.id),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    use domain::msg::Msg;
    let (title, body) = if approve {
        (
            Msg::new("residence.approved.title").encode(),
            Msg::new("residence.approved.body").with("community", &community.name).encode(),
        )
    } else {
        (
            Msg::new("residence.rejected.title").encode(),
            Msg::new("residence.rejected.body").with("community", &community.name).with("why", reason).encode(),
        )
    };
    // The applicant hears of it in the same transaction as the decision.
    crate::notify::put(
        &txn,
        row.user_id,
        crate::notify::Draft {
            kind: domain::notify::NotificationKind::Residence,
            title,
            body,
            link: "/residence".into(),
            key: format!("residence:{id}"),
        },
    )
    .await?;
    txn.commit().await?;
    state.jobs.kick();
    tracing::info!(residence = id, approve, staff = staff.id, "residence decided");
    Ok(())
}

/// The user's own requests, newest first (their own numbers masked too: a
/// shared phone or a look over the shoulder).
pub async fn mine(state: &State, user: &CurrentUser) -> AppResult<Vec<ResidenceView>> {
    let rows = residence::Entity::find()
        .filter(residence::Column::UserId.eq(user.id))
        .order_by_desc(residence::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(state, r, false, crate::support::people::english(user)).await?.0);
    }
    Ok(out)
}

/// Pending requests in the staff member's communities, oldest first, phone
/// and ID number masked. `show`: the one request whose applicant's phone and
/// ID number are shown in full, which is written to the personal-data log.
pub async fn pending(state: &State, staff: &CurrentUser, show: Option<i64>) -> AppResult<Vec<ResidenceView>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let rows = residence::Entity::find()
        .filter(residence::Column::Status.eq(ResidenceStatus::Pending))
        .order_by_asc(residence::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let c = community_of(state, r.dwelling_id).await?;
        if !OrgPath::parse(&c.path).map(|p| staff.can_manage(&p)).unwrap_or(false) {
            continue;
        }
        let full = show == Some(r.id);
        let (id, user_id) = (r.id, r.user_id);
        let (v, had_id_number) = view(state, r, full, crate::support::people::english(staff)).await?;
        if full {
            let fields = if had_id_number { "phone,id_number" } else { "phone" };
            log_view(state, staff, user_id, fields, &format!("residence:{id}"), &c.path).await?;
        }
        out.push(v);
    }
    Ok(out)
}

pub use domain::residence::PersonalDataViewRow;

/// The personal-data log of the staff member's communities, newest first
/// (at most 200 rows per page). The people in it are named, their numbers not.
pub async fn personal_data_log(state: &State, staff: &CurrentUser, page: u64) -> AppResult<Vec<PersonalDataViewRow>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    // the rows under any node where the staff member holds a staff role
    let mut scope = sea_orm::Condition::any();
    for g in staff.grants.iter().filter(|g| g.role.is_staff()) {
        scope = scope.add(personal_data_view::Column::OrgPath.starts_with(g.org_path.as_str()));
    }
    let per_page = 200u64;
    let rows = personal_data_view::Entity::find()
        .filter(scope)
        .order_by_desc(personal_data_view::Column::Id)
        .offset(page.saturating_sub(1).saturating_mul(per_page).min(crate::MAX_OFFSET))
        .limit(per_page)
        .all(&state.db)
        .await?;
    // the people named in this page, in one query
    let mut ids: Vec<i64> = rows.iter().flat_map(|r| [r.viewer_id, r.subject_id]).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = crate::support::people::names(state, ids.into_iter(), crate::support::people::english(staff)).await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let views = rows
        .into_iter()
        .map(|r| PersonalDataViewRow {
            at: domain::time::beijing_time(r.at),
            viewer: name(r.viewer_id),
            subject: name(r.subject_id),
            fields: r.fields.split(',').map(str::to_string).collect(),
            context: r.context,
        })
        .collect();
    Ok(views)
}

/// A request as shown; `full`: the applicant's phone and ID number in full.
/// Also says whether an ID number was given.
async fn view(state: &State, r: residence::Model, full: bool, en: bool) -> AppResult<(ResidenceView, bool)> {
    let d = dwelling::Entity::find_by_id(r.dwelling_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let b = building::Entity::find_by_id(d.building_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let c = org_unit::Entity::find_by_id(b.community_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let u = user::Entity::find_by_id(r.user_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let id_number = match &r.id_number_enc {
        Some(sealed) => Some(data_key(state)?.open(&id_context(r.user_id), sealed)?),
        None => None,
    };
    let had = id_number.is_some();
    Ok((
        ResidenceView {
            id: r.id,
            community: c.name,
            address: format!("{} {} {}", b.name, d.entrance, d.room),
            relation: Relation::parse(&r.relation).unwrap_or(Relation::FamilyMember),
            area: r.area_centi_m2.and_then(AreaCentiM2::from_centi),
            status: r.status,
            reason: r.reason,
            applicant_name: crate::support::people::name_of(&u, en),
            applicant_phone: if full { u.phone } else { domain::phone::mask_phone(&u.phone) },
            applicant_id_number: id_number.map(|n| if full { n } else { domain::id_number::mask_id_number(&n) }),
            in_full: full,
            created_at: domain::time::beijing_time(r.created_at),
        },
        had,
    ))
}
