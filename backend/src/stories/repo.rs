//! SQL for legacies, memberships, invitations, stories, revisions, tags, flags and
//! idempotency keys, written once for both engines.

use types::LegacyRole;

use crate::db::{with_pool, with_tx, Db, Tx};
use crate::error::Result;
use crate::stories::model::{FlagRow, LegacyRow, MemberRow, RevisionRow, StoryRow};
use crate::time::{new_id, now_millis};

// --- legacies and members ---

const LEGACY_COLUMNS: &str = "id, name, born, died, summary, cover_url, created_by, created_at, updated_at, version";

pub async fn insert_legacy_tx(tx: &mut Tx, row: &LegacyRow) -> Result<()> {
    let sql = format!("INSERT INTO legacies ({LEGACY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    with_tx!(tx, |conn| {
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.name)
            .bind(&row.born)
            .bind(&row.died)
            .bind(&row.summary)
            .bind(&row.cover_url)
            .bind(&row.created_by)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.version)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn find_legacy(db: &Db, id: &str) -> Result<Option<LegacyRow>> {
    let sql = format!("SELECT {LEGACY_COLUMNS} FROM legacies WHERE id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, LegacyRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

/// Legacies the user belongs to, with their role, most recently changed first.
pub async fn legacies_of(db: &Db, user_id: &str) -> Result<Vec<(LegacyRow, String)>> {
    let sql = "SELECT l.id, l.name, l.born, l.died, l.summary, l.cover_url, l.created_by, l.created_at, l.updated_at, \
               l.version, m.role FROM legacies l JOIN memberships m ON m.legacy_id = l.id \
               WHERE m.user_id = $1 ORDER BY l.updated_at DESC, l.id";
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        legacy: LegacyRow,
        role: String,
    }
    let rows = with_pool!(db, |pool| sqlx::query_as::<_, Row>(sql).bind(user_id).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|r| (r.legacy, r.role)).collect())
}

pub async fn role(db: &Db, legacy_id: &str, user_id: &str) -> Result<Option<LegacyRole>> {
    let sql = "SELECT role FROM memberships WHERE legacy_id = $1 AND user_id = $2";
    let role: Option<String> = with_pool!(db, |pool| {
        sqlx::query_scalar::<_, String>(sql).bind(legacy_id).bind(user_id).fetch_optional(pool).await
    })?;
    Ok(role.as_deref().and_then(LegacyRole::parse))
}

pub async fn add_member_tx(tx: &mut Tx, legacy_id: &str, user_id: &str, role: LegacyRole) -> Result<bool> {
    let sql = "INSERT INTO memberships (legacy_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (legacy_id, user_id) DO NOTHING";
    let added = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(legacy_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now_millis())
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(added > 0)
}

pub async fn members(db: &Db, legacy_id: &str) -> Result<Vec<MemberRow>> {
    let sql = "SELECT m.user_id, u.display_name, u.email, m.role, m.created_at FROM memberships m \
               JOIN users u ON u.id = m.user_id WHERE m.legacy_id = $1 ORDER BY m.created_at, u.display_name";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, MemberRow>(sql).bind(legacy_id).fetch_all(pool).await)?)
}

pub async fn set_member_role_tx(tx: &mut Tx, legacy_id: &str, user_id: &str, role: LegacyRole) -> Result<bool> {
    let sql = "UPDATE memberships SET role = $3 WHERE legacy_id = $1 AND user_id = $2";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(legacy_id)
            .bind(user_id)
            .bind(role.as_str())
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

pub async fn remove_member_tx(tx: &mut Tx, legacy_id: &str, user_id: &str) -> Result<bool> {
    let sql = "DELETE FROM memberships WHERE legacy_id = $1 AND user_id = $2";
    let removed = with_tx!(tx, |conn| {
        sqlx::query(sql).bind(legacy_id).bind(user_id).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(removed > 0)
}

pub async fn owner_count_tx(tx: &mut Tx, legacy_id: &str) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM memberships WHERE legacy_id = $1 AND role = 'owner'";
    Ok(with_tx!(tx, |conn| sqlx::query_scalar::<_, i64>(sql).bind(legacy_id).fetch_one(conn).await)?)
}

pub async fn legacy_has_public_story(db: &Db, legacy_id: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM stories WHERE legacy_id = $1 AND visibility = 'public' AND status = 'published'";
    let n = with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(legacy_id).fetch_one(pool).await)?;
    Ok(n > 0)
}

// --- invitations ---

pub async fn insert_invitation(
    db: &Db,
    token_hash: &str,
    legacy_id: &str,
    role: LegacyRole,
    by: &str,
    expires_at: i64,
) -> Result<()> {
    let sql = "INSERT INTO legacy_invitations (token_hash, legacy_id, role, created_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(token_hash)
            .bind(legacy_id)
            .bind(role.as_str())
            .bind(by)
            .bind(now_millis())
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Marks an open invitation used; returns the legacy and role it grants.
pub async fn consume_invitation_tx(tx: &mut Tx, token_hash: &str, user_id: &str) -> Result<Option<(String, String)>> {
    let now = now_millis();
    let sql = "UPDATE legacy_invitations SET used_by = $2, used_at = $3 \
               WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3 RETURNING legacy_id, role";
    Ok(with_tx!(tx, |conn| {
        sqlx::query_as::<_, (String, String)>(sql).bind(token_hash).bind(user_id).bind(now).fetch_optional(conn).await
    })?)
}

/// The legacy an unused, unexpired invitation is for (to show before accepting).
pub async fn invitation_legacy(db: &Db, token_hash: &str) -> Result<Option<(String, String)>> {
    let sql =
        "SELECT legacy_id, role FROM legacy_invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, (String, String)>(sql).bind(token_hash).bind(now_millis()).fetch_optional(pool).await
    })?)
}

