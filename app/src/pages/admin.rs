//! The administrator's view of the event backbone: the outbound-call log (deliveries)
//! with filters and pages, one call's attempts, webhook endpoints, and events a
//! consumer gave up on (retry or discard). Every page works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, CallDetail, CallPage, CallStatus, DeadLetterView, EventChain, WebhookView};

use crate::api::{load_dead_letters, load_deliveries, load_delivery, load_webhooks};
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, param, query, CardList, Heading, Loaded};
use crate::request;

#[component]
fn AdminNav() -> impl IntoView {
    view! {
        <nav aria-label="Administration" class="sub-nav">
            <a href=routes::DELIVERIES.path>"Deliveries"</a>
            " · "
            <a href=routes::WEBHOOKS.path>"Webhooks"</a>
            " · "
            <a href=routes::DEAD_LETTERS.path>"Failed events"</a>
        </nav>
    }
}

fn status_badge(status: CallStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-{status}")>{status.as_str()}</span> }
}

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let filters = ["status", "target", "from", "to"].map(|name| query(name).unwrap_or_default());
    let cursor = query("cursor");
    let [status, target, from, to] = filters.clone();
    let page = Resource::new_blocking(
        move || (status.clone(), target.clone(), from.clone(), to.clone(), cursor.clone()),
        |(status, target, from, to, cursor)| load_deliveries(Some(status), Some(target), Some(from), Some(to), cursor),
    );
    view! {
        <Heading text="Deliveries"/>
        <AdminNav/>
        <DeliveryFilters values=filters/>
        <Loaded data=page render=move |page| view! { <DeliveryTable page/> }.into_any()/>
    }
}

#[component]
fn DeliveryFilters(values: [String; 4]) -> impl IntoView {
    let [status, target, from, to] = values;
    view! {
        <form method="get" class="filters" aria-label="Filter deliveries">
            <label for="status">"Status"</label>
            <select id="status" name="status">
                <option value="" selected=status.is_empty()>"Any"</option>
                {CallStatus::ALL.iter().map(|s| {
                    view! { <option value=s.as_str() selected=status == s.as_str()>{s.as_str()}</option> }
                }).collect_view()}
            </select>
            <label for="target">"Target"</label>
            <input id="target" name="target" value=target placeholder="host:port"/>
            <label for="from">"From"</label>
            <input id="from" name="from" type="date" value=from/>
            <label for="to">"To"</label>
            <input id="to" name="to" type="date" value=to/>
            <button type="submit">"Filter"</button>
        </form>
    }
}

/// The link to the next page keeps the filters.
fn next_page_link(cursor: &str) -> String {
    let mut params: Vec<(String, String)> = ["status", "target", "from", "to"]
        .into_iter()
        .filter_map(|name| query(name).filter(|v| !v.is_empty()).map(|v| (name.to_string(), v)))
        .collect();
    params.push(("cursor".into(), cursor.to_string()));
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect();
    format!("{}?{}", routes::DELIVERIES.path, encoded.join("&"))
}

