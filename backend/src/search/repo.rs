//! The SQL search needs: current rows to index (one, or all in keyset pages for a
//! rebuild), a reader's memberships, and the marks that tell whether an index is behind.

use types::LegacyRole;

use crate::args;
use crate::db::{placeholders, Args, Db, Row};
use crate::error::Result;

/// A story as the index needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoryDocRow {
    pub id: String,
    pub legacy_id: String,
    pub legacy_name: String,
    pub author_id: String,
    pub author_name: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub visibility: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

/// A legacy as the index needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LegacyDocRow {
    pub id: String,
    pub name: String,
    pub born: String,
    pub died: String,
    pub summary: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub has_public_story: bool,
}

/// A processed media item as the index needs it, with the story it belongs to (whose
/// readers may see it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaDocRow {
    pub id: String,
    pub legacy_id: String,
    pub legacy_name: String,
    pub uploader_id: String,
    pub uploader_name: String,
    pub file_name: String,
    pub caption: String,
    pub story_id: Option<String>,
    pub story_author_id: Option<String>,
    pub story_visibility: Option<String>,
    pub story_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The names of the people tagged in it who are not living ([`add_tagged_people`]).
    #[sqlx(skip)]
    pub people: Vec<String>,
}

/// A tagged person's names, as [`add_tagged_people`] reads them.
#[derive(sqlx::FromRow)]
struct TaggedName {
    media_id: String,
    given_names: String,
    surname: String,
    birth_surname: String,
    nicknames: String,
}

/// Fills in who is tagged in each item: every name form of each person who is not
/// living (a living person's name would let anyone who may see the item find it by
/// them, though the person is hidden from most readers).
pub async fn add_tagged_people(db: &Db, rows: &mut [MediaDocRow]) -> Result<()> {
    for chunk in rows.chunks_mut(500) {
        let sql = format!(
            "SELECT mp.media_id, p.given_names, p.surname, p.birth_surname, p.nicknames FROM media_people mp \
             JOIN persons p ON p.id = mp.person_id WHERE NOT p.living AND mp.media_id IN ({}) \
             ORDER BY mp.created_at, p.id",
            placeholders(1, chunk.len())
        );
        let args = Args(chunk.iter().map(|row| row.id.as_str().into()).collect());
        let names: Vec<TaggedName> = db.fetch_all(&sql, args).await?;
        for row in chunk.iter_mut() {
            row.people = names
                .iter()
                .filter(|n| n.media_id == row.id)
                .flat_map(|n| {
                    let full = format!("{} {}", n.given_names, n.surname).trim().to_string();
                    let born = format!("{} {}", n.given_names, n.birth_surname).trim().to_string();
                    [full, born].into_iter().chain(n.nicknames.lines().map(str::to_string))
                })
                .filter(|name| !name.is_empty())
                .collect();
            row.people.dedup();
        }
    }
    Ok(())
}

/// Ids of the items a person is tagged in.
pub async fn media_of_person(db: &Db, person_id: &str) -> Result<Vec<String>> {
    db.scalars("SELECT media_id FROM media_people WHERE person_id = $1 ORDER BY media_id", args![person_id]).await
}

/// Ids of the people of a legacy.
pub async fn person_ids_of_legacy(db: &Db, legacy_id: &str) -> Result<Vec<String>> {
    db.scalars("SELECT id FROM persons WHERE legacy_id = $1 ORDER BY id", args![legacy_id]).await
}

const MEDIA_SELECT: &str = "SELECT m.id, m.legacy_id, l.name AS legacy_name, m.uploader_id, \
    u.display_name AS uploader_name, m.file_name, m.caption, m.story_id, s.author_id AS story_author_id, \
    s.visibility AS story_visibility, s.status AS story_status, m.created_at, m.updated_at \
    FROM media m JOIN legacies l ON l.id = m.legacy_id JOIN users u ON u.id = m.uploader_id \
    LEFT JOIN stories s ON s.id = m.story_id";

/// A media item if it is ready to be found (processed, not refused).
pub async fn find_media(db: &Db, id: &str) -> Result<Option<MediaDocRow>> {
    let sql = format!("{MEDIA_SELECT} WHERE m.id = $1 AND m.state = 'ready'");
    db.fetch_optional(&sql, args![id]).await
}

pub async fn media_after(db: &Db, after_id: &str, limit: i64) -> Result<Vec<MediaDocRow>> {
    page_after(db, &format!("{MEDIA_SELECT} WHERE m.state = 'ready' AND"), "m.id", after_id, limit).await
}

/// A keyset page of a rebuild: up to `limit` rows of `select` (which ends in `WHERE` or
/// `AND`) whose `id` sorts after `after_id`, in id order.
async fn page_after<T: Row>(db: &Db, select: &str, id: &str, after_id: &str, limit: i64) -> Result<Vec<T>> {
    db.fetch_all(&format!("{select} {id} > $1 ORDER BY {id} LIMIT $2"), args![after_id, limit]).await
}

