//! Media as readers see them: a server-rendered gallery that works without JavaScript
//! (photos are links to the large image, recordings and videos play in place), and the
//! lightbox island around it, which opens a photo in a modal `<dialog>` with its caption,
//! Previous/Next (arrow keys too) and Close (Escape too), and gives the focus back to
//! the thumbnail it came from. The island also saves caption edits in place; without
//! JavaScript the same form posts to the `set_media_caption` server function. On a
//! legacy's gallery each item lists the people tagged in it, and its editors tag more.

use std::collections::HashMap;

use leptos::ev::{KeyboardEvent, MouseEvent, SubmitEvent};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use types::{routes, MediaId, MediaKind, MediaState, MediaView, PersonSummary, VariantView};
use wasm_bindgen::JsCast;

use crate::api::{set_media_caption, RetryMedia, SetMediaCaption};
use crate::components::raw_text::textarea_text;

/// Types every browser shows in an `<img>`.
const DISPLAYABLE: [&str; 5] = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"];

fn variant<'a>(item: &'a MediaView, name: &str) -> Option<&'a VariantView> {
    item.variants.iter().find(|v| v.name == name)
}

fn thumbnails(item: &MediaView) -> Vec<&VariantView> {
    let mut thumbs: Vec<&VariantView> = item.variants.iter().filter(|v| v.name.starts_with("thumb-")).collect();
    thumbs.sort_by_key(|v| v.width.unwrap_or(0));
    thumbs.dedup_by_key(|v| v.width);
    thumbs
}

/// `url 320w, url 960w, …` from the thumbnails whose width is known.
fn srcset(item: &MediaView) -> Option<String> {
    let entries: Vec<String> =
        thumbnails(item).iter().filter_map(|v| Some(format!("{} {}w", v.url, v.width?))).collect();
    (!entries.is_empty()).then(|| entries.join(", "))
}

/// The big picture for the lightbox (and the no-JavaScript link): the widest thumbnail
/// when it is 1920 pixels, else the original when browsers show its type, else the
/// widest thumbnail there is.
fn full_image(item: &MediaView) -> String {
    if let Some(v) = variant(item, "thumb-1920") {
        return v.url.clone();
    }
    let original_shows = item.content_type.as_deref().is_some_and(|t| DISPLAYABLE.contains(&t));
    match thumbnails(item).last() {
        Some(v) if !original_shows => v.url.clone(),
        _ => item.original_url.clone(),
    }
}

/// The small picture of a photo (a gallery's tile, a portrait): the 320-pixel thumbnail,
/// else the smallest there is, else the original; with its size when known.
pub fn small_image(item: &MediaView) -> (String, Option<u32>, Option<u32>) {
    let small = variant(item, "thumb-320").or_else(|| thumbnails(item).first().copied());
    small.map(|v| (v.url.clone(), v.width, v.height)).unwrap_or_else(|| (item.original_url.clone(), None, None))
}

/// Recordings and videos play the web transcode when there is one, else the original.
fn playable(item: &MediaView) -> String {
    variant(item, "web").map_or_else(|| item.original_url.clone(), |v| v.url.clone())
}

/// What stands in for an item that is not ready.
fn state_label(item: &MediaView) -> &'static str {
    match item.state {
        MediaState::Uploading => "Uploading",
        MediaState::Pending => "Waiting to be processed",
        MediaState::Processing => "Processing",
        MediaState::Failed => "Processing failed",
        MediaState::Rejected => "Refused",
        MediaState::Ready => "Ready",
    }
}

