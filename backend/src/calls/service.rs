//! The outbound-call executor. A submit validates the call, stores it with its events
//! (CallSubmitted) and a timer for its first attempt, all in one transaction; the timer
//! worker then runs the attempt (CallAttempted, then CallSucceeded, CallFailed, or a
//! timer for a retry). The calls tables are the read model those events project into,
//! written in the same transactions as the events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use blake2::{Blake2s256, Digest};
use tracing::Instrument;
use types::{CallAttemptView, CallDetail, CallId, CallInput, CallPage, CallStatus, CallSubmitted, CallView, ErrorCode};

use crate::calls::guard;
use crate::calls::model::{self, CallFilter, CallRow, Outcome, REDACTED, SNIPPET_BYTES};
use crate::calls::repo;
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::{Error, Result};
use crate::events::{self, outbox, timers, Cause, Event, TimerHandler};
use crate::paging::{keyset_page, parse_cursor};
use crate::time::{new_id, now_millis};
use crate::validate::Problems;
use crate::vault::Vault;
use types::events::{self as event, EventPayload};

pub const TIMER_KIND: &str = "call.attempt";
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
const MAX_HEADERS: usize = 32;
const MAX_URL_CHARS: usize = 2048;
const MAX_KEY_CHARS: usize = 200;
const MAX_SCHEDULE_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;
const PAGE_MAX: i64 = 100;

/// What the operator allows outbound calls to do.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    pub allow_private_networks: bool,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, capped at ten minutes.
    pub first_backoff: Duration,
}

impl CallPolicy {
    pub fn from_config(config: &Config) -> CallPolicy {
        CallPolicy {
            allow_private_networks: config.calls_allow_private_networks,
            timeout: Duration::from_secs(config.calls_timeout_secs),
            max_body_bytes: config.calls_max_body_bytes,
            max_attempts: config.calls_max_attempts,
            first_backoff: Duration::from_secs(1),
        }
    }
}

pub struct Calls {
    db: Db,
    vault: Arc<Vault>,
    policy: CallPolicy,
    client: reqwest::Client,
}

/// A validated call, ready to store.
struct Prepared {
    method: String,
    url: url::Url,
    shown_headers: BTreeMap<String, String>,
    secret_headers: BTreeMap<String, String>,
    body: String,
    due_at: i64,
    key: String,
    hash: String,
}

impl Calls {
    pub fn new(db: Db, vault: Arc<Vault>, policy: CallPolicy) -> Calls {
        let client = guard::client(policy.allow_private_networks, policy.timeout);
        Calls { db, vault, policy, client }
    }

    pub fn policy(&self) -> CallPolicy {
        self.policy
    }

    /// Stores a call and schedules its first attempt (now, or at `due_at`). A replay of
    /// an idempotency key returns the first call; the same key with a different request
    /// is refused.
    pub async fn submit(&self, actor: Option<&str>, source: &str, input: &CallInput) -> Result<CallSubmitted> {
        let prepared = self.prepare(input)?;
        if let Some(existing) = repo::by_key(&self.db, &prepared.key).await? {
            return replay(existing, &prepared.hash);
        }
        let mut tx = self.db.begin().await?;
        let row = match self.store(&mut tx, actor, source, &prepared).await {
            Ok(row) => row,
            Err(err) if err.is_unique_violation() => {
                drop(tx);
                // A concurrent submit with the same key won the race.
                let existing = repo::by_key(&self.db, &prepared.key).await?.ok_or(err)?;
                return replay(existing, &prepared.hash);
            }
            Err(err) => return Err(err),
        };
        tx.commit().await?;
        let c = &row.call;
        tracing::info!(call_id = %c.id, method = %c.method, target = %c.target, source, "call submitted");
        Ok(CallSubmitted { call: row.view(), created: true })
    }

    /// Checks a call without storing it (the same rules as [`Calls::submit`]).
    pub fn validate(&self, input: &CallInput) -> Result<()> {
        self.prepare(input).map(|_| ())
    }

