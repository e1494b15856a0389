//! What people read of incidents: the rows of a list, a reporter's and a
//! worker's home, staff's list, one incident's page, and the reporter's
//! number for a call back (logged).

use super::*;

pub(super) async fn rows_of(state: &State, rows: Vec<incident::Model>, en: bool) -> AppResult<Vec<IncidentRow>> {
    let names = crate::support::people::names(state, rows.iter().filter_map(|i| i.assignee_id), en).await?;
    let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
    let counts: Vec<(i64, i64)> = if ids.is_empty() {
        vec![]
    } else {
        photo::Entity::find()
            .select_only()
            .column(photo::Column::IncidentId)
            .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
            .filter(photo::Column::IncidentId.is_in(ids))
            .group_by(photo::Column::IncidentId)
            .into_tuple()
            .all(&state.db)
            .await?
    };
    let counts: HashMap<i64, i64> = counts.into_iter().collect();
    let now = Utc::now().timestamp_millis();
    Ok(rows
        .into_iter()
        .map(|i| {
            let status = i.status;
            IncidentRow {
                id: i.id,
                category: i.category,
                status,
                summary: i.description.chars().take(60).collect(),
                place: place_of(&i),
                reported_at: beijing_time(i.created_at),
                deadline: i.deadline.map(beijing_time),
                overdue: rules::is_overdue(status, i.deadline.map(|d| d.timestamp_millis()), now),
                escalations: i.escalations,
                assignee: i.assignee_id.and_then(|a| names.get(&a).cloned()).or(i.department.clone()),
                photos: counts.get(&i.id).copied().unwrap_or(0),
                distance_m: None,
            }
        })
        .collect())
}

pub(super) fn place_of(i: &incident::Model) -> String {
    match (&i.address, i.lat, i.lng) {
        (Some(a), _, _) => a.clone(),
        (None, Some(lat), Some(lng)) => format!("{lat:.5}, {lng:.5}"),
        _ => String::new(),
    }
}

/// /incidents: where the user may report, their reports and their tasks.
pub async fn home(state: &State, user: &CurrentUser) -> AppResult<IncidentHome> {
    let mine = incident::Entity::find()
        .filter(incident::Column::ReporterId.eq(user.id))
        .order_by_desc(incident::Column::Id)
        .limit(50)
        .all(&state.db)
        .await?;
    let open: Vec<&str> = Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let tasks = incident::Entity::find()
        .filter(incident::Column::AssigneeId.eq(user.id))
        .filter(incident::Column::Status.is_in(open))
        .order_by_asc(incident::Column::Deadline)
        .order_by_asc(incident::Column::Id)
        .all(&state.db)
        .await?;
    Ok(IncidentHome {
        communities: crate::support::scope::visible_communities(state, user).await?,
        mine: rows_of(state, mine, crate::support::people::english(user)).await?,
        tasks: rows_of(state, tasks, crate::support::people::english(user)).await?,
        form_id: format!("inc-{}", uuid::Uuid::new_v4().simple()),
    })
}

