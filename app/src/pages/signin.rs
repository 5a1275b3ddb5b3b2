//! Sign in with a password or with one of the configured OpenID Connect providers. It
//! never forwards to a provider by itself, so signing out cannot sign you straight back in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use types::routes;

use crate::components::form::{Field, FlashMessage};
use crate::request;

#[component]
pub fn SignInPage() -> impl IntoView {
    let next = use_query_map().with_untracked(|q| q.get("next")).unwrap_or_default();
    let flash = request::flash();
    let providers = request::oidc_providers();
    let signup_closed = request::signup_policy() == "closed";
    let next_query = url_escape(&next);
    view! {
        <Title text="Sign in"/>
        <section class="auth-card" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in"</h1>
            <FlashMessage flash=flash.clone()/>
            <form method="post" action=routes::form::SIGN_IN class="stack" novalidate>
                <input type="hidden" name="next" value=next/>
                <Field label="Email" name="email" kind="email" autocomplete="email"
                    value=flash.value("email").unwrap_or_default().to_string()
                    error=flash.field_error("email").map(str::to_string)/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password"
                    error=flash.field_error("password").map(str::to_string)/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <p class="aside"><a href=routes::FORGOT_PASSWORD.path>"Forgot your password?"</a></p>
            {(!providers.is_empty()).then(|| view! {
                <div class="providers">
                    <p class="divider">"or"</p>
                    <ul class="provider-list">
                        {providers.into_iter().map(|p| {
                            let href = format!("/auth/oidc/{}/start?next={}", p.id, next_query);
                            view! { <li><a class="button" href=href>{format!("Sign in with {}", p.name)}</a></li> }
                        }).collect_view()}
                    </ul>
                </div>
            })}
            {(!signup_closed).then(|| view! {
                <p class="aside">"New here? " <a href=routes::SIGN_UP.path>"Create an account"</a></p>
            })}
        </section>
    }
}

fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
