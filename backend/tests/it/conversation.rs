//! Comments and reactions through the service, on SQLite and PostgreSQL: who reads and
//! who takes part for every visibility × role, one level of replies, editing and
//! deleting (author, owner, nobody else), reactions toggled with their counts, reports
//! into the moderation queue, comments on media items, sanitized text, and the events.

use std::sync::Arc;

use backend::conversation::{Conversation, Subject, Thread};
use backend::db::Db;
use backend::identity::{repo as users, NewUser, Role, User};
use backend::media::Media;
use backend::stories::Stories;
use backend::{db_test, events, Error};
use types::{
    CommentInput, CommentUpdate, ErrorCode, LegacyId, LegacyInput, LegacyRole, ReactionInput, ReactionKind, StoryId,
    StoryInput, StoryStatus, Visibility,
};

/// A legacy with its owner, and the services around it (the activity tests' too).
pub(crate) struct World {
    pub stories: Arc<Stories>,
    pub conversation: Conversation,
    pub media: Arc<Media>,
    /// Owns the legacy and writes its stories.
    pub owner: User,
    pub legacy_id: LegacyId,
    pub dir: tempfile::TempDir,
}

pub(crate) async fn user(db: &Db, name: &str) -> User {
    users::insert(db, &NewUser::new(&format!("{name}@example.org"), name, Role::Member).unwrap()).await.unwrap()
}

impl World {
    pub async fn new(db: &Db) -> World {
        let dir = tempfile::tempdir().unwrap();
        let stories = Arc::new(Stories::new(db.clone()));
        let media = crate::media_pipeline::media_in(db, dir.path());
        let owner = user(db, "ann").await;
        let input = LegacyInput { name: "Rosa".into(), born: "1931".into(), died: "2019".into(), summary: "".into() };
        let legacy = stories.create_legacy(&owner, &input, None).await.unwrap();
        let conversation = Conversation::new(db.clone(), stories.clone(), media.clone());
        World { stories, conversation, media, owner, legacy_id: legacy.id, dir }
    }

    /// A member with `role` (or a signed-in outsider with `None`).
    pub async fn member(&self, db: &Db, name: &str, role: Option<LegacyRole>) -> User {
        let user = user(db, name).await;
        if let Some(role) = role {
            let token = self.stories.invite(&self.owner, &self.legacy_id, role.as_str(), 7, None).await.unwrap();
            self.stories.accept_invitation(&user, &token).await.unwrap();
        }
        user
    }

    async fn story(&self, author: &User, visibility: Visibility, status: StoryStatus) -> StoryId {
        self.titled_story(author, &format!("{visibility} {status}"), visibility, status).await
    }

    pub async fn titled_story(
        &self,
        author: &User,
        title: &str,
        visibility: Visibility,
        status: StoryStatus,
    ) -> StoryId {
        let input = StoryInput {
            legacy_id: self.legacy_id.clone(),
            title: title.into(),
            body: "She kept bees.".into(),
            tags: vec![],
            visibility: Some(visibility.as_str().into()),
            status: Some(status.as_str().into()),
        };
        self.stories.create_story(author, &input, None).await.unwrap().id
    }

    /// A photo of the legacy, added by its owner.
    pub async fn photo(&self) -> types::MediaView {
        let jpeg = crate::media_pipeline::jpeg(8, 8);
        self.media
            .add_file(&self.owner, &self.legacy_id, "rosa.jpg", "image/jpeg", &jpeg, self.dir.path())
            .await
            .unwrap()
    }

    pub async fn say(
        &self,
        who: &User,
        thread: &Thread,
        body: &str,
        parent: Option<&types::CommentId>,
    ) -> types::CommentView {
        let input = CommentInput { body: body.into(), parent_id: parent.cloned() };
        self.conversation.comment(who, thread, &input).await.unwrap()
    }
}

fn reaction(name: &str) -> ReactionInput {
    ReactionInput { reaction: name.into(), on: None }
}

