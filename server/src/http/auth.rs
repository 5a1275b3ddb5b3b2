//! Sign-up, sign-in (password and OpenID Connect), sign-out, password change and
//! session management, each one handler for the page's form and the REST API (see
//! `form`). Each handler authenticates, calls one identity service method (through
//! `session` where the browser's cookie session is involved) and maps the result; the
//! rules live in `backend::identity`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use backend::identity::service::safe_next;
use backend::identity::SignUp;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;
use types::routes;

use super::extract::OAuthCallback;
use super::form::{answer, failed, Done, Input, Mode};
use super::session::{self, urlencode, Caller, Client, RequireUser, Visitor};
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
    let back = match &input.invite {
        Some(invite) if !invite.is_empty() => format!("{}?invite={}", routes::SIGN_UP.path, urlencode(invite)),
        _ => routes::SIGN_UP.path.into(),
    };
    let values = vec![("email".into(), input.email.clone()), ("display_name".into(), input.display_name.clone())];
    let signup =
        SignUp { email: input.email, display_name: input.display_name, password: input.password, invite: input.invite };
    let user = match state.backend.identity.sign_up(signup).await {
        Ok(user) => user,
        Err(err) => return failed(mode, err, &back, values),
    };
    let signed_in = session::sign_in(&state.backend, &session, &user, "password", None, &client).await;
    let done = signed_in.map(|()| Done::new(routes::ACCOUNT.path, (StatusCode::CREATED, Json(user.view()))));
    answer(mode, done, routes::SIGN_IN.path, Vec::new())
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
    let next = safe_next(&input.next);
    let back = session::sign_in_then(&next);
    let user = match state.backend.identity.sign_in_password(&input.email, &input.password, &client).await {
        Ok(user) => user,
        Err(err) => return failed(mode, err, &back, vec![("email".into(), input.email)]),
    };
    let signed_in = session::sign_in(&state.backend, &session, &user, "password", None, &client).await;
    let done = signed_in.map(|()| Done::new(next, Json(user.view())));
    answer(mode, done, &back, Vec::new())
}

pub async fn sign_out(session: Session, visitor: Visitor, Input(mode, _): Input<serde_json::Value>) -> Response {
    let done = session::sign_out(&visitor.backend, &session, visitor.auth.as_ref()).await.map(|logout| match logout {
        Some(provider_logout) => Done::new(
            provider_logout.as_str(),
            Json(json!({ "signed_out": true, "logout_url": provider_logout.as_str() })),
        ),
        None => Done::new(routes::SIGN_IN.path, Json(json!({ "signed_out": true, "logout_url": null })))
            .notice("You are signed out."),
    });
    answer(mode, done, routes::HOME.path, Vec::new())
}

