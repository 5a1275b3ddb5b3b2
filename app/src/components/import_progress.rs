//! A GEDCOM import's progress bar and, once it has ended, its report. As an island it
//! asks the server where the import stands twice a second until it ends; without
//! JavaScript the page offers a link to load it again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use types::{routes, ImportJob, ImportReport, ImportStatus};

use crate::api::load_import;
use crate::components::upload::sleep;

const POLL_MS: u32 = 500;
/// Polls in a row that may fail (half a minute) before the island stops asking.
const POLL_FAILURES_MAX: u32 = 60;
/// The most skipped records the page lists (the API has them all).
const SKIPPED_SHOWN: usize = 200;

#[island]
pub fn ImportProgress(job: ImportJob) -> impl IntoView {
    let job = RwSignal::new(job);
    let ready = RwSignal::new(false);
    let lost = RwSignal::new(false);
    Effect::new(move |_| {
        ready.set(true);
        spawn_local(async move {
            let mut failures = 0;
            while !job.get_untracked().status.is_over() {
                sleep(POLL_MS).await;
                let id = job.get_untracked().id.to_string();
                // A failed poll (a restart, a dropped connection) is tried again, for a while.
                match load_import(id).await {
                    Ok(latest) => {
                        failures = 0;
                        job.set(latest);
                    }
                    Err(_) if failures < POLL_FAILURES_MAX => failures += 1,
                    Err(_) => {
                        lost.set(true);
                        return;
                    }
                }
            }
        });
    });
    let status = move || {
        let j = job.get();
        match j.status {
            ImportStatus::Queued => "Waiting to start…".to_string(),
            ImportStatus::Running => format!("Importing: {} of {} records ({}%)", j.processed, j.total, j.percent()),
            ImportStatus::Done => "Import finished.".to_string(),
            ImportStatus::Failed => "The import failed; nothing was imported.".to_string(),
        }
    };
    view! {
        <div class="import-progress" data-ready=move || ready.get().then_some("true")>
            <progress
                max=move || job.get().total.max(1).to_string()
                value=move || job.get().processed.to_string()
                aria-label="Import progress"
                aria-valuetext=status
            ></progress>
            <p role="status" class="import-status">{status}</p>
            {move || lost.get().then(|| view! {
                <p class="field-error">"The server has not answered for a while. Reload the page to see how the import stands."</p>
            })}
            {move || {
                let j = job.get();
                match (j.status, j.report, j.error) {
                    (ImportStatus::Done, Some(report), _) => {
                        Some(view! { <ImportOutcome report legacy_people=routes::PEOPLE.to(&[&j.legacy_id])/> }.into_any())
                    }
                    (ImportStatus::Failed, _, Some(error)) => Some(view! { <p class="field-error">{error}</p> }.into_any()),
                    _ => None,
                }
            }}
        </div>
    }
}

/// What an import did: counts, then each skipped record with its line.
#[component]
fn ImportOutcome(report: ImportReport, legacy_people: String) -> impl IntoView {
    view! {
        <p class="import-summary">
            {format!(
                "Imported {} new people ({} updated, {} unchanged) and {} relationships.",
                report.created, report.updated, report.unchanged, report.relationships_added
            )}
            {(report.media_added > 0).then(|| format!(
                " Added {} {} from the archive.",
                report.media_added,
                if report.media_added == 1 { "photo or recording" } else { "photos and recordings" }
            ))}
        </p>
        {(!report.skipped.is_empty()).then(|| view! {
            <h2>{format!("Skipped ({})", report.skipped.len())}</h2>
            <ul class="import-skipped">
                {report.skipped.iter().take(SKIPPED_SHOWN).map(|s| view! { <li>{format!("Line {}: {}", s.line, s.reason)}</li> }).collect_view()}
            </ul>
            {(report.skipped.len() > SKIPPED_SHOWN).then(|| view! {
                <p>{format!("And {} more.", report.skipped.len() - SKIPPED_SHOWN)}</p>
            })}
        })}
        <p><a href=legacy_people>"Open the people"</a></p>
    }
}
