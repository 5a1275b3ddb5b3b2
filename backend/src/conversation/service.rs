//! The rules of the conversation: who reads it (whoever may read the story or item), who
//! takes part (its legacy's members among them), who edits (a comment's author) and who
//! deletes (its author, the legacy's owners, instance admins). Each write is one
//! transaction with its outbox event.

use std::collections::HashMap;
use std::sync::Arc;

use types::events::{CommentAdded, CommentDeleted, CommentEdited, CommentFacts, ReactionChanged};
use types::{
    CommentId, CommentInput, CommentUpdate, CommentView, ConversationView, ErrorCode, FlagId, LegacyId, MediaId,
    ReactionCount, ReactionInput, ReactionKind, SubjectKind, UserId,
};

use crate::conversation::model::{CommentRow, ReactionRow, Subject, Thread, COMMENT_MAX_CHARS};
use crate::conversation::repo::{self, NewComment, ReactionTarget};
use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::events::{self, Event};
use crate::identity::{Role, User};
use crate::media::Media;
use crate::stories::permissions::{self, Reader};
use crate::stories::render;
use crate::stories::service::story_facts;
use crate::stories::Stories;
use crate::time::{new_id, now_millis};
use crate::validate::{self, Problems};

pub struct Conversation {
    db: Db,
    stories: Arc<Stories>,
    media: Arc<Media>,
}

/// What one reader may do in one thread they can read.
struct Access {
    legacy_id: LegacyId,
    /// Comment and react: a member of the legacy.
    take_part: bool,
    /// Delete anyone's comment: the legacy's owners and instance admins.
    moderate: bool,
}

impl Conversation {
    pub fn new(db: Db, stories: Arc<Stories>, media: Arc<Media>) -> Conversation {
        Conversation { db, stories, media }
    }

    /// The reader's access to the thread; "not found" when they cannot read what it is
    /// on, in the words that thing's own page uses.
    async fn access(&self, user: Option<&User>, thread: &Thread) -> Result<Access> {
        let (legacy_id, readable) = match thread {
            Thread::Story(id) => {
                let story = self.stories.story_row(id).await?.ok_or(Error::NotFound { what: "story" })?;
                let role = self.role(user, &story.legacy_id).await?;
                let readable = permissions::can_read(reader(user, role), story_facts(&story));
                (story.legacy_id.clone(), readable.then_some(role))
            }
            Thread::Media(id) => {
                // Answers "not found" itself when the reader may not see the item.
                let item = self.media.media(user, id).await?;
                let role = self.role(user, &item.legacy_id).await?;
                (item.legacy_id, Some(role))
            }
        };
        let Some(role) = readable else {
            return Err(Error::NotFound { what: thread_name(thread) });
        };
        let reader = reader(user, role);
        Ok(Access { legacy_id, take_part: role.is_some(), moderate: permissions::can_moderate(reader) })
    }

    async fn role(&self, user: Option<&User>, legacy_id: &LegacyId) -> Result<Option<types::LegacyRole>> {
        match user {
            Some(user) => self.stories.role_in(legacy_id, user).await,
            None => Ok(None),
        }
    }

    /// A comment that is not deleted, with the thread it is on and the reader's access there.
    async fn live_comment(&self, user: &User, id: &CommentId) -> Result<(CommentRow, Thread, Access)> {
        let row =
            repo::find(&self.db, id).await?.filter(|c| !c.is_deleted()).ok_or(Error::NotFound { what: "comment" })?;
        let thread = row.thread()?;
        let access = self.access(Some(user), &thread).await.map_err(|err| match err {
            Error::NotFound { .. } => Error::NotFound { what: "comment" },
            other => other,
        })?;
        Ok((row, thread, access))
    }

