//! Budgets CI enforces, deterministic so they cannot flake: how many SQL statements each
//! key page and API runs for one request. A change that raises one must change its
//! number here on purpose (and say why); timings stay in `bench/`. Statements are counted
//! from sqlx's own event for each one (target `sqlx::query`), process-wide, so the body
//! runs alone in a process with the server's event and timer workers stopped: nothing
//! else runs a statement while a request is counted. Each request is made once to warm
//! the pool, then counted twice, and the two counts must agree.

use std::sync::atomic::{AtomicUsize, Ordering};

use backend::testing::TestDb;
use reqwest::StatusCode;
use serde_json::json;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::common::{alone_in_a_process, TestServer};

/// Statements run in this process so far.
static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// (what, path, statements at most) for a member, then for a signed-out reader: the
/// same on both engines. Measured when written (2026-12-07): every one at its budget.
const MEMBER_BUDGETS: &[(&str, &str, usize)] = &[
    ("home page", "/", 7),
    ("legacy page, 31 stories", "/legacies/{legacy}", 10),
    ("story page", "/stories/{story}", 13),
    ("feed API", "/api/v1/feed", 4),
    ("story API", "/api/v1/stories/{story}", 6),
    ("search API", "/api/v1/search?q=bees", 4),
    ("typeahead", "/api/v1/search/suggest?q=bee", 4),
];
/// A signed-out reader's page is kept (`page_cache`): a page not kept yet runs the page's
/// statements and the change stamp's (`{n}`, a new query each time, is never kept); a
/// kept one, the change stamp's only.
const SIGNED_OUT_BUDGETS: &[(&str, &str, usize)] = &[("story page, signed out, not kept", "/stories/{story}?n={n}", 7)];
/// Only on SQLite: on PostgreSQL any commit in the cluster (another test's) moves the
/// change stamp, so whether the second request finds the page kept is not certain there.
const KEPT_BUDGETS: &[(&str, &str, usize)] = &[("story page, signed out, kept", "/stories/{story}", 1)];

#[test]
fn sql_statements_per_request_on_sqlite() {
    alone_in_a_process("budgets::sql_statements_per_request_on_sqlite", &[], || async {
        within_budgets(TestDb::sqlite().await).await
    });
}

#[test]
fn sql_statements_per_request_on_postgres() {
    alone_in_a_process("budgets::sql_statements_per_request_on_postgres", &[], || async {
        if let Some(db) = TestDb::postgres().await {
            within_budgets(db).await
        }
    });
}

async fn within_budgets(db: TestDb) {
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountStatements))
        .expect("this process runs only this test, so the global subscriber is ours");
    let server = TestServer::start(db).await;
    // The first account is the instance's administrator; the family comes after.
    server.signed_up("admin@example.org").await;
    let ana = server.signed_up("ana@example.org").await;
    let (bo, _) = server.signed_up_as("bo@example.org", "Bo").await;
    let legacy = server.legacy(&ana, "Rosa Lind").await;
    let mut story = String::new();
    for n in 0..31 {
        let visibility = if n == 30 { "public" } else { "members" };
        let input = json!({ "legacy_id": legacy, "title": format!("The bees, summer {n}"), "status": "published",
            "body": "She kept bees by the **wall**.", "visibility": visibility, "tags": ["bees", "summer"] });
        story = server.created(&ana, "/api/v1/stories", input).await["id"].as_str().unwrap().to_string();
    }
    let invitation =
        server.created(&ana, &format!("/api/v1/legacies/{legacy}/invitations"), json!({ "role": "viewer" })).await;
    let token = invitation["token"].as_str().unwrap();
    assert!(server
        .post_json(&bo, &format!("/api/v1/invitations/{token}/accept"), json!({}))
        .await
        .status()
        .is_success());
    let comment = json!({ "body": "Who took the photo?" });
    assert_eq!(
        server.post_json(&bo, &format!("/api/v1/stories/{story}/comments"), comment).await.status(),
        StatusCode::CREATED
    );
    server.stop_workers().await;

    let anyone = TestServer::browser();
    let kept = if server.backend.db().engine() == backend::db::Engine::Sqlite { KEPT_BUDGETS } else { &[] };
    let mut over = Vec::new();
    for (client, budgets) in [(&bo, MEMBER_BUDGETS), (&anyone, SIGNED_OUT_BUDGETS), (&anyone, kept)] {
        for &(what, template, budget) in budgets {
            let path = template.replace("{legacy}", &legacy).replace("{story}", &story);
            // Once to warm the pool's connections, then counted twice.
            statements(&server, client, &path).await;
            let counts = [statements(&server, client, &path).await, statements(&server, client, &path).await];
            assert_eq!(
                counts[0], counts[1],
                "{what} ({path}) ran a different number of statements each time: {counts:?}"
            );
            // Each of them reads something: none counted means the counting is broken.
            assert!(counts[0] > 0, "{what} ({path}): no statement counted");
            if counts[0] > budget {
                over.push(format!("{what} ({path}): {} statements, budget {budget}", counts[0]));
            }
        }
    }
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
    server.stop().await;
}

/// How many statements one GET of `path` runs (the body read to its end); `{n}` in it
/// becomes a number new each time.
async fn statements(server: &TestServer, client: &reqwest::Client, path: &str) -> usize {
    static REQUESTS: AtomicUsize = AtomicUsize::new(0);
    let path = path.replace("{n}", &REQUESTS.fetch_add(1, Ordering::SeqCst).to_string());
    let before = STATEMENTS.load(Ordering::SeqCst);
    let response = client.get(server.url(&path)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.bytes().await.unwrap();
    STATEMENTS.load(Ordering::SeqCst) - before
}
