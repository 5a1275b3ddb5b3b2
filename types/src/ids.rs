//! Typed ids: one newtype per kind of thing, so a story id cannot be passed where a
//! legacy id is wanted. On the wire and in the database each is its plain text (UUID v7
//! today); the `sqlx` feature (backend only) lets rows decode straight into them.

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    )+};
}

id_newtype! {
    /// A user account.
    UserId,
    /// A legacy: the archive kept for one person.
    LegacyId,
    /// A story in a legacy.
    StoryId,
    /// One saved revision of a story.
    RevisionId,
    /// A reader's report of a story to the legacy's moderators.
    FlagId,
    /// An invitation to join a legacy.
    InvitationId,
    /// An uploaded photo, recording, video or document.
    MediaId,
    /// A signed-in browser (a session row).
    SessionId,
    /// A tip shown on the one-tip page.
    TipId,
    /// An outbound HTTP call (a webhook delivery, a connector callback).
    CallId,
    /// A registered webhook.
    WebhookId,
    /// A person of a legacy's family graph.
    PersonId,
    /// A parent–child or partner relationship between two people.
    RelationshipId,
    /// A GEDCOM file being imported into a legacy in the background.
    ImportId,
    /// An email queued for sending.
    EmailId,
    /// A comment on a story or media item, or a reply to one.
    CommentId,
    /// One thing a member is told under the bell.
    NotificationId,
}
