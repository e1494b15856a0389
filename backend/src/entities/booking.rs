use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slot_id: i64,
    pub item_id: i64,
    pub user_id: i64,
    pub household_id: Option<i64>,
    pub code: String,
    pub status: domain::appointments::BookingStatus,
    pub starts_at: DateTimeUtc,
    pub offer_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub changed_by: Option<i64>,
    pub cancel_reason: Option<String>,
    pub rescheduled_to: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
