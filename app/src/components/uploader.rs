//! The uploader island: a drop zone with a file picker (several files at once). Each
//! file gets a row with its name, a progress bar, the speed, its state and a Cancel
//! button; a part that keeps failing pauses the upload ("Paused — connection lost")
//! with a Resume button that sends only what the server is missing. After the upload
//! the row follows processing until the file is ready (a thumbnail) or failed (with a
//! Retry button for those who may). Outcomes are announced in a polite live region.
//!
//! Leaving the page while a file is unfinished asks first (the file exists only here).
//!
//! Without JavaScript there is nothing to upload with; the page says so beside it.

use std::rc::Rc;

use leptos::ev::DragEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use types::MediaState;

use super::upload::{self, speed_text, Item as Media, Report, Stop, Upload};

/// Files sent at the same time; the others wait their turn.
const AT_ONCE: usize = 3;
const INPUT_ID: &str = "media-upload-input";

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Waiting,
    Preparing,
    Sending,
    Retrying,
    Paused,
    Finishing,
    /// Uploaded; pending or processing on the server.
    Processing(MediaState),
    Ready,
    /// Processing failed (may be retried).
    Failed(String),
    /// The content is not allowed.
    Rejected(String),
    /// The upload itself was refused or broke.
    Error(String),
    /// Uploaded, but processing could no longer be followed from here.
    Unfollowed(String),
    Cancelled,
}

impl Phase {
    fn text(&self, percent: u64) -> String {
        match self {
            Phase::Waiting => "Waiting…".into(),
            Phase::Preparing => "Preparing…".into(),
            Phase::Sending => format!("Uploading… {percent}%"),
            Phase::Retrying => "Connection trouble — retrying…".into(),
            Phase::Paused => "Paused — connection lost".into(),
            Phase::Finishing => "Checking the upload…".into(),
            Phase::Processing(MediaState::Processing) => "Uploaded — processing…".into(),
            Phase::Processing(_) => "Uploaded — waiting to be processed".into(),
            Phase::Ready => "Ready".into(),
            Phase::Failed(why) => format!("Processing failed: {why}"),
            Phase::Rejected(why) => format!("Refused: {why}"),
            Phase::Error(why) => format!("Failed: {why}"),
            Phase::Unfollowed(why) => format!("Uploaded — {why}"),
            Phase::Cancelled => "Cancelled".into(),
        }
    }

    /// A stable name for styles and tests.
    fn key(&self) -> &'static str {
        match self {
            Phase::Waiting => "waiting",
            Phase::Preparing => "preparing",
            Phase::Sending => "sending",
            Phase::Retrying => "retrying",
            Phase::Paused => "paused",
            Phase::Finishing => "finishing",
            Phase::Processing(_) | Phase::Unfollowed(_) => "processing",
            Phase::Ready => "ready",
            Phase::Failed(_) => "failed",
            Phase::Rejected(_) => "rejected",
            Phase::Error(_) => "error",
            Phase::Cancelled => "cancelled",
        }
    }

    /// Leaving the page now would lose this upload.
    fn unfinished(&self) -> bool {
        matches!(
            self,
            Phase::Waiting | Phase::Preparing | Phase::Sending | Phase::Retrying | Phase::Paused | Phase::Finishing
        )
    }

    /// Still on its way to the gallery: being sent, or processed on the server.
    fn in_flight(&self) -> bool {
        matches!(
            self,
            Phase::Waiting
                | Phase::Preparing
                | Phase::Sending
                | Phase::Retrying
                | Phase::Finishing
                | Phase::Processing(_)
        )
    }

    fn can_cancel(&self) -> bool {
        matches!(self, Phase::Waiting | Phase::Preparing | Phase::Sending | Phase::Retrying | Phase::Paused)
    }

    fn of(view: &Media) -> Phase {
        match view.state {
            MediaState::Ready => Phase::Ready,
            MediaState::Failed => Phase::Failed(view.failure_text()),
            MediaState::Rejected => Phase::Rejected(view.failure_text()),
            state => Phase::Processing(state),
        }
    }
}

/// What a row shows. One signal per row (rather than one per field) keeps the WASM
/// smaller: every signal type costs its own copy of the reactive machinery.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    phase: Phase,
    /// Bytes stored on the server so far.
    sent: u64,
    bytes_per_sec: f64,
    /// The item once uploaded, as last seen.
    media: Option<Media>,
}

/// One file in the list. Signals are handles, so clones share the state.
#[derive(Clone)]
struct Item {
    key: usize,
    name: String,
    size: u64,
    row: RwSignal<Row>,
    upload: StoredValue<SendWrapper<Rc<Upload>>>,
}

impl Item {
    fn upload(&self) -> Rc<Upload> {
        self.upload.with_value(|u| Rc::clone(u))
    }

    fn phase(&self) -> Phase {
        self.row.with_untracked(|r| r.phase.clone())
    }

