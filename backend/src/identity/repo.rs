//! SQL for users, written once for both engines.

use crate::db::{with_pool, Db};
use crate::error::{Error, Result};
use crate::identity::model::{normalize_email, NewUser, User};
use crate::time::{new_id, now_millis};

const COLUMNS: &str = "id, email, display_name, role, disabled, created_at, updated_at";

/// Inserts a user; an email already in use is a conflict naming the field.
pub async fn insert(db: &Db, new: &NewUser) -> Result<User> {
    let now = now_millis();
    let sql = format!(
        "INSERT INTO users (id, email, display_name, role, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {COLUMNS}"
    );
    let result = with_pool!(db, |pool| {
        sqlx::query_as::<_, User>(&sql)
            .bind(new_id())
            .bind(&new.email)
            .bind(&new.display_name)
            .bind(new.role.as_str())
            .bind(now)
            .fetch_one(pool)
            .await
    });
    result.map_err(|err| {
        let err = Error::from(err);
        if err.is_unique_violation() {
            Error::Conflict("An account with this email already exists.".into())
        } else {
            err
        }
    })
}

pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let email = normalize_email(email);
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, User>(&sql).bind(&email).fetch_optional(pool).await)?)
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await)?)
}

/// Enables or disables sign-in for a user; returns the updated record.
pub async fn set_disabled(db: &Db, id: &str, disabled: bool) -> Result<User> {
    let sql = format!("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    with_pool!(db, |pool| {
        sqlx::query_as::<_, User>(&sql).bind(id).bind(disabled).bind(now_millis()).fetch_optional(pool).await
    })?
    .ok_or(Error::NotFound { what: "user" })
}
