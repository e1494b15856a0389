use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub out_trade_no: String,
    pub user_id: i64,
    pub org_unit_id: i64,
    pub provider: String,
    pub amount_fen: i64,
    pub refunded_fen: i64,
    pub status: domain::payments::OrderStatus,
    pub transaction_id: Option<String>,
    pub receipt_code: Option<String>,
    pub pay_url: Option<String>,
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub queried_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