    fn set_phase(&self, phase: Phase) {
        if self.row.with_untracked(|r| r.phase != phase) {
            self.row.update(|r| r.phase = phase);
        }
    }

    /// Shows the item as the server last described it.
    fn seen(&self, media: Media) {
        let phase = Phase::of(&media);
        self.row.update(|r| {
            r.phase = phase;
            r.media = Some(media);
        });
    }
}

/// The island's shared state, passed to the functions that run uploads.
#[derive(Clone, Copy)]
struct Uploads {
    items: RwSignal<Vec<Item>>,
    messages: RwSignal<Vec<String>>,
    active: StoredValue<usize>,
}

impl Uploads {
    fn say(&self, message: String) {
        self.messages.update(|m| m.push(message));
    }

    /// Starts waiting files while fewer than [`AT_ONCE`] are being sent.
    fn pump(self) {
        while self.active.get_value() < AT_ONCE {
            let next = self.items.with_untracked(|items| items.iter().find(|i| i.phase() == Phase::Waiting).cloned());
            let Some(item) = next else { break };
            self.active.update_value(|n| *n += 1);
            let resuming = item.upload().media_id().is_some();
            item.set_phase(if resuming { Phase::Sending } else { Phase::Preparing });
            spawn_local(async move {
                self.send(item).await;
                self.active.update_value(|n| *n = n.saturating_sub(1));
                self.pump();
            });
        }
    }

    async fn send(self, item: Item) {
        let report: Rc<dyn Fn(Report)> = {
            let item = item.clone();
            Rc::new(move |report| match report {
                Report::Preparing => item.set_phase(Phase::Preparing),
                Report::Sending { sent, bytes_per_sec, .. } => item.row.update(|r| {
                    r.phase = Phase::Sending;
                    r.sent = sent;
                    r.bytes_per_sec = bytes_per_sec;
                }),
                Report::Retrying => item.set_phase(Phase::Retrying),
                Report::Finishing => item.set_phase(Phase::Finishing),
            })
        };
        match item.upload().run(report).await {
            Ok(view) => {
                item.row.update(|r| r.sent = item.size);
                self.say(format!("{} uploaded", item.name));
                spawn_local(self.watch(item, view));
            }
            Err(Stop::Paused) => {
                item.set_phase(Phase::Paused);
                self.say(format!("{} paused: connection lost", item.name));
            }
            Err(Stop::Cancelled) => item.set_phase(Phase::Cancelled),
            Err(Stop::Failed(why)) => {
                self.say(format!("{} failed: {why}", item.name));
                item.set_phase(Phase::Error(why));
            }
        }
    }

    /// Follows processing until it decides.
    async fn watch(self, item: Item, view: Media) {
        let id = view.id.clone();
        item.seen(view);
        let seen = |view: &Media| {
            if item.row.with_untracked(|r| r.media.as_ref() != Some(view)) {
                item.seen(view.clone());
            }
        };
        match upload::until_processed(&id, &seen).await {
            Ok(view) => {
                let message = match &view.state {
                    MediaState::Ready => format!("{} is ready", item.name),
                    MediaState::Rejected => format!("{} was refused: {}", item.name, view.failure_text()),
                    _ => format!("{} failed: {}", item.name, view.failure_text()),
                };
                item.seen(view);
                self.say(message);
                // One page fetch for a batch: the last item to settle brings the others along.
                if !self.items.with_untracked(|items| items.iter().any(|i| i.phase().in_flight())) {
                    upload::refresh_gallery().await;
                }
            }
            Err(why) => item.set_phase(Phase::Unfollowed(why)),
        }
    }

    fn add(self, files: web_sys::FileList, target: &(String, Option<String>), next_key: StoredValue<usize>) {
        let mut added = Vec::new();
        for index in 0..files.length() {
            let Some(file) = files.get(index) else { continue };
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            let upload = Upload::new(file, target.0.clone(), target.1.clone());
            added.push(Item {
                key,
                name: upload.name.clone(),
                size: upload.size(),
                row: RwSignal::new(Row { phase: Phase::Waiting, sent: 0, bytes_per_sec: 0.0, media: None }),
                upload: StoredValue::new(SendWrapper::new(upload)),
            });
        }
        if !added.is_empty() {
            self.items.update(|items| items.extend(added));
            self.pump();
        }
    }
}

