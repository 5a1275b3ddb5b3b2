//! Comments, reactions and the feed over HTTP: the REST API's statuses and bodies, and
//! the story page's forms, which come back to the comment they acted on.

use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Ana's legacy with a members-only story, Bo a viewer there, and Cy signed in elsewhere.
async fn family(server: &TestServer) -> (reqwest::Client, reqwest::Client, reqwest::Client, String) {
    let ana = server.signed_up("ana@example.org").await;
    let (bo, _) = server.signed_up_as("bo@example.org", "Bo").await;
    let cy = server.signed_up("cy@example.org").await;
    let legacy = server.legacy(&ana, "Rosa Lind").await;
    let bees = json!({ "legacy_id": legacy, "title": "The bees", "body": "She kept bees.", "status": "published",
        "visibility": "members" });
    let story = server.created(&ana, "/api/v1/stories", bees).await["id"].as_str().unwrap().to_string();
    let invitation =
        server.created(&ana, &format!("/api/v1/legacies/{legacy}/invitations"), json!({ "role": "viewer" })).await;
    let token = invitation["token"].as_str().unwrap();
    let joined = server.post_json(&bo, &format!("/api/v1/invitations/{token}/accept"), json!({})).await;
    assert!(joined.status().is_success());
    (ana, bo, cy, story)
}

