//! The rules for legacies and stories: validation, permissions (via `permissions`), one
//! transaction per write that also appends the outbox event, idempotent creates and
//! version-checked updates.

use std::sync::Arc;

use types::{
    ErrorCode, FlagId, FlagView, InvitationId, LegacyId, LegacyInput, LegacyRole, LegacyUpdate, LegacyView, MemberView,
    PersonId, RevisionView, StoryId, StoryInput, StoryPage, StoryStatus, StorySummary, StoryUpdate, StoryView,
    SubjectKind, UserId, Visibility,
};

use crate::db::{Db, Tx};
use crate::email::{compose, Mailer};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::identity::{Role, User};
use crate::paging;
use crate::stories::model::{self, LegacyRow, LegacyText, StoryRow};
use crate::stories::permissions::{self, Reader, StoryFacts};
use crate::stories::{render, repo};
use crate::time::{new_id, now_millis};
use crate::validate::{self, Problems};
use types::events::{
    EventPayload, InvitationSent, LegacyCreated, LegacyUpdated, MemberAdded, MemberRemoved, MemberRoleChanged,
    StoryCreated, StoryDeleted, StorySaved, StoryUpdated,
};

const PAGE_MAX: i64 = 100;

pub struct Stories {
    db: Db,
    /// The mailer and this instance's public URL (the base of the emailed links), when
    /// invitations may be emailed.
    mail: Option<(Arc<Mailer>, String)>,
}

