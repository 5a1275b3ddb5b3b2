//! The bell in the header: the reader's unread notifications, counted up live as the
//! tab's stream tells of new ones, and a link to the list.

use leptos::prelude::*;
use types::routes;

#[island]
pub fn NotificationBell(
    /// Unread when the page was made.
    unread: i64,
) -> impl IntoView {
    let count = RwSignal::new(unread);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        crate::components::live::subscribe(
            move |change| {
                if change.field("event_type") == "NotificationAdded" {
                    count.update(|c| *c += 1);
                }
            },
            || {},
        );
    });
    let label = move || match count.get() {
        0 => "Notifications, none unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <a href=routes::NOTIFICATIONS.path class="bell" aria-label=label>
            <span aria-hidden="true">"🔔"</span>
            <span class="badge" aria-hidden="true" hidden=move || count.get() == 0>{move || count.get()}</span>
        </a>
    }
}
