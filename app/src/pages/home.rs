//! The home page: what Heirloom is, for someone who has never heard of it, and for a
//! signed-in reader first a greeting and the next tip.

use leptos::prelude::*;
use leptos_meta::Title;
use types::routes;

use crate::api::current_tip;
use crate::pages::tips::NextTipCard;
use crate::request;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = request::current_user();
    // A visitor who is not signed in is offered an account where anyone may open one
    // (invite-only instances open accounts from the invitation link instead).
    let signed_out = user.is_none();
    let signup_open = request::signup_policy() == "open";
    view! {
        <Title text=""/>
        {user.map(|user| view! { <Welcome name=user.display_name/> })}
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">"Keep the stories of the people you love"</h1>
            <p class="lede">
                "Heirloom is a private home for your family's memories: the stories, photos, "
                "voice recordings and people you want to remember, kept on a server you own."
            </p>
            {signed_out.then(|| view! {
                <p class="hero-actions">
                    {signup_open.then(|| view! { <a class="button primary" href=routes::SIGN_UP.path>"Create an account"</a> })}
                    <a class="button" href=routes::SIGN_IN.path>"Sign in"</a>
                </p>
            })}
        </section>
        <section class="features" aria-labelledby="features-title">
            <h2 id="features-title">"What you can do with it"</h2>
            <ul class="feature-list">
                {FEATURES.iter().map(|(title, text)| view! { <li><h3>{*title}</h3><p>{*text}</p></li> }).collect_view()}
            </ul>
        </section>
    }
}

/// A signed-in reader's start: where their legacies are, and the next tip (left out,
/// never an error page, should it fail to load).
#[component]
fn Welcome(name: String) -> impl IntoView {
    let tip = Resource::new_blocking(|| (), |_| current_tip());
    view! {
        <section class="welcome" aria-labelledby="welcome-title">
            <h2 id="welcome-title">"Welcome back, "<bdi>{name}</bdi></h2>
            <p><a href="/legacies">"Your legacies"</a>" · "<a href="/connect">"Connected apps"</a></p>
            <Suspense fallback=|| ()>
                {move || tip.get().and_then(Result::ok).map(|tip| view! { <NextTipCard tip/> }.into_any())}
            </Suspense>
        </section>
    }
}

/// What the home page tells a visitor Heirloom does: a heading and a sentence each.
const FEATURES: &[(&str, &str)] = &[
    (
        "Write stories together",
        "Create a legacy for a grandparent, a family or a place, and invite relatives to write what they remember. \
         Every edit is kept, so nothing is lost.",
    ),
    (
        "Keep photos, voices and films",
        "Upload pictures, audio and video from any device; Heirloom makes previews and keeps the originals safe.",
    ),
    (
        "Find anything",
        "One search box finds stories, people and captions as you type, showing only what you are allowed to see.",
    ),
    (
        "Be gently reminded",
        "A quiet tip page suggests one thing at a time: a question to ask, a draft to finish, a photo to caption.",
    ),
    (
        "Own it",
        "It runs on your own machine with nothing else to install, exports everything as Markdown and files, and \
         grows to many servers when you need it.",
    ),
];
