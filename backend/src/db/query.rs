//! Running one statement on either engine, on the pool or inside a transaction, through
//! one type: [`Conn`]. Repositories write `conn.fetch_optional(sql, args![id])` once
//! instead of a `with_pool!`/`with_tx!` block with a `.bind` chain per call, and a
//! lookup that must see a transaction's own writes is the same function as the one
//! that reads from the pool.
//!
//! Values travel as [`Arg`]: text, integer, real, boolean or bytes, each possibly NULL,
//! bound with the Rust type the column has (PostgreSQL types its parameters, so a NULL
//! integer stays an integer).

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Sqlite};

use super::{Db, Tx};
use crate::error::Result;

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// The values of one statement, in placeholder order (`$1`, `$2`, …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args(pub Vec<Arg>);

impl Args {
    pub fn push(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.0.push(arg.into());
        self
    }

    /// Appends a value and returns its placeholder (`$n`), for statements built piece by
    /// piece (optional filters).
    pub fn placeholder(&mut self, arg: impl Into<Arg>) -> String {
        self.0.push(arg.into());
        format!("${}", self.0.len())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `args![a, b, c]`: the values of one statement, each converted with `Arg::from`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        $crate::db::Args(vec![$($crate::db::Arg::from($value)),*])
    };
}

macro_rules! arg_from {
    ($variant:ident: $($ty:ty => |$v:ident| $conv:expr),+ $(,)?) => {$(
        impl From<$ty> for Arg {
            fn from($v: $ty) -> Arg {
                Arg::$variant(Some($conv))
            }
        }
        impl From<Option<$ty>> for Arg {
            fn from(value: Option<$ty>) -> Arg {
                Arg::$variant(value.map(|$v| $conv))
            }
        }
    )+};
}

arg_from!(Text: String => |v| v, &String => |v| v.clone(), &str => |v| v.to_owned());
arg_from!(Int: i64 => |v| v, &i64 => |v| *v, i32 => |v| i64::from(v), u32 => |v| i64::from(v));
arg_from!(Real: f64 => |v| v, &f64 => |v| *v);
arg_from!(Bool: bool => |v| v, &bool => |v| *v);
arg_from!(Bytes: Vec<u8> => |v| v, &[u8] => |v| v.to_vec());

impl From<&Option<String>> for Arg {
    fn from(value: &Option<String>) -> Arg {
        Arg::Text(value.clone())
    }
}

impl From<&Option<i64>> for Arg {
    fn from(value: &Option<i64>) -> Arg {
        Arg::Int(*value)
    }
}

/// Typed ids bind as their text.
macro_rules! arg_from_id {
    ($($id:ty),+ $(,)?) => {$(
        impl From<$id> for Arg {
            fn from(id: $id) -> Arg {
                Arg::Text(Some(id.0))
            }
        }
        impl From<&$id> for Arg {
            fn from(id: &$id) -> Arg {
                Arg::Text(Some(id.0.clone()))
            }
        }
        impl From<Option<&$id>> for Arg {
            fn from(id: Option<&$id>) -> Arg {
                Arg::Text(id.map(|id| id.0.clone()))
            }
        }
        impl From<&Option<$id>> for Arg {
            fn from(id: &Option<$id>) -> Arg {
                Arg::Text(id.as_ref().map(|id| id.0.clone()))
            }
        }
    )+};
}

arg_from_id!(
    types::UserId,
    types::LegacyId,
    types::StoryId,
    types::RevisionId,
    types::FlagId,
    types::InvitationId,
    types::MediaId,
    types::SessionId,
    types::TipId,
    types::CallId,
    types::WebhookId,
    types::PersonId,
    types::RelationshipId,
    types::ImportId,
    types::EmailId,
    types::CommentId,
    types::NotificationId,
);

/// Enums stored as text bind as their text.
macro_rules! arg_from_text_enum {
    ($($enum:ty),+ $(,)?) => {$(
        impl From<$enum> for Arg {
            fn from(value: $enum) -> Arg {
                Arg::Text(Some(value.as_str().to_owned()))
            }
        }
        impl From<&$enum> for Arg {
            fn from(value: &$enum) -> Arg {
                Arg::Text(Some(value.as_str().to_owned()))
            }
        }
    )+};
}

arg_from_text_enum!(
    types::LegacyRole,
    types::Visibility,
    types::StoryStatus,
    types::MediaKind,
    types::MediaState,
    types::ScanStatus,
    types::Sex,
    types::CallStatus,
    types::SubjectKind,
    types::ReactionKind,
    types::ActivityKind,
    types::NotificationKind,
    types::Delivery,
    types::Digest,
);

