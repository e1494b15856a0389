use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub title: String,
    pub body: String,
    pub status: domain::topics::TopicStatus,
    pub proposed_by: i64,
    pub reviewed_by: Option<i64>,
    pub review_note: Option<String>,
    pub answer_days: i64,
    pub published_at: Option<DateTimeUtc>,
    pub answer_due_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    pub vote_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
