//! The tip page's one suggestion, full black. Without JavaScript it is two plain forms
//! (done, skip) posting feedback; as an island it also takes a tap or Enter as done, a
//! swipe left or S as skip, tells the server when a tip was actually shown, and brings
//! the next tip without reloading, announcing what happened.

use leptos::ev::{KeyboardEvent, MouseEvent, PointerEvent};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::task::spawn_local;
use types::{Tip, TipAction, TipDevice, TipKind};

use crate::api::{recommend_tip, tip_feedback, TipFeedback};

/// A swipe is a horizontal drag at least this long (CSS pixels), mostly sideways.
const SWIPE_MIN_PX: f64 = 60.0;

/// What kind of suggestion this is, in a few words above it.
pub fn kind_label(tip: &Tip) -> String {
    match tip.kind {
        TipKind::Todo => format!("Task from {}", source_name(&tip.source)),
        TipKind::Prompt => "Story prompt".into(),
        TipKind::Draft => "Draft to finish".into(),
        TipKind::Media => "Caption to add".into(),
        TipKind::Advice => "Suggestion".into(),
    }
}

/// The words of the quiet link to where acting on the tip happens.
pub fn link_label(tip: &Tip) -> String {
    match tip.kind {
        TipKind::Todo => format!("Open in {}", source_name(&tip.source)),
        TipKind::Prompt => "Write this story".into(),
        TipKind::Draft => "Open the draft".into(),
        TipKind::Media => "Add the caption".into(),
        TipKind::Advice => "Go there".into(),
    }
}

/// A connector's name as people know it (`todoist` → `Todoist`).
fn source_name(source: &str) -> String {
    let mut chars = source.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Links outside this site open in a new tab, so the tip page stays where it was.
fn is_external(link: &str) -> bool {
    link.starts_with("https://") || link.starts_with("http://")
}

/// The moment as the browser knows it: local hour and weekday, and the kind of device
/// judged by the viewport's width.
fn browser_context() -> (Option<u8>, Option<u8>, Option<TipDevice>) {
    let now = js_sys::Date::new_0();
    let hour = u8::try_from(now.get_hours()).ok();
    // JavaScript counts from Sunday (0); tips count from Monday (0).
    let weekday = u8::try_from((now.get_day() + 6) % 7).ok();
    let width = web_sys::window().and_then(|w| w.inner_width().ok()).and_then(|w| w.as_f64());
    let device = width.map(|w| match w {
        w if w < 600.0 => TipDevice::Phone,
        w if w < 1024.0 => TipDevice::Tablet,
        _ => TipDevice::Desktop,
    });
    (hour, weekday, device)
}

/// Whether a key press belongs to a control that handles it itself (a link, a button, a
/// field), so the page's shortcuts leave it alone.
fn from_control(ev: &KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "A" | "BUTTON" | "INPUT" | "TEXTAREA" | "SELECT"))
}

