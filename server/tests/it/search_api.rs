//! Search over HTTP with the workers running as in `heirloom serve`: stories written
//! through the REST API become findable (within a bounded poll) with highlights and
//! facets; nobody finds or counts what they may not read; bad input gets a 422 naming
//! the field; the results page renders on the server; only administrators rebuild.

use std::time::Duration;

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn story(
    server: &TestServer,
    client: &reqwest::Client,
    legacy_id: &str,
    title: &str,
    body: &str,
    tags: &[&str],
    visibility: &str,
) -> String {
    let input = json!({ "legacy_id": legacy_id, "title": title, "body": body, "tags": tags,
        "visibility": visibility, "status": "published" });
    let response = server.post_json(client, "/api/v1/stories", input).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await["id"].as_str().unwrap().to_string()
}

fn ids(results: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        results["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn facet(results: &Value, name: &str) -> Vec<(String, u64)> {
    results["facets"][name]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["label"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect()
}

fn sorted(mut ids: Vec<&str>) -> Vec<String> {
    ids.sort();
    ids.into_iter().map(String::from).collect()
}

/// Polls until `check` holds, for ten seconds at most (200 polls stay under the
/// per-address search limit).
async fn eventually(check: impl AsyncFnMut() -> bool) {
    crate::common::within_ten_seconds(Duration::from_millis(50), check).await;
}

/// Waits until `client` finds exactly `expected` for `query`.
async fn until_found(server: &TestServer, client: &reqwest::Client, query: &str, expected: &[&str]) {
    let expected = sorted(expected.to_vec());
    eventually(async || {
        let (status, results) = server.get_json(client, &format!("/api/v1/search?{query}")).await;
        status == StatusCode::OK && ids(&results) == expected
    })
    .await;
}

server_test!(a_written_story_is_found_with_highlights_filters_facets_and_suggestions, |server| {
    let ana = server.signed_up_as("ana@example.org", "Ana").await.0;
    let rosa = server.legacy(&ana, "Rosa Lind").await;
    let orchard =
        story(server, &ana, &rosa, "The orchard", "Grandma kept bees by the river.", &["garden", "bees"], "public")
            .await;
    // Distinct change times, so "newest first" has something to tell apart.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let kitchen =
        story(server, &ana, &rosa, "The kitchen", "She baked bread for the bees' keepers.", &[], "public").await;
    until_found(server, &ana, "q=bees", &[&orchard, &kitchen]).await;

    let (_, results) = server.get_json(&ana, "/api/v1/search?q=river").await;
    assert_eq!(results["total"], 1);
    let hit = &results["hits"][0];
    assert_eq!((hit["id"].as_str(), hit["kind"].as_str()), (Some(orchard.as_str()), Some("story")));
    assert_eq!(hit["title"], "The orchard");
    assert_eq!(hit["legacy_name"], "Rosa Lind");
    assert!(hit["snippet_html"].as_str().unwrap().contains("<mark>river</mark>"), "{hit}");

    let (_, results) = server.get_json(&ana, "/api/v1/search?q=bees&type=story").await;
    assert_eq!(facet(&results, "tags"), [("bees".to_string(), 1), ("garden".to_string(), 1)]);
    assert_eq!(facet(&results, "kinds"), [("story".to_string(), 2)]);
    assert_eq!(facet(&results, "authors"), [("Ana".to_string(), 2)]);
    let (_, tagged) = server.get_json(&ana, "/api/v1/search?q=bees&tag=Garden").await;
    assert_eq!(ids(&tagged), [orchard.as_str()]);
    let (_, legacies) = server.get_json(&ana, "/api/v1/search?q=rosa&type=legacy").await;
    assert_eq!(ids(&legacies), [rosa.as_str()]);
    let (_, in_legacy) =
        server.get_json(&ana, &format!("/api/v1/search?q=bees&legacy={rosa}&sort=newest&limit=1")).await;
    assert_eq!((in_legacy["total"].as_u64(), in_legacy["hits"][0]["id"].as_str()), (Some(2), Some(kitchen.as_str())));
    let (_, later) = server.get_json(&ana, "/api/v1/search?q=bees&from=2999-01-01").await;
    assert_eq!(later["total"], 0);

    let (status, suggestions) = server.get_json(&ana, "/api/v1/search/suggest?q=orch").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(suggestions[0]["id"].as_str(), Some(orchard.as_str()), "{suggestions}");
    assert_eq!(suggestions[0]["title"], "The orchard");

    // The page renders the same search on the server, snippet marks included.
    let page = server.get("/search?q=river").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("The orchard") && html.contains("<mark>river</mark>"), "{html}");
    assert!(html.contains(&format!("href=\"/stories/{orchard}\"")), "{html}");
    let empty = server.get("/search").await;
    assert_eq!(empty.status(), StatusCode::OK);
});

server_test!(nobody_finds_or_counts_what_they_may_not_read, |server| {
    let ana = server.signed_up_as("ana@example.org", "Ana").await.0;
    let olga = server.signed_up_as("olga@example.org", "Olga").await.0;
    let bea = server.signed_up_as("bea@example.org", "Bea").await.0;
    let signed_out = TestServer::browser();
    let rosa = server.legacy(&ana, "Rosa").await;
    let public = story(server, &ana, &rosa, "Bees in public", "honey", &["open"], "public").await;
    let members = story(server, &ana, &rosa, "Bees for the family", "honey", &["family"], "members").await;
    let private = story(server, &ana, &rosa, "Bees of my own", "honey", &["mine"], "private").await;
    // Olga's own legacy, with nothing public: Ana must not see it nor count it.
    let olgas = server.legacy(&olga, "Olga's mother").await;
    let hidden = story(server, &olga, &olgas, "Bees at the dacha", "honey", &["dacha"], "members").await;
    // Bea joins Rosa as a viewer.
    let invite =
        server.post_json(&ana, &format!("/api/v1/legacies/{rosa}/invitations"), json!({ "role": "viewer" })).await;
    let token = json_of(invite).await["token"].as_str().unwrap().to_string();
    let accepted = server.post_json(&bea, &format!("/api/v1/invitations/{token}/accept"), json!({})).await;
    assert_eq!(accepted.status(), StatusCode::OK);

    until_found(server, &ana, "q=honey", &[&public, &members, &private]).await;
    until_found(server, &olga, "q=honey", &[&public, &hidden]).await;
    let (_, results) = server.get_json(&ana, "/api/v1/search?q=honey").await;
    assert_eq!(results["total"], 3);
    assert!(facet(&results, "tags").iter().all(|(tag, _)| tag != "dacha"), "{results}");
    assert!(facet(&results, "legacies").iter().all(|(name, _)| name != "Olga's mother"), "{results}");

    let (_, results) = server.get_json(&olga, "/api/v1/search?q=honey").await;
    assert_eq!(results["total"], 2);
    let tags = facet(&results, "tags");
    assert!(tags.iter().all(|(tag, _)| tag != "family" && tag != "mine"), "{tags:?}");

    until_found(server, &bea, "q=honey", &[&public, &members]).await;
    let (_, results) = server.get_json(&bea, "/api/v1/search?q=honey").await;
    assert_eq!(results["total"], 2);
    assert!(facet(&results, "tags").iter().all(|(tag, _)| tag != "mine"), "{results}");

    let (status, results) = server.get_json(&signed_out, "/api/v1/search?q=honey").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&results), [public.as_str()]);
    assert_eq!(results["total"], 1);
    assert_eq!(facet(&results, "tags"), [("open".to_string(), 1)]);
    // Rosa has a public story, so it can be found; Olga's legacy cannot.
    let (_, legacies) = server.get_json(&signed_out, "/api/v1/search?q=mother+rosa&type=legacy").await;
    assert_eq!(legacies["total"], 0, "all words must match");
    let (_, legacies) = server.get_json(&signed_out, "/api/v1/search?q=mother&type=legacy").await;
    assert_eq!(legacies["total"], 0);

    let (_, suggestions) = server.get_json(&signed_out, "/api/v1/search/suggest?q=bees").await;
    let suggested: Vec<&str> = suggestions.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(suggested, [public.as_str()]);
    let page = signed_out.get(server.url("/search?q=honey")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Bees in public") && !page.contains("Bees for the family") && !page.contains("dacha"));
});

