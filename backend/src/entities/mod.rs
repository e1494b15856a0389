//! sea-orm entities, one per table. Behaviour lives in the service modules,
//! not here.

pub mod announcement;
pub mod announcement_read;
pub mod bill;
pub mod booking;
pub mod building;
pub mod dwelling;
pub mod household;
pub mod idempotency_key;
pub mod job;
pub mod notification;
pub mod notification_pref;
pub mod org_unit;
pub mod otp_code;
pub mod push_subscription;
pub mod refresh_token;
pub mod residence;
pub mod service_closure;
pub mod service_hours;
pub mod service_item;
pub mod setting;
pub mod slot;
pub mod user;
pub mod user_role;
pub mod waitlist;
