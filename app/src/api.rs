//! Server functions: thin wrappers that find the signed-in user and call one backend
//! service. During server rendering pages call them in-process; islands call them over
//! HTTP.

use leptos::prelude::*;
use types::{
    AccountOverview, ApiError, ConversationView, FamilyTree, FlagView, HistoryPage, ImportJob, Kinship, LegacyPage,
    LegacyView, MemberView, PeoplePage, PersonPage, PersonSummary, StoryView, UserView,
};
#[cfg(feature = "ssr")]
use types::{ImportId, LegacyId, MediaId, PersonId, StoryId, TipId};

/// The backend and the signed-in user (if any) of the request being served.
#[cfg(feature = "ssr")]
fn context() -> Result<(backend::Backend, Option<backend::identity::Authenticated>), ApiError> {
    let backend = use_context::<backend::Backend>().ok_or_else(ApiError::internal)?;
    let parts = use_context::<http::request::Parts>().ok_or_else(ApiError::internal)?;
    Ok((backend, parts.extensions.get::<backend::identity::Authenticated>().cloned()))
}

#[cfg(feature = "ssr")]
fn signed_in() -> Result<(backend::Backend, backend::identity::Authenticated), ApiError> {
    match context()? {
        (backend, Some(auth)) => Ok((backend, auth)),
        _ => Err(ApiError::unauthenticated("Please sign in first.")),
    }
}

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, ApiError> {
    Ok(crate::request::current_user())
}

/// The account page's data; 401 when signed out.
#[server(endpoint = "load_account")]
pub async fn load_account() -> Result<AccountOverview, ApiError> {
    let (backend, auth) = signed_in()?;
    let identity = &backend.identity;
    Ok(AccountOverview {
        user: auth.user.view(),
        has_password: identity.has_password(&auth.user).await?,
        linked_providers: identity.linked_providers(&auth.user).await?,
        sessions: identity.sessions(&auth).await?,
        people: backend.people.mine(&auth.user).await?,
        email_verified: identity.email_verified(&auth.user).await?,
        email_enabled: backend.email.enabled(),
    })
}

#[server(endpoint = "load_legacies")]
pub async fn load_legacies() -> Result<Vec<LegacyView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.stories.my_legacies(&auth.user).await?)
}

/// A page of the signed-in reader's feed (of one legacy, or all theirs), with their
/// legacies for the filter.
#[server(endpoint = "load_feed")]
pub async fn load_feed(
    legacy_id: Option<String>,
    cursor: Option<String>,
) -> Result<(types::FeedPage, Vec<LegacyView>), ApiError> {
    let (backend, auth) = signed_in()?;
    let request = backend::activity::FeedRequest { legacy_id, cursor, limit: None };
    let page = backend.activity.feed(&auth.user, &request).await?;
    Ok((page, backend.stories.my_legacies(&auth.user).await?))
}

#[server(endpoint = "load_legacy")]
pub async fn load_legacy(id: String, cursor: Option<String>) -> Result<LegacyPage, ApiError> {
    /// Stories per page on a legacy's page; the rest are a "More stories" link away.
    const LEGACY_PAGE_STORIES: i64 = 30;
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let stories = &backend.stories;
    let legacy = stories.legacy(user, &LegacyId::from(id.as_str())).await?;
    let request = backend::stories::service::ListRequest {
        legacy_id: Some(id.clone()),
        cursor,
        limit: Some(LEGACY_PAGE_STORIES),
        ..Default::default()
    };
    let page = stories.list(user, &request).await?;
    let (can_write, can_manage) = stories.abilities(user, &legacy.id).await?;
    let following = match user {
        Some(user) => backend.notifications.following_as(user, &legacy.id, legacy.my_role).await?,
        None => None,
    };
    Ok(LegacyPage { legacy, stories: page, can_write, can_manage, following })
}

#[server(endpoint = "load_story")]
pub async fn load_story(id: String) -> Result<StoryView, ApiError> {
    let id = StoryId::from(id);
    let (backend, auth) = context()?;
    Ok(backend.stories.story(auth.as_ref().map(|a| &a.user), &id).await?)
}

/// A story with the media attached to it that the reader may see, and its conversation.
#[server(endpoint = "load_story_page")]
pub async fn load_story_page(id: String) -> Result<(StoryView, Vec<types::MediaView>, ConversationView), ApiError> {
    let id = StoryId::from(id);
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let (story, media) = backend.media.story_media(&backend.stories, user, &id).await?;
    let thread = backend::conversation::Thread::Story(id);
    Ok((story, media, backend.conversation.conversation(user, &thread).await?))
}

