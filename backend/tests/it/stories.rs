//! Legacies and stories through the service, on SQLite and PostgreSQL: the permission
//! matrix on every read and write path, idempotent creates, version conflicts, the
//! outbox written with the change, and bad input.

use backend::db::{with_pool, with_tx, Db};
use backend::identity::{repo as users, NewUser, Role, User};
use backend::stories::permissions::{self, Reader, StoryFacts};
use backend::stories::service::ListRequest;
use backend::stories::Stories;
use backend::{db_test, events, Error};
use types::{
    LegacyId, LegacyInput, LegacyRole, LegacyUpdate, LegacyView, StoryId, StoryInput, StoryStatus, StoryUpdate,
    StoryView, Visibility,
};

async fn user(db: &Db, name: &str) -> User {
    users::insert(db, &NewUser::new(&format!("{name}@example.org"), name, Role::Member).unwrap()).await.unwrap()
}

fn legacy_input(name: &str) -> LegacyInput {
    LegacyInput { name: name.into(), born: "1931".into(), died: "2019".into(), summary: "Grandma".into() }
}

fn story_input(legacy_id: &str, title: &str, visibility: Visibility, status: StoryStatus) -> StoryInput {
    StoryInput {
        legacy_id: legacy_id.into(),
        title: title.into(),
        body: format!("# {title}\n\nShe kept **bees**."),
        tags: vec!["Bees".into()],
        visibility: Some(visibility.as_str().into()),
        status: Some(status.as_str().into()),
    }
}

/// The fields a refusal of bad input names.
fn field_of(err: Error) -> Vec<String> {
    match err {
        Error::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected invalid, got {other:?}"),
    }
}

/// The setting most tests start from: the service, and `name` owning the legacy "Rosa".
async fn owner_of_rosa(db: &Db, name: &str) -> (Stories, User, LegacyView) {
    let stories = Stories::new(db.clone());
    let owner = user(db, name).await;
    let legacy = stories.create_legacy(&owner, &legacy_input("Rosa"), None).await.unwrap();
    (stories, owner, legacy)
}

/// The owner's members-only story "Bees" in `status`.
async fn bees(stories: &Stories, owner: &User, legacy_id: &str, status: StoryStatus) -> StoryView {
    stories.create_story(owner, &story_input(legacy_id, "Bees", Visibility::Members, status), None).await.unwrap()
}

/// Adds `member` to the legacy with `role` through a real invitation.
async fn join(stories: &Stories, owner: &User, member: &User, legacy_id: &LegacyId, role: LegacyRole) {
    let token = stories.invite(owner, legacy_id, role.as_str(), 7, None).await.unwrap();
    assert_eq!(&stories.accept_invitation(member, &token).await.unwrap(), legacy_id);
}

