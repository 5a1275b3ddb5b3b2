//! The activity feed on SQLite and PostgreSQL: the projection written by its consumer
//! from the outbox, unchanged by redelivered events and the same when rebuilt; like
//! events grouped; and the feed filtered at read time for every visibility × role, a
//! member who leaves losing the legacy's rows at once.

use std::sync::Arc;
use std::time::Duration;

use backend::activity::{Activity, FeedRequest};
use backend::conversation::{Subject, Thread};
use backend::db::Db;
use backend::db_test;
use backend::events::{outbox, Dispatcher, RetryPolicy};
use backend::identity::User;
use types::events::EventType;
use types::{ActivityKind, CommentInput, FeedPage, LegacyRole, ReactionInput, StoryId, StoryStatus, Visibility};

/// The conversation tests' legacy, with the feed and a dispatcher feeding it.
struct World {
    family: crate::conversation::World,
    activity: Arc<Activity>,
    dispatcher: Dispatcher,
}

impl std::ops::Deref for World {
    type Target = crate::conversation::World;
    fn deref(&self) -> &Self::Target {
        &self.family
    }
}

impl World {
    async fn new(db: &Db) -> World {
        let family = crate::conversation::World::new(db).await;
        let activity = Arc::new(Activity::new(db.clone()));
        let retry = RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(1) };
        let dispatcher =
            Dispatcher::new(db.clone(), vec![Arc::new(backend::activity::consumer(activity.clone()))], retry);
        World { family, activity, dispatcher }
    }

    async fn story(&self, title: &str, visibility: Visibility, status: StoryStatus) -> StoryId {
        self.family.titled_story(&self.owner, title, visibility, status).await
    }

    async fn feed(&self, user: &User) -> FeedPage {
        self.dispatcher.drain().await.unwrap();
        self.activity.feed(user, &FeedRequest::default()).await.unwrap()
    }
}

/// A feed as (kind, count, story title) lines, sorted, to compare.
fn lines(page: &FeedPage) -> Vec<(&'static str, i64, String)> {
    let mut lines: Vec<_> = page.items.iter().map(|i| (i.kind.as_str(), i.count, i.story_title.clone())).collect();
    lines.sort();
    lines
}

db_test!(the_projection_groups_like_events_ignores_redelivery_and_rebuilds_the_same, |db| {
    let world = World::new(db).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Contributor)).await;
    let bees = world.story("Bees", Visibility::Members, StoryStatus::Published).await;
    let jpeg = crate::media_pipeline::jpeg(8, 8);
    for n in 0..3 {
        let name = format!("hive-{n}.jpg");
        world.media.add_file(&bo, &world.legacy_id, &name, "image/jpeg", &jpeg, world.dir.path()).await.unwrap();
    }
    let thread = Thread::Story(bees.clone());
    let said = CommentInput { body: "Lovely".into(), parent_id: None };
    world.conversation.comment(&bo, &thread, &said).await.unwrap();
    world.conversation.comment(&bo, &thread, &said).await.unwrap();
    let heart = ReactionInput { reaction: "heart".into(), on: None };
    world.conversation.react(&world.owner, &Subject::Thread(thread.clone()), &heart).await.unwrap();
    // Drafts and reactions taken away add nothing.
    world.story("Draft", Visibility::Members, StoryStatus::Draft).await;
    world.conversation.react(&world.owner, &Subject::Thread(thread), &heart).await.unwrap();

    let feed = world.feed(&world.owner).await;
    let expected = vec![
        (ActivityKind::StoryPublished, 1, "Bees".to_string()),
        (ActivityKind::MediaAdded, 3, String::new()),
        (ActivityKind::Commented, 2, "Bees".to_string()),
        (ActivityKind::Reacted, 1, "Bees".to_string()),
        (ActivityKind::PersonAdded, 1, String::new()),
        (ActivityKind::MemberJoined, 1, String::new()),
    ];
    let mut expected: Vec<_> = expected.into_iter().map(|(kind, n, title)| (kind.as_str(), n, title)).collect();
    expected.sort();
    assert_eq!(lines(&feed), expected);
    let joined = feed.items.iter().find(|i| i.kind == ActivityKind::MemberJoined).unwrap();
    assert_eq!(joined.actor_name, "bo");

    // Every event delivered again: nothing changes.
    let kinds = [
        EventType::StoryCreated,
        EventType::MediaUploaded,
        EventType::CommentAdded,
        EventType::ReactionChanged,
        EventType::PersonCreated,
        EventType::MemberAdded,
    ];
    let events = outbox::after_of_types(db, "", &kinds, 1000).await.unwrap();
    assert!(events.len() >= 10, "{}", events.len());
    for event in &events {
        world.activity.project(event).await.unwrap();
    }
    assert_eq!(world.activity.feed(&world.owner, &FeedRequest::default()).await.unwrap(), feed);

    // Rebuilt from the outbox: the same feed, row for row.
    assert!(world.activity.rebuild().await.unwrap() >= events.len() as u64);
    assert_eq!(world.activity.feed(&world.owner, &FeedRequest::default()).await.unwrap(), feed);
});

