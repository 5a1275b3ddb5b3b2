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
    ApiError, FamilyTree, FamilyView, ImportId, ImportJob, ImportReport, Kinship, KinshipStep, LegacyId, LifeEvent,
    MediaId, MediaView, PeoplePage, PersonId, PersonInput, PersonSummary, PersonView, PortraitInput, RelationshipId,
    RelationshipInput, RelationshipView, Relative, RelativesPage,
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

#[utoipa::path(put, path = api::PERSON_ME, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonView, description = "The caller said this person is them (letting go of \
        the one they said before in the legacy)"), (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "A living person whose details the caller may not see"),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Another member's person")))]
pub async fn claim(mode: Mode, me: Caller, Path(id): Path<PersonId>) -> Response {
    let claimed = me.backend.people.claim(&me.user, &id).await;
    let person = routes::PERSON.to(&[&id]);
    let done = claimed.map(|p| {
        Done::new(&person, JsonBody(p))
            .notice("This person is you: their page and others' now say how you are related.")
    });
    answer(mode, done, &person, Vec::new())
}

#[utoipa::path(delete, path = api::PERSON_ME, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn unclaim(mode: Mode, me: Caller, Path(id): Path<PersonId>) -> Response {
    let unclaimed = me.backend.people.unclaim(&me.user, &id).await;
    let person = routes::PERSON.to(&[&id]);
    let done = unclaimed.map(|p| Done::new(&person, JsonBody(p)).notice("This person is no longer linked to you."));
    answer(mode, done, &person, Vec::new())
}

#[utoipa::path(put, path = api::PORTRAIT, tag = "people", params(("id" = String, Path)), request_body = PortraitInput,
    responses((status = 200, body = PersonView, description = "The photo is the person's portrait now (none: no \
        portrait)"), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError, description = "Changed since `version`"),
        (status = 422, body = ApiError, description = "Not a processed photo of the person's legacy")))]
pub async fn set_portrait(me: Caller, Path(id): Path<PersonId>, Input(mode, input): Input<PortraitInput>) -> Response {
    let set = me.backend.people.set_portrait(&me.backend.media, &me.user, &id, &input).await;
    let person = routes::PERSON.to(&[&id]);
    let notice = if input.media_id.as_ref().is_some_and(|m| !m.trim().is_empty()) {
        "Portrait chosen."
    } else {
        "Portrait removed."
    };
    let done = set.map(|p| Done::new(&person, JsonBody(p)).notice(notice));
    answer(mode, done, &person, Vec::new())
}

#[utoipa::path(delete, path = api::PORTRAIT, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = PersonView, description = "The person has no portrait now"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn remove_portrait(mode: Mode, me: Caller, Path(id): Path<PersonId>) -> Response {
    let removed = me.backend.people.set_portrait(&me.backend.media, &me.user, &id, &PortraitInput::default()).await;
    let person = routes::PERSON.to(&[&id]);
    let done = removed.map(|p| Done::new(&person, JsonBody(p)).notice("Portrait removed."));
    answer(mode, done, &person, Vec::new())
}

/// A person tagged in an item, and the person a tag form names.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TagInput {
    #[serde(default)]
    person_id: PersonId,
}

#[utoipa::path(put, path = api::MEDIA_PERSON, tag = "people",
    params(("id" = String, Path, description = "The media item"), ("person_id" = String, Path)),
    responses((status = 204, description = "Tagged (tagging twice changes nothing)"), (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "Not one who may edit the item"), (status = 404, body = ApiError),
        (status = 422, body = ApiError, description = "Not a person of the item's legacy")))]
