//! The tips consumer: reads `TipFeedback` events from the outbox, counts them into the
//! recommender's statistics (once per feedback, however often the event is delivered)
//! and makes sure a task marked done is being completed at its provider.

use std::sync::Arc;

use async_trait::async_trait;
use types::events::{Envelope, EventType, TipFeedback};
use types::{TipAction, TipKind};

use crate::error::{Context, Result};
use crate::events::Consumer;
use crate::tips::Tips;

pub struct TipsConsumer(pub Arc<Tips>);

#[async_trait]
impl Consumer for TipsConsumer {
    fn name(&self) -> &str {
        "tips"
    }

    fn wants(&self, event_type: &EventType) -> bool {
        *event_type == EventType::TipFeedback
    }

    async fn handle(&self, event: &Envelope) -> Result<()> {
        let feedback: TipFeedback = event.payload_as().context("decoding a TipFeedback payload")?;
        self.0.learn(&feedback.feedback_id, &feedback.user_id, feedback.action, &feedback.arm).await?;
        if feedback.action == TipAction::Done && feedback.kind == TipKind::Todo.as_str() {
            if let Some(tip) = self.0.tip_row(&feedback.tip_id).await? {
                self.0.ensure_completion(&tip).await?;
            }
        }
        Ok(())
    }
}
