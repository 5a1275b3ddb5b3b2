//! The one error type a client ever sees. It is tagged by a stable, machine-readable
//! `kind` (which also fixes the HTTP status), names the precise cause in a stable `code`
//! a client may act on, carries a message meant for a person, and never carries SQL,
//! paths or stack traces: the server decides what goes in `message`.

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

/// The stable machine name of why a request failed, serialized as `code` in every error
/// body. Each kind has a general code of the same name; a specific code replaces it
/// where the server knows the precise cause. Codes are never renamed or reused: a client
/// may branch on them (and show its own wording) where `message` is only for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // The general code of each kind.
    NotFound,
    Unauthenticated,
    Forbidden,
    Invalid,
    Conflict,
    RateLimited,
    PayloadTooLarge,
    Unavailable,
    StorageFull,
    Internal,
    // unauthenticated
    /// Wrong email or password (deliberately not saying which).
    SignInFailed,
    // forbidden
    /// Only an instance administrator may do this.
    AdminRequired,
    /// Sign-up is closed on this instance.
    SignupClosed,
    /// The account is disabled.
    AccountDisabled,
    /// A write whose `Origin` is not the instance's public URL (CSRF protection).
    CrossOriginRefused,
    /// A signed link (a media file's, an unsubscribe link) that expired or is not valid.
    LinkRefused,
    /// A connector sign-in attempt (OAuth state) that expired or was started elsewhere.
    ConnectionAttemptInvalid,
    // invalid
    /// An upload that would pass the user's storage quota or the instance's limit.
    QuotaExceeded,
    // conflict
    /// The story changed since the version the editor started from.
    StoryVersionConflict,
    /// The media item changed since the version the client started from.
    MediaVersionConflict,
    /// The comment changed since the version the client started from.
    CommentVersionConflict,
    /// The legacy's name, dates or summary changed since the version the editor started from.
    LegacyVersionConflict,
    /// An account with this email already exists.
    EmailTaken,
    /// Something with the same unique key already exists.
    AlreadyExists,
    /// A legacy must keep at least one owner.
    LastOwner,
    /// The upload is already complete.
    UploadComplete,
    /// An idempotency key already used for a different request.
    IdempotencyKeyReused,
    /// The tip was already marked done or skipped.
    TipAlreadyAnswered,
    /// The connector is not configured on this instance.
    ConnectorNotConfigured,
    /// The user has not connected this connector.
    ConnectorNotConnected,
    /// This instance has no mail server configured (`smtp_url`), so it cannot send email.
    EmailNotConfigured,
    // unavailable
    /// The database cannot be reached.
    DatabaseUnreachable,
    /// No database connection was free in time.
    DatabaseBusy,
    /// The request did not finish within the server's time limit.
    RequestTimeout,
}

impl ErrorCode {
    /// The kind (see [`ApiError::kind`]) every error with this code has.
    pub fn kind(self) -> &'static str {
        use ErrorCode::*;
        match self {
            NotFound => "not_found",
            Unauthenticated | SignInFailed => "unauthenticated",
            Forbidden
            | AdminRequired
            | SignupClosed
            | AccountDisabled
            | CrossOriginRefused
            | LinkRefused
            | ConnectionAttemptInvalid => "forbidden",
            Invalid | QuotaExceeded => "invalid",
            Conflict
            | StoryVersionConflict
            | MediaVersionConflict
            | CommentVersionConflict
            | LegacyVersionConflict
            | EmailTaken
            | AlreadyExists
            | LastOwner
            | UploadComplete
            | IdempotencyKeyReused
            | TipAlreadyAnswered
            | ConnectorNotConfigured
            | ConnectorNotConnected
            | EmailNotConfigured => "conflict",
            RateLimited => "rate_limited",
            PayloadTooLarge => "payload_too_large",
            Unavailable | DatabaseUnreachable | DatabaseBusy | RequestTimeout => "unavailable",
            StorageFull => "storage_full",
            Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    #[error("{message}")]
    NotFound { code: ErrorCode, message: String },
    #[error("{message}")]
    Unauthenticated { code: ErrorCode, message: String },
    #[error("{message}")]
    Forbidden { code: ErrorCode, message: String },
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String, fields: Vec<FieldError> },
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    #[error("{message}")]
    RateLimited { code: ErrorCode, message: String, retry_after_secs: u64 },
    #[error("{message}")]
    /// `limit_bytes` when the limit is known to the part that refused the request.
    PayloadTooLarge { code: ErrorCode, message: String, limit_bytes: Option<u64> },
    /// A cause that passes (a dependency down or busy): the same request may succeed later.
    #[error("{message}")]
    Unavailable { code: ErrorCode, message: String },
    /// The server has no room left to store what was sent (507).
    #[error("{message}")]
    StorageFull { code: ErrorCode, message: String },
    /// A fault of the server that retrying will not mend (a bug, damaged stored data).
    #[error("{message}")]
    Internal { code: ErrorCode, message: String },
}

