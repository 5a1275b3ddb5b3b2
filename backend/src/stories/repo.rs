//! SQL for legacies, memberships, invitations, stories, revisions, tags, flags and
//! idempotency keys, written once for both engines.

use std::collections::HashMap;

use types::{FlagId, InvitationId, LegacyId, LegacyRole, PersonId, StoryId, StoryStatus, UserId, Visibility};

use crate::args;
use crate::db::{Args, Conn, Db, Tx};
use crate::error::Result;
use crate::stories::model::{FlagRow, LegacyRow, LegacyText, MemberRow, OpenFlag, RevisionRow, StoryRow};
use crate::time::{new_id, now_millis};

// --- legacies and members ---

const LEGACY_COLUMNS: &str = "id, name, born, died, summary, cover_url, created_by, created_at, updated_at, version";

pub async fn insert_legacy_tx(tx: &mut Tx, row: &LegacyRow) -> Result<()> {
    let sql = format!("INSERT INTO legacies ({LEGACY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    let args = args![
        &row.id,
        &row.name,
        &row.born,
        &row.died,
        &row.summary,
        &row.cover_url,
        &row.created_by,
        row.created_at,
        row.updated_at,
        row.version
    ];
    tx.execute(&sql, args).await?;
    Ok(())
}

/// Writes a legacy's new text when it is still at `version`; false when it is not (or is gone).
pub async fn update_legacy_tx(tx: &mut Tx, id: &LegacyId, version: i64, text: &LegacyText, at: i64) -> Result<bool> {
    let sql = "UPDATE legacies SET name = $1, born = $2, died = $3, summary = $4, updated_at = $5, \
               version = version + 1 WHERE id = $6 AND version = $7";
    let args = args![&text.name, &text.born, &text.died, &text.summary, at, id, version];
    Ok(tx.execute(sql, args).await? == 1)
}

pub async fn find_legacy(db: &Db, id: &LegacyId) -> Result<Option<LegacyRow>> {
    db.fetch_optional(&format!("SELECT {LEGACY_COLUMNS} FROM legacies WHERE id = $1"), args![id]).await
}

/// Legacies the user belongs to, with their role, most recently changed first.
pub async fn legacies_of(db: &Db, user_id: &UserId) -> Result<Vec<(LegacyRow, LegacyRole)>> {
    let sql = "SELECT l.id, l.name, l.born, l.died, l.summary, l.cover_url, l.created_by, l.created_at, l.updated_at, \
               l.version, m.role FROM legacies l JOIN memberships m ON m.legacy_id = l.id \
               WHERE m.user_id = $1 ORDER BY l.updated_at DESC, l.id";
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        legacy: LegacyRow,
        role: LegacyRole,
    }
    let rows: Vec<Row> = db.fetch_all(sql, args![user_id]).await?;
    Ok(rows.into_iter().map(|r| (r.legacy, r.role)).collect())
}

pub async fn role(db: &Db, legacy_id: &LegacyId, user_id: &UserId) -> Result<Option<LegacyRole>> {
    let sql = "SELECT role FROM memberships WHERE legacy_id = $1 AND user_id = $2";
    db.scalar_optional(sql, args![legacy_id, user_id]).await
}

pub async fn add_member_tx(tx: &mut Tx, legacy_id: &LegacyId, user_id: &UserId, role: LegacyRole) -> Result<bool> {
    let sql = "INSERT INTO memberships (legacy_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (legacy_id, user_id) DO NOTHING";
    Ok(tx.execute(sql, args![legacy_id, user_id, role, now_millis()]).await? > 0)
}

pub async fn members(db: &Db, legacy_id: &LegacyId) -> Result<Vec<MemberRow>> {
    let sql = "SELECT m.user_id, u.display_name, u.email, m.role, m.created_at FROM memberships m \
               JOIN users u ON u.id = m.user_id WHERE m.legacy_id = $1 ORDER BY m.created_at, u.display_name";
    db.fetch_all(sql, args![legacy_id]).await
}