// --- idempotency ---

/// Records that `key` created `resource_id`; if the key was used before, returns what it
/// created then (and records nothing).
pub async fn claim_idempotency_key_tx(
    tx: &mut Tx,
    user_id: &str,
    scope: &str,
    key: &str,
    resource_id: &str,
) -> Result<Option<String>> {
    let insert =
        "INSERT INTO idempotency_keys (user_id, scope, key, resource_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                  ON CONFLICT (user_id, scope, key) DO NOTHING";
    let inserted = with_tx!(tx, |conn| {
        sqlx::query(insert)
            .bind(user_id)
            .bind(scope)
            .bind(key)
            .bind(resource_id)
            .bind(now_millis())
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    if inserted > 0 {
        return Ok(None);
    }
    let select = "SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3";
    Ok(with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, String>(select).bind(user_id).bind(scope).bind(key).fetch_optional(conn).await
    })?)
}

// --- stories ---

const STORY_SELECT: &str =
    "SELECT s.id, s.legacy_id, l.name AS legacy_name, s.author_id, a.display_name AS author_name, \
    s.title, s.body, s.visibility, s.status, s.version, s.created_at, s.updated_at, s.updated_by, \
    u.display_name AS updated_by_name, s.published_at \
    FROM stories s JOIN legacies l ON l.id = s.legacy_id JOIN users a ON a.id = s.author_id \
    JOIN users u ON u.id = s.updated_by";

pub struct NewStoryRow<'a> {
    pub id: &'a str,
    pub legacy_id: &'a str,
    pub author_id: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub visibility: &'a str,
    pub status: &'a str,
    pub now: i64,
}

pub async fn insert_story_tx(tx: &mut Tx, s: &NewStoryRow<'_>) -> Result<()> {
    let sql = "INSERT INTO stories (id, legacy_id, author_id, title, body, visibility, status, version, created_at, \
               updated_at, updated_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $3, \
               CASE WHEN $7 = 'published' THEN $8 ELSE NULL END)";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(s.id)
            .bind(s.legacy_id)
            .bind(s.author_id)
            .bind(s.title)
            .bind(s.body)
            .bind(s.visibility)
            .bind(s.status)
            .bind(s.now)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Writes new content if the story is still at `expected_version`; false when someone
/// else saved first.
#[allow(clippy::too_many_arguments)]
pub async fn update_story_tx(
    tx: &mut Tx,
    id: &str,
    expected_version: i64,
    title: &str,
    body: &str,
    visibility: &str,
    status: &str,
    by: &str,
    now: i64,
) -> Result<bool> {
    let sql = "UPDATE stories SET title = $3, body = $4, visibility = $5, status = $6, version = version + 1, \
               updated_at = $7, updated_by = $8, \
               published_at = CASE WHEN $6 = 'published' THEN COALESCE(published_at, $7) ELSE NULL END \
               WHERE id = $1 AND version = $2";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(id)
            .bind(expected_version)
            .bind(title)
            .bind(body)
            .bind(visibility)
            .bind(status)
            .bind(now)
            .bind(by)
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}

pub async fn delete_story_tx(tx: &mut Tx, id: &str) -> Result<bool> {
    let deleted = with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM stories WHERE id = $1").bind(id).execute(conn).await.map(|d| d.rows_affected())
    })?;
    Ok(deleted > 0)
}

