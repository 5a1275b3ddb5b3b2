//! What pages and API clients see of users and sessions.

use serde::{Deserialize, Serialize};

use crate::ids::{SessionId, UserId};

/// The signed-in user, as returned by `GET /api/v1/me` and the `current_user` server function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
}

/// One signed-in browser on the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: SessionId,
    /// `password` or the name of the OpenID Connect provider.
    pub method: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub current: bool,
}

/// An OpenID Connect provider offered on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
}

/// Everything the account page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub user: UserView,
    pub has_password: bool,
    /// `(provider name, email at the provider)`.
    pub linked_providers: Vec<(String, Option<String>)>,
    pub sessions: Vec<SessionView>,
    /// The people of family trees the user said are them.
    pub people: Vec<crate::MyPerson>,
    /// The address was shown to be the user's (emails about the family go only there).
    pub email_verified: bool,
    /// This server sends email.
    pub email_enabled: bool,
}
