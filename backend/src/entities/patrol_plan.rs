use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub route_id: i64,
    pub worker_id: i64,
    /// Bit 0 = Monday … bit 6 = Sunday.
    pub weekdays: i16,
    /// Minutes after Beijing midnight.
    pub start_min: i16,
    pub end_min: i16,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
