use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_attendances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub user_id: i64,
    pub check_in_at: DateTimeUtc,
    pub in_how: String,
    pub in_distance_m: Option<i64>,
    pub check_out_at: Option<DateTimeUtc>,
    pub out_how: Option<String>,
    pub out_distance_m: Option<i64>,
    pub status: domain::volunteer::AttendanceStatus,
    pub credited_minutes: Option<i64>,
    pub points: Option<i64>,
    pub capped_by: Option<String>,
    pub entry_id: Option<i64>,
    pub corrected_by: Option<i64>,
    pub confirmed_by: Option<i64>,
    pub confirmed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
