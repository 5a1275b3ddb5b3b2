//! Candidate sources: where tips come from. Each reads only what the user may act on
//! (their own drafts, media they may caption, legacies they can write in, invitations
//! they sent, their connected apps' tasks) and turns it into [`Candidate`]s.

use serde_json::json;
use types::{LegacyId, MediaId, TipKind};

use crate::args;
use crate::db::Db;
use crate::error::Result;
use crate::identity::User;
use crate::media::Media;
use crate::stories::render::excerpt;
use crate::stories::{permissions, Stories};
use crate::tips::model::{Candidate, OpenItem};
use crate::tips::{prompts, repo};

/// Most of one kind a single request considers (the newest). Generous, because those
/// resting after feedback are dropped only afterwards.
const PER_SOURCE: i64 = 100;
/// Media each need a permission check; fewer of them.
const MEDIA_PER_REQUEST: i64 = 30;

/// Every candidate for `user`, before cool-downs.
pub async fn gather(db: &Db, media: &Media, user: &User, now: i64) -> Result<Vec<Candidate>> {
    let legacies = Stories::new(db.clone()).my_legacies(user).await?;
    let has_legacies = !legacies.is_empty();
    let writable: Vec<(LegacyId, String)> = legacies
        .into_iter()
        .filter(|legacy| permissions::can_create_story(legacy.my_role))
        .map(|legacy| (legacy.id, legacy.name))
        .collect();
    let mut all = Vec::new();
    all.extend(connector_tasks(db, user).await?);
    all.extend(drafts(db, user).await?);
    all.extend(uncaptioned_media(db, media, user).await?);
    all.extend(legacies_without_stories(db, &writable).await?);
    all.extend(pending_invitations(db, user, now).await?);
    // Prompts need somewhere to write the story: a legacy the user may add stories to.
    if let Some((legacy_id, _)) = writable.first() {
        all.extend(story_prompts(Some(legacy_id)));
    }
    if !has_legacies {
        all.push(Candidate {
            key: "advice:start-legacy".into(),
            kind: TipKind::Advice,
            source: "legacies".into(),
            group: "start".into(),
            title: "Start a legacy".into(),
            body: "A legacy is a person, a family or a place you want to remember. Give it a name and the \
                   stories, photos and people will gather around it."
                .into(),
            deep_link: "/legacies".into(),
            meta: json!({}),
            priority: 0,
        });
    }
    Ok(all)
}

/// The library of prompts, linked to the first legacy the user can write in.
pub fn story_prompts(legacy_id: Option<&str>) -> Vec<Candidate> {
    prompts::all()
        .iter()
        .map(|prompt| Candidate {
            key: format!("prompt:{}", prompt.id),
            kind: TipKind::Prompt,
            source: "prompts".into(),
            group: prompt.theme.into(),
            title: prompt.text.into(),
            body: "A few sentences are enough to start; a story can grow later.".into(),
            deep_link: match legacy_id {
                Some(id) => format!("/legacies/{id}/new?prompt={}", prompt.id),
                None => "/legacies".into(),
            },
            meta: json!({ "prompt_id": prompt.id, "theme": prompt.theme }),
            priority: 0,
        })
        .collect()
}

async fn connector_tasks(db: &Db, user: &User) -> Result<Vec<Candidate>> {
    let items = repo::open_items(db, &user.id, PER_SOURCE * 2).await?;
    Ok(items
        .into_iter()
        .map(|OpenItem { connector, task: item }| {
            let body = match (item.body.is_empty(), item.due.is_empty()) {
                (true, true) => String::new(),
                (true, false) => format!("Due {}.", item.due),
                (false, true) => item.body.clone(),
                (false, false) => format!("Due {}. {}", item.due, item.body),
            };
            Candidate {
                key: format!("{connector}:{}", item.external_id),
                kind: TipKind::Todo,
                source: connector.clone(),
                group: connector.clone(),
                title: item.title.clone(),
                body,
                deep_link: item.url.clone(),
                meta: json!({
                    "connector": connector, "external_id": item.external_id, "revision": item.revision,
                    "due": item.due, "priority": item.priority,
                }),
                priority: item.priority,
            }
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: String,
    title: String,
    body: String,
    legacy_name: String,
    updated_at: i64,
}

/// The user's own unfinished stories, most recently touched first.
async fn drafts(db: &Db, user: &User) -> Result<Vec<Candidate>> {
    // Only the start of each body: an excerpt is all a tip shows.
    let sql =
        "SELECT s.id, s.title, SUBSTR(s.body, 1, 800) AS body, l.name AS legacy_name, s.updated_at FROM stories s \
               JOIN legacies l ON l.id = s.legacy_id WHERE s.author_id = $1 AND s.status = 'draft' \
               ORDER BY s.updated_at DESC, s.id LIMIT $2";
    let rows: Vec<DraftRow> = db.fetch_all(sql, args![&user.id, PER_SOURCE]).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let start = excerpt(&row.body, 160);
            let body = if start.is_empty() {
                format!("Your draft about {} is waiting for its first lines.", row.legacy_name)
            } else {
                format!("Your draft about {} so far: “{start}”", row.legacy_name)
            };
            Candidate {
                key: format!("draft:{}", row.id),
                kind: TipKind::Draft,
                source: "stories".into(),
                group: "stories".into(),
                title: format!("Finish “{}”", if row.title.is_empty() { "Untitled" } else { &row.title }),
                body,
                deep_link: format!("/stories/{}/edit", row.id),
                meta: json!({ "story_id": row.id, "updated_at": row.updated_at }),
                priority: 0,
            }
        })
        .collect())
}