/// A story list as asked for (a query string, a page): filters as typed, each checked
/// by [`Stories::list`]; `None` or an empty value means "any".
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub legacy_id: Option<String>,
    pub author_id: Option<String>,
    pub status: Option<String>,
    pub visibility: Option<String>,
    pub tag: Option<String>,
    /// Stories that mention this person.
    pub person_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// A filter value that was given: not absent, not blank.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Stories {
    pub fn new(db: Db) -> Stories {
        Stories { db, mail: None }
    }

    /// Invitations may be emailed through `mailer`, with links on `public_url`.
    pub fn with_mail(self, mailer: Arc<Mailer>, public_url: &str) -> Stories {
        Stories { mail: Some((mailer, public_url.trim_end_matches('/').to_string())), ..self }
    }

    async fn reader<'a>(&self, user: Option<&'a User>, legacy_id: &LegacyId) -> Result<Reader<'a>> {
        let role = match user {
            Some(user) => repo::role(&self.db, legacy_id, &user.id).await?,
            None => None,
        };
        Ok(Reader {
            user_id: user.map(|u| u.id.as_str()),
            is_admin: user.is_some_and(|u| u.role() == Role::Admin),
            role,
        })
    }

    // --- legacies ---

    pub async fn create_legacy(
        &self,
        user: &User,
        input: &LegacyInput,
        idempotency_key: Option<&str>,
    ) -> Result<LegacyView> {
        let LegacyText { name, born, died, summary } = legacy_text(input)?;
        let now = now_millis();
        let row = LegacyRow {
            id: LegacyId::new(new_id()),
            name,
            born,
            died,
            summary,
            cover_url: String::new(),
            created_by: user.id.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        if let Some(existing) = self.replayed(&mut tx, user, "legacy", idempotency_key, &row.id).await? {
            drop(tx);
            return self.legacy(Some(user), &LegacyId::new(existing)).await;
        }
        repo::insert_legacy_tx(&mut tx, &row).await?;
        repo::add_member_tx(&mut tx, &row.id, &user.id, LegacyRole::Owner).await?;
        let created = LegacyCreated { legacy_id: row.id.clone(), name: row.name.clone() };
        append(&mut tx, &row.id, user, created).await?;
        let member = MemberAdded { legacy_id: row.id.clone(), user_id: user.id.clone(), role: LegacyRole::Owner };
        append(&mut tx, &row.id, user, member).await?;
        // The person the legacy remembers, as the first of its people.
        crate::people::service::add_subject_tx(&mut tx, &row.id, &row.name, &row.born, &row.died, user, now).await?;
        tx.commit().await?;
        Ok(legacy_view(row, Some(LegacyRole::Owner)))
    }

    /// A legacy for one who may change it (its owners, administrators): its edit page.
    pub async fn legacy_to_manage(&self, user: &User, id: &LegacyId) -> Result<LegacyView> {
        let reader = self.reader(Some(user), id).await?;
        if !permissions::can_manage_legacy(reader) {
            return Err(hidden_or_forbidden(reader, "legacy", "Only the legacy's owners can change it."));
        }
        let row = repo::find_legacy(&self.db, id).await?.ok_or(Error::NotFound { what: "legacy" })?;
        Ok(legacy_view(row, reader.role))
    }

    /// Changes a legacy's name, dates and summary (its owners, and administrators), from
    /// the version the editor started from: a change someone made since is a conflict,
    /// never overwritten. The person it remembers keeps their own name and dates.
    pub async fn update_legacy(&self, user: &User, id: &LegacyId, update: &LegacyUpdate) -> Result<LegacyView> {
        self.legacy_to_manage(user, id).await?;
        let text = legacy_text(&update.details)?;
        let mut tx = self.db.begin().await?;
        if !repo::update_legacy_tx(&mut tx, id, update.version, &text, now_millis()).await? {
            return Err(Error::conflict(
                ErrorCode::LegacyVersionConflict,
                "Someone changed this legacy since you opened it: reload to see their change, then make yours.",
            ));
        }
        let updated = LegacyUpdated { legacy_id: id.clone(), name: text.name, version: update.version + 1 };
        append(&mut tx, id, user, updated).await?;
        tx.commit().await?;
        self.legacy(Some(user), id).await
    }

    /// The legacy a new story or upload names, checked: given, and one the user may add
    /// to; otherwise a problem on `legacy_id`, in the same words whether the legacy does
    /// not exist or is not theirs ("is not {what}"). Returns the trimmed id and the
    /// user's role there.
    pub async fn legacy_to_add_to(
        &self,
        problems: &mut Problems,
        user: &User,
        legacy_id: &LegacyId,
        what: &str,
    ) -> Result<(LegacyId, Option<LegacyRole>)> {
        let legacy_id = LegacyId::new(legacy_id.trim());
        if legacy_id.is_empty() {
            problems.add("legacy_id", "is required");
            return Ok((legacy_id, None));
        }
        let role = repo::role(&self.db, &legacy_id, &user.id).await?;
        if !permissions::can_create_story(role) {
            problems.add("legacy_id", format!("is not {what}"));
        }
        Ok((legacy_id, role))
    }

    /// The user's role in a legacy, if they are a member (for capabilities that keep
    /// things in a legacy and apply its permissions, such as media).
    pub async fn role_in(&self, legacy_id: &LegacyId, user: &User) -> Result<Option<LegacyRole>> {
        repo::role(&self.db, legacy_id, &user.id).await
    }

    /// A story's row as stored, whoever asks: for capabilities that decide access to what
    /// they attach to it with [`permissions`] themselves.
    pub async fn story_row(&self, id: &StoryId) -> Result<Option<StoryRow>> {
        repo::find_story(&self.db, id).await
    }

    /// Looks up the idempotency key; `Some(id)` means this create already happened.
    async fn replayed(
        &self,
        tx: &mut Tx,
        user: &User,
        scope: &str,
        key: Option<&str>,
        new_id: &str,
    ) -> Result<Option<String>> {
        match key.map(str::trim).filter(|k| !k.is_empty()) {
            None => Ok(None),
            Some(key) if key.len() > 200 => Err(Error::invalid("idempotency_key", "must be at most 200 characters")),
            Some(key) => repo::claim_idempotency_key_tx(tx, &user.id, scope, key, new_id).await,
        }
    }

    /// A legacy, for its members, or for anyone when it has public stories.
    pub async fn legacy(&self, user: Option<&User>, id: &LegacyId) -> Result<LegacyView> {
        let row = repo::find_legacy(&self.db, id).await?.ok_or(Error::NotFound { what: "legacy" })?;
        let reader = self.reader(user, id).await?;
        if reader.role.is_none() && !reader.is_admin && !repo::legacy_has_public_story(&self.db, id).await? {
            return Err(Error::NotFound { what: "legacy" });
        }
        Ok(legacy_view(row, reader.role))
    }

    pub async fn my_legacies(&self, user: &User) -> Result<Vec<LegacyView>> {
        let rows = repo::legacies_of(&self.db, &user.id).await?;
        Ok(rows.into_iter().map(|(row, role)| legacy_view(row, Some(role))).collect())
    }

    pub async fn members(&self, user: &User, legacy_id: &LegacyId) -> Result<Vec<MemberView>> {
        let reader = self.reader(Some(user), legacy_id).await?;
        if reader.role.is_none() && !reader.is_admin {
            return Err(Error::NotFound { what: "legacy" });
        }
        let rows = repo::members(&self.db, legacy_id).await?;
        Ok(rows
            .into_iter()
            .map(|m| MemberView {
                role: m.role,
                user_id: m.user_id,
                display_name: m.display_name,
                email: m.email,
                joined_at: m.created_at,
            })
            .collect())
    }

    /// Changes a member's role, or removes them with `None`. A legacy always keeps an owner.
    pub async fn set_member(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        member_id: &UserId,
        role: Option<&str>,
    ) -> Result<()> {
        let reader = self.reader(Some(user), legacy_id).await?;
        if !permissions::can_manage_members(reader) {
            return Err(hidden_or_forbidden(reader, "legacy", "Only the legacy's owners can manage its members."));
        }
        self.require_legacy(reader, legacy_id).await?;
        let role = match role {
            Some(text) => Some(LegacyRole::parse(text).ok_or_else(|| {
                Error::invalid("role", &format!("must be one of owner, editor, contributor, viewer (got {text:?})"))
            })?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        let changed = match role {
            Some(role) => repo::set_member_role_tx(&mut tx, legacy_id, member_id, role).await?,
            None => repo::remove_member_tx(&mut tx, legacy_id, member_id).await?,
        };
        if !changed {
            return Err(Error::NotFound { what: "member" });
        }
        if repo::owner_count_tx(&mut tx, legacy_id).await? == 0 {
            return Err(Error::conflict(
                ErrorCode::LastOwner,
                "A legacy needs at least one owner. Make someone else an owner first.",
            ));
        }
        let (legacy, member) = (legacy_id.clone(), member_id.clone());
        match role {
            Some(role) => {
                append(&mut tx, legacy_id, user, MemberRoleChanged { legacy_id: legacy, user_id: member, role }).await?
            }
            None => append(&mut tx, legacy_id, user, MemberRemoved { legacy_id: legacy, user_id: member }).await?,
        };
        tx.commit().await
    }

    /// A single-use link to join the legacy as `role` for `days`; its token. With `email`,
    /// the link is also emailed there (refused, with nothing created, when this instance
    /// cannot send email); when that address is an account's verified one and the account
    /// is not a member yet, the invitation is made for it too ([`InvitationSent`] names
    /// it: its bell tells it, and it may open the invitation by its id).
    pub async fn invite(
        &self,
        user: &User,
        legacy_id: &LegacyId,
        role: &str,
        days: u32,
        email: Option<&str>,
    ) -> Result<String> {
        let reader = self.reader(Some(user), legacy_id).await?;
        if !permissions::can_manage_members(reader) {
            return Err(hidden_or_forbidden(reader, "legacy", "Only the legacy's owners can invite people."));
        }
        self.require_legacy(reader, legacy_id).await?;
        let role = match LegacyRole::parse(role) {
            Some(role @ (LegacyRole::Editor | LegacyRole::Contributor | LegacyRole::Viewer)) => role,
            _ => return Err(Error::invalid("role", "must be one of editor, contributor, viewer")),
        };
        if !(1..=30).contains(&days) {
            return Err(Error::invalid("expires_in_days", "must be between 1 and 30"));
        }
        let token = crate::identity::service::random_token();
        let expires = now_millis() + i64::from(days) * 86_400_000;
        let (emailed, invited_user_id) = match email {
            None => (None, None),
            Some(to) => {
                let (mailer, public_url) = self.mail.as_ref().ok_or_else(Mailer::not_configured)?;
                let legacy = repo::find_legacy(&self.db, legacy_id).await?.ok_or(Error::NotFound { what: "legacy" })?;
                let link = format!("{public_url}{}", types::routes::INVITATION.to(&[&token]));
                let mail = compose::invitation(&user.display_name, &legacy.name, role.as_str(), &link, days);
                let to = to.trim();
                (Some((mailer, to, mail)), self.account_to_invite(legacy_id, to).await?)
            }
        };
        let id = InvitationId::new(new_id());
        let mut tx = self.db.begin().await?;
        let hash = crate::identity::service::hash_token(&token);
        repo::insert_invitation(&mut tx, &id, &hash, legacy_id, role, &user.id, invited_user_id.as_ref(), expires)
            .await?;
        if let Some((mailer, to, mail)) = emailed {
            mailer.queue(&mut tx, to, "invitation", &mail).await?;
        }
        let sent = InvitationSent { legacy_id: legacy_id.clone(), invitation_id: id, invited_user_id, role };
        append(&mut tx, legacy_id, user, sent).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The account an invitation emailed to `address` is also for: the one whose verified
    /// address it is (an unverified one may not be its owner's), when not a member yet.
    async fn account_to_invite(&self, legacy_id: &LegacyId, address: &str) -> Result<Option<UserId>> {
        let Some(account) = crate::identity::repo::find_by_email(&self.db, address).await? else {
            return Ok(None);
        };
        let verified = crate::identity::repo::is_verified(&self.db, &account.id, &account.email).await?;
        let member = repo::role(&self.db, legacy_id, &account.id).await?.is_some();
        Ok((verified && !account.disabled && !member).then_some(account.id))
    }

    /// What an open invitation offers `user`, for the page that asks to accept it: `key`
    /// is the emailed link's token, or the invitation's id when it was made for them.
    pub async fn invitation(&self, user: &User, key: &str) -> Result<(LegacyRow, LegacyRole)> {
        let hash = crate::identity::service::hash_token(key);
        let (legacy_id, role) =
            repo::invitation_legacy(&self.db, &hash, key, &user.id).await?.ok_or_else(invalid_invitation)?;
        let legacy = repo::find_legacy(&self.db, &legacy_id).await?.ok_or_else(invalid_invitation)?;
        Ok((legacy, role))
    }

    /// Joins the legacy an invitation is for (`key` as for [`Stories::invitation`]);
    /// returns its id. Existing members keep their role.
    pub async fn accept_invitation(&self, user: &User, key: &str) -> Result<LegacyId> {
        let mut tx = self.db.begin().await?;
        let hash = crate::identity::service::hash_token(key);
        let (legacy_id, role) =
            repo::consume_invitation_tx(&mut tx, &hash, key, &user.id).await?.ok_or_else(invalid_invitation)?;
        if repo::add_member_tx(&mut tx, &legacy_id, &user.id, role).await? {
            let member = MemberAdded { legacy_id: legacy_id.clone(), user_id: user.id.clone(), role };
            append(&mut tx, &legacy_id, user, member).await?;
        }
        tx.commit().await?;
        Ok(legacy_id)
    }

    // --- stories ---

    #[tracing::instrument(name = "stories.create", skip_all, fields(legacy_id = %input.legacy_id))]
    pub async fn create_story(
        &self,
        user: &User,
        input: &StoryInput,
        idempotency_key: Option<&str>,
    ) -> Result<StoryView> {
        let mut problems = Problems::default();
        let title = validate::line(&mut problems, "title", &input.title, true, model::TITLE_MAX_CHARS);
        let body = model::body(&mut problems, &input.body);
        let tags = model::tags(&mut problems, &input.tags);
        let visibility = parse_visibility(&mut problems, input.visibility.as_deref());
        let status = parse_status(&mut problems, input.status.as_deref());
        let (legacy_id, _) =
            self.legacy_to_add_to(&mut problems, user, &input.legacy_id, "a legacy you can write stories in").await?;
        problems.into_result()?;

        let id = StoryId::new(new_id());
        let mut tx = self.db.begin().await?;
        if let Some(existing) = self.replayed(&mut tx, user, "story", idempotency_key, &id).await? {
            drop(tx);
            return self.story(Some(user), &StoryId::new(existing)).await;
        }
        let now = now_millis();
        let row = repo::NewStoryRow {
            id: &id,
            legacy_id: &legacy_id,
            author_id: &user.id,
            title: &title,
            body: &body,
            visibility,
            status,
            now,
        };
        repo::insert_story_tx(&mut tx, &row).await?;
        repo::set_tags_tx(&mut tx, &id, &tags).await?;
        repo::set_mentions_tx(&mut tx, &id, &legacy_id, &model::mentioned_people(&body)).await?;
        let first = repo::NewRevision {
            version: 1,
            title: &title,
            body: &body,
            author_id: &user.id,
            restored_from: None,
            autosave: false,
        };
        repo::insert_revision_tx(&mut tx, &id, &first).await?;
        let created = StoryCreated {
            story: StorySaved {
                story_id: id.clone(),
                legacy_id: legacy_id.clone(),
                version: 1,
                title,
                visibility,
                status,
                tags,
            },
        };
        append(&mut tx, &id, user, created).await?;
        tx.commit().await?;
        self.story(Some(user), &id).await
    }

    /// A story the reader may read; otherwise "not found", never revealing it exists.
    pub async fn story(&self, user: Option<&User>, id: &StoryId) -> Result<StoryView> {
        let row = repo::find_story(&self.db, id).await?.ok_or(Error::NotFound { what: "story" })?;
        let reader = self.reader(user, &row.legacy_id).await?;
        if !permissions::can_read(reader, story_facts(&row)) {
            return Err(Error::NotFound { what: "story" });
        }
        let tags = repo::tags(&self.db, id).await?;
        Ok(story_view(row, tags, reader))
    }

    #[tracing::instrument(name = "stories.update", skip_all, fields(story_id = %id))]
    pub async fn update_story(&self, user: &User, id: &StoryId, update: &StoryUpdate) -> Result<StoryView> {
        self.save_story(user, id, update, None).await
    }

    /// Writes a new version; `restored_from` marks a revision that brings back an old one.
    /// Every save that passes the version check makes a new version of the story (the
    /// number the next save must name), but not necessarily a new revision: see
    /// [`record_revision`].
    async fn save_story(
        &self,
        user: &User,
        id: &StoryId,
        update: &StoryUpdate,
        restored_from: Option<i64>,
    ) -> Result<StoryView> {
        let current = repo::find_story(&self.db, id).await?.ok_or(Error::NotFound { what: "story" })?;
        let reader = self.reader(Some(user), &current.legacy_id).await?;
        if !permissions::can_edit(reader, story_facts(&current)) {
            return Err(story_refusal(reader, &current, "You can read this story but not edit it."));
        }
        let mut problems = Problems::default();
        let title = validate::line(&mut problems, "title", &update.title, true, model::TITLE_MAX_CHARS);
        let body = model::body(&mut problems, &update.body);
        let tags = model::tags(&mut problems, &update.tags);
        let visibility = match update.visibility.as_deref() {
            None => current.visibility,
            given => parse_visibility(&mut problems, given),
        };
        let status = match update.status.as_deref() {
            None => current.status,
            given => parse_status(&mut problems, given),
        };
        problems.into_result()?;

        let mut tx = self.db.begin().await?;
        let now = now_millis();
        let change = repo::StoryChange {
            id,
            expected_version: update.version,
            title: &title,
            body: &body,
            visibility,
            status,
            by: &user.id,
            now,
        };
        let saved = repo::update_story_tx(&mut tx, &change).await?;
        if !saved {
            drop(tx);
            return Err(self.conflict(id, update.version).await?);
        }
        let version = update.version + 1;
        repo::set_tags_tx(&mut tx, id, &tags).await?;
        repo::set_mentions_tx(&mut tx, id, &current.legacy_id, &model::mentioned_people(&body)).await?;
        // The story was at `update.version` when it was read (and still was at the update),
        // so `current` says who saved last.
        let saved_last_by_them = current.version == update.version && current.updated_by == user.id;
        let save = repo::NewRevision {
            version,
            title: &title,
            body: &body,
            author_id: &user.id,
            restored_from,
            autosave: update.autosave,
        };
        let revision = record_revision(&mut tx, id, &save, saved_last_by_them).await?;
        let updated = StoryUpdated {
            story: StorySaved {
                story_id: id.clone(),
                legacy_id: current.legacy_id.clone(),
                version,
                title,
                visibility,
                status,
                tags,
            },
            restored_from,
            revision,
            autosave: update.autosave,
        };
        append(&mut tx, id, user, updated).await?;
        tx.commit().await?;
        self.story(Some(user), id).await
    }

    /// The 409 a person understands: who changed it, how long ago, which versions.
    async fn conflict(&self, id: &StoryId, started_from: i64) -> Result<Error> {
        let Some(now) = repo::find_story(&self.db, id).await? else { return Ok(Error::NotFound { what: "story" }) };
        let ago = relative_time(now_millis() - now.updated_at);
        Ok(Error::conflict(
            ErrorCode::StoryVersionConflict,
            format!(
                "This story was changed by {} {ago} (it is now at version {}; you started from version \
                 {started_from}). Review their changes, then apply yours again.",
                now.updated_by_name, now.version
            ),
        ))
    }

    /// Deletes a story and its media; returns the id of the legacy it belonged to (where
    /// a page goes next).
    pub async fn delete_story(&self, user: &User, id: &StoryId) -> Result<LegacyId> {
        let current = repo::find_story(&self.db, id).await?.ok_or(Error::NotFound { what: "story" })?;
        let reader = self.reader(Some(user), &current.legacy_id).await?;
        if !permissions::can_delete(reader, story_facts(&current)) {
            return Err(story_refusal(reader, &current, "You can read this story but not delete it."));
        }
        let mut tx = self.db.begin().await?;
        let media = delete_with_media_tx(&mut tx, id, user).await?;
        let legacy_id = current.legacy_id.clone();
        let deleted =
            StoryDeleted { story_id: id.clone(), legacy_id: current.legacy_id, media_deleted: media, moderated: false };
        append(&mut tx, id, user, deleted).await?;
        tx.commit().await?;
        Ok(legacy_id)
    }

    /// Stories the reader may read, newest change first, in pages of `limit`.
    pub async fn list(&self, user: Option<&User>, request: &ListRequest) -> Result<StoryPage> {
        let limit = request.limit.unwrap_or(20);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Error::invalid("limit", &format!("must be between 1 and {PAGE_MAX}")));
        }
        let mut problems = Problems::default();
        let status = given(&request.status).and_then(|text| {
            let status = StoryStatus::parse(text);
            if status.is_none() {
                problems.add("status", "must be draft or published");
            }
            status
        });
        let visibility = given(&request.visibility).and_then(|text| {
            let visibility = Visibility::parse(text);
            if visibility.is_none() {
                problems.add("visibility", "must be private, members or public");
            }
            visibility
        });
        let after = paging::parse_cursor(&mut problems, request.cursor.as_deref());
        problems.into_result()?;
        let filter = repo::StoryFilter {
            legacy_id: given(&request.legacy_id).map(LegacyId::from),
            author_id: given(&request.author_id).map(UserId::from),
            status,
            visibility,
            tag: given(&request.tag).map(|tag| crate::text::normalize(tag).trim().to_lowercase()),
            person_id: given(&request.person_id).map(PersonId::from),
        };
        let mut rows = repo::list_stories(&self.db, user.map(|u| &u.id), &filter, after, limit + 1).await?;
        let next_cursor = paging::keyset_page(&mut rows, limit, |r| (r.updated_at, r.id.as_str()));
        // One query for the whole page's tags, not one per story.
        let mut tags = repo::tags_of(&self.db, &rows.iter().map(|r| &r.id).collect::<Vec<_>>()).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let tags = tags.remove(&row.id).unwrap_or_default();
            items.push(StorySummary {
                excerpt: render::excerpt(&row.body, 240),
                id: row.id,
                legacy_id: row.legacy_id,
                title: row.title,
                author_name: row.author_name,
                tags,
                visibility: row.visibility,
                status: row.status,
                updated_at: row.updated_at,
                version: row.version,
            });
        }
        Ok(StoryPage { items, next_cursor })
    }

    pub async fn revisions(&self, user: Option<&User>, id: &StoryId) -> Result<Vec<RevisionView>> {
        self.story(user, id).await?;
        Ok(repo::revisions(&self.db, id).await?.into_iter().map(revision_view).collect())
    }

    pub async fn revision(&self, user: Option<&User>, id: &StoryId, version: i64) -> Result<RevisionView> {
        self.story(user, id).await?;
        repo::revision(&self.db, id, version).await?.map(revision_view).ok_or(Error::NotFound { what: "revision" })
    }

    /// Makes an old revision the newest one (a new revision; history is never rewritten).
    pub async fn restore(&self, user: &User, id: &StoryId, version: i64, current_version: i64) -> Result<StoryView> {
        let old = self.revision(Some(user), id, version).await?;
        let story = self.story(Some(user), id).await?;
        let update = StoryUpdate {
            version: current_version,
            title: old.title,
            body: old.body,
            tags: story.tags,
            visibility: None,
            status: None,
            autosave: false,
        };
        self.save_story(user, id, &update, Some(version)).await
    }

    /// What changed between two revisions, line by line.
    pub async fn diff(&self, user: Option<&User>, id: &StoryId, from: i64, to: i64) -> Result<Vec<types::DiffLine>> {
        let old = self.revision(user, id, from).await?;
        let new = self.revision(user, id, to).await?;
        Ok(diff_lines(&format!("# {}\n\n{}", old.title, old.body), &format!("# {}\n\n{}", new.title, new.body)))
    }

    /// Whether the user may create stories in the legacy, and manage its members.
    pub async fn abilities(&self, user: Option<&User>, legacy_id: &LegacyId) -> Result<(bool, bool)> {
        let reader = self.reader(user, legacy_id).await?;
        Ok((permissions::can_create_story(reader.role), permissions::can_manage_members(reader)))
    }

    // --- moderation ---

    pub async fn flag(&self, user: &User, story_id: &StoryId, reason: &str) -> Result<FlagId> {
        let story = repo::find_story(&self.db, story_id).await?.ok_or(Error::NotFound { what: "story" })?;
        let reader = self.reader(Some(user), &story.legacy_id).await?;
        if !permissions::can_flag(reader, story_facts(&story)) {
            return Err(story_refusal(reader, &story, "Only members of this legacy can flag its stories."));
        }
        let mut problems = Problems::default();
        let reason = validate::line(&mut problems, "reason", reason, true, 500);
        problems.into_result()?;
        repo::insert_flag(&self.db, story_id, &story.legacy_id, &user.id, &reason).await
    }

    pub async fn moderation_queue(&self, user: &User) -> Result<Vec<FlagView>> {
        let rows = repo::open_flags(&self.db, &user.id, user.role() == Role::Admin).await?;
        Ok(rows
            .into_iter()
            .map(|f| FlagView {
                id: f.id,
                subject: f.subject,
                story_id: f.story_id,
                comment_id: f.comment_id,
                media_id: f.media_id,
                title: f.title,
                excerpt: render::excerpt(&f.comment_body, 200),
                legacy_id: f.legacy_id,
                flagged_by_name: f.flagged_by_name,
                reason: f.reason,
                created_at: f.created_at,
            })
            .collect())
    }

    /// Resolves a flag: `dismiss` keeps what was reported, `remove` deletes it (a story
    /// with its media, a photo or recording, a comment).
    pub async fn resolve_flag(&self, user: &User, flag_id: &FlagId, action: &str) -> Result<()> {
        let flag = repo::find_open_flag(&self.db, flag_id).await?.ok_or(Error::NotFound { what: "flag" })?;
        let reader = self.reader(Some(user), &flag.legacy_id).await?;
        if !permissions::can_moderate(reader) {
            return Err(Error::NotFound { what: "flag" });
        }
        if !matches!(action, "dismiss" | "remove") {
            return Err(Error::invalid("action", "must be dismiss or remove"));
        }
        let comment = match (&flag.comment_id, action) {
            (Some(comment_id), "remove") => crate::conversation::repo::find(&self.db, comment_id).await?,
            _ => None,
        };
        let mut tx = self.db.begin().await?;
        if !repo::resolve_flag_tx(&mut tx, flag_id, &user.id, action).await? {
            return Err(Error::NotFound { what: "flag" });
        }
        match (action, flag.subject, &flag.story_id) {
            ("remove", SubjectKind::Comment, _) => {
                if let Some(comment) = comment {
                    crate::conversation::service::delete_comment_tx(&mut tx, &comment, &user.id, true).await?;
                }
            }
            ("remove", SubjectKind::Media, _) => {
                if let Some(media_id) = &flag.media_id {
                    crate::media::service::delete_tx(&mut tx, media_id, &user.id).await?;
                }
            }
            ("remove", _, Some(story_id)) => {
                let media = delete_with_media_tx(&mut tx, story_id, user).await?;
                let legacy_id = flag.legacy_id.clone();
                let deleted =
                    StoryDeleted { story_id: story_id.clone(), legacy_id, media_deleted: media, moderated: true };
                append(&mut tx, story_id, user, deleted).await?;
            }
            _ => {}
        }
        tx.commit().await
    }
}