/// One media item of legacy `id` with its conversation; "not found" for an item of
/// another legacy (one URL per item).
#[server(endpoint = "load_media_page")]
pub async fn load_media_page(id: String, media_id: String) -> Result<(types::MediaView, ConversationView), ApiError> {
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let item = backend.media.media(user, &MediaId::from(media_id)).await?;
    if item.legacy_id != id {
        return Err(backend::Error::NotFound { what: "media item" }.into());
    }
    let thread = backend::conversation::Thread::Media(item.id.clone());
    Ok((item, backend.conversation.conversation(user, &thread).await?))
}

/// A legacy's media page: the legacy, whether the reader may add media, and every item
/// (its own and its stories') the reader may see, oldest first.
/// A legacy's gallery: the legacy, whether the reader may add to it, the items, who is
/// tagged in them and whom the reader may tag.
#[server(endpoint = "load_legacy_media")]
pub async fn load_legacy_media(id: String) -> Result<LegacyGallery, ApiError> {
    let id = LegacyId::from(id);
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let (legacy, media) = backend.media.legacy_media(&backend.stories, user, &id).await?;
    let (can_write, _) = backend.stories.abilities(user, &id).await?;
    let tagged = backend.people.tagged_in(user, &id, &media).await?;
    let choices = match user {
        Some(user) if media.iter().any(|m| m.can_edit) => backend.people.taggable_people(user, &id).await?,
        _ => Vec::new(),
    };
    Ok(LegacyGallery { legacy, can_write, media, tagged: tagged.into_iter().collect(), choices })
}

/// What a legacy's gallery page shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LegacyGallery {
    pub legacy: LegacyView,
    pub can_write: bool,
    pub media: Vec<types::MediaView>,
    /// Who is tagged in each item.
    pub tagged: Vec<(types::MediaId, Vec<PersonSummary>)>,
    /// The people the reader may tag.
    pub choices: Vec<PersonSummary>,
}

/// Changes a media item's caption; answers the caption as stored (trimmed) and the
/// item's new version. `version` is the one the form was rendered with, so someone
/// else's newer caption is not overwritten. Works as a plain form post too (the browser
/// is sent back to the page it came from).
#[server(endpoint = "set_media_caption")]
pub async fn set_media_caption(id: String, caption: String, version: Option<i64>) -> Result<(String, i64), ApiError> {
    let id = MediaId::from(id);
    let (backend, auth) = signed_in()?;
    let item = backend.media.set_caption(&auth.user, &id, &caption, version).await?;
    Ok((item.caption, item.version))
}

/// Sends a media item whose processing failed through processing again (a plain form
/// post, like [`set_media_caption`]).
#[server(endpoint = "retry_media")]
pub async fn retry_media(id: String) -> Result<types::MediaView, ApiError> {
    let id = MediaId::from(id);
    let (backend, auth) = signed_in()?;
    Ok(backend.media.retry(&auth.user, &id).await?)
}

#[server(endpoint = "load_history")]
pub async fn load_history(id: String, from: Option<i64>, to: Option<i64>) -> Result<HistoryPage, ApiError> {
    let id = StoryId::from(id);
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let story = backend.stories.story(user, &id).await?;
    let revisions = backend.stories.revisions(user, &id).await?;
    let diff = match (from, to) {
        (Some(from), Some(to)) => Some((from, to, backend.stories.diff(user, &id, from, to).await?)),
        _ => None,
    };
    Ok(HistoryPage { story, revisions, diff })
}

/// A legacy for its edit page: for its owners (and administrators) only.
#[server(endpoint = "load_legacy_to_manage")]
pub async fn load_legacy_to_manage(legacy_id: String) -> Result<LegacyView, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.stories.legacy_to_manage(&auth.user, &LegacyId::from(legacy_id)).await?)
}

#[server(endpoint = "load_members")]
pub async fn load_members(legacy_id: String) -> Result<(LegacyView, Vec<MemberView>), ApiError> {
    let legacy_id = LegacyId::from(legacy_id);
    let (backend, auth) = signed_in()?;
    let legacy = backend.stories.legacy(Some(&auth.user), &legacy_id).await?;
    Ok((legacy, backend.stories.members(&auth.user, &legacy_id).await?))
}

/// A legacy and a page of its people.
#[server(endpoint = "load_people")]
pub async fn load_people(legacy_id: String, cursor: Option<String>) -> Result<(LegacyView, PeoplePage), ApiError> {
    let legacy_id = LegacyId::from(legacy_id);
    let (backend, auth) = signed_in()?;
    let legacy = backend.stories.legacy(Some(&auth.user), &legacy_id).await?;
    let people = backend.people.in_legacy(Some(&auth.user), &legacy_id, cursor.as_deref(), None).await?;
    Ok((legacy, people))
}

