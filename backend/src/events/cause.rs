//! Correlation and causation: what set an event off. A request's events share its
//! request id as their correlation id; an event written while a consumer handles message
//! M is caused by M and shares M's correlation id; an event written with no cause in
//! scope (a timer, a worker, the CLI) begins a correlation of its own, its message id.
//! The cause travels as a tokio task-local set around the request (by the server) and
//! around each delivery (by [`crate::events::consumer`]), the way the trace context
//! travels in the current span; a task spawned from there starts without one.

use std::future::Future;

use types::events::Envelope;

/// The longest correlation id kept; a longer one from a client's `x-request-id` is replaced.
const MAX_CORRELATION_ID: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub correlation_id: String,
    /// The message whose handling this is; `None` for a request.
    pub causation_id: Option<String>,
}

impl Cause {
    /// A request's: its id begins the correlation. An id a client chose that is too long or
    /// holds other than visible ASCII is not kept (the events then start their own).
    pub fn request(request_id: &str) -> Option<Cause> {
        let usable = !request_id.is_empty()
            && request_id.len() <= MAX_CORRELATION_ID
            && request_id.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| Cause { correlation_id: request_id.to_string(), causation_id: None })
    }

    /// Handling `event`: what it writes is caused by it, in its correlation.
    pub fn handling(event: &Envelope) -> Cause {
        Cause { correlation_id: event.correlation_id.clone(), causation_id: Some(event.message_id.clone()) }
    }

    /// Following the event `message_id` of correlation `correlation_id` (a call attempt
    /// that a timer runs continues the chain of the call's previous event).
    pub fn following(correlation_id: String, message_id: String) -> Cause {
        Cause { correlation_id, causation_id: Some(message_id) }
    }
}

tokio::task_local! {
    static CURRENT: Cause;
}

/// Runs `work` with `cause` as what set off every event it appends.
pub async fn within<F: Future>(cause: Cause, work: F) -> F::Output {
    CURRENT.scope(cause, work).await
}

/// The cause in scope, if any.
pub fn current() -> Option<Cause> {
    CURRENT.try_with(Cause::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cause_is_seen_inside_its_scope_only() {
        assert_eq!(current(), None);
        let cause = Cause::request("req-1").unwrap();
        let seen = within(cause.clone(), async { current() }).await;
        assert_eq!(seen, Some(cause));
        assert_eq!(current(), None);
    }

    #[test]
    fn a_request_id_a_client_made_unusable_begins_no_correlation() {
        assert!(Cause::request("0193a7c2-aaaa").is_some());
        assert!(Cause::request("").is_none());
        assert!(Cause::request("has space").is_none());
        assert!(Cause::request(&"x".repeat(129)).is_none());
    }
}