    /// The conversation on a story or item: its reactions and comments with their replies.
    pub async fn conversation(&self, user: Option<&User>, thread: &Thread) -> Result<ConversationView> {
        let access = self.access(user, thread).await?;
        let rows = repo::comments_on(&self.db, thread).await?;
        let mut reactions: HashMap<String, Vec<ReactionRow>> = HashMap::new();
        for reaction in repo::reactions_in(&self.db, thread).await? {
            reactions.entry(reaction.subject_id.clone()).or_default().push(reaction);
        }
        let me = user.map(|u| &u.id);
        let view_of = |row: &CommentRow| comment_view(row, me, &access, reactions.get(row.id.as_str()));
        let mut replies: HashMap<&CommentId, Vec<CommentView>> = HashMap::new();
        for row in rows.iter().filter(|r| !r.is_deleted()) {
            if let Some(parent_id) = &row.parent_id {
                replies.entry(parent_id).or_default().push(view_of(row));
            }
        }
        let mut comments = Vec::new();
        for row in rows.iter().filter(|r| r.parent_id.is_none()) {
            let answers = replies.remove(&row.id).unwrap_or_default();
            // A deleted comment stays only as the place its replies hang from.
            if row.is_deleted() && answers.is_empty() {
                continue;
            }
            comments.push(CommentView { replies: answers, ..view_of(row) });
        }
        Ok(ConversationView {
            subject: thread.kind(),
            story_id: thread.story_id().cloned(),
            media_id: thread.media_id().cloned(),
            reactions: tally(reactions.get(thread.id()).map(Vec::as_slice).unwrap_or_default(), me),
            comments,
            count: rows.iter().filter(|r| !r.is_deleted()).count() as i64,
            can_take_part: access.take_part,
        })
    }

    /// Adds a comment, or a reply (`parent_id`; a reply to a reply answers its top-level
    /// comment, so replies stay one level deep).
    pub async fn comment(&self, user: &User, thread: &Thread, input: &CommentInput) -> Result<CommentView> {
        let access = self.access(Some(user), thread).await?;
        if !access.take_part {
            return Err(Error::Forbidden("Only members of this legacy can comment here.".into()));
        }
        let mut problems = Problems::default();
        let body = comment_body(&mut problems, &input.body);
        let parent_id = match input.parent_id.as_ref().map(|id| id.trim()).filter(|id| !id.is_empty()) {
            None => None,
            Some(id) => match repo::find(&self.db, &CommentId::from(id)).await? {
                Some(parent) if !parent.is_deleted() && parent.thread()? == *thread => {
                    Some(parent.parent_id.unwrap_or(parent.id))
                }
                _ => {
                    problems.add("parent_id", "is not a comment here that can be answered");
                    None
                }
            },
        };
        problems.into_result()?;
        let id = CommentId::new(new_id());
        let new = NewComment {
            id: &id,
            legacy_id: &access.legacy_id,
            thread,
            parent_id: parent_id.as_ref(),
            author_id: &user.id,
            body: &body,
            created_at: now_millis(),
        };
        let mut tx = self.db.begin().await?;
        repo::insert_tx(&mut tx, &new).await?;
        let added =
            CommentAdded { comment: facts(&id, &access.legacy_id, thread), parent_id, author_id: user.id.clone() };
        append(&mut tx, &id, user, added).await?;
        tx.commit().await?;
        self.comment_view(user, &id).await
    }

    /// One comment as its reader sees it (reactions included).
    pub async fn comment_view(&self, user: &User, id: &CommentId) -> Result<CommentView> {
        let (row, _, access) = self.live_comment(user, id).await?;
        let reactions = repo::reactions_on(&self.db, id).await?;
        Ok(comment_view(&row, Some(&user.id), &access, Some(&reactions)))
    }

    /// Changes a comment's text: its author only, from the version they saw.
    pub async fn edit_comment(&self, user: &User, id: &CommentId, update: &CommentUpdate) -> Result<CommentView> {
        let (row, thread, access) = self.live_comment(user, id).await?;
        if row.author_id != user.id || !access.take_part {
            return Err(Error::Forbidden("Only its author may change a comment.".into()));
        }
        let mut problems = Problems::default();
        let body = comment_body(&mut problems, &update.body);
        problems.into_result()?;
        let mut tx = self.db.begin().await?;
        if !repo::update_body_tx(&mut tx, id, &body, update.version).await? {
            return Err(Error::conflict(
                ErrorCode::CommentVersionConflict,
                "This comment was changed meanwhile; reload and try again.",
            ));
        }
        let edited = CommentEdited { comment: facts(id, &access.legacy_id, &thread), version: row.version + 1 };
        append(&mut tx, id, user, edited).await?;
        tx.commit().await?;
        self.comment_view(user, id).await
    }

