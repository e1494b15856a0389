//! An incident's steps (accept, reject, dispatch, start, handle, verify,
//! send back, close, rate, extend), each a compare-and-swap on its status
//! with its event and who is told, and the overdue job that escalates.

use super::*;

/// Takes one step of the workflow. The update is guarded by the status the
/// decision was made on; a second person acting at once gets `IncidentState`.
pub async fn act(state: &State, user: &CurrentUser, id: i64, step: Step) -> AppResult<Status> {
    let i = incident::Entity::find_by_id(id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let (actor, visible, path) = access(state, user, &i).await?;
    if !visible {
        return Err(ErrorCode::NotFound.into());
    }
    let from = i.status;
    let action = step.action();
    let to = rules::next(from, action, actor)?;
    let now = Utc::now();
    // everything read from outside the transaction is read before it begins
    // (a transaction holds a pooled connection; SQLite serialises writers)
    if let Step::Dispatch { assignee: Some(a), .. } = &step {
        if !assignable(state, i.community_id, false).await?.iter().any(|x| x.id == *a) {
            return Err(ErrorCode::InvalidInput.into());
        }
    }
    // who is told of a handled incident or an extension request
    let staff_ids = match step {
        Step::Handle { .. } | Step::RequestExtension { .. } => staff_over(&state.db, &path).await?,
        _ => vec![],
    };
    if let Step::Reject { duplicate_of: Some(d), .. } = &step {
        let other = incident::Entity::find_by_id(*d).one(&state.db).await?;
        if other.is_none_or(|o| o.community_id != i.community_id || o.id == i.id) {
            return Err(ErrorCode::NotFound.into());
        }
    }
    let pending = match &step {
        Step::DecideExtension { .. } => Some(
            incident_extension::Entity::find()
                .filter(incident_extension::Column::IncidentId.eq(id))
                .filter(incident_extension::Column::Status.eq(domain::incidents::ExtensionStatus::Pending))
                .one(&state.db)
                .await?
                .ok_or(ErrorCode::AlreadyDecided)?,
        ),
        _ => None,
    };
    // SQLite: the transaction's first statement is a write, so it never has
    // to upgrade a stale read snapshot (SQLITE_BUSY_SNAPSHOT) when the job
    // worker wrote in between; everything it needs was read above
    let txn = state.db.begin().await?;
    let mut upd = incident::Entity::update_many()
        .col_expr(incident::Column::Status, Expr::value(to.as_str()))
        .col_expr(incident::Column::UpdatedAt, Expr::value(now))
        .filter(incident::Column::Id.eq(id))
        .filter(incident::Column::Status.eq(from.as_str()));
    let mut data = serde_json::json!({});
    let note: Option<String>;
    let mut draft: Option<String> = None;
    let mut tell: Vec<(i64, String)> = vec![];
    let mut deadline_job: Option<DateTime<Utc>> = None;
    match &step {
        Step::Accept { note: n } => {
            note = n.clone();
            tell.push((i.reporter_id, Msg::new("incident.accepted").encode()));
        }
        Step::Reject { reason, duplicate_of, note: n } => {
            upd = upd
                .col_expr(incident::Column::RejectReason, Expr::value(reason.as_str()))
                .col_expr(incident::Column::DuplicateOf, Expr::value(*duplicate_of));
            data = serde_json::json!({ "reason": reason.as_str(), "duplicate_of": duplicate_of });
            note = n.clone();
            tell.push((i.reporter_id, Msg::new("incident.rejected").with("reason", reason.as_str()).encode()));
        }
        Step::Dispatch { assignee, department, deadline, note: n } => {
            if let Some(a) = assignee {
                tell.push((*a, Msg::new("incident.assigned").with("deadline", deadline.to_rfc3339()).encode()));
            }
            tell.push((
                i.reporter_id,
                Msg::new("incident.dispatched").with("deadline", deadline.to_rfc3339()).encode(),
            ));
            upd = upd
                .col_expr(incident::Column::AssigneeId, Expr::value(*assignee))
                .col_expr(incident::Column::Department, Expr::value(department.clone()))
                .col_expr(incident::Column::Deadline, Expr::value(*deadline))
                .col_expr(incident::Column::Escalations, Expr::value(0i16));
            data =
                serde_json::json!({ "assignee": assignee, "department": department, "deadline": deadline.timestamp() });
            note = n.clone();
            deadline_job = Some(*deadline);
        }
        Step::Start { note: n, draft: d } => {
            note = n.clone();
            draft = Some(d.clone());
        }
        Step::Handle { note: n, draft: d } => {
            note = Some(n.clone());
            draft = Some(d.clone());
            for s in &staff_ids {
                tell.push((*s, Msg::new("incident.to_verify").encode()));
            }
            tell.push((i.reporter_id, Msg::new("incident.handled").encode()));
        }
        Step::Verify { note: n } => note = n.clone(),
        Step::SendBack { note: n } => {
            note = Some(n.clone());
            if let Some(a) = i.assignee_id {
                tell.push((a, Msg::new("incident.sent_back").encode()));
            }
        }
        Step::Close { note: n } => {
            note = n.clone();
            upd = upd.col_expr(incident::Column::ClosedAt, Expr::value(now));
            tell.push((i.reporter_id, Msg::new("incident.closed").encode()));
        }
        Step::Rate { rating, comment } => {
            upd = upd
                .col_expr(incident::Column::Rating, Expr::value(*rating))
                .col_expr(incident::Column::RatingComment, Expr::value(comment.clone()))
                .filter(incident::Column::Rating.is_null());
            data = serde_json::json!({ "rating": rating });
            note = comment.clone();
        }
        Step::Note { note: n, draft: d } => {
            note = (!n.is_empty()).then(|| n.clone());
            draft = Some(d.clone());
        }
        Step::RequestExtension { until, reason } => {
            if i.deadline.is_some_and(|d| *until <= d) {
                return Err(ErrorCode::InvalidTime.into());
            }
            incident_extension::Entity::insert(incident_extension::ActiveModel {
                incident_id: Set(id),
                requested_by: Set(user.id),
                until: Set(*until),
                reason: Set(reason.clone()),
                status: Set(domain::incidents::ExtensionStatus::Pending),
                created_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .map_err(|e| {
                if crate::db::is_unique_violation(&e) {
                    AppError::from(ErrorCode::ExtensionPending)
                } else {
                    AppError::from(e)
                }
            })?;
            data = serde_json::json!({ "until": until.timestamp() });
            note = Some(reason.clone());
            for s in &staff_ids {
                tell.push((*s, Msg::new("incident.extension.asked").with("until", until.to_rfc3339()).encode()));
            }
        }
        Step::DecideExtension { approve, note: n } => {
            let x = pending.clone().ok_or(ErrorCode::AlreadyDecided)?;
            let r = incident_extension::Entity::update_many()
                .col_expr(
                    incident_extension::Column::Status,
                    Expr::value(if *approve { "approved" } else { "refused" }),
                )
                .col_expr(incident_extension::Column::DecidedBy, Expr::value(user.id))
                .col_expr(incident_extension::Column::DecidedAt, Expr::value(now))
                .filter(incident_extension::Column::Id.eq(x.id))
                .filter(incident_extension::Column::Status.eq(domain::incidents::ExtensionStatus::Pending))
                .exec(&txn)
                .await?;
            if r.rows_affected == 0 {
                return Err(ErrorCode::AlreadyDecided.into());
            }
            if *approve {
                upd = upd
                    .col_expr(incident::Column::Deadline, Expr::value(x.until))
                    .col_expr(incident::Column::Escalations, Expr::value(0i16));
                deadline_job = Some(x.until);
            }
            data = serde_json::json!({ "approve": approve, "until": x.until.timestamp() });
            note = n.clone();
            tell.push((
                x.requested_by,
                if *approve {
                    Msg::new("incident.extension.approved").with("until", x.until.to_rfc3339()).encode()
                } else {
                    Msg::new("incident.extension.refused").encode()
                },
            ));
        }
    }
    if upd.exec(&txn).await?.rows_affected == 0 {
        return Err(ErrorCode::IncidentState.into());
    }
    let ev = event(&txn, id, action, from, to, Some(user.id), now, note, Some(data)).await?;
    if let Some(d) = draft {
        let n = attach(&txn, user, &d, id, ev).await?;
        let total = photo::Entity::find().filter(photo::Column::EventId.eq(ev)).count(&txn).await?;
        if n as usize > MAX_PHOTOS || total as usize > MAX_PHOTOS {
            return Err(ErrorCode::TooManyPhotos.into());
        }
    }
    if let Some(d) = deadline_job {
        jobs::enqueue(
            &txn,
            NewJob::new(
                OVERDUE,
                format!("incident.overdue:{id}:{}", d.timestamp()),
                OverdueJob { incident_id: id, deadline: d.timestamp() },
            )
            .at(d),
        )
        .await?;
    }
    for (who, title) in tell {
        if who == user.id {
            continue;
        }
        notify::put(
            &txn,
            who,
            Draft {
                // the reporter hears of the steps of their own report
                kind: if who == i.reporter_id { NotificationKind::MyRequests } else { NotificationKind::Task },
                title,
                body: i.description.chars().take(80).collect(),
                link: format!("/incidents/{id}"),
                key: format!("incident:{id}:{ev}"),
            },
        )
        .await?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(to)
}

/// The deadline of a dispatched incident.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OverdueJob {
    pub incident_id: i64,
    /// The deadline this job was set for (Unix seconds): a later deadline
    /// (an approved extension, a re-dispatch) has its own job.
    pub deadline: i64,
}

/// At the deadline: if the work is not done, escalate (督办) — an event, the
/// count raised, staff and the worker told — and look again a day later.
pub async fn overdue_job(state: &State, job: OverdueJob) -> anyhow::Result<()> {
    let Some(i) = incident::Entity::find_by_id(job.incident_id).one(&state.db).await? else { return Ok(()) };
    let status = i.status;
    let now = Utc::now();
    if !status.deadline_runs()
        || i.deadline.map(|d| d.timestamp()) != Some(job.deadline)
        || job.deadline > now.timestamp()
    {
        return Ok(());
    }
    let path = crate::org::path_of(state, i.community_id).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let txn = state.db.begin().await?;
    let r = incident::Entity::update_many()
        .col_expr(incident::Column::Escalations, Expr::value(i.escalations + 1))
        .col_expr(incident::Column::UpdatedAt, Expr::value(now))
        .filter(incident::Column::Id.eq(i.id))
        .filter(incident::Column::Escalations.eq(i.escalations))
        .filter(incident::Column::Status.eq(i.status))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Ok(());
    }
    let level = i.escalations + 1;
    let ev = event(
        &txn,
        i.id,
        Action::Escalate,
        status,
        status,
        None,
        now,
        None,
        Some(serde_json::json!({ "level": level, "deadline": job.deadline })),
    )
    .await?;
    let mut who = staff_over(&txn, &path).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    who.extend(i.assignee_id);
    for u in who {
        notify::put(
            &txn,
            u,
            Draft {
                kind: NotificationKind::Task,
                title: Msg::new("incident.overdue").with("level", level).encode(),
                body: i.description.chars().take(80).collect(),
                link: format!("/incidents/{}", i.id),
                key: format!("incident:{}:{ev}", i.id),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    if level < 3 {
        let again = now + Duration::days(1);
        jobs::enqueue(
            &txn,
            NewJob::new(OVERDUE, format!("incident.overdue:{}:{}:{level}", i.id, job.deadline), job).at(again),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    txn.commit().await?;
    state.jobs.kick();
    Ok(())
}

// ------------------------------------------------------------------ views