server_test!(bad_search_input_is_refused_with_the_field_named, |server| {
    let client = TestServer::browser();
    let field_of = |body: &Value| body["fields"][0]["field"].as_str().unwrap_or_default().to_string();
    for path in ["/api/v1/search?q=", "/api/v1/search", "/api/v1/search?q=%20%20", "/api/v1/search/suggest?q="] {
        let (status, body) = server.get_json(&client, path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!((body["kind"].as_str(), field_of(&body).as_str()), (Some("invalid"), "q"), "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains("q: is required"), "{body}");
    }

    let long = "a".repeat(10 * 1024);
    for path in [format!("/api/v1/search?q={long}"), format!("/api/v1/search/suggest?q={long}")] {
        let (status, body) = server.get_json(&client, &path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&body), "q");
        assert!(body["message"].as_str().unwrap().contains("at most 512 characters"), "{body}");
    }
    // The page refuses it too, with the message and a 422, not a 500.
    let page = client.get(server.url(&format!("/search?q={long}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().await.unwrap().contains("at most 512 characters"));

    for (query, field) in [
        ("q=x&type=stories", "type"),
        ("q=x&sort=oldest", "sort"),
        ("q=x&from=yesterday", "from"),
        ("q=x&from=2024-02-02&to=2024-02-01", "to"),
        ("q=x&limit=0", "limit"),
        ("q=x&limit=1000", "limit"),
        ("q=x&offset=100000", "offset"),
    ] {
        let (status, body) = server.get_json(&client, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(field_of(&body), field, "{query}: {body}");
    }
    let (status, body) = server.get_json(&client, "/api/v1/search?q=x&limit=many").await;
    assert_eq!((status, body["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")));

    // Query syntax is text: nothing to parse, nothing to fail.
    for text in ["title:(foo AND \"", "*", "\"\"", "a OR b -c +d ~2 ^3 [x TO y] {z} \\", "' OR 1=1 --", "<script>"] {
        let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        for path in [format!("/api/v1/search?q={encoded}"), format!("/api/v1/search/suggest?q={encoded}")] {
            let (status, body) = server.get_json(&client, &path).await;
            assert_eq!(status, StatusCode::OK, "{text}: {body}");
        }
        let page = client.get(server.url(&format!("/search?q={encoded}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{text}");
        let html = page.text().await.unwrap();
        if text == "<script>" {
            assert!(html.contains("&lt;script&gt;") && !html.contains("“<script>”"), "the query is escaped");
        }
    }
});

server_test!(only_administrators_rebuild_the_index_and_search_goes_on, |server| {
    let admin = server.signed_up_as("admin@example.org", "Admin").await.0;
    let member = server.signed_up_as("member@example.org", "Member").await.0;
    let rosa = server.legacy(&member, "Rosa").await;
    let orchard = story(server, &member, &rosa, "The orchard", "apples", &[], "public").await;
    until_found(server, &admin, "q=apples", &[&orchard]).await;

    let reindex =
        |client: &reqwest::Client| server.request(client, reqwest::Method::POST, "/api/v1/search/reindex").send();
    assert_eq!(reindex(&member).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(reindex(&TestServer::browser()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let before = server.backend.search.generation();
    let response = reindex(&admin).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report = json_of(response).await;
    assert_eq!((report["stories"].as_u64(), report["legacies"].as_u64()), (Some(1), Some(1)), "{report}");
    assert_ne!(report["generation"].as_str(), Some(before.as_str()));
    assert_eq!(server.backend.search.generation(), report["generation"].as_str().unwrap());
    let (_, results) = server.get_json(&admin, "/api/v1/search?q=apples").await;
    assert_eq!(ids(&results), [orchard.as_str()]);
    // Writes after the switch reach the new generation.
    let later = story(server, &member, &rosa, "Pears", "apples and pears", &[], "public").await;
    until_found(server, &admin, "q=apples", &[&orchard, &later]).await;
});

server_test!(search_is_in_the_openapi_document_and_rate_limited_per_address, |server| {
    let doc = json_of(server.get("/api/v1/openapi.json").await).await;
    for path in ["/api/v1/search", "/api/v1/search/suggest", "/api/v1/search/reindex"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["q", "type", "legacy", "tag", "author", "from", "to", "sort", "limit", "offset"] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
    assert!(doc["components"]["schemas"]["SearchResults"].is_object());

    let client = TestServer::browser();
    let mut limited = None;
    for attempt in 0..400 {
        let response = client.get(server.url("/api/v1/search/suggest?q=ab")).send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            limited = Some(attempt);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(limited.is_some_and(|n| n >= 250), "limited after {limited:?} searches");
    // Other reads are not affected.
    assert_eq!(client.get(server.url("/api/v1/stories")).send().await.unwrap().status(), StatusCode::OK);
});
