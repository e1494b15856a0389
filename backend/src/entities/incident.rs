use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub category: domain::incidents::Category,
    pub description: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub address: Option<String>,
    pub reporter_id: i64,
    /// worker, resident, staff or open311
    pub source: String,
    pub client_id: String,
    pub status: domain::incidents::Status,
    pub assignee_id: Option<i64>,
    pub department: Option<String>,
    pub deadline: Option<DateTimeUtc>,
    pub escalations: i16,
    pub duplicate_of: Option<i64>,
    pub reject_reason: Option<String>,
    pub rating: Option<i16>,
    pub rating_comment: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// Open311's `media_url`, as the client gave it.
    pub media_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
