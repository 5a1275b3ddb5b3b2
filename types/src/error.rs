//! The one error type a client ever sees. It is tagged by a stable, machine-readable
//! `kind`, carries a message meant for a person, and never carries SQL, paths or
//! stack traces: the server decides what goes in `message`.

use serde::{Deserialize, Serialize};

/// One invalid field of a request: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    Unauthenticated { message: String },
    #[error("{message}")]
    Forbidden { message: String },
    #[error("{message}")]
    Invalid { message: String, fields: Vec<FieldError> },
    #[error("{message}")]
    Conflict { message: String },
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    #[error("{message}")]
    /// `limit_bytes` when the limit is known to the part that refused the request.
    PayloadTooLarge { message: String, limit_bytes: Option<u64> },
    #[error("{message}")]
    Unavailable { message: String },
    /// The server has no room left to store what was sent (507).
    #[error("{message}")]
    StorageFull { message: String },
    #[error("{message}")]
    Internal { message: String },
}

impl ApiError {
    /// The HTTP status for each kind; the only place that mapping is written.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::Unauthenticated { .. } => 401,
            ApiError::Forbidden { .. } => 403,
            ApiError::Invalid { .. } => 422,
            ApiError::Conflict { .. } => 409,
            ApiError::RateLimited { .. } => 429,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::Unavailable { .. } => 503,
            ApiError::StorageFull { .. } => 507,
            ApiError::Internal { .. } => 500,
        }
    }

    /// The stable machine-readable name of the kind, as serialized in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "not_found",
            ApiError::Unauthenticated { .. } => "unauthenticated",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::Invalid { .. } => "invalid",
            ApiError::Conflict { .. } => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::StorageFull { .. } => "storage_full",
            ApiError::Internal { .. } => "internal",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ApiError::NotFound { message }
            | ApiError::Unauthenticated { message }
            | ApiError::Forbidden { message }
            | ApiError::Invalid { message, .. }
            | ApiError::Conflict { message }
            | ApiError::RateLimited { message, .. }
            | ApiError::PayloadTooLarge { message, .. }
            | ApiError::Unavailable { message }
            | ApiError::StorageFull { message }
            | ApiError::Internal { message } => message,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound { message: message.into() }
    }

    /// An invalid request; the message names every offending field.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
        ApiError::Invalid { message, fields }
    }

    pub fn internal() -> Self {
        ApiError::Internal { message: "Something went wrong on our side. It has been logged; please try again.".into() }
    }
}

/// Server functions return `ApiError` too, so pages and islands see the same kinds.
impl server_fn::error::FromServerFnError for ApiError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::Deserialization(message) | E::MissingArg(message) => {
                ApiError::Invalid { message, fields: Vec::new() }
            }
            E::Request(message) | E::Response(message) => ApiError::Unavailable { message },
            other => ApiError::Internal { message: other.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_a_stable_kind_tag() {
        let err = ApiError::invalid(vec![FieldError::new("email", "is not an email address")]);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["kind"], "invalid");
        assert_eq!(json["message"], "email: is not an email address");
        assert_eq!(json["fields"][0]["field"], "email");
        assert_eq!(serde_json::from_value::<ApiError>(json).unwrap(), err);
    }

    #[test]
    fn kind_matches_the_serialized_tag_for_every_variant() {
        let all = [
            ApiError::not_found("x"),
            ApiError::Unauthenticated { message: "x".into() },
            ApiError::Forbidden { message: "x".into() },
            ApiError::invalid(vec![]),
            ApiError::Conflict { message: "x".into() },
            ApiError::RateLimited { message: "x".into(), retry_after_secs: 3 },
            ApiError::PayloadTooLarge { message: "x".into(), limit_bytes: Some(10) },
            ApiError::Unavailable { message: "x".into() },
            ApiError::StorageFull { message: "x".into() },
            ApiError::internal(),
        ];
        let mut statuses = std::collections::HashSet::new();
        for err in all {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["kind"], err.kind());
            assert!(statuses.insert(err.status()), "two kinds share status {}", err.status());
        }
    }
}
