//! SQL for users, written once for both engines.

use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::{Error, Result};
use crate::identity::model::{normalize_email, NewUser, SessionRow, User};
use crate::time::{new_id, now_millis};

const COLUMNS: &str = "id, email, display_name, role, disabled, created_at, updated_at";

/// Inserts a user in its own transaction; see [`insert_tx`].
pub async fn insert(db: &Db, new: &NewUser) -> Result<User> {
    let mut tx = db.begin().await?;
    let user = insert_tx(&mut tx, new).await?;
    tx.commit().await?;
    Ok(user)
}

/// Inserts a user; an email already in use is a conflict naming the field.
pub async fn insert_tx(tx: &mut Tx, new: &NewUser) -> Result<User> {
    let now = now_millis();
    let sql = format!(
        "INSERT INTO users (id, email, display_name, role, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, FALSE, $5, $5) RETURNING {COLUMNS}"
    );
    let result = with_tx!(tx, |conn| {
        sqlx::query_as::<_, User>(&sql)
            .bind(new_id())
            .bind(&new.email)
            .bind(&new.display_name)
            .bind(new.role.as_str())
            .bind(now)
            .fetch_one(conn)
            .await
    });
    result.map_err(|err| {
        let err = Error::from(err);
        if err.is_unique_violation() {
            Error::conflict(types::ErrorCode::EmailTaken, "An account with this email already exists.")
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

/// The same count inside a transaction, for "the first account becomes admin".
pub async fn count_tx(tx: &mut Tx) -> Result<i64> {
    Ok(with_tx!(tx, |conn| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(conn).await)?)
}

/// Enables or disables sign-in for a user; returns the updated record.
pub async fn set_disabled(db: &Db, id: &str, disabled: bool) -> Result<User> {
    let sql = format!("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    with_pool!(db, |pool| {
        sqlx::query_as::<_, User>(&sql).bind(id).bind(disabled).bind(now_millis()).fetch_optional(pool).await
    })?
    .ok_or(Error::NotFound { what: "user" })
}

// --- passwords ---

pub async fn set_password_tx(tx: &mut Tx, user_id: &str, hash: &str) -> Result<()> {
    let sql = "INSERT INTO password_credentials (user_id, hash, updated_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";
    with_tx!(tx, |conn| sqlx::query(sql).bind(user_id).bind(hash).bind(now_millis()).execute(conn).await.map(|_| ()))?;
    Ok(())
}

pub async fn password_hash(db: &Db, user_id: &str) -> Result<Option<String>> {
    let sql = "SELECT hash FROM password_credentials WHERE user_id = $1";
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).bind(user_id).fetch_optional(pool).await)?)
}

// --- OpenID Connect identities ---

pub async fn oidc_user(db: &Db, provider: &str, subject: &str) -> Result<Option<String>> {
    let sql = "SELECT user_id FROM oidc_identities WHERE provider = $1 AND subject = $2";
    Ok(with_pool!(db, |pool| {
        sqlx::query_scalar::<_, String>(sql).bind(provider).bind(subject).fetch_optional(pool).await
    })?)
}

pub async fn link_oidc_tx(
    tx: &mut Tx,
    provider: &str,
    subject: &str,
    user_id: &str,
    email: Option<&str>,
) -> Result<()> {
    let sql = "INSERT INTO oidc_identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(provider)
            .bind(subject)
            .bind(user_id)
            .bind(email)
            .bind(now_millis())
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// `(provider id, email at the provider)` for each identity linked to the user.
pub async fn oidc_links(db: &Db, user_id: &str) -> Result<Vec<(String, Option<String>)>> {
    let sql = "SELECT provider, email FROM oidc_identities WHERE user_id = $1 ORDER BY created_at";
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, (String, Option<String>)>(sql).bind(user_id).fetch_all(pool).await
    })?)
}

// --- sessions ---

const SESSION_COLUMNS: &str = "id, user_id, method, user_agent, ip, id_token, created_at, last_seen_at";

pub async fn insert_session(db: &Db, row: &SessionRow) -> Result<()> {
    let sql = format!("INSERT INTO user_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    with_pool!(db, |pool| {
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.user_id)
            .bind(&row.method)
            .bind(&row.user_agent)
            .bind(&row.ip)
            .bind(&row.id_token)
            .bind(row.created_at)
            .bind(row.last_seen_at)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn find_session(db: &Db, id: &str) -> Result<Option<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM user_sessions WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn touch_session(db: &Db, id: &str, now: i64) -> Result<()> {
    let sql = "UPDATE user_sessions SET last_seen_at = $2 WHERE id = $1";
    with_pool!(db, |pool| sqlx::query(sql).bind(id).bind(now).execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub async fn list_sessions(db: &Db, user_id: &str) -> Result<Vec<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM user_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, SessionRow>(&sql).bind(user_id).fetch_all(pool).await)?)
}

/// Deletes one of the user's sessions; false when it was not theirs or did not exist.
pub async fn delete_session(db: &Db, user_id: &str, id: &str) -> Result<bool> {
    let sql = "DELETE FROM user_sessions WHERE id = $1 AND user_id = $2";
    let deleted = with_pool!(db, |pool| {
        sqlx::query(sql).bind(id).bind(user_id).execute(pool).await.map(|done| done.rows_affected())
    })?;
    Ok(deleted > 0)
}

/// Deletes every session of the user except `keep`; returns how many ended.
pub async fn delete_sessions_except(db: &Db, user_id: &str, keep: &str) -> Result<u64> {
    let sql = "DELETE FROM user_sessions WHERE user_id = $1 AND id <> $2";
    Ok(with_pool!(db, |pool| {
        sqlx::query(sql).bind(user_id).bind(keep).execute(pool).await.map(|done| done.rows_affected())
    })?)
}

// --- sign-up invitations ---

pub async fn insert_invite(db: &Db, token_hash: &str, created_by: Option<&str>, expires_at: i64) -> Result<()> {
    let sql = "INSERT INTO signup_invites (token_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(token_hash)
            .bind(created_by)
            .bind(now_millis())
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Marks an unused, unexpired invitation as used by `user_id`; false if there is none.
pub async fn consume_invite_tx(tx: &mut Tx, token_hash: &str, user_id: &str) -> Result<bool> {
    let sql = "UPDATE signup_invites SET used_by = $2, used_at = $3 \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3";
    let updated = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(token_hash)
            .bind(user_id)
            .bind(now_millis())
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(updated > 0)
}
