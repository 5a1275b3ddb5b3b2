//! Hostile request shapes from the security review: control bytes in path ids, open
//! redirects through `next`, forged `X-Forwarded-For` entries, bidi and zero-width
//! characters in file names, and server functions answering with the right status.
//! Every test runs on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

use crate::common::TestServer;
use backend::db::with_pool;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::PASSWORD;

// ---------------------------------------------------------------------------------------
// Control bytes in path segments
// ---------------------------------------------------------------------------------------

/// Every route with a path parameter: method, path template and how the request is sent.
/// `tests::the_route_list_is_complete` keeps this in step with the router and the pages.
const ROUTES: &[(&str, &str)] = &[
    // Pages (GET, as a browser asks for them).
    ("PAGE", "/legacies/{id}"),
    ("PAGE", "/legacies/{id}/edit"),
    ("PAGE", "/legacies/{id}/new"),
    ("PAGE", "/legacies/{id}/members"),
    ("PAGE", "/legacies/{id}/media"),
    ("PAGE", "/legacies/{id}/media/{media_id}"),
    ("PAGE", "/legacies/{id}/people"),
    ("PAGE", "/people/{id}"),
    ("PAGE", "/people/{id}/edit"),
    ("PAGE", "/people/{id}/tree"),
    ("PAGE", "/gedcom-imports/{id}"),
    ("PAGE", "/stories/{id}"),
    ("PAGE", "/stories/{id}/edit"),
    ("PAGE", "/stories/{id}/history"),
    ("PAGE", "/invitations/{token}"),
    ("PAGE", "/admin/deliveries/{id}"),
    // Forms (POST from the site's own origin).
    ("FORM", "/legacies/{id}"),
    ("FORM", "/legacies/{id}/stories"),
    ("FORM", "/legacies/{id}/invitations"),
    ("FORM", "/legacies/{id}/members/{user_id}"),
    ("FORM", "/legacies/{id}/people"),
    ("FORM", "/legacies/{id}/gedcom/import"),
    ("FORM", "/people/{id}"),
    ("FORM", "/people/{id}/delete"),
    ("FORM", "/people/{id}/me"),
    ("FORM", "/people/{id}/me/delete"),
    ("FORM", "/people/{id}/portrait"),
    ("FORM", "/media/{id}/people"),
    ("FORM", "/media/{id}/people/{person_id}/delete"),
    ("FORM", "/people/{id}/relationships"),
    ("FORM", "/relationships/{id}/delete"),
    ("FORM", "/stories/{id}"),
    ("FORM", "/stories/{id}/delete"),
    ("FORM", "/stories/{id}/restore"),
    ("FORM", "/stories/{id}/flag"),
    ("FORM", "/stories/{id}/comments"),
    ("FORM", "/stories/{id}/reactions"),
    ("FORM", "/media/{id}/comments"),
    ("FORM", "/media/{id}/reactions"),
    ("FORM", "/media/{id}/flag"),
    ("FORM", "/comments/{id}"),
    ("FORM", "/comments/{id}/delete"),
    ("FORM", "/comments/{id}/reactions"),
    ("FORM", "/comments/{id}/flag"),
    ("FORM", "/invitations/{token}/accept"),
    ("FORM", "/moderation/{id}"),
    ("FORM", "/notifications/{id}/read"),
    ("FORM", "/legacies/{id}/follow"),
    ("FORM", "/legacies/{id}/follow/delete"),
    ("FORM", "/admin/webhooks/{id}/delete"),
    ("FORM", "/admin/dead-letters/{consumer}/{message_id}/retry"),
    ("FORM", "/admin/dead-letters/{consumer}/{message_id}/discard"),
    ("FORM", "/connectors/{name}/sync"),
    ("FORM", "/connectors/{name}/disconnect"),
    // Browser redirects and files.
    ("GET", "/auth/oidc/{provider}/start"),
    ("GET", "/auth/oidc/{provider}/callback"),
    ("GET", "/connectors/{name}/connect"),
    ("GET", "/connectors/{name}/callback"),
    ("GET", "/media/{id}"),
    ("GET", "/media/{id}/{variant}"),
    ("PUT", "/uploads/{id}/parts/{number}"),
    // REST.
    ("GET", "/api/v1/legacies/{id}"),
    ("PUT", "/api/v1/legacies/{id}"),
    ("GET", "/api/v1/legacies/{id}/members"),
    ("PUT", "/api/v1/legacies/{id}/members/{user_id}"),
    ("DELETE", "/api/v1/legacies/{id}/members/{user_id}"),
    ("POST", "/api/v1/legacies/{id}/invitations"),
    ("POST", "/api/v1/invitations/{token}/accept"),
    ("GET", "/api/v1/stories/{id}"),
    ("PUT", "/api/v1/stories/{id}"),
    ("DELETE", "/api/v1/stories/{id}"),
    ("GET", "/api/v1/stories/{id}/revisions"),
    ("GET", "/api/v1/stories/{id}/revisions/{version}"),
    ("POST", "/api/v1/stories/{id}/revisions/{version}/restore"),
    ("POST", "/api/v1/stories/{id}/flags"),
    ("POST", "/api/v1/moderation/flags/{id}"),
    ("GET", "/api/v1/stories/{id}/comments"),
    ("POST", "/api/v1/stories/{id}/comments"),
    ("POST", "/api/v1/stories/{id}/reactions"),
    ("GET", "/api/v1/media/{id}/comments"),
    ("POST", "/api/v1/media/{id}/comments"),
    ("POST", "/api/v1/media/{id}/reactions"),
    ("POST", "/api/v1/media/{id}/flags"),
    ("PUT", "/api/v1/comments/{id}"),
    ("DELETE", "/api/v1/comments/{id}"),
    ("POST", "/api/v1/comments/{id}/reactions"),
    ("POST", "/api/v1/comments/{id}/flags"),
    ("POST", "/api/v1/notifications/{id}/read"),
    ("GET", "/api/v1/legacies/{id}/follow"),
    ("PUT", "/api/v1/legacies/{id}/follow"),
    ("DELETE", "/api/v1/legacies/{id}/follow"),
    ("GET", "/api/v1/calls/{id}"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("DELETE", "/api/v1/dead-letters/{consumer}/{message_id}"),
    ("POST", "/api/v1/dead-letters/{consumer}/{message_id}/retry"),
    ("GET", "/api/v1/uploads/{id}"),
    ("DELETE", "/api/v1/uploads/{id}"),
    ("POST", "/api/v1/uploads/{id}/complete"),
    ("GET", "/api/v1/media/{id}"),
    ("PATCH", "/api/v1/media/{id}"),
    ("DELETE", "/api/v1/media/{id}"),
    ("POST", "/api/v1/media/{id}/retry"),
    ("GET", "/api/v1/legacies/{id}/media"),
    ("GET", "/api/v1/stories/{id}/media"),
    ("POST", "/api/v1/tips/{id}/feedback"),
    ("GET", "/api/v1/legacies/{id}/people"),
    ("GET", "/api/v1/legacies/{id}/gedcom"),
    ("POST", "/api/v1/legacies/{id}/gedcom"),
    ("POST", "/api/v1/legacies/{id}/people"),
    ("GET", "/api/v1/people/{id}"),
    ("GET", "/api/v1/people/{id}/tree"),
    ("PUT", "/api/v1/people/{id}/me"),
    ("DELETE", "/api/v1/people/{id}/me"),
    ("GET", "/api/v1/people/{id}/media"),
    ("GET", "/api/v1/people/{id}/relatives"),
    ("PUT", "/api/v1/people/{id}/portrait"),
    ("DELETE", "/api/v1/people/{id}/portrait"),
    ("PUT", "/api/v1/media/{id}/people/{person_id}"),
    ("DELETE", "/api/v1/media/{id}/people/{person_id}"),
    ("GET", "/api/v1/gedcom-imports/{id}"),
    ("PUT", "/api/v1/people/{id}"),
    ("DELETE", "/api/v1/people/{id}"),
    ("GET", "/api/v1/people/{id}/family"),
    ("POST", "/api/v1/people/{id}/relationships"),
    ("DELETE", "/api/v1/relationships/{id}"),
    ("GET", "/api/v1/people/{id}/relationship/{other}"),
    ("DELETE", "/api/v1/connectors/{name}"),
    ("POST", "/api/v1/connectors/{name}/sync"),
];

/// The bytes the review found turning into 500s, percent-encoded as a client sends them.
const CONTROL_BYTES: &[&str] = &["%0A", "%0D", "%00", "%7F"];

/// The parameter names of a template, in order.
fn params(template: &str) -> Vec<&str> {
    template.split('{').skip(1).filter_map(|rest| rest.split('}').next()).collect()
}

server_test!(
    control_bytes_in_path_ids_never_give_a_server_error,
    config = "writes_per_minute_per_ip = 100000",
    |server| {
        let (admin, user) = server.signed_up_as("ana@example.org", "ana").await;
        let legacy = server.created(&admin, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await;
        let legacy_id = legacy["id"].as_str().unwrap().to_string();
        let story = server
            .created(
                &admin,
                "/api/v1/stories",
                json!({ "legacy_id": legacy_id, "title": "The bees", "body": "Bees.", "visibility": "members" }),
            )
            .await;
        let story_id = story["id"].as_str().unwrap().to_string();
        let user_id = user["id"].as_str().unwrap().to_string();
        // A value that would be found, so a parameter after it is reached too.
        let valid = |template: &str, param: &str| -> String {
            match param {
                "id" if template.contains("legacies/") => legacy_id.clone(),
                "id" if template.contains("stories/") => story_id.clone(),
                "user_id" => user_id.clone(),
                "version" | "number" => "1".into(),
                "variant" => "original".into(),
                "name" => "todoist".into(),
                "provider" => "test".into(),
                "consumer" => "search".into(),
                _ => "0190b8a4-0000-7000-8000-000000000000".into(),
            }
        };

        let mut failures = Vec::new();
        let mut requests = 0;
        for (kind, template) in ROUTES {
            let names = params(template);
            assert!(!names.is_empty(), "{template} has no parameter");
            for (position, hostile_param) in names.iter().enumerate() {
                for byte in CONTROL_BYTES {
                    let good = valid(template, hostile_param);
                    for hostile in [byte.to_string(), format!("a{byte}b"), format!("{good}{byte}")] {
                        let mut path = template.to_string();
                        for (i, name) in names.iter().enumerate() {
                            let value = if i == position { hostile.clone() } else { valid(template, name) };
                            path = path.replace(&format!("{{{name}}}"), &value);
                        }
                        let url = server.url(&path);
                        let request = match *kind {
                        "PAGE" => admin.get(&url).header("accept", "text/html"),
                        "FORM" => admin
                            .post(&url)
                            .header("origin", &server.base)
                            .header("accept", "text/html")
                            .form(&[("reason", "spam"), ("role", "viewer"), ("version", "1"), ("email", "x@example.org")]),
                        "GET" => admin.get(&url),
                        method => admin
                            .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                            .header("origin", &server.base)
                            .json(&json!({ "version": 1, "title": "t", "body": "b", "role": "viewer", "reason": "spam", "action": "done", "caption": "c" })),
                    };
                        let response = request.send().await.unwrap();
                        requests += 1;
                        let status = response.status();
                        if status.is_server_error() {
                            let body = response.text().await.unwrap_or_default();
                            failures.push(format!(
                                "{kind} {path} -> {status}: {}",
                                body.chars().take(200).collect::<String>()
                            ));
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} of {requests} requests failed:\n{}", failures.len(), failures.join("\n"));
        // Nothing was changed by any of them.
        let still: Value =
            admin.get(server.url(&format!("/api/v1/stories/{story_id}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(still["version"], 1);
        assert_eq!(still["title"], "The bees");
    }
);

#[test]
fn the_route_list_is_complete() {
    // Every path with a parameter in the route table (which the router, the pages and
    // the OpenAPI document are built from) is probed above.
    use types::routes;
    let listed: Vec<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    let table = routes::PAGES
        .iter()
        .map(|page| page.path)
        .chain(routes::form::ALL.iter().copied())
        .chain(routes::browser::ALL.iter().copied())
        .chain(routes::api::ALL.iter().copied());
    let missing: Vec<&str> = table.filter(|path| path.contains('{') && !listed.contains(path)).collect();
    assert!(missing.is_empty(), "routes with a path parameter not probed: {missing:?}");
    // And the router takes its paths from the table: no path with a parameter is
    // spelled out in it (the catch-all for unknown API paths aside).
    let router = include_str!("../../src/http/mod.rs");
    let spelled: Vec<&str> = router
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|path| path.starts_with('/') && path.contains('{') && !path.contains("{*"))
        .collect();
    assert!(spelled.is_empty(), "paths written into the router instead of types::routes: {spelled:?}");
}

// ---------------------------------------------------------------------------------------
// `next` after a password sign-in
// ---------------------------------------------------------------------------------------

const GENEROUS_LIMITS: &str =
    "login_attempts_per_account = 1000\nlogin_attempts_per_ip = 1000\nwrites_per_minute_per_ip = 100000";

server_test!(sign_in_never_redirects_off_the_site, config = GENEROUS_LIMITS, |server| {
    server.signed_up_as("ana@example.org", "ana").await;
    let form_sign_in = |next: &'static str| async move {
        let browser = TestServer::browser();
        let form = [("email", "ana@example.org"), ("password", PASSWORD), ("next", next)];
        let response = server.post_form(&browser, "/auth/signin", &form).await;
        (browser, response)
    };
    // The honest case still goes where it was asked to.
    let (_, honest) = form_sign_in("/account?tab=sessions").await;
    assert_eq!(honest.headers()["location"], "/account?tab=sessions");

    for next in crate::common::HOSTILE_NEXT {
        let (browser, response) = form_sign_in(next).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(response.headers()["location"], "/", "{next:?}");
        // Signed in all the same.
        let me = browser.get(server.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK, "{next:?}");

        // The JSON API takes `next` too and answers without a redirect.
        let body = json!({ "email": "ana@example.org", "password": PASSWORD, "next": next });
        let api = server.post_json(&TestServer::browser(), "/api/v1/auth/signin", body).await;
        assert_eq!(api.status(), StatusCode::OK, "{next:?}");

        // A failed attempt sends the form back to the sign-in page, never elsewhere.
        let browser = TestServer::browser();
        let form = [("email", "ana@example.org"), ("password", "not the password"), ("next", next)];
        let failed = server.post_form(&browser, "/auth/signin", &form).await;
        assert_eq!(failed.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(failed.headers()["location"], "/signin?next=%2F", "{next:?}");
    }
});

// ---------------------------------------------------------------------------------------
// X-Forwarded-For behind a proxy
// ---------------------------------------------------------------------------------------

async fn sign_in_from(server: &TestServer, forwarded_for: &str, email: &str) -> StatusCode {
    TestServer::browser()
        .post(server.url("/api/v1/auth/signin"))
        .header("origin", &server.base)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "email": email, "password": "wrong password" }))
        .send()
        .await
        .unwrap()
        .status()
}

server_test!(
    a_forged_forwarded_for_entry_does_not_escape_the_sign_in_limit,
    config = "trust_proxy_headers = true\nlogin_attempts_per_ip = 2\nlogin_attempts_per_account = 1000\ntrusted_proxies = [\"127.0.0.1/32\", \"192.0.2.0/24\"]",
    |server| {
        // The proxy appends the address it saw; the client writes whatever it likes to the
        // left, a fresh one per attempt.
        for n in 1..=2 {
            let status = sign_in_from(server, &format!("10.{n}.0.1, 203.0.113.7"), &format!("u{n}@example.org")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n}");
        }
        let limited = sign_in_from(server, "10.3.0.1, 203.0.113.7", "u3@example.org").await;
        assert_eq!(limited, StatusCode::TOO_MANY_REQUESTS, "a new left-most entry escaped the limit");
        // Through a second, trusted proxy (192.0.2.0/24) it is the same client.
        let via_cdn = sign_in_from(server, "10.4.0.1, 203.0.113.7, 192.0.2.10", "u4@example.org").await;
        assert_eq!(via_cdn, StatusCode::TOO_MANY_REQUESTS);
        // Another client is its own: the header is read, and naming the limited address on
        // the left does not make anyone else limited.
        let other = sign_in_from(server, "203.0.113.7, 198.51.100.9", "u5@example.org").await;
        assert_eq!(other, StatusCode::UNAUTHORIZED);
    }
);

// ---------------------------------------------------------------------------------------
// Invisible characters in file names
// ---------------------------------------------------------------------------------------

/// A small real PNG.
fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 128]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn upload_request(legacy_id: &str, file_name: &str, bytes: &[u8]) -> Value {
    use sha2::Digest;
    json!({ "legacy_id": legacy_id, "file_name": file_name, "size": bytes.len(), "content_type": "image/png",
        "sha256": hex::encode(sha2::Sha256::digest(bytes)) })
}

async fn media_rows(server: &TestServer) -> i64 {
    with_pool!(server.backend.db(), |pool| {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM media").fetch_one(pool).await.unwrap()
    })
}

server_test!(file_names_with_direction_controls_or_zero_width_characters_are_refused, |server| {
    let (ana, _) = server.signed_up_as("ana@example.org", "ana").await;
    let legacy = server.created(&ana, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await;
    let legacy_id = legacy["id"].as_str().unwrap();
    let bytes = png();
    let hidden = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
    ];
    let mut names: Vec<String> = hidden.iter().map(|c| format!("photo{c}.png")).collect();
    names.push("\u{202E}gnp.exe".into());
    names.push("\u{FEFF}photo.png".into());
    for name in &names {
        let response = server.post_json(&ana, "/api/v1/uploads", upload_request(legacy_id, name, &bytes)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["kind"], "invalid", "{name:?}");
        assert_eq!(error["fields"][0]["field"], "file_name", "{name:?}: {error}");
        assert!(error["fields"][0]["message"].as_str().unwrap().contains("invisible characters"), "{error}");
    }
    assert_eq!(media_rows(server).await, 0, "nothing is stored");
    // Right-to-left scripts are names like any other.
    let fine = server.post_json(&ana, "/api/v1/uploads", upload_request(legacy_id, "תמונה.png", &bytes)).await;
    assert_eq!(fine.status(), StatusCode::CREATED);
});

server_test!(a_stored_name_with_direction_controls_is_served_without_them, |server| {
    let (ana, _) = server.signed_up_as("ana@example.org", "ana").await;
    let legacy = server.created(&ana, "/api/v1/legacies", json!({ "name": "Rosa Lind" })).await;
    let bytes = png();
    let ticket =
        server.created(&ana, "/api/v1/uploads", upload_request(legacy["id"].as_str().unwrap(), "a.png", &bytes)).await;
    let id = ticket["media_id"].as_str().unwrap().to_string();
    let part = &ticket["parts"][0];
    let url = part["url"].as_str().unwrap();
    let put = server.request(&ana, reqwest::Method::PUT, url).body(bytes.clone()).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let done = server.post_json(&ana, &format!("/api/v1/uploads/{id}/complete"), json!({})).await;
    assert_eq!(done.status(), StatusCode::OK);
    // As a row written before uploads refused such names would hold it.
    with_pool!(server.backend.db(), |pool| {
        sqlx::query("UPDATE media SET file_name = $1 WHERE id = $2")
            .bind("\u{202E}gnp.exe\u{200B}")
            .bind(&id)
            .execute(pool)
            .await
            .unwrap();
    });
    let mut served = None;
    for _ in 0..300 {
        let response = ana.get(server.url(&format!("/media/{id}/original"))).send().await.unwrap();
        if response.status() == StatusCode::OK {
            served = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let served = served.expect("the file is served once processed");
    let disposition = served.headers()["content-disposition"].to_str().unwrap().to_string();
    // Neither the name nor its encoded form carries U+202E (%E2%80%AE) or U+200B.
    assert!(disposition.ends_with("; filename=\"gnp.exe\"; filename*=UTF-8''gnp.exe"), "{disposition}");
});

// ---------------------------------------------------------------------------------------
// Server functions answer with the status of their error
// ---------------------------------------------------------------------------------------

/// Calls a server function as the islands do: a urlencoded POST to `/api/<name>`.
async fn call(server: &TestServer, client: &reqwest::Client, name: &str, args: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = server.post_form(client, &format!("/api/{name}"), args).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

server_test!(server_functions_answer_with_the_status_of_their_error, |server| {
    let (admin, _) = server.signed_up_as("ana@example.org", "ana").await;
    let (member, _) = server.signed_up_as("bo@example.org", "bo").await;
    let signed_out = TestServer::browser();

    let (status, body) = call(server, &admin, "load_story", &[("id", "0190b8a4-0000-7000-8000-000000000000")]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, body) = call(server, &signed_out, "load_account", &[]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{body}");
    let (status, body) = call(server, &member, "load_webhooks", &[]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
    // A field the function checks, and arguments it cannot read at all.
    let (status, body) = call(server, &admin, "load_deliveries", &[("from", "last tuesday")]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")), "{body}");
    assert_eq!(body["fields"][0]["field"], "from");
    let (status, body) = call(server, &admin, "load_story", &[]).await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")), "{body}");
    // The same error over REST has the same status: one mapping.
    let rest = admin.get(server.url("/api/v1/stories/0190b8a4-0000-7000-8000-000000000000")).send().await.unwrap();
    assert_eq!(rest.status(), StatusCode::NOT_FOUND);
    // Success is untouched.
    let (status, body) = call(server, &admin, "load_account", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "ana@example.org");
});
