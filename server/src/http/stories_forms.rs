//! The HTML forms of the legacy and story pages: each posts here, the handler calls one
//! stories service method, and the browser is redirected to the page that shows the
//! result (or back to the form with a flash message saying what to fix).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;
use types::stories::split_tags;
use types::{FlagId, LegacyId, StoryId, UserId};
use types::{Flash, LegacyInput, StoryInput, StoryUpdate};

use super::extract::Path;
use super::form::{failed, Mode};
use super::session::{set_flash, urlencode, RequireUser};
use super::AppState;

pub async fn create_legacy(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Form(input): Form<LegacyInput>,
) -> Response {
    match state.backend.stories.create_legacy(&auth.user, &input, None).await {
        Ok(legacy) => Redirect::to(&format!("/legacies/{}", legacy.id)).into_response(),
        Err(err) => {
            let values = vec![
                ("name".into(), input.name),
                ("born".into(), input.born),
                ("died".into(), input.died),
                ("summary".into(), input.summary),
            ];
            failed(Mode::Form, &session, err, "/legacies", values).await
        }
    }
}

#[derive(Deserialize)]
pub struct StoryForm {
    #[serde(default)]
    version: i64,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

impl StoryForm {
    fn values(&self) -> Vec<(String, String)> {
        vec![
            ("title".into(), self.title.clone()),
            ("body".into(), self.body.clone()),
            ("tags".into(), self.tags.clone()),
            ("visibility".into(), self.visibility.clone().unwrap_or_default()),
        ]
    }
}

pub async fn create_story(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(legacy_id): Path<LegacyId>,
    Form(form): Form<StoryForm>,
) -> Response {
    let input = StoryInput {
        legacy_id: legacy_id.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
        tags: split_tags(&form.tags),
        visibility: form.visibility.clone(),
        status: form.status.clone(),
    };
    match state.backend.stories.create_story(&auth.user, &input, None).await {
        Ok(story) => Redirect::to(&format!("/stories/{}", story.id)).into_response(),
        Err(err) => failed(Mode::Form, &session, err, &format!("/legacies/{legacy_id}/new"), form.values()).await,
    }
}

pub async fn update_story(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
    Form(form): Form<StoryForm>,
) -> Response {
    let update = StoryUpdate {
        version: form.version,
        title: form.title.clone(),
        body: form.body.clone(),
        tags: split_tags(&form.tags),
        visibility: form.visibility.clone(),
        status: form.status.clone(),
        autosave: false,
    };
    match state.backend.stories.update_story(&auth.user, &id, &update).await {
        Ok(story) => Redirect::to(&format!("/stories/{}", story.id)).into_response(),
        Err(err) => failed(Mode::Form, &session, err, &format!("/stories/{id}/edit"), form.values()).await,
    }
}

pub async fn delete_story(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
) -> Response {
    let legacy_id = state.backend.stories.story(Some(&auth.user), &id).await.map(|s| s.legacy_id);
    match state.backend.stories.delete_story(&auth.user, &id).await {
        Ok(()) => {
            set_flash(&session, Flash::notice("The story was deleted.")).await;
            Redirect::to(&legacy_id.map_or("/legacies".into(), |l| format!("/legacies/{l}"))).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &format!("/stories/{id}"), Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct RestoreForm {
    revision: i64,
    version: i64,
}

pub async fn restore(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
    Form(form): Form<RestoreForm>,
) -> Response {
    match state.backend.stories.restore(&auth.user, &id, form.revision, form.version).await {
        Ok(story) => {
            set_flash(
                &session,
                Flash::notice(format!("Version {} was restored as version {}.", form.revision, story.version)),
            )
            .await;
            Redirect::to(&format!("/stories/{id}")).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &format!("/stories/{id}/history"), Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct FlagForm {
    #[serde(default)]
    reason: String,
}

pub async fn flag(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<StoryId>,
    Form(form): Form<FlagForm>,
) -> Response {
    match state.backend.stories.flag(&auth.user, &id, &form.reason).await {
        Ok(_) => {
            set_flash(&session, Flash::notice("Thank you. The legacy's owners will review it.")).await;
            Redirect::to(&format!("/stories/{id}")).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &format!("/stories/{id}"), Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(legacy_id): Path<LegacyId>,
    Form(form): Form<InviteForm>,
) -> Response {
    let back = format!("/legacies/{legacy_id}/members");
    match state.backend.stories.invite(&auth.user, &legacy_id, &form.role, 7).await {
        Ok(token) => {
            let base = state.backend.config.public_url.as_str().trim_end_matches('/').to_string();
            let url = format!("{base}/invitations/{token}");
            let mut flash =
                Flash::notice(format!("Invitation created for a {}. It works once, for 7 days.", form.role));
            flash.values.push(("invitation_url".into(), url));
            set_flash(&session, flash).await;
            Redirect::to(&back).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &back, Vec::new()).await,
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(token): Path<String>,
) -> Response {
    match state.backend.stories.accept_invitation(&auth.user, &token).await {
        Ok(legacy_id) => {
            set_flash(&session, Flash::notice("Welcome! You are now a member of this legacy.")).await;
            Redirect::to(&format!("/legacies/{legacy_id}")).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &format!("/invitations/{}", urlencode(&token)), Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    role: String,
}

pub async fn set_member(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path((legacy_id, user_id)): Path<(LegacyId, UserId)>,
    Form(form): Form<MemberForm>,
) -> Response {
    let role = (form.role != "remove").then_some(form.role.as_str());
    let back = format!("/legacies/{legacy_id}/members");
    match state.backend.stories.set_member(&auth.user, &legacy_id, &user_id, role).await {
        Ok(()) => {
            set_flash(&session, Flash::notice("Membership updated.")).await;
            Redirect::to(&back).into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, &back, Vec::new()).await,
    }
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    action: String,
}

pub async fn resolve_flag(
    State(state): State<AppState>,
    session: Session,
    RequireUser(auth): RequireUser,
    Path(id): Path<FlagId>,
    Form(form): Form<ResolveForm>,
) -> Response {
    match state.backend.stories.resolve_flag(&auth.user, &id, &form.action).await {
        Ok(()) => {
            set_flash(&session, Flash::notice("Resolved.")).await;
            Redirect::to("/moderation").into_response()
        }
        Err(err) => failed(Mode::Form, &session, err, "/moderation", Vec::new()).await,
    }
}
