//! The ceiling for an HTTP response on this machine, for `bench/run.py`: a bare axum
//! handler serving one fixed ~20 KB HTML page (about the size of a server-rendered story
//! page), with no database, session, rendering or middleware. The page is built once at
//! startup, so a request costs only routing and writing the bytes.
//!
//!     cargo build --release -p server --example bare_axum
//!     bare_axum <port>     # listens on 127.0.0.1:<port>, serves GET /
//!
//! It runs on tokio's multi-threaded runtime, as the `heirloom` binary does, so the two
//! are compared on the same footing.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// What the page weighs, in bytes (at least; the last paragraph may go a little over).
const PAGE_BYTES: usize = 20 * 1024;

/// An HTML page of paragraphs, like a story's, of at least `PAGE_BYTES`.
fn page() -> Bytes {
    let paragraph = "<p>The summer we moved to the orchard, grandmother kept the letters from the war in a \
                     biscuit tin under the kitchen bench, and on market days she read one aloud.</p>\n";
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Reference page</title></head>\n\
         <body><main><h1>Reference page</h1>\n",
    );
    let closing = "</main></body></html>\n";
    while html.len() + closing.len() < PAGE_BYTES {
        html.push_str(paragraph);
    }
    html.push_str(closing);
    Bytes::from(html)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let Some(port) = std::env::args().nth(1).and_then(|arg| arg.parse::<u16>().ok()) else {
        eprintln!("usage: bare_axum <port>");
        std::process::exit(2);
    };
    let body = page();
    // `Bytes` clones share the one buffer: each response is a reference count, not a copy.
    let app = Router::new().route(
        "/",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response() }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