/// Ready photos, recordings and videos without a caption that the user uploaded or
/// manages (owner or editor of the legacy), each confirmed by the media permission rules.
async fn uncaptioned_media(db: &Db, media: &Media, user: &User) -> Result<Vec<Candidate>> {
    let sql = "SELECT m.id FROM media m WHERE m.state = 'ready' AND m.caption = '' AND (m.uploader_id = $1 \
               OR EXISTS (SELECT 1 FROM memberships ms WHERE ms.legacy_id = m.legacy_id AND ms.user_id = $1 \
               AND ms.role IN ('owner', 'editor'))) ORDER BY m.created_at DESC, m.id LIMIT $2";
    let ids: Vec<MediaId> = db.scalars(sql, args![&user.id, MEDIA_PER_REQUEST]).await?;
    let mut found = Vec::new();
    for id in ids {
        let Ok(view) = media.media(Some(user), &id).await else { continue };
        if !view.can_edit {
            continue;
        }
        let kind = view.kind.map(|k| k.as_str()).unwrap_or("media");
        let what = match kind {
            "image" => "photo",
            "audio" => "recording",
            "video" => "video",
            _ => "file",
        };
        let preview = view.variants.first().map(|v| v.url.clone());
        found.push(Candidate {
            key: format!("media:{}", view.id),
            kind: TipKind::Media,
            source: "media".into(),
            group: kind.into(),
            title: format!("Add a caption to the {what} “{}”", view.file_name),
            body: "Who is in it, where and when: a few words help everyone find it and understand it later.".into(),
            // The media page opens this item's caption form (`caption`) and scrolls to it.
            deep_link: format!("/legacies/{}/media?caption={1}#media-{1}", view.legacy_id, view.id),
            meta: json!({ "media_id": view.id, "legacy_id": view.legacy_id, "media_kind": kind,
                          "preview_url": preview }),
            priority: 0,
        });
    }
    Ok(found)
}

/// Legacies the user can write in that have no story yet.
async fn legacies_without_stories(db: &Db, writable: &[(LegacyId, String)]) -> Result<Vec<Candidate>> {
    let sql = "SELECT COUNT(*) FROM stories WHERE legacy_id = $1";
    let mut found = Vec::new();
    for (id, name) in writable.iter().take(20) {
        let n: i64 = db.scalar(sql, args![id]).await?;
        if n == 0 {
            found.push(Candidate {
                key: format!("legacy:{id}"),
                kind: TipKind::Prompt,
                source: "legacies".into(),
                group: "first-story".into(),
                title: format!("Write the first story about {name}"),
                body: "Start with one memory — a day, a place, a thing they used to say.".into(),
                deep_link: format!("/legacies/{id}/new"),
                meta: json!({ "legacy_id": id }),
                priority: 0,
            });
        }
    }
    Ok(found)
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    token_hash: String,
    legacy_id: LegacyId,
    legacy_name: String,
    role: String,
    created_at: i64,
    expires_at: i64,
}

/// Invitation links the user made that nobody has used yet and that still work.
async fn pending_invitations(db: &Db, user: &User, now: i64) -> Result<Vec<Candidate>> {
    let sql = "SELECT i.token_hash, i.legacy_id, l.name AS legacy_name, i.role, i.created_at, i.expires_at \
               FROM legacy_invitations i JOIN legacies l ON l.id = i.legacy_id WHERE i.created_by = $1 \
               AND i.used_at IS NULL AND i.expires_at > $2 ORDER BY i.created_at DESC LIMIT $3";
    let rows: Vec<InvitationRow> = db.fetch_all(sql, args![&user.id, now, PER_SOURCE]).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let days_left = ((row.expires_at - now) / 86_400_000).max(0);
            Candidate {
                // A prefix of the hash names the invitation; the token itself is never stored.
                key: format!("invitation:{}", &row.token_hash[..row.token_hash.len().min(16)]),
                kind: TipKind::Advice,
                source: "invitations".into(),
                group: "invitations".into(),
                title: format!("Your invitation to {} has not been used yet", row.legacy_name),
                body: format!(
                    "You invited someone as {} and the link works for {} more day{}. A reminder may help — or \
                     make a new link on the members page.",
                    row.role,
                    days_left,
                    if days_left == 1 { "" } else { "s" }
                ),
                deep_link: format!("/legacies/{}/members", row.legacy_id),
                meta: json!({ "legacy_id": row.legacy_id, "role": row.role, "created_at": row.created_at,
                              "expires_at": row.expires_at }),
                priority: 0,
            }
        })
        .collect())
}
