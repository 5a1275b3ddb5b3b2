//! OpenID Connect sign-in against a real provider: panva's `oidc-provider` (npm), run
//! by node on loopback, driven here like a browser would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::TestServer;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;

struct Provider {
    issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server with the one provider "test" configured and running (`logout`: whether it
/// offers RP-initiated logout); `None` where node's provider cannot run (never in CI).
async fn with_test_provider(logout: bool) -> Option<(TestServer, Provider)> {
    let port = free_port();
    let server =
        TestServer::start_with(backend::testing::TestDb::sqlite().await, &provider_toml(&[("test", port)])).await;
    let provider = start_provider(port, &server.base, &["test"], logout)?;
    Some((server, provider))
}

/// Starts a provider on `port` whose client accepts Heirloom's callbacks; `None` (after
/// saying why) when the npm packages are not installed on a developer machine.
fn start_provider(port: u16, heirloom: &str, provider_ids: &[&str], logout: bool) -> Option<Provider> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    if !std::path::Path::new(&format!("{root}/node_modules/oidc-provider")).exists() {
        assert!(std::env::var("CI").is_err(), "CI must run `npm ci` before the Rust tests (make test does)");
        eprintln!("skipping: node_modules/oidc-provider is missing; run `npm ci`");
        return None;
    }
    let redirects: Vec<String> = provider_ids.iter().map(|id| format!("{heirloom}/auth/oidc/{id}/callback")).collect();
    let mut command = Command::new("node");
    command
        .arg(format!("{root}/end2end/oidc/provider.mjs"))
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_REDIRECT_URIS", redirects.join(","))
        .env("OIDC_POST_LOGOUT_URIS", format!("{heirloom}/signin?signed_out=1"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if !logout {
        command.env("OIDC_NO_LOGOUT", "1");
    }
    let mut child = command.spawn().expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("provider printed nothing").unwrap();
    assert!(ready.contains("ready"), "{ready}");
    // Keep draining its output: a closed pipe would kill it on its next log line.
    std::thread::spawn(move || lines.for_each(drop));
    Some(Provider { issuer: format!("http://127.0.0.1:{port}"), child })
}

fn provider_toml(entries: &[(&str, u16)]) -> String {
    let providers: Vec<String> = entries
        .iter()
        .map(|(id, port)| {
            format!(
                r#"{{ id = "{id}", name = "Test {id}", issuer = "http://127.0.0.1:{port}", client_id = "heirloom", client_secret = "heirloom-test-secret" }}"#
            )
        })
        .collect();
    format!("oidc_providers = [{}]", providers.join(", "))
}

fn absolute(base: &str, location: &str) -> String {
    reqwest::Url::parse(base).unwrap().join(location).unwrap().to_string()
}

fn form_action_and_fields(html: &str) -> (String, Vec<(String, String)>) {
    let action = html.split("action=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a form").to_string();
    let mut fields = Vec::new();
    for input in html.split("<input").skip(1) {
        let attr = |name: &str| {
            input.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).map(str::to_string)
        };
        if attr("type").as_deref() == Some("hidden") {
            if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
                fields.push((name, value));
            }
        }
    }
    (action, fields)
}

/// Walks the whole sign-in as a browser: Heirloom → provider login → consent →
/// Heirloom callback. Returns the callback URL and where Heirloom sent the browser.
async fn sign_in_at_provider(
    server: &TestServer,
    browser: &reqwest::Client,
    provider: &str,
    login: &str,
) -> (String, String) {
    let start = server.url(&format!("/auth/oidc/{provider}/start?next=/account"));
    sign_in_from(server, browser, start, login).await
}

/// The same walk, from a start URL of the caller's (to choose `next`).
async fn sign_in_from(server: &TestServer, browser: &reqwest::Client, start: String, login: &str) -> (String, String) {
    let mut url = start;
    let mut callback = None;
    for _ in 0..25 {
        let response = browser.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            let next = absolute(&url, response.headers()["location"].to_str().unwrap());
            if callback.as_deref() == Some(url.as_str()) {
                return (url, next);
            }
            if next.starts_with(&server.base) && next.contains("/callback") {
                callback = Some(next.clone());
            }
            if next.starts_with(&server.base) && !next.contains("/callback") {
                return (callback.unwrap_or_default(), next);
            }
            url = next;
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let html = response.text().await.unwrap();
        let (action, mut fields) = form_action_and_fields(&html);
        if html.contains("name=\"login\"") {
            fields.push(("login".into(), login.into()));
            fields.push(("password".into(), "anything".into()));
        }
        let posted = browser.post(absolute(&url, &action)).form(&fields).send().await.unwrap();
        assert!(posted.status().is_redirection(), "{}: {}", posted.status(), posted.text().await.unwrap());
        url = absolute(&url, posted.headers()["location"].to_str().unwrap());
    }
    panic!("sign-in did not finish");
}

async fn me(server: &TestServer, browser: &reqwest::Client) -> reqwest::Response {
    browser.get(server.url("/api/v1/me")).send().await.unwrap()
}

async fn flash_on_signin_page(server: &TestServer, browser: &reqwest::Client) -> String {
    browser.get(server.url("/signin")).header("accept", "text/html").send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn signs_in_with_a_real_provider_and_signs_out_there_too() {
    let Some((server, provider)) = with_test_provider(true).await else { return };
    let browser = TestServer::browser();

    let (_, landed) = sign_in_at_provider(&server, &browser, "test", "alice").await;
    assert_eq!(landed, server.url("/account"));
    let who: Value = me(&server, &browser).await.json().await.unwrap();
    assert_eq!(who["email"], "alice@example.org");
    assert_eq!(who["display_name"], "Test alice");
    assert_eq!(who["is_admin"], true);

    // The same person signing in again is the same user.
    let again = TestServer::browser();
    sign_in_at_provider(&server, &again, "test", "alice").await;
    assert_eq!(me(&server, &again).await.json::<Value>().await.unwrap()["id"], who["id"]);
    assert_eq!(backend::identity::repo::count(server.backend.db()).await.unwrap(), 1);

    let out: Value =
        server.post_json(&browser, "/api/v1/auth/signout", serde_json::json!({})).await.json().await.unwrap();
    let logout = out["logout_url"].as_str().expect("provider supports RP-initiated logout");
    assert!(logout.starts_with(&format!("{}/session/end?", provider.issuer)), "{logout}");
    assert!(logout.contains("id_token_hint=") && logout.contains("post_logout_redirect_uri="), "{logout}");
    assert_eq!(me(&server, &browser).await.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn replayed_and_tampered_callbacks_are_refused() {
    let Some((server, _provider)) = with_test_provider(true).await else { return };

    // A callback whose state does not match the attempt is refused and creates nothing.
    let browser = TestServer::browser();
    let mut url = server.url("/auth/oidc/test/start");
    let tampered = loop {
        let response = browser.get(&url).send().await.unwrap();
        if response.status().is_redirection() {
            let next = absolute(&url, response.headers()["location"].to_str().unwrap());
            if next.starts_with(&server.base) && next.contains("/callback") {
                break next.replace("state=", "state=forged");
            }
            url = next;
            continue;
        }
        let html = response.text().await.unwrap();
        let (action, mut fields) = form_action_and_fields(&html);
        if html.contains("name=\"login\"") {
            fields.push(("login".into(), "mallory".into()));
            fields.push(("password".into(), "x".into()));
        }
        let posted = browser.post(absolute(&url, &action)).form(&fields).send().await.unwrap();
        url = absolute(&url, posted.headers()["location"].to_str().unwrap());
    };
    let refused = browser.get(&tampered).send().await.unwrap();
    assert_eq!(refused.headers()["location"], "/signin");
    assert!(flash_on_signin_page(&server, &browser).await.contains("expired or was already used"));
    assert_eq!(me(&server, &browser).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(backend::identity::repo::count(server.backend.db()).await.unwrap(), 0);

    // A completed callback cannot be used a second time, by the same browser or another.
    let honest = TestServer::browser();
    let (callback, _) = sign_in_at_provider(&server, &honest, "test", "alice").await;
    for browser in [&honest, &TestServer::browser()] {
        let replay = browser.get(&callback).send().await.unwrap();
        assert_eq!(replay.headers()["location"], "/signin");
        assert!(flash_on_signin_page(&server, browser).await.contains("expired or was already used"));
    }
    assert_eq!(backend::identity::repo::count(server.backend.db()).await.unwrap(), 1);
    server.stop().await;
}

#[tokio::test]
async fn id_tokens_with_a_wrong_nonce_or_from_another_issuer_are_refused() {
    let (port_a, port_b) = (free_port(), free_port());
    let server = TestServer::start_with(
        backend::testing::TestDb::sqlite().await,
        &provider_toml(&[("a", port_a), ("b", port_b)]),
    )
    .await;
    let Some(_a) = start_provider(port_a, &server.base, &["a", "b"], true) else { return };
    let Some(_b) = start_provider(port_b, &server.base, &["a", "b"], true) else { return };
    let browser = TestServer::browser();
    sign_in_at_provider(&server, &browser, "b", "carol").await;

    let user = backend::identity::repo::find_by_email(server.backend.db(), "carol@example.org").await.unwrap().unwrap();
    let session = &backend::identity::repo::list_sessions(server.backend.db(), &user.id).await.unwrap()[0];
    let token = session.id_token.clone().expect("ID token kept for logout");
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let nonce = claims["nonce"].as_str().unwrap();

    let oidc = &server.backend.identity.oidc;
    assert_eq!(oidc.verify("b", &token, nonce).await.unwrap().subject, "carol", "the genuine token verifies");
    assert!(oidc.verify("b", &token, "another-nonce").await.is_err(), "wrong nonce accepted");
    let other_issuer = oidc.verify("a", &token, nonce).await.unwrap_err();
    assert!(matches!(other_issuer, backend::Error::Forbidden(_)), "{other_issuer:?}");
    server.stop().await;
}

#[tokio::test]
async fn an_unverified_provider_email_does_not_take_over_an_account() {
    let Some((server, _provider)) = with_test_provider(true).await else { return };
    let owner = TestServer::browser();
    let body = serde_json::json!({ "email": "unverified-bob@example.org", "display_name": "Bob", "password": "bob's own password" });
    assert_eq!(server.post_json(&owner, "/api/v1/auth/signup", body).await.status(), StatusCode::CREATED);

    let intruder = TestServer::browser();
    let (_, landed) = sign_in_at_provider(&server, &intruder, "test", "unverified-bob").await;
    assert_eq!(landed, server.url("/signin"));
    assert!(flash_on_signin_page(&server, &intruder).await.contains("has not verified that this email is yours"));
    assert_eq!(me(&server, &intruder).await.status(), StatusCode::UNAUTHORIZED);
    let user = backend::identity::repo::find_by_email(server.backend.db(), "unverified-bob@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(backend::identity::repo::oidc_links(server.backend.db(), &user.id).await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn without_provider_logout_signing_out_does_not_sign_back_in() {
    let Some((server, _provider)) = with_test_provider(false).await else { return };
    let browser = TestServer::browser();
    sign_in_at_provider(&server, &browser, "test", "dave").await;
    let out = server.post_form(&browser, "/auth/signout", &[]).await;
    assert_eq!(out.headers()["location"], "/signin");
    // The sign-in page shows the provider as a choice and does not forward to it.
    let page = browser.get(server.url("/signin")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("You are signed out.") && html.contains("Sign in with Test test"), "{html}");
    assert_eq!(me(&server, &browser).await.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

// The provider sends the browser back to the callback, which sends it on to the `next`
// kept since the start: a hostile one must have become `/` there.
server_test!(the_callback_never_redirects_off_the_site, config = &provider_toml(&[("test", free_port())]), |server| {
    let port = server.backend.config.oidc_providers[0].issuer.port().unwrap();
    let Some(_provider) = start_provider(port, &server.base, &["test"], true) else { return };
    for next in crate::common::HOSTILE_NEXT {
        let browser = TestServer::browser();
        let start = reqwest::Url::parse_with_params(&server.url("/auth/oidc/test/start"), &[("next", next)]).unwrap();
        let (callback, landed) = sign_in_from(server, &browser, start.to_string(), "erin").await;
        assert!(callback.contains("/callback"), "{next:?}: {callback}");
        assert_eq!(landed, server.url("/"), "{next:?}");
        assert_eq!(me(server, &browser).await.status(), StatusCode::OK, "{next:?}");
    }
});
