//! The tips service: connecting apps (OAuth state, sealed tokens, syncs with limits and
//! retries), recommending one tip (sources → cool-downs → the configured policy), and
//! feedback (one outcome per tip, a `TipFeedback` event, and for a connected app's task
//! the outbound call that completes it there).

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use tracing::Instrument;
use types::{
    ConnectorView, ErrorCode, FeedbackResult, RecommendInput, SessionId, SyncStatus, Tip, TipAction, TipCompletion,
    TipId, TipKind, UserId,
};

use crate::calls::Calls;
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::{Context as _, Error, Result};
use crate::events::{self, Event};
use crate::identity::service::{hash_token, random_token};
use crate::identity::User;
use crate::media::Media;
use crate::time::{new_id, now_millis};
use crate::tips::connector::{Connector, ConnectorItem, Credential, FetchError};
use crate::tips::model::{Arm, Candidate, ConnectionRow, Context, TipRow};
use crate::tips::policy::{ArmStats, Policy, PolicyFactory};
use crate::tips::todoist::{Todoist, TodoistSettings};
use crate::tips::{repo, sources};
use crate::vault::Vault;
use types::events::{ConnectorConnected, ConnectorDisconnected, EventPayload, TipFeedback, TipRecommended};

/// How long a connect attempt may take at the provider.
const OAUTH_STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// A skipped candidate rests this long; a done task, draft or photo this long.
const SKIP_COOL_DOWN_MS: i64 = 12 * 3600 * 1000;
const DONE_COOL_DOWN_MS: i64 = 24 * 3600 * 1000;
/// A tip asked for again within this time without feedback is not repeated.
const REPEAT_WINDOW_MS: i64 = 30 * 60 * 1000;
/// How long the home page keeps offering the same unanswered tip.
pub const CURRENT_TIP_MS: i64 = 30 * 60 * 1000;
const MAX_KEY_CHARS: usize = 200;
/// How long a tip request waits for connected apps' fetches before answering from the
/// tasks already known (a slow provider must not make the tip page slow).
const SYNC_BUDGET: Duration = Duration::from_secs(4);
/// Connect attempts one user may have open at once.
const MAX_OPEN_STATES: i64 = 10;

type KeyedLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// What the tips service takes from the configuration.
#[derive(Debug, Clone)]
pub struct TipsSettings {
    pub policy: String,
    /// Connected apps' tasks older than this are fetched again when a tip is asked for.
    pub sync_interval: Duration,
    /// Fetches per user per connector per minute.
    pub fetches_per_minute: u32,
}

impl TipsSettings {
    pub fn from_config(config: &Config) -> TipsSettings {
        TipsSettings {
            policy: config.tips_policy.clone(),
            sync_interval: Duration::from_secs(config.tips_sync_interval_secs),
            fetches_per_minute: config.connector_fetches_per_minute,
        }
    }
}

pub struct Tips {
    db: Db,
    vault: Arc<Vault>,
    calls: Arc<Calls>,
    media: Arc<Media>,
    connectors: Vec<Arc<dyn Connector>>,
    /// One per connector, keyed by user (a provider counts requests per user token).
    limiters: HashMap<&'static str, KeyedLimiter>,
    policy: Arc<dyn Policy>,
    settings: TipsSettings,
    rng: Mutex<StdRng>,
}

impl Tips {
    pub fn new(
        db: Db,
        vault: Arc<Vault>,
        calls: Arc<Calls>,
        media: Arc<Media>,
        connectors: Vec<Arc<dyn Connector>>,
        settings: TipsSettings,
    ) -> Result<Tips> {
        let policy = PolicyFactory::get(&settings.policy).ok_or_else(|| Error::Config {
            key: "tips_policy".into(),
            message: format!("`{}` is not a policy; use one of {}", settings.policy, PolicyFactory::NAMES.join(", ")),
        })?;
        let quota = Quota::per_minute(NonZeroU32::new(settings.fetches_per_minute).unwrap_or(NonZeroU32::MIN));
        let limiters = connectors.iter().map(|c| (c.name(), RateLimiter::keyed(quota))).collect();
        Ok(Tips {
            db,
            vault,
            calls,
            media,
            connectors,
            limiters,
            policy,
            settings,
            rng: Mutex::new(StdRng::from_entropy()),
        })
    }