pub async fn tag(me: Caller, Path((id, person_id)): Path<(MediaId, PersonId)>) -> ApiResult<StatusCode> {
    me.backend.people.tag(&me.backend.media, &me.user, &id, &person_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = api::MEDIA_PERSON, tag = "people",
    params(("id" = String, Path, description = "The media item"), ("person_id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn untag(me: Caller, Path((id, person_id)): Path<(MediaId, PersonId)>) -> ApiResult<StatusCode> {
    me.backend.people.untag(&me.backend.media, &me.user, &id, &person_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The gallery's "Tag a person" form; back to the legacy's photos and recordings.
pub async fn tag_form(me: Caller, Path(id): Path<MediaId>, Input(mode, input): Input<TagInput>) -> Response {
    let tagged = me.backend.people.tag(&me.backend.media, &me.user, &id, &input.person_id).await;
    // Only a refusal needs the item again, to go back to its gallery.
    let back = match &tagged {
        Ok(legacy) => routes::LEGACY_MEDIA.to(&[legacy]),
        Err(_) => match me.backend.media.media(Some(&me.user), &id).await {
            Ok(item) => routes::LEGACY_MEDIA.to(&[&item.legacy_id]),
            Err(_) => routes::LEGACIES.path.to_string(),
        },
    };
    let done = tagged.map(|_| Done::new(&back, StatusCode::NO_CONTENT).notice("Tagged."));
    answer(mode, done, &back, Vec::new())
}

/// The gallery's "Remove" of a tag.
pub async fn untag_form(mode: Mode, me: Caller, Path((id, person_id)): Path<(MediaId, PersonId)>) -> Response {
    let untagged = me.backend.people.untag(&me.backend.media, &me.user, &id, &person_id).await;
    let done = untagged
        .map(|legacy| Done::new(routes::LEGACY_MEDIA.to(&[&legacy]), StatusCode::NO_CONTENT).notice("Tag removed."));
    answer(mode, done, routes::LEGACIES.path, Vec::new())
}

#[utoipa::path(get, path = api::PERSON_MEDIA, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = [MediaView], description = "Items the person is tagged in that you may see, \
        newest tag first"), (status = 404, body = ApiError)))]
pub async fn person_media(visitor: Visitor, Path(id): Path<PersonId>) -> ApiResult<JsonBody<Vec<MediaView>>> {
    Ok(JsonBody(visitor.backend.people.tagged_media(&visitor.backend.media, visitor.user(), &id).await?))
}

/// How many generations a family tree shows.
#[derive(Deserialize, IntoParams)]
pub struct TreeQuery {
    /// Generations of ancestors, 0-10 (default 4).
    up: Option<i64>,
    /// Generations of descendants, 0-10 (default 4).
    down: Option<i64>,
}

#[utoipa::path(get, path = api::TREE, tag = "people", params(("id" = String, Path), TreeQuery),
    responses((status = 200, body = FamilyTree, description = "The person first, then ancestors and descendants \
        generation by generation"), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn tree(
    visitor: Visitor,
    Path(id): Path<PersonId>,
    Query(query): Query<TreeQuery>,
) -> ApiResult<JsonBody<FamilyTree>> {
    Ok(JsonBody(visitor.backend.people.tree(visitor.user(), &id, query.up, query.down).await?))
}

/// Which relatives, and which page of them.
#[derive(Deserialize, IntoParams)]
pub struct RelativesQuery {
    /// `neighbours` (default: parents, partners and children), `ancestors` or `descendants`.
    kind: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

#[utoipa::path(get, path = api::RELATIVES, tag = "people", params(("id" = String, Path), RelativesQuery),
    responses((status = 200, body = RelativesPage, description = "A page of the person's relatives, nearest \
        generation first; living people as \"Living person\" to readers who may not edit"),
        (status = 404, body = ApiError), (status = 422, body = ApiError)))]
pub async fn relatives(
    visitor: Visitor,
    Path(id): Path<PersonId>,
    Query(query): Query<RelativesQuery>,
) -> ApiResult<JsonBody<RelativesPage>> {
    let people = &visitor.backend.people;
    let kind = query.kind.as_deref();
    Ok(JsonBody(people.relatives(visitor.user(), &id, kind, query.cursor.as_deref(), query.limit).await?))
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

/// What a GEDCOM upload is called.
#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The file's name, shown on the import's page (default "family tree.ged").
    file_name: Option<String>,
}

#[utoipa::path(post, path = api::GEDCOM, tag = "people", params(("id" = String, Path), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A GEDCOM 5.5.1, 5.5.5 or 7.0 file (UTF-8, UTF-16, ANSEL or Windows-1252)"),
    responses((status = 202, body = ImportJob, description = "The file reads and its import is queued; follow it at \
        `Location` (`/api/v1/gedcom-imports/{id}`) until `status` is `done` (with the report: created, updated, \
        unchanged, and what was skipped with its line) or `failed`. A re-import of the same file changes nothing"),
        (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 413, body = ApiError),
        (status = 422, body = ApiError, description = "A file that does not read: every problem with its line, \
            nothing queued")))]
pub async fn import_gedcom(
    me: Caller,
    Path(id): Path<LegacyId>,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let file_name = query.file_name.unwrap_or_default();
    let job = me.backend.people.start_import(&me.user, &id, &file_name, &body).await?;
    let location = routes::fill(api::GEDCOM_IMPORT, &[&job.id]);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], JsonBody(job)).into_response())
}

#[utoipa::path(get, path = api::GEDCOM_IMPORT, tag = "people", params(("id" = String, Path)),
    responses((status = 200, body = ImportJob), (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "No such import, or not one of a legacy whose people you edit")))]
pub async fn import_job(me: Caller, Path(id): Path<ImportId>) -> ApiResult<JsonBody<ImportJob>> {
    Ok(JsonBody(me.backend.people.import_job(&me.user, &id).await?))
}

/// The people page's import form: the GEDCOM file as `multipart/form-data` field `file`.
/// Goes on to the import's page, which follows its progress; a file that does not read
/// goes back to the people page with its problems.
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
                let name = field.file_name().unwrap_or_default().to_string();
                file = field.bytes().await.ok().filter(|bytes| !bytes.is_empty()).map(|bytes| (name, bytes));
                break;
            }
        }
    }
    let started = match file {
        Some((name, bytes)) => me.backend.people.start_import(&me.user, &id, &name, &bytes).await,
        None => Err(backend::Error::invalid("file", "choose a GEDCOM file (.ged) to import")),
    };
    let done =
        started.map(|job| Done::new(routes::GEDCOM_IMPORT.to(&[&job.id]), (StatusCode::ACCEPTED, JsonBody(job))));
    answer(Mode::Form, done, &people, Vec::new())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list, create, get, update, delete, family, relate, unrelate, kinship, tree, relatives, claim, unclaim, set_portrait, remove_portrait, tag,
        untag, person_media,
        export_gedcom,
        import_gedcom, import_job
    ),
    components(schemas(
        PeoplePage,
        PersonSummary,
        PersonView,
        PersonInput,
        types::PortraitInput,
        LifeEvent,
        FamilyView,
        Relative,
        RelationshipInput,
        RelationshipView,
        Kinship,
        KinshipStep,
        FamilyTree,
        types::TreePerson,
        RelativesPage,
        types::ListedRelative,
        types::RelativesKind,
        types::Sex,
        ImportJob,
        types::ImportStatus,
        ImportReport,
        types::ImportSkip,
    )),
    tags((name = "people", description = "People of a legacy and their relationships"))
)]
pub struct PeopleApiDoc;
