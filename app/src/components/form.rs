//! Form pieces shared by every page with a form: a labelled field that shows its own
//! error, and the flash message a form handler left.

use leptos::prelude::*;
use types::Flash;

/// A labelled input. `error` is shown beneath it and announced with the field.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = String::new(), into)] value: String,
    #[prop(default = None)] error: Option<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = [hint.map(|_| hint_id.clone()), error.as_ref().map(|_| error_id.clone())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let has_error = error.is_some();
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=(!value.is_empty()).then_some(value)
                autocomplete=autocomplete
                required=required
                aria-invalid=has_error.then_some("true")
                aria-describedby=(!described_by.is_empty()).then_some(described_by)
            />
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {error.map(|error| view! { <p class="field-error" id=error_id>{error}</p> })}
        </div>
    }
}

/// The one-time message from the last form post, if any.
#[component]
pub fn FlashMessage(flash: Flash) -> impl IntoView {
    (!flash.message.is_empty()).then(|| {
        let (class, role) =
            if flash.is_error() { ("flash flash-error", "alert") } else { ("flash flash-notice", "status") };
        view! { <p class=class role=role>{flash.message}</p> }
    })
}
