use sea_orm::entity::prelude::*;

/// One staff view of someone's personal data in full (append-only).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_data_views")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub viewer_id: i64,
    pub subject_id: i64,
    pub fields: String,
    pub context: String,
    pub org_path: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
