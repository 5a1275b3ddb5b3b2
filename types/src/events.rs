//! The event envelope and the events: every change in Heirloom is recorded as an
//! [`Envelope`] in the transactional outbox, in the same transaction as the change. Each
//! event type ([`EventType`]) has a payload struct here, so producers, consumers, webhook
//! receivers and the OpenAPI document name the same fields. The wire names (outbox rows,
//! JetStream subjects, webhook bodies) are the variant names (`StoryCreated`…).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::conversation::{ReactionKind, SubjectKind};
use crate::ids::{
    CallId, CommentId, EmailId, ImportId, InvitationId, LegacyId, MediaId, NotificationId, PersonId, RelationshipId,
    StoryId, TipId, UserId,
};
use crate::media::{MediaKind, MediaState, ScanStatus};
use crate::notifications::NotificationKind;
use crate::stories::{LegacyRole, StoryStatus, Visibility};
use crate::tips::TipAction;

/// Declares [`EventType`]: one variant per event, named as on the wire, plus `Unknown`.
macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident),+ $(,)?) => {
        /// What happened. Serialized as its name (`"StoryCreated"`). A name this version
        /// does not know (an event written by a newer version during a rolling upgrade,
        /// read back from the outbox or JetStream) is kept as `Unknown(name)`, so the
        /// event still flows: consumers that match known types pass it by, a webhook for
        /// `*` forwards it unchanged, and nothing is dropped or parked for it.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($(#[$doc])* $variant,)+
            /// Read back but not known to this version; never written by it.
            Unknown(String),
        }

        impl EventType {
            /// Every type this version writes, in declaration order.
            pub const KNOWN: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(EventType::$variant => stringify!($variant),)+
                    EventType::Unknown(name) => name,
                }
            }

            /// The type named `name`; `Unknown` for a name this version does not know.
            pub fn parse(name: &str) -> EventType {
                match name {
                    $(stringify!($variant) => EventType::$variant,)+
                    other => EventType::Unknown(other.to_string()),
                }
            }
        }
    };
}

event_types!(
    LegacyCreated,
    /// Its name, dates or summary changed.
    LegacyUpdated,
    /// Not written yet; the search indexer already follows it.
    LegacyDeleted,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    /// An invitation to join was made; `invited_user_id` is the account it was emailed to
    /// when that address is an account's verified one (the address itself is not kept).
    InvitationSent,
    StoryCreated,
    StoryUpdated,
    StoryDeleted,
    MediaUploaded,
    MediaCaptioned,
    MediaRetryRequested,
    MediaProcessed,
    MediaFailed,
    MediaDeleted,
    /// A person was tagged in an item, or the tag was taken away.
    MediaPeopleTagged,
    CallSubmitted,
    CallAttempted,
    CallSucceeded,
    CallFailed,
    ConnectorConnected,
    ConnectorDisconnected,
    TipRecommended,
    TipFeedback,
    PersonCreated,
    PersonUpdated,
    PersonDeleted,
    RelationshipAdded,
    RelationshipRemoved,
    GedcomImportQueued,
    EmailQueued,
    CommentAdded,
    CommentEdited,
    CommentDeleted,
    /// A member added or took away a reaction.
    ReactionChanged,
    /// A member was told of something (what moves their bell).
    NotificationAdded,
);

impl EventType {
    pub fn is_known(&self) -> bool {
        !matches!(self, EventType::Unknown(_))
    }

    /// The outbound-call executor's own events (webhooks skip them: no feedback loop).
    /// An unknown name starting with `Call` counts too, so a newer version's call event
    /// is not sent to webhooks by an older replica either.
    pub fn is_call_event(&self) -> bool {
        match self {
            EventType::CallSubmitted | EventType::CallAttempted | EventType::CallSucceeded | EventType::CallFailed => {
                true
            }
            EventType::Unknown(name) => name.starts_with("Call"),
            _ => false,
        }
    }

