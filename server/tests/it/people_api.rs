//! People over HTTP: a GEDCOM file imported with a raw POST and exported again, a file
//! that does not read refused with its line numbers, and the export's privacy.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::TestServer;

const MUSTERSTAMMBAUM: &[u8] = include_bytes!("../../../backend/tests/data/gedcom/Musterstammbaum.ged");

#[tokio::test]
async fn a_gedcom_file_goes_in_and_comes_out() {
    let server = TestServer::start(backend::testing::TestDb::sqlite().await).await;
    let owner = TestServer::browser();
    let signup = json!({ "email": "ana@example.org", "display_name": "Ana", "password": "a long enough password" });
    assert_eq!(server.post_json(&owner, "/api/v1/auth/signup", signup).await.status(), StatusCode::CREATED);
    let legacy: Value =
        server.post_json(&owner, "/api/v1/legacies", json!({ "name": "Muster" })).await.json().await.unwrap();
    let path = format!("/api/v1/legacies/{}/gedcom", legacy["id"].as_str().unwrap());

    let import = |body: Vec<u8>| server.request(&owner, reqwest::Method::POST, &path).body(body).send();
    let response = import(MUSTERSTAMMBAUM.to_vec()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["created"], 20, "{report}");
    let again: Value = import(MUSTERSTAMMBAUM.to_vec()).await.unwrap().json().await.unwrap();
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
    server.stop().await;
}
