//! Email through a real SMTP server (npm maildev, `backend::testing::Maildev`): a
//! password reset is emailed once however often its event is delivered, its link works
//! once and only within the hour, and using it ends every session of the account; a new
//! account's address is verified through the link emailed at sign-up, once.

use std::sync::Arc;
use std::time::Duration;

use backend::db::{with_pool, Db};
use backend::db_test;
use backend::email::Mailer;
use backend::events::{Dispatcher, RetryPolicy};
use backend::identity::{repo as users, ClientInfo, Identity, NewUser, Role, SessionCheck};
use backend::testing::Maildev;
use backend::vault::Vault;
use backend::Error;

struct World {
    identity: Identity,
    mailer: Arc<Mailer>,
    dispatcher: Dispatcher,
    _dir: tempfile::TempDir,
}

impl World {
    fn new(db: &Db, smtp: Option<&Maildev>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let extra =
            smtp.map(|m| format!("smtp_url = \"{}\"\nemail_from = \"Heirloom <family@example.org>\"", m.smtp_url()));
        let config = backend::testing::config(
            dir.path(),
            "sqlite::memory:",
            "https://heirloom.example",
            &extra.unwrap_or_default(),
        );
        let mailer = Arc::new(Mailer::from_config(&config, db.clone(), Arc::new(Vault::with_key([7; 32]))).unwrap());
        let retry = RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(1) };
        let dispatcher = Dispatcher::new(db.clone(), vec![Arc::new(backend::email::consumer(mailer.clone()))], retry);
        let identity = Identity::new(db.clone(), Arc::new(config)).with_mailer(mailer.clone());
        World { identity, mailer, dispatcher, _dir: dir }
    }
}

/// The reset link's token, read from the email's plain text.
fn token_in(email: &serde_json::Value) -> String {
    let text = email["text"].as_str().unwrap_or_default();
    let link = text.lines().find_map(|l| l.strip_prefix("Choose a new password: ")).expect("the email has the link");
    assert!(link.starts_with("https://heirloom.example/reset-password?token="), "{link}");
    link.rsplit('=').next().unwrap().to_string()
}

db_test!(a_password_reset_is_emailed_once_and_its_link_works_once_ending_every_session, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev));
    let ann = users::insert(db, &NewUser::new("ann@example.org", "Ann Lee", Role::Member).unwrap()).await.unwrap();
    let client = ClientInfo { ip: "127.0.0.1".parse().unwrap(), user_agent: "test".into() };
    let session = world.identity.start_session(&ann, "password", None, &client).await.unwrap();

    world.identity.request_password_reset(&world.mailer, " Ann@Example.org ").await.unwrap();
    // An address without an account gets the same answer and no email.
    world.identity.request_password_reset(&world.mailer, "nobody@example.org").await.unwrap();
    world.dispatcher.drain().await.unwrap();
    let sent = maildev.wait_for("ann@example.org", 1).await;
    assert_eq!(sent[0]["subject"], "Reset your Heirloom password");
    assert_eq!(sent[0]["from"][0]["address"], "family@example.org");
    assert!(sent[0]["html"].as_str().unwrap().contains("Hello Ann Lee,"), "{}", sent[0]["html"]);
    let token = token_in(&sent[0]);

    // The event delivered again (a crash before it was recorded, a second replica): the
    // email is not sent twice, and its sealed text is gone from the database.
    let (email_id, body): (String, Option<String>) = with_pool!(db, |pool| sqlx::query_as(
        "SELECT id, sealed_body FROM emails WHERE to_address = 'ann@example.org'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(body, None, "a sent email's text is not kept");
    world.mailer.deliver(&email_id.clone().into()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(maildev.emails().await.len(), 1, "one email in all");

    // A second request within the minute sends nothing more (no flooding an inbox).
    world.identity.request_password_reset(&world.mailer, "ann@example.org").await.unwrap();
    world.dispatcher.drain().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(maildev.emails().await.len(), 1);

    // A bad new password changes nothing and leaves the link usable.
    let weak = world.identity.reset_password(&token, "short").await;
    assert!(matches!(&weak, Err(Error::Invalid(f)) if f[0].field == "new_password"), "{weak:?}");
    assert!(matches!(world.identity.authenticate(&session).await.unwrap(), SessionCheck::Valid { .. }));

    let user = world.identity.reset_password(&token, "a brand new passphrase").await.unwrap();
    assert_eq!(user.id, ann.id);
    assert!(matches!(world.identity.authenticate(&session).await.unwrap(), SessionCheck::Ended), "sessions end");
    let signed_in = world.identity.sign_in_password("ann@example.org", "a brand new passphrase", &client).await;
    assert_eq!(signed_in.unwrap().id, ann.id);

    let again = world.identity.reset_password(&token, "yet another passphrase").await;
    assert!(matches!(&again, Err(Error::Invalid(f)) if f[0].field == "token"), "single use: {again:?}");
    let wrong = world.identity.reset_password("not-a-token", "yet another passphrase").await;
    assert!(matches!(&wrong, Err(Error::Invalid(f)) if f[0].field == "token"), "{wrong:?}");
});

db_test!(a_reset_link_expires_after_an_hour, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev));
    users::insert(db, &NewUser::new("bo@example.org", "Bo", Role::Member).unwrap()).await.unwrap();
    world.identity.request_password_reset(&world.mailer, "bo@example.org").await.unwrap();
    world.dispatcher.drain().await.unwrap();
    let token = token_in(&maildev.wait_for("bo@example.org", 1).await[0]);
    let an_hour_ago = backend::time::now_millis() - 1;
    let sql = "UPDATE password_resets SET expires_at = $1";
    with_pool!(db, |pool| sqlx::query(sql).bind(an_hour_ago).execute(pool).await.map(|_| ()).unwrap());
    let expired = world.identity.reset_password(&token, "a brand new passphrase").await;
    assert!(matches!(&expired, Err(Error::Invalid(f)) if f[0].field == "token"), "{expired:?}");
});

