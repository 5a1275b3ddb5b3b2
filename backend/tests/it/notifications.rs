//! Notifications on SQLite and PostgreSQL: who is told of a comment, a reply, a mention,
//! a reaction and a new story (never the actor, never someone who may not read it); an
//! event delivered again tells no one twice and emails once; preferences choose the bell,
//! an email, a digest or nothing; a digest goes once; unsubscribe links work only as
//! signed.

use std::sync::Arc;
use std::time::Duration;

use backend::conversation::{Subject, Thread};
use backend::db::{with_pool, Db};
use backend::db_test;
use backend::email::Mailer;
use backend::events::{outbox, Dispatcher, RetryPolicy};
use backend::identity::User;
use backend::notifications::Notifications;
use backend::stories::Stories;
use backend::testing::Maildev;
use backend::vault::Vault;
use backend::Error;
use types::events::EventType;
use types::{
    Delivery, ErrorCode, LegacyRole, NotificationKind, NotificationPage, PreferencesInput, ReactionInput, StoryStatus,
    Visibility,
};

struct World {
    family: crate::conversation::World,
    notifications: Arc<Notifications>,
    mailer: Arc<Mailer>,
    dispatcher: Dispatcher,
}

impl std::ops::Deref for World {
    type Target = crate::conversation::World;
    fn deref(&self) -> &Self::Target {
        &self.family
    }
}

impl World {
    async fn new(db: &Db, smtp: Option<&Maildev>) -> World {
        let family = crate::conversation::World::new(db).await;
        let extra =
            smtp.map(|m| format!("smtp_url = \"{}\"\nemail_from = \"Heirloom <family@example.org>\"", m.smtp_url()));
        let config = backend::testing::config(
            family.dir.path(),
            "sqlite::memory:",
            "https://heirloom.example",
            &extra.unwrap_or_default(),
        );
        let mailer = Arc::new(Mailer::from_config(&config, db.clone(), Arc::new(Vault::with_key([7; 32]))).unwrap());
        let notifications = Arc::new(Notifications::new(
            db.clone(),
            family.stories.clone(),
            family.media.clone(),
            mailer.clone(),
            "https://heirloom.example/",
            [9; 32],
        ));
        let retry = RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(1) };
        let consumers: Vec<Arc<dyn backend::events::Consumer>> = vec![
            Arc::new(backend::notifications::consumer(notifications.clone())),
            Arc::new(backend::email::consumer(mailer.clone())),
        ];
        World { family, notifications, mailer, dispatcher: Dispatcher::new(db.clone(), consumers, retry) }
    }

    async fn page(&self, user: &User) -> NotificationPage {
        self.dispatcher.drain().await.unwrap();
        self.notifications.list(user, None, None).await.unwrap()
    }

    /// The reader's notifications as (kind, text), newest first.
    async fn told(&self, user: &User) -> Vec<(NotificationKind, String)> {
        self.page(user).await.items.into_iter().map(|n| (n.kind, n.text)).collect()
    }

    async fn prefer(&self, user: &User, kind: &str, delivery: &str) {
        let input = PreferencesInput([(kind.to_string(), delivery.to_string())].into());
        self.notifications.set_preferences(user, &input).await.unwrap();
    }
}

/// Marks the user's address as shown to be theirs (only such addresses get family news).
async fn verified(db: &Db, user: &User) {
    let mut tx = db.begin().await.unwrap();
    backend::identity::repo::mark_verified_tx(&mut tx, &user.id, &user.email, 1).await.unwrap();
    tx.commit().await.unwrap();
}

async fn emails_to(db: &Db, address: &str) -> Vec<(String, String)> {
    with_pool!(db, |pool| sqlx::query_as::<_, (String, String)>(
        "SELECT kind, subject FROM emails WHERE to_address = $1 ORDER BY created_at, id"
    )
    .bind(address)
    .fetch_all(pool)
    .await
    .unwrap())
}

