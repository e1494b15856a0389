use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i64,
    pub signed_up: i64,
    pub unit_minutes: i64,
    pub max_day_minutes: i64,
    pub max_year_minutes: i64,
    pub points_per_hour: i64,
    pub geo_lat: Option<f64>,
    pub geo_lng: Option<f64>,
    pub geo_radius_m: Option<i64>,
    pub organiser_id: i64,
    pub secret: String,
    pub status: domain::volunteer::ActivityStatus,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
