//! Connectors: other apps whose tasks become tips (Todoist first). A connector knows
//! its provider's OAuth endpoints, how to fetch open tasks and how to complete one; the
//! tips service does everything common (state, the vault, the calls executor, limits).

use std::fmt;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use types::CallInput;

use crate::error::Result;

/// What a provider granted, sealed by the vault before it is stored. `Debug` shows no token.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credential {
    #[serde(serialize_with = "expose")]
    pub access_token: SecretString,
    #[serde(default)]
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_option")]
    pub refresh_token: Option<SecretString>,
    /// Unix ms; `None` when the token does not expire (Todoist's do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scope: String,
}

fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

fn expose_option<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl Credential {
    pub fn bearer(token: &str) -> Credential {
        Credential {
            access_token: SecretString::from(token.to_string()),
            token_type: "Bearer".into(),
            refresh_token: None,
            expires_at: None,
            scope: String::new(),
        }
    }

    /// The value of an `Authorization` header carrying this credential.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.access_token.expose_secret())
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_token", &"[REDACTED]")
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[REDACTED]"))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// An open task at the provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectorItem {
    pub external_id: String,
    pub title: String,
    pub body: String,
    /// The task's page at the provider.
    pub url: String,
    /// As the provider says it ("tomorrow", "2024-05-01"); empty when there is none.
    pub due: String,
    /// Higher is more urgent.
    pub priority: i64,
    /// Distinguishes occurrences of a recurring task (its due date): part of the
    /// completion's idempotency key, so closing the next occurrence is a new call.
    pub revision: String,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The provider refused the credential (revoked, expired): the connection is over.
    Unauthorized(String),
    /// Anything else (down, slow, rate-limited, an unexpected answer): try again later.
    Failed(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Unauthorized(why) | FetchError::Failed(why) => f.write_str(why),
        }
    }
}

#[async_trait]
pub trait Connector: Send + Sync {
    /// Used in URLs and tables: `todoist`.
    fn name(&self) -> &'static str;
    fn display_name(&self) -> &'static str;
    /// False when the operator has not configured it; it is listed but cannot be connected.
    fn enabled(&self) -> bool;
    /// The provider's authorization page, carrying `state` (begin OAuth).
    fn begin_oauth(&self, state: &str) -> Result<url::Url>;
    /// Exchanges the authorization code for a credential (finish OAuth). The service has
    /// already checked the state.
    async fn finish_oauth(&self, code: &str) -> Result<Credential>;
    /// The open tasks, newest view of them (`since`, unix ms, lets a provider that can
    /// return only changes do so; a full list is always acceptable).
    async fn fetch_signals(
        &self,
        credential: &Credential,
        since: Option<i64>,
    ) -> std::result::Result<Vec<ConnectorItem>, FetchError>;
    /// The outbound call that completes `item` at the provider, credential attached as a
    /// header (the calls executor seals it). The service sets the idempotency key.
    fn complete(&self, credential: &Credential, item: &ConnectorItem) -> CallInput;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_their_tokens_in_debug_but_survive_sealing() {
        let mut credential = Credential::bearer("tok_live_123");
        credential.refresh_token = Some(SecretString::from("refresh_456".to_string()));
        let shown = format!("{credential:?}");
        assert!(!shown.contains("tok_live_123") && !shown.contains("refresh_456"), "{shown}");
        let json = serde_json::to_string(&credential).unwrap();
        let back: Credential = serde_json::from_str(&json).unwrap();
        assert_eq!(back.access_token.expose_secret(), "tok_live_123");
        assert_eq!(back.authorization(), "Bearer tok_live_123");
    }
}