/// Ids of the media of a story (`story_id`) or of a whole legacy (`legacy_id`).
pub async fn media_ids(db: &Db, legacy_id: Option<&str>, story_id: Option<&str>) -> Result<Vec<String>> {
    let mut args = args![];
    let mut sql = "SELECT id FROM media WHERE TRUE".to_string();
    if let Some(legacy_id) = legacy_id {
        sql += &format!(" AND legacy_id = {}", args.placeholder(legacy_id));
    }
    if let Some(story_id) = story_id {
        sql += &format!(" AND story_id = {}", args.placeholder(story_id));
    }
    db.scalars(&(sql + " ORDER BY id"), args).await
}

const STORY_SELECT: &str = "SELECT s.id, s.legacy_id, l.name AS legacy_name, s.author_id, \
    a.display_name AS author_name, s.title, s.body, s.visibility, s.status, s.created_at, s.updated_at, \
    s.published_at FROM stories s JOIN legacies l ON l.id = s.legacy_id JOIN users a ON a.id = s.author_id";

const LEGACY_SELECT: &str = "SELECT l.id, l.name, l.born, l.died, l.summary, l.created_at, l.updated_at, \
    EXISTS (SELECT 1 FROM stories s WHERE s.legacy_id = l.id AND s.visibility = 'public' \
        AND s.status = 'published') AS has_public_story FROM legacies l";

pub async fn find_story(db: &Db, id: &str) -> Result<Option<StoryDocRow>> {
    let sql = format!("{STORY_SELECT} WHERE s.id = $1");
    db.fetch_optional(&sql, args![id]).await
}

pub async fn story_tags(db: &Db, story_id: &str) -> Result<Vec<String>> {
    let sql = "SELECT tag FROM story_tags WHERE story_id = $1 ORDER BY tag";
    db.scalars(sql, args![story_id]).await
}

/// Up to `limit` stories with ids after `after_id`, in id order (a keyset page).
pub async fn stories_after(db: &Db, after_id: &str, limit: i64) -> Result<Vec<StoryDocRow>> {
    page_after(db, &format!("{STORY_SELECT} WHERE"), "s.id", after_id, limit).await
}

/// `(story_id, tag)` for stories with ids in `(after_id, last_id]`: the tags of one
/// keyset page in one query.
pub async fn tags_in_range(db: &Db, after_id: &str, last_id: &str) -> Result<Vec<(String, String)>> {
    let sql = "SELECT story_id, tag FROM story_tags WHERE story_id > $1 AND story_id <= $2 ORDER BY story_id, tag";
    db.fetch_all(sql, args![after_id, last_id]).await
}

pub async fn story_ids_of_legacy(db: &Db, legacy_id: &str) -> Result<Vec<String>> {
    let sql = "SELECT id FROM stories WHERE legacy_id = $1 ORDER BY id";
    db.scalars(sql, args![legacy_id]).await
}

pub async fn find_legacy(db: &Db, id: &str) -> Result<Option<LegacyDocRow>> {
    let sql = format!("{LEGACY_SELECT} WHERE l.id = $1");
    db.fetch_optional(&sql, args![id]).await
}

pub async fn legacies_after(db: &Db, after_id: &str, limit: i64) -> Result<Vec<LegacyDocRow>> {
    page_after(db, &format!("{LEGACY_SELECT} WHERE"), "l.id", after_id, limit).await
}

/// The legacies a user belongs to, with their role.
pub async fn memberships(db: &Db, user_id: &str) -> Result<Vec<(String, LegacyRole)>> {
    let sql = "SELECT legacy_id, role FROM memberships WHERE user_id = $1";
    db.fetch_all(sql, args![user_id]).await
}

/// The newest outbox message id (ids are UUIDv7, so they sort by time), or "".
pub async fn latest_outbox_message(db: &Db) -> Result<String> {
    let sql = "SELECT MAX(message_id) FROM outbox";
    Ok(db.scalar::<Option<String>>(sql, args![]).await?.unwrap_or_default())
}

/// The newest event `consumer` has recorded as handled, or "".
pub async fn latest_processed(db: &Db, consumer: &str) -> Result<String> {
    let sql = "SELECT MAX(message_id) FROM processed_events WHERE consumer = $1";
    Ok(db.scalar::<Option<String>>(sql, args![consumer]).await?.unwrap_or_default())
}

/// `(stories, legacies)` in the database.
pub async fn counts(db: &Db) -> Result<(u64, u64)> {
    let sql = "SELECT (SELECT COUNT(*) FROM stories), (SELECT COUNT(*) FROM legacies)";
    let (stories, legacies): (i64, i64) = db.fetch_one(sql, args![]).await?;
    Ok((stories.max(0) as u64, legacies.max(0) as u64))
}
