//! The header, navigation and footer around every page.

use leptos::prelude::*;
use types::{routes, Theme};

use super::notification_bell::NotificationBell;
use super::search_box::SearchBox;
use super::theme_toggle::ThemeToggle;
use crate::api::unread_notifications;
use crate::request;

#[component]
pub fn Header(theme: Option<Theme>) -> impl IntoView {
    let user = request::current_user();
    view! {
        <header class="site-header">
            <a class="brand" href=routes::HOME.path>
                <span class="brand-mark" aria-hidden="true">"❦"</span>
                " Heirloom"
            </a>
            <nav aria-label="Main">
                <ul>
                    <li><a href=routes::HOME.path>"Home"</a></li>
                    {user.is_some().then(|| view! {
                        <li><a href=routes::LEGACIES.path>"Legacies"</a></li>
                        <li><a href=routes::TIPS.path>"Tips"</a></li>
                    })}
                    {user.as_ref().is_some_and(|u| u.is_admin).then(|| view! { <li><a href=routes::DELIVERIES.path>"Admin"</a></li> })}
                </ul>
            </nav>
            <SearchBox/>
            <div class="account-menu">
                {match user {
                    Some(user) => view! {
                        <Bell/>
                        <a dir="auto" href=routes::ACCOUNT.path class="account-link">{user.display_name}</a>
                        <form method="post" action=routes::form::SIGN_OUT class="inline-form">
                            <button type="submit" class="link-button">"Sign out"</button>
                        </form>
                    }.into_any(),
                    None => view! { <a href=routes::SIGN_IN.path>"Sign in"</a> }.into_any(),
                }}
            </div>
            <ThemeToggle initial=theme/>
        </header>
    }
}

/// The bell with the reader's unread count (none shown should it fail to load).
#[component]
fn Bell() -> impl IntoView {
    let unread = Resource::new_blocking(|| (), |_| unread_notifications());
    view! {
        <Suspense fallback=|| ()>
            {move || unread.get().map(|unread| view! { <NotificationBell unread=unread.unwrap_or(0)/> })}
        </Suspense>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "Heirloom " {env!("CARGO_PKG_VERSION")}
                " · Your family's stories, kept on your own server."
            </p>
        </footer>
    }
}
