//! A volunteer's record: honour hours, the hours and points confirmed, and
//! the certificate of service anyone can check.

use super::*;

/// Staff record honour hours (荣誉时长): kept on the record, never points.
pub async fn add_honour(state: &State, staff: &CurrentUser, phone: &str, hours: &str, reason: &str) -> AppResult<()> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let minutes = domain::volunteer::parse_hours(hours)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErrorCode::ReasonRequired.into());
    }
    let u = user_by_phone(state, phone).await?;
    let community = crate::support::scope::managed_community_of_user(state, staff, u.id).await?;
    honour_hour::Entity::insert(honour_hour::ActiveModel {
        user_id: Set(u.id),
        community_id: Set(community),
        minutes: Set(minutes),
        reason: Set(reason.chars().take(200).collect()),
        created_by: Set(staff.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(())
}

/// A person's confirmed service and honour hours.
pub async fn record(state: &State, user_id: i64, en: bool) -> AppResult<HoursRecord> {
    let rows = attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user_id))
        .order_by_desc(attendance::Column::CheckInAt)
        .all(&state.db)
        .await?;
    let attendances = attendance_views(state, rows, en).await?;
    let honour: Vec<HonourView> = honour_hour::Entity::find()
        .filter(honour_hour::Column::UserId.eq(user_id))
        .order_by_desc(honour_hour::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|h| HonourView { minutes: h.minutes, reason: h.reason, date: periods(h.created_at).0 })
        .collect();
    Ok(HoursRecord {
        service_minutes: attendances.iter().filter_map(|a| a.credited_minutes).sum(),
        honour_minutes: honour.iter().map(|h| h.minutes).sum(),
        service_points: attendances.iter().filter_map(|a| a.points).sum(),
        attendances,
        honour,
    })
}

/// Staff look up a person's record.
pub async fn staff_record(state: &State, staff: &CurrentUser, phone: &str) -> AppResult<(String, String, HoursRecord)> {
    if !staff.is_staff() {
        return Err(ErrorCode::Forbidden.into());
    }
    let u = user_by_phone(state, phone).await?;
    crate::support::scope::managed_community_of_user(state, staff, u.id).await?;
    Ok((
        crate::support::people::name_of(&u, crate::support::people::english(staff)),
        masked(&u.phone),
        record(state, u.id, crate::support::people::english(staff)).await?,
    ))
}

/// Issues a certificate of the person's record as it stands; asking again
/// with nothing new returns the same certificate.
pub async fn issue_certificate(state: &State, user: &CurrentUser) -> AppResult<String> {
    let r = record(state, user.id, crate::support::people::english(user)).await?;
    if r.service_minutes + r.honour_minutes == 0 {
        return Err(ErrorCode::NotFound.into());
    }
    let u = user::Entity::find_by_id(user.id).one(&state.db).await?.ok_or(ErrorCode::NotFound)?;
    let mut lines: Vec<CertificateLine> = r
        .attendances
        .iter()
        .filter(|a| a.confirmed && a.credited_minutes.unwrap_or(0) > 0)
        .map(|a| CertificateLine {
            date: a.date.clone(),
            title: a.activity.clone(),
            minutes: a.credited_minutes.unwrap_or(0),
            honour: false,
        })
        .collect();
    lines.extend(r.honour.iter().map(|h| CertificateLine {
        date: h.date.clone(),
        title: h.reason.clone(),
        minutes: h.minutes,
        honour: true,
    }));
    lines.sort_by(|a, b| a.date.cmp(&b.date));
    let ids: Vec<i64> = attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user.id))
        .filter(attendance::Column::Status.eq(domain::volunteer::AttendanceStatus::Confirmed))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let mut community_ids: Vec<i64> = activity::Entity::find()
        .filter(activity::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| a.community_id)
        .collect();
    community_ids.extend(
        honour_hour::Entity::find()
            .filter(honour_hour::Column::UserId.eq(user.id))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|h| h.community_id),
    );
    community_ids.sort_unstable();
    community_ids.dedup();
    let communities: Vec<String> = org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(community_ids))
        .order_by_asc(org_unit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let now = Utc::now();
    let mut cert = Certificate {
        code: String::new(),
        name: crate::support::people::name_of(&u, u.lang.is_en()),
        communities,
        service_minutes: r.service_minutes,
        honour_minutes: r.honour_minutes,
        lines,
        issued_at: beijing_time(now),
    };
    if let Some(last) = certificate::Entity::find()
        .filter(certificate::Column::UserId.eq(user.id))
        .order_by_desc(certificate::Column::Id)
        .one(&state.db)
        .await?
    {
        if let Ok(prev) = serde_json::from_str::<Certificate>(&last.body) {
            let bare = |c: &Certificate| Certificate { code: String::new(), issued_at: String::new(), ..c.clone() };
            if bare(&prev) == bare(&cert) {
                return Ok(format_receipt_code(&last.code));
            }
        }
    }
    let code = crate::support::codes::new_receipt_code();
    cert.code = format_receipt_code(&code);
    certificate::Entity::insert(certificate::ActiveModel {
        user_id: Set(user.id),
        code: Set(code),
        body: Set(serde_json::to_string(&cert).map_err(AppError::internal)?),
        issued_at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    Ok(cert.code)
}

/// A certificate by its code (anyone with the code may check it).
pub async fn certificate(state: &State, code: &str) -> AppResult<Certificate> {
    let code = normalize_receipt_code(code).ok_or(ErrorCode::NotFound)?;
    let row = certificate::Entity::find()
        .filter(certificate::Column::Code.eq(code))
        .one(&state.db)
        .await?
        .ok_or(ErrorCode::NotFound)?;
    serde_json::from_str(&row.body).map_err(AppError::internal)
}
