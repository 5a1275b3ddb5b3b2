//! Tips (one suggestion at a time, chosen by a recommender that learns from feedback)
//! and the connectors they draw tasks from, as the tip page, the connect page and the
//! API see them. Provider-agnostic: a Todoist task and a story prompt are both a [`Tip`].

use serde::{Deserialize, Serialize};

use crate::ids::{CallId, TipId};

string_enum!(
    /// What a tip asks of the reader: a task from a connected app, a story prompt, a
    /// draft to finish, a photo or recording to caption, or a piece of advice.
    TipKind { Todo => "todo", Prompt => "prompt", Draft => "draft", Media => "media", Advice => "advice" }
);

string_enum!(
    /// Feedback on a tip: it was `shown`; then at most one of `done`, `skipped` (not now)
    /// or `dismissed` (never again).
    TipAction { Shown => "shown", Done => "done", Skipped => "skipped", Dismissed => "dismissed" }
);

string_enum!(
    /// The device asking, as the page tells it.
    TipDevice { Phone => "phone", Tablet => "tablet", Desktop => "desktop" }
);

string_enum!(
    /// How a connector's last sync went: never tried, fine, or failed (see `last_error`).
    SyncStatus { Never => "never", Ok => "ok", Failed => "failed" }
);

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tip {
    /// Send feedback to `/api/v1/tips/{id}/feedback`.
    pub id: TipId,
    pub kind: TipKind,
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Where it came from: `todoist`, `prompts`, `stories`, `media`, `legacies`, `invitations`, `tips`.
    pub source: String,
    /// Where acting on it happens: a path on this site, or the provider's page for a task.
    pub deep_link: String,
    /// Kind-specific details (`theme`, `due`, `media_id`, `preview_url`, …) and the
    /// recommender's `arm` and `policy`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub meta: serde_json::Value,
}

/// What the page knows about the moment: the reader's local hour and weekday, and the
/// device. Absent values are taken from the server's clock (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TipContext {
    /// 0-23, local time.
    #[serde(default)]
    pub hour: Option<u8>,
    /// 0 (Monday) to 6 (Sunday).
    #[serde(default)]
    pub weekday: Option<u8>,
    #[serde(default)]
    pub device: Option<TipDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecommendInput {
    #[serde(default)]
    pub context: TipContext,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackInput {
    pub action: TipAction,
}

/// The outbound call that completes a task at its provider (see the deliveries log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TipCompletion {
    pub call_id: CallId,
    pub status: crate::CallStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackResult {
    pub tip_id: TipId,
    pub action: TipAction,
    /// False when this feedback had been given before (a double tap): nothing changed.
    pub recorded: bool,
    /// The tip's final answer (`done`, `skipped`, `dismissed`), once it has one.
    pub outcome: Option<TipAction>,
    /// For a connected app's task marked done: the call completing it there.
    pub completion: Option<TipCompletion>,
}

/// A connector as the connect page lists it for the signed-in reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectorView {
    /// Used in URLs: `/connectors/{name}/connect`.
    pub name: String,
    pub display_name: String,
    /// False when the administrator has not configured it (no client id).
    pub enabled: bool,
    pub connected: bool,
    pub connected_at: Option<i64>,
    pub last_sync_at: Option<i64>,
    pub last_sync_status: SyncStatus,
    /// Why the last sync failed or why the connection ended (a revoked token), for the reader.
    pub last_error: Option<String>,
    /// Open tasks fetched at the last sync.
    pub items: i64,
    /// Where the connect button goes.
    pub connect_url: String,
}
