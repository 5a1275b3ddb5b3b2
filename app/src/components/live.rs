//! The live side of a story's or media item's page: it listens to the live stream
//! (`/api/v1/stream`) and, when the conversation there changes, puts the server's fresh
//! rendering of its reactions and comments in place (or, while the reader is typing
//! there, offers a "Show new comments" button instead); when someone else saves the
//! story, it says so with a link to the changes. The browser's `EventSource` reconnects
//! by itself with the last id it got, and the server replays what it missed.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::upload::refresh_parts;

/// The parts of the page a change to the conversation redraws.
const CONVERSATION_PARTS: &[&str] = &["#reactions", "#comments-thread"];

#[island]
pub fn LiveConversation(
    /// The story or media item the page shows.
    subject_id: String,
    /// The reader (their own saves need no telling).
    me: String,
    /// Where the story's changes are shown (empty on an item's page).
    history: String,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    let changed_by = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    // Only the browser listens.
    #[cfg(not(feature = "hydrate"))]
    let _ = (subject_id, me);
    // Ready (for tests and for the reader's screen reader alike) once the stream is open.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        listen(subject_id.clone(), me.clone(), pending, changed_by, ready);
    });
    let show = move |_| {
        pending.set(false);
        spawn_local(async move {
            // Shown even while a reply is being typed (kept): the reader asked for it.
            if !refresh_parts(CONVERSATION_PARTS, true).await {
                pending.set(true);
            }
        });
    };
    view! {
        <div class="live" role="status" aria-live="polite" data-ready=move || ready.get().then_some("true")>
            {move || changed_by.get().map(|name| {
                let who = if name.is_empty() { "Someone".to_string() } else { name };
                view! {
                    <p class="live-banner">
                        {format!("{who} changed this story")} " — "
                        <a href=history.clone()>"show changes"</a>
                    </p>
                }
            })}
            {move || pending.get().then(|| view! {
                <button type="button" class="small" on:click=show>"Show new comments"</button>
            })}
        </div>
    }
}

/// Opens the stream and reacts to the changes of this page's story or item.
#[cfg(feature = "hydrate")]
fn listen(
    subject_id: String,
    me: String,
    pending: RwSignal<bool>,
    changed_by: RwSignal<Option<String>>,
    ready: RwSignal<bool>,
) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new(types::routes::api::STREAM) else { return };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
        // Read with the browser's JSON parser: a few fields, no serde in the WASM.
        let Some(change) = message.data().as_string().and_then(|data| js_sys::JSON::parse(&data).ok()) else {
            return;
        };
        let field = |name: &str| {
            js_sys::Reflect::get(&change, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
        };
        if field("story_id") != subject_id && field("media_id") != subject_id {
            return;
        }
        if field("event_type") == "StoryUpdated" {
            if field("actor_id") != me {
                changed_by.set(Some(field("actor_name")));
            }
            return;
        }
        spawn_local(async move {
            if !refresh_parts(CONVERSATION_PARTS, false).await {
                pending.set(true);
            }
        });
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let on_open = Closure::<dyn FnMut()>::new(move || ready.set(true));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    // They live as long as the page; leaving it closes the stream.
    on_message.forget();
    on_open.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}
