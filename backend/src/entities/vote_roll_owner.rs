use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_roll_owners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vote_id: i64,
    pub key_no: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub designee_user_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
