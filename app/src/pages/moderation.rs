//! Reports of stories, photos and recordings, and comments raised by members, for the legacies' owners (and instance admins) to resolve.

use leptos::prelude::*;
use types::{routes, FlagView};

use crate::api::load_moderation;
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, CardList, Heading};
use crate::request;

#[component]
pub fn ModerationPage() -> impl IntoView {
    let flags = Resource::new_blocking(|| (), |_| load_moderation());
    view! {
        <Heading text="Moderation"/>
        <FlashMessage flash=request::flash()/>
        <CardList data=flags empty="Nothing to review." card=|f: FlagView| {
            let story = f.story_id.as_ref().map(|id| routes::STORY.to(&[id])).unwrap_or_default();
            let in_story = |what: &str| {
                if f.title.is_empty() { what.to_string() } else { format!("{what} in “{}”", f.title) }
            };
            let (what, link, heading, note) = match (&f.comment_id, &f.media_id) {
                (Some(comment_id), _) => (
                    "comment",
                    format!("{story}#comment-{comment_id}"),
                    format!("A comment on “{}”", f.title),
                    "Removing it deletes the comment; its replies stay.",
                ),
                (None, Some(media_id)) => (
                    "photo or recording",
                    routes::MEDIA_PAGE.to(&[&f.legacy_id, media_id]),
                    in_story("A photo or recording"),
                    "Removing it deletes the photo or recording with its comments.",
                ),
                (None, None) => (
                    "story",
                    story,
                    f.title.clone(),
                    "Removing it deletes the story with its photos and recordings.",
                ),
            };
            view! {
                <h2><a dir="auto" href=link>{heading}</a></h2>
                {(!f.excerpt.is_empty()).then(|| view! { <blockquote dir="auto">{f.excerpt.clone()}</blockquote> })}
                <p>{format!("“{}” — {} on {}", f.reason, f.flagged_by_name, format_time(f.created_at))}</p>
                <form method="post" action=routes::fill(routes::form::RESOLVE_FLAG, &[&f.id]) class="inline-form">
                    <button type="submit" name="action" value="dismiss">{format!("Keep the {what}")}</button>
                    " "
                    <button type="submit" name="action" value="remove">{format!("Remove the {what}")}</button>
                </form>
                <p class="note">{note}</p>
            }
        }/>
    }
}
