//! Your legacies, and the form to start a new one.

use leptos::prelude::*;
use types::{routes, LegacyView};

use crate::api::load_legacies;
use crate::components::form::{Field, FlashMessage};
use crate::components::page::{CardList, Heading};
use crate::components::raw_text::textarea_text;
use crate::request;

#[component]
pub fn LegaciesPage() -> impl IntoView {
    let flash = request::flash();
    let legacies = Resource::new_blocking(|| (), |_| load_legacies());
    let value = |name: &str| flash.value(name).unwrap_or_default().to_string();
    let error = |name: &str| flash.field_error(name).map(str::to_string);
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
                <Field label="Name" name="name" value=value("name") error=error("name")/>
                <Field label="Born" name="born" required=false hint="A year or a date, as you know it." value=value("born") error=error("born")/>
                <Field label="Died" name="died" required=false value=value("died") error=error("died")/>
                <div class="field">
                    <label for="field-summary">"Summary"</label>
                    <textarea id="field-summary" name="summary" rows="3">{textarea_text(value("summary"))}</textarea>
                </div>
                <button type="submit" class="primary">"Create legacy"</button>
            </form>
        </section>
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