db_test!(a_conversation_tells_the_author_the_replied_to_and_the_mentioned_once_each, |db| {
    use NotificationKind::*;
    let world = World::new(db, None).await;
    // The story was there before Bo and Cy joined: not new to them.
    let bees = world.titled_story(&world.owner, "The bees", Visibility::Members, StoryStatus::Published).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Contributor)).await;
    let cy = world.member(db, "cy", Some(LegacyRole::Viewer)).await;
    let thread = Thread::Story(bees.clone());

    // Bo comments on Ann's story and names Cy; Cy answers Bo; Ann reacts to Bo's comment.
    let first = world.say(&bo, &thread, "Who took this photo, @cy?", None).await;
    let reply = world.say(&cy, &thread, "Uncle Jim did, @nobody.", Some(&first.id)).await;
    let love = ReactionInput { reaction: "heart".into(), on: None };
    world.conversation.react(&world.owner, &Subject::Comment(first.id.clone()), &love).await.unwrap();
    // Ann comments on her own story: she is not told of herself.
    world.say(&world.owner, &thread, "Thank you both", None).await;

    let ann = world.told(&world.owner).await;
    assert_eq!(ann, vec![(Comment, "cy commented on The bees".into()), (Comment, "bo commented on The bees".into())]);
    assert_eq!(
        world.told(&bo).await,
        vec![
            (Reaction, "ann reacted to your comment on The bees".into()),
            (Reply, "cy replied to your comment on The bees".into()),
        ]
    );
    assert_eq!(world.told(&cy).await, vec![(Mention, "bo mentioned you on The bees".into())]);
    let page = world.page(&bo).await;
    assert_eq!(page.unread, 2);
    assert_eq!(page.items[1].link, format!("/stories/{bees}#comment-{}", reply.id), "the reply, on its page");

    // Every event delivered again: no one is told twice.
    let kinds = [EventType::CommentAdded, EventType::ReactionChanged, EventType::StoryCreated];
    for event in outbox::after_of_types(db, "", &kinds, 1000).await.unwrap() {
        world.notifications.notify(&event).await.unwrap();
    }
    assert_eq!(world.told(&world.owner).await.len(), 2);
    assert_eq!(world.told(&bo).await.len(), 2);
    assert_eq!(world.told(&cy).await.len(), 1);

    // Read one, then all.
    let link = world.notifications.mark_read(&bo, &page.items[1].id).await.unwrap();
    assert_eq!(link, page.items[1].link);
    assert_eq!(world.notifications.unread(&bo).await.unwrap(), 1);
    let missing = world.notifications.mark_read(&cy, &page.items[1].id).await;
    assert!(matches!(missing, Err(Error::NotFound { what: "notification" })), "not Cy's: {missing:?}");
    assert_eq!(world.notifications.mark_all_read(&bo).await.unwrap(), 1);
    assert_eq!(world.notifications.unread(&bo).await.unwrap(), 0);
});

db_test!(new_stories_reach_only_members_who_may_read_them_and_leaving_takes_them_away, |db| {
    use LegacyRole::*;
    let world = World::new(db, None).await;
    let editor = world.member(db, "eve", Some(Editor)).await;
    let viewer = world.member(db, "vi", Some(Viewer)).await;
    let outsider = world.member(db, "otto", None).await;
    world.titled_story(&world.owner, "Private", Visibility::Private, StoryStatus::Published).await;
    world.titled_story(&world.owner, "Draft", Visibility::Members, StoryStatus::Draft).await;
    world.titled_story(&world.owner, "Members", Visibility::Members, StoryStatus::Published).await;
    world.titled_story(&world.owner, "Public", Visibility::Public, StoryStatus::Published).await;
    let expected = |title: &str| (NotificationKind::NewStory, format!("ann published {title} in Rosa"));
    for member in [&editor, &viewer] {
        assert_eq!(world.told(member).await, vec![expected("Public"), expected("Members")], "{}", member.display_name);
    }
    assert!(world.told(&outsider).await.is_empty());
    assert!(world.told(&world.owner).await.is_empty(), "not told of what she did");

    // A member who leaves loses theirs at once.
    world.stories.set_member(&world.owner, &world.legacy_id, &viewer.id, None).await.unwrap();
    assert!(world.told(&viewer).await.is_empty());
    assert_eq!(world.notifications.unread(&viewer).await.unwrap(), 0);
});

