//! The log of every time staff saw a person's data in full (a phone number,
//! an ID number): who, whose, which fields, in what context and org.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};

use crate::{auth::CurrentUser, entities::personal_data_view, error::AppResult, State};

/// Writes one staff view of personal data in full to the log.
pub async fn log_view(
    state: &State,
    viewer: &CurrentUser,
    subject_id: i64,
    fields: &str,
    context: &str,
    org_path: &str,
) -> AppResult<()> {
    personal_data_view::ActiveModel {
        viewer_id: Set(viewer.id),
        subject_id: Set(subject_id),
        fields: Set(fields.into()),
        context: Set(context.into()),
        org_path: Set(org_path.into()),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok(())
}
