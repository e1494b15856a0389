use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sandbox_trades")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub out_trade_no: String,
    pub mchid: String,
    pub appid: String,
    pub description: String,
    pub amount_fen: i64,
    pub refunded_fen: i64,
    pub state: domain::payments::TradeState,
    pub transaction_id: Option<String>,
    pub success_time: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
