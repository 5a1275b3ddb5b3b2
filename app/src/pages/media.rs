//! A legacy's photos and recordings: every item the reader may see, its own and its
//! stories', in a grid with the lightbox, each with the people tagged in it; members who
//! may write can add more here, and whoever may edit an item tags people in it.

use leptos::prelude::*;
use leptos_meta::Title;
use types::routes;

use crate::api::{load_legacy_media, load_media_page, LegacyGallery};
use crate::components::conversation::Conversation;
use crate::components::form::{FlashMessage, ReportForm};
use crate::components::media::{GalleryPeople, MediaGallery};
use crate::components::page::{loaded_page, param, query, Loaded};
use crate::components::uploader::Uploader;
use crate::request;

#[component]
pub fn LegacyMediaPage() -> impl IntoView {
    let id = param("id");
    let page = Resource::new_blocking(move || id.clone(), load_legacy_media);
    // `?caption=<media id>` (a caption tip's link) opens that item's caption form.
    let open_caption = query("caption");
    view! {
        <Loaded data=page render=move |LegacyGallery { legacy, can_write, media, tagged, choices }| {
            let id = legacy.id.clone();
            let people = GalleryPeople { tagged: tagged.into_iter().collect(), choices };
            view! {
                <Title text=format!("Photos and recordings · {}", legacy.name)/>
                <p class="crumbs"><a dir="auto" href=routes::LEGACY.to(&[&id])>{legacy.name.clone()}</a></p>
                <h1>"Photos and recordings"</h1>
                <FlashMessage flash=request::flash()/>
                <MediaGallery items=media empty_text="No photos or recordings yet." open_caption=open_caption.clone() people=Some(people)/>
                {can_write.then(|| view! {
                    <section aria-labelledby="media-upload-title">
                        <h2 id="media-upload-title">"Add photos and recordings"</h2>
                        <noscript><p class="note">"Uploading needs JavaScript."</p></noscript>
                        <Uploader legacy_id=id.to_string() story_id=None/>
                    </section>
                })}
            }.into_any()
        }/>
    }
}

/// One photo or recording with its conversation: what a gallery item's "Comments" link
/// opens, and where the item's comment and reaction forms come back to.
#[component]
pub fn MediaItemPage() -> impl IntoView {
    let key = (param("id"), param("media_id"));
    loaded_page(
        key,
        |(id, media_id)| load_media_page(id, media_id),
        |(item, conversation)| {
            let name = if item.caption.is_empty() { item.file_name.clone() } else { item.caption.clone() };
            let (id, legacy_id) = (item.id.to_string(), item.legacy_id.to_string());
            let story = item.story_id.as_ref().map(|story_id| {
                view! { " · " <a href=routes::STORY.to(&[story_id])>"Its story"</a> }
            });
            view! {
                <Title text=name.clone()/>
                <p class="crumbs"><a href=routes::LEGACY_MEDIA.to(&[&legacy_id])>"Photos and recordings"</a>{story}</p>
                <h1 dir="auto">{name}</h1>
                <FlashMessage flash=request::flash()/>
                <MediaGallery items=vec![item] empty_text="" comments_link=false/>
                <Conversation conversation action=routes::fill(routes::form::COMMENT_ON_MEDIA, &[&id])
                    react=routes::fill(routes::form::REACT_TO_MEDIA, &[&id]) what="this item"/>
                {request::current_user().is_some().then(|| view! {
                    <ReportForm action=routes::fill(routes::form::FLAG_MEDIA, &[&id])
                        summary="Report a problem with this photo or recording"/>
                }.into_any())}
            }
            .into_any()
        },
    )
}
