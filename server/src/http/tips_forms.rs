//! The connect page's forms (sync now, disconnect): each calls one tips service method
//! and goes back to `/connect` with a flash saying what happened.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use types::{Flash, SyncStatus};

use super::extract::Path;
use super::form::{failed, Mode};
use super::session::{set_flash, RequireUser};
use super::AppState;

const CONNECT_PAGE: &str = "/connect";

pub async fn sync(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(name): Path<String>,
) -> Response {
    match state.backend.tips.sync(&auth.user, &name).await {
        Ok(view) => {
            let flash = match view.last_sync_status {
                SyncStatus::Failed => Flash {
                    level: "error".into(),
                    message: format!(
                        "{} could not be synced: {}",
                        view.display_name,
                        view.last_error.as_deref().unwrap_or("it did not answer")
                    ),
                    ..Flash::default()
                },
                _ => Flash::notice(format!("{} synced: {} open tasks.", view.display_name, view.items)),
            };
            set_flash(&session, flash).await;
            Redirect::to(CONNECT_PAGE).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, CONNECT_PAGE, Vec::new()).await,
    }
}

pub async fn disconnect(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(name): Path<String>,
) -> Response {
    let disconnected = match state.backend.tips.connector_view(&auth.user, &name).await {
        Ok(view) => state.backend.tips.disconnect(&auth.user, &name).await.map(|()| view.display_name),
        Err(err) => Err(err),
    };
    match disconnected {
        Ok(display_name) => {
            let message = format!(
                "{display_name} is disconnected; its token is forgotten and its tasks are gone from your tips."
            );
            set_flash(&session, Flash::notice(message)).await;
            Redirect::to(CONNECT_PAGE).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, CONNECT_PAGE, Vec::new()).await,
    }
}