/// Keeps the text of a save in the history, in the transaction whose story update holds
/// the story's row (so no other save of it runs meanwhile). Returns the version of the
/// revision that now holds this text.
///
/// - Text (title and body) equal to the newest revision's makes no revision: a save that
///   only publishes, or changes tags or visibility, or changes nothing, adds no identical
///   entry to the history.
/// - An author's autosave starts a working revision (`autosave`); their next autosaves
///   rewrite it in place, taking the story's new version number, as long as it is the
///   newest revision and nobody else saved since. Their next ordinary save (Publish, Save
///   draft) rewrites it one last time and completes it. So editing, pausing three times
///   and publishing adds one revision, not four.
/// - Anything else (someone else's edit, a restore, a save after a completed revision)
///   is a new revision.
async fn record_revision(
    tx: &mut Tx,
    story_id: &StoryId,
    save: &repo::NewRevision<'_>,
    saved_last_by_them: bool,
) -> Result<i64> {
    let Some(latest) = repo::latest_revision_tx(tx, story_id).await? else {
        repo::insert_revision_tx(tx, story_id, save).await?;
        return Ok(save.version);
    };
    let same_text = latest.title == save.title && latest.body == save.body;
    let working_copy =
        latest.autosave && &latest.author_id == save.author_id && saved_last_by_them && save.restored_from.is_none();
    if working_copy && !(same_text && save.autosave) {
        repo::rewrite_revision_tx(tx, story_id, latest.version, save).await?;
        Ok(save.version)
    } else if same_text {
        Ok(latest.version)
    } else {
        repo::insert_revision_tx(tx, story_id, save).await?;
        Ok(save.version)
    }
}

