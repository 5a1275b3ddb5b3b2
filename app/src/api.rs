//! Server functions: thin wrappers that find the signed-in user and call one backend
//! service. During server rendering pages call them in-process; islands call them over
//! HTTP.

use leptos::prelude::*;
use types::{
    AccountOverview, ApiError, FlagView, HistoryPage, LegacyPage, LegacyView, MemberView, StoryView, UserView,
};

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
        _ => Err(ApiError::Unauthenticated { message: "Please sign in first.".into() }),
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
    })
}

#[server(endpoint = "load_legacies")]
pub async fn load_legacies() -> Result<Vec<LegacyView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.stories.my_legacies(&auth.user).await?)
}

#[server(endpoint = "load_legacy")]
pub async fn load_legacy(id: String) -> Result<LegacyPage, ApiError> {
    let (backend, auth) = context()?;
    let user = auth.as_ref().map(|a| &a.user);
    let stories = &backend.stories;
    let legacy = stories.legacy(user, &id).await?;
    let request = backend::stories::service::ListRequest {
        filter: backend::stories::repo::StoryFilter { legacy_id: id.clone(), ..Default::default() },
        cursor: None,
        limit: Some(100),
    };
    let page = stories.list(user, &request).await?;
    let (can_write, can_manage) = stories.abilities(user, &id).await?;
    Ok(LegacyPage { legacy, stories: page, can_write, can_manage })
}

#[server(endpoint = "load_story")]
pub async fn load_story(id: String) -> Result<StoryView, ApiError> {
    let (backend, auth) = context()?;
    Ok(backend.stories.story(auth.as_ref().map(|a| &a.user), &id).await?)
}

#[server(endpoint = "load_history")]
pub async fn load_history(id: String, from: Option<i64>, to: Option<i64>) -> Result<HistoryPage, ApiError> {
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

#[server(endpoint = "load_members")]
pub async fn load_members(legacy_id: String) -> Result<(LegacyView, Vec<MemberView>), ApiError> {
    let (backend, auth) = signed_in()?;
    let legacy = backend.stories.legacy(Some(&auth.user), &legacy_id).await?;
    Ok((legacy, backend.stories.members(&auth.user, &legacy_id).await?))
}

/// The legacy name and role an invitation offers.
#[server(endpoint = "load_invitation")]
pub async fn load_invitation(token: String) -> Result<(String, String), ApiError> {
    let (backend, _) = context()?;
    let (legacy, role) = backend.stories.invitation(&token).await?;
    Ok((legacy.name, role.as_str().to_string()))
}

#[server(endpoint = "load_moderation")]
pub async fn load_moderation() -> Result<Vec<FlagView>, ApiError> {
    let (backend, auth) = signed_in()?;
    Ok(backend.stories.moderation_queue(&auth.user).await?)
}

/// Saves the editor's content as a draft revision; returns the new version. A stale
/// `version` is a conflict naming who saved first.
#[server(endpoint = "autosave_story")]
pub async fn autosave_story(
    id: String,
    version: i64,
    title: String,
    body: String,
    tags: String,
) -> Result<i64, ApiError> {
    let (backend, auth) = signed_in()?;
    let update = types::StoryUpdate {
        version,
        title,
        body,
        tags: types::stories::split_tags(&tags),
        visibility: None,
        status: None,
    };
    Ok(backend.stories.update_story(&auth.user, &id, &update).await?.version)
}
