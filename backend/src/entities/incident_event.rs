use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub action: domain::incidents::Action,
    pub from_status: domain::incidents::Status,
    pub to_status: domain::incidents::Status,
    /// None: the system (an escalation).
    pub actor_id: Option<i64>,
    pub at: DateTimeUtc,
    pub note: Option<String>,
    /// JSON: what the step set (deadline, assignee, department, rating…).
    pub data: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