/// The person page (with the items the person is tagged in and their timeline); with
/// `relative`, how that person is related to this one.
#[server(endpoint = "load_person")]
pub async fn load_person(id: String, relative: Option<String>) -> Result<(PersonPage, Option<Kinship>), ApiError> {
    let id = PersonId::from(id);
    let (backend, auth) = signed_in()?;
    let page = backend.people.page(&backend.media, Some(&auth.user), &id).await?;
    let kinship = match relative.filter(|r| !r.is_empty()) {
        Some(relative) => Some(backend.people.kinship(Some(&auth.user), &PersonId::from(relative), &id).await?),
        None => None,
    };
    Ok((page, kinship))
}

/// A person's family tree page: `up` and `down` as typed in the page's address.
#[server(endpoint = "load_tree")]
pub async fn load_tree(id: String, up: Option<String>, down: Option<String>) -> Result<FamilyTree, ApiError> {
    let (backend, auth) = signed_in()?;
    // A number that does not read is out of range, so the reader is told what is allowed.
    let generations =
        |text: Option<String>| text.filter(|t| !t.trim().is_empty()).map(|t| t.trim().parse().unwrap_or(-1));
    Ok(backend.people.tree(Some(&auth.user), &PersonId::from(id), generations(up), generations(down)).await?)
}

/// Where a GEDCOM import stands (its page, and its progress bar while it runs).
#[server(endpoint = "load_import")]
pub async fn load_import(id: String) -> Result<ImportJob, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.people.import_job(&auth.user, &ImportId::from(id)).await?)
}

/// People of a legacy whose names contain `text`, for an `@` mention in the editor.
#[server(endpoint = "suggest_people")]
pub async fn suggest_people(legacy_id: String, text: String) -> Result<Vec<PersonSummary>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.people.suggest(&auth.user, &LegacyId::from(legacy_id), &text).await?)
}

/// The legacy name and role an invitation offers the reader (`key`: the emailed link's
/// token, or the invitation's id when it was made for them).
#[server(endpoint = "load_invitation")]
pub async fn load_invitation(key: String) -> Result<(String, String), ApiError> {
    let (backend, auth) = signed_in()?;
    let (legacy, role) = backend.stories.invitation(&auth.user, &key).await?;
    Ok((legacy.name, role.as_str().to_string()))
}

/// A page of the reader's notifications, with the unread count.
#[server(endpoint = "load_notifications")]
pub async fn load_notifications(cursor: Option<String>) -> Result<types::NotificationPage, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.notifications.list(&auth.user, cursor.as_deref(), None).await?)
}

/// How many notifications the reader has not read (the bell); none when signed out.
#[server(endpoint = "unread_notifications")]
pub async fn unread_notifications() -> Result<i64, ApiError> {
    match context()? {
        (backend, Some(auth)) => Ok(backend.notifications.unread(&auth.user).await?),
        _ => Ok(0),
    }
}

/// How the reader hears of each kind of notification, and whether this server sends email.
#[server(endpoint = "load_notification_settings")]
pub async fn load_notification_settings() -> Result<(Vec<types::NotificationPreference>, bool), ApiError> {
    let (backend, auth) = signed_in()?;
    Ok((backend.notifications.preferences(&auth.user.id).await?, backend.email.enabled()))
}

/// Whether an unsubscribe link is genuine, and what it stops, in words.
#[server(endpoint = "check_unsubscribe")]
pub async fn check_unsubscribe(user: String, scope: String, sig: String) -> Result<String, ApiError> {
    let (backend, _) = context()?;
    backend.notifications.check_unsubscribe(&user, &scope, &sig)?;
    Ok(backend::notifications::service::scope_words(&scope))
}

#[server(endpoint = "load_moderation")]
pub async fn load_moderation() -> Result<Vec<FlagView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.stories.moderation_queue(&auth.user).await?)
}

/// Saves the editor's content as an autosave; returns the new version. The author's
/// autosaves rewrite one working revision until they save for real (see
/// `stories::service::record_revision`). A stale `version` is a conflict naming who
/// saved first.
#[server(endpoint = "autosave_story")]
pub async fn autosave_story(
    id: String,
    version: i64,
    title: String,
    body: String,
    tags: String,
) -> Result<i64, ApiError> {
    let id = StoryId::from(id);
    let (backend, auth) = signed_in()?;
    let update = types::StoryUpdate {
        version,
        title,
        body,
        tags: types::stories::split_tags(&tags),
        visibility: None,
        status: None,
        autosave: true,
    };
    Ok(backend.stories.update_story(&auth.user, &id, &update).await?.version)
}

