//! Tips through the real backend on SQLite and PostgreSQL, with a local fake Todoist:
//! the OAuth state rules, sealed tokens and key rotation, a task completed exactly once
//! through the calls executor, a revoked token, the candidate sources' permissions, the
//! friendly empty tip, and the learning policy learning from feedback events.

use std::time::Duration;

use crate::support::fake_todoist::{task, FakeTodoist};
use backend::db::{with_pool, Db};
use backend::events::{Dispatcher, RetryPolicy, TimerWorker};
use backend::identity::{repo as users, NewUser, Role, User};
use backend::testing::TestDb;
use backend::tips::model::Bucket;
use backend::tips::policy::kind_mean;
use backend::{Backend, Error};
use types::{CallStatus, LegacyInput, RecommendInput, StoryInput, SyncStatus, Tip, TipAction, TipContext, TipKind};

struct Env {
    backend: Backend,
    fake: FakeTodoist,
    url: String,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start(test_db: &TestDb, extra: &str) -> Env {
        let fake = FakeTodoist::start().await;
        let dir = tempfile::tempdir().unwrap();
        let settings = format!("{}{extra}", fake.config());
        let config = backend::testing::config(dir.path(), &test_db.url, "http://127.0.0.1:9", &settings);
        let backend = Backend::start(config).await.expect("backend starts");
        Env { backend, fake, url: test_db.url.clone(), _dir: dir }
    }

    fn db(&self) -> &Db {
        self.backend.db()
    }

    /// Hands every event to the consumers and fires every due timer, until both are idle.
    async fn drain(&self) {
        let retry = RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(10) };
        let dispatcher = Dispatcher::new(self.db().clone(), self.backend.consumers(), retry);
        let timers = TimerWorker::new(self.db().clone(), self.backend.timer_handlers());
        for _ in 0..100 {
            let published = dispatcher.drain().await.unwrap();
            let fired = timers.fire_due().await.unwrap();
            if published == 0 && fired == 0 {
                return;
            }
        }
    }

    async fn user(&self, name: &str) -> User {
        let new = NewUser::new(&format!("{name}@example.org"), name, Role::Member).unwrap();
        users::insert(self.db(), &new).await.unwrap()
    }

    /// Connects `user` to the fake Todoist from `session` the way the browser would.
    async fn connect(&self, user: &User, session: &str) -> types::ConnectorView {
        let state = self.begin(user, session).await;
        self.backend
            .tips
            .finish_oauth(user, &session.into(), "todoist", &format!("code-{}", user.id), &state)
            .await
            .unwrap()
    }

    /// Starts connecting; returns the state the provider would send back.
    async fn begin(&self, user: &User, session: &str) -> String {
        let url = self.backend.tips.begin_oauth(user, &session.into(), "todoist").await.unwrap();
        assert!(url.as_str().starts_with(&format!("{}/oauth/authorize?", self.fake.base)), "{url}");
        url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).expect("state in the URL")
    }

    async fn recommend(&self, user: &User, hour: u8) -> Tip {
        let input = RecommendInput { context: TipContext { hour: Some(hour), weekday: Some(2), device: None } };
        self.backend.tips.recommend(user, &input).await.unwrap()
    }
}

macro_rules! tips_test {
    ($name:ident, |$env:ident| $body:block) => {
        tips_test!($name, config = "", |$env| $body);
    };
    ($name:ident, config = $config:expr, |$env:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($env: &Env) $body

            #[tokio::test]
            async fn sqlite() {
                let db = TestDb::sqlite().await;
                let env = Env::start(&db, $config).await;
                body(&env).await;
                env.backend.db().close().await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = TestDb::postgres().await {
                    let env = Env::start(&db, $config).await;
                    body(&env).await;
                    env.backend.db().close().await;
                    db.cleanup().await;
                }
            }
        }
    };
}

async fn scalar(db: &Db, sql: &str, bind: &str) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(bind).fetch_one(pool).await).unwrap()
}