#[component]
fn DeliveryTable(page: CallPage) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <p>"No calls match."</p> }.into_any();
    }
    view! {
        <table class="data-table">
            <caption class="visually-hidden">"Outbound calls, newest first"</caption>
            <thead><tr>
                <th scope="col">"Created"</th><th scope="col">"Status"</th><th scope="col">"Call"</th>
                <th scope="col">"Source"</th><th scope="col">"Attempts"</th><th scope="col">"Last result"</th>
            </tr></thead>
            <tbody>
                {page.items.into_iter().map(|call| view! {
                    <tr>
                        <td><a href=routes::DELIVERY.to(&[&call.id])>{format_time(call.created_at)}</a></td>
                        <td>{status_badge(call.status)}</td>
                        <td><code>{format!("{} {}", call.method, call.url)}</code></td>
                        <td>{call.source.clone()}</td>
                        <td>{call.attempts}</td>
                        <td>{last_result(call.last_status_code, call.last_latency_ms, call.last_error.clone())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {page.next_cursor.map(|cursor| view! { <p><a href=next_page_link(&cursor) rel="next">"Older calls"</a></p> })}
    }
    .into_any()
}

fn last_result(status: Option<i64>, latency: Option<i64>, error: Option<String>) -> String {
    match (status, latency, error) {
        (Some(code), Some(ms), _) => format!("HTTP {code} in {ms} ms"),
        (None, Some(ms), Some(error)) => format!("{error} after {ms} ms"),
        _ => "not attempted yet".into(),
    }
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let id = param("id");
    let detail = Resource::new_blocking(move || id.clone(), load_delivery);
    view! {
        <Loaded data=detail render=|detail| view! { <Delivery detail/> }.into_any()/>
    }
}

#[component]
fn Delivery(detail: CallDetail) -> impl IntoView {
    let CallDetail { call, body, attempts, chain } = detail;
    view! {
        <Title text=format!("Call to {}", call.target)/>
        <p class="crumbs"><a href=routes::DELIVERIES.path>"Deliveries"</a></p>
        <h1>{format!("{} {}", call.method, call.url)}</h1>
        <dl class="facts">
            <dt>"Status"</dt><dd>{status_badge(call.status)}</dd>
            <dt>"Source"</dt><dd>{call.source.clone()}</dd>
            <dt>"Created"</dt><dd>{format_time(call.created_at)}</dd>
            <dt>"Due"</dt><dd>{format_time(call.due_at)}</dd>
            {call.completed_at.map(|t| view! { <dt>"Finished"</dt><dd>{format_time(t)}</dd> })}
            <dt>"Headers"</dt>
            <dd>{call.headers.iter().map(|(k, v)| view! { <code>{format!("{k}: {v}")}</code><br/> }).collect_view()}</dd>
        </dl>
        <h2>"Request body"</h2>
        <pre class="snippet">{if body.is_empty() { "(empty)".to_string() } else { body }}</pre>
        <h2>"Attempts"</h2>
        {if attempts.is_empty() {
            view! { <p>"Not attempted yet."</p> }.into_any()
        } else {
            view! {
                <ol class="attempts">
                    {attempts.into_iter().map(|a| view! {
                        <li>
                            <h3>{format!("Attempt {} at {}", a.attempt, format_time(a.started_at))}</h3>
                            <p>{last_result(a.status_code, Some(a.latency_ms), a.error.clone())}</p>
                            {(!a.response_snippet.is_empty()).then(|| view! {
                                <details><summary>"Response (first 8 KB)"</summary><pre class="snippet">{a.response_snippet.clone()}</pre></details>
                            })}
                        </li>
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
        <h2>"Chain"</h2>
        <Chain chain/>
    }
}

/// What set a call off: the events of its correlation, each under the event that caused it.
#[component]
fn Chain(chain: Option<EventChain>) -> impl IntoView {
    let Some(EventChain { correlation_id, request_id, events }) = chain else {
        return view! { <p>"This call was made before chains were recorded."</p> }.into_any();
    };
    let began = match request_id {
        Some(request) => view! { "Began with request " <code>{request}</code> }.into_any(),
        None => {
            view! { "Began with event " <code>{correlation_id}</code> " (a timer or a worker, no request)" }.into_any()
        }
    };
    view! {
        <p>{began}</p>
        <ol class="chain" aria-label="Events in causal order">
            {events.into_iter().map(|event| {
                let actor = event.actor.map_or_else(|| "the system".to_string(), |actor| format!("user {actor}"));
                let cause = match event.causation_id {
                    Some(cause) => view! { "caused by " <code>{cause}</code> }.into_any(),
                    None => view! { "written by the request" }.into_any(),
                };
                view! {
                    <li class=format!("chain-event depth-{}", event.depth.min(6))>
                        <strong>{event.event_type.to_string()}</strong>
                        {format!(" on {} ", event.aggregate_type)}<code>{event.aggregate_id}</code>
                        {format!(" by {actor} at {}", format_time(event.occurred_at))}
                        <br/><small>"event " <code>{event.message_id}</code> ", " {cause}</small>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let hooks = Resource::new_blocking(|| (), |_| load_webhooks());
    let flash = request::flash();
    let url = flash.value("url").unwrap_or_default().to_string();
    let types = flash.value("event_types").unwrap_or("*").to_string();
    view! {
        <Heading text="Webhooks"/>
        <AdminNav/>
        <FlashMessage flash=flash.clone()/>
        <CardList data=hooks empty="No webhooks yet." card=|hook: WebhookView| view! {
            <h2><code>{hook.url.clone()}</code></h2>
            <p>{format!("Sends {} · added {}", hook.event_types.join(", "), format_time(hook.created_at))}</p>
            {(!hook.description.is_empty()).then(|| view! { <p>{hook.description.clone()}</p> })}
            <PostButton action=routes::fill(routes::form::DELETE_WEBHOOK, &[&hook.id]) label="Remove"/>
        }/>
        <h2>"Add a webhook"</h2>
        <form method="post" action=routes::form::CREATE_WEBHOOK class="stacked-form">
            <label for="url">"URL"</label>
            <input id="url" name="url" type="url" required value=url placeholder="https://example.com/heirloom-hook"/>
            <label for="event_types">"Event types"</label>
            <input id="event_types" name="event_types" value=types aria-describedby="event-types-hint"/>
            <p id="event-types-hint" class="hint">"Comma-separated, such as StoryCreated, StoryUpdated; * sends every event."</p>
            <label for="description">"Description"</label>
            <input id="description" name="description"/>
            <button type="submit">"Add webhook"</button>
        </form>
    }
}

/// A button that posts to `action` (works without JavaScript).
#[component]
fn PostButton(action: String, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline-form">
            <button type="submit">{label}</button>
        </form>
    }
}

#[component]
pub fn DeadLettersPage() -> impl IntoView {
    let parked = Resource::new_blocking(|| (), |_| load_dead_letters());
    view! {
        <Heading text="Failed events"/>
        <AdminNav/>
        <FlashMessage flash=request::flash()/>
        <CardList data=parked empty="No event is waiting: every consumer handled everything." card=|dead: DeadLetterView| {
            let ids = [dead.consumer.as_str(), dead.message_id.as_str()];
            let (retry, discard) =
                (routes::fill(routes::form::RETRY_DEAD_LETTER, &ids), routes::fill(routes::form::DISCARD_DEAD_LETTER, &ids));
            view! {
                <h2>{format!("{} → {}", dead.event_type, dead.consumer)}</h2>
                <p>{format!("{} {} · gave up after {} attempts on {}", dead.aggregate_type,
                    dead.aggregate_id, dead.attempts, format_time(dead.failed_at))}</p>
                <pre class="snippet">{dead.last_error.clone()}</pre>
                <PostButton action=retry label="Retry now"/>
                " "
                <PostButton action=discard label="Discard"/>
            }
        }/>
    }
}
