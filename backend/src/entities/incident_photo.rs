use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: Option<i64>,
    pub event_id: Option<i64>,
    /// Set while the photo waits for its report (a form sent back with an error).
    pub draft: Option<String>,
    pub uploader_id: i64,
    /// report, before, after or note
    pub stage: String,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
    #[sea_orm(column_type = "Blob")]
    pub jpeg: Vec<u8>,
    #[sea_orm(column_type = "Blob")]
    pub thumb: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