async fn sealed_credential(db: &Db, user_id: &str) -> Option<String> {
    let sql = "SELECT sealed_credential FROM connector_connections WHERE user_id = $1 AND connector = 'todoist'";
    with_pool!(db, |pool| sqlx::query_scalar::<_, Option<String>>(sql).bind(user_id).fetch_optional(pool).await)
        .unwrap()
        .flatten()
}

tips_test!(oauth_state_is_bound_to_the_session_single_use_and_short_lived, |env| {
    let tips = &env.backend.tips;
    let alice = env.user("alice").await;
    let mallory = env.user("mallory").await;

    // An unknown connector is "not found", before anything else.
    assert!(matches!(
        tips.begin_oauth(&alice, &"s1".into(), "trello").await,
        Err(Error::NotFound { what: "connector" })
    ));
    assert!(matches!(
        tips.finish_oauth(&alice, &"s1".into(), "trello", "code", "state").await,
        Err(Error::NotFound { what: "connector" })
    ));

    // A state from another session, another user, made up, reused or expired: refused, nothing stored.
    let state = env.begin(&alice, "s1").await;
    let refused = tips.finish_oauth(&alice, &"s2".into(), "todoist", "code-1", &state).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let reused = tips.finish_oauth(&alice, &"s1".into(), "todoist", "code-1", &state).await;
    assert!(matches!(reused, Err(Error::Forbidden(_))), "a state is used up by its first return: {reused:?}");
    let state = env.begin(&alice, "s1").await;
    assert!(matches!(
        tips.finish_oauth(&mallory, &"s1".into(), "todoist", "code-1", &state).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        tips.finish_oauth(&alice, &"s1".into(), "todoist", "code-1", "made-up").await,
        Err(Error::Forbidden(_))
    ));
    let state = env.begin(&alice, "s1").await;
    with_pool!(env.db(), |pool| sqlx::query("UPDATE connector_oauth_states SET expires_at = 1")
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    assert!(matches!(
        tips.finish_oauth(&alice, &"s1".into(), "todoist", "code-1", &state).await,
        Err(Error::Forbidden(_))
    ));
    // Todoist refusing the code: nothing stored either.
    let state = env.begin(&alice, "s1").await;
    assert!(matches!(
        tips.finish_oauth(&alice, &"s1".into(), "todoist", "bad-code", &state).await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(scalar(env.db(), "SELECT COUNT(*) FROM connector_connections WHERE user_id = $1", &alice.id).await, 0);
    assert_eq!(env.fake.count("POST", "/oauth/access_token"), 1, "only the real attempt reached Todoist");
    // States are stored hashed: the database never holds one that could be replayed.
    let state = env.begin(&alice, "s1").await;
    let stored = scalar(env.db(), "SELECT COUNT(*) FROM connector_oauth_states WHERE state_hash = $1", &state).await;
    assert_eq!(stored, 0);

    // The real thing: connected, the token sealed (never stored or shown in the clear).
    let view = tips.finish_oauth(&alice, &"s1".into(), "todoist", "code-alice", &state).await.unwrap();
    assert!(view.connected && view.enabled);
    assert_eq!(view.last_sync_status, SyncStatus::Never);
    let token = env.fake.token_for("code-alice").unwrap();
    let sealed = sealed_credential(env.db(), &alice.id).await.expect("credential stored");
    assert!(!sealed.contains(&token) && sealed.starts_with("v1:"), "{sealed}");
    assert!(env.backend.vault().open(&sealed).unwrap().contains(&token));
    let listed = tips.connectors(&alice).await.unwrap();
    assert!(!serde_json::to_string(&listed).unwrap().contains(&token));
    assert!(listed[0].connected && listed[0].name == "todoist");
    assert!(!tips.connectors(&mallory).await.unwrap()[0].connected, "connections are per user");

    // Disconnecting forgets the token.
    tips.disconnect(&alice, "todoist").await.unwrap();
    assert_eq!(sealed_credential(env.db(), &alice.id).await, None);
    let view = tips.connector_view(&alice, "todoist").await.unwrap();
    assert!(!view.connected && view.last_error.is_none());
    tips.disconnect(&alice, "todoist").await.unwrap();

    // Abandoned attempts pile up only so far.
    for _ in 0..10 {
        tips.begin_oauth(&alice, &"s1".into(), "todoist").await.unwrap();
    }
    assert!(matches!(tips.begin_oauth(&alice, &"s1".into(), "todoist").await, Err(Error::RateLimited { .. })));
    assert!(tips.begin_oauth(&mallory, &"s9".into(), "todoist").await.is_ok(), "per user");
});

tips_test!(a_task_done_twice_is_closed_at_todoist_exactly_once, |env| {
    let tips = &env.backend.tips;
    let bob = env.user("bob").await;
    env.fake.set_tasks(vec![task("2995104339", "Call the notary", 4, Some("2024-05-01"))]);
    env.connect(&bob, "s1").await;
    tips.reseed(1);
    // Bob has no legacy yet: the task and "start a legacy" compete; feedback-free asks alternate.
    let mut tip = env.recommend(&bob, 9).await;
    for _ in 0..5 {
        if tip.kind == TipKind::Todo {
            break;
        }
        tip = env.recommend(&bob, 9).await;
    }
    assert_eq!(tip.kind, TipKind::Todo, "{tip:?}");
    assert_eq!(tip.title, "Call the notary");
    assert_eq!(tip.source, "todoist");
    assert_eq!(tip.deep_link, "https://todoist.com/showTask?id=2995104339");
    assert_eq!(tip.meta["due"], "2024-05-01");
    assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 1, "synced once, then within the sync interval");

    let first = tips.feedback(&bob, &tip.id, TipAction::Done).await.unwrap();
    let second = tips.feedback(&bob, &tip.id, TipAction::Done).await.unwrap();
    assert!(first.recorded && !second.recorded);
    assert_eq!(first.outcome, Some(TipAction::Done));
    let call = first.completion.clone().expect("a completion call");
    assert_eq!(second.completion.as_ref().map(|c| c.call_id.as_str()), Some(call.call_id.as_str()));
    // The consumer sees the feedback event too and finds the same call; the timer runs it.
    env.drain().await;
    let detail = env.backend.calls.detail(&call.call_id).await.unwrap();
    assert_eq!(detail.call.status, CallStatus::Succeeded, "{detail:?}");
    assert_eq!(detail.call.source, "connector:todoist");
    assert_eq!(detail.call.headers["authorization"], "[redacted]", "the token is sealed in the delivery log");
    assert_eq!(env.fake.closes("2995104339"), 1);
    let close = env.fake.requests().into_iter().find(|r| r.path.ends_with("/close")).unwrap();
    assert_eq!(
        close.authorization,
        Some(format!("Bearer {}", env.fake.token_for(&format!("code-{}", bob.id)).unwrap()))
    );
    assert_eq!(scalar(env.db(), "SELECT COUNT(*) FROM calls WHERE source = $1", "connector:todoist").await, 1);

    // Done is done: the task is not suggested again, and changing the answer is refused.
    for _ in 0..3 {
        assert_ne!(env.recommend(&bob, 9).await.kind, TipKind::Todo);
    }
    assert!(matches!(tips.feedback(&bob, &tip.id, TipAction::Skipped).await, Err(Error::Conflict(_))));
    // Someone else's tip does not exist for them.
    let eve = env.user("eve").await;
    assert!(matches!(tips.feedback(&eve, &tip.id, TipAction::Done).await, Err(Error::NotFound { .. })));
});

tips_test!(a_revoked_token_disconnects_with_a_reason_the_user_sees, |env| {
    let tips = &env.backend.tips;
    let carol = env.user("carol").await;
    env.fake.set_tasks(vec![task("1", "Water the plants", 1, None)]);
    env.connect(&carol, "s1").await;
    // A hiccup is retried within the same sync.
    env.fake.fail_next_lists(1);
    let view = tips.sync(&carol, "todoist").await.unwrap();
    assert_eq!((view.last_sync_status, view.items), (SyncStatus::Ok, 1));
    assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 2);

    // Synced a moment ago: asking for a tip uses the tasks known, without a fetch.
    // (The task and "start a legacy" compete; two asks without feedback show both.)
    let kinds = [env.recommend(&carol, 20).await.kind, env.recommend(&carol, 20).await.kind];
    assert!(kinds.contains(&TipKind::Todo), "{kinds:?}");
    assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 2);

    // The user revokes Heirloom at Todoist: the next fetch gets 401.
    env.fake.revoke();
    let view = tips.sync(&carol, "todoist").await.unwrap();
    assert!(!view.connected);
    assert_eq!(view.last_sync_status, SyncStatus::Failed);
    assert!(view.last_error.as_deref().unwrap_or("").contains("revoked"), "{view:?}");
    assert_eq!(sealed_credential(env.db(), &carol.id).await, None, "a refused token is forgotten");
    assert_eq!(scalar(env.db(), "SELECT COUNT(*) FROM connector_items WHERE user_id = $1", &carol.id).await, 0);
    // Tips go on without it.
    assert_ne!(env.recommend(&carol, 20).await.kind, TipKind::Todo);
    assert!(matches!(tips.sync(&carol, "todoist").await, Err(Error::Conflict(_))));
});

