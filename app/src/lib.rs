//! Heirloom's user interface. Pages render fully on the server; the interactive parts
//! are islands (docs/adr/0001), the only components shipped as WASM.

// Page view types nest deeply (the search results page exceeds the default 128 when
// built for the browser).
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
mod request;
pub mod routing;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::SsrMode;
use routing::TablePath;
use types::routes;

use components::layout::{Footer, Header};
use components::raw_text;
use pages::account::AccountPage;
use pages::admin::{DeadLettersPage, DeliveriesPage, DeliveryPage, WebhooksPage};
use pages::connect::ConnectPage;
use pages::editor::{EditStoryPage, NewStoryPage};
use pages::history::HistoryPageView;
use pages::home::HomePage;
use pages::invitation::InvitationPage;
use pages::legacies::{EditLegacyPage, LegaciesPage};
use pages::legacy::LegacyPageView;
use pages::media::{LegacyMediaPage, MediaItemPage};
use pages::members::MembersPage;
use pages::moderation::ModerationPage;
use pages::not_found::NotFound;
use pages::notifications::{NotificationSettingsPage, NotificationsPage, UnsubscribePage};
use pages::password_reset::{ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage};
use pages::people::{EditPersonPage, FamilyTreePage, GedcomImportPage, PeopleListPage, PersonPageView};
use pages::search::SearchPage;
use pages::signin::SignInPage;
use pages::signup::SignUpPage;
use pages::story::StoryPage;
use pages::tips::TipsPage;

/// The HTML document around every page, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    request::set_page_security_policy();
    let theme = request::theme_cookie().map(|theme| theme.as_str());
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/heirloom.css"/>
        <Title formatter=raw_text::page_title/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Header theme=request::theme_cookie()/>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=TablePath(routes::HOME.path) view=HomePage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::SIGN_IN.path) view=SignInPage/>
                    <Route path=TablePath(routes::SIGN_UP.path) view=SignUpPage/>
                    <Route path=TablePath(routes::FORGOT_PASSWORD.path) view=ForgotPasswordPage/>
                    <Route path=TablePath(routes::RESET_PASSWORD.path) view=ResetPasswordPage/>
                    <Route path=TablePath(routes::VERIFY_EMAIL.path) view=VerifyEmailPage/>
                    // Async: the page waits for its data, so it is complete without JavaScript.
                    <Route path=TablePath(routes::ACCOUNT.path) view=AccountPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::LEGACIES.path) view=LegaciesPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::LEGACY.path) view=LegacyPageView ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::EDIT_LEGACY.path) view=EditLegacyPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::NEW_STORY.path) view=NewStoryPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::MEMBERS.path) view=MembersPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::LEGACY_MEDIA.path) view=LegacyMediaPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::MEDIA_PAGE.path) view=MediaItemPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::PEOPLE.path) view=PeopleListPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::PERSON.path) view=PersonPageView ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::EDIT_PERSON.path) view=EditPersonPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::PERSON_TREE.path) view=FamilyTreePage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::GEDCOM_IMPORT.path) view=GedcomImportPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::STORY.path) view=StoryPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::EDIT_STORY.path) view=EditStoryPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::HISTORY.path) view=HistoryPageView ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::INVITATION.path) view=InvitationPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::MODERATION.path) view=ModerationPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::NOTIFICATIONS.path) view=NotificationsPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::NOTIFICATION_SETTINGS.path) view=NotificationSettingsPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::UNSUBSCRIBE.path) view=UnsubscribePage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::SEARCH.path) view=SearchPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::TIPS.path) view=TipsPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::CONNECT.path) view=ConnectPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::DELIVERIES.path) view=DeliveriesPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::DELIVERY.path) view=DeliveryPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::WEBHOOKS.path) view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=TablePath(routes::DEAD_LETTERS.path) view=DeadLettersPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}

/// Called by the WASM entry point: wakes up the islands on the page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
