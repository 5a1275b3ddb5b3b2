//! The tip page: one suggestion at a time on a full-black screen (the `TipDeck` island),
//! and the small "next tip" card the home page shows a signed-in reader.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, Tip};

use crate::api::recommend_tip;
use crate::components::page::{query, Loaded};
use crate::components::tip_deck::{kind_label, TipDeck};

#[component]
pub fn TipsPage() -> impl IntoView {
    // `?tip=<id>` shows that tip (the home card's), if it still waits for an answer.
    let tip = query("tip");
    let data = Resource::new_blocking(move || tip.clone(), |tip| recommend_tip(tip, None, None, None));
    view! {
        <Title text="Tip"/>
        <h1 class="visually-hidden">"Tip"</h1>
        <Loaded data render=|tip| view! { <TipDeck initial=tip/> }.into_any()/>
    }
}

/// The home page's card: the tip the page would show, with a way there.
#[component]
pub fn NextTipCard(tip: Tip) -> impl IntoView {
    view! {
        <section class="next-tip" aria-labelledby="next-tip-title">
            <h2 id="next-tip-title">"Next tip"</h2>
            <p class="next-tip-kind">{kind_label(&tip)}</p>
            <p dir="auto" class="next-tip-text">{tip.title.clone()}</p>
            <a class="button" href=format!("{}?tip={}", routes::TIPS.path, tip.id)>"Open the tip page"</a>
        </section>
    }
}
