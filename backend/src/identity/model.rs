//! A user record and the rules for the fields a person types.

use serde::{Deserialize, Serialize};
use types::{FieldError, SessionId, UserId};

use crate::error::{Error, Result};

/// Instance-wide role. The first account on a new instance is `Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: RoleColumn,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The `role` column, decoded through `TryFrom<String>` so an unknown value in the
/// database is an error instead of a silent default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleColumn(pub Role);

impl TryFrom<String> for RoleColumn {
    type Error = String;
    fn try_from(value: String) -> std::result::Result<Self, String> {
        match value.as_str() {
            "admin" => Ok(RoleColumn(Role::Admin)),
            "member" => Ok(RoleColumn(Role::Member)),
            other => Err(format!("unknown role `{other}` in users.role")),
        }
    }
}

impl User {
    pub fn role(&self) -> Role {
        self.role.0
    }

    /// Refuses anyone but an administrator, naming what they tried.
    pub fn require_admin(&self, what: &str) -> crate::Result<()> {
        if self.role() == Role::Admin {
            Ok(())
        } else {
            Err(crate::Error::forbidden(types::ErrorCode::AdminRequired, format!("Only administrators can {what}.")))
        }
    }
}

impl User {
    /// What the browser may know about the signed-in user.
    pub fn view(&self) -> types::UserView {
        types::UserView {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            is_admin: self.role() == Role::Admin,
        }
    }
}

/// A signed-in browser: the user and the `user_sessions` row its cookie points at.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
}

/// One row of `user_sessions`, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub method: String,
    pub user_agent: String,
    pub ip: String,
    pub id_token: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// The request details recorded with a sign-in.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: std::net::IpAddr,
    pub user_agent: String,
}

/// A validated request to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl NewUser {
    /// Normalises and checks the fields; every problem is reported, not just the first.
    pub fn new(email: &str, display_name: &str, role: Role) -> Result<NewUser> {
        let email = normalize_email(email);
        // Normalized like every field people type (`crate::text`).
        let display_name = crate::text::normalize(display_name).trim().to_string();
        let mut problems = Vec::new();
        if let Err(message) = check_email(&email) {
            problems.push(FieldError::new("email", message));
        }
        if display_name.is_empty() {
            problems.push(FieldError::new("display_name", "is required"));
        } else if display_name.chars().count() > 100 {
            problems.push(FieldError::new("display_name", "must be at most 100 characters"));
        }
        if problems.is_empty() {
            Ok(NewUser { email, display_name, role })
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

/// Emails compare case-insensitively everywhere, so they are stored lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn check_email(email: &str) -> std::result::Result<(), &'static str> {
    if email.is_empty() {
        return Err("is required");
    }
    if email.len() > 254 {
        return Err("must be at most 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("must look like name@example.org");
    };
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err("must look like name@example.org");
    }
    if email.chars().any(char::is_whitespace) {
        return Err("must not contain spaces");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised() {
        let user = NewUser::new("  Ana@Example.ORG ", " Ana ", Role::Member).unwrap();
        assert_eq!(user.email, "ana@example.org");
        assert_eq!(user.display_name, "Ana");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let Err(Error::Invalid(fields)) = NewUser::new("not-an-email", "  ", Role::Member) else {
            panic!("expected invalid");
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["email", "display_name"]);
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "a@", "@b.org", "a@b", "a b@c.org", "a@.org", "a@org."] {
            assert!(NewUser::new(bad, "A", Role::Member).is_err(), "{bad:?} accepted");
        }
    }
}
