//! People over HTTP: a GEDCOM file imported with a raw POST (queued, then followed to the
//! end) and exported again, a file that does not read refused with its line numbers, the
//! export's privacy, a family tree, the relatives listing page by page and the portrait's
//! refusals.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestServer;

const MUSTERSTAMMBAUM: &[u8] = include_bytes!("../../../backend/tests/data/gedcom/Musterstammbaum.ged");

sqlite_server_test!(a_gedcom_file_goes_in_and_comes_out, |server| {
    let owner = TestServer::browser();
    let signup = json!({ "email": "ana@example.org", "display_name": "Ana", "password": "a long enough password" });
    assert_eq!(server.post_json(&owner, "/api/v1/auth/signup", signup).await.status(), StatusCode::CREATED);
    let legacy: Value =
        server.post_json(&owner, "/api/v1/legacies", json!({ "name": "Muster" })).await.json().await.unwrap();
    let path = format!("/api/v1/legacies/{}/gedcom", legacy["id"].as_str().unwrap());

    let import = |body: Vec<u8>| server.request(&owner, reqwest::Method::POST, &path).body(body).send();
    // The import is queued and runs in the background: its job is followed to the end.
    let imported = |response: reqwest::Response| async {
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let job: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/gedcom-imports/{}", job["id"].as_str().unwrap()));
        for _ in 0..200 {
            let job: Value = owner.get(server.url(&location)).send().await.unwrap().json().await.unwrap();
            match job["status"].as_str() {
                Some("done") => return job["report"].clone(),
                Some("queued" | "running") => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                _ => panic!("{job}"),
            }
        }
        panic!("the import did not end in 10 s");
    };
    let report = imported(import(MUSTERSTAMMBAUM.to_vec()).await.unwrap()).await;
    assert_eq!(report["created"], 20, "{report}");
    let again = imported(import(MUSTERSTAMMBAUM.to_vec()).await.unwrap()).await;
    assert_eq!((again["created"].clone(), again["unchanged"].clone()), (json!(0), json!(20)), "{again}");

    let response = import(b"0 HEAD\n1 GEDC\nnot a line\n".to_vec()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = response.json().await.unwrap();
    assert!(refused.to_string().contains("line 3"), "{refused}");

    let response = owner.get(server.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/vnd.familysearch.gedcom"));
    let text = response.text().await.unwrap();
    assert!(text.starts_with("0 HEAD") && text.contains("2 VERS 7.0") && text.contains("Mustermann"), "{text}");
    let old = owner.get(server.url(&format!("{path}?version=5.5.1"))).send().await.unwrap().text().await.unwrap();
    assert!(old.contains("2 VERS 5.5.1"), "{old}");
    let bad = owner.get(server.url(&format!("{path}?version=4"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nobody else reads or writes it.
    let stranger = TestServer::browser();
    assert_eq!(stranger.get(server.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // A family tree around one of the imported people.
    let people_path = format!("/api/v1/legacies/{}/people?limit=200", legacy["id"].as_str().unwrap());
    let people: Value = owner.get(server.url(&people_path)).send().await.unwrap().json().await.unwrap();
    let florian = people["items"].as_array().unwrap().iter().find(|p| p["name"] == "Florian Mustertyp").unwrap();
    let tree_path = format!("/api/v1/people/{}/tree", florian["id"].as_str().unwrap());
    let tree: Value =
        owner.get(server.url(&format!("{tree_path}?up=2&down=1"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(tree["root"], florian["id"], "{tree}");
    assert_eq!((tree["up"].clone(), tree["down"].clone()), (json!(2), json!(1)));
    let generations: Vec<i64> =
        tree["people"].as_array().unwrap().iter().map(|p| p["generation"].as_i64().unwrap()).collect();
    assert!(generations.iter().all(|g| (-2..=1).contains(g)) && generations.len() > 1, "{tree}");
    let too_deep = owner.get(server.url(&format!("{tree_path}?up=50"))).send().await.unwrap();
    assert_eq!(too_deep.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_deep.text().await.unwrap().contains("between 0 and 10 generations"));
    assert_eq!(stranger.get(server.url(&tree_path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // Florian's ancestors a page at a time: every one once, nearest first, then the end.
    let relatives_path = format!("/api/v1/people/{}/relatives?kind=ancestors&limit=1", florian["id"].as_str().unwrap());
    let mut listed: Vec<(i64, String)> = Vec::new();
    let mut next = Some(relatives_path.clone());
    while let Some(path) = next.take() {
        let page: Value = owner.get(server.url(&path)).send().await.unwrap().json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            listed.push((item["generation"].as_i64().unwrap(), item["person"]["id"].as_str().unwrap().to_string()));
        }
        next = page["next_cursor"].as_str().map(|cursor| format!("{relatives_path}&cursor={cursor}"));
        assert!(listed.len() <= 50, "the pages end");
    }
    assert!(listed.len() > 1 && listed.windows(2).all(|w| w[0].0 >= w[1].0), "{listed:?}");
    let mut ids: Vec<&String> = listed.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), listed.len(), "nobody twice");
    let bad = owner.get(server.url(&format!("{relatives_path}&cursor=zzz"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A portrait must be a processed photo of the legacy: anything else is refused by name.
    let portrait_path = format!("/api/v1/people/{}/portrait", florian["id"].as_str().unwrap());
    let refused = server
        .request(&owner, reqwest::Method::PUT, &portrait_path)
        .json(&json!({ "media_id": "not-a-photo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("media_id"));
    let removed = server.request(&owner, reqwest::Method::DELETE, &portrait_path).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let removed: Value = removed.json().await.unwrap();
    assert_eq!(removed["portrait_id"], Value::Null);
    let refused = server.request(&stranger, reqwest::Method::DELETE, &portrait_path).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
});