db_test!(every_path_follows_the_permission_matrix, |db| {
    let stories = Stories::new(db.clone());
    let owner = user(db, "owner").await;
    let editor = user(db, "editor").await;
    let contributor = user(db, "contributor").await;
    let viewer = user(db, "viewer").await;
    let outsider = user(db, "outsider").await;
    let legacy = stories.create_legacy(&owner, &legacy_input("Rosa"), None).await.unwrap();
    join(&stories, &owner, &editor, &legacy.id, LegacyRole::Editor).await;
    join(&stories, &owner, &contributor, &legacy.id, LegacyRole::Contributor).await;
    join(&stories, &owner, &viewer, &legacy.id, LegacyRole::Viewer).await;

    // One story per author × visibility × status.
    let mut all = Vec::new();
    for author in [&contributor, &editor] {
        for visibility in Visibility::ALL {
            for status in StoryStatus::ALL {
                let title = format!("{} {} {}", author.display_name, visibility, status);
                let story = stories
                    .create_story(author, &story_input(&legacy.id, &title, *visibility, *status), None)
                    .await
                    .unwrap();
                all.push((story.id, author.id.clone(), *visibility, *status));
            }
        }
    }
    let readers: Vec<(Option<&User>, Option<LegacyRole>)> = vec![
        (None, None),
        (Some(&outsider), None),
        (Some(&viewer), Some(LegacyRole::Viewer)),
        (Some(&contributor), Some(LegacyRole::Contributor)),
        (Some(&editor), Some(LegacyRole::Editor)),
        (Some(&owner), Some(LegacyRole::Owner)),
    ];
    for (user, role) in &readers {
        let reader = Reader { user_id: user.map(|u| u.id.as_str()), is_admin: false, role: *role };
        let listed: Vec<StoryId> = stories
            .list(
                *user,
                &ListRequest { legacy_id: Some(legacy.id.to_string()), limit: Some(100), ..Default::default() },
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|s| s.id)
            .collect();
        for (id, author_id, visibility, status) in &all {
            let facts = StoryFacts { author_id, visibility: *visibility, status: *status };
            let who = format!("{:?} reading {visibility} {status} by {author_id}", user.map(|u| &u.display_name));
            let can_read = permissions::can_read(reader, facts);
            assert_eq!(stories.story(*user, id).await.is_ok(), can_read, "get: {who}");
            assert_eq!(listed.contains(id), can_read, "list: {who}");
            assert_eq!(stories.revisions(*user, id).await.is_ok(), can_read, "revisions: {who}");
            if let Ok(view) = stories.story(*user, id).await {
                assert_eq!(view.can_edit, permissions::can_edit(reader, facts), "can_edit flag: {who}");
            }
            if let Some(user) = user {
                let current = backend::stories::repo::find_story(db, id).await.unwrap().unwrap();
                let update = StoryUpdate {
                    version: current.version,
                    title: current.title.clone(),
                    body: "edited".into(),
                    ..Default::default()
                };
                let result = stories.update_story(user, id, &update).await;
                assert_eq!(result.is_ok(), permissions::can_edit(reader, facts), "update: {who}: {result:?}");
                if let Err(err) = result {
                    // Not readable: not found (existence hidden). Readable but not editable: forbidden.
                    let expect_hidden = !can_read;
                    assert_eq!(matches!(err, Error::NotFound { .. }), expect_hidden, "refusal kind: {who}: {err:?}");
                }
            } else {
                assert!(stories.story(None, id).await.map(|s| !s.can_edit).unwrap_or(true));
            }
        }
    }
    // Deleting follows the same rule: a viewer cannot, the contributor can delete their own.
    let (own_id, ..) =
        all.iter().find(|(_, author, v, _)| author == &contributor.id && *v == Visibility::Members).unwrap();
    assert!(stories.delete_story(&viewer, own_id).await.is_err());
    stories.delete_story(&contributor, own_id).await.unwrap();
    assert!(matches!(stories.story(Some(&owner), own_id).await, Err(Error::NotFound { .. })));
});

db_test!(a_replayed_create_returns_the_first_result_and_writes_nothing, |db| {
    let stories = Stories::new(db.clone());
    let ana = user(db, "ana").await;
    let legacy = stories.create_legacy(&ana, &legacy_input("Rosa"), Some("legacy-key-1")).await.unwrap();
    let again = stories.create_legacy(&ana, &legacy_input("Rosa"), Some("legacy-key-1")).await.unwrap();
    assert_eq!(legacy.id, again.id);
    assert_eq!(stories.my_legacies(&ana).await.unwrap().len(), 1);

    let input = story_input(&legacy.id, "First day at school", Visibility::Members, StoryStatus::Published);
    let first = stories.create_story(&ana, &input, Some("story-key-1")).await.unwrap();
    let events_before = events::outbox::count(db).await.unwrap();
    let replay = stories.create_story(&ana, &input, Some("story-key-1")).await.unwrap();
    assert_eq!(first.id, replay.id);
    assert_eq!(events::outbox::count(db).await.unwrap(), events_before, "no second event");
    let page = stories.list(Some(&ana), &ListRequest::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    // The same key from another user is theirs alone.
    let bo = user(db, "bo").await;
    let bo_legacy = stories.create_legacy(&bo, &legacy_input("Bo's"), Some("legacy-key-1")).await.unwrap();
    assert_ne!(bo_legacy.id, legacy.id);
});

db_test!(a_stale_version_is_a_conflict_that_names_who_changed_it, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "Ana").await;
    let story = bees(&stories, &ana, &legacy.id, StoryStatus::Draft).await;
    assert_eq!(story.version, 1);
    let first_tab = StoryUpdate { version: 1, title: "Bees".into(), body: "first tab".into(), ..Default::default() };
    let second_tab = StoryUpdate { version: 1, title: "Bees".into(), body: "second tab".into(), ..Default::default() };
    let saved = stories.update_story(&ana, &story.id, &first_tab).await.unwrap();
    assert_eq!(saved.version, 2);
    let err = stories.update_story(&ana, &story.id, &second_tab).await.unwrap_err();
    let Error::Conflict(message) = err else { panic!("expected a conflict, got {err:?}") };
    assert!(message.contains("changed by Ana just now") && message.contains("version 2"), "{message}");
    let now = stories.story(Some(&ana), &story.id).await.unwrap();
    assert_eq!(now.body, "first tab", "never a silent overwrite");
    assert_eq!(stories.revisions(Some(&ana), &story.id).await.unwrap().len(), 2);
});