    fn prepare(&self, input: &CallInput) -> Result<Prepared> {
        let mut problems = Problems::default();
        let method = input.method.trim().to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            problems.add("method", format!("must be one of {}", METHODS.join(", ")));
        }
        let url = match self.check_url(&input.url) {
            Ok(url) => Some(url),
            Err(message) => {
                problems.add("url", message);
                None
            }
        };
        let mut shown_headers = BTreeMap::new();
        let mut secret_headers = BTreeMap::new();
        if input.headers.len() > MAX_HEADERS {
            problems.add("headers", format!("at most {MAX_HEADERS} headers"));
        }
        for (name, value) in &input.headers {
            let name = name.trim().to_ascii_lowercase();
            if !model::header_allowed(&name) {
                problems.add(
                    "headers",
                    format!(
                        "`{name}` is not an allowed header; allowed are {} and x-heirloom-*",
                        model::ALLOWED_HEADERS.join(", ")
                    ),
                );
            } else if reqwest::header::HeaderValue::from_str(value).is_err() {
                problems.add("headers", format!("the value of `{name}` has characters a header cannot carry"));
            } else if model::header_is_secret(&name) {
                shown_headers.insert(name.clone(), REDACTED.to_string());
                secret_headers.insert(name, value.clone());
            } else {
                shown_headers.insert(name, value.clone());
            }
        }
        let body_bytes = input.body.len() as u64;
        if body_bytes > self.policy.max_body_bytes {
            problems.add("body", format!("is {body_bytes} bytes; the limit is {} bytes", self.policy.max_body_bytes));
        }
        let key = input.idempotency_key.trim();
        if key.is_empty() {
            problems.add("idempotency_key", "is required (any unique text; a replay with it returns the first call)");
        } else if key.chars().count() > MAX_KEY_CHARS || key.chars().any(char::is_control) {
            problems.add("idempotency_key", format!("must be at most {MAX_KEY_CHARS} printable characters"));
        }
        let now = now_millis();
        // A due time in the past means "now": the caller was late, the call is still wanted.
        let due_at = input.due_at.unwrap_or(now).max(now);
        if due_at - now > MAX_SCHEDULE_AHEAD_MS {
            problems.add("due_at", "must be within a year from now");
        }
        problems.into_result()?;
        let url = url.ok_or_else(|| Error::invalid("url", "is invalid"))?;
        let hash = request_hash(&method, url.as_str(), &input.headers, &input.body);
        Ok(Prepared {
            method,
            url,
            shown_headers,
            secret_headers,
            body: input.body.clone(),
            due_at,
            key: key.to_string(),
            hash,
        })
    }

    fn check_url(&self, text: &str) -> std::result::Result<url::Url, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required".into());
        }
        if text.chars().count() > MAX_URL_CHARS {
            return Err(format!("must be at most {MAX_URL_CHARS} characters"));
        }
        let url = url::Url::parse(text).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must start with http:// or https://".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials; send them in the authorization header".into());
        }
        if !self.policy.allow_private_networks {
            if let Some(why) = guard::refuse_host(&url) {
                return Err(why);
            }
        }
        Ok(url)
    }

    async fn store(&self, tx: &mut Tx, actor: Option<&str>, source: &str, call: &Prepared) -> Result<CallRow> {
        let now = now_millis();
        let target = match call.url.port() {
            Some(port) => format!("{}:{port}", call.url.host_str().unwrap_or_default()),
            None => call.url.host_str().unwrap_or_default().to_string(),
        };
        let sealed_headers = if call.secret_headers.is_empty() {
            None
        } else {
            Some(self.vault.seal(&serde_json::to_string(&call.secret_headers).unwrap_or_default()))
        };
        let id = CallId::new(new_id());
        let submitted = event::CallSubmitted {
            call_id: id.clone(),
            method: call.method.clone(),
            url: call.url.to_string(),
            target: target.clone(),
            headers: call.shown_headers.clone(),
            due_at: call.due_at,
            source: source.to_string(),
        };
        let submitted_id = events::append(tx, Event::of(&id, actor, submitted)).await?;
        // What set the call off, as its event records it (its own id when nothing did).
        let cause = events::cause::current();
        let row = CallRow {
            call: CallView {
                id,
                source: source.to_string(),
                method: call.method.clone(),
                url: call.url.to_string(),
                target,
                headers: call.shown_headers.clone(),
                status: CallStatus::Scheduled,
                due_at: call.due_at,
                attempts: 0,
                last_status_code: None,
                last_latency_ms: None,
                last_error: None,
                created_at: now,
                updated_at: now,
                completed_at: None,
                correlation_id: Some(cause.as_ref().map_or(submitted_id, |c| c.correlation_id.clone())),
                causation_id: cause.and_then(|c| c.causation_id),
            },
            idempotency_key: call.key.clone(),
            request_hash: call.hash.clone(),
            headers: serde_json::to_string(&call.shown_headers).unwrap_or_else(|_| "{}".into()),
            sealed_headers,
            body: call.body.clone(),
        };
        repo::insert(tx, &row, actor).await?;
        let id = &row.call.id;
        timers::schedule(tx, &timer_key(id, 1), TIMER_KIND, row.call.due_at, &AttemptDue { call_id: id.clone() })
            .await?;
        Ok(row)
    }

    /// Runs the next attempt of a call if it is due and nobody else is running it;
    /// otherwise does nothing, which is what makes a timer firing twice harmless.
    pub async fn attempt(&self, call_id: &CallId) -> Result<()> {
        let now = now_millis();
        let lease = now + (self.policy.timeout + Duration::from_secs(30)).as_millis() as i64;
        let Some(attempt) = repo::claim(&self.db, call_id, now, lease).await? else {
            return Ok(());
        };
        let row = repo::by_id(&self.db, call_id).await?.ok_or(Error::NotFound { what: "call" })?;
        let span = tracing::info_span!("calls.execute", call_id = %call_id, attempt, target = %row.call.target);
        let outcome = self.execute(&row, attempt).instrument(span).await;
        // A timer runs the attempt: it continues the chain of the call's latest event.
        let chain = outbox::latest_of(&self.db, "call", call_id).await?.map(|(m, c)| Cause::following(c, m));
        let mut tx = self.db.begin().await?;
        let tried = &outcome.attempt;
        repo::record_attempt(&mut tx, call_id, tried).await?;
        let attempted = event::CallAttempted {
            call_id: call_id.clone(),
            attempt,
            status_code: tried.status_code,
            latency_ms: tried.latency_ms,
            error: tried.error.clone(),
        };
        let attempted_id = append_caused(&mut tx, call_id, chain.clone(), attempted).await?;
        let correlation = chain.map_or_else(|| attempted_id.clone(), |c| c.correlation_id);
        let after_attempt = Some(Cause::following(correlation, attempted_id));
        let now = now_millis();
        if outcome.succeeded() {
            repo::finish_attempt(&mut tx, call_id, "succeeded", tried, None, now).await?;
            let done =
                event::CallSucceeded { call_id: call_id.clone(), attempts: attempt, status_code: tried.status_code };
            append_caused(&mut tx, call_id, after_attempt, done).await?;
        } else if outcome.retryable && attempt < i64::from(self.policy.max_attempts) {
            let due = now + self.backoff(attempt).as_millis() as i64;
            repo::finish_attempt(&mut tx, call_id, "scheduled", tried, Some(due), now).await?;
            let payload = AttemptDue { call_id: call_id.clone() };
            timers::schedule(&mut tx, &timer_key(call_id, attempt + 1), TIMER_KIND, due, &payload).await?;
        } else {
            repo::finish_attempt(&mut tx, call_id, "failed", tried, None, now).await?;
            let failed = event::CallFailed {
                call_id: call_id.clone(),
                attempts: attempt,
                status_code: tried.status_code,
                error: tried.error.clone(),
            };
            append_caused(&mut tx, call_id, after_attempt, failed).await?;
        }
        tx.commit().await?;
        let result = if outcome.succeeded() {
            "succeeded"
        } else if outcome.retryable {
            "retryable"
        } else {
            "failed"
        };
        metrics::counter!("heirloom_call_attempts_total", "result" => result).increment(1);
        tracing::info!(call_id = %call_id, attempt, status_code = ?tried.status_code, latency_ms = tried.latency_ms,
            succeeded = outcome.succeeded(), "call attempted");
        Ok(())
    }

    fn backoff(&self, attempt: i64) -> Duration {
        let factor = 1u32 << attempt.clamp(1, 10).saturating_sub(1);
        (self.policy.first_backoff * factor).min(Duration::from_secs(600))
    }

    async fn execute(&self, row: &CallRow, attempt: i64) -> Outcome {
        let started_at = now_millis();
        let clock = Instant::now();
        let finish = |status_code: Option<i64>, error: Option<String>, response_snippet: String, retryable: bool| {
            let latency_ms = clock.elapsed().as_millis() as i64;
            let attempt = CallAttemptView { attempt, started_at, latency_ms, status_code, error, response_snippet };
            Outcome { attempt, retryable }
        };
        let request = match self.request(row) {
            Ok(request) => request,
            Err(err) => return finish(None, Some(err), String::new(), false),
        };
        match request.send().await {
            Err(err) => {
                let refused_by_guard = error_chain(&err).contains("private or reserved");
                let retryable = !refused_by_guard && (err.is_timeout() || err.is_connect() || err.is_request());
                finish(None, Some(error_chain(&err)), String::new(), retryable)
            }
            Ok(response) => {
                let status = response.status();
                let snippet = read_snippet(response).await;
                let error = (!status.is_success()).then(|| format!("HTTP {status}"));
                finish(Some(i64::from(status.as_u16())), error, snippet, status.is_server_error())
            }
        }
    }

    fn request(&self, row: &CallRow) -> std::result::Result<reqwest::RequestBuilder, String> {
        let call = &row.call;
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.client.request(method, &call.url).header("idempotency-key", call.id.as_str());
        let shown: BTreeMap<String, String> = serde_json::from_str(&row.headers).unwrap_or_default();
        for (name, value) in shown.iter().filter(|(_, v)| v.as_str() != REDACTED) {
            request = request.header(name, value);
        }
        if let Some(sealed) = &row.sealed_headers {
            let opened = self.vault.open(sealed).map_err(|e| e.to_string())?;
            let secrets: BTreeMap<String, String> = serde_json::from_str(&opened).map_err(|e| e.to_string())?;
            for (name, value) in secrets {
                request = request.header(name, value);
            }
        }
        if !row.body.is_empty() {
            request = request.body(row.body.clone());
        }
        Ok(request)
    }

    /// The call submitted with `idempotency_key`, if there is one.
    pub async fn by_key(&self, idempotency_key: &str) -> Result<Option<CallView>> {
        Ok(repo::by_key(&self.db, idempotency_key).await?.map(|row| row.view()))
    }

    pub async fn detail(&self, id: &CallId) -> Result<CallDetail> {
        let row = repo::by_id(&self.db, id).await?.ok_or(Error::NotFound { what: "call" })?;
        let attempts = repo::attempts(&self.db, id).await?;
        let chain = match &row.call.correlation_id {
            Some(correlation_id) => Some(events::chain(&self.db, correlation_id).await?),
            None => None,
        };
        Ok(CallDetail { body: row.body.clone(), call: row.view(), attempts, chain })
    }

    pub async fn list(&self, filter: &CallFilter) -> Result<CallPage> {
        let mut problems = Problems::default();
        let limit = filter.limit.unwrap_or(25);
        if !(1..=PAGE_MAX).contains(&limit) {
            problems.add("limit", format!("must be between 1 and {PAGE_MAX}"));
        }
        let status = given(&filter.status);
        if status.is_some_and(|status| CallStatus::parse(status).is_none()) {
            problems.add("status", "must be scheduled, running, succeeded or failed");
        }
        // 0 meant "no bound" before these were options, and still does for clients that send it.
        let (from, to) = (filter.from.filter(|&ms| ms != 0), filter.to.filter(|&ms| ms != 0));
        if from.is_some_and(|ms| ms < 0)
            || to.is_some_and(|ms| ms < 0)
            || matches!((from, to), (Some(f), Some(t)) if t <= f)
        {
            problems.add("to", "must be after from (both unix milliseconds)");
        }
        let after = parse_cursor(&mut problems, filter.cursor.as_deref());
        problems.into_result()?;
        let query = repo::ListQuery {
            status,
            target: given(&filter.target),
            source: given(&filter.source),
            from,
            to,
            after,
            limit: limit + 1,
        };
        let mut rows = repo::list(&self.db, &query).await?;
        let next_cursor = keyset_page(&mut rows, limit, |r| (r.call.created_at, r.call.id.as_str()));
        Ok(CallPage { items: rows.iter().map(CallRow::view).collect(), next_cursor })
    }
}