db_test!(a_member_who_stops_following_a_legacy_is_not_told_of_its_new_stories_but_is_of_replies, |db| {
    let world = World::new(db, None).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Contributor)).await;
    let outsider = world.member(db, "otto", None).await;
    let legacy = &world.legacy_id;
    assert_eq!(world.notifications.following(&bo, legacy).await.unwrap(), Some(true), "members follow at first");
    assert_eq!(world.notifications.following(&outsider, legacy).await.unwrap(), None);
    let refused = world.notifications.set_following(&outsider, legacy, true).await;
    assert!(matches!(refused, Err(Error::NotFound { what: "legacy" })), "not a member: {refused:?}");
    let nowhere = world.notifications.set_following(&bo, &"no-such-legacy".into(), false).await;
    assert!(matches!(nowhere, Err(Error::NotFound { what: "legacy" })), "{nowhere:?}");

    let stopped = world.notifications.set_following(&bo, legacy, false).await.unwrap();
    assert_eq!((stopped.legacy_id.as_str(), stopped.following), (legacy.as_str(), false));
    world.notifications.set_following(&bo, legacy, false).await.unwrap();
    assert_eq!(world.notifications.following(&bo, legacy).await.unwrap(), Some(false), "twice is once");
    world.titled_story(&world.owner, "Quiet", Visibility::Members, StoryStatus::Published).await;
    assert!(world.told(&bo).await.is_empty(), "not following: no new story");
    // What concerns him still reaches him.
    let his = world.titled_story(&bo, "Bo's bees", Visibility::Members, StoryStatus::Published).await;
    world.say(&world.owner, &Thread::Story(his), "Lovely", None).await;
    let kinds = |told: Vec<(NotificationKind, String)>| told.into_iter().map(|(kind, _)| kind).collect::<Vec<_>>();
    assert_eq!(kinds(world.told(&bo).await), vec![NotificationKind::Comment]);
    // Others are told as before.
    assert_eq!(kinds(world.told(&world.owner).await), vec![NotificationKind::NewStory]);

    // Published while he had stopped, and read by the consumer only after he follows
    // again: what counts is whether he followed when it was published.
    world.titled_story(&world.owner, "Meanwhile", Visibility::Members, StoryStatus::Published).await;
    // Not in the same millisecond as the publication (a tie counts as following).
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(world.notifications.set_following(&bo, legacy, true).await.unwrap().following);
    assert_eq!(world.notifications.following(&bo, legacy).await.unwrap(), Some(true));
    assert_eq!(kinds(world.told(&bo).await), vec![NotificationKind::Comment], "not told of Meanwhile");
    world.titled_story(&world.owner, "Loud", Visibility::Members, StoryStatus::Published).await;
    let told = world.told(&bo).await;
    assert_eq!(told[0], (NotificationKind::NewStory, "ann published Loud in Rosa".into()), "following again");
    assert_eq!(told.len(), 2, "neither the quiet story nor Meanwhile is told after the fact");
});