db_test!(who_reads_and_who_takes_part_follows_the_story_for_every_visibility_and_role, |db| {
    use LegacyRole::*;
    let world = World::new(db).await;
    let editor = world.member(db, "eve", Some(Editor)).await;
    let contributor = world.member(db, "cy", Some(Contributor)).await;
    let viewer = world.member(db, "vi", Some(Viewer)).await;
    let outsider = world.member(db, "otto", None).await;
    // (visibility, status, [owner-author, editor, contributor, viewer, outsider, signed out])
    // each: None = not found, Some(false) = reads only, Some(true) = reads and takes part.
    type Row = (Visibility, StoryStatus, [Option<bool>; 6]);
    let (r, t) = (Some(false), Some(true));
    let table: &[Row] = &[
        (Visibility::Public, StoryStatus::Published, [t, t, t, t, r, r]),
        (Visibility::Members, StoryStatus::Published, [t, t, t, t, None, None]),
        (Visibility::Private, StoryStatus::Published, [t, None, None, None, None, None]),
        (Visibility::Members, StoryStatus::Draft, [t, t, None, None, None, None]),
        (Visibility::Public, StoryStatus::Draft, [t, t, None, None, None, None]),
    ];
    let readers = [Some(&world.owner), Some(&editor), Some(&contributor), Some(&viewer), Some(&outsider), None];
    for (visibility, status, expected) in table {
        let thread = Thread::Story(world.story(&world.owner, *visibility, *status).await);
        for (who, want) in readers.iter().zip(expected) {
            let name = who.map_or("signed out", |u| u.display_name.as_str());
            let seen = world.conversation.conversation(*who, &thread).await;
            match want {
                None => assert!(matches!(seen, Err(Error::NotFound { what: "story" })), "{name} {visibility} {status}"),
                Some(take_part) => {
                    let seen = seen.unwrap_or_else(|e| panic!("{name} {visibility} {status}: {e}"));
                    assert_eq!(seen.can_take_part, *take_part, "{name} {visibility} {status}");
                }
            }
            let Some(who) = who else { continue };
            let said =
                world.conversation.comment(who, &thread, &CommentInput { body: "Hello".into(), parent_id: None }).await;
            let reacted = world.conversation.react(who, &Subject::Thread(thread.clone()), &reaction("heart")).await;
            match want {
                Some(true) => {
                    said.unwrap();
                    reacted.unwrap();
                }
                Some(false) => {
                    assert!(matches!(said, Err(Error::Forbidden(_))), "{name} {visibility} {status}");
                    assert!(matches!(reacted, Err(Error::Forbidden(_))), "{name} {visibility} {status}");
                }
                None => {
                    assert!(matches!(said, Err(Error::NotFound { .. })), "{name} {visibility} {status}");
                    assert!(matches!(reacted, Err(Error::NotFound { .. })), "{name} {visibility} {status}");
                }
            }
        }
    }
});

