//! What a signed-in tab is told over the live stream (`GET /api/v1/stream`): one message
//! per change it may see, named by the change's event id (the SSE id a reconnecting tab
//! sends back as `Last-Event-ID`).

use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, LegacyId, MediaId, StoryId, UserId};

/// A change as the stream tells it: what happened (`event_type`, the event's name, such as
/// `CommentAdded`), where, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    pub id: String,
    pub event_type: String,
    pub legacy_id: LegacyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<MediaId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<CommentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    /// It adds to the activity feed (the home page counts these as "new").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_feed: bool,
}
