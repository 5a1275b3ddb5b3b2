//! Your legacies, and the form to start a new one.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, Flash, LegacyView};

use crate::api::{load_legacies, load_legacy_to_manage};
use crate::components::form::{Field, FlashMessage};
use crate::components::page::{loaded_page, param, CardList, Heading};
use crate::components::raw_text::textarea_text;
use crate::request;

#[component]
pub fn LegaciesPage() -> impl IntoView {
    let flash = request::flash();
    let legacies = Resource::new_blocking(|| (), |_| load_legacies());
    view! {
        <Heading text="Legacies"/>
        <CardList
            data=legacies
            empty="You are not part of any legacy yet. Start one below, or open an invitation link."
            card=|l: LegacyView| view! {
                <h2><a dir="auto" href=routes::LEGACY.to(&[&l.id])>{l.name.clone()}</a></h2>
                <p class="dates">{dates(&l.born, &l.died)}</p>
                <p dir="auto">{l.summary.clone()}</p>
                <p class="meta">{l.my_role.map(|r| format!("You are {}", article(r.as_str())))}</p>
            }
        />
        <section class="panel" aria-labelledby="new-legacy-title">
            <h2 id="new-legacy-title">"Start a legacy"</h2>
            <p>"A legacy is a person, a family or a place you want to remember together."</p>
            <FlashMessage flash=flash.clone()/>
            <form method="post" action=routes::form::CREATE_LEGACY class="stack" novalidate>
                <LegacyFields flash=flash.clone() legacy=None/>
                <button type="submit" class="primary">"Create legacy"</button>
            </form>
        </section>
    }
}

/// A legacy's name, dates and summary: what the last form post typed (after a problem),
/// else the legacy's own.
#[component]
pub fn LegacyFields(flash: Flash, legacy: Option<LegacyView>) -> impl IntoView {
    let value = |name: &str, own: fn(&LegacyView) -> &str| match flash.value(name) {
        Some(typed) => typed.to_string(),
        None => legacy.as_ref().map(|l| own(l).to_string()).unwrap_or_default(),
    };
    let error = |name: &str| flash.field_error(name).map(str::to_string);
    let summary = value("summary", |l| &l.summary);
    let summary_error = error("summary");
    view! {
        <Field label="Name" name="name" value=value("name", |l| &l.name) error=error("name")/>
        <Field label="Born" name="born" required=false hint="A year or a date, as you know it."
            value=value("born", |l| &l.born) error=error("born")/>
        <Field label="Died" name="died" required=false value=value("died", |l| &l.died) error=error("died")/>
        <div class="field">
            <label for="field-summary">"Summary"</label>
            <textarea id="field-summary" name="summary" rows="3" aria-invalid=summary_error.is_some().then_some("true")
                aria-describedby=summary_error.is_some().then_some("field-summary-error")>{textarea_text(summary)}</textarea>
            {summary_error.clone().map(|e| view! { <p class="field-error" id="field-summary-error">{e}</p> })}
        </div>
    }
}

/// A legacy's edit page (its owners): name, dates and summary.
#[component]
pub fn EditLegacyPage() -> impl IntoView {
    loaded_page(param("id"), load_legacy_to_manage, |legacy| view! { <EditLegacy legacy/> }.into_any())
}

#[component]
fn EditLegacy(legacy: LegacyView) -> impl IntoView {
    let flash = request::flash();
    let id = legacy.id.clone();
    view! {
        <Title text=format!("Edit {}", legacy.name)/>
        <p class="crumbs"><a dir="auto" href=routes::LEGACY.to(&[&id])>{legacy.name.clone()}</a></p>
        <h1>"Edit legacy"</h1>
        <FlashMessage flash=flash.clone()/>
        <form method="post" action=routes::fill(routes::form::UPDATE_LEGACY, &[&id]) class="stack" novalidate>
            <input type="hidden" name="version" value=legacy.version.to_string()/>
            <LegacyFields flash legacy=Some(legacy.clone())/>
            <button type="submit" class="primary">"Save"</button>
        </form>
    }
}

pub fn dates(born: &str, died: &str) -> String {
    match (born.is_empty(), died.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("Born {born}"),
        (true, false) => format!("Died {died}"),
        (false, false) => format!("{born} – {died}"),
    }
}

fn article(role: &str) -> String {
    match role {
        "owner" => "an owner".into(),
        "editor" => "an editor".into(),
        other => format!("a {other}"),
    }
}