db_test!(replies_stay_one_level_deep_and_a_deleted_comment_keeps_its_replies_place, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Viewer)).await;
    let thread = Thread::Story(world.story(&world.owner, Visibility::Members, StoryStatus::Published).await);
    let first = world.say(&world.owner, &thread, "Who took this photo?", None).await;
    let reply = world.say(&bo, &thread, "Uncle Jim, in **1962**.", Some(&first.id)).await;
    // A reply to a reply answers the top-level comment.
    let deeper = world.say(&world.owner, &thread, "Thank you!", Some(&reply.id)).await;
    assert_eq!(reply.parent_id.as_ref(), Some(&first.id));
    assert_eq!(deeper.parent_id.as_ref(), Some(&first.id));
    assert_eq!(reply.body_html, "<p>Uncle Jim, in <strong>1962</strong>.</p>\n");

    let seen = world.conversation.conversation(Some(&bo), &thread).await.unwrap();
    assert_eq!(seen.count, 3);
    assert_eq!(seen.comments.len(), 1);
    let replies: Vec<_> = seen.comments[0].replies.iter().map(|c| c.id.clone()).collect();
    assert_eq!(replies, [reply.id.clone(), deeper.id.clone()]);
    assert!(!seen.comments[0].can_edit && !seen.comments[0].can_delete, "bo may not touch ann's comment");
    assert!(seen.comments[0].replies[0].can_edit && seen.comments[0].replies[0].can_delete);

    // A reply names a comment of this thread that still stands.
    let other = Thread::Story(world.story(&world.owner, Visibility::Members, StoryStatus::Published).await);
    let elsewhere = CommentInput { body: "x".into(), parent_id: Some(first.id.clone()) };
    let refused = world.conversation.comment(&bo, &other, &elsewhere).await.unwrap_err();
    assert!(matches!(&refused, Error::Invalid(f) if f[0].field == "parent_id"), "{refused:?}");

    // The owner deletes the question: it stays as a placeholder while replies hang from it.
    world.conversation.delete_comment(&world.owner, &first.id).await.unwrap();
    let seen = world.conversation.conversation(Some(&bo), &thread).await.unwrap();
    assert_eq!(seen.count, 2);
    let placeholder = &seen.comments[0];
    assert!(placeholder.deleted && placeholder.body.is_empty() && placeholder.author_name.is_empty());
    assert_eq!(placeholder.replies.len(), 2);
    let answer = CommentInput { body: "late".into(), parent_id: Some(first.id.clone()) };
    assert!(matches!(world.conversation.comment(&bo, &thread, &answer).await, Err(Error::Invalid(_))));
    // Its replies gone too, nothing is left of it.
    world.conversation.delete_comment(&bo, &reply.id).await.unwrap();
    world.conversation.delete_comment(&world.owner, &deeper.id).await.unwrap();
    let seen = world.conversation.conversation(Some(&bo), &thread).await.unwrap();
    assert_eq!((seen.count, seen.comments.len()), (0, 0));
    assert!(matches!(world.conversation.delete_comment(&bo, &reply.id).await, Err(Error::NotFound { .. })));
});

db_test!(only_the_author_edits_and_the_author_or_an_owner_deletes, |db| {
    let world = World::new(db).await;
    let editor = world.member(db, "eve", Some(LegacyRole::Editor)).await;
    let viewer = world.member(db, "vi", Some(LegacyRole::Viewer)).await;
    let thread = Thread::Story(world.story(&world.owner, Visibility::Members, StoryStatus::Published).await);
    let said = world.say(&viewer, &thread, "First  version", None).await;

    let change = CommentUpdate { body: "Second version".into(), version: said.version };
    assert!(matches!(world.conversation.edit_comment(&editor, &said.id, &change).await, Err(Error::Forbidden(_))));
    assert!(matches!(world.conversation.edit_comment(&world.owner, &said.id, &change).await, Err(Error::Forbidden(_))));
    let edited = world.conversation.edit_comment(&viewer, &said.id, &change).await.unwrap();
    assert_eq!((edited.body.as_str(), edited.version), ("Second version", said.version + 1));
    assert!(edited.edited_at.is_some());
    // From the version it saw: a stale edit is refused, the text stays.
    let stale = world.conversation.edit_comment(&viewer, &said.id, &change).await.unwrap_err();
    assert!(matches!(&stale, Error::Conflict(r) if r.code == Some(ErrorCode::CommentVersionConflict)), "{stale:?}");
    let blank = CommentUpdate { body: " \n ".into(), version: edited.version };
    assert!(matches!(world.conversation.edit_comment(&viewer, &said.id, &blank).await, Err(Error::Invalid(_))));
    let too_long = CommentUpdate { body: "a".repeat(5001), version: edited.version };
    assert!(matches!(world.conversation.edit_comment(&viewer, &said.id, &too_long).await, Err(Error::Invalid(_))));
    let seen = world.conversation.conversation(Some(&viewer), &thread).await.unwrap();
    assert_eq!(seen.comments[0].body, "Second version");

    // An editor is not a moderator; the owner is.
    assert!(matches!(world.conversation.delete_comment(&editor, &said.id).await, Err(Error::Forbidden(_))));
    world.conversation.delete_comment(&world.owner, &said.id).await.unwrap();
    let events = events::outbox::events_for(db, "comment", &said.id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["CommentAdded", "CommentEdited", "CommentDeleted"]);
    assert_eq!(events[2].payload["moderated"], true);
    assert_eq!(events[0].payload["story_id"], thread.id());
});

