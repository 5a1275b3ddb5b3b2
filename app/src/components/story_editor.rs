//! The story editor island. Without JavaScript it is a plain form with a Markdown
//! textarea; hydrated, TipTap replaces the textarea (which it keeps filled, so the form
//! still submits), drafts autosave after a pause, and leaving with unsaved changes asks
//! first. Saving is always a normal form post, so nothing depends on the island.
//! When editing a saved story, "Insert image" uploads a photo to the story (as the
//! uploader island does), waits for its thumbnails and inserts it as Markdown with a
//! stable, unsigned path (`/media/{id}/thumb-1920`), which readers' sessions unlock.
//! Typing `@` and a name offers the legacy's people; choosing one links their name to
//! their page (a mention, which their page lists as a backlink).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use types::{ApiError, MediaState, PersonSummary};

use super::raw_text::textarea_text;
use super::upload::{self, Report, Stop, Upload};
use crate::api::{autosave_story, suggest_people};

/// Pause after the last keystroke before a draft is autosaved.
const AUTOSAVE_AFTER_MS: u64 = 1500;

/// What the island needs from the rich-text editor (TipTap in the browser).
trait RichText {
    fn markdown(&self) -> String;
    fn toggle_mark(&self, name: &str);
    fn toggle_node(&self, name: &str, level: Option<u8>);
    fn set_link(&self, href: &str);
    fn insert_image(&self, src: &str, alt: &str) -> bool;
    fn mention_query(&self) -> Option<String>;
    fn insert_mention(&self, name: &str, href: &str) -> bool;
    fn focus(&self);
}

#[cfg(feature = "hydrate")]
impl RichText for super::editor_js::TipTap {
    fn markdown(&self) -> String {
        super::editor_js::TipTap::markdown(self)
    }
    fn toggle_mark(&self, name: &str) {
        super::editor_js::TipTap::toggle_mark(self, name);
    }
    fn toggle_node(&self, name: &str, level: Option<u8>) {
        super::editor_js::TipTap::toggle_node(self, name, level);
    }
    fn set_link(&self, href: &str) {
        super::editor_js::TipTap::set_link(self, href);
    }
    fn insert_image(&self, src: &str, alt: &str) -> bool {
        super::editor_js::TipTap::insert_image(self, src, alt)
    }
    fn mention_query(&self) -> Option<String> {
        super::editor_js::TipTap::mention_query(self)
    }
    fn insert_mention(&self, name: &str, href: &str) -> bool {
        super::editor_js::TipTap::insert_mention(self, name, href)
    }
    fn focus(&self) {
        super::editor_js::TipTap::focus(self)
    }
}

/// Mounts TipTap in `host`; only the browser build has it. `None` keeps the textarea.
async fn mount(
    host: &web_sys::Element,
    markdown: &str,
    on_change: impl FnMut(String) + 'static,
) -> Option<Box<dyn RichText>> {
    #[cfg(feature = "hydrate")]
    return match super::editor_js::TipTap::mount(host, markdown, on_change).await {
        Ok(editor) => Some(Box::new(editor)),
        Err(err) => {
            leptos::logging::warn!("the rich editor could not load, keeping the plain text box: {err:?}");
            None
        }
    };
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (host, markdown, on_change);
        None
    }
}