/// Staff's list over their communities: open ones first (overdue on top),
/// or those in one status.
pub async fn staff_list(state: &State, staff: &CurrentUser, status: Option<Status>) -> AppResult<Vec<IncidentRow>> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let communities: Vec<i64> =
        crate::support::scope::visible_communities(state, staff).await?.into_iter().map(|(id, _)| id).collect();
    let mut q = incident::Entity::find().filter(incident::Column::CommunityId.is_in(communities));
    q = match status {
        Some(s) => q.filter(incident::Column::Status.eq(s.as_str())),
        None => q.filter(
            incident::Column::Status
                .is_in(Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
    };
    let rows = q.order_by_desc(incident::Column::Id).limit(500).all(&state.db).await?;
    let mut out = rows_of(state, rows, crate::support::people::english(staff)).await?;
    out.sort_by_key(|r| (!r.overdue, r.status != Status::Reported, -r.id));
    Ok(out)
}

/// One incident with its timeline, photos and what the viewer may do.
pub async fn detail(state: &State, user: &CurrentUser, id: i64) -> AppResult<IncidentDetail> {
    let i = incident::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let (actor, visible, _) = access(state, user, &i).await?;
    if !visible {
        return Err(ErrorCode::NotFound.into());
    }
    let events = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(id))
        .order_by_asc(incident_event::Column::Id)
        .all(&state.db)
        .await?;
    let photos: Vec<(i64, Option<i64>)> = photo::Entity::find()
        .select_only()
        .column(photo::Column::Id)
        .column(photo::Column::EventId)
        .filter(photo::Column::IncidentId.eq(id))
        .order_by_asc(photo::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    let ext = incident_extension::Entity::find()
        .filter(incident_extension::Column::IncidentId.eq(id))
        .filter(incident_extension::Column::Status.eq(domain::incidents::ExtensionStatus::Pending))
        .one(&state.db)
        .await?;
    let names = crate::support::people::names(
        state,
        events
            .iter()
            .filter_map(|e| e.actor_id)
            .chain([i.reporter_id])
            .chain(i.assignee_id)
            .chain(ext.as_ref().map(|x| x.requested_by)),
        crate::support::people::english(user),
    )
    .await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let community =
        org_unit::Entity::find_by_id(i.community_id).one(&state.db).await?.map(|c| c.name).unwrap_or_default();
    let grid = match i.grid_id {
        Some(g) => org_unit::Entity::find_by_id(g).one(&state.db).await?.map(|c| c.name),
        None => None,
    };
    let status = i.status;
    let category = i.category;
    let default_deadline = i.deadline.unwrap_or_else(|| Utc::now() + Duration::days(category.default_days()));
    // the reporter's exact position is personal: staff and the assignee see it
    let exact = actor.staff || actor.assignee || actor.reporter;
    Ok(IncidentDetail {
        id,
        community,
        grid,
        category,
        status,
        description: i.description.clone(),
        lat: i.lat.filter(|_| exact),
        lng: i.lng.filter(|_| exact),
        accuracy_m: i.accuracy_m,
        address: i.address.clone(),
        reporter: if exact { name(i.reporter_id) } else { String::new() },
        source: i.source.clone(),
        reported_at: beijing_time(i.created_at),
        assignee: i.assignee_id.map(name),
        department: i.department.clone(),
        deadline: i.deadline.map(beijing_time),
        deadline_input: domain::time::local_input(default_deadline),
        overdue: rules::is_overdue(status, i.deadline.map(|d| d.timestamp_millis()), Utc::now().timestamp_millis()),
        escalations: i.escalations,
        duplicate_of: i.duplicate_of,
        reject_reason: i.reject_reason.as_deref().and_then(RejectReason::parse),
        rating: i.rating,
        rating_comment: i.rating_comment.clone(),
        // the report's photos (each step's own are shown on the timeline)
        photos: photos
            .iter()
            .filter(|(_, ev)| ev.is_none_or(|ev| events.first().is_some_and(|first| first.id == ev)))
            .map(|(p, _)| *p)
            .collect(),
        events: events
            .iter()
            .map(|e| EventView {
                action: e.action,
                actor: e.actor_id.map(name).unwrap_or_else(|| "系统".into()),
                at: beijing_time(e.at),
                note: e.note.clone(),
                photos: photos.iter().filter(|(_, ev)| *ev == Some(e.id)).map(|(p, _)| *p).collect(),
            })
            .collect(),
        extension: ext.map(|x| ExtensionView {
            id: x.id,
            until: beijing_time(x.until),
            reason: x.reason,
            by: name(x.requested_by),
        }),
        actor_staff: actor.staff,
        actor_assignee: actor.assignee,
        actor_reporter: actor.reporter,
        assignable: if actor.staff {
            assignable(state, i.community_id, crate::support::people::english(user)).await?
        } else {
            vec![]
        },
    })
}

/// The reporter's phone number in full, for the staff member or worker who
/// needs to call them back (see [`rules::may_contact_reporter`]); everyone else is
/// refused. Each look is appended to the personal-data log, under the
/// incident's community, before the number is handed out.
pub async fn reporter_phone(state: &State, user: &CurrentUser, id: i64) -> AppResult<String> {
    let i = incident::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let (actor, visible, path) = access(state, user, &i).await?;
    if !visible {
        return Err(ErrorCode::NotFound.into());
    }
    if !rules::may_contact_reporter(actor, &i.source) {
        return Err(ErrorCode::Forbidden.into());
    }
    let reporter = user::Entity::find_by_id(i.reporter_id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    crate::support::personal_data::log_view(
        state,
        user,
        reporter.id,
        "phone",
        &format!("incident:{id}"),
        path.as_str(),
    )
    .await?;
    Ok(reporter.phone)
}
