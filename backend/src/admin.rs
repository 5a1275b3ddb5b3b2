//! What only an instance administrator may do, across capabilities: see and submit
//! outbound calls, manage webhooks, rebuild the search index, and see, retry or discard
//! the events a consumer gave up on. Every operation checks the role first, so a handler
//! cannot reach one without it.

use std::sync::Arc;

use types::{DeadLetterView, ReindexReport};

use crate::calls::{Calls, Webhooks};
use crate::db::Db;
use crate::error::{Context, Error, Result};
use crate::events::{consumer, Consumer, Delivered, RetryPolicy};
use crate::identity::User;
use crate::search::Search;

pub struct Admin {
    db: Db,
    calls: Arc<Calls>,
    webhooks: Arc<Webhooks>,
    search: Arc<Search>,
    /// This process's consumers, to hand a parked event back to.
    consumers: Vec<Arc<dyn Consumer>>,
}

impl Admin {
    pub fn new(
        db: Db,
        calls: Arc<Calls>,
        webhooks: Arc<Webhooks>,
        search: Arc<Search>,
        consumers: Vec<Arc<dyn Consumer>>,
    ) -> Admin {
        Admin { db, calls, webhooks, search, consumers }
    }

    /// Every event consumer of this process.
    pub fn consumers(&self) -> &[Arc<dyn Consumer>] {
        &self.consumers
    }

    /// The outbound-call executor, for an administrator (the delivery log, ad-hoc calls).
    pub fn calls(&self, user: &User) -> Result<&Calls> {
        user.require_admin("see or submit outbound calls")?;
        Ok(&self.calls)
    }

    /// Webhook endpoints, for an administrator.
    pub fn webhooks(&self, user: &User) -> Result<&Webhooks> {
        user.require_admin("manage webhooks")?;
        Ok(&self.webhooks)
    }

    /// Rebuilds this process's search index from the database into a new generation and
    /// switches to it (an administrator's request; searches keep answering meanwhile).
    /// The rebuild runs on its own task, so it finishes even if the request is dropped.
    pub async fn reindex(&self, user: &User) -> Result<ReindexReport> {
        user.require_admin("rebuild the search index")?;
        let search = self.search.clone();
        let started = std::time::Instant::now();
        let report =
            tokio::spawn(async move { search.rebuild().await }).await.context("rebuilding the search index")??;
        let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(ReindexReport { generation: report.generation, stories: report.stories, legacies: report.legacies, took_ms })
    }

    /// Events a consumer gave up on, newest first, for an administrator.
    pub async fn dead_letters(&self, user: &User) -> Result<Vec<DeadLetterView>> {
        user.require_admin("see failed events")?;
        consumer::dead_letters(&self.db).await
    }

    /// Drops a parked event for good (an administrator decided it does not matter).
    pub async fn discard_dead_letter(&self, user: &User, consumer: &str, message_id: &str) -> Result<()> {
        user.require_admin("discard failed events")?;
        consumer::remove_dead_letter(&self.db, consumer, message_id).await
    }

    /// Hands a parked event to its consumer again, now.
    pub async fn retry_dead_letter(&self, user: &User, consumer: &str, message_id: &str) -> Result<Delivered> {
        user.require_admin("retry failed events")?;
        let handler =
            self.consumers.iter().find(|c| c.name() == consumer).ok_or(Error::NotFound { what: "consumer" })?;
        let event = consumer::take_dead_letter(&self.db, consumer, message_id).await?;
        consumer::deliver(&self.db, handler.as_ref(), &event, RetryPolicy::default()).await
    }
}