#[island]
pub fn TipDeck(initial: Tip) -> impl IntoView {
    let tip = RwSignal::new(initial);
    let announcement = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let swipe_from = StoredValue::new(None::<(f64, f64)>);
    // A swipe that ends on the tip also produces a click; that click is not "done".
    let just_swiped = StoredValue::new(false);

    // In the browser only: each tip that appears is reported as shown.
    Effect::new(move |_| {
        let id = tip.with(|t| t.id.to_string());
        ready.set(true);
        spawn_local(async move {
            let _ = tip_feedback(id, TipAction::Shown).await;
        });
    });

    let answer = move |action: TipAction| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let current = tip.get_untracked();
        spawn_local(async move {
            let said = match tip_feedback(current.id.to_string(), action).await {
                Ok(result) => match (action, result.completion) {
                    (TipAction::Done, Some(_)) => {
                        format!("Done. It will be marked complete in {} too.", source_name(&current.source))
                    }
                    (TipAction::Done, None) => "Done.".to_string(),
                    (TipAction::Dismissed, _) => "It will not be suggested again.".to_string(),
                    _ => "Skipped.".to_string(),
                },
                Err(error) => {
                    announcement.set(error.message().to_string());
                    busy.set(false);
                    return;
                }
            };
            let (hour, weekday, device) = browser_context();
            match recommend_tip(None, hour, weekday, device).await {
                Ok(next) => {
                    announcement.set(format!("{said} Next: {}", next.title));
                    tip.set(next);
                }
                Err(error) => announcement.set(format!("{said} {}", error.message())),
            }
            busy.set(false);
        });
    };

    let on_done = move |ev: MouseEvent| {
        ev.prevent_default();
        if just_swiped.get_value() {
            just_swiped.set_value(false);
            return;
        }
        answer(TipAction::Done);
    };
    let on_skip = move |ev: MouseEvent| {
        ev.prevent_default();
        answer(TipAction::Skipped);
    };
    let on_dismiss = move |ev: MouseEvent| {
        ev.prevent_default();
        answer(TipAction::Dismissed);
    };

    let on_pointer_down = move |ev: PointerEvent| {
        just_swiped.set_value(false);
        swipe_from.set_value(Some((f64::from(ev.client_x()), f64::from(ev.client_y()))));
    };
    let on_pointer_up = move |ev: PointerEvent| {
        let Some((x, y)) = swipe_from.get_value() else { return };
        swipe_from.set_value(None);
        let (dx, dy) = (f64::from(ev.client_x()) - x, f64::from(ev.client_y()) - y);
        if dx <= -SWIPE_MIN_PX && dx.abs() > dy.abs() * 1.5 {
            just_swiped.set_value(true);
            answer(TipAction::Skipped);
        }
    };

    let keys = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() || from_control(&ev) {
            return;
        }
        match ev.key().as_str() {
            "Enter" => {
                ev.prevent_default();
                answer(TipAction::Done);
            }
            "s" | "S" => {
                ev.prevent_default();
                answer(TipAction::Skipped);
            }
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());

    let id = move || tip.with(|t| t.id.to_string());
    view! {
        <div class="tip-stage" data-ready=move || ready.get().then_some("true") aria-busy=move || busy.get().then_some("true")
            on:pointerdown=on_pointer_down on:pointerup=on_pointer_up>
            <p class="tip-kind">{move || tip.with(kind_label)}</p>
            <form method="post" action=TipFeedback::PATH class="tip-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" name="action" value="done" class="tip-main" on:click=on_done
                    aria-describedby="tip-help">
                    <span class="tip-title" data-tip-kind=move || tip.with(|t| t.kind.as_str())>
                        {move || tip.with(|t| t.title.clone())}
                    </span>
                    <span class="tip-body">{move || tip.with(|t| t.body.clone())}</span>
                </button>
            </form>
            {move || tip.with(|t| {
                let external = is_external(&t.deep_link);
                view! {
                    <a class="tip-link" href=t.deep_link.clone()
                        target=external.then_some("_blank") rel=external.then_some("noopener noreferrer")>
                        {link_label(t)}
                    </a>
                }
            })}
            <form method="post" action=TipFeedback::PATH class="tip-actions">
                <input type="hidden" name="id" value=id/>
                <button type="submit" name="action" value="skipped" class="tip-skip" on:click=on_skip>"Skip"</button>
                <button type="submit" name="action" value="dismissed" class="tip-dismiss" on:click=on_dismiss>
                    "Don’t suggest this again"
                </button>
            </form>
            <p id="tip-help" class="tip-help">
                "Tap the tip or press Enter when it is done · swipe left or press S to skip"
            </p>
            <p class="tip-announcement" role="status" aria-live="polite">{move || announcement.get()}</p>
            <nav class="tip-exits" aria-label="Leave tips">
                <a href="/">"Close"</a>
                <a href="/connect">"Connected apps"</a>
            </nav>
        </div>
    }
}