db_test!(revisions_are_kept_and_an_old_one_can_be_restored, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let story = bees(&stories, &ana, &legacy.id, StoryStatus::Draft).await;
    let v2 = stories.update_story(&ana, &story.id, &save(1, "Bees", "second", false)).await.unwrap();
    let v3 = stories.restore(&ana, &story.id, 1, v2.version).await.unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(v3.body, story.body);
    let history = stories.revisions(Some(&ana), &story.id).await.unwrap();
    assert_eq!(history.iter().map(|r| r.version).collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(history[0].restored_from, Some(1));
    assert_eq!(stories.revision(Some(&ana), &story.id, 2).await.unwrap().body, "second");
});

db_test!(the_outbox_event_commits_and_rolls_back_with_the_change, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let legacy_events = events::outbox::events_for(db, "legacy", &legacy.id).await.unwrap();
    let kinds: Vec<&str> = legacy_events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["LegacyCreated", "MemberAdded"]);
    assert_eq!(legacy_events.iter().map(|e| e.aggregate_seq).collect::<Vec<_>>(), [1, 2]);

    let story = stories
        .create_story(&ana, &story_input(&legacy.id, "Bees", Visibility::Public, StoryStatus::Published), None)
        .await
        .unwrap();
    stories.update_story(&ana, &story.id, &save(1, "Bees!", "b", false)).await.unwrap();
    stories.delete_story(&ana, &story.id).await.unwrap();
    let story_events = events::outbox::events_for(db, "story", &story.id).await.unwrap();
    let kinds: Vec<&str> = story_events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["StoryCreated", "StoryUpdated", "StoryDeleted"]);
    assert_eq!(story_events[1].payload["version"], 2);
    assert_eq!(story_events[0].actor.as_deref(), Some(ana.id.as_str()));

    // A transaction that fails after appending leaves neither the change nor the event.
    let before = events::outbox::count(db).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let event = events::Event {
        aggregate_type: "story",
        aggregate_id: "doomed",
        event_type: types::events::EventType::StoryCreated,
        actor: None,
        payload: serde_json::json!({}),
    };
    events::append(&mut tx, event).await.unwrap();
    let duplicate_legacy = with_tx!(&mut tx, |conn| {
        sqlx::query("INSERT INTO legacies (id, name, created_by, created_at, updated_at, version) VALUES ($1, 'x', $2, 0, 0, 1)")
            .bind(&legacy.id)
            .bind(&ana.id)
            .execute(conn)
            .await
            .map(|_| ())
    });
    assert!(duplicate_legacy.is_err(), "the write fails");
    drop(tx);
    assert_eq!(events::outbox::count(db).await.unwrap(), before);
});