#[derive(Deserialize)]
pub struct PasswordInput {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(me: Caller, Input(mode, input): Input<PasswordInput>) -> Response {
    let changed =
        me.backend.identity.change_password(&me.authenticated(), &input.current_password, &input.new_password).await;
    let done = changed.map(|()| {
        Done::new(routes::ACCOUNT.path, Json(json!({ "changed": true })))
            .notice("Your password was changed and your other sessions were signed out.")
    });
    answer(mode, done, routes::ACCOUNT.path, Vec::new())
}

#[derive(Deserialize)]
pub struct ForgotPasswordInput {
    #[serde(default)]
    email: String,
}

/// "Forgot password": the same answer whether or not the address has an account.
pub async fn forgot_password(visitor: Visitor, Input(mode, input): Input<ForgotPasswordInput>) -> Response {
    let backend = &visitor.backend;
    let asked = backend.identity.request_password_reset(&backend.email, &input.email).await;
    let done = asked.map(|()| {
        Done::new(routes::FORGOT_PASSWORD.path, (StatusCode::ACCEPTED, Json(json!({ "requested": true })))).notice(
            "If an account has that address, an email with a link to choose a new password is on its way. \
             The link works for an hour.",
        )
    });
    answer(mode, done, routes::FORGOT_PASSWORD.path, vec![("email".into(), input.email)])
}

#[derive(Deserialize)]
pub struct ResetPasswordInput {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

/// Sets a new password from a reset email's link, then signs this browser in.
pub async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Client(client): Client,
    Input(mode, input): Input<ResetPasswordInput>,
) -> Response {
    let back = format!("{}?token={}", routes::RESET_PASSWORD.path, urlencode(&input.token));
    let user = match state.backend.identity.reset_password(&input.token, &input.new_password).await {
        Ok(user) => user,
        Err(err) => return failed(mode, err, &back, Vec::new()),
    };
    let signed_in = session::sign_in(&state.backend, &session, &user, "password", None, &client).await;
    let done = signed_in.map(|()| {
        Done::new(routes::ACCOUNT.path, Json(user.view()))
            .notice("Your password was changed. You are signed in here and signed out everywhere else.")
    });
    answer(mode, done, &back, Vec::new())
}

#[derive(Deserialize)]
pub struct VerifyEmailInput {
    #[serde(default)]
    token: String,
}

/// Verifies the address a verification email's link was sent to (the page asks first:
/// opening a link must not change anything, as mail scanners open links too).
pub async fn verify_email(visitor: Visitor, Input(mode, input): Input<VerifyEmailInput>) -> Response {
    let back = format!("{}?token={}", routes::VERIFY_EMAIL.path, urlencode(&input.token));
    let verified = visitor.backend.identity.verify_email(&input.token).await;
    let done = verified.map(|user| {
        let next = if visitor.user().is_some() { routes::ACCOUNT.path } else { routes::SIGN_IN.path };
        Done::new(next, Json(json!({ "verified": true, "email": user.email })))
            .notice("Your email address is verified. Heirloom may now send you news of your family there.")
    });
    answer(mode, done, &back, Vec::new())
}

/// Sends the signed-in user a new link to verify their address.
pub async fn send_verification(mode: Mode, me: Caller) -> Response {
    let sent = me.backend.identity.send_verification(&me.user).await;
    let done = sent.map(|()| {
        Done::new(routes::ACCOUNT.path, (StatusCode::ACCEPTED, Json(json!({ "sent": true }))))
            .notice(format!("A link to verify {} is on its way.", me.user.email))
    });
    answer(mode, done, routes::ACCOUNT.path, Vec::new())
}

#[derive(Deserialize)]
pub struct RevokeInput {
    #[serde(default)]
    id: types::SessionId,
}

pub async fn revoke_session(me: Caller, Input(mode, input): Input<RevokeInput>) -> Response {
    let next = if input.id == me.session_id { routes::SIGN_IN.path } else { routes::ACCOUNT.path };
    let done = me.backend.identity.revoke_session(&me.authenticated(), &input.id).await;
    let done = done.map(|()| Done::new(next, Json(json!({ "revoked": 1 }))));
    answer(mode, done, routes::ACCOUNT.path, Vec::new())
}

pub async fn revoke_other_sessions(me: Caller, Input(mode, _): Input<serde_json::Value>) -> Response {
    let done = me.backend.identity.revoke_other_sessions(&me.authenticated()).await.map(|count| {
        Done::new(routes::ACCOUNT.path, Json(json!({ "revoked": count })))
            .notice(format!("Signed out {count} other session(s)."))
    });
    answer(mode, done, routes::ACCOUNT.path, Vec::new())
}

pub async fn me(RequireUser(auth): RequireUser) -> Json<types::UserView> {
    Json(auth.user.view())
}

pub async fn my_sessions(me: Caller) -> Result<Json<Vec<types::SessionView>>, ApiFailure> {
    Ok(Json(me.backend.identity.sessions(&me.authenticated()).await?))
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
    me: Caller,
    super::extract::Json(input): super::extract::Json<InviteInput>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiFailure> {
    let invite = me.backend.identity.create_invite(Some(&me.user), input.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(json!({ "url": invite.url, "token": invite.token }))))
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
    match session::oidc_begin(&state.backend, &session, &provider, &query.next).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(err) => failed(Mode::Form, err, routes::SIGN_IN.path, Vec::new()),
    }
}

pub async fn oidc_callback(
    State(state): State<AppState>,
    session: Session,
    Client(client): Client,
    Path(provider): Path<String>,
    Query(query): Query<OAuthCallback>,
) -> Response {
    let back = routes::SIGN_IN.path;
    // Taken out first, whatever happens next: the attempt is used once, or the provider ended it.
    let pending = match session::take_oidc_attempt(&session).await {
        Ok(pending) => pending,
        Err(err) => return failed(Mode::Form, err, back, Vec::new()),
    };
    if let Some(error) = query.error {
        let detail = query.error_description.unwrap_or(error);
        let err = backend::Error::Forbidden(format!("Sign-in was not completed: {detail}").into());
        return failed(Mode::Form, err, back, Vec::new());
    }
    let finished = state.backend.identity.oidc_finish(pending, &provider, &query.code, &query.state).await;
    let (user, id_token, next) = match finished {
        Ok(done) => done,
        Err(err) => return failed(Mode::Form, err, back, Vec::new()),
    };
    let method = format!("oidc:{provider}");
    if let Err(err) = session::sign_in(&state.backend, &session, &user, &method, Some(id_token), &client).await {
        return failed(Mode::Form, err, back, Vec::new());
    }
    // Checked again on the way out: an attempt begun before `safe_next` refused control
    // characters may still hold one in its session, and `Redirect::to` would panic on it.
    Redirect::to(&safe_next(&next)).into_response()
}