tips_test!(
    fetches_are_rate_limited_per_user_and_connector,
    config = "connector_fetches_per_minute = 2\ntips_sync_interval_secs = 1\n",
    |env| {
        let tips = &env.backend.tips;
        let frank = env.user("frank").await;
        let grace = env.user("grace").await;
        env.fake.set_tasks(vec![task("9", "Renew the passport", 2, None)]);
        env.connect(&frank, "s1").await;
        env.connect(&grace, "s2").await;
        tips.sync(&frank, "todoist").await.unwrap();
        tips.sync(&frank, "todoist").await.unwrap();
        match tips.sync(&frank, "todoist").await {
            Err(Error::RateLimited { retry_after_secs }) => assert!((1..=61).contains(&retry_after_secs)),
            other => panic!("expected the fetch budget to be spent: {other:?}"),
        }
        assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 2);
        // Tips still come, from the tasks already known, without another fetch.
        tokio::time::sleep(Duration::from_millis(1100)).await; // the sync interval has passed
        let kinds = [env.recommend(&frank, 10).await.kind, env.recommend(&frank, 10).await.kind];
        assert!(kinds.contains(&TipKind::Todo), "{kinds:?}");
        assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 2);
        // Another user's budget is their own.
        tips.sync(&grace, "todoist").await.unwrap();
        assert_eq!(env.fake.count("GET", "/rest/v2/tasks"), 3);
    }
);

