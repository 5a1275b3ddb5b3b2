//! A legacy's members: roles (owners change them) and invitation links.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, LegacyRole, LegacyView, MemberView};

use crate::api::load_members;
use crate::components::form::{Field, FlashMessage};
use crate::components::page::{format_time, loaded_page, param};
use crate::request;

#[component]
pub fn MembersPage() -> impl IntoView {
    loaded_page(param("id"), load_members, |(legacy, members)| view! { <Members legacy members/> }.into_any())
}

#[component]
fn Members(legacy: LegacyView, members: Vec<MemberView>) -> impl IntoView {
    let flash = request::flash();
    let invitation = flash.value("invitation_url").map(str::to_string);
    let email_error = flash.field_error("email").map(str::to_string);
    let is_owner = legacy.my_role == Some(LegacyRole::Owner);
    let id = legacy.id.clone();
    view! {
        <Title text=format!("Members of {}", legacy.name)/>
        <p class="crumbs"><a dir="auto" href=routes::LEGACY.to(&[&id])>{legacy.name.clone()}</a></p>
        <h1>"Members"</h1>
        <FlashMessage flash/>
        {invitation.map(|url| view! {
            <div class="panel">
                <label for="invitation-url">"Invitation link (single use) — send it to the person you invite"</label>
                <input id="invitation-url" readonly value=url class="copy-field"/>
            </div>
        })}
        <table class="members">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th></tr></thead>
            <tbody>
                {members.into_iter().map(|m| {
                    let role_cell = if is_owner {
                        view! {
                            <form method="post" action=routes::fill(routes::form::SET_MEMBER, &[&id, &m.user_id]) class="inline-form">
                                <label class="visually-hidden" for=format!("role-{}", m.user_id)>{format!("Role of {}", m.display_name)}</label>
                                <select id=format!("role-{}", m.user_id) name="role">
                                    {LegacyRole::ALL.iter().map(|r| view! {
                                        <option value=r.as_str() selected=*r == m.role>{r.as_str()}</option>
                                    }).collect_view()}
                                    <option value="remove">"remove from legacy"</option>
                                </select>
                                <button type="submit">"Change"</button>
                            </form>
                        }.into_any()
                    } else {
                        view! { <span>{m.role.as_str()}</span> }.into_any()
                    };
                    view! {
                        <tr>
                            <td dir="auto">{m.display_name.clone()}</td>
                            <td>{m.email.clone()}</td>
                            <td>{role_cell}</td>
                            <td>{format_time(m.joined_at)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {is_owner.then(|| view! {
            <section class="panel" aria-labelledby="invite-title">
                <h2 id="invite-title">"Invite someone"</h2>
                <form method="post" action=routes::fill(routes::form::INVITE, &[&id]) class="stack">
                    <div class="field">
                        <label for="invite-role">"They join as"</label>
                        <select id="invite-role" name="role">
                            <option value="viewer">"viewer — reads stories"</option>
                            <option value="contributor">"contributor — writes their own stories"</option>
                            <option value="editor">"editor — edits every story"</option>
                        </select>
                    </div>
                    {if request::email_enabled() {
                        view! {
                            <Field label="Their email (optional)" name="email" kind="email" required=false
                                hint="We email them the link. Leave it empty to send the link yourself."
                                error=email_error.clone()/>
                        }.into_any()
                    } else {
                        view! { <p class="hint">"This server cannot send email: copy the link it makes and send it yourself."</p> }.into_any()
                    }}
                    <button type="submit" class="primary">"Create invitation link"</button>
                </form>
            </section>
        })}
    }
}
