//! `backend::Error` is every way a backend operation fails. [`From<Error> for ApiError`]
//! below is the only place it becomes what a client sees: internals (SQL, IO paths) are
//! logged there and replaced by a neutral message.
//!
//! The variant says whose fault it is and whether trying again can help (ADR 0019):
//! refusals of the request (4xx), [`Error::Unavailable`] and an unreachable database
//! (503) only for causes that pass (a dependency down or busy, a rebuild in progress),
//! and [`Error::Internal`] (500) for faults that retrying will not mend: a bug, stored
//! data that no longer decodes, a misconfiguration. Give a foreign error its context
//! with [`Context::context`] (`serde_json::to_string(&x).context("encoding the event")`).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::path::PathBuf;

use types::{ApiError, ErrorCode, FieldError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The cause of an [`Error::Internal`]: any error, boxed.
pub type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("invalid input: {}", ApiError::invalid(.0.clone()).message())]
    Invalid(Vec<FieldError>),
    /// An upload that would pass a storage quota; `field` names the request's field.
    #[error("quota exceeded: {}: {}", .0.field, .0.message)]
    QuotaExceeded(FieldError),
    #[error("{0}")]
    Conflict(Refusal),
    #[error("{0}")]
    Forbidden(Refusal),
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
    /// A dependency is down, unreachable or busy, or the instance is not ready yet (a
    /// rebuild in progress): the same request may succeed later. Only for causes that pass;
    /// anything else is [`Error::Internal`].
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
    /// A fault that retrying will not mend: a bug (a value that will not encode, a task
    /// that panicked), stored data that no longer decodes (a damaged credential), a
    /// misconfiguration found late. `context` says what was being done; the cause is
    /// logged with it and never shown to the client. Made by [`Context::context`].
    #[error("{context}: {source}")]
    Internal { context: Cow<'static, str>, source: BoxError },
}

