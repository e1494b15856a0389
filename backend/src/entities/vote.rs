use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub community_id: i64,
    pub building_id: Option<i64>,
    pub kind: domain::votes::VoteKind,
    pub title: String,
    pub body: String,
    pub options: String,
    pub max_choices: i32,
    pub matter: Option<i32>,
    pub eligibility: String,
    pub secret: bool,
    pub live_results: bool,
    pub deemed_consent: bool,
    pub objection_days: i32,
    pub status: domain::votes::VoteStatus,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub total_area: i64,
    pub total_count: i64,
    pub participated_area: i64,
    pub participated_count: i64,
    pub ballot_count: i64,
    pub rules_text: Option<String>,
    pub head_hash: Option<String>,
    pub result: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub opened_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub objection_until: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
