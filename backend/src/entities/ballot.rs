use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ballots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub vote_id: i64,
    pub seq: i64,
    pub key_no: Option<i64>,
    pub area: i64,
    pub choices: String,
    pub choice: Option<i32>,
    pub channel: String,
    pub receipt: String,
    pub cast_at: String,
    pub prev_hash: String,
    pub hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