pub async fn set_tags_tx(tx: &mut Tx, story_id: &str, tags: &[String]) -> Result<()> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM story_tags WHERE story_id = $1").bind(story_id).execute(&mut *conn).await.map(|_| ())
    })?;
    for tag in tags {
        with_tx!(tx, |conn| {
            sqlx::query("INSERT INTO story_tags (story_id, tag) VALUES ($1, $2)")
                .bind(story_id)
                .bind(tag)
                .execute(conn)
                .await
                .map(|_| ())
        })?;
    }
    Ok(())
}

/// What a new revision holds.
pub struct NewRevision<'a> {
    pub version: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub author_id: &'a str,
    pub restored_from: Option<i64>,
    /// An autosave: its author's working copy, rewritten by their next autosave.
    pub autosave: bool,
}

pub async fn insert_revision_tx(tx: &mut Tx, story_id: &str, r: &NewRevision<'_>) -> Result<()> {
    let sql = "INSERT INTO story_revisions (id, story_id, version, title, body, author_id, created_at, restored_from, \
               autosave) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(new_id())
            .bind(story_id)
            .bind(r.version)
            .bind(r.title)
            .bind(r.body)
            .bind(r.author_id)
            .bind(now_millis())
            .bind(r.restored_from)
            .bind(r.autosave)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// The newest revision of a story: what a save is compared with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestRevision {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub author_id: String,
    pub autosave: bool,
}

pub async fn latest_revision_tx(tx: &mut Tx, story_id: &str) -> Result<Option<LatestRevision>> {
    let sql = "SELECT version, title, body, author_id, autosave FROM story_revisions WHERE story_id = $1 \
               ORDER BY version DESC LIMIT 1";
    Ok(with_tx!(tx, |conn| sqlx::query_as::<_, LatestRevision>(sql).bind(story_id).fetch_optional(conn).await)?)
}

/// Rewrites the revision at `version` in place (an author's working copy): it takes the
/// story's new version number, the new content and whether it is still a working copy.
pub async fn rewrite_revision_tx(tx: &mut Tx, story_id: &str, version: i64, r: &NewRevision<'_>) -> Result<()> {
    let sql = "UPDATE story_revisions SET version = $3, title = $4, body = $5, created_at = $6, autosave = $7 \
               WHERE story_id = $1 AND version = $2";
    with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(story_id)
            .bind(version)
            .bind(r.version)
            .bind(r.title)
            .bind(r.body)
            .bind(now_millis())
            .bind(r.autosave)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub async fn find_story(db: &Db, id: &str) -> Result<Option<StoryRow>> {
    let sql = format!("{STORY_SELECT} WHERE s.id = $1");
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, StoryRow>(&sql).bind(id).fetch_optional(pool).await)?)
}

/// The tags of each of `story_ids` in one query (a page of stories), sorted per story.
pub async fn tags_of(db: &Db, story_ids: &[&str]) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let mut tags: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    if story_ids.is_empty() {
        return Ok(tags);
    }
    let sql = format!(
        "SELECT story_id, tag FROM story_tags WHERE story_id IN ({}) ORDER BY story_id, tag",
        crate::db::placeholders(1, story_ids.len())
    );
    let rows: Vec<(String, String)> = with_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in story_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?;
    for (story_id, tag) in rows {
        tags.entry(story_id).or_default().push(tag);
    }
    Ok(tags)
}

pub async fn tags(db: &Db, story_id: &str) -> Result<Vec<String>> {
    let sql = "SELECT tag FROM story_tags WHERE story_id = $1 ORDER BY tag";
    Ok(with_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql).bind(story_id).fetch_all(pool).await)?)
}

/// Filters for listing stories; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct StoryFilter {
    pub legacy_id: String,
    pub author_id: String,
    pub status: String,
    pub visibility: String,
    pub tag: String,
}