db_test!(without_a_mail_server_a_reset_is_refused_by_code_and_nothing_is_queued, |db| {
    let world = World::new(db, None);
    users::insert(db, &NewUser::new("cy@example.org", "Cy", Role::Member).unwrap()).await.unwrap();
    let refused = world.identity.request_password_reset(&world.mailer, "cy@example.org").await;
    assert!(
        matches!(&refused, Err(Error::Conflict(r)) if r.code == Some(types::ErrorCode::EmailNotConfigured)),
        "{refused:?}"
    );
    let queued: i64 =
        with_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM emails").fetch_one(pool).await.unwrap());
    let tokens: i64 = with_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM password_resets")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!((queued, tokens), (0, 0));
});

db_test!(an_email_held_by_a_sender_is_retried_later_and_taken_over_when_its_lease_ends, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev));
    users::insert(db, &NewUser::new("di@example.org", "Di", Role::Member).unwrap()).await.unwrap();
    world.identity.request_password_reset(&world.mailer, "di@example.org").await.unwrap();
    let id: String = with_pool!(db, |pool| sqlx::query_scalar("SELECT id FROM emails").fetch_one(pool).await.unwrap());
    let hold = |until: i64| {
        let sql = "UPDATE emails SET status = 'sending', lease_until = $1";
        async move { with_pool!(db, |pool| sqlx::query(sql).bind(until).execute(pool).await.map(|_| ()).unwrap()) }
    };
    // Another sender took it a moment ago (and may die before sending): not handled yet.
    hold(backend::time::now_millis() + 60_000).await;
    let held = world.mailer.deliver(&id.clone().into()).await;
    assert!(matches!(held, Err(Error::Unavailable(_))), "{held:?}");
    assert!(maildev.emails().await.is_empty());
    // Its lease ran out: this sender takes it over and sends it.
    hold(backend::time::now_millis() - 1).await;
    world.mailer.deliver(&id.into()).await.unwrap();
    assert_eq!(maildev.wait_for("di@example.org", 1).await.len(), 1);
});