/// One page of the outbound-call log (admins). `from`/`to` are dates (`YYYY-MM-DD`, UTC).
#[server(endpoint = "load_deliveries")]
pub async fn load_deliveries(
    status: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
) -> Result<types::CallPage, ApiError> {
    let (backend, auth) = signed_in()?;
    let calls = backend.admin.calls(&auth.user)?;
    let filter = backend::calls::CallFilter {
        status: status.filter(|s| !s.is_empty()),
        target: target.filter(|s| !s.is_empty()),
        cursor: cursor.filter(|s| !s.is_empty()),
        limit: Some(25),
        ..Default::default()
    }
    .between_days(from.as_deref(), to.as_deref())?;
    Ok(calls.list(&filter).await?)
}

#[server(endpoint = "load_delivery")]
pub async fn load_delivery(id: String) -> Result<types::CallDetail, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.admin.calls(&auth.user)?.detail(&types::CallId::from(id)).await?)
}

#[server(endpoint = "load_webhooks")]
pub async fn load_webhooks() -> Result<Vec<types::WebhookView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.admin.webhooks(&auth.user)?.list().await?)
}

#[server(endpoint = "load_dead_letters")]
pub async fn load_dead_letters() -> Result<Vec<types::DeadLetterView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.admin.dead_letters(&auth.user).await?)
}

/// One page of search results for the results page: only what the reader may read
/// (public ones when signed out). A GET, so it counts as a read, not a write.
#[server(endpoint = "search_results", input = leptos::server_fn::codec::GetUrl)]
pub async fn search_results(params: types::SearchParams) -> Result<types::SearchResults, ApiError> {
    let (backend, auth) = context()?;
    Ok(backend.search.find(auth.as_ref().map(|a| &a.user), &params).await?)
}

/// Typeahead for the header's search box: a few stories and legacies the reader may read.
#[server(endpoint = "search_suggest", input = leptos::server_fn::codec::GetUrl)]
pub async fn search_suggest(q: String) -> Result<Vec<types::SearchSuggestion>, ApiError> {
    let (backend, auth) = context()?;
    Ok(backend.search.suggest_for(auth.as_ref().map(|a| &a.user), &q).await?)
}

/// The tip page's tip: `tip` when it names one of the reader's tips still waiting for
/// an answer (the home page's card links to it), otherwise a new recommendation for
/// this moment (`hour` and `weekday` local, absent ones from the server's clock).
#[server(endpoint = "recommend_tip")]
pub async fn recommend_tip(
    tip: Option<String>,
    hour: Option<u8>,
    weekday: Option<u8>,
    device: Option<types::TipDevice>,
) -> Result<types::Tip, ApiError> {
    let (backend, auth) = signed_in()?;
    if let Some(id) = tip.filter(|id| !id.is_empty()) {
        if let Some(pending) = backend.tips.pending_tip(&auth.user, &TipId::from(id)).await? {
            return Ok(pending);
        }
    }
    let input = types::RecommendInput { context: types::TipContext { hour, weekday, device } };
    Ok(backend.tips.recommend(&auth.user, &input).await?)
}

/// The home page's tip: the newest one still waiting for an answer, or a new one, so
/// coming back to the home page does not make a tip each time.
#[server(endpoint = "current_tip")]
pub async fn current_tip() -> Result<types::Tip, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.tips.current_tip(&auth.user, &types::RecommendInput::default()).await?)
}

/// Feedback on a tip (shown, done, skipped, dismissed). Also a plain form post from the
/// tip page without JavaScript: the browser goes back to the page, which shows the next tip.
#[server(endpoint = "tip_feedback")]
pub async fn tip_feedback(id: String, action: types::TipAction) -> Result<types::FeedbackResult, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.tips.feedback(&auth.user, &TipId::from(id), action).await?)
}

/// The connect page: every connector and the reader's connection to it.
#[server(endpoint = "load_connectors")]
pub async fn load_connectors() -> Result<Vec<types::ConnectorView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.tips.connectors(&auth.user).await?)
}

/// The text of a story prompt from the library, for a new story begun from a prompt tip.
#[server(endpoint = "load_prompt", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_prompt(id: String) -> Result<Option<String>, ApiError> {
    Ok(backend::tips::prompts::by_id(&id).map(|prompt| prompt.text.to_string()))
}
