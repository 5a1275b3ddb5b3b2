//! SQL of the email queue.

use types::EmailId;

use crate::args;
use crate::db::{Db, Tx};
use crate::error::Result;
use crate::time::now_millis;

/// An email as queued: who gets it, what kind it is, and its sealed subject and bodies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailRow {
    pub id: EmailId,
    pub to_address: String,
    pub kind: String,
    pub subject: String,
    /// The sealed [`super::Composed`]; cleared once sent.
    pub sealed_body: Option<String>,
    pub status: String,
    pub attempts: i64,
}

/// Queues an email of `kind` to `to`: its subject in the clear, its text sealed.
pub async fn insert(tx: &mut Tx, id: &EmailId, to: &str, kind: &str, subject: &str, sealed_body: &str) -> Result<()> {
    let sql = "INSERT INTO emails (id, to_address, kind, subject, sealed_body, status, created_at) \
               VALUES ($1, $2, $3, $4, $5, 'queued', $6)";
    tx.execute(sql, args![id, to, kind, subject, sealed_body, now_millis()]).await?;
    Ok(())
}

/// Takes the email for one sending attempt until `lease_until`: it must be queued, or
/// being sent by a sender whose lease ran out. `None` when it was sent or someone else
/// holds it, which is what makes a redelivered event harmless.
pub async fn claim(db: &Db, id: &EmailId, now: i64, lease_until: i64) -> Result<Option<EmailRow>> {
    let sql = "UPDATE emails SET status = 'sending', attempts = attempts + 1, lease_until = $3 \
               WHERE id = $1 AND (status = 'queued' OR (status = 'sending' AND lease_until < $2)) \
               RETURNING id, to_address, kind, subject, sealed_body, status, attempts";
    db.fetch_optional(sql, args![id, now, lease_until]).await
}

/// The email's status (`queued`, `sending` or `sent`), if it exists.
pub async fn status(db: &Db, id: &EmailId) -> Result<Option<String>> {
    db.scalar_optional("SELECT status FROM emails WHERE id = $1", args![id]).await
}

/// Sent: the sealed text goes (the row keeps who got what kind, and when).
pub async fn mark_sent(db: &Db, id: &EmailId, now: i64) -> Result<()> {
    let sql = "UPDATE emails SET status = 'sent', sent_at = $2, sealed_body = NULL, lease_until = NULL, \
               last_error = NULL WHERE id = $1";
    db.execute(sql, args![id, now]).await?;
    Ok(())
}

/// Not sent this time: queued again for the next delivery of its event.
pub async fn mark_failed(db: &Db, id: &EmailId, error: &str) -> Result<()> {
    let sql = "UPDATE emails SET status = 'queued', lease_until = NULL, last_error = $2 WHERE id = $1";
    db.execute(sql, args![id, error]).await?;
    Ok(())
}