#[island]
pub fn StoryEditor(
    /// Where the form posts: `/legacies/{id}/stories` to create, `/stories/{id}` to update.
    action: String,
    /// Set when editing an existing story; enables autosave and inserting images.
    story_id: Option<String>,
    /// The story's legacy (where inserted images are uploaded).
    legacy_id: String,
    version: i64,
    title: String,
    body: String,
    tags: String,
    visibility: String,
) -> impl IntoView {
    let version = RwSignal::new(version);
    let title = RwSignal::new(title);
    let tags = RwSignal::new(tags);
    let body = RwSignal::new(body);
    let dirty = RwSignal::new(false);
    let mounted = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let conflict = RwSignal::new(None::<String>);
    // Only the browser ever fills this; `new_local` would panic when the server drops it
    // on another thread, so the browser-only value is wrapped instead.
    let editor = StoredValue::new(None::<SendWrapper<Box<dyn RichText>>>);
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let host = NodeRef::<leptos::html::Div>::new();
    let title_input = NodeRef::<leptos::html::Input>::new();
    let tags_input = NodeRef::<leptos::html::Input>::new();
    let body_area = NodeRef::<leptos::html::Textarea>::new();
    let can_insert_images = story_id.is_some();
    let story_id = StoredValue::new(story_id);
    let legacy_id = StoredValue::new(legacy_id);
    let image_input = NodeRef::<leptos::html::Input>::new();
    let image_status = RwSignal::new(String::new());
    let inserting = RwSignal::new(false);
    // People of the legacy matching the `@name` being typed.
    let mention_options = RwSignal::new(Vec::<PersonSummary>::new());
    let mention_ticket = StoredValue::new(0u64);

    let autosave = move || {
        let Some(id) = story_id.get_value() else { return };
        if conflict.get_untracked().is_some() {
            return;
        }
        status.set("Saving…".into());
        let (v, t, b, g) = (version.get_untracked(), title.get_untracked(), body.get_untracked(), tags.get_untracked());
        spawn_local(async move {
            match autosave_story(id, v, t, b.clone(), g).await {
                Ok(new_version) => {
                    version.set(new_version);
                    if body.get_untracked() == b {
                        dirty.set(false);
                    }
                    status.set("Draft saved".into());
                }
                Err(ApiError::Conflict { message, .. }) => {
                    status.set(String::new());
                    conflict.set(Some(message));
                }
                Err(err) => status.set(format!("Not saved: {}", err.message())),
            }
        });
    };
    let schedule = move || {
        dirty.set(true);
        status.set("Unsaved changes".into());
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(autosave, std::time::Duration::from_millis(AUTOSAVE_AFTER_MS)).ok();
        pending.set_value(handle);
    };

    // In the browser only: swap the textarea for TipTap once the island is live.
    Effect::new(move |_| {
        if mounted.get_untracked() {
            return;
        }
        let Some(element) = host.get() else { return };
        // Whatever was typed before the island woke up is in the DOM, not in the signals.
        if let Some(input) = title_input.get() {
            title.set(input.value());
        }
        if let Some(input) = tags_input.get() {
            tags.set(input.value());
        }
        if let Some(area) = body_area.get() {
            body.set(area.value());
        }
        spawn_local(async move {
            let on_change = move |markdown| {
                body.set(markdown);
                schedule();
                // After the editor's dispatch has returned: it may not be re-entered.
                spawn_local(async move { offer_mentions(editor, legacy_id, mention_options, mention_ticket).await });
            };
            if let Some(rich) = mount(&element, &body.get_untracked(), on_change).await {
                editor.set_value(Some(SendWrapper::new(rich)));
                mounted.set(true);
            }
        });
    });
    let _ = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if dirty.get_untracked() {
            ev.prevent_default();
        }
    });

    let tool = move |label: &'static str, run: fn(&dyn RichText)| {
        view! {
            <button type="button" class="tool" aria-label=label title=label on:click=move |_| {
                editor.with_value(|e| if let Some(e) = e { run(&***e); e.focus(); });
            }>{label}</button>
        }
    };
    // Uploads the chosen photo to the story, waits until it is processed and inserts it.
    let on_image = move |_| {
        let Some(input) = image_input.get() else { return };
        let file = input.files().and_then(|files| files.get(0));
        input.set_value("");
        let (Some(file), Some(story)) = (file, story_id.get_value()) else { return };
        let upload = Upload::new(file, legacy_id.get_value(), Some(story));
        let name = upload.name.clone();
        inserting.set(true);
        spawn_local(async move {
            let report: Rc<dyn Fn(Report)> = {
                let name = name.clone();
                Rc::new(move |report| {
                    image_status.set(match report {
                        Report::Preparing => format!("Preparing {name}…"),
                        Report::Sending { sent, total, .. } => {
                            format!("Uploading {name}… {}%", (sent * 100).checked_div(total).unwrap_or(100))
                        }
                        Report::Retrying => format!("Uploading {name}: connection trouble, retrying…"),
                        Report::Finishing => format!("Checking {name}…"),
                    })
                })
            };
            let processed = match upload.run(report).await {
                Ok(view) => {
                    image_status.set(format!("Processing {name}…"));
                    upload::until_processed(&view.id, &|_| {})
                        .await
                        .map_err(|why| format!("{name} was uploaded to the story's media, but {why}"))
                }
                Err(Stop::Paused) => Err(format!("{name} was not uploaded: the connection was lost; try again")),
                Err(Stop::Cancelled) => Err(format!("{name} was not uploaded: cancelled")),
                Err(Stop::Failed(why)) => Err(format!("{name} was not uploaded: {why}")),
            };
            let outcome = match processed {
                Ok(view) if view.state == MediaState::Ready => match view.largest_thumbnail() {
                    Some(variant) => {
                        let src = format!("/media/{}/{variant}", view.id);
                        let inserted = editor.with_value(|e| e.as_ref().is_some_and(|e| e.insert_image(&src, &name)));
                        if inserted {
                            format!("Inserted {name}.")
                        } else {
                            format!("{name} was uploaded but could not be inserted.")
                        }
                    }
                    None => format!("{name} is not a photo, so it was added to the story's media instead."),
                },
                Ok(view) => format!("{name} could not be used: {}", view.failure_text()),
                Err(message) => message,
            };
            image_status.set(outcome);
            inserting.set(false);
        });
    };

    let words = move || body.with(|b| b.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count());

    view! {
        <form method="post" action=action class="editor-form stack" on:submit=move |_| {
            // Whatever TipTap holds goes into the textarea the form submits.
            editor.with_value(|e| if let Some(e) = e { body.set(e.markdown()); });
            dirty.set(false);
        }>
            <input type="hidden" name="version" prop:value=move || version.get().to_string()/>
            <div class="field">
                <label for="story-title">"Title"</label>
                <input id="story-title" name="title" required node_ref=title_input value=title.get_untracked()
                    on:input=move |ev| { title.set(event_target_value(&ev)); schedule(); }/>
            </div>
            <div class="field">
                <label for="story-body" id="story-body-label">"Story"</label>
                <div class="toolbar" role="toolbar" aria-label="Formatting" hidden=move || !mounted.get()>
                    {tool("Heading", |e| e.toggle_node("heading", Some(2)))}
                    {tool("Bold", |e| e.toggle_mark("bold"))}
                    {tool("Italic", |e| e.toggle_mark("italic"))}
                    {tool("Bulleted list", |e| e.toggle_node("bulletList", None))}
                    {tool("Numbered list", |e| e.toggle_node("orderedList", None))}
                    {tool("Quote", |e| e.toggle_node("blockquote", None))}
                    <button type="button" class="tool" aria-label="Link" title="Link" on:click=move |_| {
                        let href = window().prompt_with_message("Link address (leave empty to remove the link)").ok().flatten();
                        if let Some(href) = href {
                            editor.with_value(|e| if let Some(e) = e { e.set_link(href.trim()); e.focus(); });
                        }
                    }>"Link"</button>
                    {can_insert_images.then(|| view! {
                        <button type="button" class="tool" disabled=move || inserting.get() on:click=move |_| {
                            if let Some(input) = image_input.get() { input.click(); }
                        }>"Insert image"</button>
                        <input type="file" accept="image/*" hidden node_ref=image_input on:change=on_image/>
                    })}
                </div>
                <textarea id="story-body" name="body" rows="18" node_ref=body_area hidden=move || mounted.get()
                    aria-describedby="story-body-hint" prop:value=move || body.get()
                    on:input=move |ev| { body.set(event_target_value(&ev)); schedule(); }>{textarea_text(body.get_untracked())}</textarea>
                <div class="tiptap-host" node_ref=host></div>
                <ul class="mention-options" role="listbox" aria-label="People to mention" hidden=move || mention_options.with(Vec::is_empty)>
                    {move || mention_options.get().into_iter().map(|person| {
                        let label = person.with_years();
                        let href = types::routes::PERSON.to(&[&person.id]);
                        let name = person.name.clone();
                        view! {
                            <li role="option" aria-selected="false">
                                <button type="button" class="mention-option" on:click=move |_| {
                                    editor.with_value(|e| if let Some(e) = e { e.insert_mention(&name, &href); e.focus(); });
                                    mention_options.set(Vec::new());
                                }>{label}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="hint" id="story-body-hint">"Markdown works here: # heading, **bold**, - list, [text](link). Type @ and a name to mention someone of the family."</p>
            </div>
            <div class="field">
                <label for="story-tags">"Tags"</label>
                <input id="story-tags" name="tags" aria-describedby="story-tags-hint" node_ref=tags_input value=tags.get_untracked()
                    on:input=move |ev| { tags.set(event_target_value(&ev)); schedule(); }/>
                <p class="hint" id="story-tags-hint">"Separate tags with commas."</p>
            </div>
            <div class="field">
                <label for="story-visibility">"Who can read it"</label>
                <select id="story-visibility" name="visibility">
                    <option value="members" selected=visibility == "members">"Members of this legacy"</option>
                    <option value="public" selected=visibility == "public">"Anyone with the link"</option>
                    <option value="private" selected=visibility == "private">"Only me"</option>
                </select>
            </div>
            {move || conflict.get().map(|message| view! { <p class="flash flash-error" role="alert">{message}</p> })}
            <p class="editor-status" aria-live="polite">
                <span data-testid="word-count">{move || format!("{} words", words())}</span>
                " · "
                <span data-testid="save-status">{move || status.get()}</span>
                {move || (!image_status.get().is_empty()).then(|| view! {
                    " · " <span data-testid="image-status">{move || image_status.get()}</span>
                })}
            </p>
            <div class="actions">
                <button type="submit" name="status" value="draft">"Save draft"</button>
                <button type="submit" name="status" value="published" class="primary">"Publish"</button>
            </div>
        </form>
    }
}

/// Offers the people of the legacy whose names match the `@name` being typed (none
/// when the cursor is not in a mention). An answer overtaken by later typing is dropped.
async fn offer_mentions(
    editor: StoredValue<Option<SendWrapper<Box<dyn RichText>>>>,
    legacy_id: StoredValue<String>,
    options: RwSignal<Vec<PersonSummary>>,
    ticket: StoredValue<u64>,
) {
    let query = editor.with_value(|e| e.as_ref().and_then(|e| e.mention_query()));
    let next = ticket.get_value() + 1;
    ticket.set_value(next);
    let Some(query) = query else {
        options.set(Vec::new());
        return;
    };
    let found = suggest_people(legacy_id.get_value(), query).await.unwrap_or_default();
    if ticket.get_value() == next {
        options.set(found);
    }
}
