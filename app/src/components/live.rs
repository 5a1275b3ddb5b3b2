//! The tab's live stream (`/api/v1/stream`, one per tab, shared by the islands that
//! listen: `subscribe`), and the live side of a story's or media item's page: when the
//! conversation there changes, it puts the server's fresh rendering of its reactions and
//! comments in place (or, while the reader is typing there, offers a "Show new
//! comments" button instead); when someone else saves the story, it says so with a link
//! to the changes. The browser's `EventSource` reconnects by itself with the last id it
//! got, and the server replays what it missed.

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
    /// Only the "changed this story" banner (the editor's page has no conversation).
    banner_only: bool,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    let changed_by = RwSignal::new(None::<String>);
    let ready = RwSignal::new(false);
    // Only the browser listens.
    #[cfg(not(feature = "hydrate"))]
    let _ = (subject_id, me, banner_only);
    // Ready (for tests and for the reader's screen reader alike) once the stream is open.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        listen(subject_id.clone(), me.clone(), banner_only, pending, changed_by, ready);
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

/// Reacts to the changes of this page's story or item.
#[cfg(feature = "hydrate")]
fn listen(
    subject_id: String,
    me: String,
    banner_only: bool,
    pending: RwSignal<bool>,
    changed_by: RwSignal<Option<String>>,
    ready: RwSignal<bool>,
) {
    let on_change = move |change: Change| {
        if change.field("story_id") != subject_id && change.field("media_id") != subject_id {
            return;
        }
        let kind = change.field("event_type");
        if !(kind.starts_with("Comment") || kind.starts_with("Reaction") || kind == "StoryUpdated") {
            return;
        }
        if kind == "StoryUpdated" {
            if change.field("actor_id") != me {
                changed_by.set(Some(change.field("actor_name")));
            }
            return;
        }
        if banner_only {
            return;
        }
        spawn_local(async move {
            if !refresh_parts(CONVERSATION_PARTS, false).await {
                pending.set(true);
            }
        });
    };
    subscribe(on_change, move || ready.set(true));
}

/// One message of the stream: a `LiveEvent` as the browser's JSON parser read it (a few
/// fields, no serde in the WASM).
#[cfg(feature = "hydrate")]
pub struct Change(wasm_bindgen::JsValue);

#[cfg(feature = "hydrate")]
impl Change {
    pub fn field(&self, name: &str) -> String {
        js_sys::Reflect::get(&self.0, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
    }

    /// A true/false field (absent: false).
    pub fn flag(&self, name: &str) -> bool {
        js_sys::Reflect::get(&self.0, &name.into()).ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The tab's one stream, shared by every island that listens.
    static STREAM: std::cell::RefCell<Option<web_sys::EventSource>> = const { std::cell::RefCell::new(None) };
}

/// Calls `on_change` with every change the tab's stream brings, and `on_open` once the
/// stream is open. The first island to listen opens the stream; the others share it, so
/// a tab holds one stream however many parts of its page are live. It lives as long as
/// the page; the browser's `EventSource` reconnects by itself with the last id it got.
#[cfg(feature = "hydrate")]
pub fn subscribe(on_change: impl Fn(Change) + 'static, on_open: impl Fn() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let source = STREAM.with(|stream| {
        let mut stream = stream.borrow_mut();
        if stream.is_none() {
            *stream = web_sys::EventSource::new(types::routes::api::STREAM).ok();
        }
        stream.clone()
    });
    let Some(source) = source else { return };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
        if let Some(change) = message.data().as_string().and_then(|data| js_sys::JSON::parse(&data).ok()) {
            on_change(Change(change));
        }
    });
    let _ = source.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();
    if source.ready_state() == web_sys::EventSource::OPEN {
        on_open();
    } else {
        let on_open = Closure::<dyn FnMut()>::new(on_open);
        let _ = source.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
        on_open.forget();
    }
}
