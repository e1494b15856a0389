use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "patrol_checkins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patrol_id: i64,
    pub checkpoint_id: i64,
    pub client_id: String,
    pub at: DateTimeUtc,
    pub accepted: bool,
    /// JSON array of `domain::geo::Evidence`.
    pub evidence: String,
    pub qr_scanned: bool,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