#[island]
pub fn Uploader(
    /// The legacy the files go to.
    legacy_id: String,
    /// Set to attach the files to this story.
    story_id: Option<String>,
) -> impl IntoView {
    let uploads =
        Uploads { items: RwSignal::new(Vec::new()), messages: RwSignal::new(Vec::new()), active: StoredValue::new(0) };
    let ready = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let next_key = StoredValue::new(0usize);
    let target = StoredValue::new((legacy_id, story_id));
    let input = NodeRef::<leptos::html::Input>::new();

    // In the browser only: the picker is usable once the island is live.
    Effect::new(move |_| ready.set(true));
    // The files are only in this page: leaving it during an upload asks first.
    let _ = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if uploads.items.with_untracked(|items| items.iter().any(|i| i.phase().unfinished())) {
            ev.prevent_default();
        }
    });

    let on_change = move |_| {
        let Some(input) = input.get() else { return };
        if let Some(files) = input.files() {
            target.with_value(|t| uploads.add(files, t, next_key));
        }
        // The same file may be chosen again.
        input.set_value("");
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            target.with_value(|t| uploads.add(files, t, next_key));
        }
    };
    let on_drag_over = move |ev: DragEvent| {
        ev.prevent_default();
        if !dragging.get_untracked() {
            dragging.set(true);
        }
    };

    view! {
        <div class="uploader" data-ready=move || ready.get().then_some("true")>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragenter=on_drag_over
                on:dragover=on_drag_over
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p class="dropzone-text">"Drag photos, recordings or videos here, or"</p>
                <label for=INPUT_ID class="button">"Choose files"</label>
                <input
                    id=INPUT_ID
                    class="file-input"
                    type="file"
                    multiple
                    accept="image/*,audio/*,video/*"
                    node_ref=input
                    disabled=move || !ready.get()
                    on:change=on_change
                />
            </div>
            <ul class="uploads" aria-label="Uploads" hidden=move || uploads.items.with(Vec::is_empty)>
                <For each=move || uploads.items.get() key=|item| item.key let:item>
                    {row(uploads, item)}
                </For>
            </ul>
            <div class="visually-hidden" aria-live="polite" data-testid="upload-announcements">
                {move || uploads.messages.get().into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
            </div>
        </div>
    }
}

fn row(uploads: Uploads, item: Item) -> impl IntoView {
    let Item { name, size, row: state, .. } = item.clone();
    let percent = move |sent: u64| (sent.min(size) * 100).checked_div(size).unwrap_or(100);
    let phase = move || state.with(|r| r.phase.clone());
    let text = move || state.with(|r| r.phase.text(percent(r.sent)));
    let cancel = {
        let item = item.clone();
        move |_| {
            let item = item.clone();
            let was = item.phase();
            item.set_phase(Phase::Cancelled);
            uploads.say(format!("{} cancelled", item.name));
            if was != Phase::Waiting {
                spawn_local(async move { item.upload().cancel().await });
            }
        }
    };
    let resume = {
        let item = item.clone();
        move |_| {
            item.set_phase(Phase::Waiting);
            uploads.pump();
        }
    };
    let retry = {
        let item = item.clone();
        move |_| {
            let item = item.clone();
            let Some(id) = item.row.with_untracked(|r| r.media.as_ref().map(|m| m.id.clone())) else { return };
            item.set_phase(Phase::Processing(MediaState::Pending));
            spawn_local(async move {
                match upload::retry_processing(&id).await {
                    Ok(view) => uploads.watch(item, view).await,
                    Err(why) => {
                        uploads.say(format!("{} could not be retried: {why}", item.name));
                        item.set_phase(Phase::Failed(why));
                    }
                }
            });
        }
    };
    let thumbnail = move || state.with(|r| r.media.as_ref().filter(|m| m.state == MediaState::Ready)?.url("thumb-320"));
    let can_retry =
        move || state.with(|r| matches!(r.phase, Phase::Failed(_)) && r.media.as_ref().is_some_and(|m| m.can_edit));
    let label = name.clone();
    let alt = name.clone();
    view! {
        <li class="upload" data-state=move || state.with(|r| r.phase.key())>
            {move || thumbnail().map(|src| view! { <img class="upload-thumb" src=src alt=alt.clone()/> })}
            <div class="upload-body">
                <div class="upload-head">
                    <span dir="auto" class="upload-name">{name.clone()}</span>
                    <span class="upload-state">{text}</span>
                </div>
                <progress max=size.max(1).to_string() value=move || state.with(|r| r.sent.to_string())
                    aria-label=format!("{label} upload")>
                    {move || state.with(|r| format!("{}%", percent(r.sent)))}
                </progress>
                <div class="upload-foot">
                    <span class="upload-speed">
                        {move || state.with(|r| if r.phase == Phase::Sending { speed_text(r.bytes_per_sec) } else { String::new() })}
                    </span>
                    {move || (phase() == Phase::Paused).then(|| view! {
                        <button type="button" class="small" on:click=resume.clone()>"Resume"</button>
                    })}
                    {move || phase().can_cancel().then(|| view! {
                        <button type="button" class="small" on:click=cancel.clone()>"Cancel"</button>
                    })}
                    {move || can_retry().then(|| view! {
                        <button type="button" class="small" on:click=retry.clone()>"Retry"</button>
                    })}
                </div>
            </div>
        </li>
    }
}
