//! A story as readers see it: server-rendered, sanitized HTML, readable without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, ConversationView, MediaView, StoryView};

use crate::api::load_story_page;
use crate::components::conversation::Conversation;
use crate::components::form::{FlashMessage, ReportForm};
use crate::components::media::MediaGallery;
use crate::components::page::{format_time, loaded_page, param};
use crate::components::uploader::Uploader;
use crate::request;

#[component]
pub fn StoryPage() -> impl IntoView {
    loaded_page(param("id"), load_story_page, |(story, media, conversation)| {
        view! { <StoryArticle story media conversation/> }.into_any()
    })
}

#[component]
fn StoryArticle(story: StoryView, media: Vec<MediaView>, conversation: ConversationView) -> impl IntoView {
    let flash = request::flash();
    let signed_in = request::current_user().is_some();
    let id = story.id.clone();
    let deletes_too = delete_note(media.len());
    view! {
        <Title text=story.title.clone()/>
        <FlashMessage flash/>
        <article class="story">
            <header>
                <p class="crumbs"><a dir="auto" href=routes::LEGACY.to(&[&story.legacy_id])>{story.legacy_name.clone()}</a></p>
                <h1 dir="auto">{story.title.clone()}</h1>
                <p class="meta">
                    {format!("By {} · last changed by {} on {} · {} words", story.author_name, story.updated_by_name,
                        format_time(story.updated_at), story.word_count)}
                    {(story.status == types::StoryStatus::Draft).then(|| view! { " " <span class="badge">"draft"</span> })}
                </p>
            </header>
            <div dir="auto" class="story-body" inner_html=story.body_html.clone()></div>
            {(!story.tags.is_empty()).then(|| view! {
                <ul class="tags" aria-label="Tags">
                    {story.tags.iter().map(|t| view! { <li>{t.clone()}</li> }).collect_view()}
                </ul>
            })}
        </article>
        {(!media.is_empty() || story.can_edit).then(|| view! {
            <section class="story-media" aria-labelledby="story-media-title">
                <h2 id="story-media-title">"Photos and recordings"</h2>
                <MediaGallery items=media empty_text="None yet."/>
                {story.can_edit.then(|| view! {
                    <h3>"Add to this story"</h3>
                    <noscript><p class="note">"Uploading needs JavaScript."</p></noscript>
                    <Uploader legacy_id=story.legacy_id.to_string() story_id=Some(story.id.to_string())/>
                })}
            </section>
        })}
        <nav class="actions" aria-label="Story">
            {story.can_edit.then(|| view! { <a class="button primary" href=routes::EDIT_STORY.to(&[&id])>"Edit"</a> })}
            <a class="button" href=routes::HISTORY.to(&[&id])>"History"</a>
            {story.can_delete.then(|| view! {
                <form method="post" action=routes::fill(routes::form::DELETE_STORY, &[&id]) class="inline-form">
                    <button type="submit" aria-describedby="delete-note">"Delete"</button>
                    " " <small id="delete-note" class="note">{deletes_too}</small>
                </form>
            })}
        </nav>
        <Conversation conversation action=routes::fill(routes::form::COMMENT_ON_STORY, &[&id])
            react=routes::fill(routes::form::REACT_TO_STORY, &[&id]) what="this story"/>
        {signed_in.then(|| view! {
            <ReportForm action=routes::fill(routes::form::FLAG, &[&id]) summary="Report a problem with this story"/>
        })}
    }
}

/// What deleting takes with it: the story's photos and recordings go too (the backend
/// deletes them in the same transaction), which the person deleting should know.
fn delete_note(media: usize) -> String {
    match media {
        0 => "Deleting it also deletes any photos and recordings added to it.".into(),
        1 => "Deleting it also deletes the photo or recording added to it.".into(),
        n => format!("Deleting it also deletes the {n} photos and recordings added to it."),
    }
}
