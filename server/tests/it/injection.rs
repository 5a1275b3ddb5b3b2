//! Hostile text through every input into every page. Each payload goes into every text
//! field a person can fill (display name, legacy name and summary, story title, body and
//! tags, a revision, a file name, a caption, a report reason, a person's names, places and
//! bio, a GEDCOM file and its name, a search query, `next`), then
//! every page that shows those fields is fetched — as the owner, as another member, and
//! signed out — and parsed with html5ever as a browser would. No payload may produce an
//! element or an attribute: a breakout shows up as an `x-pwn` element, a `data-pwn`
//! attribute, an event handler, a `formaction`, a meta refresh, a script without the
//! page's nonce or a `javascript:` URL.
//!
//! The marker payloads run on both engines; the whole XSS corpus
//! (backend/tests/data/xss.txt) runs on SQLite.

use std::time::Duration;

use crate::common::TestServer;
use futures::StreamExt;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{json, Value};

/// Breakouts aimed at each context a user string lands in: text, attribute values in
/// either quote, `<title>`, `<textarea>`, scripts, comments, SVG. Each one leaves a marker
/// (`data-pwn`) if it ever becomes markup.
const MARKERS: &[&str] = &[
    r#"</title></textarea></script></style>"'><x-pwn data-pwn=1>"#,
    r#""><x-pwn data-pwn=2 onmouseover=alert(2)>"#,
    r#"'><img src=x onerror=alert(3) data-pwn=3>"#,
    r#"</title><meta http-equiv=refresh content="0;url=https://evil.example" data-pwn=4>"#,
    r#"</textarea><button formaction="/legacies/x/members/y" name=role value=owner data-pwn=5>own</button>"#,
    r#"--><x-pwn data-pwn=6><!--"#,
    r#"<svg><x-pwn data-pwn=7 onload=alert(7)></svg>"#,
    r#"<a href="javascript:alert(8)" data-pwn=8>link</a>"#,
];

/// The corpus, with its escapes (`\n`, `\t`, `\r`, `\0`) applied.
fn corpus() -> Vec<String> {
    include_str!("../../../backend/tests/data/xss.txt")
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r").replace("\\0", "\0"))
        .collect()
}

/// What a payload produced: the pages to check, each with the client to fetch it.
struct Planted {
    /// (who, path, whether the payload must appear on it)
    pages: Vec<(Who, String, bool)>,
    story_id: String,
    legacy_id: String,
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Owner,
    Member,
    SignedOut,
}

struct Clients {
    owner: reqwest::Client,
    member: reqwest::Client,
    signed_out: reqwest::Client,
}

impl Clients {
    fn get(&self, who: Who) -> &reqwest::Client {
        match who {
            Who::Owner => &self.owner,
            Who::Member => &self.member,
            Who::SignedOut => &self.signed_out,
        }
    }
}

/// POSTs JSON; a refusal must be a 4xx (bad input changes nothing and never breaks).
async fn send(
    server: &TestServer,
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = server.send_json(client, method, path, body.clone()).await;
    let status = response.status();
    let value = response.json().await.unwrap_or(Value::Null);
    assert!(!status.is_server_error(), "{path} answered {status} for {body}: {value}");
    (status, value)
}

async fn post(server: &TestServer, client: &reqwest::Client, path: &str, body: Value) -> (StatusCode, Value) {
    send(server, client, reqwest::Method::POST, path, body).await
}

/// Tries each body in turn and returns the first accepted answer: the payload first, a
/// plain fallback after, so the pages exist even when a field refuses the payload.
async fn first_accepted(
    server: &TestServer,
    client: &reqwest::Client,
    path: &str,
    bodies: Vec<Value>,
) -> (bool, Value) {
    for (i, body) in bodies.into_iter().enumerate() {
        let (status, value) = post(server, client, path, body).await;
        if status.is_success() {
            return (i == 0, value);
        }
    }
    panic!("{path}: even the plain fallback was refused");
}

