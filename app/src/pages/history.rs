//! A story's revisions: who saved what and when, the differences between two, and
//! restoring an old one as the newest revision.

use leptos::prelude::*;
use leptos_meta::Title;
use types::{routes, HistoryPage};

use crate::api::load_history;
use crate::components::form::FlashMessage;
use crate::components::page::{format_time, loaded_page, param, query};
use crate::request;

#[component]
pub fn HistoryPageView() -> impl IntoView {
    let version = |name| query(name).and_then(|v| v.parse::<i64>().ok());
    let key = (param("id"), version("from"), version("to"));
    loaded_page(key, |(id, from, to)| load_history(id, from, to), |page| view! { <History page/> }.into_any())
}

#[component]
fn History(page: HistoryPage) -> impl IntoView {
    let HistoryPage { story, revisions, diff } = page;
    let id = story.id.clone();
    let latest = story.version;
    let can_edit = story.can_edit;
    // Revision numbers are the story's version when their text was saved; saves that
    // changed no text, and autosaves folded into a working revision, leave gaps.
    let versions: Vec<i64> = revisions.iter().map(|r| r.version).collect();
    let newest = versions.first().copied().unwrap_or(1);
    let previous = versions.get(1).copied().unwrap_or(newest);
    let options = move |selected: i64| {
        versions
            .iter()
            .map(|&v| view! { <option value=v.to_string() selected=v == selected>{format!("Version {v}")}</option> })
            .collect_view()
    };
    view! {
        <Title text=format!("History of {}", story.title)/>
        <p class="crumbs"><a dir="auto" href=routes::STORY.to(&[&id])>{story.title.clone()}</a></p>
        <h1>"History"</h1>
        <FlashMessage flash=request::flash()/>
        <form method="get" class="compare">
            <label for="from">"Compare"</label>
            <select id="from" name="from">{options(diff.as_ref().map_or(previous, |d| d.0))}</select>
            <label for="to">"with"</label>
            <select id="to" name="to">{options(diff.as_ref().map_or(newest, |d| d.1))}</select>
            <button type="submit">"Show differences"</button>
        </form>
        {diff.map(|(from, to, lines)| view! {
            <section class="diff" aria-label=format!("Differences between version {from} and version {to}")>
                {lines.into_iter().map(|line| {
                    let (class, sign) = match line.kind.as_str() {
                        "added" => ("diff-added", "+ "),
                        "removed" => ("diff-removed", "− "),
                        _ => ("diff-same", "  "),
                    };
                    view! { <pre class=class>{format!("{sign}{}", line.text)}</pre> }
                }).collect_view()}
            </section>
        })}
        <ol class="revisions" reversed>
            {revisions.into_iter().map(|r| {
                let restore = (can_edit && r.version != newest).then(|| view! {
                    <form method="post" action=routes::fill(routes::form::RESTORE, &[&id]) class="inline-form">
                        <input type="hidden" name="revision" value=r.version.to_string()/>
                        <input type="hidden" name="version" value=latest.to_string()/>
                        <button type="submit" aria-label=format!("Restore version {}", r.version)>"Restore"</button>
                    </form>
                });
                view! {
                    <li class="revision">
                        <div>
                            <strong>{format!("Version {}", r.version)}</strong>
                            {format!(" · {} · {}", r.author_name, format_time(r.created_at))}
                            {r.restored_from.map(|v| format!(" · restored from version {v}"))}
                            {r.autosave.then_some(if r.version == newest { " · autosaved, still being written" } else { " · autosaved" })}
                            <br/><small dir="auto">{r.title.clone()}</small>
                        </div>
                        {restore}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