/// A gallery of media items inside the lightbox. `sizes` tells the browser how wide a
/// thumbnail is shown, so it picks the right one from the `srcset`.
/// `open_caption` names an item whose caption form starts open, its field focused.
#[component]
pub fn MediaGallery(
    items: Vec<MediaView>,
    /// Shown while there are no items.
    empty_text: &'static str,
    #[prop(default = None)] open_caption: Option<String>,
    /// Who is tagged in each item, and whom an editor may tag (the legacy's gallery).
    #[prop(default = None)]
    people: Option<GalleryPeople>,
    /// Each item links to its own page, where it is commented on.
    #[prop(default = true)]
    comments_link: bool,
) -> impl IntoView {
    // The lightbox is there even while the gallery is empty, and `data-gallery` marks what
    // the uploader replaces with the server's fresh rendering when an upload is done
    // (upload::refresh_gallery), so new items appear with their caption forms.
    view! {
        <Lightbox>
            <div data-gallery="">
                {if items.is_empty() {
                    view! { <p class="note media-empty">{empty_text}</p> }.into_any()
                } else {
                    view! {
                        <ul class="media-grid">
                            {items.into_iter().map(|item| {
                                let open = open_caption.as_deref() == Some(item.id.as_str());
                                let tags = people.as_ref().map(|p| tags_of(&item, p));
                                media_item(item, open, tags, comments_link)
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        </Lightbox>
    }
    // Erased: pages put the gallery beside islands of their own, and the nested view type
    // grows past the compiler's depth limit where the server renders it.
    .into_any()
}

/// Who is tagged in a gallery's items, and the people an editor may tag in them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GalleryPeople {
    pub tagged: HashMap<MediaId, Vec<PersonSummary>>,
    pub choices: Vec<PersonSummary>,
}

/// "With Rose and Tom" under an item, each with its "Remove", and the "Tag a person"
/// form, for whoever may edit the item.
fn tags_of(item: &MediaView, people: &GalleryPeople) -> AnyView {
    let tagged = people.tagged.get(&item.id).cloned().unwrap_or_default();
    let can_edit = item.can_edit;
    let id = item.id.clone();
    let field = format!("tag-{id}");
    let untagged: Vec<PersonSummary> =
        people.choices.iter().filter(|c| !tagged.iter().any(|t| t.id == c.id)).cloned().collect();
    view! {
        {(!tagged.is_empty()).then(|| view! {
            <ul class="media-people" aria-label=format!("People in {}", item.file_name)>
                {tagged.into_iter().map(|person| {
                    let remove = can_edit.then(|| view! {
                        <form method="post" action=routes::fill(routes::form::UNTAG_PERSON, &[&id, &person.id]) class="inline-form">
                            <button type="submit" class="small" aria-label=format!("Remove the tag of {}", person.name)>"×"</button>
                        </form>
                    });
                    view! { <li><a dir="auto" href=routes::PERSON.to(&[&person.id])>{person.name.clone()}</a>{remove}</li> }
                }).collect_view()}
            </ul>
        })}
        {(can_edit && !untagged.is_empty()).then(|| view! {
            <form method="post" action=routes::fill(routes::form::TAG_PERSON, &[&id]) class="inline-form tag-form">
                <label for=field.clone()>{format!("Tag a person in {}", item.file_name)}</label>
                <select id=field name="person_id">
                    {untagged.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                </select>
                <button type="submit" class="small">"Tag"</button>
            </form>
        })}
    }
    .into_any()
}

fn media_item(item: MediaView, caption_open: bool, tags: Option<AnyView>, comments_link: bool) -> impl IntoView {
    let alt = if item.caption.is_empty() { item.file_name.clone() } else { item.caption.clone() };
    let ready = item.state == MediaState::Ready;
    let body = match (ready, item.kind) {
        (true, Some(MediaKind::Image)) => {
            let full = full_image(&item);
            let (src, width, height) = small_image(&item);
            view! {
                <a class="media-thumb" href=full.clone() data-lightbox="" data-full=full data-alt=alt.clone()
                    data-caption=item.caption.clone()>
                    <img src=src srcset=srcset(&item) sizes="(max-width: 40rem) 45vw, 15rem" alt=alt.clone()
                        width=width.map(|w| w.to_string()) height=height.map(|h| h.to_string()) loading="lazy"/>
                </a>
            }
            .into_any()
        }
        (true, Some(MediaKind::Audio)) => {
            let src = playable(&item);
            let link = src.clone();
            view! {
                <audio controls preload="metadata" src=src aria-label=alt.clone()>
                    <a href=link>{format!("Download {}", item.file_name)}</a>
                </audio>
            }
            .into_any()
        }
        (true, Some(MediaKind::Video)) => {
            let src = playable(&item);
            let link = src.clone();
            let poster = variant(&item, "poster").map(|v| v.url.clone());
            view! {
                <video controls preload="metadata" poster=poster src=src aria-label=alt.clone()>
                    <a href=link>{format!("Download {}", item.file_name)}</a>
                </video>
            }
            .into_any()
        }
        (true, None) => view! { <a dir="auto" href=item.original_url.clone()>{item.file_name.clone()}</a> }.into_any(),
        (false, _) => {
            let failed = matches!(item.state, MediaState::Failed | MediaState::Rejected);
            view! {
                <div class="media-placeholder">
                    <span class="badge" class:badge-failed=failed>{state_label(&item)}</span>
                    <span dir="auto" class="media-file">{item.file_name.clone()}</span>
                </div>
            }
            .into_any()
        }
    };
    let failure =
        matches!(item.state, MediaState::Failed | MediaState::Rejected).then(|| item.failure.clone()).flatten();
    let can_retry = item.can_edit && item.state == MediaState::Failed;
    let id = item.id.clone();
    let caption_id = format!("caption-{id}");
    let comments = comments_link.then(|| {
        let page = routes::MEDIA_PAGE.to(&[&item.legacy_id, &id]);
        // Described by its item's caption, so each "Comments" says whose.
        view! { <a class="media-comments" href=page aria-describedby=format!("figcaption-{id}")>"Comments"</a> }
    });
    view! {
        <li class="media-item" id=format!("media-{id}") data-name=item.file_name.clone()>
            <figure>
                {body}
                <figcaption dir="auto" id=format!("figcaption-{id}") class:untitled=item.caption.is_empty()>
                    {if item.caption.is_empty() { item.file_name.clone() } else { item.caption.clone() }}
                </figcaption>
            </figure>
            {item.meta.note.clone().map(|note| view! { <p class="media-note">{note}</p> })}
            {tags}
            {comments}
            {failure.map(|why| view! { <p class="media-failure">{why}</p> })}
            {can_retry.then(|| view! {
                <form method="post" action=RetryMedia::PATH class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="small">"Retry processing"</button>
                </form>
            })}
            {item.can_edit.then(|| view! {
                <details class="caption-edit" open=caption_open>
                    <summary>"Edit caption"</summary>
                    <form method="post" action=SetMediaCaption::PATH class="caption-form stack">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="version" value=item.version.to_string()/>
                        <div class="field">
                            <label for=caption_id.clone()>{format!("Caption for {}", item.file_name)}</label>
                            <textarea id=caption_id name="caption" rows="2" maxlength="2000" autofocus=caption_open>{textarea_text(item.caption.clone())}</textarea>
                        </div>
                        <button type="submit" class="small">"Save caption"</button>
                        <p class="caption-status" role="status"></p>
                    </form>
                </details>
            })}
        </li>
    }
}

/// What the lightbox shows, read from the thumbnail link's `data-*` attributes.
#[derive(Clone, Debug, PartialEq)]
struct Slide {
    src: String,
    alt: String,
    caption: String,
    /// Which photo of how many.
    index: usize,
    count: usize,
}

const LINKS: &str = "a[data-lightbox]";

#[island]
pub fn Lightbox(children: Children) -> impl IntoView {
    let scope = NodeRef::<leptos::html::Div>::new();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let slide = RwSignal::new(None::<Slide>);
    let opener = StoredValue::new(None::<SendWrapper<web_sys::HtmlElement>>);

    let links = move || {
        let mut found = Vec::new();
        if let Some(list) = scope.get_untracked().and_then(|s| s.query_selector_all(LINKS).ok()) {
            for i in 0..list.length() {
                if let Some(el) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                    found.push(el);
                }
            }
        }
        found
    };
    let show = move |i: usize| {
        let links = links();
        let Some(link) = links.get(i) else { return };
        let attr = |name: &str| link.get_attribute(name).unwrap_or_default();
        slide.set(Some(Slide {
            src: attr("data-full"),
            alt: attr("data-alt"),
            caption: attr("data-caption"),
            index: i,
            count: links.len(),
        }));
    };
    let step = move |delta: isize| {
        let Some((index, count)) = slide.with_untracked(|s| s.as_ref().map(|s| (s.index, s.count))) else { return };
        if count > 0 {
            show((index as isize + delta).rem_euclid(count as isize) as usize);
        }
    };
    let close = move || {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };

    let on_click = move |ev: MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest(LINKS).ok().flatten());
        let Some(link) = link else { return };
        ev.prevent_default();
        let i = links().iter().position(|l| l == &link).unwrap_or(0);
        opener.set_value(link.dyn_into::<web_sys::HtmlElement>().ok().map(SendWrapper::new));
        show(i);
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "ArrowRight" => {
            ev.prevent_default();
            step(1);
        }
        "ArrowLeft" => {
            ev.prevent_default();
            step(-1);
        }
        _ => {}
    };
    // A click on the backdrop lands on the dialog itself: it closes, like Escape.
    let on_dialog_click = move |ev: MouseEvent| {
        let on_backdrop = match (ev.target(), dialog.get_untracked()) {
            (Some(target), Some(d)) => {
                let d: &web_sys::EventTarget = d.as_ref();
                &target == d
            }
            _ => false,
        };
        if on_backdrop {
            close();
        }
    };
    let on_close = move |_| {
        opener.with_value(|o| {
            if let Some(o) = o {
                let _ = o.focus();
            }
        });
    };

    view! {
        <div class="lightbox-scope" node_ref=scope on:click=on_click on:submit=save_caption>
            {children()}
            <dialog class="lightbox" node_ref=dialog aria-label="Photo viewer" on:keydown=on_key on:close=on_close
                on:click=on_dialog_click>
                <div class="lightbox-bar">
                    <p class="lightbox-position" aria-live="polite">
                        {move || slide.with(|s| s.as_ref().map(|s| format!("Photo {} of {}", s.index + 1, s.count)))}
                    </p>
                    <button type="button" class="lightbox-close" on:click=move |_| close()>"Close"</button>
                </div>
                {move || slide.get().map(|s| view! {
                    <figure class="lightbox-figure">
                        <img src=s.src alt=s.alt/>
                        {(!s.caption.is_empty()).then(|| view! { <figcaption dir="auto">{s.caption}</figcaption> })}
                    </figure>
                })}
                <div class="lightbox-nav">
                    <button type="button" on:click=move |_| step(-1)>"Previous"</button>
                    <button type="button" on:click=move |_| step(1)>"Next"</button>
                </div>
            </dialog>
        </div>
    }
}

/// Saves a caption form without leaving the page, then shows the new caption where the
/// item is (its caption, its image's text, the lightbox's data).
fn save_caption(ev: SubmitEvent) {
    let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
    if !form.matches(".caption-form").unwrap_or(false) {
        return;
    }
    let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
    ev.prevent_default();
    let field = |name: &str| data.get(name).as_string().unwrap_or_default();
    let (id, caption, version) = (field("id"), field("caption"), field("version").parse().ok());
    let form = SendWrapper::new(form);
    let status = move |text: &str| {
        if let Ok(Some(el)) = form.query_selector(".caption-status") {
            el.set_text_content(Some(text));
        }
    };
    status("Saving…");
    spawn_local(async move {
        match set_media_caption(id.clone(), caption, version).await {
            Ok((caption, version)) => {
                show_caption(&id, &caption, version);
                status("Caption saved.");
            }
            Err(error) => status(error.message()),
        }
    });
}

fn show_caption(id: &str, caption: &str, version: i64) {
    let Some(el) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(&format!("media-{id}")))
    else {
        return;
    };
    let find = |selector: &str| el.query_selector(selector).ok().flatten();
    let name = el.get_attribute("data-name").unwrap_or_default();
    let text = if caption.is_empty() { name.as_str() } else { caption };
    if let Some(figcaption) = find("figcaption") {
        figcaption.set_text_content(Some(text));
        let _ = figcaption.class_list().toggle_with_force("untitled", caption.is_empty());
    }
    if let Some(link) = find(LINKS) {
        let _ = link.set_attribute("data-caption", caption);
        let _ = link.set_attribute("data-alt", text);
    }
    if let Some(img) = find("img") {
        let _ = img.set_attribute("alt", text);
    }
    if let Some(input) = find("input[name=version]").and_then(|i| i.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.set_value(&version.to_string());
    }
}