db_test!(an_invitation_emailed_to_a_verified_account_reaches_its_bell_and_opens_by_its_id, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev)).await;
    let stories = Stories::new(db.clone()).with_mail(world.mailer.clone(), "https://heirloom.example");
    let bo = crate::conversation::user(db, "bo").await;
    verified(db, &bo).await;
    // Cy's address is not shown to be his: whoever signed up with it may not be him.
    let cy = crate::conversation::user(db, "cy").await;
    let dee = world.member(db, "dee", Some(LegacyRole::Viewer)).await;
    verified(db, &dee).await;
    let invite = |to: &'static str| stories.invite(&world.owner, &world.legacy_id, "editor", 7, Some(to));
    let token = invite(" Bo@Example.org ").await.unwrap();
    invite("cy@example.org").await.unwrap();
    invite("dee@example.org").await.unwrap();
    invite("nobody@example.org").await.unwrap();

    let told = world.page(&bo).await;
    assert_eq!(told.unread, 1);
    let [invitation] = told.items.as_slice() else { panic!("one notification: {:?}", told.items) };
    assert_eq!(
        (invitation.kind, invitation.text.as_str()),
        (NotificationKind::Invitation, "ann invited you to join Rosa")
    );
    let id = invitation.link.strip_prefix("/invitations/").expect("a link to the invitation").to_string();
    assert_ne!(id, token);
    assert!(world.told(&cy).await.is_empty(), "not to an address not verified");
    assert!(world.told(&dee).await.is_empty(), "not to a member already");
    // Told once however often the event comes; the invitation's own email went, no other.
    for event in outbox::after_of_types(db, "", &[EventType::InvitationSent], 10).await.unwrap() {
        world.notifications.notify(&event).await.unwrap();
    }
    assert_eq!(world.page(&bo).await.items.len(), 1);
    let kinds: Vec<String> = emails_to(db, "Bo@Example.org").await.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, vec!["invitation".to_string()]);

    // Only Bo opens it by its id; he joins with it once.
    let refused = stories.invitation(&cy, &id).await.unwrap_err();
    assert!(matches!(refused, Error::Invalid(_)), "{refused:?}");
    assert!(stories.accept_invitation(&cy, &id).await.is_err());
    let (legacy, role) = stories.invitation(&bo, &id).await.unwrap();
    assert_eq!((legacy.name.as_str(), role), ("Rosa", LegacyRole::Editor));
    assert_eq!(stories.accept_invitation(&bo, &id).await.unwrap(), world.legacy_id);
    assert_eq!(stories.role_in(&world.legacy_id, &bo).await.unwrap(), Some(LegacyRole::Editor));
    assert!(stories.accept_invitation(&bo, &id).await.is_err(), "used");
    assert!(stories.accept_invitation(&bo, &token).await.is_err(), "its emailed link is the same invitation");
    // The notification stays his, now as a member's.
    assert_eq!(world.told(&bo).await.len(), 1);
});

db_test!(preferences_choose_how_and_a_bad_one_changes_nothing, |db| {
    let world = World::new(db, None).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Contributor)).await;
    let defaults = world.notifications.preferences(&bo.id).await.unwrap();
    assert_eq!(defaults.len(), NotificationKind::ALL.len());
    assert!(defaults.iter().any(|p| p.kind == NotificationKind::NewStory && p.delivery == Delivery::Daily));

    let bad = PreferencesInput([("comment".into(), "off".into()), ("mention".into(), "loudly".into())].into());
    let refused = world.notifications.set_preferences(&bo, &bad).await;
    assert!(matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "mention"), "{refused:?}");
    let unknown = PreferencesInput([("gossip".into(), "off".into())].into());
    assert!(matches!(world.notifications.set_preferences(&bo, &unknown).await, Err(Error::Invalid(_))));
    assert_eq!(world.notifications.preferences(&bo.id).await.unwrap(), defaults, "nothing changed");

    world.prefer(&bo, "new_story", "off").await;
    world.titled_story(&world.owner, "Quiet", Visibility::Members, StoryStatus::Published).await;
    assert!(world.told(&bo).await.is_empty(), "off: not even the bell");
});

