//! The tables a backup holds, in an order that satisfies their foreign keys, and the
//! engine-neutral row format (one JSON object per row, typed by the table's columns).

use serde_json::{Map, Value};

use crate::db::{with_pool, Db, Engine};
use crate::error::{Error, Result};

/// Every table of Heirloom's schema, parents before children. `every_table_is_accounted_for`
/// (server/tests/it/backup.rs) fails when a migration adds a table that is not here or in
/// [`NOT_BACKED_UP`].
pub const TABLES: &[&str] = &[
    "users",
    "password_credentials",
    "oidc_identities",
    "signup_invites",
    "emails",
    "verified_emails",
    "legacies",
    "memberships",
    "legacy_invitations",
    "stories",
    "story_tags",
    "story_revisions",
    "idempotency_keys",
    "media",
    "comments",
    "reactions",
    "moderation_flags",
    "activities",
    "activity_events",
    "notifications",
    "notification_preferences",
    "legacy_follow_changes",
    "persons",
    "person_revisions",
    "relationships",
    "story_mentions",
    "media_people",
    "gedcom_imports",
    "gedcom_media",
    "webhooks",
    "calls",
    "call_attempts",
    "timers",
    "outbox",
    "processed_events",
    "dead_letters",
    "consumer_checkpoints",
    "connector_connections",
    "connector_items",
    "tips",
    "tip_feedback",
    "tip_arm_stats",
];

/// Tables left out on purpose: sign-in sessions (people sign in again after a restore;
/// a session cookie copied with a backup should not open an account), OAuth states of
/// connections being made (minutes-long, tied to those sessions) and the migrations
/// bookkeeping (the restoring binary applies its own, and runs its data migrations over
/// the restored rows again), the claims of running replicas (`backend::replica`), and
/// password-reset and email-verification tokens (an hour, a week; a link should not
/// come back with a restore).
pub const NOT_BACKED_UP: &[&str] = &[
    "user_sessions",
    "tower_sessions",
    "connector_oauth_states",
    "_sqlx_migrations",
    "data_migrations",
    "replicas",
    "password_resets",
    "email_verifications",
];

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Boolean,
    Text,
    Bytes,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
}

fn column_type(declared: &str) -> Result<ColumnType> {
    let declared = declared.to_ascii_uppercase();
    Ok(match declared.as_str() {
        "BIGINT" | "INTEGER" | "INT" | "INT8" | "INT4" | "SMALLINT" => ColumnType::Integer,
        "BOOLEAN" | "BOOL" => ColumnType::Boolean,
        "TEXT" | "VARCHAR" | "CHARACTER VARYING" => ColumnType::Text,
        "BLOB" | "BYTEA" => ColumnType::Bytes,
        other => return Err(Error::internal("backup", format!("a column of type {other} is not supported"))),
    })
}

/// The columns of `table` as the database declares them, in table order.
pub async fn columns(db: &Db, table: &str) -> Result<Vec<Column>> {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => {
            // PRAGMA cannot take a bound parameter; `table` is one of TABLES, never input.
            let sql = format!("SELECT name, type FROM pragma_table_info('{table}') ORDER BY cid");
            sqlx::query_as(&sql).fetch_all(pool).await?
        }
        Db::Postgres(pool) => {
            let sql = "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
                       WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position";
            sqlx::query_as(sql).bind(table).fetch_all(pool).await?
        }
    };
    if rows.is_empty() {
        return Err(Error::internal("backup", format!("the database has no table {table}")));
    }
    rows.into_iter().map(|(name, declared)| Ok(Column { kind: column_type(&declared)?, name })).collect()
}

/// Every table in the connected database's schema (to check [`TABLES`] is complete).
pub async fn schema_tables(db: &Db) -> Result<Vec<String>> {
    let sql = match db.engine() {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await)?)
}

/// `SELECT` of the given columns, in a stable order (so two backups of the same data
/// are the same file).
pub fn select_sql(table: &str, columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    format!("SELECT {} FROM {table} ORDER BY {}", names.join(", "), names.join(", "))
}

/// One row as a JSON object.
pub fn row_to_json<'r, R>(row: &'r R, columns: &[Column]) -> Result<Map<String, Value>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    use base64::Engine as _;
    let mut object = Map::new();
    for (i, column) in columns.iter().enumerate() {
        let value = match column.kind {
            ColumnType::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
            ColumnType::Boolean => row.try_get::<Option<bool>, _>(i)?.map(Value::from),
            ColumnType::Text => row.try_get::<Option<String>, _>(i)?.map(Value::from),
            ColumnType::Bytes => row
                .try_get::<Option<Vec<u8>>, _>(i)?
                .map(|b| Value::from(base64::engine::general_purpose::STANDARD.encode(b))),
        };
        object.insert(column.name.clone(), value.unwrap_or(Value::Null));
    }
    Ok(object)
}

/// The `INSERT` for one row of `table` with `columns` (the restoring database's own
/// columns that the backup has; others take their defaults).
pub fn insert_sql(table: &str, columns: &[&Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), params.join(", "))
}

/// Binds `value` as the column's type; a value of the wrong shape is a damaged backup.
pub fn bind<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    column: &Column,
    value: &Value,
) -> Result<sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>>
where
    DB: sqlx::Database,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    use base64::Engine as _;
    let damaged = || Error::invalid("archive", &format!("column {} holds a value of the wrong type", column.name));
    Ok(match column.kind {
        ColumnType::Integer => {
            query.bind(if value.is_null() { None } else { Some(value.as_i64().ok_or_else(damaged)?) })
        }
        ColumnType::Boolean => {
            // SQLite hands booleans back as integers.
            let flag = match value {
                Value::Null => None,
                Value::Bool(b) => Some(*b),
                Value::Number(n) => Some(n.as_i64().ok_or_else(damaged)? != 0),
                _ => return Err(damaged()),
            };
            query.bind(flag)
        }
        ColumnType::Text => {
            query.bind(if value.is_null() { None } else { Some(value.as_str().ok_or_else(damaged)?.to_string()) })
        }
        ColumnType::Bytes => query.bind(match value {
            Value::Null => None,
            Value::String(text) => Some(base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| damaged())?),
            _ => return Err(damaged()),
        }),
    })
}