db_test!(bad_story_input_names_each_field_and_writes_nothing, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let events_before = events::outbox::count(db).await.unwrap();
    let base = story_input(&legacy.id, "Fine", Visibility::Members, StoryStatus::Draft);
    let cases: Vec<(StoryInput, &str)> = vec![
        (StoryInput { title: "   ".into(), ..base.clone() }, "title"),
        (StoryInput { body: "x".repeat(5 * 1024 * 1024), ..base.clone() }, "body"),
        (StoryInput { legacy_id: "no-such-legacy".into(), ..base.clone() }, "legacy_id"),
        (StoryInput { tags: vec!["ok".into(), "bad\u{0}tag".into()], ..base.clone() }, "tags"),
        (StoryInput { visibility: Some("secret".into()), ..base.clone() }, "visibility"),
        (StoryInput { status: Some("archived".into()), ..base.clone() }, "status"),
    ];
    for (input, field) in cases {
        assert_eq!(field_of(stories.create_story(&ana, &input, None).await.unwrap_err()), [field]);
    }
    assert!(field_of(stories.create_legacy(&ana, &LegacyInput::default(), None).await.unwrap_err())
        .contains(&"name".to_string()));
    assert_eq!(events::outbox::count(db).await.unwrap(), events_before);
    assert!(stories.list(Some(&ana), &ListRequest::default()).await.unwrap().items.is_empty());
    // A viewer cannot write in the legacy: the same field error as an unknown legacy.
    let vic = user(db, "vic").await;
    join(&stories, &ana, &vic, &legacy.id, LegacyRole::Viewer).await;
    assert_eq!(field_of(stories.create_story(&vic, &base, None).await.unwrap_err()), ["legacy_id"]);
});

db_test!(lists_page_with_a_keyset_cursor_and_filter, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    for i in 0..7 {
        let mut input = story_input(&legacy.id, &format!("Story {i}"), Visibility::Public, StoryStatus::Published);
        if i % 2 == 0 {
            input.tags = vec!["war".into()];
        }
        stories.create_story(&ana, &input, None).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = stories
            .list(None, &ListRequest { cursor: cursor.clone(), limit: Some(3), ..Default::default() })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|s| s.title.clone()));
        for item in &page.items {
            let n: usize = item.title.trim_start_matches("Story ").parse().unwrap();
            let expected = vec![if n.is_multiple_of(2) { "war" } else { "bees" }.to_string()];
            assert_eq!(item.tags, expected, "each listed story carries its own tags: {}", item.title);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no story twice: {seen:?}");
    let war = stories
        .list(None, &ListRequest { tag: Some("WAR".into()), limit: Some(50), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(war.items.len(), 4);
    let bad =
        stories.list(None, &ListRequest { cursor: Some("garbage".into()), ..Default::default() }).await.unwrap_err();
    assert!(matches!(bad, Error::Invalid(ref f) if f[0].field == "cursor"));
});

db_test!(members_are_managed_by_owners_and_a_legacy_keeps_an_owner, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let bo = user(db, "bo").await;
    join(&stories, &ana, &bo, &legacy.id, LegacyRole::Viewer).await;
    assert!(matches!(stories.set_member(&bo, &legacy.id, &ana.id, None).await, Err(Error::Forbidden(_))));
    assert!(matches!(stories.set_member(&ana, &legacy.id, &ana.id, Some("viewer")).await, Err(Error::Conflict(_))));
    stories.set_member(&ana, &legacy.id, &bo.id, Some("editor")).await.unwrap();
    let members = stories.members(&ana, &legacy.id).await.unwrap();
    assert_eq!(members.iter().find(|m| m.user_id == bo.id).unwrap().role, LegacyRole::Editor);
    // An invitation works once.
    let cy = user(db, "cy").await;
    let token = stories.invite(&ana, &legacy.id, "contributor", 3, None).await.unwrap();
    stories.accept_invitation(&cy, &token).await.unwrap();
    let dee = user(db, "dee").await;
    assert!(stories.accept_invitation(&dee, &token).await.is_err());
    assert!(stories.invite(&ana, &legacy.id, "owner", 3, None).await.is_err(), "owners are made, not invited");
});

