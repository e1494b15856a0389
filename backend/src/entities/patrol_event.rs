use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patrol_id: i64,
    pub client_id: String,
    pub kind: domain::patrol::EventKind,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
    pub until: Option<DateTimeUtc>,
    pub actor_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
