//! Create a password account. The first account on a new instance becomes its admin.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use types::routes;

use crate::components::form::{Field, FlashMessage};
use crate::request;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let invite = use_query_map().with_untracked(|q| q.get("invite")).unwrap_or_default();
    let flash = request::flash();
    let note = match request::signup_policy() {
        "invite_only" if invite.is_empty() => {
            Some("This Heirloom is invitation-only: open the invitation link you were sent.")
        }
        "closed" => Some("Sign-up is closed on this Heirloom, except for its very first account."),
        _ => None,
    };
    let value = |name: &str| flash.value(name).unwrap_or_default().to_string();
    let error = |name: &str| flash.field_error(name).map(str::to_string);
    view! {
        <Title text="Create an account"/>
        <section class="auth-card" aria-labelledby="signup-title">
            <h1 id="signup-title">"Create an account"</h1>
            {note.map(|note| view! { <p class="note">{note}</p> })}
            <FlashMessage flash=flash.clone()/>
            <form method="post" action=routes::form::SIGN_UP class="stack" novalidate>
                <input type="hidden" name="invite" value=invite/>
                <Field label="Your name" name="display_name" autocomplete="name" value=value("display_name") error=error("display_name")/>
                <Field label="Email" name="email" kind="email" autocomplete="email" value=value("email") error=error("email")/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password"
                    hint="At least 8 characters. A few words you will remember is ideal." error=error("password")/>
                {error("invite").map(|e| view! { <p class="field-error" role="alert">"Invitation: " {e}</p> })}
                <button type="submit" class="primary">"Create account"</button>
            </form>
            <p class="aside">"Already have an account? " <a href=routes::SIGN_IN.path>"Sign in"</a></p>
        </section>
    }
}
