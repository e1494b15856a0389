use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "track_points")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patrol_id: i64,
    pub client_id: String,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: f64,
    pub speed_mps: Option<f64>,
    pub heading: Option<f64>,
    pub altitude: Option<f64>,
    pub battery: Option<i16>,
    pub device_at: Option<DateTimeUtc>,
    /// When the fix was taken, by the server's reckoning.
    pub at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    /// app or osmand
    pub source: String,
    /// Why the fix is left out of the track (`domain::geo::Dropped::code`).
    pub dropped: Option<String>,
    pub dropped_value: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
