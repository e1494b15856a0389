use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub guide: String,
    pub place: String,
    pub duration_minutes: i32,
    pub audience: domain::appointments::Audience,
    pub book_notice_minutes: i32,
    pub cancel_notice_minutes: i32,
    pub window_days: i32,
    pub quota_count: Option<i32>,
    pub quota_period: Option<String>,
    pub no_show_limit: Option<i32>,
    pub offer_minutes: i32,
    pub active: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
