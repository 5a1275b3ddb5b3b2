//! Notifications: what tells a member that something concerns them (a comment or a
//! reaction on what they wrote, a reply, a mention, a new story, an invitation to a
//! legacy made to their verified address), and how each member wants to hear of each kind.

use serde::{Deserialize, Serialize};

use crate::ids::{LegacyId, NotificationId};

string_enum!(
    /// Why a member is told.
    NotificationKind {
        Comment => "comment",
        Reply => "reply",
        Mention => "mention",
        Reaction => "reaction",
        NewStory => "new_story",
        Invitation => "invitation",
    }
);

impl NotificationKind {
    /// What the preferences page calls it.
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::Comment => "Comments on what I wrote",
            NotificationKind::Reply => "Replies to my comments",
            NotificationKind::Mention => "Mentions of me",
            NotificationKind::Reaction => "Reactions to what I wrote",
            NotificationKind::NewStory => "New stories in my legacies",
            NotificationKind::Invitation => "Invitations to join a legacy",
        }
    }

    /// How a member hears of it until they choose otherwise.
    pub fn default_delivery(self) -> Delivery {
        match self {
            NotificationKind::Comment | NotificationKind::Reply | NotificationKind::Mention => Delivery::Email,
            // The invitation's own email, with its link, went to the address already.
            NotificationKind::Reaction | NotificationKind::Invitation => Delivery::InApp,
            NotificationKind::NewStory => Delivery::Daily,
        }
    }
}

string_enum!(
    /// How a member hears of one kind: every choice but `off` also shows it under the bell.
    Delivery { InApp => "in_app", Email => "email", Daily => "daily", Weekly => "weekly", Off => "off" }
);

impl Delivery {
    pub fn label(self) -> &'static str {
        match self {
            Delivery::InApp => "In the app",
            Delivery::Email => "Email at once",
            Delivery::Daily => "Daily digest",
            Delivery::Weekly => "Weekly digest",
            Delivery::Off => "Off",
        }
    }

    /// The digest it waits for, if any.
    pub fn digest(self) -> Option<Digest> {
        match self {
            Delivery::Daily => Some(Digest::Daily),
            Delivery::Weekly => Some(Digest::Weekly),
            _ => None,
        }
    }
}

string_enum!(
    /// A digest email's cadence.
    Digest { Daily => "daily", Weekly => "weekly" }
);

impl Digest {
    /// How long a digest collects before it is sent.
    pub fn period_ms(self) -> i64 {
        match self {
            Digest::Daily => 86_400_000,
            Digest::Weekly => 7 * 86_400_000,
        }
    }
}

/// One notification as its reader sees it: what happened, said in words, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub legacy_id: LegacyId,
    pub legacy_name: String,
    /// Who did it (empty when they are gone).
    pub actor_name: String,
    /// "Ann commented on The bees".
    pub text: String,
    /// Where it happened, a path on this site (a comment's anchor included).
    pub link: String,
    pub created_at: i64,
    pub read: bool,
}

/// A page of the reader's notifications, newest first, with how many are unread in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub unread: i64,
}

/// How the reader hears of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreference {
    pub kind: NotificationKind,
    pub delivery: Delivery,
}

/// Whether a member follows a legacy: a followed legacy's new stories reach their bell
/// (members follow each legacy they belong to until they stop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Following {
    pub legacy_id: LegacyId,
    pub following: bool,
}

/// The preferences to change: kind (`comment`, `reply`…) to delivery (`in_app`, `email`,
/// `daily`, `weekly`, `off`), each as typed and checked by the server so a bad value is
/// named. A JSON object, or a form's fields of the same names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PreferencesInput(pub std::collections::BTreeMap<String, String>);
