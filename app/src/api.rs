//! Server functions: thin wrappers that find the signed-in user and call one backend
//! service. They run on the server; islands call them over HTTP.

use leptos::prelude::*;
use types::{AccountOverview, ApiError, UserView};

/// The signed-in user, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, ApiError> {
    Ok(crate::request::current_user())
}

/// The account page's data; 401 when signed out.
#[server(endpoint = "load_account")]
pub async fn load_account() -> Result<AccountOverview, ApiError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(ApiError::internal)?;
    let auth = parts
        .extensions
        .get::<backend::identity::Authenticated>()
        .cloned()
        .ok_or(ApiError::Unauthenticated { message: "Please sign in first.".into() })?;
    let backend = use_context::<backend::Backend>().ok_or_else(ApiError::internal)?;
    let identity = &backend.identity;
    Ok(AccountOverview {
        user: auth.user.view(),
        has_password: identity.has_password(&auth.user).await?,
        linked_providers: identity.linked_providers(&auth.user).await?,
        sessions: identity.sessions(&auth).await?,
    })
}
