use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_unit_id: i64,
    pub household_id: i64,
    pub kind: domain::bills::BillKind,
    pub period: String,
    pub title: String,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub status: domain::bills::BillStatus,
    pub basis: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