/// Deletes a story and, first, its photos and recordings (each with its `MediaDeleted`
/// event), in the caller's transaction; returns how many media items went with it. The
/// media row's foreign key refuses a story deleted from under its media, so an upload
/// attached meanwhile makes this fail (a conflict to retry) rather than outlive it.
async fn delete_with_media_tx(tx: &mut Tx, story_id: &StoryId, user: &User) -> Result<u64> {
    let media = crate::media::service::delete_story_media_tx(tx, story_id, &user.id).await?;
    match repo::delete_story_tx(tx, story_id).await {
        Err(Error::Database(sqlx::Error::Database(err))) if err.is_foreign_key_violation() => Err(Error::Conflict(
            "A photo or recording was being added to this story while it was deleted. Try deleting it again.".into(),
        )),
        other => other.map(|_| media as u64),
    }
}

/// Not-found for readers who cannot see the thing, forbidden for those who can.
impl Stories {
    /// An instance admin passes the member checks of any legacy id, one that names no legacy
    /// included; that is "not found", not a foreign-key failure (a 500) on the insert.
    async fn require_legacy(&self, reader: Reader<'_>, legacy_id: &LegacyId) -> Result<()> {
        if reader.role.is_none() && repo::find_legacy(&self.db, legacy_id).await?.is_none() {
            return Err(Error::NotFound { what: "legacy" });
        }
        Ok(())
    }
}

