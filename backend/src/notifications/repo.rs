//! SQL of notifications and their preferences.

use types::{Delivery, Digest, LegacyId, NotificationId, NotificationKind, UserId};

use crate::args;
use crate::db::{Conn, Db, Tx};
use crate::error::Result;
use crate::notifications::model::{NotificationRow, Place};
use crate::stories::repo::readable_story_sql;
use crate::time::new_id;

/// A notification's columns with the names it shows (`n` the notification), joined to
/// the reader's membership `m` (see [`still_visible`]).
const VIEW: &str = "SELECT n.id, n.kind, n.legacy_id, l.name AS legacy_name, \
    COALESCE(u.display_name, '') AS actor_name, n.story_id, COALESCE(s.title, '') AS story_title, n.media_id, \
    n.comment_id, n.invitation_id, n.created_at, n.read_at FROM notifications n \
    LEFT JOIN memberships m ON m.legacy_id = n.legacy_id AND m.user_id = n.user_id \
    JOIN legacies l ON l.id = n.legacy_id \
    LEFT JOIN users u ON u.id = n.actor_id \
    LEFT JOIN stories s ON s.id = n.story_id";

/// What the reader (`$1`, a member through `m`) may still see: an invitation made to
/// them (a member or not); otherwise, while a member (one who left sees none of the
/// legacy's), notifications of stories they may read and of comments not deleted since.
fn still_visible() -> String {
    format!(
        "(n.invitation_id IS NOT NULL OR m.user_id IS NOT NULL) \
         AND (n.story_id IS NULL OR (s.id IS NOT NULL AND {})) \
         AND (n.comment_id IS NULL OR EXISTS (SELECT 1 FROM comments c WHERE c.id = n.comment_id \
             AND c.deleted_at IS NULL))",
        readable_story_sql("$1")
    )
}

/// Whether `event_id` was turned into notifications already.
pub async fn is_notified_tx(tx: &mut Tx, event_id: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM notifications WHERE event_id = $1";
    Ok(tx.scalar::<i64>(sql, args![event_id]).await? > 0)
}

/// Whether `user_id` was told of `story_id` as `kind` before (a story is new, and
/// mentions someone, once).
pub async fn was_told_of_story(db: &Db, user_id: &UserId, story_id: &str, kind: NotificationKind) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND story_id = $2 AND kind = $3 \
               AND comment_id IS NULL";
    Ok(db.scalar::<i64>(sql, args![user_id, story_id, kind]).await? > 0)
}

/// One notification; `digest` is the digest it waits for, `emailed_at` set when it is
/// emailed at once.
#[allow(clippy::too_many_arguments)]
pub async fn insert_tx(
    tx: &mut Tx,
    id: &NotificationId,
    user_id: &UserId,
    kind: NotificationKind,
    event_id: &str,
    actor_id: Option<&UserId>,
    place: &Place,
    digest: Option<Digest>,
    emailed_at: Option<i64>,
    at: i64,
) -> Result<()> {
    let sql = "INSERT INTO notifications (id, user_id, kind, event_id, legacy_id, actor_id, story_id, media_id, \
               comment_id, invitation_id, created_at, digest, emailed_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    let args = args![
        id,
        user_id,
        kind,
        event_id,
        &place.legacy_id,
        actor_id,
        &place.story_id,
        &place.media_id,
        &place.comment_id,
        &place.invitation_id,
        at,
        digest.map(Digest::as_str),
        emailed_at
    ];
    tx.execute(sql, args).await?;
    Ok(())
}

/// One notification as its reader sees it, if it is theirs and they may still see it.
pub async fn find(conn: impl Into<Conn<'_>>, user_id: &UserId, id: &NotificationId) -> Result<Option<NotificationRow>> {
    let sql = format!("{VIEW} WHERE n.user_id = $1 AND n.id = $2 AND {}", still_visible());
    conn.into().fetch_optional(&sql, args![user_id, id]).await
}

/// The reader's notifications, newest first, after the position `after`.
pub async fn list(db: &Db, user_id: &UserId, after: Option<(i64, String)>, limit: i64) -> Result<Vec<NotificationRow>> {
    let mut args = args![user_id];
    let mut sql = format!("{VIEW} WHERE n.user_id = $1 AND {}", still_visible());
    if let Some((time, id)) = after {
        let (time, id) = (args.placeholder(time), args.placeholder(id));
        sql += &format!(" AND (n.created_at < {time} OR (n.created_at = {time} AND n.id < {id}))");
    }
    sql += &format!(" ORDER BY n.created_at DESC, n.id DESC LIMIT {}", args.placeholder(limit));
    db.fetch_all(&sql, args).await
}

/// How many of the reader's notifications are unread (what the bell shows).
pub async fn unread(db: &Db, user_id: &UserId) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM notifications n \
         LEFT JOIN memberships m ON m.legacy_id = n.legacy_id AND m.user_id = n.user_id \
         LEFT JOIN stories s ON s.id = n.story_id \
         WHERE n.user_id = $1 AND n.read_at IS NULL AND {}",
        still_visible()
    );
    db.scalar(&sql, args![user_id]).await
}