db_test!(the_feed_shows_each_reader_only_what_they_may_read_and_nothing_once_they_leave, |db| {
    use LegacyRole::*;
    let world = World::new(db).await;
    let editor = world.member(db, "eve", Some(Editor)).await;
    let contributor = world.member(db, "cy", Some(Contributor)).await;
    let viewer = world.member(db, "vi", Some(Viewer)).await;
    let outsider = crate::conversation::user(db, "otto").await;
    let titles = [
        ("public", Visibility::Public, StoryStatus::Published),
        ("members", Visibility::Members, StoryStatus::Published),
        ("private", Visibility::Private, StoryStatus::Published),
    ];
    for (title, visibility, status) in titles {
        world.story(title, visibility, status).await;
    }
    // A draft made public later shows as published then; a private story's comments stay private.
    let later = world.story("later", Visibility::Members, StoryStatus::Draft).await;
    let private = world.stories.list(Some(&world.owner), &Default::default()).await.unwrap();
    let private = private.items.iter().find(|s| s.title == "private").unwrap().id.clone();
    let note = CommentInput { body: "Only for me".into(), parent_id: None };
    world.conversation.comment(&world.owner, &Thread::Story(private), &note).await.unwrap();
    let update = types::StoryUpdate {
        version: 1,
        title: "later".into(),
        body: "Words.".into(),
        tags: vec![],
        visibility: Some("members".into()),
        status: Some("published".into()),
        autosave: false,
    };
    world.stories.update_story(&world.owner, &later, &update).await.unwrap();

    let stories_seen = |page: &FeedPage| {
        let mut titles: Vec<String> = page
            .items
            .iter()
            .filter(|i| i.story_id.is_some())
            .map(|i| format!("{:?} {}", i.kind, i.story_title))
            .collect();
        titles.sort();
        titles
    };
    let everyone = ["StoryPublished later", "StoryPublished members", "StoryPublished public"];
    let with_private = [
        "Commented private",
        "StoryPublished later",
        "StoryPublished members",
        "StoryPublished private",
        "StoryPublished public",
    ];
    assert_eq!(stories_seen(&world.feed(&world.owner).await), with_private, "the author reads their private story");
    for reader in [&editor, &contributor, &viewer] {
        assert_eq!(stories_seen(&world.feed(reader).await), everyone, "{}", reader.display_name);
    }
    assert!(world.feed(&outsider).await.items.is_empty(), "not a member: nothing, not even public stories");

    // One legacy's feed, and pages with their cursor.
    let request = FeedRequest { legacy_id: Some(world.legacy_id.to_string()), cursor: None, limit: Some(2) };
    let first = world.activity.feed(&viewer, &request).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let next = FeedRequest { cursor: first.next_cursor.clone(), ..request };
    let second = world.activity.feed(&viewer, &next).await.unwrap();
    assert!(second.items.iter().all(|i| !first.items.iter().any(|f| f.id == i.id)));
    let bad = FeedRequest { cursor: Some("yesterday".into()), ..FeedRequest::default() };
    assert!(matches!(world.activity.feed(&viewer, &bad).await, Err(backend::Error::Invalid(_))));

    // The viewer leaves: the legacy's activity is gone from their feed at once.
    world.stories.set_member(&world.owner, &world.legacy_id, &viewer.id, None).await.unwrap();
    assert!(world.activity.feed(&viewer, &FeedRequest::default()).await.unwrap().items.is_empty());
});

