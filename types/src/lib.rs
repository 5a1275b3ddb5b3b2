//! Types shared by the server and the browser: typed ids, DTOs, the API error and
//! the enums rows and requests carry. Nothing here performs IO, so it compiles to WASM unchanged.

#[macro_use]
mod macros;

pub mod activity;
pub mod calls;
pub mod conversation;
pub mod error;
pub mod events;
pub mod flash;
pub mod ids;
pub mod live;
pub mod media;
pub mod notifications;
pub mod people;
pub mod routes;
pub mod search;
pub mod stories;
pub mod text;
pub mod theme;
pub mod tips;
pub mod user;

pub use activity::{ActivityItem, ActivityKind, FeedPage};
pub use calls::{
    CallAttemptView, CallDetail, CallInput, CallPage, CallStatus, CallSubmitted, CallView, ChainEvent, DeadLetterView,
    EventChain, WebhookCreated, WebhookInput, WebhookView,
};
pub use conversation::{
    CommentInput, CommentUpdate, CommentView, ConversationView, ReactionCount, ReactionInput, ReactionKind, SubjectKind,
};
pub use error::{ApiError, ErrorCode, FieldError};
pub use flash::Flash;
pub use ids::{
    CallId, CommentId, EmailId, FlagId, ImportId, InvitationId, LegacyId, MediaId, NotificationId, PersonId,
    RelationshipId, RevisionId, SessionId, StoryId, TipId, UserId, WebhookId,
};
pub use live::LiveEvent;
pub use media::{
    CaptionInput, MediaKind, MediaMeta, MediaState, MediaView, PartTarget, ScanStatus, UploadRequest, UploadTicket,
    VariantView,
};
pub use notifications::{
    Delivery, Digest, Following, NotificationKind, NotificationPage, NotificationPreference, NotificationView,
    PreferencesInput,
};
pub use people::{
    FamilyTree, FamilyView, ImportJob, ImportReport, ImportSkip, ImportStatus, Kinship, KinshipStep, LifeEvent,
    ListedRelative, MyPerson, ParentKind, PartnerKind, PeoplePage, PersonInput, PersonPage, PersonSummary, PersonView,
    PortraitInput, RelationshipInput, RelationshipView, Relative, RelativesKind, RelativesPage, Sex, TimelineEntry,
    TimelineKind, TreePerson, TREE_GENERATIONS_DEFAULT, TREE_GENERATIONS_MAX,
};
pub use search::{
    FacetCount, ReindexReport, SearchFacets, SearchHit, SearchKind, SearchParams, SearchResults, SearchSort,
    SearchSuggestion,
};
pub use stories::{
    DiffLine, FlagView, HistoryPage, LegacyInput, LegacyPage, LegacyRole, LegacyUpdate, LegacyView, MemberView,
    RevisionView, StoryInput, StoryPage, StoryStatus, StorySummary, StoryUpdate, StoryView, Visibility,
};
pub use theme::Theme;
pub use tips::{
    ConnectorView, FeedbackInput, FeedbackResult, RecommendInput, SyncStatus, Tip, TipAction, TipCompletion,
    TipContext, TipDevice, TipKind,
};
pub use user::{AccountOverview, ProviderView, SessionView, UserView};
