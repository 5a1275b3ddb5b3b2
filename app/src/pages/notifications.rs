//! The reader's notifications (`/notifications`: newest first, each opened through a
//! form that marks it read, "Mark all read", "Older" pages), their settings (how they
//! hear of each kind), and the page an email's unsubscribe link opens, which asks before
//! it stops anything.

use leptos::prelude::*;
use types::{routes, Delivery, NotificationPage, NotificationPreference, NotificationView};

use crate::api::{check_unsubscribe, load_notification_settings, load_notifications};
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, list_or, loaded_page, query, Heading};
use crate::request;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let before = query("before").filter(|c| !c.is_empty());
    view! {
        <Heading text="Notifications"/>
        <FlashMessage flash=request::flash()/>
        {loaded_page(before, load_notifications, |page: NotificationPage| notification_list(page).into_any())}
    }
}

fn notification_list(page: NotificationPage) -> impl IntoView {
    let older = page.next_cursor.map(|cursor| {
        let href = format!("{}?before={}", routes::NOTIFICATIONS.path, urlencoding_of(&cursor));
        view! { <p><a href=href rel="next">"Older"</a></p> }
    });
    view! {
        <div class="toolbar">
            {(page.unread > 0).then(|| view! {
                <form method="post" action=routes::form::READ_ALL_NOTIFICATIONS class="inline-form">
                    <button type="submit" class="small">"Mark all read"</button>
                </form>
            })}
            <a href=routes::NOTIFICATION_SETTINGS.path>"Notification settings"</a>
        </div>
        {list_or(
            page.items,
            "notification-list",
            "",
            "Nothing yet. When someone comments on what you wrote, replies to you or mentions you, it shows here.",
            notification,
        )}
        {older}
    }
}

fn notification(n: NotificationView) -> impl IntoView {
    let class = if n.read { "notification" } else { "notification unread" };
    let state = if n.read { "" } else { " · unread" };
    view! {
        <article class=class aria-label=n.text.clone()>
            // Opening it marks it read, then goes where it points.
            <form method="post" action=routes::fill(routes::form::READ_NOTIFICATION, &[&n.id]) class="inline-form">
                <button type="submit" class="link-button" dir="auto">{n.text.clone()}</button>
            </form>
            <p class="note">
                <bdi>{n.legacy_name.clone()}</bdi>
                {format!(" · {}{state}", format_time(n.created_at))}
            </p>
        </article>
    }
}

fn urlencoding_of(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    view! {
        <Heading text="Notification settings"/>
        <FlashMessage flash=request::flash()/>
        {loaded_page((), |_| load_notification_settings(), |(preferences, email): (Vec<NotificationPreference>, bool)| {
            settings_form(preferences, email).into_any()
        })}
    }
}

fn settings_form(preferences: Vec<NotificationPreference>, email: bool) -> impl IntoView {
    view! {
        <p>"Everything but “Off” also shows under the bell."</p>
        {(!email).then(|| view! {
            <p class="note">
                "This server sends no email (its administrator has not set up a mail server), so emails and "
                "digests are kept under the bell only."
            </p>
        })}
        <form method="post" action=routes::form::NOTIFICATION_SETTINGS class="stack">
            {preferences.into_iter().map(|p| {
                let id = format!("delivery-{}", p.kind);
                view! {
                    <p>
                        <label for=id.clone()>{p.kind.label()}</label>
                        " "
                        <select id=id name=p.kind.as_str()>
                            {Delivery::ALL.iter().map(|d| view! {
                                <option value=d.as_str() selected=*d == p.delivery>{d.label()}</option>
                            }).collect_view()}
                        </select>
                    </p>
                }
            }).collect_view()}
            <button type="submit" class="primary">"Save"</button>
        </form>
    }
}

#[component]
pub fn UnsubscribePage() -> impl IntoView {
    let done = query("done").is_some();
    let link =
        (query("user").unwrap_or_default(), query("scope").unwrap_or_default(), query("sig").unwrap_or_default());
    view! {
        <Heading text="Stop emails"/>
        <FlashMessage flash=request::flash()/>
        {if done {
            view! { <p><a href=routes::NOTIFICATION_SETTINGS.path>"Notification settings"</a></p> }.into_any()
        } else {
            loaded_page(link.clone(), |(user, scope, sig)| check_unsubscribe(user, scope, sig), move |what: String| {
                let (user, scope, sig) = link.clone();
                view! {
                    <p>{format!("Stop {what}? You will still see them under the bell when you sign in.")}</p>
                    <form method="post" action=routes::form::UNSUBSCRIBE class="inline-form">
                        <input type="hidden" name="user" value=user/>
                        <input type="hidden" name="scope" value=scope/>
                        <input type="hidden" name="sig" value=sig/>
                        <button type="submit" class="primary">"Stop these emails"</button>
                    </form>
                }.into_any()
            }).into_any()
        }}
    }
}
