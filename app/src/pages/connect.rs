//! Connected apps: each connector with connect or disconnect, sync now, and how its last
//! sync went. The OAuth flow comes back here with `?connected=<name>` or `?error=…`;
//! the flash the callback left says what happened.

use leptos::prelude::*;
use types::{routes, ConnectorView, Flash, SyncStatus};

use crate::api::load_connectors;
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, query, Heading, Loaded};
use crate::request;

#[component]
pub fn ConnectPage() -> impl IntoView {
    let mut flash = request::flash();
    // Reloading the page after the callback: the flash is gone, the query still says why.
    if flash.message.is_empty() {
        if let Some(kind) = query("error") {
            flash = Flash::error(format!("Connecting did not finish ({kind}). Please try again."));
        }
    }
    let connectors = Resource::new_blocking(|| (), |_| load_connectors());
    view! {
        <Heading text="Connected apps"/>
        <p class="lede">
            "Tasks from the apps you connect appear on the "<a href=routes::TIPS.path>"tip page"</a>
            " one at a time; marking one done there completes it in the app too."
        </p>
        <FlashMessage flash/>
        <Loaded data=connectors render=|connectors| view! {
            <ul class="card-list connectors">
                {connectors.into_iter().map(|c| view! { <ConnectorCard connector=c/> }).collect_view()}
            </ul>
        }.into_any()/>
    }
}

fn sync_summary(c: &ConnectorView) -> String {
    let when = c.last_sync_at.map(format_time);
    match (c.last_sync_status, when) {
        (SyncStatus::Ok, Some(when)) => {
            let tasks = if c.items == 1 { "1 open task".to_string() } else { format!("{} open tasks", c.items) };
            format!("Last synced {when}: {tasks}.")
        }
        (SyncStatus::Failed, Some(when)) => format!("Last sync failed at {when}."),
        _ => "Not synced yet.".to_string(),
    }
}

#[component]
fn ConnectorCard(connector: ConnectorView) -> impl IntoView {
    let c = connector;
    let name = c.name.clone();
    let heading_id = format!("connector-{name}");
    let status = if !c.enabled {
        "Not available: an administrator has not set it up on this Heirloom.".to_string()
    } else if c.connected {
        let since = c.connected_at.map(|at| format!(" since {}", format_time(at))).unwrap_or_default();
        format!("Connected{since}. {}", sync_summary(&c))
    } else {
        "Not connected.".to_string()
    };
    view! {
        <li class="card connector" aria-labelledby=heading_id.clone() data-connector=name.clone()>
            <h2 id=heading_id.clone()>{c.display_name.clone()}</h2>
            <p class="connector-status" data-connected=c.connected.to_string()>{status}</p>
            {c.last_error.clone().map(|why| view! { <p class="connector-error" role="alert">{why}</p> })}
            {match (c.enabled, c.connected) {
                (false, _) => ().into_any(),
                (true, false) => view! {
                    <a class="button primary" href=c.connect_url.clone()>{format!("Connect {}", c.display_name)}</a>
                }.into_any(),
                (true, true) => view! {
                    <div class="actions">
                        <form method="post" action=routes::fill(routes::form::SYNC_CONNECTOR, &[&name]) class="inline-form">
                            <button type="submit">"Sync now"</button>
                        </form>
                        <form method="post" action=routes::fill(routes::form::DISCONNECT, &[&name]) class="inline-form">
                            <button type="submit">{format!("Disconnect {}", c.display_name)}</button>
                        </form>
                    </div>
                }.into_any(),
            }}
        </li>
    }
}