db_test!(owners_change_a_legacy_from_the_version_they_saw_and_bad_input_changes_nothing, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let (bo, cy) = (user(db, "bo").await, user(db, "cy").await);
    join(&stories, &ana, &bo, &legacy.id, LegacyRole::Editor).await;
    let update = |version: i64, name: &str| LegacyUpdate {
        version,
        details: LegacyInput {
            name: name.into(),
            born: " May 1931 ".into(),
            died: String::new(),
            summary: "Grandma, beekeeper".into(),
        },
    };

    let changed = stories.update_legacy(&ana, &legacy.id, &update(1, "Rosa Lind")).await.unwrap();
    assert_eq!((changed.name.as_str(), changed.born.as_str(), changed.died.as_str()), ("Rosa Lind", "May 1931", ""));
    assert_eq!((changed.version, changed.summary.as_str()), (2, "Grandma, beekeeper"));
    let events = events::outbox::events_for(db, "legacy", &legacy.id).await.unwrap();
    let updated = events.last().unwrap();
    assert_eq!(updated.event_type.as_str(), "LegacyUpdated");
    assert_eq!((updated.payload["name"].as_str(), updated.payload["version"].as_i64()), (Some("Rosa Lind"), Some(2)));

    // From a version someone changed since: refused, with its code; nothing written.
    let stale = stories.update_legacy(&ana, &legacy.id, &update(1, "Rosa L.")).await.unwrap_err();
    assert!(
        matches!(&stale, Error::Conflict(r) if r.code == Some(types::ErrorCode::LegacyVersionConflict)),
        "{stale:?}"
    );
    // Not an owner: an editor is refused, an outsider is not told it exists.
    assert!(matches!(stories.update_legacy(&bo, &legacy.id, &update(2, "Bo's")).await, Err(Error::Forbidden(_))));
    let hidden = stories.update_legacy(&cy, &legacy.id, &update(2, "Cy's")).await;
    assert!(matches!(hidden, Err(Error::NotFound { what: "legacy" })), "{hidden:?}");
    assert!(matches!(stories.legacy_to_manage(&bo, &legacy.id).await, Err(Error::Forbidden(_))));
    // Bad input names its field.
    let bad = stories.update_legacy(&ana, &legacy.id, &update(2, "  ")).await.unwrap_err();
    assert_eq!(field_of(bad), ["name"]);
    let mut long = update(2, "Rosa");
    long.details.summary = "x".repeat(2001);
    assert_eq!(field_of(stories.update_legacy(&ana, &legacy.id, &long).await.unwrap_err()), ["summary"]);
    let kept = stories.legacy_to_manage(&ana, &legacy.id).await.unwrap();
    assert_eq!((kept.name.as_str(), kept.version), ("Rosa Lind", 2), "nothing changed");
    assert_eq!(events::outbox::events_for(db, "legacy", &legacy.id).await.unwrap().len(), events.len());
});

db_test!(flags_reach_the_owners_queue_and_are_resolved, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let bo = user(db, "bo").await;
    join(&stories, &ana, &bo, &legacy.id, LegacyRole::Viewer).await;
    let story = bees(&stories, &ana, &legacy.id, StoryStatus::Published).await;
    let outsider = user(db, "out").await;
    assert!(stories.flag(&outsider, &story.id, "spam").await.is_err());
    assert!(matches!(stories.flag(&bo, &story.id, "  ").await, Err(Error::Invalid(_))));
    let flag = stories.flag(&bo, &story.id, "Wrong date").await.unwrap();
    assert!(stories.moderation_queue(&bo).await.unwrap().is_empty());
    let queue = stories.moderation_queue(&ana).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].reason, "Wrong date");
    assert!(stories.resolve_flag(&bo, &flag, "dismiss").await.is_err());
    stories.resolve_flag(&ana, &flag, "dismiss").await.unwrap();
    assert!(stories.moderation_queue(&ana).await.unwrap().is_empty());
    assert!(stories.story(Some(&bo), &story.id).await.is_ok());
});

fn save(version: i64, title: &str, body: &str, autosave: bool) -> StoryUpdate {
    StoryUpdate { version, title: title.into(), body: body.into(), autosave, ..Default::default() }
}

fn versions(history: &[types::RevisionView]) -> Vec<i64> {
    history.iter().map(|r| r.version).collect()
}

