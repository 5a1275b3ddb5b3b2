//! "Forgot password": asking for a reset link by email, and choosing a new password
//! with it (without a mail server the first page says whom to ask instead); verifying
//! an account's email address from the link emailed at sign-up.

use leptos::prelude::*;
use leptos_meta::Title;
use types::routes;

use crate::components::form::{Field, FlashMessage};
use crate::components::page::query;
use crate::request;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let flash = request::flash();
    view! {
        <section class="auth-card" aria-labelledby="forgot-title">
            <Title text="Forgot your password?"/>
            <h1 id="forgot-title">"Forgot your password?"</h1>
            <FlashMessage flash=flash.clone()/>
            {if request::email_enabled() {
                view! {
                    <p>"Give the address you sign in with: we email you a link to choose a new password."</p>
                    <form method="post" action=routes::form::FORGOT_PASSWORD class="stack" novalidate>
                        <Field label="Email" name="email" kind="email" autocomplete="email"
                            value=flash.value("email").unwrap_or_default().to_string()
                            error=flash.field_error("email").map(str::to_string)/>
                        <button type="submit" class="primary">"Email me a link"</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p role="note">"This server cannot send email, so it cannot send you a reset link. Ask its \
                        administrator to set a new password for you (or to set up a mail server)."</p>
                }.into_any()
            }}
            <p class="aside"><a href=routes::SIGN_IN.path>"Back to sign in"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let flash = request::flash();
    let token = query("token").unwrap_or_default();
    view! {
        <section class="auth-card" aria-labelledby="reset-title">
            <Title text="Choose a new password"/>
            <h1 id="reset-title">"Choose a new password"</h1>
            <FlashMessage flash=flash.clone()/>
            {flash.field_error("token").map(|error| view! {
                <p class="field-error">{error.to_string()}" "<a href=routes::FORGOT_PASSWORD.path>"Ask for a new link"</a></p>
            })}
            <form method="post" action=routes::form::RESET_PASSWORD class="stack" novalidate>
                <input type="hidden" name="token" value=token/>
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                    hint="At least 8 characters. You will be signed out everywhere else."
                    error=flash.field_error("new_password").map(str::to_string)/>
                <button type="submit" class="primary">"Save password"</button>
            </form>
        </section>
    }
}

/// Where a verification email's link leads: one button that verifies the address (a
/// page and a form rather than the link itself, since mail scanners open links).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let flash = request::flash();
    let token = query("token").unwrap_or_default();
    view! {
        <section class="auth-card" aria-labelledby="verify-title">
            <Title text="Verify your email address"/>
            <h1 id="verify-title">"Verify your email address"</h1>
            <FlashMessage flash=flash.clone()/>
            {flash.field_error("token").map(|error| view! {
                <p class="field-error">{error.to_string()}" "<a href=routes::ACCOUNT.path>"Your account"</a></p>
            })}
            <form method="post" action=routes::form::VERIFY_EMAIL class="stack">
                <input type="hidden" name="token" value=token/>
                <p>"Confirm that this address is yours, so Heirloom may send you news of your family there."</p>
                <button type="submit" class="primary">"Verify my email address"</button>
            </form>
        </section>
    }
}