tips_test!(nothing_to_suggest_is_a_friendly_tip_not_an_error, |env| {
    let tips = &env.backend.tips;
    let dave = env.user("dave").await;
    // No legacy, no connection: the only candidate is the advice to start a legacy.
    let tip = env.recommend(&dave, 12).await;
    assert_eq!((tip.kind, tip.source.as_str(), tip.deep_link.as_str()), (TipKind::Advice, "legacies", "/legacies"));
    tips.feedback(&dave, &tip.id, TipAction::Dismissed).await.unwrap();
    let empty = env.recommend(&dave, 12).await;
    assert_eq!(empty.kind, TipKind::Advice);
    assert_eq!(empty.title, "Nothing to suggest right now");
    assert_eq!(empty.meta["empty"], true);
    assert_eq!(empty.meta["arm"], "");
    // Feedback on it is accepted and teaches nothing.
    tips.feedback(&dave, &empty.id, TipAction::Dismissed).await.unwrap();
    env.drain().await;
    let stats = tips.arm_stats(&dave.id).await.unwrap();
    assert!(!stats.user.keys().any(|k| k.contains("empty")), "{:?}", stats.user);
    assert_eq!(stats.user["advice:*:*"].not_done, 1, "only the dismissed start-a-legacy advice counted");
    // Out-of-range context is a field error.
    let bad = RecommendInput { context: TipContext { hour: Some(25), weekday: None, device: None } };
    assert!(matches!(tips.recommend(&dave, &bad).await, Err(Error::Invalid(_))));
});