db_test!(reactions_toggle_and_say_who_reacted, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Viewer)).await;
    let story = Thread::Story(world.story(&world.owner, Visibility::Members, StoryStatus::Published).await);
    let on_story = Subject::Thread(story.clone());
    world.conversation.react(&world.owner, &on_story, &reaction("heart")).await.unwrap();
    let counts = world.conversation.react(&bo, &on_story, &reaction("heart")).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].reaction, counts[0].count, counts[0].mine), (ReactionKind::Heart, 2, true));
    assert_eq!(counts[0].names, ["ann", "bo"]);
    // Toggled off; `on` sets it whatever it was, so a repeat changes nothing.
    let counts = world.conversation.react(&bo, &on_story, &reaction("heart")).await.unwrap();
    assert_eq!((counts[0].count, counts[0].mine), (1, false));
    let set = ReactionInput { reaction: "candle".into(), on: Some(true) };
    world.conversation.react(&bo, &on_story, &set).await.unwrap();
    let counts = world.conversation.react(&bo, &on_story, &set).await.unwrap();
    let kinds: Vec<_> = counts.iter().map(|c| (c.reaction, c.count)).collect();
    assert_eq!(kinds, [(ReactionKind::Heart, 1), (ReactionKind::Candle, 1)]);

    let before = events::outbox::count(db).await.unwrap();
    let refused = world.conversation.react(&bo, &on_story, &reaction("thumbs")).await.unwrap_err();
    assert!(matches!(&refused, Error::Invalid(f) if f[0].field == "reaction" && f[0].message.contains("heart")));
    assert_eq!(events::outbox::count(db).await.unwrap(), before, "nothing changed");

    // On a comment, and the whole conversation's view of them.
    let said = world.say(&bo, &story, "Lovely", None).await;
    world.conversation.react(&world.owner, &Subject::Comment(said.id.clone()), &reaction("hug")).await.unwrap();
    let seen = world.conversation.conversation(Some(&world.owner), &story).await.unwrap();
    assert_eq!(seen.reactions.iter().map(|c| c.count).sum::<i64>(), 2);
    assert_eq!(seen.comments[0].reactions[0].reaction, ReactionKind::Hug);
    assert!(seen.comments[0].reactions[0].mine);
    // A member who leaves can no longer react, nor read a members-only story's conversation.
    world.stories.set_member(&world.owner, &world.legacy_id, &bo.id, None).await.unwrap();
    assert!(matches!(world.conversation.react(&bo, &on_story, &reaction("smile")).await, Err(Error::NotFound { .. })));
});