/// A filter's text, trimmed; `None` when absent or blank.
fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

fn replay(existing: CallRow, hash: &str) -> Result<CallSubmitted> {
    if existing.request_hash != hash {
        return Err(Error::conflict(
            ErrorCode::IdempotencyKeyReused,
            "this idempotency key was already used for a different call; use a new key for a new call",
        ));
    }
    Ok(CallSubmitted { call: existing.view(), created: false })
}

fn timer_key(call_id: &str, attempt: i64) -> String {
    format!("call:{call_id}:{attempt}")
}

fn request_hash(method: &str, url: &str, headers: &BTreeMap<String, String>, body: &str) -> String {
    let mut hasher = Blake2s256::new();
    for part in [method, url, &serde_json::to_string(headers).unwrap_or_default(), body] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends a call's event as caused by `cause` (the call's previous event), or with a
/// correlation of its own when there is none.
async fn append_caused<P: EventPayload>(
    tx: &mut Tx,
    call_id: &str,
    cause: Option<Cause>,
    payload: P,
) -> Result<String> {
    let append = events::append(tx, Event::of(call_id, None, payload));
    match cause {
        Some(cause) => events::cause::within(cause, append).await,
        None => append.await,
    }
}

/// The error and its causes on one line ("error sending request: … : connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// At most [`SNIPPET_BYTES`] of the body, read no further than that.
async fn read_snippet(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < SNIPPET_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(SNIPPET_BYTES);
    // Truncation may split a character; lossy decoding marks it, and popping keeps the limit.
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    while text.len() > SNIPPET_BYTES {
        text.pop();
    }
    text
}

/// The payload of a [`TIMER_KIND`] timer: the call whose next attempt is due.
#[derive(serde::Serialize, serde::Deserialize)]
struct AttemptDue {
    call_id: CallId,
}

/// Fires a call's attempt when its timer is due.
pub struct CallTimer(pub Arc<Calls>);

#[async_trait]
impl TimerHandler for CallTimer {
    fn kind(&self) -> &str {
        TIMER_KIND
    }

    async fn fire(&self, payload: &str) -> Result<()> {
        let due: AttemptDue = timers::read_payload(TIMER_KIND, payload)?;
        self.0.attempt(&due.call_id).await
    }
}
