//! The tips consumer: reads `TipFeedback` events from the outbox, counts them into the
//! recommender's statistics (once per feedback, however often the event is delivered)
//! and makes sure a task marked done is being completed at its provider.

use std::sync::Arc;

use types::events::{EventType, TipFeedback};
use types::{TipAction, TipKind};

use crate::error::Result;
use crate::events::{Consumer, OnEvent};
use crate::tips::Tips;

pub fn consumer(tips: Arc<Tips>) -> impl Consumer {
    OnEvent::new("tips", &[EventType::TipFeedback], tips, learn)
}

async fn learn(tips: Arc<Tips>, feedback: TipFeedback) -> Result<()> {
    tips.learn(&feedback.feedback_id, &feedback.user_id, feedback.action, &feedback.arm).await?;
    if feedback.action == TipAction::Done && feedback.kind == TipKind::Todo.as_str() {
        if let Some(tip) = tips.tip_row(&feedback.tip_id).await? {
            tips.ensure_completion(&tip).await?;
        }
    }
    Ok(())
}