/// Marks one notification read; how many rows changed (0: not theirs, or read already).
pub async fn mark_read(db: &Db, user_id: &UserId, id: &NotificationId, at: i64) -> Result<u64> {
    let sql = "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND id = $2 AND read_at IS NULL";
    db.execute(sql, args![user_id, id, at]).await
}

/// Whether the notification is the reader's (read or not).
pub async fn exists(db: &Db, user_id: &UserId, id: &NotificationId) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND id = $2";
    Ok(db.scalar::<i64>(sql, args![user_id, id]).await? > 0)
}

pub async fn mark_all_read(db: &Db, user_id: &UserId, at: i64) -> Result<u64> {
    let sql = "UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL";
    db.execute(sql, args![user_id, at]).await
}

/// The deliveries the member chose (kinds left at their default have no row).
pub async fn preferences(db: &Db, user_id: &UserId) -> Result<Vec<(NotificationKind, Delivery)>> {
    let sql = "SELECT kind, delivery FROM notification_preferences WHERE user_id = $1";
    db.fetch_all(sql, args![user_id]).await
}

pub async fn set_preference_tx(
    tx: &mut Tx,
    user_id: &UserId,
    kind: NotificationKind,
    delivery: Delivery,
) -> Result<()> {
    tx.execute("DELETE FROM notification_preferences WHERE user_id = $1 AND kind = $2", args![user_id, kind]).await?;
    let sql = "INSERT INTO notification_preferences (user_id, kind, delivery) VALUES ($1, $2, $3)";
    tx.execute(sql, args![user_id, kind, delivery]).await?;
    Ok(())
}

/// Whether the member follows the legacy now: their last change, or (none) following.
pub async fn is_following(db: &Db, user_id: &UserId, legacy_id: &LegacyId) -> Result<bool> {
    let sql = "SELECT state FROM legacy_follow_changes WHERE user_id = $1 AND legacy_id = $2 \
               ORDER BY at DESC, id DESC LIMIT 1";
    let last: Option<(String,)> = db.fetch_optional(sql, args![user_id, legacy_id]).await?;
    Ok(last.is_none_or(|(state,)| state == FOLLOWING))
}

/// Records that the member follows the legacy from `at` on, or stops.
pub async fn set_following(db: &Db, user_id: &UserId, legacy_id: &LegacyId, following: bool, at: i64) -> Result<()> {
    let state = if following { FOLLOWING } else { STOPPED };
    let sql = "INSERT INTO legacy_follow_changes (id, user_id, legacy_id, state, at) VALUES ($1, $2, $3, $4, $5)";
    db.execute(sql, args![new_id(), user_id, legacy_id, state, at]).await?;
    Ok(())
}

/// The members who had stopped following the legacy at `at` (their last change by then).
pub async fn unfollowers_at(db: &Db, legacy_id: &LegacyId, at: i64) -> Result<Vec<UserId>> {
    let sql = "SELECT c.user_id FROM legacy_follow_changes c \
               WHERE c.legacy_id = $1 AND c.at <= $2 AND c.state = $3 \
               AND NOT EXISTS (SELECT 1 FROM legacy_follow_changes d \
                   WHERE d.legacy_id = c.legacy_id AND d.user_id = c.user_id AND d.at <= $2 \
                   AND (d.at > c.at OR (d.at = c.at AND d.id > c.id)))";
    db.fetch_all::<(UserId,)>(sql, args![legacy_id, at, STOPPED])
        .await
        .map(|rows| rows.into_iter().map(|r| r.0).collect())
}

const FOLLOWING: &str = "following";
const STOPPED: &str = "stopped";

/// The members with notifications waiting for a `digest` since `before` or earlier.
pub async fn digests_due(db: &Db, digest: Digest, before: i64) -> Result<Vec<UserId>> {
    let sql = "SELECT user_id FROM notifications WHERE digest = $1 AND emailed_at IS NULL \
               GROUP BY user_id HAVING MIN(created_at) <= $2";
    db.fetch_all::<(UserId,)>(sql, args![digest, before]).await.map(|rows| rows.into_iter().map(|r| r.0).collect())
}

/// Takes what waits for the member's `digest` (so no other replica sends it too); the
/// ids taken.
pub async fn take_digest_tx(tx: &mut Tx, user_id: &UserId, digest: Digest, at: i64) -> Result<Vec<NotificationId>> {
    let sql = "UPDATE notifications SET emailed_at = $3 WHERE user_id = $1 AND digest = $2 AND emailed_at IS NULL \
               RETURNING id";
    tx.fetch_all::<(NotificationId,)>(sql, args![user_id, digest, at])
        .await
        .map(|rows| rows.into_iter().map(|r| r.0).collect())
}

/// Of the notifications `ids`, those still unread and visible to the member, newest first.
pub async fn unread_of_tx(tx: &mut Tx, user_id: &UserId, ids: &[NotificationId]) -> Result<Vec<NotificationRow>> {
    let mut args = args![user_id];
    let list = ids.iter().map(|id| args.placeholder(id)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "{VIEW} WHERE n.user_id = $1 AND n.read_at IS NULL AND n.id IN ({list}) AND {} \
         ORDER BY n.created_at DESC, n.id DESC",
        still_visible()
    );
    tx.fetch_all(&sql, args).await
}
