//! The mailer: queues composed emails (sealed, with an `EmailQueued` event in the
//! caller's transaction, so an email exists exactly when what caused it committed) and
//! sends each over SMTP when its event is handled. A send claims the row first, so a
//! redelivered event or a second replica does not send it again; a failed send is
//! queued again and the event retried (then parked, for an administrator to see).

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use types::events::{EmailQueued, EventType};
use types::{EmailId, ErrorCode};

use crate::config::Config;
use crate::db::{Db, Tx};
use crate::email::compose::Composed;
use crate::email::repo;
use crate::error::{Context, Error, Result};
use crate::events::{self, Consumer, Event, OnEvent};
use crate::time::{new_id, now_millis};
use crate::vault::Vault;

/// How long a sender holds an email before another may take it over.
const LEASE_MS: i64 = 5 * 60_000;

pub struct Mailer {
    db: Db,
    vault: Arc<Vault>,
    from: Mailbox,
    /// `None` without `smtp_url`: nothing is queued then.
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Mailer {
    pub fn from_config(config: &Config, db: Db, vault: Arc<Vault>) -> Result<Mailer> {
        let config_error = |key: &str, message: String| Error::Config { key: key.into(), message };
        let from = config.email_from.parse::<Mailbox>().map_err(|e| config_error("email_from", e.to_string()))?;
        let transport = match &config.smtp_url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| config_error("smtp_url", e.to_string()))?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
        };
        Ok(Mailer { db, vault, from, transport })
    }

    /// Whether this instance sends email (`smtp_url` is set).
    pub fn enabled(&self) -> bool {
        self.transport.is_some()
    }

    /// The refusal of an operation that needs email on an instance without it.
    pub fn not_configured() -> Error {
        Error::conflict(
            ErrorCode::EmailNotConfigured,
            "This server cannot send email: its administrator has not set up a mail server.",
        )
    }

    /// Queues `mail` of `kind` for `to` in `tx`; it is sent once `tx` commits.
    pub async fn queue(&self, tx: &mut Tx, to: &str, kind: &str, mail: &Composed) -> Result<EmailId> {
        if !self.enabled() {
            return Err(Self::not_configured());
        }
        if to.parse::<lettre::Address>().is_err() {
            return Err(Error::invalid("email", "must be an email address such as ann@example.org"));
        }
        let body = serde_json::to_string(mail).context("encoding a queued email")?;
        let id = EmailId::new(new_id());
        let sealed_body = self.vault.seal(&body);
        repo::insert(tx, &id, to, kind, &mail.subject, &sealed_body).await?;
        let queued = EmailQueued { email_id: id.clone(), kind: kind.to_string() };
        events::append(tx, Event::of(&id, None, queued)).await?;
        Ok(id)
    }

    /// Sends the queued email `id` unless it was sent already. While another sender holds
    /// it, this fails, so the event is tried again later rather than counted as handled
    /// (that sender may die before it sends).
    pub async fn deliver(&self, id: &EmailId) -> Result<()> {
        let now = now_millis();
        let Some(row) = repo::claim(&self.db, id, now, now + LEASE_MS).await? else {
            return match repo::status(&self.db, id).await?.as_deref() {
                Some("sending") => Err(Error::Unavailable("another sender is sending this email".into())),
                _ => Ok(()),
            };
        };
        let Some(transport) = &self.transport else {
            repo::mark_failed(&self.db, id, "no mail server is configured").await?;
            return Err(Error::Unavailable("no mail server is configured (smtp_url)".into()));
        };
        let sealed = row.sealed_body.as_deref().unwrap_or_default();
        let mail: Composed = serde_json::from_str(&self.vault.open(sealed)?).context("reading a queued email")?;
        let message = self.message(id, &row.to_address, mail)?;
        match transport.send(message).await {
            Ok(_) => {
                repo::mark_sent(&self.db, id, now_millis()).await?;
                tracing::info!(email_id = %id, kind = %row.kind, attempt = row.attempts, "email sent");
                Ok(())
            }
            Err(err) => {
                repo::mark_failed(&self.db, id, &err.to_string()).await?;
                Err(Error::Unavailable(format!("the mail server did not take the email: {err}")))
            }
        }
    }

    fn message(&self, id: &EmailId, to: &str, mail: Composed) -> Result<Message> {
        let to = to.parse::<Mailbox>().map_err(|e| Error::internal("reading a queued email's address", e))?;
        // One id per queued email: a receiver that sees it twice (a send whose answer was
        // lost) can tell it is the same message.
        let domain = self.from.email.domain().to_string();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<{id}@{domain}>")));
        if let Some(url) = &mail.unsubscribe {
            // RFC 8058: a mail client's "unsubscribe" posts to the link, no page needed.
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_string(),
                ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .map_err(|e| Error::internal("building an email", e))
    }
}

/// Sends each queued email when its `EmailQueued` event arrives.
pub fn consumer(mailer: Arc<Mailer>) -> impl Consumer {
    let send = |mailer: Arc<Mailer>, queued: EmailQueued| async move { mailer.deliver(&queued.email_id).await };
    OnEvent::new("mailer", &[EventType::EmailQueued], mailer, send)
}
