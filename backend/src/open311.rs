//! Open311 GeoReport v2 (protocols.md) over the incident workflow, so
//! existing civic-reporting clients can file and follow reports.
//!
//! Clients are given an API key by the community's staff (`/staff/incidents`);
//! the key is stored as a SHA-256 hash, names its community, and files
//! reports as the staff member who issued it (source `open311`). Reads need
//! a key too: requests carry places and descriptions that are the
//! community's business, not the public's.
//!
//! Statuses: `open`/`closed` as the standard has them, plus the FixMyStreet
//! extended status (`extended_status`, and `status` on updates): FOR_TRIAGE =
//! accepted, ACTION_SCHEDULED / INTERNAL_REFERRAL = dispatched to a worker /
//! a department, IN_PROGRESS, FIXED = handled, CLOSED, DUPLICATE,
//! NOT_COUNCILS_RESPONSIBILITY, REOPEN (sent back); verification goes in
//! `external_status_code`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    incidents::{Action, ApiKeyView, Category, NewIncident, RejectReason, Spot, Status},
    ErrorCode,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

use crate::{
    auth::CurrentUser,
    entities::{incident, incident_event, open311_key, org_unit},
    error::AppResult,
    State,
};

/// At most this many requests in one answer, and this window of days.
pub const MAX_REQUESTS: u64 = 1000;
pub const MAX_DAYS: i64 = 90;

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// Staff issue a key for a client of a community they manage. The key is
/// shown once; only its hash is kept.
pub async fn create_key(state: &State, staff: &CurrentUser, community_id: i64, label: &str) -> AppResult<String> {
    let node = crate::org::get(state, community_id).await?.ok_or(ErrorCode::NotFound)?;
    if !staff.is_staff() || !staff.can_manage(&node.path) || node.level != domain::OrgLevel::Community {
        return Err(ErrorCode::Forbidden.into());
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 60 {
        return Err(ErrorCode::InvalidTitle.into());
    }
    let key = format!("o311_{}", uuid::Uuid::new_v4().simple());
    open311_key::Entity::insert(open311_key::ActiveModel {
        community_id: Set(community_id),
        key_hash: Set(hash(&key)),
        prefix: Set(key[..9].to_string()),
        label: Set(label.to_string()),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(key)
}

pub async fn keys(state: &State, staff: &CurrentUser) -> AppResult<Vec<ApiKeyView>> {
    let communities = crate::support::scope::visible_communities(state, staff).await?;
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let names: HashMap<i64, String> = communities.into_iter().collect();
    Ok(open311_key::Entity::find()
        .filter(open311_key::Column::CommunityId.is_in(names.keys().copied().collect::<Vec<_>>()))
        .order_by_desc(open311_key::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|k| ApiKeyView {
            id: k.id,
            community: names.get(&k.community_id).cloned().unwrap_or_default(),
            label: k.label,
            prefix: k.prefix,
            created_at: domain::time::beijing_time(k.created_at),
            revoked: k.revoked_at.is_some(),
        })
        .collect())
}

pub async fn revoke_key(state: &State, staff: &CurrentUser, id: i64) -> AppResult<()> {
    let k = open311_key::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let path = crate::org::path_of(state, k.community_id).await?;
    if !staff.is_staff() || !staff.can_manage(&path) {
        return Err(ErrorCode::Forbidden.into());
    }
    open311_key::Entity::update_many()
        .col_expr(open311_key::Column::RevokedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(open311_key::Column::Id.eq(id))
        .filter(open311_key::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Who a valid key acts as.
pub struct Client {
    /// The key's own id: what it filed carries it (`o311-{key}-…` client ids).
    pub key_id: i64,
    pub community_id: i64,
    pub community: String,
    pub reporter: CurrentUser,
}

/// The client behind an API key, or `None` for a missing, unknown or revoked key.
pub async fn client(state: &State, key: Option<&str>) -> AppResult<Option<Client>> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty() && k.len() <= 100) else { return Ok(None) };
    let Some(k) = open311_key::Entity::find()
        .filter(open311_key::Column::KeyHash.eq(hash(key)))
        .filter(open311_key::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(reporter) = crate::auth::acting_as(state, k.created_by).await? else { return Ok(None) };
    let community =
        org_unit::Entity::find_by_id(k.community_id).one(&state.db).await?.map(|c| c.name).unwrap_or_default();
    Ok(Some(Client { key_id: k.id, community_id: k.community_id, community, reporter }))
}

// ------------------------------------------------------------------ services

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceOut {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

/// Every category is a service; none has extra attributes (metadata false).
pub fn services(english: bool) -> Vec<ServiceOut> {
    Category::ALL
        .iter()
        .map(|c| ServiceOut {
            service_code: c.as_str().into(),
            service_name: c.name(english).into(),
            description: format!(
                "{}{}",
                c.name(english),
                if english {
                    format!(" — a deadline of {} day(s) once dispatched", c.default_days())
                } else {
                    format!(",派遣后一般 {} 天内办结", c.default_days())
                }
            ),
            metadata: false,
            kind: "realtime".into(),
            keywords: c.as_str().into(),
            group: if english { "Community incidents" } else { "社区事件" }.into(),
        })
        .collect()
}

// ------------------------------------------------------------------ requests

/// A new service request from Open311's form fields: the jurisdiction it
/// names (if any), the incident it files and its `media_url`. Contact
/// fields (email, phone, names, device and account ids) are not stored.
/// `description` is optional in the standard: without one the report says
/// so. Pure, so it can be fuzzed.
pub fn parse_request(f: &HashMap<String, String>) -> AppResult<(Option<String>, NewIncident, Option<String>)> {
    let get = |k: &str| f.get(k).map(|s| s.trim()).unwrap_or_default();
    let category = Category::parse(get("service_code")).ok_or(ErrorCode::InvalidCategory)?;
    let jurisdiction = f.get("jurisdiction_id").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let spot = Spot::parse(get("lat"), get("long"), "")?;
    let address = if get("address_string").is_empty() { get("address_id") } else { get("address_string") };
    let description = get("description");
    if description.chars().count() > domain::incidents::MAX_DESCRIPTION {
        return Err(ErrorCode::InvalidBody.into());
    }
    let description = if description.is_empty() {
        format!("{}(未附说明)", category.name(false))
    } else {
        description.to_string()
    };
    let media = get("media_url");
    let media_url = match media {
        "" => None,
        m if (m.starts_with("https://") || m.starts_with("http://"))
            && m.len() <= 500
            && url::Url::parse(m).is_ok_and(|u| u.host().is_some()) =>
        {
            Some(m.to_string())
        }
        _ => return Err(ErrorCode::InvalidInput.into()),
    };
    Ok((jurisdiction, NewIncident::parse(category.as_str(), &description, spot, address)?, media_url))
}

/// Files a request; returns its id and its token (`tokens/{token}` finds it).
pub async fn create(state: &State, c: &Client, f: &HashMap<String, String>) -> AppResult<(i64, String)> {
    let (jurisdiction, new, media_url) = parse_request(f)?;
    if jurisdiction.is_some_and(|j| j != c.community_id.to_string()) {
        return Err(ErrorCode::NotFound.into());
    }
    let client_id = format!("{}{}", key_prefix(c.key_id), uuid::Uuid::new_v4().simple());
    let id = crate::incidents::file(state, &c.reporter, c.community_id, None, "open311", &client_id, new).await?;
    if let Some(m) = media_url {
        incident::Entity::update_many()
            .col_expr(incident::Column::MediaUrl, sea_orm::sea_query::Expr::value(m))
            .filter(incident::Column::Id.eq(id))
            .exec(&state.db)
            .await?;
    }
    Ok((id, client_id))
}

/// What a key's reports' client ids (and tokens) begin with.
fn key_prefix(key_id: i64) -> String {
    format!("o311-{key_id}-")
}

/// A position given to a key that did not file the report: rounded to
/// three decimals (about 100 m), enough to see where, not whose door.
fn rounded(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 1000.0).round() / 1000.0)
}

/// A filter for GET requests, parsed from Open311's query parameters.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub ids: Vec<i64>,
    pub category: Option<Category>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub open: Option<bool>,
}

fn parse_date(s: &str) -> Result<DateTime<Utc>, ErrorCode> {
    let ts = domain::osmand::parse_timestamp(s).map_err(|_| ErrorCode::InvalidDateRange)?;
    Utc.timestamp_opt(ts, 0).single().ok_or(ErrorCode::InvalidDateRange)
}

impl Filter {
    pub fn parse(q: &HashMap<String, String>) -> Result<Filter, ErrorCode> {
        let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut f = Filter::default();
        if let Some(ids) = get("service_request_id") {
            for id in ids.split(',') {
                f.ids.push(id.trim().parse().map_err(|_| ErrorCode::InvalidInput)?);
            }
            if f.ids.len() > 100 {
                return Err(ErrorCode::InvalidInput);
            }
        }
        if let Some(c) = get("service_code") {
            f.category = Some(Category::parse(c).ok_or(ErrorCode::InvalidCategory)?);
        }
        f.from = get("start_date").map(parse_date).transpose()?;
        f.to = get("end_date").map(parse_date).transpose()?;
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if b < a || b - a > Duration::days(MAX_DAYS) {
                return Err(ErrorCode::InvalidDateRange);
            }
        }
        f.open = match get("status") {
            None => None,
            Some("open") => Some(true),
            Some("closed") => Some(false),
            Some(_) => return Err(ErrorCode::InvalidInput),
        };
        Ok(f)
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequestOut {
    pub service_request_id: String,
    pub status: String,
    pub extended_status: String,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// ISO 8601 with the Beijing offset, as Open311 clients expect local times.
pub fn iso(t: DateTime<Utc>) -> String {
    t.with_timezone(&domain::time::beijing()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The FixMyStreet extended status of an incident.
pub fn extended_status(s: Status, reject: Option<RejectReason>, department: bool) -> &'static str {
    match s {
        Status::Reported => "OPEN",
        Status::Accepted => "FOR_TRIAGE",
        Status::Dispatched if department => "INTERNAL_REFERRAL",
        Status::Dispatched => "ACTION_SCHEDULED",
        Status::InProgress => "IN_PROGRESS",
        Status::Handled | Status::Verified => "FIXED",
        Status::Closed => "CLOSED",
        Status::Rejected => match reject {
            Some(RejectReason::Duplicate) => "DUPLICATE",
            _ => "NOT_COUNCILS_RESPONSIBILITY",
        },
    }
}

/// `own`: the key filed it (exact position and address); otherwise the
/// position is rounded and the address left out.
fn request_out(i: &incident::Model, community: &str, own: bool) -> RequestOut {
    let status = i.status;
    let category = i.category;
    let reject = i.reject_reason.as_deref().and_then(RejectReason::parse);
    RequestOut {
        service_request_id: i.id.to_string(),
        status: if status.is_open() { "open" } else { "closed" }.into(),
        extended_status: extended_status(status, reject, i.department.is_some()).into(),
        status_notes: status.text(false).into(),
        service_name: category.name(false).into(),
        service_code: category.as_str().into(),
        description: i.description.clone(),
        agency_responsible: i.department.clone().unwrap_or_else(|| community.to_string()),
        service_notice: String::new(),
        requested_datetime: iso(i.created_at),
        updated_datetime: iso(i.updated_at),
        expected_datetime: i.deadline.map(iso),
        address: if own { i.address.clone() } else { None },
        address_id: None,
        zipcode: None,
        lat: if own { i.lat } else { rounded(i.lat) },
        long: if own { i.lng } else { rounded(i.lng) },
        media_url: if own { i.media_url.clone() } else { None },
    }
}

/// Requests a key may read: those it filed, plus (while the staff member who
/// issued it still manages the community) the community's other reports,
/// with their positions rounded to about 100 m and no address or media.
/// By id, or by code, status and time (the last 90 days when no dates are
/// given), newest first.
pub async fn requests(state: &State, c: &Client, f: &Filter) -> AppResult<Vec<RequestOut>> {
    let prefix = key_prefix(c.key_id);
    let path = crate::org::path_of(state, c.community_id).await?;
    let owner_sees_all = c.reporter.is_staff() && c.reporter.can_manage(&path);
    let mut q = incident::Entity::find().filter(incident::Column::CommunityId.eq(c.community_id));
    if !owner_sees_all {
        q = q.filter(incident::Column::ClientId.starts_with(prefix.as_str()));
    }
    if !f.ids.is_empty() {
        q = q.filter(incident::Column::Id.is_in(f.ids.clone()));
    } else {
        let to = f.to.unwrap_or_else(Utc::now);
        let from = f.from.unwrap_or(to - Duration::days(MAX_DAYS));
        q = q.filter(incident::Column::CreatedAt.between(from, to));
        if let Some(cat) = f.category {
            q = q.filter(incident::Column::Category.eq(cat.as_str()));
        }
        if let Some(open) = f.open {
            let closed = [Status::Closed.as_str(), Status::Rejected.as_str()];
            q = if open {
                q.filter(incident::Column::Status.is_not_in(closed))
            } else {
                q.filter(incident::Column::Status.is_in(closed))
            };
        }
    }
    let rows = q.order_by_desc(incident::Column::Id).limit(MAX_REQUESTS).all(&state.db).await?;
    Ok(rows
        .iter()
        .map(|i| request_out(i, &c.community, i.source == "open311" && i.client_id.starts_with(&prefix)))
        .collect())
}

/// The request a token names (our tokens are the client ids the reports were
/// filed under; a key finds only its own).
pub async fn by_token(state: &State, c: &Client, token: &str) -> AppResult<i64> {
    let token = token.trim();
    if !token.starts_with(&key_prefix(c.key_id)) {
        return Err(ErrorCode::NotFound.into());
    }
    incident::Entity::find()
        .filter(incident::Column::CommunityId.eq(c.community_id))
        .filter(incident::Column::ClientId.eq(token))
        .filter(incident::Column::Source.eq("open311"))
        .one(&state.db)
        .await?
        .map(|i| i.id)
        .ok_or_else(|| ErrorCode::NotFound.into())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UpdateOut {
    pub update_id: String,
    pub service_request_id: String,
    pub status: String,
    pub updated_datetime: String,
    pub description: String,
    pub media_url: Option<String>,
    pub external_status_code: Option<String>,
}

/// Workflow events of the community's requests in a window (at most 90
/// days; the last day when none is given), oldest first.
pub async fn updates(state: &State, c: &Client, f: &Filter) -> AppResult<Vec<UpdateOut>> {
    let to = f.to.unwrap_or_else(Utc::now);
    let from = f.from.unwrap_or(to - Duration::days(1));
    let path = crate::org::path_of(state, c.community_id).await?;
    let mut q = incident::Entity::find()
        .select_only()
        .column(incident::Column::Id)
        .filter(incident::Column::CommunityId.eq(c.community_id))
        .filter(incident::Column::UpdatedAt.gte(from));
    if !(c.reporter.is_staff() && c.reporter.can_manage(&path)) {
        q = q.filter(incident::Column::ClientId.starts_with(key_prefix(c.key_id).as_str()));
    }
    let ids: Vec<i64> = q.into_tuple().all(&state.db).await?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let events = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.is_in(ids.clone()))
        .filter(incident_event::Column::At.between(from, to))
        .filter(incident_event::Column::Action.ne(Action::Report))
        .order_by_asc(incident_event::Column::Id)
        .limit(MAX_REQUESTS)
        .all(&state.db)
        .await?;
    let incidents: HashMap<i64, incident::Model> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    Ok(events
        .into_iter()
        .map(|e| {
            let action = e.action;
            let to = e.to_status;
            let i = incidents.get(&e.incident_id);
            let reject = i.and_then(|i| i.reject_reason.as_deref()).and_then(RejectReason::parse);
            let department = i.is_some_and(|i| i.department.is_some());
            let status = match action {
                Action::SendBack => "REOPEN",
                _ => extended_status(to, reject, department),
            };
            UpdateOut {
                update_id: e.id.to_string(),
                service_request_id: e.incident_id.to_string(),
                status: status.into(),
                updated_datetime: iso(e.at),
                description: e.note.clone().unwrap_or_else(|| action.text(false).to_string()),
                media_url: None,
                external_status_code: (action == Action::Verify).then(|| "verified".to_string()),
            }
        })
        .collect())
}
