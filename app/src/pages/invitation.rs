//! Accepting an invitation to a legacy (signed-in readers only; others sign in and come back).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::load_invitation;
use crate::components::form::FlashMessage;
use crate::components::page::{param, Loaded};
use crate::request;

#[component]
pub fn InvitationPage() -> impl IntoView {
    let token = param("token");
    let action = types::routes::fill(types::routes::form::ACCEPT_INVITATION, &[&token]);
    let offer = Resource::new_blocking(move || token.clone(), load_invitation);
    view! {
        <Title text="Invitation"/>
        <FlashMessage flash=request::flash()/>
        <Loaded data=offer render=move |(legacy, role)| view! {
                    <section class="auth-card">
                        <h1>{format!("Join {legacy}")}</h1>
                        <p>{format!("You are invited to join as {role}.")}</p>
                        <form method="post" action=action.clone()>
                            <button type="submit" class="primary">"Join"</button>
                        </form>
                    </section>
                }.into_any()/>
    }
}
