use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconciliations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider: String,
    pub bill_date: String,
    pub status: domain::payments::ReconStatus,
    pub provider_count: i64,
    pub provider_total_fen: i64,
    pub our_count: i64,
    pub our_total_fen: i64,
    #[sea_orm(column_type = "Text")]
    pub mismatches: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