/// Checks a legacy's name, born, died and summary as typed.
fn legacy_text(input: &LegacyInput) -> Result<LegacyText> {
    let mut problems = Problems::default();
    let name = validate::line(&mut problems, "name", &input.name, true, 120);
    let born = validate::line(&mut problems, "born", &input.born, false, 40);
    let died = validate::line(&mut problems, "died", &input.died, false, 40);
    let summary = validate::multiline(&mut problems, "summary", &input.summary, 2000);
    problems.into_result()?;
    Ok(LegacyText { name, born, died, summary })
}

fn hidden_or_forbidden(reader: Reader, what: &'static str, message: &str) -> Error {
    if reader.role.is_none() && !reader.is_admin {
        Error::NotFound { what }
    } else {
        Error::Forbidden(message.into())
    }
}

fn story_refusal(reader: Reader, story: &StoryRow, message: &str) -> Error {
    if permissions::can_read(reader, story_facts(story)) {
        Error::Forbidden(message.into())
    } else {
        Error::NotFound { what: "story" }
    }
}

async fn append<P: EventPayload>(tx: &mut Tx, id: &str, user: &User, payload: P) -> Result<String> {
    events::append(tx, Event::of(id, Some(&user.id), payload)).await
}

fn invalid_invitation() -> Error {
    Error::invalid("invitation", "this invitation link is invalid, already used or expired")
}

