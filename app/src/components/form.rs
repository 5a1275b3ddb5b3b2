//! Form pieces shared by every page with a form: a labelled field and a labelled choice
//! that show their own errors, and the flash message a form handler left.

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
    let notes = Notes::new(format!("field-{name}"), hint, error);
    let (id, has_error, described_by) = (notes.id.clone(), notes.has_error(), notes.described_by());
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
                aria-describedby=described_by
            />
            {notes.view()}
        </div>
    }
}

/// A labelled choice of `choices` (the value sent, the text shown), `chosen` selected;
/// `error` and `hint` show beneath it as they do for a [`Field`].
#[component]
pub fn ChoiceField(
    #[prop(into)] label: String,
    name: &'static str,
    choices: Vec<(String, String)>,
    #[prop(default = String::new(), into)] chosen: String,
    /// The element id; `field-<name>` when not given.
    #[prop(optional)]
    id: Option<&'static str>,
    #[prop(default = None)] error: Option<String>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let notes = Notes::new(id.map_or_else(|| format!("field-{name}"), str::to_string), hint, error);
    let (id, has_error, described_by) = (notes.id.clone(), notes.has_error(), notes.described_by());
    view! {
        <div class="field" class:has-error=has_error>
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-invalid=has_error.then_some("true") aria-describedby=described_by>
                {choices.into_iter().map(|(value, text)| {
                    let selected = value == chosen;
                    view! { <option value=value selected=selected>{text}</option> }
                }).collect_view()}
            </select>
            {notes.view()}
        </div>
    }
}

/// The choices of a [`ChoiceField`] from fixed pairs.
pub fn choices(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(value, text)| (value.to_string(), text.to_string())).collect()
}

/// A field's hint and error: their ids, tied to the field with `aria-describedby`.
struct Notes {
    id: String,
    hint: Option<&'static str>,
    error: Option<String>,
}

impl Notes {
    fn new(id: String, hint: Option<&'static str>, error: Option<String>) -> Notes {
        Notes { id, hint, error }
    }

    fn has_error(&self) -> bool {
        self.error.is_some()
    }

    fn described_by(&self) -> Option<String> {
        let ids =
            [self.hint.map(|_| format!("{}-hint", self.id)), self.error.as_ref().map(|_| format!("{}-error", self.id))];
        let joined = ids.into_iter().flatten().collect::<Vec<_>>().join(" ");
        (!joined.is_empty()).then_some(joined)
    }

    fn view(self) -> impl IntoView {
        let (hint_id, error_id) = (format!("{}-hint", self.id), format!("{}-error", self.id));
        view! {
            {self.hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {self.error.map(|error| view! { <p class="field-error" id=error_id>{error}</p> })}
        }
    }
}

/// "Report a problem with …": a reason, sent to the legacy's owners (posted to `action`).
#[component]
pub fn ReportForm(action: String, summary: &'static str) -> impl IntoView {
    view! {
        <details class="flag">
            <summary>{summary}</summary>
            <form method="post" action=action class="stack">
                <div class="field">
                    <label for="flag-reason">"What is wrong?"</label>
                    <input id="flag-reason" name="reason" required/>
                </div>
                <button type="submit">"Send to the legacy's owners"</button>
            </form>
        </details>
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
