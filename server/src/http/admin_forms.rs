//! The HTML forms of the admin pages (webhooks, failed events): each calls one backend
//! method and redirects back with a flash message saying what happened.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;
use types::{Flash, WebhookInput};

use super::extract::Path;
use super::form::{failed, Mode};
use super::session::{set_flash, RequireUser};
use super::AppState;

const WEBHOOKS: &str = "/admin/webhooks";
const DEAD_LETTERS: &str = "/admin/dead-letters";

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    event_types: String,
    #[serde(default)]
    description: String,
}

pub async fn create_webhook(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Form(form): Form<WebhookForm>,
) -> Response {
    let input = WebhookInput {
        url: form.url.clone(),
        event_types: form.event_types.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
        description: form.description.clone(),
    };
    let created = match state.backend.webhooks_for(&auth.user) {
        Ok(webhooks) => webhooks.create(&auth.user.id, &input).await,
        Err(err) => Err(err),
    };
    match created {
        Ok(created) => {
            let message = format!(
                "Webhook added. Its signing secret, shown only this once: {} — deliveries carry \
                 X-Heirloom-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">.",
                created.secret
            );
            set_flash(&session, Flash::notice(message)).await;
            Redirect::to(WEBHOOKS).into_response()
        }
        Err(err) => {
            let values = vec![("url".into(), form.url), ("event_types".into(), form.event_types)];
            failed(Mode::Form, &session, err, WEBHOOKS, values).await
        }
    }
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<String>,
) -> Response {
    let deleted = match state.backend.webhooks_for(&auth.user) {
        Ok(webhooks) => webhooks.delete(&id).await,
        Err(err) => Err(err),
    };
    match deleted {
        Ok(()) => {
            set_flash(&session, Flash::notice("Webhook removed.")).await;
            Redirect::to(WEBHOOKS).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, WEBHOOKS, Vec::new()).await,
    }
}

pub async fn retry_dead_letter(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path((consumer, message_id)): Path<(String, String)>,
) -> Response {
    match state.backend.retry_dead_letter(&auth.user, &consumer, &message_id).await {
        Ok(backend::events::Delivered::Parked) => {
            let flash = Flash {
                level: "error".into(),
                message: "It failed again; see the error below.".into(),
                ..Flash::default()
            };
            set_flash(&session, flash).await;
            Redirect::to(DEAD_LETTERS).into_response()
        }
        Ok(_) => {
            set_flash(&session, Flash::notice(format!("Handled by {consumer}."))).await;
            Redirect::to(DEAD_LETTERS).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, DEAD_LETTERS, Vec::new()).await,
    }
}

pub async fn discard_dead_letter(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path((consumer, message_id)): Path<(String, String)>,
) -> Response {
    match state.backend.discard_dead_letter(&auth.user, &consumer, &message_id).await {
        Ok(()) => {
            set_flash(&session, Flash::notice("Discarded; it will not be delivered again.")).await;
            Redirect::to(DEAD_LETTERS).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, DEAD_LETTERS, Vec::new()).await,
    }
}