    /// The service with the connectors the configuration sets up (Todoist).
    pub fn from_config(
        config: &Config,
        db: Db,
        vault: Arc<Vault>,
        calls: Arc<Calls>,
        media: Arc<Media>,
    ) -> Result<Tips> {
        let todoist: Arc<dyn Connector> = Arc::new(Todoist::new(TodoistSettings::from_config(config)));
        Tips::new(db, vault, calls, media, vec![todoist], TipsSettings::from_config(config))
    }

    /// Makes the policy's choices reproducible (tests, the bench).
    pub fn reseed(&self, seed: u64) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = StdRng::seed_from_u64(seed);
    }

    pub fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    fn connector(&self, name: &str) -> Result<&Arc<dyn Connector>> {
        self.connectors.iter().find(|c| c.name() == name).ok_or(Error::NotFound { what: "connector" })
    }

    fn enabled_connector(&self, name: &str) -> Result<&Arc<dyn Connector>> {
        let connector = self.connector(name)?;
        if !connector.enabled() {
            return Err(Error::conflict(
                ErrorCode::ConnectorNotConfigured,
                format!(
                    "{} is not set up on this instance; an administrator must configure it first.",
                    connector.display_name()
                ),
            ));
        }
        Ok(connector)
    }

    // ---- connectors ----

    /// Every connector, with this user's connection to it.
    pub async fn connectors(&self, user: &User) -> Result<Vec<ConnectorView>> {
        let rows = repo::connections_of(&self.db, &user.id).await?;
        Ok(self
            .connectors
            .iter()
            .map(|connector| view(connector.as_ref(), rows.iter().find(|r| r.connector == connector.name())))
            .collect())
    }

    pub async fn connector_view(&self, user: &User, name: &str) -> Result<ConnectorView> {
        let connector = self.connector(name)?;
        let row = repo::connection(&self.db, &user.id, name).await?;
        Ok(view(connector.as_ref(), row.as_ref()))
    }

    /// Starts connecting: remembers a fresh state (hashed, bound to this user and
    /// session, for ten minutes) and returns the provider's authorization URL.
    pub async fn begin_oauth(&self, user: &User, session_id: &SessionId, name: &str) -> Result<url::Url> {
        let connector = self.enabled_connector(name)?;
        let now = now_millis();
        if repo::open_states(&self.db, &user.id, now).await? >= MAX_OPEN_STATES {
            return Err(Error::RateLimited { retry_after_secs: (OAUTH_STATE_TTL_MS / 1000) as u64 });
        }
        let state = random_token();
        let url = connector.begin_oauth(&state)?;
        let attempt = repo::NewOAuthState {
            state_hash: &hash_token(&state),
            user_id: &user.id,
            session_id,
            connector: name,
            expires_at: now + OAUTH_STATE_TTL_MS,
        };
        repo::insert_state(&self.db, &attempt, now).await?;
        tracing::info!(connector = name, user_id = %user.id, "connector authorization started");
        Ok(url)
    }

    /// Finishes connecting: the state must be one this user's session started for this
    /// connector, unused and unexpired; then the code is exchanged and the credential
    /// sealed. Anything amiss stores nothing.
    pub async fn finish_oauth(
        &self,
        user: &User,
        session_id: &SessionId,
        name: &str,
        code: &str,
        state: &str,
    ) -> Result<ConnectorView> {
        let connector = self.enabled_connector(name)?;
        let refused = || {
            Error::forbidden(
                ErrorCode::ConnectionAttemptInvalid,
                "This connection attempt is not valid: it expired or was started elsewhere. Start again from the \
                 connect page.",
            )
        };
        if state.is_empty() || state.len() > 200 {
            return Err(refused());
        }
        let Some(pending) = repo::take_state(&self.db, &hash_token(state)).await? else {
            tracing::warn!(connector = name, user_id = %user.id, "unknown OAuth state refused");
            return Err(refused());
        };
        let now = now_millis();
        if pending.connector != name || pending.user_id != user.id || &pending.session_id != session_id {
            tracing::warn!(connector = name, user_id = %user.id, "OAuth state of another session refused");
            return Err(refused());
        }
        if pending.expires_at < now {
            tracing::info!(connector = name, user_id = %user.id, "expired OAuth state refused");
            return Err(refused());
        }
        if code.trim().is_empty() || code.len() > 2000 {
            return Err(Error::invalid("code", "the provider sent no usable authorization code"));
        }
        let span = tracing::info_span!("tips.connect", connector = name);
        let credential = connector.finish_oauth(code.trim()).instrument(span).await?;
        let sealed = self.vault.seal(&serde_json::to_string(&credential).context("encoding a connector credential")?);
        let mut tx = self.db.begin().await?;
        repo::connect_tx(&mut tx, &user.id, name, &sealed, now).await?;
        let connected = ConnectorConnected { connector: name.to_string(), user_id: user.id.clone() };
        append(&mut tx, &connection_id(name, &user.id), Some(&user.id), connected).await?;
        tx.commit().await?;
        tracing::info!(connector = name, user_id = %user.id, "connector connected");
        self.connector_view(user, name).await
    }

    /// Forgets the user's token and fetched tasks (204 whether or not it was connected).
    /// Forgets the user's token for `name` and its tasks; returns the connector's display
    /// name (for the page to say what was disconnected).
    pub async fn disconnect(&self, user: &User, name: &str) -> Result<&'static str> {
        let display_name = self.connector(name)?.display_name();
        let mut tx = self.db.begin().await?;
        if repo::disconnect_tx(&mut tx, &user.id, name, None, now_millis()).await? {
            let disconnected =
                ConnectorDisconnected { connector: name.to_string(), user_id: user.id.clone(), reason: "user".into() };
            append(&mut tx, &connection_id(name, &user.id), Some(&user.id), disconnected).await?;
        }
        tx.commit().await?;
        tracing::info!(connector = name, user_id = %user.id, "connector disconnected");
        Ok(display_name)
    }

    /// Fetches the user's tasks from `name` now (the connect page's "sync now").
    pub async fn sync(&self, user: &User, name: &str) -> Result<ConnectorView> {
        let connector = self.connector(name)?.clone();
        let row =
            repo::connection(&self.db, &user.id, name).await?.filter(ConnectionRow::connected).ok_or_else(|| {
                Error::conflict(
                    ErrorCode::ConnectorNotConnected,
                    format!("{} is not connected.", connector.display_name()),
                )
            })?;
        self.check_fetch_budget(name, &user.id)?;
        self.sync_connection(connector.as_ref(), &row).await?;
        self.connector_view(user, name).await
    }

    fn check_fetch_budget(&self, name: &str, user_id: &str) -> Result<()> {
        let Some(limiter) = self.limiters.get(name) else { return Ok(()) };
        limiter.check_key(&user_id.to_string()).map_err(|until| Error::RateLimited {
            retry_after_secs: until.wait_time_from(DefaultClock::default().now()).as_secs() + 1,
        })
    }

    /// One fetch: new tasks replace the old on success; a refused credential ends the
    /// connection with a reason the user sees; other failures are recorded and kept.
    async fn sync_connection(&self, connector: &dyn Connector, row: &ConnectionRow) -> Result<()> {
        let name = connector.name();
        let Some(sealed) = &row.sealed_credential else { return Ok(()) };
        let credential: Credential =
            serde_json::from_str(&self.vault.open(sealed)?).context("decoding a stored connector credential")?;
        let since = row.last_sync_at;
        let span = tracing::info_span!("tips.sync", connector = name, user_id = %row.user_id);
        let fetched = connector.fetch_signals(&credential, since).instrument(span).await;
        let now = now_millis();
        match fetched {
            Ok(items) => {
                let mut tx = self.db.begin().await?;
                repo::replace_items_tx(&mut tx, &row.user_id, name, &items, now).await?;
                tx.commit().await?;
                tracing::info!(connector = name, user_id = %row.user_id, items = items.len(), "connector synced");
            }
            Err(FetchError::Unauthorized(reason)) => {
                let mut tx = self.db.begin().await?;
                if repo::disconnect_tx(&mut tx, &row.user_id, name, Some(&reason), now).await? {
                    let disconnected = ConnectorDisconnected {
                        connector: name.to_string(),
                        user_id: row.user_id.clone(),
                        reason: "refused by provider".into(),
                    };
                    append(&mut tx, &connection_id(name, &row.user_id), None, disconnected).await?;
                }
                tx.commit().await?;
                tracing::warn!(connector = name, user_id = %row.user_id, "provider refused the token; disconnected");
            }
            Err(FetchError::Failed(reason)) => {
                tracing::warn!(connector = name, user_id = %row.user_id, error = %reason, "connector sync failed");
                repo::record_sync_failure(&self.db, &row.user_id, name, &reason, now).await?;
            }
        }
        Ok(())
    }

    /// Syncs the user's connections whose tasks are older than the sync interval, within
    /// the fetch budget. Never fails the caller: a tip from what is known beats an error.
    async fn sync_stale(&self, user: &User, now: i64) {
        let rows = match repo::connections_of(&self.db, &user.id).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read connections");
                return;
            }
        };
        let interval = i64::try_from(self.settings.sync_interval.as_millis()).unwrap_or(i64::MAX);
        for row in rows.iter().filter(|r| r.connected()) {
            if row.last_sync_at.is_some_and(|at| now - at < interval) {
                continue;
            }
            let Ok(connector) = self.connector(&row.connector) else { continue };
            if self.check_fetch_budget(&row.connector, &user.id).is_err() {
                tracing::info!(connector = %row.connector, "fetch budget spent; using the tasks already known");
                continue;
            }
            if let Err(err) = self.sync_connection(connector.as_ref(), row).await {
                tracing::warn!(connector = %row.connector, error = %err, "connector sync failed");
            }
        }
    }

    // ---- recommending ----

    /// One tip for the user now: never an error for lack of candidates.
    pub async fn recommend(&self, user: &User, input: &RecommendInput) -> Result<Tip> {
        let span = tracing::info_span!("tips.recommend", user_id = %user.id, policy = self.policy.name());
        async {
            let now = now_millis();
            let context = Context::resolve(&input.context, now)?;
            if tokio::time::timeout(SYNC_BUDGET, self.sync_stale(user, now)).await.is_err() {
                tracing::warn!("connected apps are slow; answering from the tasks already known");
            }
            let candidates = sources::gather(&self.db, &self.media, user, now).await?;
            let past = repo::past_tips(&self.db, &user.id, now - REPEAT_WINDOW_MS).await?;
            let fresh = fresh(candidates, &past, now);
            let (candidate, arm) = if fresh.is_empty() {
                (nothing_to_suggest(), String::new())
            } else {
                let stats = repo::arm_stats(&self.db, &user.id).await?;
                let index = {
                    let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                    self.policy.pick(&stats, &fresh, &context, &mut *rng)
                }
                .unwrap_or(0);
                let candidate = fresh.into_iter().nth(index).unwrap_or_else(nothing_to_suggest);
                let arm = candidate.arm(context.bucket).key();
                (candidate, arm)
            };
            let mut meta = candidate.meta.clone();
            if let Some(object) = meta.as_object_mut() {
                object.insert("arm".into(), json!(arm));
                object.insert("policy".into(), json!(self.policy.name()));
            }
            let row = TipRow {
                id: TipId::new(new_id()),
                user_id: user.id.clone(),
                kind: candidate.kind.as_str().into(),
                source: candidate.source.clone(),
                candidate_key: candidate.key.clone(),
                arm,
                title: candidate.title.clone(),
                body: candidate.body.clone(),
                deep_link: candidate.deep_link.clone(),
                meta: meta.to_string(),
                policy: self.policy.name().into(),
                context: context.to_json().to_string(),
                created_at: now,
                shown_at: None,
                outcome: None,
                outcome_at: None,
            };
            let mut tx = self.db.begin().await?;
            repo::insert_tip_tx(&mut tx, &row).await?;
            let recommended = TipRecommended {
                tip_id: row.id.clone(),
                user_id: user.id.clone(),
                kind: row.kind.clone(),
                source: row.source.clone(),
                arm: row.arm.clone(),
                policy: row.policy.clone(),
                candidate_key: row.candidate_key.clone(),
            };
            append(&mut tx, &row.id, Some(&user.id), recommended).await?;
            tx.commit().await?;
            tracing::info!(tip_id = %row.id, kind = %row.kind, arm = %row.arm, "tip recommended");
            Ok(row.tip())
        }
        .instrument(span)
        .await
    }

    /// The tip to offer on a page the user comes back to often (the home page): the newest
    /// one still waiting for an answer, if it was made within [`CURRENT_TIP_MS`], else a
    /// new recommendation. Reloading the page neither makes a new tip each time nor
    /// counts as a new suggestion for the recommender to learn from.
    pub async fn current_tip(&self, user: &User, input: &RecommendInput) -> Result<Tip> {
        if let Some(waiting) = repo::latest_unanswered(&self.db, &user.id, now_millis() - CURRENT_TIP_MS).await? {
            return Ok(waiting.tip());
        }
        self.recommend(user, input).await
    }

    /// One of the user's tips that has no outcome yet (the home page's card links to
    /// it); `None` for a tip that is answered, someone else's, or unknown.
    pub async fn pending_tip(&self, user: &User, id: &TipId) -> Result<Option<Tip>> {
        Ok(repo::tip(&self.db, id)
            .await?
            .filter(|tip| tip.user_id == user.id && tip.outcome.is_none())
            .map(|tip| tip.tip()))
    }

    /// What the recommender has learned for this user (and everyone).
    pub async fn arm_stats(&self, user_id: &UserId) -> Result<ArmStats> {
        repo::arm_stats(&self.db, user_id).await
    }

    // ---- feedback ----

    /// Records feedback on the user's tip. `shown` may come any time; a tip has one
    /// outcome: repeating it changes nothing (`recorded: false`), a different one is a
    /// conflict. `done` on a connected app's task completes it there through an outbound
    /// call whose idempotency key comes from the task, so a double tap completes it once.
    pub async fn feedback(&self, user: &User, tip_id: &TipId, action: TipAction) -> Result<FeedbackResult> {
        let tip = repo::tip(&self.db, tip_id)
            .await?
            .filter(|t| t.user_id == user.id)
            .ok_or(Error::NotFound { what: "tip" })?;
        let now = now_millis();
        let feedback_id = new_id();
        let mut tx = self.db.begin().await?;
        let recorded = if action == TipAction::Shown {
            let new = repo::insert_feedback_tx(&mut tx, &feedback_id, tip_id, &user.id, action, now).await?;
            if new {
                repo::set_shown_tx(&mut tx, tip_id, now).await?;
            }
            new
        } else if repo::set_outcome_tx(&mut tx, tip_id, action, now).await? {
            repo::insert_feedback_tx(&mut tx, &feedback_id, tip_id, &user.id, action, now).await?
        } else {
            let current = repo::tip(&mut tx, tip_id).await?.and_then(|t| t.outcome).unwrap_or_default();
            if current != action.as_str() {
                return Err(Error::conflict(
                    ErrorCode::TipAlreadyAnswered,
                    format!("This tip was already marked {current}."),
                ));
            }
            false
        };
        if recorded {
            let feedback = TipFeedback {
                feedback_id: feedback_id.clone(),
                tip_id: tip_id.clone(),
                user_id: user.id.clone(),
                action,
                kind: tip.kind.clone(),
                source: tip.source.clone(),
                arm: tip.arm.clone(),
            };
            append(&mut tx, tip_id, Some(&user.id), feedback).await?;
        }
        let outcome = repo::tip(&mut tx, tip_id).await?.and_then(|t| t.outcome).and_then(|o| TipAction::parse(&o));
        tx.commit().await?;
        tracing::info!(tip_id = %tip_id, action = %action, recorded, "tip feedback");
        let completion = if action == TipAction::Done && tip.kind == TipKind::Todo.as_str() {
            // The feedback consumer makes sure of it too, should this attempt fail.
            match self.ensure_completion(&tip).await {
                Ok(completion) => completion,
                Err(err) => {
                    tracing::warn!(tip_id = %tip_id, error = %err, "completing the task failed; the consumer will retry");
                    None
                }
            }
        } else {
            None
        };
        Ok(FeedbackResult { tip_id: tip_id.clone(), action, recorded, outcome, completion })
    }

    /// Submits (or finds, on a replay) the call completing a done task at its provider.
    /// Nothing to do when the tip is not a task or the connection has ended meanwhile.
    pub async fn ensure_completion(&self, tip: &TipRow) -> Result<Option<TipCompletion>> {
        let (Some(name), Some(external_id)) = (tip.meta_str("connector"), tip.meta_str("external_id")) else {
            return Ok(None);
        };
        let connector = self.connector(&name)?;
        let Some(row) = repo::connection(&self.db, &tip.user_id, &name).await?.filter(ConnectionRow::connected) else {
            tracing::info!(tip_id = %tip.id, connector = %name, "task done while disconnected; not completed there");
            return Ok(None);
        };
        let sealed = row.sealed_credential.as_deref().unwrap_or_default();
        let credential: Credential =
            serde_json::from_str(&self.vault.open(sealed)?).context("decoding a stored connector credential")?;
        let revision = tip.meta_str("revision").unwrap_or_default();
        let item = ConnectorItem {
            external_id: external_id.clone(),
            title: tip.title.clone(),
            body: String::new(),
            url: tip.deep_link.clone(),
            due: String::new(),
            priority: 0,
            revision: revision.clone(),
        };
        let key = completion_key(&name, &tip.user_id, &external_id, &revision);
        let mut input = connector.complete(&credential, &item);
        input.idempotency_key = key.clone();
        let call = match self.calls.submit(Some(&tip.user_id), &format!("connector:{name}"), &input).await {
            Ok(submitted) => submitted.call,
            // The same task was completed before with another request (the token changed
            // since): that first call stands.
            Err(Error::Conflict(_)) => self.calls.by_key(&key).await?.ok_or(Error::NotFound { what: "call" })?,
            Err(err) => return Err(err),
        };
        repo::mark_item_completed(&self.db, &tip.user_id, &name, &external_id, now_millis()).await?;
        Ok(Some(TipCompletion { call_id: call.id, status: call.status }))
    }

    /// Counts one `TipFeedback` event into the arm statistics, once: the feedback row is
    /// marked learned in the same transaction, so a redelivered event changes nothing.
    pub async fn learn(&self, feedback_id: &str, user_id: &str, action: TipAction, arm: &str) -> Result<bool> {
        let Some(arm) = Arm::parse(arm) else { return Ok(false) };
        let now = now_millis();
        let mut tx = self.db.begin().await?;
        if !repo::claim_learning_tx(&mut tx, feedback_id, now).await? {
            return Ok(false);
        }
        for key in arm.keys() {
            repo::count_tx(&mut tx, user_id, &key, action, now).await?;
            repo::count_tx(&mut tx, "*", &key, action, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn tip_row(&self, id: &TipId) -> Result<Option<TipRow>> {
        repo::tip(&self.db, id).await
    }
}

fn view(connector: &dyn Connector, row: Option<&ConnectionRow>) -> ConnectorView {
    ConnectorView {
        name: connector.name().into(),
        display_name: connector.display_name().into(),
        enabled: connector.enabled(),
        connected: row.is_some_and(ConnectionRow::connected),
        connected_at: row.filter(|r| r.connected()).and_then(|r| r.connected_at),
        last_sync_at: row.and_then(|r| r.last_sync_at),
        last_sync_status: row.map_or(SyncStatus::Never, ConnectionRow::sync_status),
        last_error: row.and_then(|r| r.last_error.clone()),
        items: row.filter(|r| r.connected()).map_or(0, |r| r.item_count),
        connect_url: format!("/connectors/{}/connect", connector.name()),
    }
}

fn connection_id(connector: &str, user_id: &str) -> String {
    format!("{connector}:{user_id}")
}

/// The idempotency key of completing one occurrence of a task: readable in the
/// deliveries log when it fits, hashed when it would not.
pub fn completion_key(connector: &str, user_id: &str, external_id: &str, revision: &str) -> String {
    let key = format!("{connector}:complete:{user_id}:{external_id}:{revision}");
    if key.chars().count() <= MAX_KEY_CHARS && !key.chars().any(char::is_control) {
        return key;
    }
    use blake2::{Blake2s256, Digest};
    let digest = Blake2s256::new_with_prefix(key.as_bytes()).finalize();
    format!("{connector}:complete:{}", hex::encode(digest))
}

/// The friendly answer when there is nothing to suggest.
fn nothing_to_suggest() -> Candidate {
    Candidate {
        key: "advice:nothing-to-suggest".into(),
        kind: TipKind::Advice,
        source: "tips".into(),
        group: "empty".into(),
        title: "Nothing to suggest right now".into(),
        body: "You are all caught up: no drafts waiting, no photos without captions, no open tasks. Come back \
               later — or write down a memory while it is fresh."
            .into(),
        deep_link: "/legacies".into(),
        meta: json!({ "empty": true }),
        priority: 0,
    }
}

/// Drops candidates resting after feedback: dismissed ones for good, done prompts and
/// advice for good (done tasks, drafts and photos for a day: they usually vanish on
/// their own), skipped ones for twelve hours; and the tip just given without feedback,
/// unless nothing else is left.
pub fn fresh(candidates: Vec<Candidate>, past: &[repo::PastTip], now: i64) -> Vec<Candidate> {
    let mut resting: HashSet<&str> = HashSet::new();
    let mut last_unanswered: Option<&str> = None;
    for tip in past {
        let kind = candidates.iter().find(|c| c.key == tip.candidate_key).map(|c| c.kind);
        let at = tip.outcome_at.unwrap_or(tip.created_at);
        let rests = match tip.outcome.as_deref() {
            Some("dismissed") => true,
            Some("done") => matches!(kind, Some(TipKind::Prompt | TipKind::Advice)) || now - at < DONE_COOL_DOWN_MS,
            Some("skipped") => now - at < SKIP_COOL_DOWN_MS,
            _ => false,
        };
        if rests {
            resting.insert(&tip.candidate_key);
        }
        if tip.outcome.is_none() && last_unanswered.is_none() && now - tip.created_at < REPEAT_WINDOW_MS {
            last_unanswered = Some(&tip.candidate_key);
        }
    }
    let mut kept: Vec<Candidate> = candidates.into_iter().filter(|c| !resting.contains(c.key.as_str())).collect();
    if let Some(last) = last_unanswered {
        if kept.iter().any(|c| c.key != last) {
            kept.retain(|c| c.key != last);
        }
    }
    kept
}

async fn append<P: EventPayload>(tx: &mut Tx, aggregate_id: &str, actor: Option<&str>, payload: P) -> Result<()> {
    events::append(tx, Event::of(aggregate_id, actor, payload)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(key: &str, kind: TipKind) -> Candidate {
        Candidate {
            key: key.into(),
            kind,
            source: "s".into(),
            group: "g".into(),
            title: key.into(),
            body: String::new(),
            deep_link: "/".into(),
            meta: json!({}),
            priority: 0,
        }
    }

    fn past(key: &str, outcome: Option<&str>, at: i64) -> repo::PastTip {
        repo::PastTip {
            candidate_key: key.into(),
            outcome: outcome.map(str::to_string),
            outcome_at: outcome.map(|_| at),
            created_at: at,
        }
    }

    #[test]
    fn candidates_rest_after_feedback() {
        let now = 100 * 24 * 3600 * 1000;
        let hour = 3600 * 1000;
        let all = || {
            vec![
                candidate("prompt:a", TipKind::Prompt),
                candidate("prompt:b", TipKind::Prompt),
                candidate("draft:c", TipKind::Draft),
                candidate("draft:d", TipKind::Draft),
                candidate("todoist:e", TipKind::Todo),
                candidate("media:f", TipKind::Media),
            ]
        };
        let history = vec![
            past("prompt:a", Some("done"), now - 30 * 24 * hour), // done prompts rest for good
            past("prompt:b", Some("skipped"), now - 13 * hour),   // a skip rests twelve hours
            past("draft:c", Some("skipped"), now - hour),
            past("draft:d", Some("done"), now - 25 * hour), // done drafts rest a day
            past("todoist:e", Some("dismissed"), now - 300 * 24 * hour),
            past("media:f", None, now - 60_000), // just given, no answer yet
        ];
        let keys: Vec<String> = fresh(all(), &history, now).into_iter().map(|c| c.key).collect();
        assert_eq!(keys, ["prompt:b", "draft:d"]);
        // The last tip comes back when nothing else is left.
        let only = vec![candidate("media:f", TipKind::Media)];
        assert_eq!(fresh(only, &history, now).len(), 1);
    }

    #[test]
    fn completion_keys_name_the_occurrence_and_stay_short() {
        let a = completion_key("todoist", "user-1", "123", "2024-05-01");
        assert_eq!(a, "todoist:complete:user-1:123:2024-05-01");
        assert_ne!(a, completion_key("todoist", "user-1", "123", "2024-05-02"));
        let long = completion_key("todoist", "user-1", &"9".repeat(300), "");
        assert!(long.len() <= MAX_KEY_CHARS && long.starts_with("todoist:complete:"), "{long}");
    }
}
