//! The header's search box. Without JavaScript it is a plain GET form to `/search`; as an
//! island it also offers typeahead: after a short pause in typing it asks the server for
//! a few stories and legacies the reader may read, and shows them as a listbox following
//! the WAI-ARIA combobox pattern (Up/Down move through them, Enter opens the chosen one,
//! Escape closes the list, then clears the box). The number of suggestions is announced
//! politely; picking one goes straight to its page, and Enter with nothing chosen
//! searches as the form does.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use types::{SearchKind, SearchSuggestion};

use crate::api::search_suggest;

/// Pause after the last keystroke before suggestions are fetched.
const SUGGEST_AFTER_MS: u64 = 150;
/// Fewer characters than this match too much to be worth suggesting.
const SUGGEST_MIN_CHARS: usize = 2;

const INPUT_ID: &str = "site-search-q";
const LISTBOX_ID: &str = "site-search-suggestions";

fn option_id(index: usize) -> String {
    format!("site-search-option-{index}")
}

/// Opens a page (a full load: pages are rendered on the server).
pub(crate) fn go(href: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(href);
    }
}

fn describe(suggestion: &SearchSuggestion) -> String {
    match suggestion.kind {
        SearchKind::Story => format!("Story in {}", suggestion.legacy_name),
        SearchKind::Legacy => "Legacy".to_string(),
        SearchKind::Media => format!("Media in {}", suggestion.legacy_name),
        SearchKind::Person => format!("Person in {}", suggestion.legacy_name),
    }
}

#[island]
pub fn SearchBox() -> impl IntoView {
    let suggestions = RwSignal::new(Vec::<SearchSuggestion>::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let announcement = RwSignal::new(String::new());
    let ready = RwSignal::new(false);
    // Each fetch gets a number; an answer that is not the latest one is dropped.
    let latest = StoredValue::new(0u64);
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let input = NodeRef::<leptos::html::Input>::new();

    // In the browser only: marks the box as live (tests and styles can tell).
    Effect::new(move |_| ready.set(true));

    let close = move || {
        open.set(false);
        active.set(None);
    };

    let fetch = move |text: String| {
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        spawn_local(async move {
            let found = search_suggest(text).await.unwrap_or_default();
            if latest.get_value() != ticket {
                return;
            }
            announcement.set(match found.len() {
                0 => "No suggestions.".to_string(),
                1 => "1 suggestion. Use the down arrow key to choose it.".to_string(),
                n => format!("{n} suggestions. Use the up and down arrow keys to choose one."),
            });
            open.set(!found.is_empty());
            active.set(None);
            suggestions.set(found);
        });
    };

    let on_input = move |_| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let text = input.get().map(|el| el.value()).unwrap_or_default();
        if text.trim().chars().count() < SUGGEST_MIN_CHARS {
            // Forget any answer still on its way.
            latest.set_value(latest.get_value() + 1);
            suggestions.set(Vec::new());
            announcement.set(String::new());
            close();
            return;
        }
        let handle =
            set_timeout_with_handle(move || fetch(text), std::time::Duration::from_millis(SUGGEST_AFTER_MS)).ok();
        pending.set_value(handle);
    };

    let on_keydown = move |ev: KeyboardEvent| {
        let count = suggestions.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                open.set(true);
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                open.set(true);
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            "Enter" => {
                let chosen = active
                    .get_untracked()
                    .filter(|_| open.get_untracked())
                    .and_then(|i| suggestions.with_untracked(|s| s.get(i).map(SearchSuggestion::href)));
                if let Some(href) = chosen {
                    // Opens the suggestion instead of submitting the search.
                    ev.prevent_default();
                    go(&href);
                }
            }
            "Escape" => {
                if open.get_untracked() {
                    ev.prevent_default();
                    close();
                } else if let Some(el) = input.get() {
                    el.set_value("");
                    suggestions.set(Vec::new());
                }
            }
            _ => {}
        }
    };

    let options = move || {
        suggestions
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, suggestion)| {
                let href = suggestion.href();
                let selected = move || if active.get() == Some(i) { "true" } else { "false" };
                view! {
                    <li
                        role="option"
                        id=option_id(i)
                        class="suggestion"
                        aria-selected=selected
                        // Keeps the focus in the box, so the list is not closed by a blur.
                        on:mousedown=|ev| ev.prevent_default()
                        on:click=move |_| go(&href)
                    >
                        <span dir="auto" class="suggestion-title">{suggestion.title.clone()}</span>
                        <span class="suggestion-hint">{describe(&suggestion)}</span>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <form
            class="site-search"
            role="search"
            aria-label="Site"
            method="get"
            action="/search"
            data-ready=move || ready.get().then_some("true")
        >
            <label for=INPUT_ID class="visually-hidden">"Search"</label>
            <div class="combobox">
                <input
                    id=INPUT_ID
                    node_ref=input
                    type="search"
                    name="q"
                    placeholder="Search stories"
                    autocomplete="off"
                    role="combobox"
                    aria-autocomplete="list"
                    aria-controls=LISTBOX_ID
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    aria-activedescendant=move || active.get().map(option_id)
                    maxlength="512"
                    on:input=on_input
                    on:keydown=on_keydown
                    on:blur=move |_| close()
                />
                <ul id=LISTBOX_ID role="listbox" aria-label="Suggestions" class="suggestions" hidden=move || !open.get()>
                    {options}
                </ul>
            </div>
            <button type="submit">"Search"</button>
            // A polite live region (not role=status: the page's own status messages keep
            // that role to themselves).
            <p class="visually-hidden search-announcement" aria-live="polite" aria-atomic="true">
                {move || announcement.get()}
            </p>
        </form>
    }
}