tips_test!(the_home_page_tip_waits_for_an_answer_instead_of_multiplying, |env| {
    let tips = &env.backend.tips;
    let gus = env.user("gus").await;
    let input = RecommendInput::default();
    let first = tips.current_tip(&gus, &input).await.unwrap();
    let again = tips.current_tip(&gus, &input).await.unwrap();
    assert_eq!(again.id, first.id, "coming back shows the same unanswered tip");
    assert_eq!(scalar(env.backend.db(), "SELECT COUNT(*) FROM tips WHERE user_id = $1", &gus.id).await, 1);
    tips.feedback(&gus, &first.id, TipAction::Skipped).await.unwrap();
    let next = tips.current_tip(&gus, &input).await.unwrap();
    assert_ne!(next.id, first.id, "an answered tip is followed by a new one");
    // The tip page asks for a new one each time; the home card then offers the newest.
    let from_tip_page = env.recommend(&gus, 10).await;
    assert_eq!(tips.current_tip(&gus, &input).await.unwrap().id, from_tip_page.id);
});

tips_test!(feedback_events_teach_the_learning_policy, |env| {
    let tips = &env.backend.tips;
    assert_eq!(tips.policy_name(), "thompson");
    let erin = env.user("erin").await;
    let legacy = env
        .backend
        .stories
        .create_legacy(&erin, &LegacyInput { name: "Grandpa Joe".into(), ..Default::default() }, None)
        .await
        .unwrap();
    // Enough drafts that finished ones (resting for a day) never run out.
    for i in 0..60 {
        let input = StoryInput {
            legacy_id: legacy.id.clone(),
            title: format!("Draft {i}"),
            body: format!("The summer of {}.", 1950 + i),
            tags: vec![],
            visibility: Some("members".into()),
            status: Some("draft".into()),
        };
        env.backend.stories.create_story(&erin, &input, None).await.unwrap();
    }
    // Erin finishes drafts and skips prompts, in the evening.
    tips.reseed(3);
    let (mut drafts, mut prompts) = (0u64, 0u64);
    for round in 0..30 {
        let tip = env.recommend(&erin, 20).await;
        tips.feedback(&erin, &tip.id, TipAction::Shown).await.unwrap();
        match tip.kind {
            TipKind::Draft => {
                drafts += 1;
                tips.feedback(&erin, &tip.id, TipAction::Done).await.unwrap();
            }
            _ => {
                prompts += 1;
                tips.feedback(&erin, &tip.id, TipAction::Skipped).await.unwrap();
            }
        }
        if round % 5 == 4 {
            env.drain().await;
        }
    }
    env.drain().await;
    assert!(drafts > 0 && prompts > 0, "both kinds were tried: {drafts} drafts, {prompts} prompts");
    let stats = tips.arm_stats(&erin.id).await.unwrap();
    let draft = kind_mean(&stats, TipKind::Draft, Bucket::Evening);
    let prompt = kind_mean(&stats, TipKind::Prompt, Bucket::Evening);
    assert!(draft > 0.8 && prompt < 0.3, "draft {draft}, prompt {prompt}");
    assert_eq!(stats.user["draft:*:*"].done, drafts);
    assert_eq!(stats.user["prompt:*:*"].not_done, prompts);
    assert_eq!(stats.user["draft:*:*"].shown + stats.user["prompt:*:*"].shown, 30);
    assert_eq!(stats.global["draft:*:*"].done, drafts, "the global prior counts everyone");

    // Learning is once per feedback, however often its event arrives.
    let feedback_id: String = with_pool!(env.db(), |pool| {
        sqlx::query_scalar::<_, String>("SELECT id FROM tip_feedback WHERE user_id = $1 AND action = 'done' LIMIT 1")
            .bind(&erin.id)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert!(!tips.learn(&feedback_id, &erin.id, TipAction::Done, "draft:stories:evening").await.unwrap());
    assert_eq!(tips.arm_stats(&erin.id).await.unwrap().user["draft:*:*"].done, drafts);

    // With a seeded RNG the learned preference shows: drafts far more often than prompts.
    tips.reseed(99);
    let mut picked_drafts = 0;
    for _ in 0..20 {
        let tip = env.recommend(&erin, 20).await;
        picked_drafts += usize::from(tip.kind == TipKind::Draft);
    }
    assert!(picked_drafts >= 16, "{picked_drafts}/20 drafts (learning: {drafts} drafts, {prompts} prompts)");
});

tips_test!(candidates_are_only_what_the_user_may_act_on, |env| {
    use backend::media::model::{MediaRow, NewFile};
    let owner = env.user("owner").await;
    let viewer = env.user("viewer").await;
    let stories = &env.backend.stories;
    let family = stories
        .create_legacy(&owner, &LegacyInput { name: "The Smiths".into(), ..Default::default() }, None)
        .await
        .unwrap();
    let empty = stories
        .create_legacy(&owner, &LegacyInput { name: "Aunt May".into(), ..Default::default() }, None)
        .await
        .unwrap();
    let token = stories.invite(&owner, &family.id, "viewer", 7, None).await.unwrap();
    stories.accept_invitation(&viewer, &token).await.unwrap();
    let pending = stories.invite(&owner, &family.id, "contributor", 3, None).await.unwrap();
    let draft = StoryInput {
        legacy_id: family.id.clone(),
        title: "The farm".into(),
        body: "We kept **goats**.".into(),
        tags: vec![],
        visibility: Some("members".into()),
        status: Some("draft".into()),
    };
    let story = stories.create_story(&owner, &draft, None).await.unwrap();
    let mut tx = env.db().begin().await.unwrap();
    for (id, caption) in [("m-uncaptioned", ""), ("m-captioned", "Grandma at the lake")] {
        let now = backend::time::now_millis();
        let file = NewFile {
            file_name: "lake.jpg".into(),
            declared_type: "image/jpeg".into(),
            size_bytes: 10,
            sha256: "0".repeat(64),
        };
        let row = MediaRow {
            state: types::MediaState::Ready,
            kind: Some(types::MediaKind::Image),
            detected_type: Some("image/jpeg".into()),
            scan: types::ScanStatus::Clean,
            caption: caption.into(),
            ..MediaRow::uploading(id.into(), family.id.clone(), owner.id.clone(), file, now)
        };
        backend::media::repo::insert_tx(&mut tx, &row).await.unwrap();
    }
    tx.commit().await.unwrap();

    let now = backend::time::now_millis();
    let media = &env.backend.media;
    let keys = |candidates: Vec<backend::tips::model::Candidate>| -> Vec<String> {
        candidates.into_iter().map(|c| c.key).filter(|k| !k.starts_with("prompt:")).collect()
    };
    let mine = backend::tips::sources::gather(env.db(), media, &owner, now).await.unwrap();
    let prompts = mine.iter().filter(|c| c.key.starts_with("prompt:")).count();
    assert!(prompts >= 100, "{prompts} prompts");
    let first_prompt = mine.iter().find(|c| c.key.starts_with("prompt:")).unwrap();
    assert!(first_prompt.deep_link.starts_with("/legacies/") && first_prompt.deep_link.contains("/new?prompt="));
    let mut mine = keys(mine);
    mine.sort();
    let invitation = mine.iter().find(|k| k.starts_with("invitation:")).cloned().expect("pending invitation");
    let mut expected = vec![
        format!("draft:{}", story.id),
        invitation,
        format!("legacy:{}", empty.id),
        "media:m-uncaptioned".to_string(),
    ];
    expected.sort();
    assert_eq!(mine, expected);
    // The viewer can neither write there nor caption: nothing of the owner's, no prompts.
    let theirs = backend::tips::sources::gather(env.db(), media, &viewer, now).await.unwrap();
    assert!(theirs.is_empty(), "{:?}", theirs.iter().map(|c| &c.key).collect::<Vec<_>>());
    assert_eq!(env.recommend(&viewer, 10).await.title, "Nothing to suggest right now");
    // A used invitation is no longer pending.
    let joiner = env.user("joiner").await;
    stories.accept_invitation(&joiner, &pending).await.unwrap();
    let after = keys(backend::tips::sources::gather(env.db(), media, &owner, now).await.unwrap());
    assert!(!after.iter().any(|k| k.starts_with("invitation:")), "{after:?}");
});

/// Key rotation over one database: values sealed with the old key stay readable with it
/// configured as a previous key, `reseal_all` moves them to the new key, and afterwards
/// the new key alone opens everything; a wrong key opens nothing.
async fn rotation(test_db: TestDb) {
    let old_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let new_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
    let env = Env::start(&test_db, &format!("vault_key = \"{old_key}\"\n")).await;
    let admin = env.user("admin").await;
    let hook = env
        .backend
        .webhooks
        .create(
            &admin.id,
            &types::WebhookInput {
                url: format!("{}/hook", env.fake.base),
                event_types: vec!["StoryCreated".into()],
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let call = types::CallInput {
        method: "POST".into(),
        url: format!("{}/hook", env.fake.base),
        headers: [("authorization".to_string(), "Bearer call-secret".to_string())].into(),
        idempotency_key: "rotation-call".into(),
        due_at: Some(backend::time::now_millis() + 3_600_000),
        ..Default::default()
    };
    env.backend.calls.submit(Some(&admin.id), "api", &call).await.unwrap();
    env.connect(&admin, "s1").await;
    let token = env.fake.token_for(&format!("code-{}", admin.id)).unwrap();

    // Webhook secret, call credentials, connector token: one of each, in that order.
    let sealed = || async {
        let mut all = Vec::new();
        for sql in [
            "SELECT sealed_secret FROM webhooks",
            "SELECT sealed_headers FROM calls WHERE sealed_headers IS NOT NULL",
            "SELECT sealed_credential FROM connector_connections WHERE sealed_credential IS NOT NULL",
        ] {
            all.extend(
                with_pool!(env.db(), |pool| sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await).unwrap(),
            );
        }
        all
    };
    let before = sealed().await;
    assert_eq!(before.len(), 3);
    let vault_with = |extra: &str| {
        let config = backend::testing::config(env._dir.path(), &env.url, "http://127.0.0.1:9", extra);
        backend::vault::Vault::from_config(&config).unwrap()
    };
    // The wrong key opens nothing.
    let new_only = vault_with(&format!("vault_key = \"{new_key}\""));
    assert!(before.iter().all(|value| new_only.open(value).is_err()));
    // With the old key as a previous key everything opens, and new values use the new key.
    let rotating = vault_with(&format!("vault_key = \"{new_key}\"\nvault_previous_keys = [\"{old_key}\"]"));
    assert!(before.iter().all(|value| rotating.open(value).is_ok()));
    assert!(rotating.open(&before[2]).unwrap().contains(&token));
    let report = backend::vault::reseal_all(env.db(), &rotating).await.unwrap();
    assert_eq!(report.resealed(), 3, "{report:?}");
    assert_eq!(report.unreadable(), 0);
    let names: Vec<(&str, u64)> = report.kinds.iter().map(|k| (k.0, k.1)).collect();
    assert_eq!(names, [("webhook secrets", 1), ("call credentials", 1), ("connector tokens", 1)]);
    // Afterwards the new key alone opens everything, to the same plaintexts.
    let after = sealed().await;
    for (old, new) in before.iter().zip(&after) {
        assert_ne!(old, new);
        assert_eq!(new_only.open(new).unwrap(), rotating.open(old).unwrap());
    }
    let again = backend::vault::reseal_all(env.db(), &new_only).await.unwrap();
    assert_eq!((again.resealed(), again.kinds.iter().map(|k| k.2).sum::<u64>()), (0, 3));
    // A key nobody configured any more makes values unreadable, counted, left as they are.
    let lost = vault_with(&format!("vault_key = \"{old_key}\""));
    assert_eq!(backend::vault::reseal_all(env.db(), &lost).await.unwrap().unreadable(), 3);
    assert_eq!(sealed().await, after);
    let _ = hook;
    env.backend.db().close().await;
    test_db.cleanup().await;
}

backend::engines_test!(vault_rotation, rotation);
