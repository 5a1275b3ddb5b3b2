//! Writing a new story and editing an existing one; both wrap the editor island.

use leptos::prelude::*;
use leptos_meta::Title;
use types::routes;

use crate::api::{load_prompt, load_story};
use crate::components::form::FlashMessage;
use crate::components::live::LiveConversation;
use crate::components::page::{param, query, Heading, LoadError, Loaded};
use crate::components::story_editor::StoryEditor;
use crate::request;

/// A new story; `?prompt=<id>` (a prompt tip's link) starts it with that prompt as the
/// title and shows the prompt above the editor.
#[component]
pub fn NewStoryPage() -> impl IntoView {
    let legacy_id = param("id");
    let prompt_id = query("prompt");
    let prompt = Resource::new_blocking(
        move || prompt_id.clone(),
        |id| async move {
            match id {
                Some(id) => load_prompt(id).await,
                None => Ok(None),
            }
        },
    );
    let flash = request::flash();
    view! {
        <Heading text="New story"/>
        <FlashMessage flash=flash.clone()/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || prompt.get().map(|prompt| {
                let prompt = prompt.ok().flatten();
                let value = |name: &str| flash.value(name).unwrap_or_default().to_string();
                // What was typed before a refused save wins over the prompt.
                let title = flash.value("title").map(str::to_string).or_else(|| prompt.clone()).unwrap_or_default();
                view! {
                    {prompt.map(|text| view! { <p class="story-prompt"><span class="note">"Prompt: "</span>{text}</p> })}
                    <StoryEditor
                        action=routes::fill(routes::form::CREATE_STORY, &[&legacy_id])
                        story_id=None
                        legacy_id=legacy_id.clone()
                        version=0
                        title
                        body=value("body")
                        tags=value("tags")
                        visibility=flash.value("visibility").unwrap_or("members").to_string()
                    />
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
pub fn EditStoryPage() -> impl IntoView {
    let id = param("id");
    let story = Resource::new_blocking(move || id.clone(), load_story);
    view! {
        <Loaded data=story render=|story| if !story.can_edit {
                view! {
                    <LoadError error=types::ApiError::forbidden("You can read this story but not edit it.")/>
                }.into_any()
            } else {
                    // After a refused save the flash carries what was typed, so nothing is lost.
                    let flash = request::flash();
                    let kept = |name: &str, stored: String| flash.value(name).map(str::to_string).unwrap_or(stored);
                    view! {
                        <Title text=format!("Editing {}", story.title)/>
                        <h1>"Edit story"</h1>
                        <FlashMessage flash=flash.clone()/>
                        // Someone else's save is announced while this one is being edited.
                        {request::current_user().map(|me| view! {
                            <LiveConversation subject_id=story.id.to_string() me=me.id.to_string()
                                history=routes::HISTORY.to(&[&story.id]) banner_only=true/>
                        }.into_any())}
                        <StoryEditor
                            action=routes::fill(routes::form::UPDATE_STORY, &[&story.id])
                            story_id=Some(story.id.to_string())
                            legacy_id=story.legacy_id.to_string()
                            version=story.version
                            title=kept("title", story.title.clone())
                            body=kept("body", story.body.clone())
                            tags=kept("tags", story.tags.join(", "))
                            visibility=story.visibility.as_str().to_string()
                        />
                    }.into_any()
        }/>
    }
}