db_test!(emails_go_once_at_once_or_in_one_digest_and_unsubscribe_links_must_be_signed, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev)).await;
    let bo = world.member(db, "bo", Some(LegacyRole::Contributor)).await;
    let bees = world.titled_story(&world.owner, "The bees", Visibility::Members, StoryStatus::Published).await;
    let thread = Thread::Story(bees.clone());
    // Bo's address is not verified yet: his first reply is under his bell, not in his mail.
    verified(db, &world.owner).await;
    let said = world.say(&bo, &thread, "Lovely **hives**", None).await;
    world.say(&world.owner, &thread, "Thank you", Some(&said.id)).await;
    world.dispatcher.drain().await.unwrap();
    assert_eq!(world.told(&bo).await.len(), 2, "a new story and a reply");
    assert!(emails_to(db, "bo@example.org").await.is_empty(), "nothing to an address not verified");
    verified(db, &bo).await;

    // Ann hears of Bo's comment at once (her default), once however often it is delivered.
    for event in outbox::after_of_types(db, "", &[EventType::CommentAdded], 10).await.unwrap() {
        world.notifications.notify(&event).await.unwrap();
    }
    world.dispatcher.drain().await.unwrap();
    let sent = maildev.wait_for("ann@example.org", 1).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["subject"], "bo commented on The bees");
    let text = sent[0]["text"].as_str().unwrap();
    let link = format!("https://heirloom.example/stories/{bees}#comment-{}", said.id);
    assert!(text.contains(&link) && text.contains("Lovely **hives**"), "{text}");
    let one_click = maildev.raw_header(&sent[0], "List-Unsubscribe").await.unwrap();
    let one_click = one_click.trim_matches(['<', '>']).to_string();
    assert!(one_click.starts_with("https://heirloom.example/api/v1/unsubscribe?user="), "{one_click}");
    let post = maildev.raw_header(&sent[0], "List-Unsubscribe-Post").await;
    assert_eq!(post.as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(emails_to(db, "ann@example.org").await.len(), 1);

    // Her link, changed in any part, is refused and changes nothing.
    let query: std::collections::HashMap<String, String> =
        url::Url::parse(&one_click).unwrap().query_pairs().into_owned().collect();
    let (user, scope, sig) = (&query["user"], &query["scope"], &query["sig"]);
    assert_eq!(scope, "comment");
    for (u, s, g) in
        [(bo.id.as_str(), scope.as_str(), sig.as_str()), (user, "reply", sig), (user, scope, "AAAA"), (user, scope, "")]
    {
        let refused = world.notifications.unsubscribe(u, s, g).await;
        assert!(matches!(&refused, Err(Error::Forbidden(r)) if r.code == Some(ErrorCode::LinkRefused)), "{refused:?}");
    }
    let comment = |p: &Vec<types::NotificationPreference>| {
        p.iter().find(|p| p.kind == NotificationKind::Comment).unwrap().delivery
    };
    assert_eq!(comment(&world.notifications.preferences(&world.owner.id).await.unwrap()), Delivery::Email);
    // As signed, it stops those emails; the bell keeps them.
    world.notifications.unsubscribe(user, scope, sig).await.unwrap();
    assert_eq!(comment(&world.notifications.preferences(&world.owner.id).await.unwrap()), Delivery::InApp);
    world.say(&bo, &thread, "And the honey", None).await;
    assert_eq!(world.told(&world.owner).await.len(), 2);
    assert_eq!(emails_to(db, "ann@example.org").await.len(), 1, "no email after unsubscribing");

    // Bo takes reactions in a daily digest, as new stories by default: nothing until a
    // day has passed, then one email with the story and both reactions, never again.
    world.prefer(&bo, "reaction", "daily").await;
    for name in ["heart", "candle"] {
        let input = ReactionInput { reaction: name.into(), on: None };
        world.conversation.react(&world.owner, &Subject::Comment(said.id.clone()), &input).await.unwrap();
    }
    world.dispatcher.drain().await.unwrap();
    let now = backend::time::now_millis();
    assert_eq!(world.notifications.send_digests(now).await.unwrap(), 0, "not a day yet");
    assert_eq!(world.notifications.send_digests(now + 86_400_000).await.unwrap(), 1);
    assert_eq!(world.notifications.send_digests(now + 2 * 86_400_000).await.unwrap(), 0, "sent once");
    world.dispatcher.drain().await.unwrap();
    let digest = maildev.wait_for("bo@example.org", 1).await;
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0]["subject"], "Your daily Heirloom digest: 3 new things");
    assert!(
        digest[0]["text"].as_str().unwrap().contains("ann reacted to your comment on The bees"),
        "{}",
        digest[0]["text"]
    );
});
