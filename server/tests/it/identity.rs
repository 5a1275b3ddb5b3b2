//! Password accounts, sessions, CSRF and bad input against a real server, on SQLite and
//! (with TEST_DATABASE_URL) PostgreSQL.

use crate::common::TestServer;
use backend::db::with_pool;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "grandma's garden 1952";

async fn sign_up(server: &TestServer, client: &reqwest::Client, email: &str) -> reqwest::Response {
    server
        .post_json(
            client,
            "/api/v1/auth/signup",
            json!({ "email": email, "display_name": "Ana", "password": PASSWORD }),
        )
        .await
}

async fn sign_in(server: &TestServer, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
    server.post_json(client, "/api/v1/auth/signin", json!({ "email": email, "password": password })).await
}

async fn me(server: &TestServer, client: &reqwest::Client) -> reqwest::Response {
    client.get(server.url("/api/v1/me")).send().await.unwrap()
}

async fn user_count(server: &TestServer) -> i64 {
    backend::identity::repo::count(server.backend.db()).await.unwrap()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("heirloom_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

server_test!(sign_up_sign_in_and_sign_out, |server| {
    let browser = TestServer::browser();
    let signed_out = me(server, &browser).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(signed_out.json::<Value>().await.unwrap()["kind"], "unauthenticated");

    let created = sign_up(server, &browser, " Ana@Example.org ").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let cookie = created.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http public_url: {cookie}");
    let user: Value = created.json().await.unwrap();
    assert_eq!(user["email"], "ana@example.org");
    assert_eq!(user["is_admin"], true, "the first account is the admin");

    let who = me(server, &browser).await.json::<Value>().await.unwrap();
    assert_eq!(who["email"], "ana@example.org");

    let out = server.post_json(&browser, "/api/v1/auth/signout", json!({})).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(me(server, &browser).await.status(), StatusCode::UNAUTHORIZED);

    let second = TestServer::browser();
    assert_eq!(sign_up(server, &second, "bo@example.org").await.json::<Value>().await.unwrap()["is_admin"], false);

    let back = sign_in(server, &browser, "ANA@example.org", PASSWORD).await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(me(server, &browser).await.status(), StatusCode::OK);
});

server_test!(wrong_email_and_wrong_password_look_the_same, |server| {
    let browser = TestServer::browser();
    sign_up(server, &browser, "ana@example.org").await;
    let wrong_password = sign_in(server, &TestServer::browser(), "ana@example.org", "not it at all").await;
    let unknown_email = sign_in(server, &TestServer::browser(), "nobody@example.org", "not it at all").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.json::<Value>().await.unwrap(), unknown_email.json::<Value>().await.unwrap());
});

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_account() {
    let server =
        TestServer::start_with(backend::testing::TestDb::sqlite().await, "login_attempts_per_account = 3").await;
    sign_up(&server, &TestServer::browser(), "ana@example.org").await;
    for _ in 0..3 {
        let attempt = sign_in(&server, &TestServer::browser(), "ana@example.org", "guess guess").await;
        assert_eq!(attempt.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = sign_in(&server, &TestServer::browser(), "ana@example.org", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["kind"], "rate_limited");
    // Another account from the same address is unaffected.
    sign_up(&server, &TestServer::browser(), "bo@example.org").await;
    let other = sign_in(&server, &TestServer::browser(), "bo@example.org", PASSWORD).await;
    assert_eq!(other.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_address() {
    let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, "login_attempts_per_ip = 2").await;
    for email in ["a@example.org", "b@example.org"] {
        assert_eq!(sign_in(&server, &TestServer::browser(), email, "x").await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = sign_in(&server, &TestServer::browser(), "c@example.org", "x").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    server.stop().await;
}

server_test!(the_session_id_changes_at_sign_in, |server| {
    let browser = TestServer::browser();
    let first = sign_up(server, &browser, "ana@example.org").await;
    let before = session_cookie(&first).expect("cookie at sign-up");
    let again = sign_in(server, &browser, "ana@example.org", PASSWORD).await;
    let after = session_cookie(&again).expect("new cookie at sign-in");
    assert_ne!(before, after);

    // The id from before sign-in no longer opens anything.
    let stale = reqwest::Client::new();
    let response = stale.get(server.url("/api/v1/me")).header("cookie", &before).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let fresh = stale.get(server.url("/api/v1/me")).header("cookie", &after).send().await.unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
});

server_test!(expired_sessions_are_signed_out, |server| {
    let absolute = TestServer::browser();
    sign_up(server, &absolute, "ana@example.org").await;
    let idle = TestServer::browser();
    sign_in(server, &idle, "ana@example.org", PASSWORD).await;
    assert_eq!(me(server, &idle).await.status(), StatusCode::OK);
    let sessions = server.backend.identity.sessions(&authenticated(server, "ana@example.org").await).await.unwrap();
    assert_eq!(sessions.len(), 2);

    // Age one session past the absolute limit (30 days) and the other past the idle limit (7 days).
    let (old, stale) = (&sessions[1].id, &sessions[0].id);
    let day = 86_400_000_i64;
    let now = backend::time::now_millis();
    let set = |sql: &'static str, at: i64, id: &str| {
        let id = id.to_string();
        async move {
            with_pool!(server.backend.db(), |pool| {
                sqlx::query(sql).bind(at).bind(&id).execute(pool).await.unwrap();
            });
        }
    };
    set("UPDATE user_sessions SET created_at = $1 WHERE id = $2", now - 31 * day, old).await;
    set("UPDATE user_sessions SET last_seen_at = $1 WHERE id = $2", now - 8 * day, stale).await;
    assert_eq!(me(server, &absolute).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(server, &idle).await.status(), StatusCode::UNAUTHORIZED);
    // Both were ended when they were next used: none of Ana's sessions is left.
    let ana = backend::identity::repo::find_by_email(server.backend.db(), "ana@example.org").await.unwrap().unwrap();
    let left = backend::identity::repo::list_sessions(server.backend.db(), &ana.id).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
});

async fn authenticated(server: &TestServer, email: &str) -> backend::identity::Authenticated {
    let user = backend::identity::repo::find_by_email(server.backend.db(), email).await.unwrap().unwrap();
    let rows = backend::identity::repo::list_sessions(server.backend.db(), &user.id).await.unwrap();
    backend::identity::Authenticated { user, session_id: rows[0].id.clone() }
}

server_test!(cross_site_posts_are_refused_and_change_nothing, |server| {
    let forged = reqwest::Client::new()
        .post(server.url("/api/v1/auth/signup"))
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "ana@example.org", "display_name": "Ana", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["kind"], "forbidden");
    assert!(body["message"].as_str().unwrap().contains("evil.example"));

    let no_origin = reqwest::Client::new()
        .post(server.url("/auth/signin"))
        .form(&[("email", "ana@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);

    let forged_referer = reqwest::Client::new()
        .post(server.url("/theme"))
        .header("referer", "https://evil.example/page")
        .form(&[("theme", "dark")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_referer.status(), StatusCode::FORBIDDEN);
    assert!(!forged_referer.headers().contains_key("set-cookie"));
    assert_eq!(user_count(server).await, 0);

    // A signed-in user's session cannot be used cross-site either.
    let browser = TestServer::browser();
    sign_up(server, &browser, "ana@example.org").await;
    let sessions_before = backend::identity::repo::count(server.backend.db()).await.unwrap();
    let forged_signout = browser
        .post(server.url("/api/v1/auth/signout"))
        .header("origin", "http://127.0.0.1:1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged_signout.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(server, &browser).await.status(), StatusCode::OK);
    assert_eq!(backend::identity::repo::count(server.backend.db()).await.unwrap(), sessions_before);
});

server_test!(bad_sign_up_input_is_explained_and_creates_nothing, |server| {
    let browser = TestServer::browser();
    let sign_up_with = |body: Value| server.post_json(&browser, "/api/v1/auth/signup", body);
    let empty = sign_up_with(json!({ "email": "", "display_name": "", "password": "" })).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = empty.json().await.unwrap();
    let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "display_name", "password"]);

    let huge = "p".repeat(10 * 1024);
    let long = sign_up_with(json!({ "email": "ana@example.org", "display_name": "Ana", "password": huge })).await;
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("password: must be at most 1024 bytes"));

    let bad_email =
        sign_up_with(json!({ "email": "ana.example.org", "display_name": "Ana", "password": PASSWORD })).await;
    assert_eq!(bad_email.json::<Value>().await.unwrap()["fields"][0]["field"], "email");

    let not_json = server.post_raw_json(&browser, "/api/v1/auth/signup", "{not json").await;
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(user_count(server).await, 0);

    sign_up(server, &browser, "ana@example.org").await;
    let taken = sign_up(server, &TestServer::browser(), "ANA@example.org").await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(taken.json::<Value>().await.unwrap()["code"], "email_taken");
    assert_eq!(user_count(server).await, 1);
});

sqlite_server_test!(a_form_with_bad_input_comes_back_with_the_problems_shown, |server| {
    let browser = TestServer::browser();
    let posted = server
        .post_form(
            &browser,
            "/auth/signup",
            &[("email", "not-an-email"), ("display_name", "Ana"), ("password", "short")],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert_eq!(posted.headers()["location"], "/signup");
    let page =
        browser.get(server.url("/signup")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("must look like name@example.org"), "{page}");
    assert!(page.contains("must be at least 8 characters"), "{page}");
    assert!(page.contains(r#"value="not-an-email""#), "the email is kept: {page}");
    // Shown once.
    let again =
        browser.get(server.url("/signup")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(!again.contains("must look like name@example.org"));
    assert_eq!(user_count(&server).await, 0);
});

sqlite_server_test!(unknown_providers_and_replayed_callbacks_are_refused, |server| {
    let browser = TestServer::browser();
    let unknown = browser.get(server.url("/auth/oidc/nope/start")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::SEE_OTHER);
    assert_eq!(unknown.headers()["location"], "/signin");
    let page =
        browser.get(server.url("/signin")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("there is no sign-in provider called `nope`"), "{page}");

    let replay = browser.get(server.url("/auth/oidc/nope/callback?code=abc&state=def")).send().await.unwrap();
    assert_eq!(replay.headers()["location"], "/signin");
    let page =
        browser.get(server.url("/signin")).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("expired or was already used"), "{page}");
    assert_eq!(user_count(&server).await, 0);
});

#[tokio::test]
async fn closed_sign_up_still_allows_the_first_account() {
    let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, "signup = \"closed\"").await;
    assert_eq!(sign_up(&server, &TestServer::browser(), "admin@example.org").await.status(), StatusCode::CREATED);
    let refused = sign_up(&server, &TestServer::browser(), "ana@example.org").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("closed"));
    assert_eq!(user_count(&server).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn invite_only_sign_up_needs_a_valid_unused_invitation() {
    let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, "signup = \"invite_only\"").await;
    let admin = TestServer::browser();
    sign_up(&server, &admin, "admin@example.org").await;
    let no_invite = sign_up(&server, &TestServer::browser(), "ana@example.org").await;
    assert_eq!(no_invite.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_invite.json::<Value>().await.unwrap()["fields"][0]["field"], "invite");

    let invite: Value =
        server.post_json(&admin, "/api/v1/signup-invites", json!({ "expires_in_days": 3 })).await.json().await.unwrap();
    let token = invite["token"].as_str().unwrap().to_string();
    assert!(invite["url"].as_str().unwrap().ends_with(&format!("/signup?invite={token}")));
    let body = |email: &str| json!({ "email": email, "display_name": "Ana", "password": PASSWORD, "invite": token });
    let wrong = server
        .post_json(
            &TestServer::browser(),
            "/api/v1/auth/signup",
            json!({ "email": "x@example.org", "display_name": "X", "password": PASSWORD, "invite": "forged" }),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let used = server.post_json(&TestServer::browser(), "/api/v1/auth/signup", body("ana@example.org")).await;
    assert_eq!(used.status(), StatusCode::CREATED);
    let reused = server.post_json(&TestServer::browser(), "/api/v1/auth/signup", body("bo@example.org")).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(user_count(&server).await, 2);

    // Members cannot create invitations.
    let member = TestServer::browser();
    sign_in(&server, &member, "ana@example.org", PASSWORD).await;
    let refused = server.post_json(&member, "/api/v1/signup-invites", json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}

server_test!(changing_the_password_signs_out_other_sessions, |server| {
    let here = TestServer::browser();
    sign_up(server, &here, "ana@example.org").await;
    let elsewhere = TestServer::browser();
    sign_in(server, &elsewhere, "ana@example.org", PASSWORD).await;

    let wrong = server
        .post_json(
            &here,
            "/api/v1/auth/password",
            json!({ "current_password": "nope nope", "new_password": "a brand new phrase" }),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json::<Value>().await.unwrap()["fields"][0]["field"], "current_password");

    let changed = server
        .post_json(
            &here,
            "/api/v1/auth/password",
            json!({ "current_password": PASSWORD, "new_password": "a brand new phrase" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(me(server, &here).await.status(), StatusCode::OK);
    assert_eq!(me(server, &elsewhere).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(server, &TestServer::browser(), "ana@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(server, &TestServer::browser(), "ana@example.org", "a brand new phrase").await.status(),
        StatusCode::OK
    );
});

server_test!(sessions_can_be_listed_and_revoked, |server| {
    let here = TestServer::browser();
    sign_up(server, &here, "ana@example.org").await;
    let phone = TestServer::browser();
    sign_in(server, &phone, "ana@example.org", PASSWORD).await;
    let laptop = TestServer::browser();
    sign_in(server, &laptop, "ana@example.org", PASSWORD).await;

    let sessions: Vec<Value> = here.get(server.url("/api/v1/me/sessions")).send().await.unwrap().json().await.unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);

    // Revoke the phone's session (the most recent other than laptop's is fine: pick any not current).
    let phone_id = {
        let phone_sessions: Vec<Value> =
            phone.get(server.url("/api/v1/me/sessions")).send().await.unwrap().json().await.unwrap();
        phone_sessions.iter().find(|s| s["current"] == true).unwrap()["id"].as_str().unwrap().to_string()
    };
    let revoked = server.post_json(&here, "/api/v1/me/sessions/revoke", json!({ "id": phone_id })).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(me(server, &phone).await.status(), StatusCode::UNAUTHORIZED);
    let missing = server.post_json(&here, "/api/v1/me/sessions/revoke", json!({ "id": phone_id })).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let everywhere = server.post_json(&here, "/api/v1/me/sessions/revoke-others", json!({})).await;
    assert_eq!(everywhere.json::<Value>().await.unwrap()["revoked"], 1);
    assert_eq!(me(server, &laptop).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(server, &here).await.status(), StatusCode::OK);
});

sqlite_server_test!(the_account_page_needs_a_signed_in_user, |server| {
    let browser = TestServer::browser();
    let redirected = browser.get(server.url("/account")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(redirected.status(), StatusCode::SEE_OTHER);
    assert_eq!(redirected.headers()["location"], "/signin?next=%2Faccount");

    sign_up(&server, &browser, "ana@example.org").await;
    let page = browser.get(server.url("/account")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("ana@example.org") && html.contains("Where you are signed in"), "{html}");
    assert!(html.contains("this browser"), "{html}");
});

server_test!(activity_extends_a_session_without_a_write_per_request, |server| {
    let browser = TestServer::browser();
    sign_up(server, &browser, "ana@example.org").await;
    // A page view right after sign-in changes nothing, so the session is not saved again.
    let quiet = browser.get(server.url("/account")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(quiet.status(), StatusCode::OK);
    assert!(session_cookie(&quiet).is_none(), "no session write on a plain page view");

    // After a minute of quiet, the next request records activity and extends the cookie session.
    let auth = authenticated(server, "ana@example.org").await;
    let two_minutes_ago = backend::time::now_millis() - 120_000;
    with_pool!(server.backend.db(), |pool| {
        sqlx::query("UPDATE user_sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(two_minutes_ago)
            .bind(&auth.session_id)
            .execute(pool)
            .await
            .unwrap();
    });
    let active = me(server, &browser).await;
    assert_eq!(active.status(), StatusCode::OK);
    let cookie = active
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("heirloom_session="))
        .map(str::to_string);
    assert!(cookie.as_deref().is_some_and(|c| c.contains("Max-Age=")), "expiry extended: {cookie:?}");
    let row = backend::identity::repo::find_session(server.backend.db(), &auth.session_id).await.unwrap().unwrap();
    assert!(row.last_seen_at > two_minutes_ago);
});

sqlite_server_test!(without_a_mail_server_forgot_password_says_whom_to_ask, |server| {
    let page = server.get("/forgot-password").await.text().await.unwrap();
    assert!(page.contains("This server cannot send email") && !page.contains("Email me a link"), "{page}");
    let browser = TestServer::browser();
    let refused = server.post_json(&browser, "/api/v1/auth/password/forgot", json!({ "email": "x@example.org" })).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(refused.json::<Value>().await.unwrap()["code"], "email_not_configured");
    let reset = json!({ "token": "made-up", "new_password": "a brand new passphrase" });
    let refused = server.post_json(&browser, "/api/v1/auth/password/reset", reset).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json::<Value>().await.unwrap()["fields"][0]["field"], "token");
});

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_emailed_link() {
    let Some(maildev) = backend::testing::Maildev::start().await else { return };
    let settings = format!("smtp_url = \"{}\"", maildev.smtp_url());
    let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, &settings).await;
    let before = server.signed_up("ana@example.org").await;
    let page = server.get("/forgot-password").await.text().await.unwrap();
    assert!(page.contains("Email me a link"), "{page}");

    let asked =
        server.post_form(&TestServer::browser(), "/auth/password/forgot", &[("email", "ana@example.org")]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    // The first email verifies her address (sent at sign-up); the second resets.
    let emails = maildev.wait_for("ana@example.org", 2).await;
    let link = emails
        .iter()
        .find_map(|e| e["text"].as_str().unwrap().lines().find_map(|l| l.strip_prefix("Choose a new password: ")))
        .unwrap();
    let path = link.strip_prefix(server.base.as_str()).expect("the link is on this server");
    let token = path.rsplit('=').next().unwrap();
    let page = server.get(path).await.text().await.unwrap();
    assert!(page.contains("Choose a new password") && page.contains(token), "{page}");

    let browser = TestServer::browser();
    let body = json!({ "token": token, "new_password": "a brand new passphrase" });
    let reset = server.post_json(&browser, "/api/v1/auth/password/reset", body.clone()).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(me(&server, &browser).await.status(), StatusCode::OK, "signed in where the password was reset");
    assert_eq!(me(&server, &before).await.status(), StatusCode::UNAUTHORIZED, "signed out everywhere else");
    let again = server.post_json(&TestServer::browser(), "/api/v1/auth/password/reset", body).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY, "the link works once");
    let signed_in = sign_in(&server, &TestServer::browser(), "ana@example.org", "a brand new passphrase").await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    server.stop().await;
}
