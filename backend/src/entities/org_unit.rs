use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "org_units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub level: domain::org::OrgLevel,
    pub name: String,
    pub path: String,
    /// A grid's outline: a JSON ring of [lng, lat] pairs (WGS-84).
    pub outline: Option<String>,
    pub created_at: DateTimeUtc,
    /// A community's office (居委会) number, as residents dial it.
    pub office_phone: Option<String>,
    /// The property service (物业) and its number.
    pub property_name: Option<String>,
    pub property_phone: Option<String>,
    /// The property service takes home-repair requests (入户报修) here.
    pub property_repairs: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
