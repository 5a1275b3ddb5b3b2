//! Identity: the people who can sign in, how they sign in (password or OpenID Connect),
//! their sessions and their instance-wide role.

pub mod limiter;
pub mod model;
pub mod oidc;
pub mod password;
pub mod repo;
pub mod service;
pub mod session_store;

pub use model::{Authenticated, ClientInfo, NewUser, Role, User};
pub use service::{Identity, InviteLink, SessionCheck, SignUp};
pub use session_store::DbSessionStore;