    /// Deletes a comment (its author, or a moderator); returns the thread it was on.
    pub async fn delete_comment(&self, user: &User, id: &CommentId) -> Result<Thread> {
        let (row, thread, access) = self.live_comment(user, id).await?;
        let by_author = row.author_id == user.id;
        if !by_author && !access.moderate {
            return Err(Error::Forbidden("Only its author and the legacy's owners may delete a comment.".into()));
        }
        let mut tx = self.db.begin().await?;
        delete_comment_tx(&mut tx, &row, &user.id, !by_author).await?;
        tx.commit().await?;
        Ok(thread)
    }

    /// Adds, takes away or toggles (`on` absent) the user's reaction; returns the thing's
    /// reactions after.
    pub async fn react(&self, user: &User, subject: &Subject, input: &ReactionInput) -> Result<Vec<ReactionCount>> {
        let Some(reaction) = ReactionKind::parse(input.reaction.trim()) else {
            let names = ReactionKind::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
            return Err(Error::invalid("reaction", &format!("must be one of {names}")));
        };
        let (thread, comment, access) = match subject {
            Subject::Thread(thread) => (thread.clone(), None, self.access(Some(user), thread).await?),
            Subject::Comment(id) => {
                let (row, thread, access) = self.live_comment(user, id).await?;
                (thread, Some(row.id), access)
            }
        };
        if !access.take_part {
            return Err(Error::Forbidden("Only members of this legacy can react here.".into()));
        }
        let (kind, subject_id) = match &comment {
            Some(id) => (SubjectKind::Comment, id.as_str()),
            None => (thread.kind(), thread.id()),
        };
        let on = match input.on {
            Some(on) => on,
            None => !repo::has_reaction(&self.db, subject_id, &user.id, reaction).await?,
        };
        let target = ReactionTarget {
            subject: kind,
            subject_id,
            legacy_id: &access.legacy_id,
            thread: comment.is_none().then_some(&thread),
            comment_id: comment.as_ref(),
        };
        let mut tx = self.db.begin().await?;
        let changed = if on {
            repo::add_reaction_tx(&mut tx, &target, &user.id, reaction).await?
        } else {
            repo::remove_reaction_tx(&mut tx, subject_id, &user.id, reaction).await?
        };
        if changed {
            let event = ReactionChanged {
                subject: kind,
                subject_id: subject_id.to_string(),
                legacy_id: access.legacy_id.clone(),
                user_id: user.id.clone(),
                reaction,
                on,
            };
            append(&mut tx, subject_id, user, event).await?;
        }
        tx.commit().await?;
        Ok(tally(&repo::reactions_on(&self.db, subject_id).await?, Some(&user.id)))
    }

    /// Reports a comment to the legacy's owners (a member who can read it).
    pub async fn flag_comment(&self, user: &User, id: &CommentId, reason: &str) -> Result<FlagId> {
        let (row, _, access) = self.live_comment(user, id).await?;
        if !access.take_part {
            return Err(Error::Forbidden("Only members of this legacy can report its comments.".into()));
        }
        let mut problems = Problems::default();
        let reason = validate::line(&mut problems, "reason", reason, true, 500);
        problems.into_result()?;
        repo::insert_flag(&self.db, &row, &user.id, &reason).await
    }

    /// Reports a photo or recording to the legacy's owners (members only).
    pub async fn flag_media(&self, user: &User, id: &MediaId, reason: &str) -> Result<FlagId> {
        let access = self.access(Some(user), &Thread::Media(id.clone())).await?;
        if !access.take_part {
            return Err(Error::Forbidden("Only members of this legacy can report its photos and recordings.".into()));
        }
        let mut problems = Problems::default();
        let reason = validate::line(&mut problems, "reason", reason, true, 500);
        problems.into_result()?;
        let story_id = crate::media::repo::find(&self.db, id).await?.and_then(|row| row.story_id);
        repo::insert_media_flag(&self.db, id, story_id.as_ref(), &access.legacy_id, &user.id, &reason).await
    }