server_test!(comments_and_reactions_over_rest, |server| {
    let (ana, bo, cy, story) = family(server).await;
    let comments = format!("/api/v1/stories/{story}/comments");

    let created = server.post_json(&bo, &comments, json!({ "body": "Who took the *photo*?" })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let comment: Value = created.json().await.unwrap();
    assert_eq!(comment["body_html"], "<p>Who took the <em>photo</em>?</p>\n");
    assert_eq!((comment["author_name"].as_str(), comment["can_edit"].as_bool()), (Some("Bo"), Some(true)));
    let id = comment["id"].as_str().unwrap().to_string();
    let reply = server.post_json(&ana, &comments, json!({ "body": "Uncle Jim.", "parent_id": id })).await;
    assert_eq!(reply.status(), StatusCode::CREATED);

    let (status, seen) = server.get_json(&bo, &comments).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((seen["count"].as_i64(), seen["can_take_part"].as_bool()), (Some(2), Some(true)));
    assert_eq!(seen["comments"][0]["replies"][0]["body"], "Uncle Jim.");
    // Not for outsiders or the signed out: the story is members-only.
    assert_eq!(server.get_json(&cy, &comments).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.get_json(&TestServer::browser(), &comments).await.0, StatusCode::NOT_FOUND);
    let refused = server.post_json(&cy, &comments, json!({ "body": "Hello" })).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let signed_out = server.post_json(&TestServer::browser(), &comments, json!({ "body": "Hello" })).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let empty: Value = server.post_json(&bo, &comments, json!({ "body": "  " })).await.json().await.unwrap();
    assert_eq!((empty["kind"].as_str(), empty["fields"][0]["field"].as_str()), (Some("invalid"), Some("body")));

    // Reactions: toggled, counted, named; an unknown one refused.
    let reactions = format!("/api/v1/stories/{story}/reactions");
    let counts: Value = server.post_json(&bo, &reactions, json!({ "reaction": "heart" })).await.json().await.unwrap();
    assert_eq!(counts, json!([{ "reaction": "heart", "count": 1, "mine": true, "names": ["Bo"] }]));
    let counts: Value = server.post_json(&bo, &reactions, json!({ "reaction": "heart" })).await.json().await.unwrap();
    assert_eq!(counts, json!([]));
    let unknown = server.post_json(&bo, &reactions, json!({ "reaction": "fire" })).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let on_comment = server
        .post_json(&ana, &format!("/api/v1/comments/{id}/reactions"), json!({ "reaction": "hug", "on": true }))
        .await;
    assert_eq!(on_comment.status(), StatusCode::OK);

    // Edits: the author's, from the version seen; a stale one is a 409 with its code.
    let path = format!("/api/v1/comments/{id}");
    let edit = json!({ "body": "Who took this photo?", "version": 1 });
    let by_ana = server.send_json(&ana, Method::PUT, &path, edit.clone()).await;
    assert_eq!(by_ana.status(), StatusCode::FORBIDDEN);
    let edited: Value = server.send_json(&bo, Method::PUT, &path, edit.clone()).await.json().await.unwrap();
    assert_eq!((edited["version"].as_i64(), edited["edited_at"].is_i64()), (Some(2), true));
    let stale: Value = server.send_json(&bo, Method::PUT, &path, edit).await.json().await.unwrap();
    assert_eq!(stale["code"], "comment_version_conflict");

    // A report reaches the owner's queue; the owner deletes the comment, its reply stays.
    let flagged =
        server.post_json(&ana, &format!("/api/v1/comments/{id}/flags"), json!({ "reason": "Off topic" })).await;
    assert_eq!(flagged.status(), StatusCode::CREATED);
    let (_, queue) = server.get_json(&ana, "/api/v1/moderation/flags").await;
    assert_eq!((queue[0]["subject"].as_str(), queue[0]["comment_id"].as_str()), (Some("comment"), Some(id.as_str())));
    assert_eq!(queue[0]["excerpt"], "Who took this photo?");
    let deleted = server.request(&ana, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (_, seen) = server.get_json(&bo, &comments).await;
    assert_eq!((seen["count"].as_i64(), seen["comments"][0]["deleted"].as_bool()), (Some(1), Some(true)));
    assert_eq!(seen["comments"][0]["body"], "");
    let (_, queue) = server.get_json(&ana, "/api/v1/moderation/flags").await;
    assert_eq!(queue, json!([]), "a report of a deleted comment is moot");
    let again = server.request(&ana, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
});

/// The story page as a browser gets it (with the flash the last form left).
async fn page_of(server: &TestServer, client: &reqwest::Client, story: &str) -> String {
    let page = client.get(server.url(&format!("/stories/{story}"))).header("accept", "text/html").send().await.unwrap();
    page.text().await.unwrap()
}

server_test!(the_story_page_forms_come_back_to_the_comment, |server| {
    let (_ana, bo, _cy, story) = family(server).await;
    let posted = server.post_form(&bo, &format!("/stories/{story}/comments"), &[("body", "It was 1962.")]).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let location = posted.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("/stories/{story}#comment-")), "{location}");
    let id = location.rsplit("#comment-").next().unwrap().to_string();
    let page = page_of(server, &bo, &story).await;
    assert!(page.contains(&format!("id=\"comment-{id}\"")) && page.contains("It was 1962."));
    assert!(page.contains("Your comment was added."));

    // A failed form goes back to the comment form with what was typed and why.
    let long = format!("Kept {}", "x".repeat(5001));
    let refused = server.post_form(&bo, &format!("/stories/{story}/comments"), &[("body", &long)]).await;
    assert_eq!(refused.headers()["location"], format!("/stories/{story}#comments").as_str());
    let page = page_of(server, &bo, &story).await;
    assert!(page.contains("must be at most 5000 characters") && page.contains(&long));

    let reacted = server.post_form(&bo, &format!("/stories/{story}/reactions"), &[("reaction", "candle")]).await;
    assert_eq!(reacted.headers()["location"], format!("/stories/{story}#reactions").as_str());
    let page = page_of(server, &bo, &story).await;
    assert!(page.contains("Remember: 1 (Bo)"), "the story's reactions show Bo's");

    let deleted = server.post_form(&bo, &format!("/comments/{id}/delete"), &[]).await;
    assert_eq!(deleted.headers()["location"], format!("/stories/{story}#comments").as_str());
});

server_test!(members_follow_a_legacy_until_they_stop_over_rest_or_from_its_page, |server| {
    let (_ana, bo, cy, story) = family(server).await;
    let (_, found) = server.get_json(&bo, &format!("/api/v1/stories/{story}")).await;
    let legacy = found["legacy_id"].as_str().unwrap().to_string();
    let follow = format!("/api/v1/legacies/{legacy}/follow");
    let (status, state) = server.get_json(&bo, &follow).await;
    assert_eq!((status, state), (StatusCode::OK, json!({ "legacy_id": legacy, "following": true })));
    let stopped = server.request(&bo, Method::DELETE, &follow).send().await.unwrap();
    assert_eq!(stopped.status(), StatusCode::OK);
    assert_eq!(stopped.json::<Value>().await.unwrap()["following"], false);
    assert_eq!(server.get_json(&bo, &follow).await.1["following"], false);
    // Not a member, no legacy, signed out.
    assert_eq!(server.get_json(&cy, &follow).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.request(&cy, Method::PUT, &follow).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let nowhere = server.request(&bo, Method::PUT, "/api/v1/legacies/nothing-here/follow").send().await.unwrap();
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.get_json(&TestServer::browser(), &follow).await.0, StatusCode::UNAUTHORIZED);

    // The legacy page says so and offers the other; its form comes back with a notice.
    let page_path = format!("/legacies/{legacy}");
    let page = |client: &reqwest::Client| {
        let request = client.get(server.url(&page_path)).header("accept", "text/html").send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    assert!(page(&bo).await.contains(&format!("action=\"/legacies/{legacy}/follow\"")), "a Follow button");
    assert!(!page(&cy).await.contains("/follow"), "nothing to follow for a non-member");
    let posted = server.post_form(&bo, &format!("/legacies/{legacy}/follow"), &[]).await;
    assert_eq!(
        (posted.status(), posted.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, page_path.as_str())
    );
    let shown = page(&bo).await;
    assert!(
        shown.contains("Following: new stories in this legacy")
            && shown.contains(&format!("action=\"/legacies/{legacy}/follow/delete\""))
    );
    assert_eq!(server.get_json(&bo, &follow).await.1["following"], true);
});

server_test!(the_feed_is_for_members_and_follows_what_they_may_read, |server| {
    let (ana, bo, cy, story) = family(server).await;
    let comments = format!("/api/v1/stories/{story}/comments");
    assert_eq!(server.post_json(&bo, &comments, json!({ "body": "Lovely" })).await.status(), StatusCode::CREATED);
    let seen = within_ten_seconds_feed(server, &ana, |feed| {
        feed["items"].as_array().is_some_and(|items| {
            items.iter().any(|i| i["kind"] == "commented" && i["actor_name"] == "Bo" && i["story_title"] == "The bees")
        })
    })
    .await;
    assert!(seen["items"].as_array().unwrap().iter().any(|i| i["kind"] == "story_published"));
    // Cy belongs to no legacy: an empty feed. Signed out: 401. A bad cursor: 422.
    let (status, feed) = server.get_json(&cy, "/api/v1/feed").await;
    assert_eq!((status, feed["items"].clone()), (StatusCode::OK, json!([])));
    assert_eq!(server.get_json(&TestServer::browser(), "/api/v1/feed").await.0, StatusCode::UNAUTHORIZED);
    let (status, error) = server.get_json(&ana, "/api/v1/feed?cursor=yesterday").await;
    assert_eq!((status, error["fields"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("cursor")));
    let (_, page) = server.get_json(&ana, "/api/v1/feed?limit=1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next_cursor"].is_string());
});

/// The caller's feed once `ready` holds of it (the activity consumer runs in the background).
async fn within_ten_seconds_feed(
    server: &TestServer,
    client: &reqwest::Client,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let mut feed = Value::Null;
    crate::common::within_ten_seconds(std::time::Duration::from_millis(100), async || {
        feed = server.get_json(client, "/api/v1/feed").await.1;
        ready(&feed)
    })
    .await;
    feed
}

/// An open live stream: its messages' data as they come.
struct Stream {
    response: reqwest::Response,
    buffered: String,
}

impl Stream {
    async fn open(server: &TestServer, client: &reqwest::Client, last_event_id: Option<&str>) -> Stream {
        let mut request = client.get(server.url("/api/v1/stream"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream { response, buffered: String::new() }
    }

    /// The next message of type `event_type`, skipping others (what the setup did before
    /// the stream opened may still be on its way to it).
    async fn next_of(&mut self, event_type: &str) -> Value {
        loop {
            let message = self.next().await;
            if message["event_type"] == event_type {
                return message;
            }
        }
    }

    /// The next message's data (heartbeats skipped, and what the setup added to the feed
    /// before the stream opened: a legacy's person), failing after ten seconds.
    async fn next(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(end) = self.buffered.find("\n\n") {
                let message: String = self.buffered.drain(..end + 2).collect();
                let data: String =
                    message.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                if !data.is_empty() {
                    let message: Value = serde_json::from_str(&data).unwrap();
                    if message["event_type"] != "PersonCreated" {
                        return message;
                    }
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            let chunk = chunk.expect("a message within 10 s").unwrap().expect("the stream stays open");
            self.buffered.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

server_test!(the_live_stream_tells_members_what_they_may_see_and_resumes_after_a_break, |server| {
    let (ana, bo, _cy, story) = family(server).await;
    assert_eq!(server.get_json(&TestServer::browser(), "/api/v1/stream").await.0, StatusCode::UNAUTHORIZED);
    let mut bos = Stream::open(server, &bo, None).await;
    let comments = format!("/api/v1/stories/{story}/comments");
    let said: Value = server.post_json(&ana, &comments, json!({ "body": "Hello" })).await.json().await.unwrap();
    let heard = bos.next_of("CommentAdded").await;
    assert_eq!(
        (heard["event_type"].as_str(), heard["story_id"].as_str()),
        (Some("CommentAdded"), Some(story.as_str()))
    );
    assert_eq!((heard["comment_id"].as_str(), heard["actor_name"].as_str()), (said["id"].as_str(), Some("ana")));
    let reactions = format!("/api/v1/stories/{story}/reactions");
    server.post_json(&ana, &reactions, json!({ "reaction": "heart" })).await;
    let heard_reaction = bos.next().await;
    assert_eq!(heard_reaction["event_type"], "ReactionChanged");

    // Reconnecting with the last id it got, a tab hears what happened meanwhile.
    drop(bos);
    server.post_json(&ana, &comments, json!({ "body": "While you were away" })).await;
    let mut again = Stream::open(server, &bo, heard_reaction["id"].as_str()).await;
    assert_eq!(again.next().await["event_type"], "CommentAdded");

    // A private story's change is not Bo's to hear; his own legacy's still is.
    let private = json!({ "legacy_id": heard["legacy_id"], "title": "Mine", "body": "x", "visibility": "private",
        "status": "published" });
    let private = server.created(&ana, "/api/v1/stories", private).await["id"].as_str().unwrap().to_string();
    server
        .send_json(
            &ana,
            Method::PUT,
            &format!("/api/v1/stories/{private}"),
            json!({ "version": 1, "title": "Mine!",
        "body": "y" }),
        )
        .await;
    let bos_legacy = server.legacy(&bo, "Bo's family").await;
    let bees = json!({ "legacy_id": bos_legacy, "title": "Bo's", "body": "z", "status": "published" });
    let bos_story = server.created(&bo, "/api/v1/stories", bees).await["id"].as_str().unwrap().to_string();
    let created = again.next().await;
    assert_eq!(
        (created["event_type"].as_str(), created["story_id"].as_str(), created["in_feed"].as_bool()),
        (Some("StoryCreated"), Some(bos_story.as_str()), Some(true)),
        "the private story's changes are skipped"
    );
    let mine: Value = server
        .post_json(&bo, &format!("/api/v1/stories/{bos_story}/comments"), json!({ "body": "Mine" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.next().await["comment_id"], mine["id"]);

    // Removed from Ana's legacy, Bo hears nothing more of it.
    let (_, me) = server.get_json(&bo, "/api/v1/me").await;
    let (_, legacy) = server.get_json(&ana, &format!("/api/v1/stories/{story}")).await;
    let member =
        format!("/api/v1/legacies/{}/members/{}", legacy["legacy_id"].as_str().unwrap(), me["id"].as_str().unwrap());
    assert!(server.request(&ana, Method::DELETE, &member).send().await.unwrap().status().is_success());
    server.post_json(&ana, &comments, json!({ "body": "Not for Bo" })).await;
    let still: Value = server
        .post_json(&bo, &format!("/api/v1/stories/{bos_story}/comments"), json!({ "body": "Still mine" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.next().await["comment_id"], still["id"], "Ana's comment after the removal is skipped");
});

server_test!(a_stream_that_falls_behind_is_closed, |server| {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ana, _bo, _cy, story) = family(server).await;
    let signin = json!({ "email": "ana@example.org", "password": crate::common::PASSWORD });
    let signed_in = server.post_json(&TestServer::browser(), "/api/v1/auth/signin", signin).await;
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();

    // Ana's tab on a slow line: a small receive window it never reads from, so the
    // server's writes stop once that window and its own send buffer are full.
    let address: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tab = socket.connect(address).await.unwrap();
    let request = format!("GET /api/v1/stream HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
    tab.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tab.read_u8().await.unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head));
    let live = &server.backend.live;
    let streams = live.streams();
    assert!(streams >= 1);

    // Ana's notifications, one after another (each a message for her stream, and one
    // that needs no query to check): far more than the socket's buffers can hold (the
    // kernel's largest send buffer, at ~200 bytes a message) and the stream's after them.
    let (_, me) = server.get_json(&ana, "/api/v1/me").await;
    let (_, story) = server.get_json(&ana, &format!("/api/v1/stories/{story}")).await;
    let send_buffer_max: usize = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|sizes| sizes.split_whitespace().last()?.parse().ok())
        .unwrap_or(4 << 20);
    let total = send_buffer_max / 100 + 4 * backend::live::BUFFER;
    for sent in 1..=total {
        // After every real id (the stream sends only what comes after what it sent).
        let id = format!("zz-{sent:020}");
        let added = json!({ "notification_id": id, "user_id": me["id"], "legacy_id": story["legacy_id"],
            "kind": "comment" });
        let event = types::events::Envelope {
            message_id: id.clone(),
            aggregate_type: "notification".into(),
            aggregate_id: id.clone(),
            aggregate_seq: 1,
            event_type: types::events::EventType::NotificationAdded,
            schema_version: 1,
            occurred_at: 0,
            correlation_id: id,
            causation_id: None,
            actor: None,
            payload: added,
            trace_parent: None,
        };
        live.publish(&event).await.unwrap();
        if sent % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }

    // When the tab reads again it gets what was written before it fell behind, then the
    // response ends (the browser reconnects with the last id it got), and the stream is
    // gone from the server.
    let mut read = Vec::new();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut chunk = [0u8; 65536];
        while !read.ends_with(b"\r\n0\r\n\r\n") {
            match tab.read(&mut chunk).await.unwrap() {
                0 => break,
                n => read.extend_from_slice(&chunk[..n]),
            }
        }
    });
    ended.await.expect("the response ends within 10 s");
    let messages = String::from_utf8_lossy(&read).matches("\ndata:").count();
    assert!((1..total).contains(&messages), "some of the {total} messages came, not all: {messages}");
    crate::common::within_ten_seconds(std::time::Duration::from_millis(20), async || live.streams() < streams).await;
});