async fn sign_up(server: &TestServer, email: &str, name: &str) -> (reqwest::Client, bool) {
    let client = TestServer::browser();
    let (accepted, _) = first_accepted(
        server,
        &client,
        "/api/v1/auth/signup",
        vec![
            json!({ "email": email, "display_name": name, "password": "a long enough password" }),
            json!({ "email": email, "display_name": "Plain Name", "password": "a long enough password" }),
        ],
    )
    .await;
    (client, accepted)
}

/// A small real PNG (the pipeline makes thumbnails of it).
fn tiny_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Puts `payload` into every input, as person `n` of the run; `strict` (the marker
/// payloads) requires every field to accept it, so the check below cannot pass vacuously.
async fn plant(server: &TestServer, n: usize, payload: &str, strict: bool) -> (Clients, Planted) {
    let mut accepted = Vec::new();
    let (owner, ok) = sign_up(server, &format!("owner{n}@example.org"), payload).await;
    accepted.push(("display name", ok));
    let (member, ok) = sign_up(server, &format!("member{n}@example.org"), payload).await;
    accepted.push(("member's display name", ok));

    let (ok, legacy) = first_accepted(
        server,
        &owner,
        "/api/v1/legacies",
        vec![
            json!({ "name": payload, "summary": payload }),
            json!({ "name": format!("Legacy {n}"), "summary": payload }),
            json!({ "name": format!("Legacy {n}") }),
        ],
    )
    .await;
    accepted.push(("legacy name and summary", ok));
    let legacy_id = legacy["id"].as_str().unwrap().to_string();

    let story_input = |title: &str, body: &str, tags: Vec<&str>| {
        json!({ "legacy_id": legacy_id, "title": title, "body": body, "tags": tags,
                "visibility": "public", "status": "published" })
    };
    let fallback_title = format!("Story {n}");
    // Tags are at most 40 characters: a long payload goes in as its first 40 and its last 40.
    let head: String = payload.chars().take(40).collect();
    let tail: String = payload.chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
    let (ok, story) = first_accepted(
        server,
        &owner,
        "/api/v1/stories",
        vec![
            story_input(payload, payload, vec![&head, &tail]),
            story_input(&fallback_title, payload, vec![]),
            story_input(&fallback_title, "plain", vec![]),
        ],
    )
    .await;
    accepted.push(("story title, body and tags", ok));
    let story_id = story["id"].as_str().unwrap().to_string();

    // A revision: the history page shows its lines in a diff.
    let revised = format!("{payload}\n\nA line added later.");
    let (status, _) = send(
        server,
        &owner,
        reqwest::Method::PUT,
        &format!("/api/v1/stories/{story_id}"),
        json!({ "version": story["version"], "title": story["title"], "body": revised, "tags": story["tags"] }),
    )
    .await;
    accepted.push(("revision", status.is_success()));

    // The member joins through an invitation; a second invitation stays open to be seen.
    let (_, invitation) =
        post(server, &owner, &format!("/api/v1/legacies/{legacy_id}/invitations"), json!({ "role": "viewer" })).await;
    let token = invitation["token"].as_str().unwrap().to_string();
    let (status, _) = post(server, &member, &format!("/api/v1/invitations/{token}/accept"), json!({})).await;
    assert!(status.is_success());
    let (_, open_invitation) =
        post(server, &owner, &format!("/api/v1/legacies/{legacy_id}/invitations"), json!({ "role": "viewer" })).await;
    let open_token = open_invitation["token"].as_str().unwrap().to_string();

    let (status, _) =
        post(server, &member, &format!("/api/v1/stories/{story_id}/flags"), json!({ "reason": payload })).await;
    let flagged = status.is_success();
    if !flagged {
        post(server, &member, &format!("/api/v1/stories/{story_id}/flags"), json!({ "reason": "plain reason" })).await;
    }
    accepted.push(("report reason", flagged));

    // A comment and a reply with the payload, and a report of the comment.
    let comments = format!("/api/v1/stories/{story_id}/comments");
    let (ok, comment) =
        first_accepted(server, &member, &comments, vec![json!({ "body": payload }), json!({ "body": "plain" })]).await;
    accepted.push(("comment", ok));
    let comment_id = comment["id"].as_str().unwrap().to_string();
    let (status, _) = post(server, &owner, &comments, json!({ "body": payload, "parent_id": comment_id })).await;
    accepted.push(("reply", status.is_success()));
    let (status, _) =
        post(server, &owner, &format!("/api/v1/comments/{comment_id}/flags"), json!({ "reason": payload })).await;
    accepted.push(("comment report reason", status.is_success()));
    // Reactions name who reacted in their buttons' title and label attributes.
    for (client, path) in [
        (&member, format!("/api/v1/stories/{story_id}/reactions")),
        (&owner, format!("/api/v1/comments/{comment_id}/reactions")),
    ] {
        let (status, _) = post(server, client, &path, json!({ "reaction": "heart", "on": true })).await;
        assert!(status.is_success(), "{path}: {status}");
    }
    // Each is told of the other's comment and reaction (names and the story's title on
    // their notifications page), by the consumer in the background.
    for client in [&owner, &member] {
        for _ in 0..200 {
            let page: Value =
                client.get(server.url("/api/v1/notifications")).send().await.unwrap().json().await.unwrap();
            if page["items"].as_array().is_some_and(|items| items.len() >= 2) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    // A photo of the story, with the payload as its file name and its caption.
    let png = tiny_png();
    let upload = |file_name: String| {
        json!({ "legacy_id": legacy_id, "story_id": story_id, "file_name": file_name, "size": png.len(),
                "content_type": "image/png", "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&png)) })
    };
    let (ok, ticket) = first_accepted(
        server,
        &owner,
        "/api/v1/uploads",
        vec![upload(format!("{payload}.png")), upload(format!("photo-{n}.png"))],
    )
    .await;
    accepted.push(("file name", ok));
    let media_id = ticket["media_id"].as_str().unwrap().to_string();
    for part in ticket["parts"].as_array().unwrap() {
        let (offset, size) = (part["offset"].as_u64().unwrap() as usize, part["size"].as_u64().unwrap() as usize);
        let url = part["url"].as_str().unwrap();
        let response = server
            .request(&owner, reqwest::Method::PUT, url)
            .body(png[offset..offset + size].to_vec())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "part upload: {}", response.status());
    }
    let (status, _) = post(server, &owner, &format!("/api/v1/uploads/{media_id}/complete"), json!({})).await;
    assert!(status.is_success());
    // Captioned once processing is done with it (processing changes the item's version).
    let mut item = Value::Null;
    for _ in 0..300 {
        item = owner.get(server.url(&format!("/api/v1/media/{media_id}"))).send().await.unwrap().json().await.unwrap();
        if !matches!(item["state"].as_str(), Some("pending" | "processing")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = send(
        server,
        &owner,
        reqwest::Method::PATCH,
        &format!("/api/v1/media/{media_id}"),
        json!({ "caption": payload, "version": item["version"] }),
    )
    .await;
    accepted.push(("caption", status.is_success()));
    // The member reports the photo: the moderation page shows the reason.
    let (status, _) =
        post(server, &member, &format!("/api/v1/media/{media_id}/flags"), json!({ "reason": payload })).await;
    accepted.push(("photo report reason", status.is_success()));

    // A person with the payload in every field, and a child of theirs: the people list,
    // the person page (with the "how are they related" sentence) and the edit page show them.
    let person_input = |text: &str| {
        json!({ "given_names": text, "surname": text, "birth_surname": text, "nicknames": [text],
                "birth_place": text, "death_place": text, "death_date": "1999", "bio": text })
    };
    let (ok, person) = first_accepted(
        server,
        &owner,
        &format!("/api/v1/legacies/{legacy_id}/people"),
        vec![person_input(payload), person_input(&format!("Person {n}"))],
    )
    .await;
    accepted.push(("person's names, places and bio", ok));
    let person_id = person["id"].as_str().unwrap().to_string();
    let (_, child) = post(
        server,
        &owner,
        &format!("/api/v1/legacies/{legacy_id}/people"),
        json!({ "given_names": format!("Child {n}"), "living": "false" }),
    )
    .await;
    let child_id = child["id"].as_str().unwrap().to_string();
    let (status, _) = post(
        server,
        &owner,
        &format!("/api/v1/people/{child_id}/relationships"),
        json!({ "relation": "parent", "person_id": person_id }),
    )
    .await;
    assert!(status.is_success(), "relating the planted person: {status}");

    // The planted person tagged in the photo (the gallery names them), claimed by the
    // owner as themselves (the account page lists them) and in the child's family tree;
    // a GEDCOM file named with the payload, holding a person named with it (the import's
    // page shows both).
    for path in [format!("/api/v1/media/{media_id}/people/{person_id}"), format!("/api/v1/people/{person_id}/me")] {
        let (status, _) = send(server, &owner, reqwest::Method::PUT, &path, json!({})).await;
        assert!(status.is_success(), "{path}: {status}");
    }
    // A story titled with the payload that mentions the planted person: their page lists
    // it under "Mentioned in" and on their timeline.
    let mention = format!("[{payload}](/people/{person_id}) baked bread.");
    let (ok, _) = first_accepted(
        server,
        &owner,
        "/api/v1/stories",
        vec![
            story_input(payload, &mention, vec![]),
            story_input(&fallback_title, &mention, vec![]),
            story_input(&fallback_title, &format!("[Them](/people/{person_id})"), vec![]),
        ],
    )
    .await;
    accepted.push(("a story mentioning the person", ok));
    let gedcom =
        |name: &str| format!("0 HEAD\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n0 @I1@ INDI\n1 NAME {name}\n0 TRLR\n");
    // A GEDZIP archive whose person names a photo, by the payload, that it does not hold:
    // the import's page reports the path.
    let archive = |name: &str| {
        let text = format!(
            "0 HEAD\n1 GEDC\n2 VERS 5.5.1\n1 CHAR UTF-8\n0 @I1@ INDI\n1 NAME {name}\n1 OBJE\n2 FILE {name}.jpg\n0 TRLR\n"
        );
        backend::people::gedzip::archive(&[("gedcom.ged", text.as_bytes())])
    };
    let import_path = format!("/api/v1/legacies/{legacy_id}/gedcom?file_name={}", encode(payload));
    let mut import_id = String::new();
    let files =
        [archive(payload), gedcom(payload).into_bytes(), gedcom(&format!("Imported /Person {n}/")).into_bytes()];
    for file in files {
        let response = server.request(&owner, reqwest::Method::POST, &import_path).body(file).send().await.unwrap();
        let status = response.status();
        assert!(!status.is_server_error(), "importing: {status}");
        if status.is_success() {
            import_id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
            break;
        }
    }
    accepted.push(("a GEDCOM file", !import_id.is_empty()));
    // The import runs in the background; its page is read once it has ended.
    for _ in 0..200 {
        let job: Value = owner
            .get(server.url(&format!("/api/v1/gedcom-imports/{import_id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if matches!(job["status"].as_str(), Some("done" | "failed")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    if strict {
        let refused: Vec<_> = accepted.iter().filter(|(_, ok)| !ok).map(|(field, _)| *field).collect();
        assert!(refused.is_empty(), "the marker payload {payload:?} was refused by {refused:?}");
    }

    let clients = Clients { owner, member, signed_out: TestServer::browser() };
    let q = encode(payload);
    let next = encode(payload);
    let pages = vec![
        (Who::Owner, "/".to_string(), true),
        (Who::Owner, "/account".to_string(), true),
        (Who::Owner, "/legacies".to_string(), true),
        (Who::Owner, format!("/legacies/{legacy_id}"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/new"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/edit"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/members"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/media"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/media?caption={media_id}"), true),
        (Who::Owner, format!("/legacies/{legacy_id}/media/{media_id}"), true),
        (Who::Member, format!("/legacies/{legacy_id}/media/{media_id}"), true),
        (Who::Owner, format!("/stories/{story_id}"), true),
        (Who::Owner, format!("/stories/{story_id}/edit"), true),
        (Who::Owner, format!("/stories/{story_id}/history"), true),
        (Who::Owner, "/moderation".to_string(), true),
        (Who::Owner, "/notifications".to_string(), true),
        (Who::Member, "/notifications".to_string(), true),
        (Who::Owner, "/account/notifications".to_string(), false),
        (Who::SignedOut, format!("/unsubscribe?user={q}&scope={q}&sig={q}"), false),
        (Who::SignedOut, format!("/verify-email?token={q}"), false),
        (Who::Owner, format!("/legacies/{legacy_id}/people"), true),
        (Who::Owner, format!("/people/{person_id}"), true),
        (Who::Owner, format!("/people/{child_id}?relative={person_id}"), true),
        (Who::Owner, format!("/people/{person_id}/edit"), true),
        (Who::Member, format!("/legacies/{legacy_id}/people"), true),
        (Who::Member, format!("/people/{child_id}?relative={person_id}"), true),
        (Who::Owner, format!("/people/{child_id}/tree"), true),
        (Who::Member, format!("/people/{child_id}/tree"), true),
        // The file name shows cut to its last path part, so not always whole.
        (Who::Owner, format!("/gedcom-imports/{import_id}"), false),
        (Who::Owner, format!("/search?q={q}"), true),
        (Who::Owner, "/tips".to_string(), false),
        (Who::Owner, "/connect".to_string(), false),
        (Who::Member, format!("/stories/{story_id}"), true),
        (Who::Member, format!("/legacies/{legacy_id}"), true),
        (Who::Member, format!("/legacies/{legacy_id}/media"), true),
        (Who::Member, format!("/stories/{story_id}/edit"), true),
        (Who::Member, format!("/invitations/{open_token}"), true),
        (Who::SignedOut, format!("/stories/{story_id}"), true),
        (Who::SignedOut, format!("/stories/{story_id}/history"), false),
        (Who::SignedOut, format!("/search?q={q}"), true),
        (Who::SignedOut, format!("/signin?next={next}"), false),
        (Who::SignedOut, format!("/signup?next={next}"), false),
        (Who::SignedOut, format!("/invitations/{open_token}"), false),
        (Who::SignedOut, format!("/no-such-page/{q}"), false),
    ];
    (clients, Planted { pages, story_id, legacy_id: legacy_id.to_string() })
}

/// What in a parsed page would mean a payload became markup. Returns the findings.
fn injected_markup(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let nonce = document
        .select(&Selector::parse("script[nonce]").unwrap())
        .next()
        .and_then(|s| s.value().attr("nonce"))
        .map(str::to_string);
    let mut found = Vec::new();
    for element in document.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
        let name = element.value().name();
        if name.starts_with("x-pwn") {
            found.push(format!("element <{name}>"));
        }
        if matches!(name, "iframe" | "frame" | "frameset" | "object" | "embed" | "base" | "applet" | "portal") {
            found.push(format!("element <{name}>"));
        }
        if name == "script" {
            let ours = element.value().attr("nonce").is_some() && element.value().attr("nonce") == nonce.as_deref();
            if !ours {
                found.push(format!("a script without the page's nonce: {}", element.html()));
            }
        }
        if name == "meta" && element.value().attr("http-equiv").is_some() {
            found.push(format!("a meta http-equiv: {}", element.html()));
        }
        for (attribute, value) in element.value().attrs() {
            let attribute = attribute.to_ascii_lowercase();
            if attribute.starts_with("data-pwn")
                || attribute.starts_with("on")
                || matches!(attribute.as_str(), "formaction" | "srcdoc" | "xlink:href" | "style")
            {
                found.push(format!("attribute {attribute}={value:?} on <{name}>"));
            }
            if matches!(attribute.as_str(), "href" | "src" | "action" | "poster" | "data") {
                let url: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
                let url = url.to_ascii_lowercase();
                if url.starts_with("javascript:") || url.starts_with("vbscript:") || url.starts_with("data:text/html") {
                    found.push(format!("{attribute}={value:?} on <{name}>"));
                }
            }
        }
    }
    found
}

/// Every text node and attribute value of the page: where a payload shown as text is.
fn shown_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut text = String::new();
    for node in document.root_element().descendants() {
        if let Some(t) = node.value().as_text() {
            text.push_str(t);
        } else if let Some(element) = node.value().as_element() {
            for (_, value) in element.attrs() {
                text.push_str(value);
                text.push('\n');
            }
        }
    }
    text
}

async fn check_pages(server: &TestServer, clients: &Clients, payload: &str, planted: &Planted, strict: bool) {
    for (who, path, shows_payload) in &planted.pages {
        let response = clients.get(*who).get(server.url(path)).send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        assert!(!status.is_server_error(), "{who:?} {path}: {status} for payload {payload:?}");
        let found = injected_markup(&html);
        assert!(found.is_empty(), "{who:?} {path} with payload {payload:?}: {found:#?}");
        if strict && *shows_payload {
            // The payload reached the page as text: the check above looked at the right page.
            let marker = payload.split("data-pwn=").nth(1).and_then(|rest| rest.get(..1)).unwrap();
            assert!(
                shown_text(&html).contains(&format!("data-pwn={marker}")),
                "{who:?} {path} ({status}) does not show the payload {payload:?}"
            );
        }
    }
}

/// Plants and checks each payload, `at_once` of them concurrently.
/// Forms that fail come back with what was typed in them (a flash read once by the next
/// page): the payload in each such field, then the page that shows it again.
/// A form that fails: who posts it, where, its fields, and the page that shows it again.
type FailingForm<'a> = (Who, String, Vec<(&'a str, &'a str)>, String);

async fn check_form_echoes(server: &TestServer, clients: &Clients, payload: &str, planted: &Planted, strict: bool) {
    let (story_id, legacy_id) = (&planted.story_id, &planted.legacy_id);
    // Too long: the story page's comment form shows the text again.
    let long_comment = format!("{payload}{}", "x".repeat(5001));
    let failing_forms: [FailingForm; 6] = [
        (
            Who::Owner,
            format!("/stories/{story_id}/comments"),
            vec![("body", long_comment.as_str())],
            format!("/stories/{story_id}"),
        ),
        // No name: the new-legacy form shows its summary textarea again.
        (
            Who::Owner,
            "/legacies".into(),
            vec![("name", ""), ("born", payload), ("summary", payload)],
            "/legacies".into(),
        ),
        // A stale version: the legacy's edit page shows what was typed again.
        (
            Who::Owner,
            format!("/legacies/{legacy_id}"),
            vec![("version", "0"), ("name", payload), ("born", payload), ("summary", payload)],
            format!("/legacies/{legacy_id}/edit"),
        ),
        // A stale version: the editor shows the title and body again.
        (
            Who::Owner,
            format!("/stories/{story_id}"),
            vec![("version", "0"), ("title", payload), ("body", payload), ("tags", payload)],
            format!("/stories/{story_id}/edit"),
        ),
        (
            Who::SignedOut,
            "/auth/signup".into(),
            vec![("email", payload), ("display_name", payload), ("password", "short")],
            "/signup".into(),
        ),
        (
            Who::SignedOut,
            "/auth/signin".into(),
            vec![("email", payload), ("password", "wrong password")],
            "/signin".into(),
        ),
    ];
    for (who, form, fields, page) in failing_forms {
        let client = clients.get(who);
        let posted = server.post_form(client, &form, &fields).await;
        assert!(posted.status().is_redirection(), "{form}: {} for payload {payload:?}", posted.status());
        let response = client.get(server.url(&page)).send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        let found = injected_markup(&html);
        assert!(found.is_empty(), "{who:?} {page} after a failed {form} with payload {payload:?}: {found:#?}");
        // The signed-out forms' echo did not reach this test client's next page (the
        // pages are still checked for markup); the signed-in ones must show the payload.
        if strict && matches!(who, Who::Owner) {
            let marker = payload.split("data-pwn=").nth(1).and_then(|rest| rest.get(..1)).unwrap();
            assert!(
                shown_text(&html).contains(&format!("data-pwn={marker}")),
                "{who:?} {page} ({status}) does not show the payload typed into {form}"
            );
        }
    }
}

async fn run(server: &TestServer, payloads: &[String], strict: bool, at_once: usize) {
    // The instance's first account is its admin: the admin pages are checked with it.
    let (admin, _) = sign_up(server, "admin@example.org", "Admin").await;
    let one = |n: usize, payload: &str| {
        let payload = payload.to_string();
        async move {
            let (clients, planted) = plant(server, n, &payload, strict).await;
            check_pages(server, &clients, &payload, &planted, strict).await;
            check_form_echoes(server, &clients, &payload, &planted, strict).await;
        }
    };
    let mut runs = futures::stream::iter(payloads.iter().enumerate().map(|(n, p)| one(n, p))).buffer_unordered(at_once);
    while runs.next().await.is_some() {}
    // Stored search results, once the indexer has caught up (titles and excerpts with
    // highlights are built in code of ours, not the template).
    for _ in 0..100 {
        let (_, results) = search(server, &admin, "line added later").await;
        if results["total"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for path in
        ["/search?q=line+added+later", "/search?q=story", "/admin/deliveries", "/admin/webhooks", "/admin/dead-letters"]
    {
        let response = admin.get(server.url(path)).send().await.unwrap();
        let status = response.status();
        let found = injected_markup(&response.text().await.unwrap());
        assert!(!status.is_server_error() && found.is_empty(), "admin {path}: {status} {found:#?}");
    }
}

async fn search(server: &TestServer, client: &reqwest::Client, q: &str) -> (StatusCode, Value) {
    let response = client.get(server.url(&format!("/api/v1/search?q={}", encode(q)))).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

/// Hundreds of writes and searches from one address, far past the per-address limits.
const NO_RATE_LIMITS: &str =
    "writes_per_minute_per_ip = 1000000\nsearches_per_minute_per_ip = 1000000\nlogin_attempts_per_ip = 1000000";

server_test!(marker_payloads_through_every_input_never_become_markup, config = NO_RATE_LIMITS, |server| {
    let payloads: Vec<String> = MARKERS.iter().map(|p| p.to_string()).collect();
    run(server, &payloads, true, 1).await;
});

/// On two workers with the server's own stack size (rendering the editor's page needs it).
#[test]
fn the_xss_corpus_through_every_input_never_becomes_markup() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(server::cli::RENDER_STACK_BYTES)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = TestServer::start_with(backend::testing::TestDb::sqlite().await, NO_RATE_LIMITS).await;
        run(&server, &corpus(), false, 8).await;
        server.stop().await;
    });
}

#[test]
fn the_checker_sees_each_kind_of_breakout() {
    let page = |body: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>t</title><script nonce=n1></script></head><body>{body}</body></html>"
        )
    };
    assert!(injected_markup(&page("<p>plain &lt;x-pwn&gt;</p>")).is_empty());
    for hostile in [
        "<x-pwn>",
        "<p data-pwn=1>",
        "<img src=x onerror=alert(1)>",
        "<button formaction=/x>",
        "<meta http-equiv=refresh content=0>",
        "<script>alert(1)</script>",
        "<a href=' javascript:alert(1)'>",
        "<iframe srcdoc=x>",
    ] {
        assert!(!injected_markup(&page(hostile)).is_empty(), "{hostile}");
    }
    // A title that closes the element early puts the rest into the head as markup.
    let early = "<!DOCTYPE html><html><head><title></title><meta http-equiv=refresh content=0></title></head></html>";
    assert!(!injected_markup(early).is_empty());
}