fn parse_visibility(problems: &mut Problems, value: Option<&str>) -> Visibility {
    validate::choice(problems, "visibility", value, Visibility::Members, Visibility::parse, "private, members, public")
}

fn parse_status(problems: &mut Problems, value: Option<&str>) -> StoryStatus {
    validate::choice(problems, "status", value, StoryStatus::Draft, StoryStatus::parse, "draft, published")
}

/// The facts of a story that its permissions depend on.
pub(crate) fn story_facts(row: &StoryRow) -> StoryFacts<'_> {
    StoryFacts { author_id: &row.author_id, visibility: row.visibility, status: row.status }
}

fn legacy_view(row: LegacyRow, my_role: Option<LegacyRole>) -> LegacyView {
    LegacyView {
        id: row.id,
        name: row.name,
        born: row.born,
        died: row.died,
        summary: row.summary,
        cover_url: row.cover_url,
        created_at: row.created_at,
        version: row.version,
        my_role,
    }
}

fn story_view(row: StoryRow, tags: Vec<String>, reader: Reader) -> StoryView {
    let can_edit = permissions::can_edit(reader, story_facts(&row));
    let can_delete = permissions::can_delete(reader, story_facts(&row));
    StoryView {
        body_html: render::markdown_to_html(&row.body),
        word_count: render::word_count(&row.body),
        visibility: row.visibility,
        status: row.status,
        id: row.id,
        legacy_id: row.legacy_id,
        legacy_name: row.legacy_name,
        author_id: row.author_id,
        author_name: row.author_name,
        title: row.title,
        body: row.body,
        tags,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        updated_by_name: row.updated_by_name,
        published_at: row.published_at,
        can_edit,
        can_delete,
    }
}