/// The accounts of the people a story mentions ("this is me" links), once each.
pub async fn mentioned_users(db: &Db, story_id: &StoryId) -> Result<Vec<UserId>> {
    let sql = "SELECT DISTINCT p.user_id FROM story_mentions sm JOIN persons p ON p.id = sm.person_id \
               WHERE sm.story_id = $1 AND p.user_id IS NOT NULL";
    let rows: Vec<(UserId,)> = db.fetch_all(sql, args![story_id]).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn set_member_role_tx(tx: &mut Tx, legacy_id: &LegacyId, user_id: &UserId, role: LegacyRole) -> Result<bool> {
    let sql = "UPDATE memberships SET role = $3 WHERE legacy_id = $1 AND user_id = $2";
    Ok(tx.execute(sql, args![legacy_id, user_id, role]).await? > 0)
}

pub async fn remove_member_tx(tx: &mut Tx, legacy_id: &LegacyId, user_id: &UserId) -> Result<bool> {
    let sql = "DELETE FROM memberships WHERE legacy_id = $1 AND user_id = $2";
    Ok(tx.execute(sql, args![legacy_id, user_id]).await? > 0)
}

pub async fn owner_count_tx(tx: &mut Tx, legacy_id: &LegacyId) -> Result<i64> {
    tx.scalar("SELECT COUNT(*) FROM memberships WHERE legacy_id = $1 AND role = 'owner'", args![legacy_id]).await
}

pub async fn legacy_has_public_story(db: &Db, legacy_id: &LegacyId) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM stories WHERE legacy_id = $1 AND visibility = 'public' AND status = 'published'";
    Ok(db.scalar::<i64>(sql, args![legacy_id]).await? > 0)
}

// --- invitations ---

/// A new invitation; `invited_user_id` is the account whose verified address it was
/// emailed to, which may also open it by `id`.
#[allow(clippy::too_many_arguments)]
pub async fn insert_invitation(
    tx: &mut Tx,
    id: &InvitationId,
    token_hash: &str,
    legacy_id: &LegacyId,
    role: LegacyRole,
    by: &UserId,
    invited_user_id: Option<&UserId>,
    expires_at: i64,
) -> Result<()> {
    let sql = "INSERT INTO legacy_invitations (id, token_hash, legacy_id, role, created_by, invited_user_id, \
               created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    tx.execute(sql, args![id, token_hash, legacy_id, role, by, invited_user_id, now_millis(), expires_at]).await?;
    Ok(())
}

/// Which open invitation `key` names for `user_id`: the emailed link's token (by its
/// hash), or the invitation's id when it was made for them.
const OPEN_INVITATION: &str = "(token_hash = $1 OR (id = $2 AND invited_user_id = $3)) \
    AND used_at IS NULL AND expires_at > $4";

/// Marks an open invitation used; returns the legacy and role it grants.
pub async fn consume_invitation_tx(
    tx: &mut Tx,
    token_hash: &str,
    id: &str,
    user_id: &UserId,
) -> Result<Option<(LegacyId, LegacyRole)>> {
    let sql = format!(
        "UPDATE legacy_invitations SET used_by = $3, used_at = $4 WHERE {OPEN_INVITATION} RETURNING legacy_id, role"
    );
    tx.fetch_optional(&sql, args![token_hash, id, user_id, now_millis()]).await
}

/// The legacy an open invitation is for (to show before accepting).
pub async fn invitation_legacy(
    db: &Db,
    token_hash: &str,
    id: &str,
    user_id: &UserId,
) -> Result<Option<(LegacyId, LegacyRole)>> {
    let sql = format!("SELECT legacy_id, role FROM legacy_invitations WHERE {OPEN_INVITATION}");
    db.fetch_optional(&sql, args![token_hash, id, user_id, now_millis()]).await
}

// --- idempotency ---

/// Records that `key` created `resource_id`; if the key was used before, returns what it
/// created then (and records nothing).
pub async fn claim_idempotency_key_tx(
    tx: &mut Tx,
    user_id: &UserId,
    scope: &str,
    key: &str,
    resource_id: &str,
) -> Result<Option<String>> {
    let insert =
        "INSERT INTO idempotency_keys (user_id, scope, key, resource_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                  ON CONFLICT (user_id, scope, key) DO NOTHING";
    if tx.execute(insert, args![user_id, scope, key, resource_id, now_millis()]).await? > 0 {
        return Ok(None);
    }
    let select = "SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3";
    tx.scalar_optional(select, args![user_id, scope, key]).await
}

// --- stories ---