/// What a client is told when a request is refused ([`Error::Conflict`],
/// [`Error::Forbidden`]): a sentence for a person and, where the backend knows the precise
/// cause, the machine [`ErrorCode`] a client can act on instead of reading the sentence.
/// It reads as its message (`Display`, `Deref<Target = str>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `None`: the kind's general code (`conflict`, `forbidden`).
    pub code: Option<ErrorCode>,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { code: Some(code), message: message.into() }
    }
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal { code: None, message }
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Refusal {
        Refusal { code: None, message: message.into() }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::ops::Deref for Refusal {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

/// `.context("what was being done")` on any `Result` whose error is a foreign one (JSON,
/// IO, a join handle, a crypto library): the error becomes [`Error::Internal`] (500).
/// A database error keeps its class (an outage stays a 503, a full disk a 507) and so does
/// a `backend::Error` passed through it: context never turns a passing cause into a 500.
pub trait Context<T> {
    fn context(self, context: &'static str) -> Result<T>;
    /// [`Context::context`] with a context made only on failure.
    fn with_context<C: Into<Cow<'static, str>>>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<BoxError>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: &'static str) -> Result<T> {
        self.map_err(|err| Error::internal(context, err))
    }

    fn with_context<C: Into<Cow<'static, str>>>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|err| Error::internal(context(), err))
    }
}

impl Error {
    pub fn invalid(field: &str, message: &str) -> Error {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// A conflict with its precise code (`story_version_conflict`…).
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Conflict(Refusal::new(code, message))
    }

    /// A refusal for want of permission, with its precise code (`admin_required`…).
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Forbidden(Refusal::new(code, message))
    }

    /// A fault that retrying will not mend, with what was being done; see [`Context`].
    /// A database error or a `backend::Error` as the cause keeps deciding the class.
    pub fn internal(context: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Error {
        let source = match source.into().downcast::<sqlx::Error>() {
            Ok(db) => Box::new(Error::Database(*db)) as BoxError,
            Err(other) => other,
        };
        Error::Internal { context: context.into(), source }
    }

    /// The error that decides this one's class: an [`Error::Internal`] wrapping a
    /// `backend::Error` is classified as what it wraps.
    fn cause(&self) -> &Error {
        match self {
            Error::Internal { source, .. } => source.downcast_ref::<Error>().map_or(self, Error::cause),
            other => other,
        }
    }

    /// True when the database could not be reached (down, restarting, or no connection
    /// to be had within the pool's acquire timeout), so nothing that needs it can work.
    pub fn is_database_unreachable(&self) -> bool {
        match self.cause() {
            Error::Database(sqlx::Error::PoolTimedOut) | Error::SessionStoreUnreachable(_) => true,
            Error::Database(err) => is_unreachable(err),
            _ => false,
        }
    }

    /// True when a write failed for want of disk space: the database's own file system
    /// (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`) or the data folder's.
    pub fn is_storage_full(&self) -> bool {
        match self.cause() {
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
        matches!(self.cause(), Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
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
            Error::Internal { context, source } => match source.downcast::<Error>() {
                // A backend error given context keeps its own class.
                Ok(inner) => {
                    let api = ApiError::from(*inner);
                    if api.status() >= 500 {
                        tracing::error!(%context, "the failure above happened while {context}");
                    }
                    api
                }
                Err(source) => {
                    tracing::error!(%context, error = %Chain(&*source), "internal error");
                    ApiError::internal()
                }
            },
            Error::NotFound { what } => {
                ApiError::not_found(format!("That {what} does not exist or you cannot see it."))
            }
            Error::Invalid(fields) => ApiError::invalid(fields),
            Error::QuotaExceeded(field) => ApiError::invalid(vec![field]).with_code(ErrorCode::QuotaExceeded),
            Error::Conflict(Refusal { code, message }) => {
                ApiError::conflict(message).with_code(code.unwrap_or(ErrorCode::Conflict))
            }
            Error::Forbidden(Refusal { code, message }) => {
                ApiError::forbidden(message).with_code(code.unwrap_or(ErrorCode::Forbidden))
            }
            Error::Unauthenticated => ApiError::unauthenticated("Please sign in first."),
            Error::SignInFailed => {
                ApiError::unauthenticated("Email or password is incorrect.").with_code(ErrorCode::SignInFailed)
            }
            Error::RateLimited { retry_after_secs } => ApiError::rate_limited(
                format!("Too many attempts. Try again in {retry_after_secs} seconds."),
                retry_after_secs,
            ),
            Error::Unavailable(message) => {
                tracing::warn!(%message, "service unavailable");
                ApiError::unavailable("Heirloom is not ready to serve this request. Try again shortly.")
            }
            ref full if full.is_storage_full() => {
                tracing::error!(error = %full, "storage full");
                ApiError::storage_full(
                    "The server's storage is full, so this was not saved. An administrator needs to free space; \
                     then try again.",
                )
            }
            ref db_err @ Error::Database(_) if db_err.is_unique_violation() => {
                ApiError::conflict("That already exists.").with_code(ErrorCode::AlreadyExists)
            }
            Error::Database(sqlx::Error::PoolTimedOut) => {
                tracing::error!("database pool timed out");
                ApiError::unavailable("The database is busy. Try again shortly.").with_code(ErrorCode::DatabaseBusy)
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
    ApiError::unavailable("The database cannot be reached right now. Try again shortly.")
        .with_code(ErrorCode::DatabaseUnreachable)
}

/// An error and every cause below it, `outer: inner: innermost`, for the log.
struct Chain<'a>(&'a (dyn StdError + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(err) = cause {
            let text = err.to_string();
            // Many errors repeat their source's text in their own; say it once.
            if !self.0.to_string().contains(&text) {
                write!(f, ": {text}")?;
            }
            cause = err.source();
        }
        Ok(())
    }
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

    /// Every class of cause and what the client gets: only causes that pass are 503s.
    #[tokio::test]
    async fn each_cause_gets_the_status_that_tells_the_truth() {
        let unique = {
            let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
            sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)").execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO t VALUES ('a')").execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO t VALUES ('a')").execute(&pool).await.unwrap_err()
        };
        let no_space = || std::io::Error::from_raw_os_error(28);
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        use tower_sessions::session_store::Error as StoreError;
        let session_store = |e| Error::from(tower_sessions::session::Error::Store(e));
        let table: Vec<(&str, Error, u16, ErrorCode)> = vec![
            // Faults that retrying will not mend: 500.
            (
                "JSON encoding",
                Err::<(), _>(serde_json::from_str::<u8>("x").unwrap_err()).context("encoding an event").unwrap_err(),
                500,
                ErrorCode::Internal,
            ),
            (
                "password hashing",
                Err::<(), _>(argon2::password_hash::Error::Password.to_string())
                    .context("hashing a password")
                    .unwrap_err(),
                500,
                ErrorCode::Internal,
            ),
            (
                "damaged credential",
                Err::<(), _>(base64::DecodeError::InvalidLength(3)).context("opening a sealed credential").unwrap_err(),
                500,
                ErrorCode::Internal,
            ),
            (
                "unsupported column type",
                Error::internal("backup", "a column of type BLOB[] is not supported"),
                500,
                ErrorCode::Internal,
            ),
            ("undecodable row", Error::Database(sqlx::Error::ColumnNotFound("x".into())), 500, ErrorCode::Internal),
            ("undecodable session", session_store(StoreError::Decode("x".into())), 500, ErrorCode::Internal),
            ("damaged database", Error::Damaged("page 3".into()), 500, ErrorCode::Internal),
            // Causes that pass: 503.
            ("pool timeout", Error::Database(sqlx::Error::PoolTimedOut), 503, ErrorCode::DatabaseBusy),
            (
                "pool timeout, with context",
                Err::<(), _>(sqlx::Error::PoolTimedOut).context("saving a story revision").unwrap_err(),
                503,
                ErrorCode::DatabaseBusy,
            ),
            ("database refused", Error::Database(sqlx::Error::Io(refused())), 503, ErrorCode::DatabaseUnreachable),
            ("pool closed", Error::Database(sqlx::Error::PoolClosed), 503, ErrorCode::DatabaseUnreachable),
            (
                "session store down",
                session_store(StoreError::Backend("connection refused".into())),
                503,
                ErrorCode::DatabaseUnreachable,
            ),
            ("NATS down", Error::Unavailable("NATS publish: connection closed".into()), 503, ErrorCode::Unavailable),
            // A full disk: 507, however it is wrapped.
            ("data folder full", Error::StorageFull("media: 0 bytes free".into()), 507, ErrorCode::StorageFull),
            ("database disk full", Error::Database(sqlx::Error::Io(no_space())), 507, ErrorCode::StorageFull),
            (
                "full, with context",
                Err::<(), _>(Error::StorageFull("x".into())).context("committing the index").unwrap_err(),
                507,
                ErrorCode::StorageFull,
            ),
            // Refusals of the request.
            ("unique violation", Error::Database(unique), 409, ErrorCode::AlreadyExists),
            ("a conflict", Error::Conflict("This upload is complete.".into()), 409, ErrorCode::Conflict),
            (
                "a stale story",
                Error::conflict(ErrorCode::StoryVersionConflict, "changed meanwhile"),
                409,
                ErrorCode::StoryVersionConflict,
            ),
            ("not allowed", Error::forbidden(ErrorCode::AdminRequired, "admins only"), 403, ErrorCode::AdminRequired),
            ("not found", Error::NotFound { what: "story" }, 404, ErrorCode::NotFound),
            ("invalid", Error::invalid("title", "is required"), 422, ErrorCode::Invalid),
            ("over quota", Error::QuotaExceeded(FieldError::new("size", "too big")), 422, ErrorCode::QuotaExceeded),
            ("rate limited", Error::RateLimited { retry_after_secs: 2 }, 429, ErrorCode::RateLimited),
            ("signed out", Error::Unauthenticated, 401, ErrorCode::Unauthenticated),
            ("wrong password", Error::SignInFailed, 401, ErrorCode::SignInFailed),
        ];
        for (cause, err, status, code) in table {
            let api = ApiError::from(err);
            assert_eq!((api.status(), api.code()), (status, code), "{cause}: {api:?}");
            assert_eq!(api.code().kind(), api.kind(), "{cause}: a code of another kind");
        }
    }

    #[test]
    fn context_keeps_the_class_of_what_it_wraps() {
        let down = Err::<(), _>(sqlx::Error::PoolClosed).context("loading a story").unwrap_err();
        assert!(down.is_database_unreachable());
        let nested = Err::<(), _>(Error::Database(sqlx::Error::PoolClosed)).context("outer").unwrap_err();
        assert!(nested.is_database_unreachable());
        let bug = Err::<(), _>(std::io::Error::other("boom")).with_context(|| format!("writing {}", 3)).unwrap_err();
        assert!(!bug.is_database_unreachable());
        assert_eq!(bug.to_string(), "writing 3: boom");
        let refusal = Error::conflict(ErrorCode::StoryVersionConflict, "version 10");
        assert!(matches!(refusal, Error::Conflict(ref m) if m.contains("version 10")));
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
