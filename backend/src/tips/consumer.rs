//! The tips consumer: reads `TipFeedback` events from the outbox, counts them into the
//! recommender's statistics (once per feedback, however often the event is delivered)
//! and makes sure a task marked done is being completed at its provider.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use types::events::Envelope;
use types::{TipAction, TipId, TipKind};

use crate::events::Consumer;
use crate::tips::Tips;

#[derive(Deserialize)]
struct Feedback {
    feedback_id: String,
    tip_id: String,
    user_id: String,
    action: TipAction,
    kind: String,
    #[serde(default)]
    arm: String,
}

pub struct TipsConsumer(pub Arc<Tips>);

#[async_trait]
impl Consumer for TipsConsumer {
    fn name(&self) -> &str {
        "tips"
    }

    fn wants(&self, event_type: &str) -> bool {
        event_type == "TipFeedback"
    }

    async fn handle(&self, event: &Envelope) -> std::result::Result<(), String> {
        let feedback: Feedback =
            serde_json::from_value(event.payload.clone()).map_err(|e| format!("TipFeedback payload: {e}"))?;
        self.0
            .learn(&feedback.feedback_id, &feedback.user_id, feedback.action, &feedback.arm)
            .await
            .map_err(|e| e.to_string())?;
        if feedback.action == TipAction::Done && feedback.kind == TipKind::Todo.as_str() {
            if let Some(tip) =
                self.0.tip_row(&TipId::from(feedback.tip_id.as_str())).await.map_err(|e| e.to_string())?
            {
                self.0.ensure_completion(&tip).await.map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}
