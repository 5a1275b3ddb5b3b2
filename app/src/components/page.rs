//! What pages are made of: their heading, loading their data on the server (a blocking
//! resource, so the HTML is complete without JavaScript), lists of cards, and the error
//! notice a failed load shows, with its HTTP status.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::de::DeserializeOwned;
use serde::Serialize;
use types::ApiError;

use crate::request;

/// A page's title (the browser tab's) and its heading, the same words.
#[component]
pub fn Heading(text: &'static str) -> impl IntoView {
    view! {
        <Title text/>
        <h1>{text}</h1>
    }
}

/// Shows what went wrong loading a page and sets the matching status (404, 401…).
#[component]
pub fn LoadError(error: ApiError) -> impl IntoView {
    request::set_status(http::StatusCode::from_u16(error.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
    let (title, hint) = match error {
        ApiError::NotFound { .. } => ("Not found", Some("It may have been deleted, or it is not shared with you.")),
        ApiError::Unauthenticated { .. } => ("Please sign in", None),
        // The message says what is not allowed ("You can read this story but not edit it").
        ApiError::Forbidden { .. } => ("Not allowed", None),
        _ => ("Something went wrong", None),
    };
    view! {
        <section class="load-error">
            <h1>{title}</h1>
            <p role="alert">{error.message().to_string()}</p>
            {hint.map(|hint| view! { <p>{hint}</p> })}
        </section>
    }
}

/// Waits for a page's data (complete HTML without JavaScript, the routes being async)
/// and shows it with `render`, or the failure with its status.
#[component]
pub fn Loaded<T, R>(data: Resource<Result<T, ApiError>>, render: R) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    R: Fn(T) -> AnyView + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(value) => render(value),
                Err(error) => view! { <LoadError error/> }.into_any(),
            })}
        </Suspense>
    }
}

/// A page whose data is what `load` returns for `key` (read before the page is sent, so
/// it arrives whole), shown with `render`, or the failure with its status.
pub fn loaded_page<K, T, Fut, R>(key: K, load: impl Fn(K) -> Fut + Send + Sync + 'static, render: R) -> impl IntoView
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    R: Fn(T) -> AnyView + Send + Sync + 'static,
{
    let data = Resource::new_blocking(move || key.clone(), load);
    view! { <Loaded data render/> }
}

/// A page's list as cards once loaded, or the `empty` sentence when there is none.
#[component]
pub fn CardList<T, C, V>(data: Resource<Result<Vec<T>, ApiError>>, empty: &'static str, card: C) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    C: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let render = move |items: Vec<T>| list_or(items, "card-list", "card", empty, card.clone());
    view! { <Loaded data render/> }
}

/// The items as a list (`ul` and `li` of the given classes, empty for none), or the
/// `empty` sentence when there is none.
pub fn list_or<T, V>(
    items: Vec<T>,
    list_class: &'static str,
    item_class: &'static str,
    empty: &'static str,
    item: impl Fn(T) -> V,
) -> AnyView
where
    V: IntoView + 'static,
{
    if items.is_empty() {
        return view! { <p>{empty}</p> }.into_any();
    }
    let class = |name: &'static str| (!name.is_empty()).then_some(name);
    view! {
        <ul class=class(list_class)>
            {items.into_iter().map(|i| view! { <li class=class(item_class)>{item(i)}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Formats unix milliseconds as a UTC date and time.
pub fn format_time(millis: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A route parameter of the page being rendered.
pub fn param(name: &'static str) -> String {
    leptos_router::hooks::use_params_map().with_untracked(|p| p.get(name)).unwrap_or_default()
}

/// A query parameter of the page being rendered.
pub fn query(name: &'static str) -> Option<String> {
    leptos_router::hooks::use_query_map().with_untracked(|q| q.get(name))
}