const STORY_SELECT: &str =
    "SELECT s.id, s.legacy_id, l.name AS legacy_name, s.author_id, a.display_name AS author_name, \
    s.title, s.body, s.visibility, s.status, s.version, s.created_at, s.updated_at, s.updated_by, \
    u.display_name AS updated_by_name, s.published_at \
    FROM stories s JOIN legacies l ON l.id = s.legacy_id JOIN users a ON a.id = s.author_id \
    JOIN users u ON u.id = s.updated_by";

pub struct NewStoryRow<'a> {
    pub id: &'a StoryId,
    pub legacy_id: &'a LegacyId,
    pub author_id: &'a UserId,
    pub title: &'a str,
    pub body: &'a str,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub now: i64,
}

pub async fn insert_story_tx(tx: &mut Tx, s: &NewStoryRow<'_>) -> Result<()> {
    let sql = "INSERT INTO stories (id, legacy_id, author_id, title, body, visibility, status, version, created_at, \
               updated_at, updated_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $3, \
               CASE WHEN $7 = 'published' THEN $8 ELSE NULL END)";
    tx.execute(sql, args![s.id, s.legacy_id, s.author_id, s.title, s.body, s.visibility, s.status, s.now]).await?;
    Ok(())
}

/// A story's new content, written if the story is still at `expected_version`.
pub struct StoryChange<'a> {
    pub id: &'a StoryId,
    pub expected_version: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub by: &'a UserId,
    pub now: i64,
}

/// Writes the change; false when someone else saved first.
pub async fn update_story_tx(tx: &mut Tx, c: &StoryChange<'_>) -> Result<bool> {
    let sql = "UPDATE stories SET title = $3, body = $4, visibility = $5, status = $6, version = version + 1, \
               updated_at = $7, updated_by = $8, \
               published_at = CASE WHEN $6 = 'published' THEN COALESCE(published_at, $7) ELSE NULL END \
               WHERE id = $1 AND version = $2";
    let args = args![c.id, c.expected_version, c.title, c.body, c.visibility, c.status, c.now, c.by];
    Ok(tx.execute(sql, args).await? > 0)
}

pub async fn delete_story_tx(tx: &mut Tx, id: &StoryId) -> Result<bool> {
    Ok(tx.execute("DELETE FROM stories WHERE id = $1", args![id]).await? > 0)
}

pub async fn set_tags_tx(tx: &mut Tx, story_id: &StoryId, tags: &[String]) -> Result<()> {
    tx.execute("DELETE FROM story_tags WHERE story_id = $1", args![story_id]).await?;
    for tag in tags {
        tx.execute("INSERT INTO story_tags (story_id, tag) VALUES ($1, $2)", args![story_id, tag]).await?;
    }
    Ok(())
}

/// Keeps a story's mentions in step with its text: the people of its legacy among
/// `people` (a link to a person elsewhere, or to nobody, is not a mention).
pub async fn set_mentions_tx(tx: &mut Tx, story_id: &StoryId, legacy_id: &LegacyId, people: &[PersonId]) -> Result<()> {
    tx.execute("DELETE FROM story_mentions WHERE story_id = $1", args![story_id]).await?;
    for chunk in people.chunks(200) {
        let mut args = args![story_id, legacy_id];
        let list: Vec<String> = chunk.iter().map(|id| args.placeholder(id)).collect();
        let sql = format!(
            "INSERT INTO story_mentions (story_id, person_id) SELECT $1, id FROM persons \
             WHERE legacy_id = $2 AND id IN ({})",
            list.join(", ")
        );
        tx.execute(&sql, args).await?;
    }
    Ok(())
}

/// What a new revision holds.
pub struct NewRevision<'a> {
    pub version: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub author_id: &'a UserId,
    pub restored_from: Option<i64>,
    /// An autosave: its author's working copy, rewritten by their next autosave.
    pub autosave: bool,
}

pub async fn insert_revision_tx(tx: &mut Tx, story_id: &StoryId, r: &NewRevision<'_>) -> Result<()> {
    let sql = "INSERT INTO story_revisions (id, story_id, version, title, body, author_id, created_at, restored_from, \
               autosave) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let args =
        args![new_id(), story_id, r.version, r.title, r.body, r.author_id, now_millis(), r.restored_from, r.autosave];
    tx.execute(sql, args).await?;
    Ok(())
}

/// The newest revision of a story: what a save is compared with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestRevision {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub author_id: UserId,
    pub autosave: bool,
}