    /// The known type named `name`, or an error that names the valid ones (for filters
    /// people type, like a webhook's event types).
    pub fn parse_known(name: &str) -> Result<EventType, String> {
        match EventType::parse(name) {
            EventType::Unknown(_) => Err(format!(
                "`{name}` is not an event type; the event types are {}",
                EventType::KNOWN.iter().map(EventType::as_str).collect::<Vec<_>>().join(", ")
            )),
            known => Ok(known),
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(EventType::parse(&name))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(format!(
                "An event type: {}. Receivers should accept names not listed here: a newer server may send them.",
                EventType::KNOWN.iter().map(EventType::as_str).collect::<Vec<_>>().join(", ")
            )))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EventType {}

/// One recorded change, as stored in the outbox, published on JetStream and sent to webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub message_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// 1, 2, 3… per aggregate, so consumers can apply an aggregate's events in order.
    pub aggregate_seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub schema_version: i64,
    pub occurred_at: i64,
    /// Shared by every event one cause set off: the id of the request that began it (its
    /// `x-request-id`), or the message id of the first event when a timer or worker began it.
    pub correlation_id: String,
    /// The event whose handling wrote this one; `None` when a request or a timer wrote it.
    pub causation_id: Option<String>,
    /// The user who caused it, if any.
    pub actor: Option<String>,
    pub payload: serde_json::Value,
    /// W3C `traceparent` of the request that wrote it: consumers continue that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_parent: Option<String>,
}

impl Envelope {
    /// The payload as `P`, the struct of this event's type.
    pub fn payload_as<P: DeserializeOwned>(&self) -> Result<P, serde_json::Error> {
        P::deserialize(&self.payload)
    }
}

/// A payload struct: it knows its event's type and the kind of aggregate it is about.
pub trait EventPayload: Serialize {
    /// `legacy`, `story`, `media`, `call`, `connector`, `tip`.
    const AGGREGATE_TYPE: &'static str;
    fn event_type(&self) -> EventType;
}

macro_rules! payload {
    ($aggregate:literal, $type:ident, $(#[$meta:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name { $($body)* }

        impl EventPayload for $name {
            const AGGREGATE_TYPE: &'static str = $aggregate;
            fn event_type(&self) -> EventType {
                EventType::$type
            }
        }
    };
}

payload!("legacy", LegacyCreated, LegacyCreated { pub legacy_id: LegacyId, pub name: String });
payload!("legacy", LegacyUpdated, LegacyUpdated { pub legacy_id: LegacyId, pub name: String, pub version: i64 });
payload!("legacy", MemberAdded, MemberAdded { pub legacy_id: LegacyId, pub user_id: UserId, pub role: LegacyRole });
payload!(
    "legacy",
    MemberRoleChanged,
    MemberRoleChanged { pub legacy_id: LegacyId, pub user_id: UserId, pub role: LegacyRole }
);
payload!("legacy", MemberRemoved, MemberRemoved { pub legacy_id: LegacyId, pub user_id: UserId });
payload!(
    "legacy",
    InvitationSent,
    InvitationSent {
        pub legacy_id: LegacyId,
        pub invitation_id: InvitationId,
        pub invited_user_id: Option<UserId>,
        pub role: LegacyRole,
    }
);

/// A story as a save left it: what `StoryCreated` and `StoryUpdated` both carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorySaved {
    pub story_id: StoryId,
    pub legacy_id: LegacyId,
    pub version: i64,
    pub title: String,
    pub visibility: Visibility,
    pub status: StoryStatus,
    pub tags: Vec<String>,
}

payload!("story", StoryCreated, StoryCreated { #[serde(flatten)] pub story: StorySaved });
payload!(
    "story",
    StoryUpdated,
    StoryUpdated {
        #[serde(flatten)]
        pub story: StorySaved,
        /// The version this save brought back (a restore), if any.
        pub restored_from: Option<i64>,
        /// The revision that holds this text.
        pub revision: i64,
        pub autosave: bool,
    }
);
payload!(
    "story",
    StoryDeleted,
    StoryDeleted {
        pub story_id: StoryId,
        pub legacy_id: LegacyId,
        /// How many media items were deleted with it.
        pub media_deleted: u64,
        /// Deleted by a moderator resolving a flag (absent otherwise).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub moderated: bool,
    }
);

payload!(
    "media",
    MediaUploaded,
    MediaUploaded {
        pub media_id: MediaId,
        pub legacy_id: LegacyId,
        pub story_id: Option<StoryId>,
        pub declared_type: String,
        pub size: i64,
        pub file_name: String,
    }
);
payload!(
    "media",
    MediaCaptioned,
    MediaCaptioned { pub media_id: MediaId, pub legacy_id: LegacyId, pub story_id: Option<StoryId>, pub caption: String }
);
payload!("media", MediaRetryRequested, MediaRetryRequested { pub media_id: MediaId, pub legacy_id: LegacyId });
payload!(
    "media",
    MediaPeopleTagged,
    MediaPeopleTagged {
        pub media_id: MediaId,
        pub legacy_id: LegacyId,
        pub person_id: PersonId,
        /// True when the tag was added, false when it was taken away.
        pub tagged: bool,
    }
);

/// The end of processing: `MediaProcessed` when `state` is `ready`, else `MediaFailed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaProcessingEnded {
    pub media_id: MediaId,
    pub legacy_id: LegacyId,
    pub story_id: Option<StoryId>,
    pub state: MediaState,
    /// What the content turned out to be, when it was recognised.
    pub kind: Option<MediaKind>,
    pub scan: ScanStatus,
    pub failure: Option<String>,
}

impl EventPayload for MediaProcessingEnded {
    const AGGREGATE_TYPE: &'static str = "media";
    fn event_type(&self) -> EventType {
        if self.state == MediaState::Ready {
            EventType::MediaProcessed
        } else {
            EventType::MediaFailed
        }
    }
}

/// The stored files of a deleted item, carried in its `MediaDeleted` event because the
/// row is gone by the time they are removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFiles {
    /// Names of its variants (`variants/<id>/<name>`).
    #[serde(default)]
    pub variants: Vec<String>,
    /// The storage's handle of an upload that was never completed.
    #[serde(default)]
    pub upload_id: Option<String>,
}

payload!(
    "media",
    MediaDeleted,
    MediaDeleted {
        pub media_id: MediaId,
        pub legacy_id: LegacyId,
        pub story_id: Option<StoryId>,
        /// Events from before the files were listed name none: the original still goes.
        #[serde(default)]
        pub files: StoredFiles,
    }
);

payload!(
    "call",
    CallSubmitted,
    CallSubmitted {
        pub call_id: CallId,
        pub method: String,
        pub url: String,
        pub target: String,
        /// Credential values shown as `[redacted]`.
        pub headers: BTreeMap<String, String>,
        pub due_at: i64,
        pub source: String,
    }
);
payload!(
    "call",
    CallAttempted,
    CallAttempted {
        pub call_id: CallId,
        pub attempt: i64,
        pub status_code: Option<i64>,
        pub latency_ms: i64,
        pub error: Option<String>,
    }
);
payload!(
    "call",
    CallSucceeded,
    CallSucceeded { pub call_id: CallId, pub attempts: i64, pub status_code: Option<i64> }
);
payload!(
    "call",
    CallFailed,
    CallFailed { pub call_id: CallId, pub attempts: i64, pub status_code: Option<i64>, pub error: Option<String> }
);

payload!("connector", ConnectorConnected, ConnectorConnected { pub connector: String, pub user_id: UserId });
payload!(
    "connector",
    ConnectorDisconnected,
    ConnectorDisconnected {
        pub connector: String,
        pub user_id: UserId,
        /// `user`, or `refused by provider`.
        pub reason: String,
    }
);

payload!(
    "tip",
    TipRecommended,
    TipRecommended {
        pub tip_id: TipId,
        pub user_id: UserId,
        pub kind: String,
        pub source: String,
        pub arm: String,
        pub policy: String,
        pub candidate_key: String,
    }
);
payload!(
    "tip",
    TipFeedback,
    TipFeedback {
        pub feedback_id: String,
        pub tip_id: TipId,
        pub user_id: UserId,
        pub action: TipAction,
        pub kind: String,
        pub source: String,
        /// Empty for a tip nothing could be learned from.
        #[serde(default)]
        pub arm: String,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_keep_their_wire_names_and_unknown_ones_survive_a_round_trip() {
        assert_eq!(serde_json::to_string(&EventType::StoryCreated).unwrap(), "\"StoryCreated\"");
        for known in EventType::KNOWN {
            assert_eq!(&EventType::parse(known.as_str()), known);
            assert!(known.is_known());
        }
        let newer: EventType = serde_json::from_str("\"StoryArchived\"").unwrap();
        assert_eq!(newer, EventType::Unknown("StoryArchived".into()));
        assert!(!newer.is_known());
        assert_eq!(serde_json::to_string(&newer).unwrap(), "\"StoryArchived\"");
        assert!(EventType::Unknown("CallRetried".into()).is_call_event());
        assert!(!EventType::StoryCreated.is_call_event());
    }

    #[test]
    fn a_filter_naming_an_unknown_type_is_refused_with_the_valid_names() {
        assert_eq!(EventType::parse_known("MediaDeleted"), Ok(EventType::MediaDeleted));
        let refused = EventType::parse_known("StoryArchived").unwrap_err();
        assert!(refused.starts_with("`StoryArchived` is not an event type"), "{refused}");
        assert!(refused.contains("StoryCreated") && refused.contains("TipFeedback"), "{refused}");
    }

    #[test]
    fn a_story_payload_is_stored_as_the_flat_sorted_object_it_always_was() {
        let story = StorySaved {
            story_id: "s".into(),
            legacy_id: "l".into(),
            version: 3,
            title: "T".into(),
            visibility: Visibility::Members,
            status: StoryStatus::Draft,
            tags: vec!["a".into()],
        };
        let updated = StoryUpdated { story, restored_from: None, revision: 2, autosave: false };
        // What `outbox::append` stores: the payload through a `Value`, keys sorted.
        let stored = serde_json::to_string(&serde_json::to_value(&updated).unwrap()).unwrap();
        assert_eq!(
            stored,
            r#"{"autosave":false,"legacy_id":"l","restored_from":null,"revision":2,"status":"draft","story_id":"s","tags":["a"],"title":"T","version":3,"visibility":"members"}"#
        );
        let read_back: StoryUpdated = serde_json::from_str(&stored).unwrap();
        assert_eq!(read_back, updated);
    }

    #[test]
    fn a_payload_names_its_type_and_aggregate() {
        let deleted = StoryDeleted { story_id: "s".into(), legacy_id: "l".into(), media_deleted: 0, moderated: false };
        assert_eq!(deleted.event_type(), EventType::StoryDeleted);
        assert_eq!(StoryDeleted::AGGREGATE_TYPE, "story");
        assert!(serde_json::to_value(&deleted).unwrap().get("moderated").is_none(), "only moderated deletes say so");
        let ended = MediaProcessingEnded {
            media_id: "m".into(),
            legacy_id: "l".into(),
            story_id: None,
            state: MediaState::Failed,
            kind: None,
            scan: ScanStatus::Pending,
            failure: Some("bad".into()),
        };
        assert_eq!(ended.event_type(), EventType::MediaFailed);
    }
}

payload!(
    "person",
    PersonCreated,
    PersonCreated { pub person_id: PersonId, pub legacy_id: LegacyId, pub version: i64, pub living: bool }
);
payload!(
    "person",
    PersonUpdated,
    PersonUpdated { pub person_id: PersonId, pub legacy_id: LegacyId, pub version: i64, pub living: bool }
);
payload!(
    "import",
    GedcomImportQueued,
    /// A GEDCOM file was read and is waiting to be written into its legacy.
    GedcomImportQueued { pub import_id: ImportId, pub legacy_id: LegacyId }
);
payload!(
    "email",
    EmailQueued,
    /// An email waits to be sent; its text is stored sealed, not in the event.
    EmailQueued { pub email_id: EmailId, pub kind: String }
);
payload!(
    "notification",
    NotificationAdded,
    /// `user_id` was told of something in `legacy_id` (their bell counts up).
    NotificationAdded {
        pub notification_id: NotificationId,
        pub user_id: UserId,
        pub legacy_id: LegacyId,
        pub kind: NotificationKind,
    }
);
payload!("person", PersonDeleted, PersonDeleted { pub person_id: PersonId, pub legacy_id: LegacyId });

/// A relationship as its events carry it: `parent` (`person_a` is a parent of
/// `person_b`) or `partner`, with its kind (`birth`, `married`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelationshipFacts {
    pub relationship_id: RelationshipId,
    pub legacy_id: LegacyId,
    pub kind: String,
    pub subkind: String,
    pub person_a: PersonId,
    pub person_b: PersonId,
}

payload!("person", RelationshipAdded, RelationshipAdded { #[serde(flatten)] pub relationship: RelationshipFacts });
payload!("person", RelationshipRemoved, RelationshipRemoved { #[serde(flatten)] pub relationship: RelationshipFacts });

/// Where a comment is: its legacy, and the story or media item it is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentFacts {
    pub comment_id: CommentId,
    pub legacy_id: LegacyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<StoryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<MediaId>,
}

payload!(
    "comment",
    CommentAdded,
    CommentAdded {
        #[serde(flatten)]
        pub comment: CommentFacts,
        /// The comment it replies to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_id: Option<CommentId>,
        pub author_id: UserId,
    }
);
payload!("comment", CommentEdited, CommentEdited { #[serde(flatten)] pub comment: CommentFacts, pub version: i64 });
payload!(
    "comment",
    CommentDeleted,
    CommentDeleted {
        #[serde(flatten)]
        pub comment: CommentFacts,
        /// Removed by a moderator rather than by its author.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub moderated: bool,
    }
);
payload!(
    "reaction",
    ReactionChanged,
    ReactionChanged {
        pub subject: SubjectKind,
        /// The story's, media item's or comment's id.
        pub subject_id: String,
        pub legacy_id: LegacyId,
        pub user_id: UserId,
        pub reaction: ReactionKind,
        /// Added (true) or taken away (false).
        pub on: bool,
    }
);
