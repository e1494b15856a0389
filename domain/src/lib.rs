//! Domain types and rules of 智慧社区 that must be exactly right.
//!
//! Everything here is pure (no I/O, no framework), compiled for the server
//! and for the WASM client alike. External input is parsed into these types
//! at the edge ("parse, don't validate").

pub mod appointments;
pub mod bills;
pub mod error;
pub mod figures;
pub mod geo;
pub mod id_number;
pub mod import;
pub mod incidents;
pub mod money;
pub mod msg;
pub mod notify;
pub mod org;
pub mod osmand;
pub mod patrol;
pub mod payments;
pub mod phone;
pub mod points;
pub mod residence;
pub mod role;
pub mod text;
pub mod time;
pub mod topics;
pub mod volunteer;
pub mod votes;

pub use error::ErrorCode;
pub use id_number::IdNumber;
pub use org::{OrgLevel, OrgPath};
pub use phone::Phone;
pub use role::Role;