db_test!(an_invitation_is_emailed_with_its_link_and_without_a_mail_server_nothing_is_created, |db| {
    use backend::stories::Stories;
    use types::LegacyInput;

    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev));
    let stories = Stories::new(db.clone()).with_mail(world.mailer.clone(), "https://heirloom.example/");
    let ann = users::insert(db, &NewUser::new("ann@example.org", "Ann <Lee>", Role::Member).unwrap()).await.unwrap();
    let input = LegacyInput { name: "Grandpa Joe & Co".into(), ..LegacyInput::default() };
    let legacy = stories.create_legacy(&ann, &input, None).await.unwrap();

    let token = stories.invite(&ann, &legacy.id, "viewer", 7, Some(" cy@example.org ")).await.unwrap();
    world.dispatcher.drain().await.unwrap();
    let email = &maildev.wait_for("cy@example.org", 1).await[0];
    assert_eq!(email["subject"], "Ann <Lee> invites you to Grandpa Joe & Co on Heirloom");
    let text = email["text"].as_str().unwrap();
    assert!(text.contains(&format!("Join the legacy: https://heirloom.example/invitations/{token}")), "{text}");
    assert!(email["html"].as_str().unwrap().contains("Ann &lt;Lee&gt;"), "{}", email["html"]);
    let cy = users::insert(db, &NewUser::new("cy@example.org", "Cy", Role::Member).unwrap()).await.unwrap();
    assert_eq!(stories.accept_invitation(&cy, &token).await.unwrap(), legacy.id);

    // A bad address, or no mail server: refused, and no invitation is made.
    let bad = stories.invite(&ann, &legacy.id, "viewer", 7, Some("not an address")).await;
    assert!(matches!(&bad, Err(Error::Invalid(f)) if f[0].field == "email"), "{bad:?}");
    let unmailed = Stories::new(db.clone()).invite(&ann, &legacy.id, "viewer", 7, Some("di@example.org")).await;
    assert!(matches!(&unmailed, Err(Error::Conflict(r)) if r.code == Some(types::ErrorCode::EmailNotConfigured)));
    let invitations: i64 = with_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM legacy_invitations")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(invitations, 1, "only the emailed one");
});

db_test!(a_new_account_verifies_its_address_through_the_emailed_link_once, |db| {
    let Some(maildev) = Maildev::start().await else { return };
    let world = World::new(db, Some(&maildev));
    // The first account (the admin), then Cy.
    let signup = |email: &str, name: &str| backend::identity::SignUp {
        email: email.into(),
        display_name: name.into(),
        password: "a long enough passphrase".into(),
        invite: None,
    };
    world.identity.sign_up(signup("admin@example.org", "Admin")).await.unwrap();
    let cy = world.identity.sign_up(signup("cy@example.org", "Cy")).await.unwrap();
    assert!(!world.identity.email_verified(&cy).await.unwrap());
    world.dispatcher.drain().await.unwrap();
    let sent = maildev.wait_for("cy@example.org", 1).await;
    assert_eq!(sent[0]["subject"], "Verify your email address for Heirloom");
    let text = sent[0]["text"].as_str().unwrap();
    let link = text.lines().find_map(|l| l.strip_prefix("Verify my email address: ")).expect("the link");
    assert!(link.starts_with("https://heirloom.example/verify-email?token="), "{link}");
    let token = link.rsplit('=').next().unwrap();

    // Asking again within the minute is refused; a wrong token changes nothing.
    let again = world.identity.send_verification(&cy).await;
    assert!(matches!(again, Err(Error::RateLimited { .. })), "{again:?}");
    let wrong = world.identity.verify_email("not-a-token").await;
    assert!(matches!(&wrong, Err(Error::Invalid(f)) if f[0].field == "token"), "{wrong:?}");
    assert!(!world.identity.email_verified(&cy).await.unwrap());

    assert_eq!(world.identity.verify_email(token).await.unwrap().id, cy.id);
    assert!(world.identity.email_verified(&cy).await.unwrap());
    let twice = world.identity.verify_email(token).await;
    assert!(matches!(&twice, Err(Error::Invalid(f)) if f[0].field == "token"), "single use: {twice:?}");
    let verified_already = world.identity.send_verification(&cy).await;
    assert!(matches!(verified_already, Err(Error::Conflict(_))), "{verified_already:?}");
});
