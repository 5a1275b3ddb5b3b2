//! Identity: the people who can sign in and their instance-wide role. Password
//! accounts, OpenID Connect and sessions build on these records.

pub mod model;
pub mod repo;

pub use model::{NewUser, Role, User};
