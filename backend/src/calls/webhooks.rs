//! Webhooks: endpoints an admin registers for event types. The webhook consumer turns
//! each matching event into an outbound call (idempotency key = webhook + event, so a
//! redelivered event makes no second call), signed with the endpoint's secret:
//! `X-Heirloom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use types::events::{Envelope, EventType};
use types::{CallInput, WebhookCreated, WebhookId, WebhookInput, WebhookView};

use crate::args;
use crate::calls::Calls;
use crate::db::Db;
use crate::error::{Context, Error, Result};
use crate::events::cause::{self, Cause};
use crate::events::Consumer;
use crate::time::{new_id, now_millis};
use crate::validate::Problems;
use crate::vault::Vault;

const MAX_EVENT_TYPES: usize = 50;

#[derive(Debug, Clone, sqlx::FromRow)]
struct WebhookRow {
    id: WebhookId,
    url: String,
    event_types: String,
    sealed_secret: String,
    description: String,
    active: i64,
    created_at: i64,
}

impl WebhookRow {
    fn view(&self) -> WebhookView {
        WebhookView {
            id: self.id.clone(),
            url: self.url.clone(),
            event_types: self.event_types.split(',').map(str::to_string).collect(),
            description: self.description.clone(),
            active: self.active != 0,
            created_at: self.created_at,
        }
    }

    /// A hook for `*` also gets events of types this version does not know.
    fn wants(&self, event_type: &EventType) -> bool {
        self.active != 0 && self.event_types.split(',').any(|t| t == "*" || t == event_type.as_str())
    }
}

const COLUMNS: &str = "id, url, event_types, sealed_secret, description, active, created_at";

pub struct Webhooks {
    db: Db,
    vault: Arc<Vault>,
    calls: Arc<Calls>,
}

impl Webhooks {
    pub fn new(db: Db, vault: Arc<Vault>, calls: Arc<Calls>) -> Webhooks {
        Webhooks { db, vault, calls }
    }

    /// Registers an endpoint; the returned secret is shown this once.
    pub async fn create(&self, admin_id: &str, input: &WebhookInput) -> Result<WebhookCreated> {
        let mut problems = Problems::default();
        // The same URL rules as any outbound call, SSRF guard included.
        let probe = CallInput {
            method: "POST".into(),
            url: input.url.clone(),
            idempotency_key: "probe".into(),
            ..Default::default()
        };
        if let Err(Error::Invalid(fields)) = self.calls.validate(&probe) {
            fields.into_iter().filter(|f| f.field == "url").for_each(|f| problems.add("url", f.message));
        }
        let mut types: Vec<String> =
            input.event_types.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        types.sort();
        types.dedup();
        if types.is_empty() {
            problems.add("event_types", "name at least one event type, or * for all");
        } else if types.len() > MAX_EVENT_TYPES {
            problems.add("event_types", format!("at most {MAX_EVENT_TYPES}"));
        } else {
            types
                .iter()
                .filter(|t| *t != "*")
                .filter_map(|t| EventType::parse_known(t).err())
                .for_each(|refused| problems.add("event_types", refused));
        }
        let description = crate::validate::line(&mut problems, "description", &input.description, false, 200);
        problems.into_result()?;
        let mut secret_bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut secret_bytes);
        let secret = format!("whsec_{}", secret_bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let row = WebhookRow {
            id: WebhookId::new(new_id()),
            url: input.url.trim().to_string(),
            event_types: types.join(","),
            sealed_secret: self.vault.seal(&secret),
            description,
            active: 1,
            created_at: now_millis(),
        };
        let sql = "INSERT INTO webhooks (id, url, event_types, sealed_secret, description, active, created_by, \
                   created_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)";
        let r = &row;
        let args = args![&r.id, &r.url, &r.event_types, &r.sealed_secret, &r.description, admin_id, r.created_at];
        self.db.execute(sql, args).await?;
        tracing::info!(webhook_id = %row.id, url = %row.url, "webhook registered");
        Ok(WebhookCreated { webhook: row.view(), secret })
    }

    pub async fn list(&self) -> Result<Vec<WebhookView>> {
        Ok(self.rows().await?.iter().map(WebhookRow::view).collect())
    }

    async fn rows(&self) -> Result<Vec<WebhookRow>> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at DESC, id DESC");
        self.db.fetch_all(&sql, args![]).await
    }

    pub async fn delete(&self, id: &WebhookId) -> Result<()> {
        let sql = "DELETE FROM webhooks WHERE id = $1";
        if self.db.execute(sql, args![id]).await? == 0 {
            return Err(Error::NotFound { what: "webhook" });
        }
        Ok(())
    }

    async fn deliver(&self, event: &Envelope) -> Result<()> {
        self.deliver_to(&self.rows().await?, event).await
    }

    /// Queues a signed call of `event` to each of `hooks` that wants it (idempotent: the
    /// call's key is the hook and the event).
    async fn deliver_to(&self, hooks: &[WebhookRow], event: &Envelope) -> Result<()> {
        for hook in hooks.iter().filter(|h| h.wants(&event.event_type)) {
            let secret = self.vault.open(&hook.sealed_secret)?;
            let body = serde_json::to_string(event).context("encoding a webhook body")?;
            let timestamp = event.occurred_at / 1000;
            let mut headers = std::collections::BTreeMap::new();
            headers.insert("content-type".to_string(), "application/json".to_string());
            headers.insert("x-heirloom-event".to_string(), event.event_type.to_string());
            headers.insert("x-heirloom-delivery".to_string(), event.message_id.clone());
            headers.insert("x-heirloom-signature".to_string(), signature(&secret, timestamp, &body));
            let input = CallInput {
                method: "POST".into(),
                url: hook.url.clone(),
                headers,
                body,
                due_at: None,
                idempotency_key: format!("webhook:{}:{}", hook.id, event.message_id),
            };
            self.calls.submit(None, &format!("webhook:{}", hook.id), &input).await?;
        }
        Ok(())
    }
}

/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the receiver
/// recomputes it and rejects old timestamps, so a captured delivery cannot be replayed.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    #[allow(clippy::expect_used)] // HMAC accepts keys of any length; new_from_slice cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={digest}")
}

/// The event consumer that sends webhooks.
pub struct WebhookConsumer(pub Arc<Webhooks>);

#[async_trait]
impl Consumer for WebhookConsumer {
    fn name(&self) -> &str {
        "webhooks"
    }

    /// Everything but the calls' own events, which would otherwise feed back into calls.
    fn wants(&self, event_type: &EventType) -> bool {
        !event_type.is_call_event()
    }

    async fn handle(&self, event: &Envelope) -> Result<()> {
        self.0.deliver(event).await
    }

    /// The hooks are read once for the whole batch (most events want none).
    async fn handle_many(&self, events: &[&Envelope]) -> Result<bool> {
        let hooks = self.0.rows().await?;
        for event in events {
            cause::within(Cause::handling(event), self.0.deliver_to(&hooks, event)).await?;
        }
        Ok(true)
    }
}
