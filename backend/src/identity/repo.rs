//! SQL for users, written once for both engines.

use types::{SessionId, UserId};

use crate::args;
use crate::db::{Conn, Db, Tx};
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
    let args = args![new_id(), &new.email, &new.display_name, new.role.as_str(), now];
    tx.fetch_one(&sql, args).await.map_err(|err| {
        if err.is_unique_violation() {
            Error::conflict(types::ErrorCode::EmailTaken, "An account with this email already exists.")
        } else {
            err
        }
    })
}

pub async fn find_by_id(db: &Db, id: &UserId) -> Result<Option<User>> {
    db.fetch_optional(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"), args![id]).await
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>> {
    db.fetch_optional(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"), args![normalize_email(email)]).await
}

/// How many accounts there are; inside a transaction (`&mut *tx`) for "the first
/// account becomes admin".
pub async fn count<'c>(conn: impl Into<Conn<'c>>) -> Result<i64> {
    conn.into().scalar("SELECT COUNT(*) FROM users", args![]).await
}

/// Enables or disables sign-in for a user; returns the updated record.
pub async fn set_disabled(db: &Db, id: &UserId, disabled: bool) -> Result<User> {
    let sql = format!("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    db.fetch_optional(&sql, args![id, disabled, now_millis()]).await?.ok_or(Error::NotFound { what: "user" })
}

// --- passwords ---

pub async fn set_password_tx(tx: &mut Tx, user_id: &UserId, hash: &str) -> Result<()> {
    let sql = "INSERT INTO password_credentials (user_id, hash, updated_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";
    tx.execute(sql, args![user_id, hash, now_millis()]).await?;
    Ok(())
}

pub async fn password_hash(db: &Db, user_id: &UserId) -> Result<Option<String>> {
    db.scalar_optional("SELECT hash FROM password_credentials WHERE user_id = $1", args![user_id]).await
}

// --- OpenID Connect identities ---

pub async fn oidc_user(db: &Db, provider: &str, subject: &str) -> Result<Option<UserId>> {
    let sql = "SELECT user_id FROM oidc_identities WHERE provider = $1 AND subject = $2";
    db.scalar_optional(sql, args![provider, subject]).await
}

pub async fn link_oidc_tx(
    tx: &mut Tx,
    provider: &str,
    subject: &str,
    user_id: &UserId,
    email: Option<&str>,
) -> Result<()> {
    let sql = "INSERT INTO oidc_identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)";
    tx.execute(sql, args![provider, subject, user_id, email, now_millis()]).await?;
    Ok(())
}

/// `(provider id, email at the provider)` for each identity linked to the user.
pub async fn oidc_links(db: &Db, user_id: &UserId) -> Result<Vec<(String, Option<String>)>> {
    let sql = "SELECT provider, email FROM oidc_identities WHERE user_id = $1 ORDER BY created_at";
    db.fetch_all(sql, args![user_id]).await
}

// --- sessions ---

const SESSION_COLUMNS: &str = "id, user_id, method, user_agent, ip, id_token, created_at, last_seen_at";

pub async fn insert_session(db: &Db, row: &SessionRow) -> Result<()> {
    let sql = format!("INSERT INTO user_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    let args = args![
        &row.id,
        &row.user_id,
        &row.method,
        &row.user_agent,
        &row.ip,
        &row.id_token,
        row.created_at,
        row.last_seen_at
    ];
    db.execute(&sql, args).await?;
    Ok(())
}

pub async fn find_session(db: &Db, id: &SessionId) -> Result<Option<SessionRow>> {
    db.fetch_optional(&format!("SELECT {SESSION_COLUMNS} FROM user_sessions WHERE id = $1"), args![id]).await
}

pub async fn touch_session(db: &Db, id: &SessionId, now: i64) -> Result<()> {
    db.execute("UPDATE user_sessions SET last_seen_at = $2 WHERE id = $1", args![id, now]).await?;
    Ok(())
}

pub async fn list_sessions(db: &Db, user_id: &UserId) -> Result<Vec<SessionRow>> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM user_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC");
    db.fetch_all(&sql, args![user_id]).await
}

/// Deletes one of the user's sessions; false when it was not theirs or did not exist.
pub async fn delete_session(db: &Db, user_id: &UserId, id: &SessionId) -> Result<bool> {
    Ok(db.execute("DELETE FROM user_sessions WHERE id = $1 AND user_id = $2", args![id, user_id]).await? > 0)
}

/// Deletes every session of the user except `keep`; returns how many ended.
pub async fn delete_sessions_except(db: &Db, user_id: &UserId, keep: &SessionId) -> Result<u64> {
    db.execute("DELETE FROM user_sessions WHERE user_id = $1 AND id <> $2", args![user_id, keep]).await
}

// --- sign-up invitations ---

pub async fn insert_invite(db: &Db, token_hash: &str, created_by: Option<&UserId>, expires_at: i64) -> Result<()> {
    let sql = "INSERT INTO signup_invites (token_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    db.execute(sql, args![token_hash, created_by, now_millis(), expires_at]).await?;
    Ok(())
}

/// Marks an unused, unexpired invitation as used by `user_id`; false if there is none.
pub async fn consume_invite_tx(tx: &mut Tx, token_hash: &str, user_id: &UserId) -> Result<bool> {
    let sql = "UPDATE signup_invites SET used_by = $2, used_at = $3 \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3";
    Ok(tx.execute(sql, args![token_hash, user_id, now_millis()]).await? > 0)
}

// --- password resets ---

pub async fn insert_password_reset(tx: &mut Tx, token_hash: &str, user_id: &UserId, expires_at: i64) -> Result<()> {
    let sql = "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)";
    tx.execute(sql, args![token_hash, user_id, expires_at, now_millis()]).await?;
    Ok(())
}

/// How many reset links the user was sent since `since`.
pub async fn password_resets_since(db: &Db, user_id: &UserId, since: i64) -> Result<i64> {
    db.scalar("SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at > $2", args![user_id, since])
        .await
}

/// The user of an unused, unexpired reset token.
pub async fn password_reset_user(db: &Db, token_hash: &str, now: i64) -> Result<Option<UserId>> {
    let sql = "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    db.scalar_optional(sql, args![token_hash, now]).await
}

/// Spends the token if it is still unused and unexpired (false when it is not, or when
/// another request spent it first), with every other token of its user.
pub async fn use_password_reset_tx(tx: &mut Tx, token_hash: &str, user_id: &UserId, now: i64) -> Result<bool> {
    let sql = "UPDATE password_resets SET used_at = $3 WHERE token_hash = $1 AND user_id = $2 AND used_at IS NULL \
               AND expires_at > $3";
    if tx.execute(sql, args![token_hash, user_id, now]).await? == 0 {
        return Ok(false);
    }
    let others = "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";
    tx.execute(others, args![user_id, now]).await?;
    Ok(true)
}

// --- email verification ---

pub async fn insert_email_verification(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &UserId,
    email: &str,
    expires_at: i64,
) -> Result<()> {
    let sql = "INSERT INTO email_verifications (token_hash, user_id, email, expires_at, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    tx.execute(sql, args![token_hash, user_id, email, expires_at, now_millis()]).await?;
    Ok(())
}

/// How many verification links the user was sent since `since`.
pub async fn email_verifications_since(db: &Db, user_id: &UserId, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM email_verifications WHERE user_id = $1 AND created_at > $2";
    db.scalar(sql, args![user_id, since]).await
}

/// Spends an unused, unexpired verification token: its user and address (`None` when it
/// is not one, or another request spent it first).
pub async fn use_email_verification_tx(tx: &mut Tx, token_hash: &str, now: i64) -> Result<Option<(UserId, String)>> {
    let sql = "UPDATE email_verifications SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
               AND expires_at > $2 RETURNING user_id, email";
    tx.fetch_optional(sql, args![token_hash, now]).await
}

/// Records that `email` is the user's (once; again changes nothing).
pub async fn mark_verified_tx(tx: &mut Tx, user_id: &UserId, email: &str, at: i64) -> Result<()> {
    let sql = "INSERT INTO verified_emails (user_id, email, verified_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id, email) DO NOTHING";
    tx.execute(sql, args![user_id, email, at]).await?;
    Ok(())
}

/// Whether the user's address was shown to be theirs.
pub async fn is_verified<'c>(conn: impl Into<Conn<'c>>, user_id: &UserId, email: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM verified_emails WHERE user_id = $1 AND email = $2";
    Ok(conn.into().scalar::<i64>(sql, args![user_id, email]).await? > 0)
}

/// Ends every session of the user (a password reset: whoever knew the old one is out).
pub async fn delete_sessions_tx(tx: &mut Tx, user_id: &UserId) -> Result<u64> {
    tx.execute("DELETE FROM user_sessions WHERE user_id = $1", args![user_id]).await
}
