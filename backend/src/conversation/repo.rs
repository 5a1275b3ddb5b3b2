//! SQL of comments, reactions and the reports of comments.

use types::{CommentId, FlagId, LegacyId, MediaId, ReactionKind, StoryId, SubjectKind, UserId};

use crate::args;
use crate::conversation::model::{CommentRow, ReactionRow, Thread};
use crate::db::{Db, Tx};
use crate::error::Result;
use crate::time::{new_id, now_millis};

const COMMENT_SELECT: &str = "SELECT c.id, c.legacy_id, c.story_id, c.media_id, c.parent_id, c.author_id, \
     u.display_name AS author_name, c.body, c.created_at, c.edited_at, c.deleted_at, c.version \
     FROM comments c JOIN users u ON u.id = c.author_id";

/// The column of `comments` (and `reactions`) naming the thread's kind of thing.
fn thread_column(thread: &Thread) -> &'static str {
    match thread {
        Thread::Story(_) => "story_id",
        Thread::Media(_) => "media_id",
    }
}

pub async fn find(db: &Db, id: &CommentId) -> Result<Option<CommentRow>> {
    db.fetch_optional(&format!("{COMMENT_SELECT} WHERE c.id = $1"), args![id]).await
}

/// Every comment on the story or item, deleted ones included, oldest first.
pub async fn comments_on(db: &Db, thread: &Thread) -> Result<Vec<CommentRow>> {
    let sql = format!("{COMMENT_SELECT} WHERE c.{} = $1 ORDER BY c.created_at, c.id", thread_column(thread));
    db.fetch_all(&sql, args![thread.id()]).await
}

/// The reactions on the story or item and on its comments, oldest first.
pub async fn reactions_in(db: &Db, thread: &Thread) -> Result<Vec<ReactionRow>> {
    let column = thread_column(thread);
    let sql = format!(
        "SELECT r.subject_id, r.user_id, u.display_name, r.reaction FROM reactions r \
         JOIN users u ON u.id = r.user_id \
         WHERE r.{column} = $1 OR r.comment_id IN (SELECT id FROM comments WHERE {column} = $1) \
         ORDER BY r.created_at, u.display_name"
    );
    db.fetch_all(&sql, args![thread.id()]).await
}

/// The reactions on one thing, oldest first.
pub async fn reactions_on(db: &Db, subject_id: &str) -> Result<Vec<ReactionRow>> {
    let sql = "SELECT r.subject_id, r.user_id, u.display_name, r.reaction FROM reactions r \
               JOIN users u ON u.id = r.user_id WHERE r.subject_id = $1 ORDER BY r.created_at, u.display_name";
    db.fetch_all(sql, args![subject_id]).await
}

pub struct NewComment<'a> {
    pub id: &'a CommentId,
    pub legacy_id: &'a LegacyId,
    pub thread: &'a Thread,
    pub parent_id: Option<&'a CommentId>,
    pub author_id: &'a UserId,
    pub body: &'a str,
    pub created_at: i64,
}

pub async fn insert_tx(tx: &mut Tx, c: &NewComment<'_>) -> Result<()> {
    let sql = "INSERT INTO comments (id, legacy_id, story_id, media_id, parent_id, author_id, body, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let args = args![
        c.id,
        c.legacy_id,
        c.thread.story_id(),
        c.thread.media_id(),
        c.parent_id,
        c.author_id,
        c.body,
        c.created_at
    ];
    tx.execute(sql, args).await?;
    Ok(())
}

/// Changes the text if the comment is still at `version` and not deleted; false otherwise.
pub async fn update_body_tx(tx: &mut Tx, id: &CommentId, body: &str, version: i64) -> Result<bool> {
    let sql = "UPDATE comments SET body = $2, edited_at = $3, version = version + 1 \
               WHERE id = $1 AND version = $4 AND deleted_at IS NULL";
    Ok(tx.execute(sql, args![id, body, now_millis(), version]).await? > 0)
}

/// Deletes the comment: its text goes at once; the row stays while replies hang from it.
/// False when it was already deleted.
pub async fn delete_tx(tx: &mut Tx, id: &CommentId, by: &UserId) -> Result<bool> {
    let sql = "UPDATE comments SET body = '', deleted_at = $2, deleted_by = $3, version = version + 1 \
               WHERE id = $1 AND deleted_at IS NULL";
    Ok(tx.execute(sql, args![id, now_millis(), by]).await? > 0)
}

/// What a reaction is on, as its row records it.
pub struct ReactionTarget<'a> {
    pub subject: SubjectKind,
    pub subject_id: &'a str,
    pub legacy_id: &'a LegacyId,
    pub thread: Option<&'a Thread>,
    pub comment_id: Option<&'a CommentId>,
}

/// Adds the reaction; false when the user had it already.
pub async fn add_reaction_tx(
    tx: &mut Tx,
    on: &ReactionTarget<'_>,
    user_id: &UserId,
    reaction: ReactionKind,
) -> Result<bool> {
    let sql = "INSERT INTO reactions (subject_id, user_id, reaction, subject, legacy_id, story_id, media_id, \
               comment_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
               ON CONFLICT (subject_id, user_id, reaction) DO NOTHING";
    let thread = on.thread;
    let args = args![
        on.subject_id,
        user_id,
        reaction,
        on.subject,
        on.legacy_id,
        thread.and_then(Thread::story_id),
        thread.and_then(Thread::media_id),
        on.comment_id,
        now_millis()
    ];
    Ok(tx.execute(sql, args).await? > 0)
}

/// Takes the reaction away; false when the user did not have it.
pub async fn remove_reaction_tx(
    tx: &mut Tx,
    subject_id: &str,
    user_id: &UserId,
    reaction: ReactionKind,
) -> Result<bool> {
    let sql = "DELETE FROM reactions WHERE subject_id = $1 AND user_id = $2 AND reaction = $3";
    Ok(tx.execute(sql, args![subject_id, user_id, reaction]).await? > 0)
}

pub async fn has_reaction(db: &Db, subject_id: &str, user_id: &UserId, reaction: ReactionKind) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM reactions WHERE subject_id = $1 AND user_id = $2 AND reaction = $3";
    Ok(db.scalar::<i64>(sql, args![subject_id, user_id, reaction]).await? > 0)
}

/// Reports the comment to the legacy's moderators (with the story it is on, for the link).
pub async fn insert_media_flag(
    db: &Db,
    media_id: &MediaId,
    story_id: Option<&StoryId>,
    legacy_id: &LegacyId,
    by: &UserId,
    reason: &str,
) -> Result<FlagId> {
    let id = FlagId::new(new_id());
    let sql = "INSERT INTO moderation_flags (id, subject, story_id, media_id, legacy_id, flagged_by, reason, \
               created_at) VALUES ($1, 'media', $2, $3, $4, $5, $6, $7)";
    db.execute(sql, args![&id, story_id, media_id, legacy_id, by, reason, now_millis()]).await?;
    Ok(id)
}

pub async fn insert_flag(db: &Db, comment: &CommentRow, by: &UserId, reason: &str) -> Result<FlagId> {
    let id = FlagId::new(new_id());
    let sql = "INSERT INTO moderation_flags (id, subject, story_id, comment_id, legacy_id, flagged_by, reason, \
               created_at) VALUES ($1, 'comment', $2, $3, $4, $5, $6, $7)";
    db.execute(sql, args![&id, &comment.story_id, &comment.id, &comment.legacy_id, by, reason, now_millis()]).await?;
    Ok(id)
}