db_test!(crlf_and_lf_saves_of_a_story_differ_only_where_the_text_does, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    // The plain form posts CRLF; "é" typed as e + a combining accent.
    let mut input = story_input(&legacy.id, "Cafe\u{301} days", Visibility::Members, StoryStatus::Draft);
    input.body = "First line\r\nSecond line\r\nThird cafe\u{301}\r\n".into();
    input.tags = vec!["Cafe\u{301}".into()];
    let story = stories.create_story(&ana, &input, None).await.unwrap();
    assert_eq!(story.title, "Caf\u{e9} days");
    assert_eq!(story.body, "First line\nSecond line\nThird caf\u{e9}\n");
    assert_eq!(story.tags, ["caf\u{e9}"]);
    // The editor's autosave posts LF, with one line changed.
    let update = save(1, "Cafe\u{301} days", "First line\nSecond line, longer\nThird caf\u{e9}\n", true);
    let saved = stories.update_story(&ana, &story.id, &update).await.unwrap();
    let diff = stories.diff(Some(&ana), &story.id, 1, saved.version).await.unwrap();
    let changed: Vec<(&str, &str)> =
        diff.iter().filter(|d| d.kind != "same").map(|d| (d.kind.as_str(), d.text.as_str())).collect();
    assert_eq!(changed, [("removed", "Second line"), ("added", "Second line, longer")]);
    for revision in stories.revisions(Some(&ana), &story.id).await.unwrap() {
        assert!(!revision.body.contains('\r') && !revision.title.contains('\u{301}'), "{revision:?}");
    }
    // Other typed fields go through the same normalization.
    let named = LegacyInput { name: "Ro\u{301}sa".into(), summary: "One\r\nTwo".into(), ..Default::default() };
    let named = stories.create_legacy(&ana, &named, None).await.unwrap();
    assert_eq!((named.name.as_str(), named.summary.as_str()), ("R\u{f3}sa", "One\nTwo"));
    let flag = stories.flag(&ana, &story.id, "Wrong cafe\u{301}").await.unwrap();
    let queue = stories.moderation_queue(&ana).await.unwrap();
    assert_eq!(queue.iter().find(|f| f.id == flag).unwrap().reason, "Wrong caf\u{e9}");
    let bea = users::insert(db, &NewUser::new("bea@example.org", "Bea\u{301}ta", Role::Member).unwrap()).await.unwrap();
    assert_eq!(bea.display_name, "Be\u{e1}ta");
});

db_test!(the_data_migration_rewrites_existing_crlf_text_once, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let story = bees(&stories, &ana, &legacy.id, StoryStatus::Draft).await;
    stories.update_story(&ana, &story.id, &save(1, "Bees", "caf\u{e9}\ntwo\nthree\n", false)).await.unwrap();
    stories.update_story(&ana, &story.id, &save(2, "Bees", "caf\u{e9}\nTWO\nthree\n", false)).await.unwrap();
    // As stored before text was normalized: revision 2 and the story from the plain form,
    // with an "é" as e + a combining accent.
    let set = |sql: &'static str, body: &'static str| {
        let (db, id) = (db.clone(), story.id.clone());
        async move {
            with_pool!(&db, |pool| sqlx::query(sql).bind(body).bind(&id).execute(pool).await.map(|_| ())).unwrap();
        }
    };
    let old_revision = "UPDATE story_revisions SET body = $1 WHERE story_id = $2 AND version = 2";
    set(old_revision, "cafe\u{301}\r\ntwo\r\nthree\r\n").await;
    set("UPDATE stories SET body = $1 WHERE id = $2", "cafe\u{301}\r\nTWO\r\nthree\r\n").await;
    let changed =
        |diff: Vec<types::DiffLine>| diff.into_iter().filter(|d| d.kind != "same").map(|d| d.text).collect::<Vec<_>>();
    assert_eq!(changed(stories.diff(Some(&ana), &story.id, 2, 3).await.unwrap()).len(), 6, "every line differs");

    let forget = "DELETE FROM data_migrations";
    with_pool!(db, |pool| sqlx::query(forget).execute(pool).await.map(|_| ())).unwrap();
    db.migrate().await.unwrap();
    assert_eq!(stories.revision(Some(&ana), &story.id, 2).await.unwrap().body, "caf\u{e9}\ntwo\nthree\n");
    assert_eq!(stories.story(Some(&ana), &story.id).await.unwrap().body, "caf\u{e9}\nTWO\nthree\n");
    assert_eq!(changed(stories.diff(Some(&ana), &story.id, 2, 3).await.unwrap()), ["two", "TWO"]);

    // Recorded: starting again does not run it again.
    set(old_revision, "cafe\u{301}\r\ntwo\r\nthree\r\n").await;
    db.migrate().await.unwrap();
    assert!(stories.revision(Some(&ana), &story.id, 2).await.unwrap().body.contains('\r'));
});

