//! One legacy: who it remembers and the stories the reader may see.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, LegacyPage};

use crate::api::load_legacy;
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, list_or, loaded_page, param, query};
use crate::components::uploader::Uploader;
use crate::pages::legacies::dates;
use crate::request;

#[component]
pub fn LegacyPageView() -> impl IntoView {
    loaded_page(
        (param("id"), query("cursor")),
        |(id, cursor)| load_legacy(id, cursor),
        |page| view! { <LegacyDetails page/> }.into_any(),
    )
}

#[component]
fn LegacyDetails(page: LegacyPage) -> impl IntoView {
    let LegacyPage { legacy, stories, can_write, can_manage, following } = page;
    let id = legacy.id.clone();
    let flash = request::flash();
    view! {
        <Title text=legacy.name.clone()/>
        <FlashMessage flash/>
        <header class="legacy-header">
            <h1 dir="auto">{legacy.name.clone()}</h1>
            <p class="dates">{dates(&legacy.born, &legacy.died)}</p>
            <p dir="auto" class="lede">{legacy.summary.clone()}</p>
            <nav class="actions" aria-label="Legacy">
                {can_write.then(|| view! { <a class="button primary" href=routes::NEW_STORY.to(&[&id])>"Write a story"</a> })}
                <a class="button" href=routes::LEGACY_MEDIA.to(&[&id])>"Photos and recordings"</a>
                {legacy.my_role.is_some().then(|| view! { <a class="button" href=routes::PEOPLE.to(&[&id])>"People"</a> })}
                {legacy.my_role.is_some().then(|| view! { <a class="button" href=routes::MEMBERS.to(&[&id])>"Members"</a> })}
                {can_manage.then(|| view! { <a class="button" href=routes::EDIT_LEGACY.to(&[&id])>"Edit legacy"</a> })}
                {can_manage.then(|| view! { <a class="button" href=routes::MODERATION.path>"Moderation"</a> })}
            </nav>
            {following.map(|following| follow_form(&id, following))}
        </header>
        <section aria-labelledby="stories-title">
            <h2 id="stories-title">"Stories"</h2>
            {list_or(stories.items, "card-list", "card", "No stories yet.", |s| view! {
                <h3><a dir="auto" href=routes::STORY.to(&[&s.id])>{s.title.clone()}</a></h3>
                <p class="meta">
                    {format!("By {} · {} · {}", s.author_name, s.visibility, format_time(s.updated_at))}
                    {(s.status == types::StoryStatus::Draft).then(|| view! { " " <span class="badge">"draft"</span> })}
                </p>
                <p dir="auto">{s.excerpt.clone()}</p>
            })}
            {stories.next_cursor.map(|cursor| view! {
                <p><a href=more_stories_link(&id, &cursor) rel="next">"More stories"</a></p>
            })}
        </section>
        {can_write.then(|| view! {
            <section aria-labelledby="legacy-upload-title">
                <h2 id="legacy-upload-title">"Add photos and recordings"</h2>
                <p class="note">
                    "They go to the legacy's "
                    <a href=routes::LEGACY_MEDIA.to(&[&id])>"photos and recordings"</a>
                    "; to add them to a story, open the story."
                </p>
                <noscript><p class="note">"Uploading needs JavaScript."</p></noscript>
                <Uploader legacy_id=id.to_string() story_id=None/>
            </section>
        })}
    }
}

/// Follow or stop following: whether the legacy's new stories reach the member's bell.
fn follow_form(legacy_id: &str, following: bool) -> impl IntoView {
    let (action, note, button) = if following {
        (
            routes::form::UNFOLLOW_LEGACY,
            "You follow this legacy: its new stories reach your notifications.",
            "Stop following",
        )
    } else {
        (
            routes::form::FOLLOW_LEGACY,
            "You do not follow this legacy: its new stories do not reach your notifications.",
            "Follow",
        )
    };
    view! {
        <form method="post" action=routes::fill(action, &[legacy_id]) class="inline-form follow">
            <span class="note">{note}</span>
            " "
            <button type="submit">{button}</button>
        </form>
    }
}

fn more_stories_link(legacy_id: &str, cursor: &str) -> String {
    let cursor: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    format!("/legacies/{legacy_id}?cursor={cursor}#stories-title")
}
