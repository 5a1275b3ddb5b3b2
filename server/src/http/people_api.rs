//! People over HTTP: the REST API (`/api/v1/legacies/{id}/people`, `/api/v1/people/…`,
//! `/api/v1/relationships/…`) and the people pages' forms, one handler per operation
//! answering in the caller's mode (see `form`).

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::Multipart;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonBody;
use backend::people::gedcom::Version;
use serde::Deserialize;
use types::routes::{self, api};
use types::{
    ApiError, FamilyView, ImportReport, Kinship, KinshipStep, LegacyId, LifeEvent, PeoplePage, PersonId, PersonInput,
    PersonSummary, PersonView, RelationshipId, RelationshipInput, RelationshipView, Relative,
};
use utoipa::{IntoParams, OpenApi};

use super::extract::{Path, Query};
use super::form::{answer, Done, Input, Mode};
use super::session::{Caller, Visitor};
use super::ApiFailure;

type ApiResult<T> = Result<T, ApiFailure>;

/// What a person form had typed, to refill it after a problem.
fn person_values(input: &PersonInput) -> Vec<(String, String)> {
    [
        ("given_names", input.given_names.as_str()),
        ("surname", &input.surname),
        ("birth_surname", &input.birth_surname),
        ("nicknames", &input.nicknames.join(", ")),
        ("sex", input.sex.as_deref().unwrap_or_default()),
        ("birth_date", &input.birth_date),
        ("birth_place", &input.birth_place),
        ("death_date", &input.death_date),
        ("death_place", &input.death_place),
        ("living", input.living.as_deref().unwrap_or_default()),
        ("bio", &input.bio),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1-200, default 50.
    limit: Option<i64>,
}

#[utoipa::path(get, path = api::PEOPLE, tag = "people", params(("id" = String, Path), PeopleQuery),
    responses((status = 200, body = PeoplePage, description = "By surname; living people shown as \"Living person\" \
        to readers who may not edit the legacy"), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn list(
    visitor: Visitor,
    Path(id): Path<LegacyId>,
    Query(query): Query<PeopleQuery>,
) -> ApiResult<JsonBody<PeoplePage>> {
    let page = visitor.backend.people.in_legacy(visitor.user(), &id, query.cursor.as_deref(), query.limit).await?;
    Ok(JsonBody(page))
}

#[utoipa::path(post, path = api::PEOPLE, tag = "people", params(("id" = String, Path)), request_body = PersonInput,
    responses((status = 201, body = PersonView), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
pub async fn create(
    me: Caller,
    Path(legacy_id): Path<LegacyId>,
    Input(mode, mut input): Input<PersonInput>,
) -> Response {
    input.legacy_id = legacy_id;
    let created = me.backend.people.create(&me.user, &input).await;
    let done = created.map(|person| {
        Done::new(routes::PERSON.to(&[&person.id]), (StatusCode::CREATED, JsonBody(person))).notice("Person added.")
    });
    answer(mode, done, &routes::PEOPLE.to(&[&input.legacy_id]), person_values(&input))
}

#[utoipa::path(get, path = api::PERSON, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonView), (status = 404, body = ApiError)))]
pub async fn get(visitor: Visitor, Path(id): Path<PersonId>) -> ApiResult<JsonBody<PersonView>> {
    Ok(JsonBody(visitor.backend.people.person(visitor.user(), &id).await?))
}

#[utoipa::path(put, path = api::PERSON, tag = "people", params(("id" = String, Path)), request_body = PersonInput,
    responses((status = 200, body = PersonView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Changed since `version`"),
        (status = 422, body = ApiError)))]
pub async fn update(me: Caller, Path(id): Path<PersonId>, Input(mode, input): Input<PersonInput>) -> Response {
    let updated = me.backend.people.update(&me.user, &id, &input).await;
    let done = updated.map(|person| Done::new(routes::PERSON.to(&[&person.id]), JsonBody(person)).notice("Saved."));
    answer(mode, done, &routes::EDIT_PERSON.to(&[&id]), person_values(&input))
}

#[utoipa::path(delete, path = api::PERSON, tag = "people", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "The legacy's own person")))]
pub async fn delete(mode: Mode, me: Caller, Path(id): Path<PersonId>) -> Response {
    let deleted = me.backend.people.delete(&me.user, &id).await;
    let done = deleted.map(|legacy_id| {
        Done::new(routes::PEOPLE.to(&[&legacy_id]), StatusCode::NO_CONTENT).notice("The person was deleted.")
    });
    answer(mode, done, &routes::PERSON.to(&[&id]), Vec::new())
}

#[utoipa::path(get, path = api::FAMILY, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = FamilyView, description = "Parents, partners, siblings (derived) and children"),
        (status = 404, body = ApiError)))]
pub async fn family(visitor: Visitor, Path(id): Path<PersonId>) -> ApiResult<JsonBody<FamilyView>> {
    Ok(JsonBody(visitor.backend.people.family(visitor.user(), &id).await?))
}

#[utoipa::path(post, path = api::RELATIONSHIPS, tag = "people", params(("id" = String, Path)),
    request_body = RelationshipInput,
    responses((status = 201, body = RelationshipView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Already related this way"),
        (status = 422, body = ApiError, description = "Self-relation, a cycle of ancestors, a third birth parent, \
            or a child born before the parent without `confirm`")))]
pub async fn relate(me: Caller, Path(id): Path<PersonId>, Input(mode, input): Input<RelationshipInput>) -> Response {
    let related = me.backend.people.relate(&me.user, &id, &input).await;
    let person = routes::PERSON.to(&[&id]);
    let done = related.map(|r| Done::new(&person, (StatusCode::CREATED, JsonBody(r))).notice("Relationship added."));
    let typed = vec![
        ("relation".to_string(), input.relation.clone()),
        ("person_id".to_string(), input.person_id.to_string()),
        ("kind".to_string(), input.kind.clone().unwrap_or_default()),
    ];
    answer(mode, done, &person, typed)
}