db_test!(autosaves_make_one_revision_until_someone_else_edits_or_the_author_publishes, |db| {
    let (stories, ana, legacy) = owner_of_rosa(db, "ana").await;
    let bo = user(db, "bo").await;
    join(&stories, &ana, &bo, &legacy.id, LegacyRole::Editor).await;
    let story = bees(&stories, &ana, &legacy.id, StoryStatus::Draft).await;
    let id = &story.id;

    // One edit: three autosaves while typing, then Publish.
    let mut version = story.version;
    for text in ["She kept", "She kept bees", "She kept bees in the orchard."] {
        version = stories.update_story(&ana, id, &save(version, "Bees", text, true)).await.unwrap().version;
    }
    let mut publish = save(version, "Bees", "She kept bees in the orchard.", false);
    publish.status = Some("published".into());
    let published = stories.update_story(&ana, id, &publish).await.unwrap();
    assert_eq!((published.version, published.status), (5, StoryStatus::Published), "every save is a version");
    let history = stories.revisions(Some(&ana), id).await.unwrap();
    assert_eq!(versions(&history), [5, 1], "one revision beyond the original");
    assert_eq!(history[0].body, "She kept bees in the orchard.");
    assert!(!history[0].autosave, "publishing completed the working revision");

    // A save that changes no text (tags, visibility, nothing) adds no revision.
    let mut same = save(5, "Bees", "She kept bees in the orchard.", false);
    same.tags = vec!["orchard".into()];
    let same = stories.update_story(&ana, id, &same).await.unwrap();
    assert_eq!(same.version, 6);
    assert_eq!(versions(&stories.revisions(Some(&ana), id).await.unwrap()), [5, 1]);

    // After a completed revision, autosaving starts a new working one.
    let v7 = stories.update_story(&ana, id, &save(6, "Bees", "Ana's draft", true)).await.unwrap().version;
    // Someone else's edit in between is its own revision, and ends Ana's working copy.
    let v8 = stories.update_story(&bo, id, &save(v7, "Bees", "Bo's correction", true)).await.unwrap().version;
    let v9 = stories.update_story(&ana, id, &save(v8, "Bees", "Ana's draft, again", true)).await.unwrap().version;
    let v10 = stories.update_story(&ana, id, &save(v9, "Bees", "Ana's draft, final", false)).await.unwrap().version;
    let history = stories.revisions(Some(&ana), id).await.unwrap();
    assert_eq!(versions(&history), [10, 8, 7, 5, 1]);
    let texts: Vec<(&str, &str)> = history.iter().map(|r| (r.author_name.as_str(), r.body.as_str())).collect();
    assert_eq!(texts[..3], [("ana", "Ana's draft, final"), ("bo", "Bo's correction"), ("ana", "Ana's draft")]);
    assert_eq!(v10, 10);

    // A stale version is still a conflict, for autosaves too, and changes nothing.
    for autosave in [true, false] {
        let err = stories.update_story(&ana, id, &save(v9, "Bees", "from an old tab", autosave)).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(ref m) if m.contains("version 10")), "{err:?}");
    }
    assert_eq!(stories.story(Some(&ana), id).await.unwrap().body, "Ana's draft, final");
    assert_eq!(versions(&stories.revisions(Some(&ana), id).await.unwrap()), [10, 8, 7, 5, 1]);
    // Restoring is a revision of its own, never folded into a working copy.
    let w11 = stories.update_story(&ana, id, &save(10, "Bees", "typing", true)).await.unwrap().version;
    let restored = stories.restore(&ana, id, 1, w11).await.unwrap();
    let history = stories.revisions(Some(&ana), id).await.unwrap();
    assert_eq!(versions(&history)[..2], [restored.version, w11]);
    assert_eq!(history[0].restored_from, Some(1));
});