pub async fn latest_revision_tx(tx: &mut Tx, story_id: &StoryId) -> Result<Option<LatestRevision>> {
    let sql = "SELECT version, title, body, author_id, autosave FROM story_revisions WHERE story_id = $1 \
               ORDER BY version DESC LIMIT 1";
    tx.fetch_optional(sql, args![story_id]).await
}

/// Rewrites the revision at `version` in place (an author's working copy): it takes the
/// story's new version number, the new content and whether it is still a working copy.
pub async fn rewrite_revision_tx(tx: &mut Tx, story_id: &StoryId, version: i64, r: &NewRevision<'_>) -> Result<()> {
    let sql = "UPDATE story_revisions SET version = $3, title = $4, body = $5, created_at = $6, autosave = $7 \
               WHERE story_id = $1 AND version = $2";
    tx.execute(sql, args![story_id, version, r.version, r.title, r.body, now_millis(), r.autosave]).await?;
    Ok(())
}

/// A story with its legacy's and people's names; pass `&mut *tx` to see a transaction's
/// own writes.
pub async fn find_story<'c>(conn: impl Into<Conn<'c>>, id: &StoryId) -> Result<Option<StoryRow>> {
    conn.into().fetch_optional(&format!("{STORY_SELECT} WHERE s.id = $1"), args![id]).await
}

/// The tags of each of `story_ids` in one query (a page of stories), sorted per story.
pub async fn tags_of(db: &Db, story_ids: &[&StoryId]) -> Result<HashMap<StoryId, Vec<String>>> {
    let mut tags: HashMap<StoryId, Vec<String>> = HashMap::new();
    if story_ids.is_empty() {
        return Ok(tags);
    }
    let sql = format!(
        "SELECT story_id, tag FROM story_tags WHERE story_id IN ({}) ORDER BY story_id, tag",
        crate::db::placeholders(1, story_ids.len())
    );
    let rows: Vec<(StoryId, String)> =
        db.fetch_all(&sql, Args(story_ids.iter().map(|id| (*id).into()).collect())).await?;
    for (story_id, tag) in rows {
        tags.entry(story_id).or_default().push(tag);
    }
    Ok(tags)
}

pub async fn tags(db: &Db, story_id: &StoryId) -> Result<Vec<String>> {
    db.scalars("SELECT tag FROM story_tags WHERE story_id = $1 ORDER BY tag", args![story_id]).await
}

/// Filters for listing stories; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct StoryFilter {
    pub legacy_id: Option<LegacyId>,
    pub author_id: Option<UserId>,
    pub status: Option<StoryStatus>,
    pub visibility: Option<Visibility>,
    pub tag: Option<String>,
    /// Stories whose text mentions this person.
    pub person_id: Option<PersonId>,
}

/// The SQL form of `permissions::can_read`: story `s` may be read by the reader whose id
/// is bound at `reader`, `m` being their membership of its legacy (NULL columns when none).
/// The feed filters activity with it too.
pub(crate) fn readable_story_sql(reader: &str) -> String {
    format!(
        "(s.author_id = {reader} \
          OR (s.visibility = 'public' AND s.status = 'published') \
          OR (m.role IS NOT NULL AND s.visibility = 'members' AND s.status = 'published') \
          OR (m.role IN ('owner', 'editor') AND s.visibility <> 'private' AND s.status = 'draft'))"
    )
}

