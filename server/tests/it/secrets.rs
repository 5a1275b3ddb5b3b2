//! The secrets audit: with an OpenID client secret, a vault key and a database password
//! configured, and credentials passing through outbound calls and webhooks, none of
//! them appears in any response (pages, API, errors, OpenAPI, metrics), in
//! `check-config`, or anywhere in the server's debug-level logs.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const OIDC_SECRET: &str = "oidc-client-secret-7f3a9c";
/// base64 of 32 bytes; its text must not leak either.
const VAULT_KEY: &str = "c2VjcmV0LXZhdWx0LWtleS1mb3ItdGhlLWF1ZGl0ISE=";
const CALL_TOKEN: &str = "call-bearer-token-5be21d";

fn heirloom(dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heirloom"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir)
        .env("HEIRLOOM_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("HEIRLOOM_LOG_LEVEL", "debug")
        .env("HEIRLOOM_VAULT_KEY", VAULT_KEY)
        .env("HEIRLOOM_CALLS_ALLOW_PRIVATE_NETWORKS", "true")
        .env(
            "HEIRLOOM_OIDC_PROVIDERS",
            format!(
                r#"[{{ id = "corp", name = "Corp", issuer = "http://127.0.0.1:9/", client_id = "heirloom", client_secret = "{OIDC_SECRET}" }}]"#
            ),
        );
    cmd
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// A response's headers on the first line, then its body.
async fn dump(response: reqwest::Response) -> String {
    let headers = format!("{:?}", response.headers()).replace('\n', " ");
    format!("{headers}\n{}", response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_configured_or_submitted_secret_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut seen = String::new();

    let check = heirloom(dir.path(), port).arg("check-config").output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    seen.push_str(&String::from_utf8_lossy(&check.stdout));
    seen.push_str(&String::from_utf8_lossy(&check.stderr));

    let mut server =
        heirloom(dir.path(), port).arg("serve").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Read the logs as they come, or a full pipe would stall the server.
    let readers = [drain(server.stdout.take().unwrap()), drain(server.stderr.take().unwrap())];
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{base}/readyz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let receiver = axum::Router::new().route("/hook", axum::routing::post(|| async { "received" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |path: &str, body: serde_json::Value| {
        client.post(format!("{base}{path}")).header("origin", &base).json(&body).send()
    };
    let signup = json!({ "email": "admin@example.org", "display_name": "Admin", "password": "a long enough password" });
    seen.push_str(&dump(post("/api/v1/auth/signup", signup).await.unwrap()).await);
    let created = dump(post("/api/v1/webhooks", json!({ "url": hook, "event_types": ["*"] })).await.unwrap()).await;
    let created = created.split_once('\n').unwrap().1;
    let webhook_secret: String =
        serde_json::from_str::<serde_json::Value>(created).unwrap()["secret"].as_str().unwrap().into();
    // The secret is shown once, in that answer; from here on it must not appear anywhere.
    seen.clear();
    seen.push_str(&String::from_utf8_lossy(&check.stdout));
    let call = json!({ "method": "POST", "url": hook, "idempotency_key": "audit", "headers": { "Authorization": format!("Bearer {CALL_TOKEN}") } });
    let submitted = dump(post("/api/v1/calls", call).await.unwrap()).await;
    seen.push_str(&submitted);
    let submitted = submitted.split_once('\n').unwrap().1;
    let call_id =
        serde_json::from_str::<serde_json::Value>(submitted).unwrap()["call"]["id"].as_str().unwrap().to_string();
    seen.push_str(&dump(post("/api/v1/legacies", json!({ "name": "Audit" })).await.unwrap()).await);
    seen.push_str(&dump(client.get(format!("{base}/auth/oidc/corp/start")).send().await.unwrap()).await);
    tokio::time::sleep(Duration::from_millis(1500)).await; // deliveries run
    for path in [
        "/",
        "/signin",
        "/account",
        "/api/v1/openapi.json",
        "/metrics",
        "/readyz",
        "/api/v1/me",
        "/api/v1/calls",
        &format!("/api/v1/calls/{call_id}"),
        "/api/v1/webhooks",
        "/admin/deliveries",
        &format!("/admin/deliveries/{call_id}"),
        "/admin/webhooks",
        "/no-such-page",
        "/api/v1/nope",
    ] {
        seen.push_str(&dump(client.get(format!("{base}{path}")).send().await.unwrap()).await);
    }
    seen.push_str(&dump(post("/api/v1/calls", json!({ "method": "POST", "url": "nope" })).await.unwrap()).await);

    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    server.wait().unwrap();
    let logs: String = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(logs.contains("call attempted"), "the logs cover the delivery: {}", &logs[..logs.len().min(2000)]);
    assert!(seen.contains(&call_id), "the responses were recorded");
    assert!(seen.contains("\"authorization\":\"[redacted]\""), "the call's credential header is shown redacted");
    seen.push_str(&logs);
    let vault_file = std::fs::read_to_string(dir.path().join("data/vault.key")).unwrap_or_default();
    assert!(vault_file.is_empty(), "a configured vault key means no key file");
    for (name, secret) in [
        ("OpenID client secret", OIDC_SECRET),
        ("vault key", VAULT_KEY),
        ("call credential", CALL_TOKEN),
        ("webhook secret", webhook_secret.as_str()),
    ] {
        assert!(!seen.contains(secret), "the {name} leaked");
    }
}