/// Where a removed relationship's form goes back to.
#[derive(Deserialize, IntoParams)]
pub struct UnrelateQuery {
    /// The person page the form was on.
    person: Option<PersonId>,
}

#[utoipa::path(delete, path = api::RELATIONSHIP, tag = "people", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn unrelate(
    mode: Mode,
    me: Caller,
    Path(id): Path<RelationshipId>,
    Query(query): Query<UnrelateQuery>,
) -> Response {
    let removed = me.backend.people.unrelate(&me.user, &id).await;
    let back = query.person.map(|p| routes::PERSON.to(&[&p])).unwrap_or_else(|| routes::LEGACIES.path.to_string());
    let done = removed.map(|()| Done::new(&back, StatusCode::NO_CONTENT).notice("Relationship removed."));
    answer(mode, done, &back, Vec::new())
}

#[utoipa::path(get, path = api::KINSHIP, tag = "people", params(("id" = String, Path), ("other" = String, Path)),
    responses((status = 200, body = Kinship, description = "What `id` is to `other`, and the chain between them; \
        `found` false (with the reason) when there is none within the limits"), (status = 404, body = ApiError)))]
pub async fn kinship(visitor: Visitor, Path((id, other)): Path<(PersonId, PersonId)>) -> ApiResult<JsonBody<Kinship>> {
    Ok(JsonBody(visitor.backend.people.kinship(visitor.user(), &id, &other).await?))
}

/// Which GEDCOM an export writes.
#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `7.0` (default) or `5.5.1`.
    version: Option<String>,
}

#[utoipa::path(get, path = api::GEDCOM, tag = "people", params(("id" = String, Path), ExportQuery),
    responses((status = 200, content_type = "text/vnd.familysearch.gedcom", body = String,
        description = "The legacy's people and families; living people as \"Living\" to readers who may not edit"),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn export_gedcom(
    visitor: Visitor,
    Path(id): Path<LegacyId>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let version = match query.version.as_deref().map(str::trim) {
        None | Some("" | "7" | "7.0") => Version::V7,
        Some("5.5.1") => Version::V551,
        Some(_) => return Err(backend::Error::invalid("version", "must be 7.0 or 5.5.1").into()),
    };
    let text = visitor.backend.people.export_gedcom(visitor.user(), &id, version).await?;
    let headers = [
        (header::CONTENT_TYPE, "text/vnd.familysearch.gedcom; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"heirloom.ged\"".to_string()),
    ];
    Ok((headers, text).into_response())
}

#[utoipa::path(post, path = api::GEDCOM, tag = "people", params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A GEDCOM 5.5.1, 5.5.5 or 7.0 file (UTF-8, UTF-16, ANSEL or Windows-1252)"),
    responses((status = 200, body = ImportReport, description = "Created, updated, unchanged, and what was skipped \
        with its line; a re-import of the same file changes nothing"), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 413, body = ApiError),
        (status = 422, body = ApiError, description = "A file that does not read: every problem with its line, \
            nothing imported")))]
pub async fn import_gedcom(me: Caller, Path(id): Path<LegacyId>, body: Bytes) -> ApiResult<JsonBody<ImportReport>> {
    Ok(JsonBody(me.backend.people.import_gedcom(&me.user, &id, &body).await?))
}

/// The people page's import form: the GEDCOM file as `multipart/form-data` field `file`.
/// Answers with the people page and a flash saying what the import did.
pub async fn import_gedcom_form(
    me: Caller,
    Path(id): Path<LegacyId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let people = routes::PEOPLE.to(&[&id]);
    let mut file = None;
    if let Ok(mut multipart) = multipart {
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some("file") {
                file = field.bytes().await.ok().filter(|bytes| !bytes.is_empty());
                break;
            }
        }
    }
    let imported = match file {
        Some(bytes) => me.backend.people.import_gedcom(&me.user, &id, &bytes).await,
        None => Err(backend::Error::invalid("file", "choose a GEDCOM file (.ged) to import")),
    };
    let done = imported.map(|report| {
        let notice = import_summary(&report);
        Done::new(&people, JsonBody(report)).notice(notice)
    });
    answer(Mode::Form, done, &people, Vec::new())
}

/// "Imported 20 people (3 updated, 0 unchanged) and 25 relationships; skipped: line 12: …".
fn import_summary(report: &ImportReport) -> String {
    let mut text = format!(
        "Imported {} new people ({} updated, {} unchanged) and {} relationships.",
        report.created, report.updated, report.unchanged, report.relationships_added
    );
    if !report.skipped.is_empty() {
        let shown: Vec<String> =
            report.skipped.iter().take(5).map(|s| format!("line {}: {}", s.line, s.reason)).collect();
        let more = report.skipped.len().saturating_sub(shown.len());
        text += &format!(" Skipped {}: {}", report.skipped.len(), shown.join("; "));
        if more > 0 {
            text += &format!("; and {more} more");
        }
        text += ".";
    }
    text
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, get, update, delete, family, relate, unrelate, kinship, export_gedcom, import_gedcom),
    components(schemas(
        PeoplePage,
        PersonSummary,
        PersonView,
        PersonInput,
        LifeEvent,
        FamilyView,
        Relative,
        RelationshipInput,
        RelationshipView,
        Kinship,
        KinshipStep,
        types::Sex,
        ImportReport,
        types::ImportSkip,
    )),
    tags((name = "people", description = "People of a legacy and their relationships"))
)]
pub struct PeopleApiDoc;
