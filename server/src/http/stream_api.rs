//! The live stream (`GET /api/v1/stream`): one server-sent-events stream per signed-in
//! tab, each message a change its reader may see now (`LiveEvent`, named by its event
//! id), a comment line every 15 s to keep proxies from closing it. A tab that sends
//! `Last-Event-ID` first gets what it missed from the outbox. A stream that falls behind
//! by more than `backend::live::BUFFER` events is closed; the browser reconnects with
//! the id of the last message it got and loses nothing. Whatever is ready for a stream
//! goes out in one write (a stream that is behind catches up in one, not one a message).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use backend::live::{Live, Message, Prepared, Watcher};
use bytes::{Bytes, BytesMut};
use tokio::sync::broadcast::{self, error::TryRecvError};
use tokio::time::{Interval, MissedTickBehavior};
use types::routes::api;
use types::{ApiError, LiveEvent};
use utoipa::OpenApi;

use super::session::Caller;
use super::ApiFailure;

const HEARTBEAT: Duration = Duration::from_secs(15);
/// At most this many missed changes are replayed on a reconnect.
const MISSED_MAX: i64 = 500;
/// A write gathers ready messages up to about this many bytes.
const WRITE_MAX: usize = 64 * 1024;

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
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = Tab {
        live,
        watcher,
        receiver,
        backlog: backlog.into(),
        last_sent: last.unwrap_or_default(),
        heartbeat,
        ending: false,
    };
    let writes = futures::stream::unfold(state, |mut tab| async move {
        tab.next_write().await.map(|write| (Ok::<_, Infallible>(write), tab))
    });
    let headers = [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")];
    Ok((headers, Body::from_stream(writes)).into_response())
}

/// One open stream.
struct Tab {
    live: Arc<Live>,
    watcher: Watcher,
    receiver: broadcast::Receiver<Arc<Prepared>>,
    backlog: VecDeque<Arc<Message>>,
    /// The id of the last message sent (ids sort by time), so the backlog is not sent twice.
    last_sent: String,
    /// A comment line every `HEARTBEAT`, whatever else is sent (one timer per stream, not
    /// one reset per message).
    heartbeat: Interval,
    /// The stream fell behind or the process is stopping: what is gathered goes out, then
    /// the stream ends.
    ending: bool,
}

impl Tab {
    /// The next bytes to write: every message ready for this reader, so a stream that is
    /// behind catches up in one write rather than one a message; a heartbeat when nothing
    /// came for a while; `None` to close the stream (fallen behind, or shutting down).
    async fn next_write(&mut self) -> Option<Bytes> {
        if self.ending {
            return None;
        }
        let mut write = Write::default();
        while let Some(message) = self.backlog.pop_front() {
            self.append(&mut write, &message);
        }
        if write.is_empty() {
            loop {
                let prepared = tokio::select! {
                    received = self.receiver.recv() => received.ok()?,
                    _ = self.heartbeat.tick() => return Some(Bytes::from_static(b":\n\n")),
                };
                if let Some(message) = self.check(&prepared).await? {
                    self.append(&mut write, &message);
                    break;
                }
            }
        }
        while write.len() < WRITE_MAX {
            let prepared = match self.receiver.try_recv() {
                Ok(prepared) => prepared,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(_) | TryRecvError::Closed) => {
                    self.ending = true;
                    break;
                }
            };
            match self.check(&prepared).await {
                Some(Some(message)) => self.append(&mut write, &message),
                Some(None) => {}
                None => {
                    self.ending = true;
                    break;
                }
            }
        }
        Some(write.bytes())
    }

    /// The message its reader may see of this event (`Some(None)`: nothing for them;
    /// `None`: it could not be checked, so the stream ends).
    async fn check(&mut self, prepared: &Prepared) -> Option<Option<Arc<Message>>> {
        if prepared.id <= self.last_sent {
            return Some(None);
        }
        match self.live.visible(&mut self.watcher, prepared).await {
            Ok(seen) => Some(seen),
            // Told nothing it may not see; the browser reconnects and resumes.
            Err(err) => {
                tracing::warn!(error = %err, "live stream stopped: an event could not be checked");
                None
            }
        }
    }

    fn append(&mut self, write: &mut Write, message: &Message) {
        self.last_sent.clone_from(&message.change.id);
        write.push(&message.frame);
    }
}

/// The frames of one write: a single one is sent as it is (no copy); more are joined.
#[derive(Default)]
struct Write {
    first: Option<Bytes>,
    joined: BytesMut,
}

impl Write {
    fn push(&mut self, frame: &Bytes) {
        match self.first.take() {
            None if self.joined.is_empty() => self.first = Some(frame.clone()),
            first => {
                if let Some(first) = first {
                    self.joined.extend_from_slice(&first);
                }
                self.joined.extend_from_slice(frame);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        self.first.as_ref().map_or(self.joined.len(), Bytes::len)
    }

    fn bytes(self) -> Bytes {
        self.first.unwrap_or_else(|| self.joined.freeze())
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(stream),
    components(schemas(LiveEvent)),
    tags((name = "live", description = "Changes pushed to signed-in tabs as server-sent events"))
)]
pub struct LiveApiDoc;
