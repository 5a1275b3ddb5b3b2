//! The light/dark switch. Without JavaScript it is a plain form that asks the server to
//! set the theme cookie; as an island it switches instantly and writes the same cookie,
//! so the server renders the chosen theme on the next page load.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use types::Theme;
use wasm_bindgen::JsCast;

#[island]
pub fn ThemeToggle(initial: Option<Theme>) -> impl IntoView {
    // `None` means "following the system"; the browser resolves it after hydration.
    let (theme, set_theme) = signal(initial);
    Effect::new(move |_| {
        if theme.get_untracked().is_none() {
            set_theme.set(Some(system_theme()));
        }
    });
    // The server cannot see the system setting, so without a cookie it offers dark,
    // the opposite of the default light theme.
    let next = move || theme.get().unwrap_or(Theme::Light).opposite();
    let label = move || format!("Switch to {} theme", next().as_str());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let chosen = next();
        apply_theme(chosen);
        set_theme.set(Some(chosen));
    };
    view! {
        <form class="theme-toggle" method="post" action="/theme" on:submit=on_submit>
            <input type="hidden" name="theme" value=move || next().as_str()/>
            <button type="submit" aria-label=label title=label data-theme-current=move || theme.get().map(Theme::as_str)>
                <span aria-hidden="true">{move || if next() == Theme::Dark { "☾" } else { "☀" }}</span>
            </button>
        </form>
    }
}

fn html_document() -> Option<web_sys::HtmlDocument> {
    web_sys::window()?.document()?.dyn_into::<web_sys::HtmlDocument>().ok()
}

fn system_theme() -> Theme {
    let prefers_dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|query| query.matches());
    if prefers_dark {
        Theme::Dark
    } else {
        Theme::Light
    }
}

fn apply_theme(theme: Theme) {
    let Some(document) = html_document() else { return };
    if let Some(root) = document.document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    let _ = document.set_cookie(&theme.cookie());
}