    /// The thread a comment is on, deleted or not (where a page goes back to).
    pub async fn thread_of(&self, id: &CommentId) -> Result<Option<Thread>> {
        repo::find(&self.db, id).await?.map(|row| row.thread()).transpose()
    }
}

/// Deletes the comment with its `CommentDeleted` event, in the caller's transaction (a
/// moderator's resolution deletes it with the flag). False when it was deleted already.
pub(crate) async fn delete_comment_tx(tx: &mut Tx, row: &CommentRow, actor: &UserId, moderated: bool) -> Result<bool> {
    if !repo::delete_tx(tx, &row.id, actor).await? {
        return Ok(false);
    }
    let deleted = CommentDeleted { comment: facts(&row.id, &row.legacy_id, &row.thread()?), moderated };
    events::append(tx, Event::of(&row.id, Some(actor), deleted)).await?;
    Ok(true)
}

fn reader(user: Option<&User>, role: Option<types::LegacyRole>) -> Reader<'_> {
    Reader { user_id: user.map(|u| u.id.as_str()), is_admin: user.is_some_and(|u| u.role() == Role::Admin), role }
}

fn thread_name(thread: &Thread) -> &'static str {
    match thread {
        Thread::Story(_) => "story",
        Thread::Media(_) => "media item",
    }
}

fn comment_body(problems: &mut Problems, body: &str) -> String {
    let body = validate::multiline(problems, "body", body, COMMENT_MAX_CHARS);
    if body.is_empty() {
        problems.add("body", "is required");
    }
    body
}

fn facts(id: &CommentId, legacy_id: &LegacyId, thread: &Thread) -> CommentFacts {
    CommentFacts {
        comment_id: id.clone(),
        legacy_id: legacy_id.clone(),
        story_id: thread.story_id().cloned(),
        media_id: thread.media_id().cloned(),
    }
}

async fn append<P: types::events::EventPayload>(tx: &mut Tx, id: &str, user: &User, payload: P) -> Result<String> {
    events::append(tx, Event::of(id, Some(&user.id), payload)).await
}

/// The reactions on one thing, in the fixed order of [`ReactionKind::ALL`], each with
/// who reacted; only those someone gave.
fn tally(rows: &[ReactionRow], me: Option<&UserId>) -> Vec<ReactionCount> {
    ReactionKind::ALL
        .iter()
        .filter_map(|&kind| {
            let given: Vec<&ReactionRow> = rows.iter().filter(|r| r.reaction == kind).collect();
            (!given.is_empty()).then(|| ReactionCount {
                reaction: kind,
                count: given.len() as i64,
                mine: me.is_some_and(|me| given.iter().any(|r| &r.user_id == me)),
                names: given.iter().map(|r| r.display_name.clone()).collect(),
            })
        })
        .collect()
}

/// A comment as `me` sees it; a deleted one shows neither author nor text.
fn comment_view(
    row: &CommentRow,
    me: Option<&UserId>,
    access: &Access,
    reactions: Option<&Vec<ReactionRow>>,
) -> CommentView {
    let deleted = row.is_deleted();
    let mine = me == Some(&row.author_id);
    CommentView {
        id: row.id.clone(),
        parent_id: row.parent_id.clone(),
        author_id: if deleted { UserId::default() } else { row.author_id.clone() },
        author_name: if deleted { String::new() } else { row.author_name.clone() },
        body: row.body.clone(),
        body_html: if deleted { String::new() } else { render::comment_to_html(&row.body) },
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted,
        version: row.version,
        can_edit: !deleted && mine && access.take_part,
        can_delete: !deleted && (mine || access.moderate),
        reactions: if deleted { Vec::new() } else { tally(reactions.map(Vec::as_slice).unwrap_or_default(), me) },
        replies: Vec::new(),
    }
}
