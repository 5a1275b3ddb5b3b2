//! Sign-up, sign-in (password and OpenID Connect), sign-out, password change and
//! session management. Each handler authenticates, calls one identity service method
//! and maps the result; the rules live in `backend::identity`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use backend::identity::service::safe_next;
use backend::identity::SignUp;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;
use types::Flash;

use super::form::{done, failed, Input, Mode};
use super::session::{set_flash, urlencode, Client, MaybeUser, RequireUser};
use super::{ApiFailure, AppState};

#[derive(Deserialize)]
pub struct SignUpInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    invite: Option<String>,
}

pub async fn sign_up(
    State(state): State<AppState>,
    session: Session,
    Client(client): Client,
    Input(mode, input): Input<SignUpInput>,
) -> Response {
    let identity = &state.backend.identity;
    let back = match &input.invite {
        Some(invite) if !invite.is_empty() => format!("/signup?invite={}", urlencode(invite)),
        _ => "/signup".into(),
    };
    let values = vec![("email".into(), input.email.clone()), ("display_name".into(), input.display_name.clone())];
    let signup =
        SignUp { email: input.email, display_name: input.display_name, password: input.password, invite: input.invite };
    let user = match identity.sign_up(signup).await {
        Ok(user) => user,
        Err(err) => return failed(mode, &session, err, &back, values).await,
    };
    if let Err(err) = identity.start_session(&session, &user, "password", None, &client).await {
        return failed(mode, &session, err, "/signin", Vec::new()).await;
    }
    done(mode, "/account", StatusCode::CREATED, user.view())
}

#[derive(Deserialize)]
pub struct SignInInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    Client(client): Client,
    Input(mode, input): Input<SignInInput>,
) -> Response {
    let identity = &state.backend.identity;
    let next = safe_next(&input.next);
    let back = format!("/signin?next={}", urlencode(&next));
    let user = match identity.sign_in_password(&input.email, &input.password, &client).await {
        Ok(user) => user,
        Err(err) => return failed(mode, &session, err, &back, vec![("email".into(), input.email)]).await,
    };
    if let Err(err) = identity.start_session(&session, &user, "password", None, &client).await {
        return failed(mode, &session, err, &back, Vec::new()).await;
    }
    done(mode, &next, StatusCode::OK, user.view())
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(auth): MaybeUser,
    Input(mode, _): Input<serde_json::Value>,
) -> Response {
    match state.backend.identity.sign_out(&session, auth.as_ref()).await {
        Ok(Some(provider_logout)) => match mode {
            Mode::Form => Redirect::to(provider_logout.as_str()).into_response(),
            Mode::Json => Json(json!({ "signed_out": true, "logout_url": provider_logout.as_str() })).into_response(),
        },
        Ok(None) => {
            if mode == Mode::Form {
                set_flash(&session, Flash::notice("You are signed out.")).await;
            }
            done(mode, "/signin", StatusCode::OK, json!({ "signed_out": true, "logout_url": null }))
        }
        Err(err) => failed(mode, &session, err, "/", Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Input(mode, input): Input<PasswordInput>,
) -> Response {
    match state.backend.identity.change_password(&auth, &input.current_password, &input.new_password).await {
        Ok(()) => {
            if mode == Mode::Form {
                set_flash(
                    &session,
                    Flash::notice("Your password was changed and your other sessions were signed out."),
                )
                .await;
            }
            done(mode, "/account", StatusCode::OK, json!({ "changed": true }))
        }
        Err(err) => failed(mode, &session, err, "/account", Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct RevokeInput {
    #[serde(default)]
    id: types::SessionId,
}

pub async fn revoke_session(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Input(mode, input): Input<RevokeInput>,
) -> Response {
    match state.backend.identity.revoke_session(&auth, &input.id).await {
        Ok(()) => {
            let next = if input.id == auth.session_id { "/signin" } else { "/account" };
            done(mode, next, StatusCode::OK, json!({ "revoked": 1 }))
        }
        Err(err) => failed(mode, &session, err, "/account", Vec::new()).await,
    }
}

pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Input(mode, _): Input<serde_json::Value>,
) -> Response {
    match state.backend.identity.revoke_other_sessions(&auth).await {
        Ok(count) => {
            if mode == Mode::Form {
                set_flash(&session, Flash::notice(format!("Signed out {count} other session(s)."))).await;
            }
            done(mode, "/account", StatusCode::OK, json!({ "revoked": count }))
        }
        Err(err) => failed(mode, &session, err, "/account", Vec::new()).await,
    }
}

pub async fn me(RequireUser(auth): RequireUser) -> Json<types::UserView> {
    Json(auth.user.view())
}

pub async fn my_sessions(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
) -> Result<Json<Vec<types::SessionView>>, ApiFailure> {
    Ok(Json(state.backend.identity.sessions(&auth).await?))
}

#[derive(Deserialize)]
pub struct InviteInput {
    #[serde(default = "default_invite_days")]
    expires_in_days: u32,
}

fn default_invite_days() -> u32 {
    7
}

pub async fn create_invite(
    State(state): State<AppState>,
    RequireUser(auth): RequireUser,
    super::extract::Json(input): super::extract::Json<InviteInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiFailure> {
    let token = state.backend.identity.create_invite(Some(&auth.user), input.expires_in_days).await?;
    let base = state.backend.config.public_url.as_str().trim_end_matches('/').to_string();
    Ok((StatusCode::CREATED, Json(json!({ "url": format!("{base}/signup?invite={token}"), "token": token }))))
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

pub async fn oidc_start(
    State(state): State<AppState>,
    session: Session,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    match state.backend.identity.oidc_begin(&session, &provider, &query.next).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(err) => failed(Mode::Form, &session, err, "/signin", Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn oidc_callback(
    State(state): State<AppState>,
    session: Session,
    Client(client): Client,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let identity = &state.backend.identity;
    if let Some(error) = query.error {
        // Forget the attempt: the provider ended it.
        let _ = session.remove::<serde_json::Value>("heirloom.oidc").await;
        let detail = query.error_description.unwrap_or(error);
        let err = backend::Error::Forbidden(format!("Sign-in was not completed: {detail}").into());
        return failed(Mode::Form, &session, err, "/signin", Vec::new()).await;
    }
    let (user, id_token, next) = match identity.oidc_finish(&session, &provider, &query.code, &query.state).await {
        Ok(done) => done,
        Err(err) => return failed(Mode::Form, &session, err, "/signin", Vec::new()).await,
    };
    let method = format!("oidc:{provider}");
    if let Err(err) = identity.start_session(&session, &user, &method, Some(id_token), &client).await {
        return failed(Mode::Form, &session, err, "/signin", Vec::new()).await;
    }
    // Checked again on the way out: an attempt begun before `safe_next` refused control
    // characters may still hold one in its session, and `Redirect::to` would panic on it.
    Redirect::to(&safe_next(&next)).into_response()
}
