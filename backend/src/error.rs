//! `backend::Error` is every way a backend operation fails. [`From<Error> for ApiError`]
//! below is the only place it becomes what a client sees: internals (SQL, IO paths) are
//! logged there and replaced by a neutral message.

use std::path::PathBuf;

use types::{ApiError, FieldError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("invalid input: {}", ApiError::invalid(.0.clone()).message())]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("sign in required")]
    Unauthenticated,
    /// Wrong email or password; deliberately does not say which.
    #[error("email or password is incorrect")]
    SignInFailed,
    #[error("session store: {0}")]
    Session(String),
    /// The session store could not reach its database. The store crate passes on only
    /// the message of the database error, so this is told apart from [`Error::Session`]
    /// (a record that will not encode or decode) by the store's error kind.
    #[error("session store backend: {0}")]
    SessionStoreUnreachable(String),
    #[error("too many requests; retry in {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// The data folder's file system is full, or only the database's reserve is left
    /// (`disk`): what was asked was not stored. The text says what ran out where.
    #[error("storage full: {0}")]
    StorageFull(String),
    #[error("invalid configuration: `{key}`: {message}")]
    Config { key: String, message: String },
    #[error("data folder {}: {message}", path.display())]
    DataDir { path: PathBuf, message: String },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database file failed SQLite's integrity check: it is not served or written.
    #[error(
        "the database is damaged ({0}). Heirloom will not serve or write to it. Stop here, keep the \
         file for inspection, and restore the last backup with `heirloom restore` (docs/ops/backup.md)"
    )]
    Damaged(String),
}

impl Error {
    pub fn invalid(field: &str, message: &str) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// True when the database could not be reached (down, restarting, or no connection
    /// to be had within the pool's acquire timeout), so nothing that needs it can work.
    pub fn is_database_unreachable(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::PoolTimedOut) | Error::SessionStoreUnreachable(_) => true,
            Error::Database(err) => is_unreachable(err),
            _ => false,
        }
    }

    /// True when a write failed for want of disk space: the database's own file system
    /// (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`) or the data folder's.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::StorageFull(_) => true,
            Error::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("13" | "53100"))
                    || db.message().contains("database or disk is full")
            }
            Error::Database(sqlx::Error::Io(io)) => crate::disk::is_full(io),
            _ => false,
        }
    }

    /// True when the database refused a write because a unique key already exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }
}

impl From<tower_sessions::session::Error> for Error {
    fn from(err: tower_sessions::session::Error) -> Error {
        use tower_sessions::session::Error as SessionError;
        use tower_sessions::session_store::Error as StoreError;
        match err {
            SessionError::Store(StoreError::Backend(message)) => Error::SessionStoreUnreachable(message),
            other => Error::Session(other.to_string()),
        }
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::NotFound { what } => {
                ApiError::not_found(format!("That {what} does not exist or you cannot see it."))
            }
            Error::Invalid(fields) => ApiError::invalid(fields),
            Error::Conflict(message) => ApiError::Conflict { message },
            Error::Forbidden(message) => ApiError::Forbidden { message },
            Error::Unauthenticated => ApiError::Unauthenticated { message: "Please sign in first.".into() },
            Error::SignInFailed => ApiError::Unauthenticated { message: "Email or password is incorrect.".into() },
            Error::RateLimited { retry_after_secs } => ApiError::RateLimited {
                message: format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                retry_after_secs,
            },
            Error::Unavailable(message) => {
                tracing::warn!(%message, "service unavailable");
                ApiError::Unavailable {
                    message: "Heirloom is not ready to serve this request. Try again shortly.".into(),
                }
            }
            ref full if full.is_storage_full() => {
                tracing::error!(error = %full, "storage full");
                ApiError::StorageFull {
                    message: "The server's storage is full, so this was not saved. An administrator needs to free \
                              space; then try again."
                        .into(),
                }
            }
            ref db_err @ Error::Database(_) if db_err.is_unique_violation() => {
                ApiError::Conflict { message: "That already exists.".into() }
            }
            Error::Database(sqlx::Error::PoolTimedOut) => {
                tracing::error!("database pool timed out");
                ApiError::Unavailable { message: "The database is busy. Try again shortly.".into() }
            }
            Error::Database(ref db_err) if is_unreachable(db_err) => {
                tracing::error!(error = %db_err, "database unreachable");
                database_unreachable()
            }
            Error::SessionStoreUnreachable(message) => {
                tracing::error!(%message, "session store cannot reach the database");
                database_unreachable()
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::internal()
            }
        }
    }
}

fn database_unreachable() -> ApiError {
    ApiError::Unavailable { message: "The database cannot be reached right now. Try again shortly.".into() }
}

/// Whether the database is down or going down (a restart, a failover) rather than the
/// request being wrong: the client gets a 503 and may retry. PostgreSQL's codes: class
/// 08 (connection exception), 57P01-57P03 (shut down by the administrator, crashed, not
/// accepting connections yet).
fn is_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let err = Error::Database(sqlx::Error::Protocol("SELECT secret FROM users".into()));
        let api: ApiError = err.into();
        assert_eq!(api.kind(), "internal");
        assert!(!api.message().contains("SELECT"));
        let api: ApiError = Error::DataDir { path: "/srv/secret".into(), message: "x".into() }.into();
        assert!(!api.message().contains("/srv/secret"));
    }

    #[test]
    fn an_unreachable_database_is_a_503_not_a_500() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        for err in [sqlx::Error::Io(refused), sqlx::Error::PoolClosed] {
            let api: ApiError = Error::Database(err).into();
            assert_eq!((api.status(), api.kind()), (503, "unavailable"));
        }
        let store_down = tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Backend(
            "error communicating with database: Connection refused".into(),
        ));
        let api: ApiError = Error::from(store_down).into();
        assert_eq!((api.status(), api.kind()), (503, "unavailable"));
        let undecodable =
            tower_sessions::session::Error::Store(tower_sessions::session_store::Error::Decode("bad record".into()));
        assert_eq!(ApiError::from(Error::from(undecodable)).status(), 500);
    }

    #[test]
    fn invalid_input_keeps_its_fields() {
        let api: ApiError = Error::invalid("email", "is required").into();
        assert_eq!(api.status(), 422);
        assert!(matches!(api, ApiError::Invalid { ref fields, .. } if fields[0].field == "email"));
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let api: ApiError = Error::RateLimited { retry_after_secs: 7 }.into();
        assert!(matches!(api, ApiError::RateLimited { retry_after_secs: 7, .. }));
        assert!(api.message().contains('7'));
    }
}