/// Binds every value of `args` to a query of either engine (`sqlx::query`, `query_as`,
/// `query_scalar`: each has `bind`).
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args.0 {
            query = match arg {
                Arg::Text(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
                Arg::Real(v) => query.bind(v),
                Arg::Bool(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}

/// A row type both engines can decode.
pub trait Row: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}

/// A single column value both engines can decode.
pub trait Scalar:
    sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Postgres>
    + for<'r> sqlx::Decode<'r, Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Postgres>
        + for<'r> sqlx::Decode<'r, Postgres>
        + Send
        + Unpin
{
}

/// Where a statement runs: the pool (each statement on whichever connection is free) or
/// an open transaction. Repositories take `impl Into<Conn>`: pass `&db` or `&mut *tx`.
pub enum Conn<'c> {
    Pool(&'c Db),
    Tx(&'c mut Tx),
}

impl Conn<'_> {
    /// The same connection for one more statement (each statement uses a `Conn` up):
    /// for loops that run several on what they were given.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Pool(db) => Conn::Pool(db),
            Conn::Tx(tx) => Conn::Tx(tx),
        }
    }
}

impl<'c> From<&'c Db> for Conn<'c> {
    fn from(db: &'c Db) -> Self {
        Conn::Pool(db)
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

/// Runs `$run` (a method of sqlx's query types taking an executor) with `$query` built
/// per engine, on the pool or the transaction.
macro_rules! run_on {
    ($conn:expr, |$e:ident| $body:expr) => {
        match $conn {
            Conn::Pool(Db::Sqlite($e)) => $body,
            Conn::Pool(Db::Postgres($e)) => $body,
            Conn::Tx(Tx::Sqlite(tx)) => {
                let $e = &mut **tx;
                $body
            }
            Conn::Tx(Tx::Postgres(tx)) => {
                let $e = &mut **tx;
                $body
            }
        }
    };
}

impl Conn<'_> {
    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(self, sql: &str, args: Args) -> Result<u64> {
        Ok(run_on!(self, |e| bind_all!(sqlx::query(sql), args).execute(e).await.map(|d| d.rows_affected()))?)
    }
}

impl Db {
    /// [`Conn::execute`] on the pool.
    pub async fn execute(&self, sql: &str, args: Args) -> Result<u64> {
        Conn::Pool(self).execute(sql, args).await
    }
}

impl Tx {
    /// [`Conn::execute`] in this transaction.
    pub async fn execute(&mut self, sql: &str, args: Args) -> Result<u64> {
        Conn::Tx(self).execute(sql, args).await
    }
}

/// Each reading statement once: on [`Conn`], and the same on [`Db`] (the pool) and [`Tx`]
/// (the transaction). `$query` is the sqlx constructor, `$run` its method that takes an
/// executor.
macro_rules! fetches {
    ($($(#[$doc:meta])* $name:ident<T: $bound:ident> -> $ret:ty = $query:ident.$run:ident;)+) => {
        impl Conn<'_> {
            $($(#[$doc])*
            pub async fn $name<T: $bound>(self, sql: &str, args: Args) -> Result<$ret> {
                Ok(run_on!(self, |e| bind_all!(sqlx::$query::<_, T>(sql), args).$run(e).await)?)
            })+
        }

        impl Db {
            $($(#[$doc])*
            pub async fn $name<T: $bound>(&self, sql: &str, args: Args) -> Result<$ret> {
                Conn::Pool(self).$name(sql, args).await
            })+
        }

        impl Tx {
            $($(#[$doc])*
            pub async fn $name<T: $bound>(&mut self, sql: &str, args: Args) -> Result<$ret> {
                Conn::Tx(self).$name(sql, args).await
            })+
        }
    };
}

fetches! {
    /// The one row the statement returns.
    fetch_one<T: Row> -> T = query_as.fetch_one;
    /// The row, if there is one.
    fetch_optional<T: Row> -> Option<T> = query_as.fetch_optional;
    /// Every row.
    fetch_all<T: Row> -> Vec<T> = query_as.fetch_all;
    /// The first column of the one row the statement returns (`SELECT COUNT(*) …`).
    scalar<T: Scalar> -> T = query_scalar.fetch_one;
    /// The first column of the row, if there is one.
    scalar_optional<T: Scalar> -> Option<T> = query_scalar.fetch_optional;
    /// The first column of every row.
    scalars<T: Scalar> -> Vec<T> = query_scalar.fetch_all;
}
