//! The header, navigation and footer around every page.

use leptos::prelude::*;
use types::Theme;

use super::theme_toggle::ThemeToggle;

#[component]
pub fn Header(theme: Option<Theme>) -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"❦"</span>
                " Heirloom"
            </a>
            <nav aria-label="Main">
                <ul>
                    <li><a href="/">"Home"</a></li>
                </ul>
            </nav>
            <ThemeToggle initial=theme/>
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "Heirloom " {env!("CARGO_PKG_VERSION")}
                " · Your family's stories, kept on your own server."
            </p>
        </footer>
    }
}