fn revision_view(row: crate::stories::model::RevisionRow) -> RevisionView {
    RevisionView {
        version: row.version,
        title: row.title,
        body: row.body,
        author_name: row.author_name,
        created_at: row.created_at,
        restored_from: row.restored_from,
        autosave: row.autosave,
    }
}

/// A line diff (the title counts as the first line).
pub fn diff_lines(old: &str, new: &str) -> Vec<types::DiffLine> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| types::DiffLine {
            kind: match change.tag() {
                similar::ChangeTag::Equal => "same",
                similar::ChangeTag::Insert => "added",
                similar::ChangeTag::Delete => "removed",
            }
            .to_string(),
            text: change.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
pub fn relative_time(elapsed_ms: i64) -> String {
    let minutes = elapsed_ms.max(0) / 60_000;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match minutes {
        0 => "just now".into(),
        1..=59 => plural(minutes, "minute"),
        60..=2879 => plural(minutes / 60, "hour"),
        _ => plural(minutes / 1440, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_mark_added_and_removed_lines() {
        let diff = diff_lines("a\nb\nc\n", "a\nB\nc\n");
        let kinds: Vec<(&str, &str)> = diff.iter().map(|d| (d.kind.as_str(), d.text.as_str())).collect();
        assert_eq!(kinds, [("same", "a"), ("removed", "b"), ("added", "B"), ("same", "c")]);
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative_time(5_000), "just now");
        assert_eq!(relative_time(60_000), "1 minute ago");
        assert_eq!(relative_time(120_000), "2 minutes ago");
        assert_eq!(relative_time(3 * 3_600_000), "3 hours ago");
        assert_eq!(relative_time(3 * 86_400_000), "3 days ago");
    }
}
