use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dwellings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub building_id: i64,
    pub entrance: String,
    pub room: String,
    pub area_centi_m2: Option<i64>,
    pub surveyed_area_centi_m2: Option<i64>,
    pub contract_area_centi_m2: Option<i64>,
    pub developer_held: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