db_test!(a_reported_comment_reaches_the_owner_and_removing_it_deletes_it, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Viewer)).await;
    let cy = world.member(db, "cy", Some(LegacyRole::Contributor)).await;
    let thread = Thread::Story(world.story(&world.owner, Visibility::Members, StoryStatus::Published).await);
    let rude = world.say(&bo, &thread, "Something unkind", None).await;
    assert!(matches!(world.conversation.flag_comment(&cy, &rude.id, " ").await, Err(Error::Invalid(_))));
    world.conversation.flag_comment(&cy, &rude.id, "Unkind").await.unwrap();
    assert!(world.stories.moderation_queue(&cy).await.unwrap().is_empty(), "not cy's to review");
    let queue = world.stories.moderation_queue(&world.owner).await.unwrap();
    assert_eq!(queue.len(), 1);
    let flag = &queue[0];
    assert_eq!(flag.subject, types::SubjectKind::Comment);
    assert_eq!((flag.comment_id.as_ref(), flag.story_id.as_deref()), (Some(&rude.id), Some(thread.id())));
    assert_eq!((flag.excerpt.as_str(), flag.title.as_str()), ("Something unkind", "members published"));

    world.stories.resolve_flag(&world.owner, &flag.id, "remove").await.unwrap();
    let seen = world.conversation.conversation(Some(&bo), &thread).await.unwrap();
    assert_eq!(seen.count, 0);
    assert!(world.stories.moderation_queue(&world.owner).await.unwrap().is_empty());
    // The story itself stands.
    world.stories.story(Some(&bo), thread.story_id().unwrap()).await.unwrap();

    // A report of a comment its author deleted since is moot: it leaves the queue.
    let second = world.say(&bo, &thread, "Another", None).await;
    world.conversation.flag_comment(&cy, &second.id, "Also unkind").await.unwrap();
    world.conversation.delete_comment(&bo, &second.id).await.unwrap();
    assert!(world.stories.moderation_queue(&world.owner).await.unwrap().is_empty());
});

db_test!(a_reported_photo_reaches_the_owner_and_removing_it_deletes_it, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Viewer)).await;
    let outsider = world.member(db, "otto", None).await;
    let item = world.photo().await;
    let refused = world.conversation.flag_media(&outsider, &item.id, "Not theirs").await;
    assert!(matches!(refused, Err(Error::NotFound { .. })), "{refused:?}");
    assert!(matches!(world.conversation.flag_media(&bo, &item.id, "").await, Err(Error::Invalid(_))));
    world.conversation.flag_media(&bo, &item.id, "Not our family").await.unwrap();
    assert!(world.stories.moderation_queue(&bo).await.unwrap().is_empty(), "not bo's to review");
    let queue = world.stories.moderation_queue(&world.owner).await.unwrap();
    assert_eq!(queue.len(), 1);
    let flag = &queue[0];
    assert_eq!(
        (flag.subject, flag.media_id.as_ref(), flag.reason.as_str()),
        (types::SubjectKind::Media, Some(&item.id), "Not our family")
    );

    let before = events::outbox::count(db).await.unwrap();
    world.stories.resolve_flag(&world.owner, &flag.id, "remove").await.unwrap();
    assert!(matches!(world.media.media(Some(&world.owner), &item.id).await, Err(Error::NotFound { .. })), "removed");
    assert_eq!(events::outbox::count(db).await.unwrap(), before + 1, "its MediaDeleted event, for its files");
    assert!(world.stories.moderation_queue(&world.owner).await.unwrap().is_empty());
});

db_test!(media_items_have_conversations_for_those_who_may_see_them, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Viewer)).await;
    let outsider = world.member(db, "otto", None).await;
    let item = world.photo().await;
    let thread = Thread::Media(item.id.clone());
    world.say(&bo, &thread, "<script>alert(1)</script> She looks happy", None).await;
    let seen = world.conversation.conversation(Some(&world.owner), &thread).await.unwrap();
    assert_eq!(seen.count, 1);
    assert_eq!(seen.comments[0].body_html, "<p>&lt;script&gt;alert(1)&lt;/script&gt; She looks happy</p>\n");
    assert!(matches!(
        world.conversation.conversation(Some(&outsider), &thread).await,
        Err(Error::NotFound { what: "media item" })
    ));
    assert!(matches!(world.conversation.conversation(None, &thread).await, Err(Error::NotFound { .. })));
    // Deleting the item deletes its conversation.
    world.media.delete(&world.owner, &item.id).await.unwrap();
    assert!(matches!(world.conversation.conversation(Some(&world.owner), &thread).await, Err(Error::NotFound { .. })));
    let left: i64 = db.scalar("SELECT COUNT(*) FROM comments", backend::args![]).await.unwrap();
    assert_eq!(left, 0);
});
