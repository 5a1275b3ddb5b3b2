//! The live stream (`GET /api/v1/stream`): one server-sent-events stream per signed-in
//! tab, each message a change its reader may see now (`LiveEvent`, named by its event
//! id), a comment line every 15 s to keep proxies from closing it. A tab that sends
//! `Last-Event-ID` first gets what it missed from the outbox. A stream that falls behind
//! by more than `backend::live::BUFFER` events is closed; the browser reconnects with
//! the id of the last message it got and loses nothing.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use backend::live::{Live, Message, Prepared, Watcher};
use tokio::sync::broadcast;
use types::routes::api;
use types::{ApiError, LiveEvent};
use utoipa::OpenApi;

use super::session::Caller;
use super::ApiFailure;

const HEARTBEAT: Duration = Duration::from_secs(15);
/// At most this many missed changes are replayed on a reconnect.
const MISSED_MAX: i64 = 500;

#[utoipa::path(get, path = api::STREAM, tag = "live",
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last message received")),
    responses((status = 200, content_type = "text/event-stream", body = LiveEvent,
        description = "A stream of server-sent events, each one LiveEvent as JSON"),
        (status = 401, body = ApiError)))]
pub async fn stream(me: Caller, headers: HeaderMap) -> Result<Response, ApiFailure> {
    let live = me.backend.live.clone();
    // Subscribed before the outbox is read, so nothing falls between the two.
    let receiver = live.subscribe();
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(str::to_string);
    let mut watcher = Watcher::new(me.user);
    let backlog = match &last {
        Some(after) => live.missed(&mut watcher, after, MISSED_MAX).await?,
        None => Vec::new(),
    };
    let state = Tab { live, watcher, receiver, backlog: backlog.into(), last_sent: last.unwrap_or_default() };
    let messages = futures::stream::unfold(state, |mut tab| async move {
        tab.next().await.map(|message| (Ok::<_, Infallible>(message), tab))
    });
    Ok(Sse::new(messages).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response())
}

/// One open stream.
struct Tab {
    live: Arc<Live>,
    watcher: Watcher,
    receiver: broadcast::Receiver<Arc<Prepared>>,
    backlog: VecDeque<Arc<Message>>,
    /// The id of the last message sent (ids sort by time), so the backlog is not sent twice.
    last_sent: String,
}

impl Tab {
    /// The next message, or `None` to close the stream (fallen behind, or shutting down).
    async fn next(&mut self) -> Option<Event> {
        if let Some(change) = self.backlog.pop_front() {
            return Some(self.send(&change));
        }
        loop {
            let prepared = self.receiver.recv().await.ok()?;
            if prepared.id <= self.last_sent {
                continue;
            }
            match self.live.visible(&mut self.watcher, &prepared).await {
                Ok(Some(change)) => return Some(self.send(&change)),
                Ok(None) => continue,
                // Told nothing it may not see; the browser reconnects and resumes.
                Err(err) => {
                    tracing::warn!(error = %err, "live stream stopped: an event could not be checked");
                    return None;
                }
            }
        }
    }

    fn send(&mut self, message: &Message) -> Event {
        self.last_sent.clone_from(&message.change.id);
        Event::default().id(&message.change.id).data(&message.json)
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(stream),
    components(schemas(LiveEvent)),
    tags((name = "live", description = "Changes pushed to signed-in tabs as server-sent events"))
)]
pub struct LiveApiDoc;