/// Stories the reader may read (the SQL form of `permissions::can_read`), newest change
/// first, after the keyset cursor `(updated_at, id)`. Only the filters given become SQL,
/// so PostgreSQL plans each shape of query with the indexes it can use.
pub async fn list_stories(
    db: &Db,
    reader_id: Option<&UserId>,
    filter: &StoryFilter,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<StoryRow>> {
    let mut args = args![reader_id.map(UserId::as_str).unwrap_or("")];
    let mut sql = format!(
        "{STORY_SELECT} LEFT JOIN memberships m ON m.legacy_id = s.legacy_id AND m.user_id = $1 WHERE {}",
        readable_story_sql("$1")
    );
    if let Some(legacy_id) = &filter.legacy_id {
        sql += &format!(" AND s.legacy_id = {}", args.placeholder(legacy_id));
    }
    if let Some(author_id) = &filter.author_id {
        sql += &format!(" AND s.author_id = {}", args.placeholder(author_id));
    }
    if let Some(status) = filter.status {
        sql += &format!(" AND s.status = {}", args.placeholder(status));
    }
    if let Some(visibility) = filter.visibility {
        sql += &format!(" AND s.visibility = {}", args.placeholder(visibility));
    }
    if let Some(tag) = &filter.tag {
        let tag = args.placeholder(tag);
        sql += &format!(" AND EXISTS (SELECT 1 FROM story_tags t WHERE t.story_id = s.id AND t.tag = {tag})");
    }
    if let Some(person_id) = &filter.person_id {
        let person = args.placeholder(person_id);
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM story_mentions sm WHERE sm.story_id = s.id AND sm.person_id = {person})"
        );
    }
    if let Some((time, id)) = after {
        let (time, id) = (args.placeholder(time), args.placeholder(id));
        sql += &format!(" AND (s.updated_at < {time} OR (s.updated_at = {time} AND s.id < {id}))");
    }
    sql += &format!(" ORDER BY s.updated_at DESC, s.id DESC LIMIT {}", args.placeholder(limit));
    db.fetch_all(&sql, args).await
}

const REVISION_SELECT: &str = "SELECT r.version, r.title, r.body, u.display_name AS author_name, r.created_at, \
    r.restored_from, r.autosave FROM story_revisions r JOIN users u ON u.id = r.author_id";

pub async fn revisions(db: &Db, story_id: &StoryId) -> Result<Vec<RevisionRow>> {
    db.fetch_all(&format!("{REVISION_SELECT} WHERE r.story_id = $1 ORDER BY r.version DESC"), args![story_id]).await
}

pub async fn revision(db: &Db, story_id: &StoryId, version: i64) -> Result<Option<RevisionRow>> {
    let sql = format!("{REVISION_SELECT} WHERE r.story_id = $1 AND r.version = $2");
    db.fetch_optional(&sql, args![story_id, version]).await
}

// --- moderation ---

pub async fn insert_flag(
    db: &Db,
    story_id: &StoryId,
    legacy_id: &LegacyId,
    by: &UserId,
    reason: &str,
) -> Result<FlagId> {
    let id = FlagId::new(new_id());
    let sql = "INSERT INTO moderation_flags (id, subject, story_id, legacy_id, flagged_by, reason, created_at) \
               VALUES ($1, 'story', $2, $3, $4, $5, $6)";
    db.execute(sql, args![&id, story_id, legacy_id, by, reason, now_millis()]).await?;
    Ok(id)
}

/// Open flags in legacies the user owns (all legacies for an instance admin); a report
/// of a comment deleted since is moot and left out.
pub async fn open_flags(db: &Db, user_id: &UserId, is_admin: bool) -> Result<Vec<FlagRow>> {
    let sql = "SELECT f.id, f.subject, f.story_id, f.comment_id, f.media_id, COALESCE(s.title, '') AS title, \
               COALESCE(c.body, '') AS comment_body, f.legacy_id, u.display_name AS flagged_by_name, \
               f.reason, f.created_at FROM moderation_flags f LEFT JOIN stories s ON s.id = f.story_id \
               LEFT JOIN comments c ON c.id = f.comment_id JOIN users u ON u.id = f.flagged_by \
               WHERE f.resolved_at IS NULL AND (f.comment_id IS NULL OR c.deleted_at IS NULL) \
               AND ($2 OR EXISTS (SELECT 1 FROM memberships m \
                   WHERE m.legacy_id = f.legacy_id AND m.user_id = $1 AND m.role = 'owner')) \
               ORDER BY f.created_at";
    db.fetch_all(sql, args![user_id, is_admin]).await
}

pub async fn find_open_flag(db: &Db, flag_id: &FlagId) -> Result<Option<OpenFlag>> {
    let sql = "SELECT legacy_id, subject, story_id, comment_id, media_id FROM moderation_flags \
               WHERE id = $1 AND resolved_at IS NULL";
    db.fetch_optional(sql, args![flag_id]).await
}

pub async fn resolve_flag_tx(tx: &mut Tx, flag_id: &FlagId, by: &UserId, resolution: &str) -> Result<bool> {
    let sql = "UPDATE moderation_flags SET resolved_by = $2, resolved_at = $3, resolution = $4 \
               WHERE id = $1 AND resolved_at IS NULL";
    Ok(tx.execute(sql, args![flag_id, by, now_millis(), resolution]).await? > 0)
}