db_test!(the_live_stream_tells_each_reader_only_what_they_may_read_and_nothing_after_they_leave, |db| {
    use backend::live::{Live, Watcher};
    use LegacyRole::*;
    let world = World::new(db).await;
    let editor = world.member(db, "eve", Some(Editor)).await;
    let contributor = world.member(db, "cy", Some(Contributor)).await;
    let viewer = world.member(db, "vi", Some(Viewer)).await;
    let outsider = crate::conversation::user(db, "otto").await;
    let live = Live::new(db.clone(), world.stories.clone());
    let rows = [
        ("public published", Visibility::Public, StoryStatus::Published),
        ("members published", Visibility::Members, StoryStatus::Published),
        ("private published", Visibility::Private, StoryStatus::Published),
        ("members draft", Visibility::Members, StoryStatus::Draft),
        ("public draft", Visibility::Public, StoryStatus::Draft),
    ];
    let mut titles: std::collections::HashMap<types::StoryId, &'static str> = std::collections::HashMap::new();
    for (title, visibility, status) in rows {
        let id = world.story(title, visibility, status).await;
        let note = CommentInput { body: "A word".into(), parent_id: None };
        world.conversation.comment(&world.owner, &Thread::Story(id.clone()), &note).await.unwrap();
        titles.insert(id, title);
    }
    // What a stream opened before all this is told of, replayed from the outbox after
    // `after`: the titles of the stories whose comments it hears, sorted.
    async fn heard(
        live: &Live,
        titles: &std::collections::HashMap<types::StoryId, &'static str>,
        watcher: &mut Watcher,
        after: &str,
    ) -> Vec<&'static str> {
        let events = live.missed(watcher, after, 1000).await.unwrap();
        let mut seen: Vec<&str> = events
            .iter()
            .filter(|e| e.change.event_type == "CommentAdded")
            .map(|e| titles[e.change.story_id.as_ref().unwrap()])
            .collect();
        seen.sort();
        seen
    }
    let members = ["members published", "public published"];
    let managers = ["members draft", "members published", "public draft", "public published"];
    let author = ["members draft", "members published", "private published", "public draft", "public published"];
    let expected: [(&User, &[&str]); 5] = [
        (&world.owner, &author),
        (&editor, &managers),
        (&contributor, &members),
        (&viewer, &members),
        (&outsider, &[]),
    ];
    for (user, want) in expected {
        let seen = heard(&live, &titles, &mut Watcher::new(user.clone()), "").await;
        assert_eq!(seen, want, "{}", user.display_name);
    }

    // The viewer leaves while their stream is open: it hears nothing of the legacy after
    // the removal's event passes (the role it kept is looked up again then).
    let mut viewers = Watcher::new(viewer.clone());
    heard(&live, &titles, &mut viewers, "").await;
    let last =
        outbox::after_of_types(db, "", EventType::KNOWN, 10_000).await.unwrap().last().unwrap().message_id.clone();
    world.stories.set_member(&world.owner, &world.legacy_id, &viewer.id, None).await.unwrap();
    let public = titles.iter().find(|(_, t)| **t == "public published").unwrap().0.clone();
    let note = CommentInput { body: "After you left".into(), parent_id: None };
    world.conversation.comment(&world.owner, &Thread::Story(public.clone()), &note).await.unwrap();
    let seen = heard(&live, &titles, &mut viewers, &last).await;
    assert!(seen.is_empty(), "the comment after the removal is not heard: {seen:?}");
    let seen = heard(&live, &titles, &mut Watcher::new(editor.clone()), &last).await;
    assert_eq!(seen, ["public published"], "while the editor, still a member, hears it");
});
