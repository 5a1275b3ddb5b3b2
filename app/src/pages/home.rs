//! The home page: what Heirloom is, for someone who has never heard of it, and for a
//! signed-in reader first a greeting and the next tip.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, ActivityItem, ActivityKind, FeedPage, LegacyView};

use crate::api::{current_tip, load_feed};
use crate::components::feed_more::{FeedMore, NewInFeed};
use crate::components::page::{format_time, query};
use crate::pages::tips::NextTipCard;
use crate::request;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = request::current_user();
    // A visitor who is not signed in is offered an account where anyone may open one
    // (invite-only instances open accounts from the invitation link instead).
    let signed_out = user.is_none();
    let signup_open = request::signup_policy() == "open";
    view! {
        <Title text=""/>
        {user.map(|user| view! { <Welcome name=user.display_name/> })}
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">"Keep the stories of the people you love"</h1>
            <p class="lede">
                "Heirloom is a private home for your family's memories: the stories, photos, "
                "voice recordings and people you want to remember, kept on a server you own."
            </p>
            {signed_out.then(|| view! {
                <p class="hero-actions">
                    {signup_open.then(|| view! { <a class="button primary" href=routes::SIGN_UP.path>"Create an account"</a> })}
                    <a class="button" href=routes::SIGN_IN.path>"Sign in"</a>
                </p>
            })}
        </section>
        <section class="features" aria-labelledby="features-title">
            <h2 id="features-title">"What you can do with it"</h2>
            <ul class="feature-list">
                {FEATURES.iter().map(|(title, text)| view! { <li><h3>{*title}</h3><p>{*text}</p></li> }).collect_view()}
            </ul>
        </section>
    }
}

/// A signed-in reader's start: where their legacies are, and the next tip (left out,
/// never an error page, should it fail to load).
#[component]
fn Welcome(name: String) -> impl IntoView {
    // An older page of the feed (`?before=`, also what the endless feed fetches) asks the
    // recommender for nothing: each tip shown is recorded.
    let paging = query("before").is_some();
    let tip = Resource::new_blocking(
        move || paging,
        |paging| async move {
            if paging {
                Ok(None)
            } else {
                current_tip().await.map(Some)
            }
        },
    );
    view! {
        <section class="welcome" aria-labelledby="welcome-title">
            <h2 id="welcome-title">"Welcome back, "<bdi>{name}</bdi></h2>
            <p><a href="/legacies">"Your legacies"</a>" · "<a href="/connect">"Connected apps"</a></p>
            <Suspense fallback=|| ()>
                {move || tip.get().and_then(Result::ok).flatten().map(|tip| view! { <NextTipCard tip/> }.into_any())}
            </Suspense>
        </section>
        <Feed/>
    }
}

/// "What's new": the activity of the reader's legacies (`?legacy=` keeps to one), a page
/// at a time with an "Older" link (`?before=`), readable without JavaScript.
#[component]
fn Feed() -> impl IntoView {
    let legacy = query("legacy").filter(|l| !l.is_empty());
    let before = query("before").filter(|c| !c.is_empty());
    // On the first page, what arrives while it is read is counted above it.
    let news = match (&before, request::current_user()) {
        (None, Some(me)) => {
            let href = match &legacy {
                Some(legacy) => format!(
                    "{}?legacy={}",
                    routes::HOME.path,
                    url::form_urlencoded::byte_serialize(legacy.as_bytes()).collect::<String>()
                ),
                None => routes::HOME.path.to_string(),
            };
            Some(view! { <NewInFeed me=me.id.to_string() legacy=legacy.clone().unwrap_or_default() href/> }.into_any())
        }
        _ => None,
    };
    let key = (legacy.clone(), before);
    let feed = Resource::new_blocking(move || key.clone(), |(legacy, before)| load_feed(legacy, before));
    view! {
        <section class="feed" aria-labelledby="feed-title">
            <h2 id="feed-title">"What's new"</h2>
            {news}
            <Suspense fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || feed.get().map(|loaded| match loaded {
                    Err(_) => view! { <p class="note">"The feed could not be loaded just now."</p> }.into_any(),
                    Ok((page, legacies)) => feed_page(page, legacies, legacy.clone()).into_any(),
                })}
            </Suspense>
        </section>
    }
}

fn feed_page(page: FeedPage, legacies: Vec<LegacyView>, legacy: Option<String>) -> impl IntoView {
    let chosen = legacy.clone().unwrap_or_default();
    let older = page.next_cursor.map(|cursor| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("before", &cursor);
        if let Some(legacy) = &legacy {
            query.append_pair("legacy", legacy);
        }
        let href = format!("{}?{}", routes::HOME.path, query.finish());
        view! { <FeedMore next=href/> }
    });
    view! {
        {(legacies.len() > 1).then(|| view! {
            <form method="get" action=routes::HOME.path class="inline-form feed-filter">
                <label for="feed-legacy">"Show"</label>
                " "
                <select id="feed-legacy" name="legacy">
                    <option value="">"All your legacies"</option>
                    {legacies.into_iter().map(|l| {
                        let selected = l.id == chosen;
                        view! { <option value=l.id.to_string() selected=selected>{l.name.clone()}</option> }
                    }).collect_view()}
                </select>
                " "
                <button type="submit" class="small">"Show"</button>
            </form>
        })}
        {if page.items.is_empty() {
            view! { <p class="empty">"Nothing new yet. Stories, photos and comments from your legacies will show here."</p> }.into_any()
        } else {
            view! {
                <ol class="feed-list">
                    {page.items.into_iter().map(|item| view! { <li class="activity">{activity_line(item)}</li> }).collect_view()}
                </ol>
            }.into_any()
        }}
        {older}
    }
}