/// Stories the reader may read (the SQL form of `policy::can_read`), newest change
/// first, after the keyset cursor `(updated_at, id)`.
pub async fn list_stories(
    db: &Db,
    reader_id: Option<&str>,
    filter: &StoryFilter,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<StoryRow>> {
    let sql = format!(
        "{STORY_SELECT} LEFT JOIN memberships m ON m.legacy_id = s.legacy_id AND m.user_id = $1 \
         WHERE (s.author_id = $1 \
             OR (s.visibility = 'public' AND s.status = 'published') \
             OR (m.role IS NOT NULL AND s.visibility = 'members' AND s.status = 'published') \
             OR (m.role IN ('owner', 'editor') AND s.visibility <> 'private' AND s.status = 'draft')) \
           AND ($2 = '' OR s.legacy_id = $2) \
           AND ($3 = '' OR s.author_id = $3) \
           AND ($4 = '' OR s.status = $4) \
           AND ($5 = '' OR s.visibility = $5) \
           AND ($6 = '' OR EXISTS (SELECT 1 FROM story_tags t WHERE t.story_id = s.id AND t.tag = $6)) \
           AND ($7 = 0 OR s.updated_at < $7 OR (s.updated_at = $7 AND s.id < $8)) \
         ORDER BY s.updated_at DESC, s.id DESC LIMIT $9"
    );
    let (after_time, after_id) = after.unwrap_or((0, String::new()));
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, StoryRow>(&sql)
            .bind(reader_id.unwrap_or(""))
            .bind(&filter.legacy_id)
            .bind(&filter.author_id)
            .bind(&filter.status)
            .bind(&filter.visibility)
            .bind(&filter.tag)
            .bind(after_time)
            .bind(&after_id)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

pub async fn revisions(db: &Db, story_id: &str) -> Result<Vec<RevisionRow>> {
    let sql = "SELECT r.version, r.title, r.body, u.display_name AS author_name, r.created_at, r.restored_from, \
               r.autosave FROM story_revisions r JOIN users u ON u.id = r.author_id WHERE r.story_id = $1 \
               ORDER BY r.version DESC";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, RevisionRow>(sql).bind(story_id).fetch_all(pool).await)?)
}

pub async fn revision(db: &Db, story_id: &str, version: i64) -> Result<Option<RevisionRow>> {
    let sql = "SELECT r.version, r.title, r.body, u.display_name AS author_name, r.created_at, r.restored_from, \
               r.autosave FROM story_revisions r JOIN users u ON u.id = r.author_id \
               WHERE r.story_id = $1 AND r.version = $2";
    Ok(with_pool!(db, |pool| {
        sqlx::query_as::<_, RevisionRow>(sql).bind(story_id).bind(version).fetch_optional(pool).await
    })?)
}

// --- moderation ---

pub async fn insert_flag(db: &Db, story_id: &str, legacy_id: &str, by: &str, reason: &str) -> Result<String> {
    let id = new_id();
    let sql = "INSERT INTO moderation_flags (id, story_id, legacy_id, flagged_by, reason, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)";
    with_pool!(db, |pool| {
        sqlx::query(sql)
            .bind(&id)
            .bind(story_id)
            .bind(legacy_id)
            .bind(by)
            .bind(reason)
            .bind(now_millis())
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(id)
}

/// Open flags in legacies the user owns (all legacies for an instance admin).
pub async fn open_flags(db: &Db, user_id: &str, is_admin: bool) -> Result<Vec<FlagRow>> {
    let sql = "SELECT f.id, f.story_id, s.title AS story_title, f.legacy_id, u.display_name AS flagged_by_name, \
               f.reason, f.created_at FROM moderation_flags f JOIN stories s ON s.id = f.story_id \
               JOIN users u ON u.id = f.flagged_by \
               WHERE f.resolved_at IS NULL AND ($2 OR EXISTS (SELECT 1 FROM memberships m \
                   WHERE m.legacy_id = f.legacy_id AND m.user_id = $1 AND m.role = 'owner')) \
               ORDER BY f.created_at";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, FlagRow>(sql).bind(user_id).bind(is_admin).fetch_all(pool).await)?)
}

pub async fn find_flag_legacy(db: &Db, flag_id: &str) -> Result<Option<(String, String)>> {
    let sql = "SELECT legacy_id, story_id FROM moderation_flags WHERE id = $1 AND resolved_at IS NULL";
    Ok(with_pool!(db, |pool| sqlx::query_as::<_, (String, String)>(sql).bind(flag_id).fetch_optional(pool).await)?)
}

pub async fn resolve_flag_tx(tx: &mut Tx, flag_id: &str, by: &str, resolution: &str) -> Result<bool> {
    let sql = "UPDATE moderation_flags SET resolved_by = $2, resolved_at = $3, resolution = $4 \
               WHERE id = $1 AND resolved_at IS NULL";
    let changed = with_tx!(tx, |conn| {
        sqlx::query(sql)
            .bind(flag_id)
            .bind(by)
            .bind(now_millis())
            .bind(resolution)
            .execute(conn)
            .await
            .map(|d| d.rows_affected())
    })?;
    Ok(changed > 0)
}
