//! Flags raised by members, for the legacies' owners (and instance admins) to resolve.

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
        <CardList data=flags empty="Nothing to review." card=|f: FlagView| view! {
            <h2><a dir="auto" href=routes::STORY.to(&[&f.story_id])>{f.story_title.clone()}</a></h2>
            <p>{format!("“{}” — {} on {}", f.reason, f.flagged_by_name, format_time(f.created_at))}</p>
            <form method="post" action=routes::fill(routes::form::RESOLVE_FLAG, &[&f.id]) class="inline-form">
                <button type="submit" name="action" value="dismiss">"Keep the story"</button>
                " "
                <button type="submit" name="action" value="remove">"Remove the story"</button>
            </form>
            <p class="note">"Removing it deletes the story with its photos and recordings."</p>
        }/>
    }
}
