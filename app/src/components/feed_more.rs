//! The feed's "Older" link, made an endless list where scripts run: the next page is
//! fetched as soon as this one is shown (prefetch), and its items are added below when
//! the reader scrolls to the end (skeleton lines while a page is still on its way). The
//! pages are the server's own rendering of the home page (`?before=`), so the items are
//! drawn and sanitized once, on the server. Without JavaScript the link simply opens
//! the older page. Above the feed, [`NewInFeed`] counts what arrives live ("3 new")
//! without moving what is being read; the pill reloads the feed's first page.

use leptos::prelude::*;

#[island]
pub fn NewInFeed(
    /// The reader (their own doings are not news to them).
    me: String,
    /// The legacy the feed keeps to, if any.
    legacy: String,
    /// The feed's first page.
    href: String,
) -> impl IntoView {
    let count = RwSignal::new(0u32);
    // Ready (for tests and screen readers alike) once the stream is open.
    let ready = RwSignal::new(false);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&me, &legacy);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let (me, legacy) = (me.clone(), legacy.clone());
            crate::components::live::subscribe(
                move |change| {
                    let mine = change.field("actor_id") == me;
                    let elsewhere = !legacy.is_empty() && change.field("legacy_id") != legacy;
                    if change.flag("in_feed") && !mine && !elsewhere {
                        count.update(|n| *n += 1);
                    }
                },
                move || ready.set(true),
            );
        }
    });
    view! {
        <div class="feed-new" role="status" data-ready=move || ready.get().then_some("true")>
            {move || (count.get() > 0).then(|| view! {
                <a class="pill" href=href.clone()>{format!("{} new", count.get())}</a>
            })}
        </div>
    }
}

#[island]
pub fn FeedMore(
    /// The older page's URL.
    next: String,
) -> impl IntoView {
    let next = RwSignal::new(Some(next));
    let loading = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let container = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(element) = container.get() {
            scroll::watch(element.into(), next, loading);
        }
        ready.set(true);
    });
    view! {
        <div class="feed-more" node_ref=container data-ready=move || ready.get().then_some("true")>
            {move || loading.get().then(|| view! {
                <ul class="feed-skeleton" aria-hidden="true"><li></li><li></li><li></li></ul>
                <p class="note" role="status">"Loading older activity…"</p>
            })}
            {move || match next.get() {
                Some(href) => view! { <a href=href rel="next">"Older"</a> }.into_any(),
                None => view! { <p class="note">"That is everything."</p> }.into_any(),
            }}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod scroll {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    use crate::components::upload::fetch_page;

    /// A page fetched ahead: its URL and its document.
    type Prefetched = Rc<RefCell<Option<(String, web_sys::Document)>>>;

    pub fn watch(container: web_sys::Element, next: RwSignal<Option<String>>, loading: RwSignal<bool>) {
        let prefetched: Prefetched = Rc::default();
        prefetch(next, prefetched.clone());
        let seen = container.clone();
        let on_visible = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let visible =
                entries.iter().any(|e| e.unchecked_into::<web_sys::IntersectionObserverEntry>().is_intersecting());
            if visible && !loading.get_untracked() {
                spawn_local(more(seen.clone(), next, loading, prefetched.clone()));
            }
        });
        let options = web_sys::IntersectionObserverInit::new();
        options.set_root_margin("200px");
        if let Ok(observer) =
            web_sys::IntersectionObserver::new_with_options(on_visible.as_ref().unchecked_ref(), &options)
        {
            observer.observe(&container);
            // Both live as long as the page.
            std::mem::forget(observer);
        }
        on_visible.forget();
    }

    /// Fetches the next page ahead of need.
    fn prefetch(next: RwSignal<Option<String>>, prefetched: Prefetched) {
        let Some(url) = next.get_untracked() else { return };
        spawn_local(async move {
            if let Some(page) = fetch_page(&url).await {
                *prefetched.borrow_mut() = Some((url, page));
            }
        });
    }

    /// Adds the next page's items below the list, then prefetches the one after; again at
    /// once while the end of the list is still in view (a short page).
    async fn more(
        container: web_sys::Element,
        next: RwSignal<Option<String>>,
        loading: RwSignal<bool>,
        prefetched: Prefetched,
    ) {
        loop {
            let Some(url) = next.get_untracked() else { return };
            loading.set(true);
            let ready = prefetched.borrow_mut().take().filter(|(at, _)| *at == url).map(|(_, page)| page);
            let page = match ready {
                Some(page) => Some(page),
                None => fetch_page(&url).await,
            };
            loading.set(false);
            let Some(page) = page else { return };
            let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
            let (Ok(Some(list)), Ok(items)) =
                (document.query_selector(".feed-list"), page.query_selector_all(".feed-list > li"))
            else {
                return;
            };
            for item in (0..items.length()).filter_map(|i| items.item(i)) {
                if let Ok(copy) = document.import_node_with_deep(&item, true) {
                    let _ = list.append_child(&copy);
                }
            }
            let older =
                page.query_selector(".feed-more a[rel=next]").ok().flatten().and_then(|a| a.get_attribute("href"));
            next.set(older);
            prefetch(next, prefetched.clone());
            let in_view = web_sys::window()
                .and_then(|w| w.inner_height().ok())
                .and_then(|h| h.as_f64())
                .is_some_and(|height| container.get_bounding_client_rect().top() < height + 200.0);
            if !in_view {
                return;
            }
        }
    }
}
