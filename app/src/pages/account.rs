//! Account settings: profile, who the user is in family trees, password, linked providers
//! and signed-in sessions.
//! Only reachable signed in (the server redirects others to sign in and back).

use leptos::prelude::*;
use types::{routes, AccountOverview, SessionView};

use crate::api::load_account;
use crate::components::form::{Field, FlashMessage};
use crate::components::page::{format_time, list_or, Heading, Loaded};
use crate::request;

#[component]
pub fn AccountPage() -> impl IntoView {
    let flash = request::flash();
    let overview = Resource::new_blocking(|| (), |_| load_account());
    view! {
        <Heading text="Your account"/>
        <FlashMessage flash=flash.clone()/>
        <Loaded data=overview render=move |overview| view! { <AccountDetails overview flash=flash.clone()/> }.into_any()/>
    }
}

#[component]
fn AccountDetails(overview: AccountOverview, flash: types::Flash) -> impl IntoView {
    let AccountOverview { user, has_password, linked_providers, sessions, people, email_verified, email_enabled } =
        overview;
    let error = |name: &str| flash.field_error(name).map(str::to_string);
    view! {
        <section class="panel" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd dir="auto" data-testid="profile-name">{user.display_name}</dd>
                <dt>"Email"</dt>
                <dd>
                    <span data-testid="profile-email">{user.email}</span>
                    {if email_verified {
                        view! { " " <span class="note">"(verified)"</span> }.into_any()
                    } else {
                        view! {
                            " " <span class="note">"(not verified: Heirloom sends no news of your family there yet)"</span>
                            {email_enabled.then(|| view! {
                                <form method="post" action=routes::form::SEND_VERIFICATION class="inline-form">
                                    <button type="submit" class="small">"Send the verification link again"</button>
                                </form>
                            })}
                        }.into_any()
                    }}
                </dd>
                <dt>"Role"</dt><dd>{if user.is_admin { "Administrator" } else { "Member" }}</dd>
            </dl>
        </section>
        <section class="panel" aria-labelledby="notifications-title">
            <h2 id="notifications-title">"Notifications"</h2>
            <p>
                "Choose how you hear of comments, replies, mentions, reactions and new stories: "
                <a href=routes::NOTIFICATION_SETTINGS.path>"notification settings"</a>
            </p>
        </section>
        <section class="panel" aria-labelledby="you-title">
            <h2 id="you-title">"You in family trees"</h2>
            {list_or(people, "", "",
                "Open your own page among a legacy's people and choose \"This is me\": pages then say how others are related to you.",
                |mine| view! {
                    <a dir="auto" href=routes::PERSON.to(&[&mine.person.id])>{mine.person.name.clone()}</a>
                    " in " <a dir="auto" href=routes::LEGACY.to(&[&mine.legacy_id])>{mine.legacy_name.clone()}</a>
                })}
        </section>
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">{if has_password { "Change password" } else { "Set a password" }}</h2>
            <form method="post" action=routes::form::PASSWORD class="stack" novalidate>
                {has_password.then(|| view! {
                    <Field label="Current password" name="current_password" kind="password"
                        autocomplete="current-password" error=error("current_password")/>
                })}
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                    hint="At least 8 characters. Your other sessions will be signed out." error=error("new_password")/>
                <button type="submit">"Save password"</button>
            </form>
        </section>
        <section class="panel" aria-labelledby="providers-title">
            <h2 id="providers-title">"Linked sign-in providers"</h2>
            {list_or(linked_providers, "", "", "None. You sign in with your password.",
                |(name, email)| view! { {name} {email.map(|e| format!(" ({e})"))} })}
        </section>
        <section class="panel" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Where you are signed in"</h2>
            <ul class="session-list">
                {sessions.into_iter().map(|s| view! { <SessionItem session=s/> }).collect_view()}
            </ul>
            <form method="post" action=routes::form::REVOKE_OTHER_SESSIONS>
                <button type="submit">"Sign out everywhere else"</button>
            </form>
        </section>
    }
}

#[component]
fn SessionItem(session: SessionView) -> impl IntoView {
    let label = if session.current { "Sign out" } else { "Revoke" };
    view! {
        <li class="session">
            <div>
                <strong>{session.user_agent.clone()}</strong>
                {session.current.then(|| view! { " " <span class="badge">"this browser"</span> })}
                <br/>
                <small>
                    "Signed in with " {session.method.clone()} " from " {session.ip.clone()}
                    " · since " {format_time(session.created_at)} " · last seen " {format_time(session.last_seen_at)}
                </small>
            </div>
            <form method="post" action=routes::form::REVOKE_SESSION>
                <input type="hidden" name="id" value=session.id.to_string()/>
                <button type="submit" aria-label=format!("{label} session from {}", session.user_agent)>{label}</button>
            </form>
        </li>
    }
}