/// One feed line: who did what, a link to it, and when.
fn activity_line(item: ActivityItem) -> impl IntoView {
    let who = if item.actor_name.is_empty() { "Someone".to_string() } else { item.actor_name.clone() };
    let story_link = item.story_id.as_ref().map(|id| routes::STORY.to(&[id]));
    let titled = |fallback: &str| {
        if item.story_title.is_empty() {
            fallback.to_string()
        } else {
            format!("“{}”", item.story_title)
        }
    };
    let n = item.count;
    let (doing, what, href) = match item.kind {
        ActivityKind::StoryPublished => ("published".to_string(), titled("a story"), story_link.unwrap_or_default()),
        ActivityKind::StoryEdited => ("changed".to_string(), titled("a story"), story_link.unwrap_or_default()),
        ActivityKind::MediaAdded => {
            let doing = if n == 1 {
                "added a photo or recording to".to_string()
            } else {
                format!("added {n} photos and recordings to")
            };
            let href = match (&story_link, &item.media_id) {
                (Some(story), _) => story.clone(),
                (None, Some(media)) if n == 1 => routes::MEDIA_PAGE.to(&[&item.legacy_id, media]),
                _ => routes::LEGACY_MEDIA.to(&[&item.legacy_id]),
            };
            (doing, titled(&item.legacy_name), href)
        }
        ActivityKind::Commented => {
            let doing = if n == 1 { "commented on".to_string() } else { format!("left {n} comments on") };
            let anchor = item.comment_id.as_ref().map(|c| format!("#comment-{c}")).unwrap_or_default();
            let href = match (&item.media_id, &story_link) {
                (Some(media), _) => format!("{}{anchor}", routes::MEDIA_PAGE.to(&[&item.legacy_id, media])),
                (None, Some(story)) => format!("{story}{anchor}"),
                (None, None) => routes::LEGACY.to(&[&item.legacy_id]),
            };
            let what = if item.media_id.is_some() { "a photo or recording".to_string() } else { titled("a story") };
            (doing, what, href)
        }
        ActivityKind::Reacted => {
            let href = match (&item.media_id, &story_link) {
                (Some(media), _) => routes::MEDIA_PAGE.to(&[&item.legacy_id, media]),
                (None, Some(story)) => story.clone(),
                (None, None) => routes::LEGACY.to(&[&item.legacy_id]),
            };
            let what = match (&item.comment_id, &item.media_id) {
                (Some(_), _) => format!("a comment on {}", titled("a photo or recording")),
                (None, Some(_)) => "a photo or recording".to_string(),
                (None, None) => titled("a story"),
            };
            ("reacted to".to_string(), what, href)
        }
        ActivityKind::PersonAdded => {
            let doing = if n == 1 { "added a person to".to_string() } else { format!("added {n} people to") };
            let href = match &item.person_id {
                Some(person) if n == 1 => routes::PERSON.to(&[person]),
                _ => routes::PEOPLE.to(&[&item.legacy_id]),
            };
            (doing, item.legacy_name.clone(), href)
        }
        ActivityKind::MemberJoined => {
            ("joined".to_string(), item.legacy_name.clone(), routes::LEGACY.to(&[&item.legacy_id]))
        }
    };
    let place = (!matches!(item.kind, ActivityKind::PersonAdded | ActivityKind::MemberJoined)
        && !item.story_title.is_empty())
    .then(|| view! { " in " <a dir="auto" href=routes::LEGACY.to(&[&item.legacy_id])>{item.legacy_name.clone()}</a> });
    view! {
        <bdi>{who}</bdi> " " {doing} " " <a dir="auto" href=href>{what}</a> {place}
        " " <span class="meta">{format_time(item.updated_at)}</span>
    }
}

/// What the home page tells a visitor Heirloom does: a heading and a sentence each.
const FEATURES: &[(&str, &str)] = &[
    (
        "Write stories together",
        "Create a legacy for a grandparent, a family or a place, and invite relatives to write what they remember. \
         Every edit is kept, so nothing is lost.",
    ),
    (
        "Keep photos, voices and films",
        "Upload pictures, audio and video from any device; Heirloom makes previews and keeps the originals safe.",
    ),
    (
        "Find anything",
        "One search box finds stories, people and captions as you type, showing only what you are allowed to see.",
    ),
    (
        "Be gently reminded",
        "A quiet tip page suggests one thing at a time: a question to ask, a draft to finish, a photo to caption.",
    ),
    (
        "Own it",
        "It runs on your own machine with nothing else to install, exports everything as Markdown and files, and \
         grows to many servers when you need it.",
    ),
];