/// The field every variant of [`ApiError`] has (`code`, `message`), whichever variant
/// `$value` is.
macro_rules! every_variant {
    ($value:expr, $field:ident) => {
        match $value {
            ApiError::NotFound { $field, .. }
            | ApiError::Unauthenticated { $field, .. }
            | ApiError::Forbidden { $field, .. }
            | ApiError::Invalid { $field, .. }
            | ApiError::Conflict { $field, .. }
            | ApiError::RateLimited { $field, .. }
            | ApiError::PayloadTooLarge { $field, .. }
            | ApiError::Unavailable { $field, .. }
            | ApiError::StorageFull { $field, .. }
            | ApiError::Internal { $field, .. } => $field,
        }
    };
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

    /// The precise cause, as serialized in `code`.
    pub fn code(&self) -> ErrorCode {
        *every_variant!(self, code)
    }

    /// The same error with a more precise `code`, which must belong to this kind.
    pub fn with_code(mut self, precise: ErrorCode) -> Self {
        debug_assert_eq!(precise.kind(), self.kind(), "{precise:?} is not a code of {}", self.kind());
        *every_variant!(&mut self, code) = precise;
        self
    }

    pub fn message(&self) -> &str {
        every_variant!(self, message)
    }

    // One constructor per kind, each with the kind's general code; `with_code` refines it.

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound { code: ErrorCode::NotFound, message: message.into() }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::Unauthenticated { code: ErrorCode::Unauthenticated, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden { code: ErrorCode::Forbidden, message: message.into() }
    }

    /// An invalid request; the message names every offending field.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
        ApiError::Invalid { code: ErrorCode::Invalid, message, fields }
    }

    /// An invalid request that no single field explains (a body that does not parse).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        ApiError::Invalid { code: ErrorCode::Invalid, message: message.into(), fields: Vec::new() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::Conflict { code: ErrorCode::Conflict, message: message.into() }
    }

    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError::RateLimited { code: ErrorCode::RateLimited, message: message.into(), retry_after_secs }
    }

    pub fn payload_too_large(message: impl Into<String>, limit_bytes: Option<u64>) -> Self {
        ApiError::PayloadTooLarge { code: ErrorCode::PayloadTooLarge, message: message.into(), limit_bytes }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::Unavailable { code: ErrorCode::Unavailable, message: message.into() }
    }

    pub fn storage_full(message: impl Into<String>) -> Self {
        ApiError::StorageFull { code: ErrorCode::StorageFull, message: message.into() }
    }

    pub fn internal() -> Self {
        ApiError::Internal {
            code: ErrorCode::Internal,
            message: "Something went wrong on our side. It has been logged; please try again.".into(),
        }
    }
}

/// Server functions return `ApiError` too, so pages and islands see the same kinds.
impl server_fn::error::FromServerFnError for ApiError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::Deserialization(message) | E::MissingArg(message) => {
                ApiError::invalid_request(message)
            }
            // The request did not reach the server, or its answer did not come back.
            E::Request(message) | E::Response(message) => ApiError::unavailable(message),
            other => ApiError::Internal { code: ErrorCode::Internal, message: other.to_string() },
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
        assert_eq!(json["code"], "invalid");
        assert_eq!(json["message"], "email: is not an email address");
        assert_eq!(json["fields"][0]["field"], "email");
        assert_eq!(serde_json::from_value::<ApiError>(json).unwrap(), err);
        let precise = ApiError::conflict("x").with_code(ErrorCode::StoryVersionConflict);
        let json = serde_json::to_value(&precise).unwrap();
        assert_eq!((json["kind"].as_str(), json["code"].as_str()), (Some("conflict"), Some("story_version_conflict")));
        assert_eq!(serde_json::from_value::<ApiError>(json).unwrap(), precise);
    }

    #[test]
    fn kind_matches_the_serialized_tag_for_every_variant() {
        let all = [
            ApiError::not_found("x"),
            ApiError::unauthenticated("x"),
            ApiError::forbidden("x"),
            ApiError::invalid(vec![]),
            ApiError::conflict("x"),
            ApiError::rate_limited("x", 3),
            ApiError::payload_too_large("x", Some(10)),
            ApiError::unavailable("x"),
            ApiError::storage_full("x"),
            ApiError::internal(),
        ];
        let mut statuses = std::collections::HashSet::new();
        for err in all {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["kind"], err.kind());
            // Each kind's general code is the kind's own name.
            assert_eq!(json["code"], err.kind());
            assert_eq!(err.code().kind(), err.kind());
            assert!(statuses.insert(err.status()), "two kinds share status {}", err.status());
        }
    }
}
