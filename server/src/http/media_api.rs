//! Media over HTTP: the upload API (`/api/v1/uploads`: ask, resume, complete, cancel),
//! the part endpoint browsers PUT to when media live in the data folder, the media API
//! (`/api/v1/media`, per legacy and per story lists) and `/media/{id}/{variant}`, which
//! sends files with ranges and headers that keep an uploaded file from ever running as
//! part of Heirloom's pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use backend::media::{ByteRange, Signature};
use futures::TryStreamExt;
use serde::Deserialize;
use types::routes::{self, api};
use types::{ApiError, CaptionInput, MediaView, UploadRequest, UploadTicket};
use types::{LegacyId, MediaId, StoryId};
use utoipa::{IntoParams, OpenApi};

use super::extract::{Json, Path, Query};
use super::session::{Caller, Visitor};
use super::{ApiFailure, AppState};

type ApiResult<T> = Result<T, ApiFailure>;

/// A served file may be an image or a recording, never a document of this site: it gets
/// a sandbox, so even an HTML or SVG file that slipped through cannot run script here.
const MEDIA_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'";

#[utoipa::path(post, path = api::UPLOADS, tag = "media", request_body = UploadRequest,
    responses((status = 201, body = UploadTicket, description = "Where to PUT each part; nothing is stored yet"),
        (status = 401, body = ApiError),
        (status = 422, body = ApiError, description = "Not an accepted type, too large, over quota, bad checksum, \
            or not a legacy/story you can add media to")))]
pub async fn request_upload(
    me: Caller,
    Json(request): Json<UploadRequest>,
) -> ApiResult<(StatusCode, axum::Json<UploadTicket>)> {
    let ticket = me.backend.media.request_upload(&me.user, &request).await?;
    Ok((StatusCode::CREATED, axum::Json(ticket)))
}

#[utoipa::path(get, path = api::UPLOAD, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = UploadTicket, description = "Parts stored so far and fresh URLs for the rest"),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn upload_status(me: Caller, Path(id): Path<MediaId>) -> ApiResult<axum::Json<UploadTicket>> {
    Ok(axum::Json(me.backend.media.upload_status(&me.user, &id).await?))
}

#[utoipa::path(post, path = api::COMPLETE_UPLOAD, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = MediaView, description = "Verified and queued for processing"),
        (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError, description = "Parts missing, or the bytes do not match the size or SHA-256 \
            (the upload is then discarded)")))]
pub async fn complete_upload(me: Caller, Path(id): Path<MediaId>) -> ApiResult<axum::Json<MediaView>> {
    Ok(axum::Json(me.backend.media.complete_upload(&me.user, &id).await?))
}

#[utoipa::path(delete, path = api::UPLOAD, tag = "media", params(("id" = String, Path)),
    responses((status = 204, description = "Cancelled; stored parts are removed"), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn cancel_upload(me: Caller, Path(id): Path<MediaId>) -> ApiResult<StatusCode> {
    me.backend.media.cancel_upload(&me.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?exp=&sig=` of a signed URL.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Expiry, unix seconds.
    exp: Option<i64>,
    sig: Option<String>,
}

impl SignedQuery {
    fn signature(&self) -> Option<Signature<'_>> {
        Some(Signature { expires: self.exp?, sig: self.sig.as_deref()? })
    }
}

/// One part of an upload, to the URL the ticket gave (data-folder storage only). The
/// signed URL is the permission; the body must be exactly the part's size.
pub async fn put_part(
    State(state): State<AppState>,
    Path((id, number)): Path<(MediaId, u32)>,
    Query(query): Query<SignedQuery>,
    request: Request,
) -> ApiResult<StatusCode> {
    let signature = query.signature().ok_or_else(|| {
        ApiFailure::new(
            ApiError::forbidden("This upload link is incomplete; ask for the upload again.")
                .with_code(types::ErrorCode::LinkRefused),
        )
    })?;
    let stream = request.into_body().into_data_stream().map_err(std::io::Error::other);
    let mut body = tokio_util::io::StreamReader::new(stream);
    state.backend.media.receive_part(&id, number, signature, &mut body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = api::MEDIA, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = MediaView, description = "With signed URLs for each variant"),
        (status = 404, body = ApiError, description = "No such item, or not one you may see")))]
pub async fn get_media(visitor: Visitor, Path(id): Path<MediaId>) -> ApiResult<axum::Json<MediaView>> {
    Ok(axum::Json(visitor.backend.media.media(visitor.user(), &id).await?))
}

#[utoipa::path(patch, path = api::MEDIA, tag = "media", params(("id" = String, Path)),
    request_body = CaptionInput,
    responses((status = 200, body = MediaView), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
pub async fn set_caption(
    me: Caller,
    Path(id): Path<MediaId>,
    Json(change): Json<CaptionInput>,
) -> ApiResult<axum::Json<MediaView>> {
    Ok(axum::Json(me.backend.media.set_caption(&me.user, &id, &change.caption, change.version).await?))
}

#[utoipa::path(post, path = api::RETRY_MEDIA, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = MediaView, description = "Back in line for processing"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Only a failed item can be retried")))]
pub async fn retry(me: Caller, Path(id): Path<MediaId>) -> ApiResult<axum::Json<MediaView>> {
    Ok(axum::Json(me.backend.media.retry(&me.user, &id).await?))
}

#[utoipa::path(delete, path = api::MEDIA, tag = "media", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn delete_media(me: Caller, Path(id): Path<MediaId>) -> ApiResult<StatusCode> {
    me.backend.media.delete(&me.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = api::LEGACY_MEDIA, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = [MediaView], description = "Items you may see, oldest first")))]
pub async fn legacy_media(visitor: Visitor, Path(id): Path<LegacyId>) -> ApiResult<axum::Json<Vec<MediaView>>> {
    let user = visitor.user();
    let (_, media) = visitor.backend.media.legacy_media(&visitor.backend.stories, user, &id).await?;
    Ok(axum::Json(media))
}

#[utoipa::path(get, path = api::STORY_MEDIA, tag = "media", params(("id" = String, Path)),
    responses((status = 200, body = [MediaView], description = "The story's items you may see, oldest first"),
        (status = 404, body = ApiError)))]
pub async fn story_media(visitor: Visitor, Path(id): Path<StoryId>) -> ApiResult<axum::Json<Vec<MediaView>>> {
    let user = visitor.user();
    let (_, media) = visitor.backend.media.story_media(&visitor.backend.stories, user, &id).await?;
    Ok(axum::Json(media))
}

/// `GET /media/{id}` (where search results point): the item in its place, on its
/// story's page or its legacy's media page; "not found" for a reader who may not see it.
pub async fn locate(visitor: Visitor, Path(id): Path<MediaId>) -> ApiResult<axum::response::Redirect> {
    let item = visitor.backend.media.media(visitor.user(), &id).await?;
    let page = match &item.story_id {
        Some(story_id) => format!("{}#media-{id}", routes::STORY.to(&[story_id])),
        None => format!("{}#media-{id}", routes::LEGACY_MEDIA.to(&[&item.legacy_id])),
    };
    Ok(axum::response::Redirect::to(&page))
}

/// `GET`/`HEAD /media/{id}/{variant}`: the file, for a signed URL or a reader with
/// permission; ranges for seeking in audio and video.
pub async fn serve(
    visitor: Visitor,
    Path((id, variant)): Path<(MediaId, String)>,
    Query(query): Query<SignedQuery>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    match serve_file(&visitor, &id, &variant, &query, &headers, method).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

async fn serve_file(
    visitor: &Visitor,
    id: &MediaId,
    variant: &str,
    query: &SignedQuery,
    headers: &HeaderMap,
    method: axum::http::Method,
) -> ApiResult<Response> {
    let media = &visitor.backend.media;
    let served = media.open(visitor.user(), id, variant, query.signature()).await?;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) => match ByteRange::from_header(value, served.total) {
            Some(Ok(range)) => Some(range),
            Some(Err(())) => {
                let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", served.total)) {
                    response.headers_mut().insert(header::CONTENT_RANGE, value);
                }
                return Ok(response);
            }
            None => None,
        },
        None => None,
    };
    let (status, length) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.byte_count()),
        None => (StatusCode::OK, served.total),
    };
    let body = if method == axum::http::Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(media.read(&served, range).await?.body)
    };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, &served.content_type)
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, content_disposition(served.inline, &served.file_name))
        .header(header::CONTENT_SECURITY_POLICY, MEDIA_CSP)
        .header("cross-origin-resource-policy", "same-origin")
        // Permissioned: a shared cache must not keep it; the browser may, briefly.
        .header(header::CACHE_CONTROL, "private, max-age=600")
        .body(body)
        .map_err(|_| ApiFailure::new(ApiError::internal()))?;
    if let Some(r) = range {
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{}/{}", r.start, r.end, served.total)) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    Ok(response)
}

/// `inline` or `attachment` with the name in RFC 6266 form: an ASCII fallback and the
/// UTF-8 name percent-encoded, so no name can break out of the header. Bidi controls and
/// zero-width characters are left out: uploads refuse them now, but a name stored before
/// that would still make the browser offer `\u{202E}gnp.exe` as `exe.png`.
fn content_disposition(inline: bool, file_name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let file_name: String = file_name.chars().filter(|&c| !types::text::is_bidi_control_or_invisible(c)).collect();
    let file_name = if file_name.trim().is_empty() { "file".to_string() } else { file_name };
    let ascii: String =
        file_name.chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect();
    let encoded: String =
        url::form_urlencoded::byte_serialize(file_name.as_bytes()).collect::<String>().replace('+', "%20");
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[derive(OpenApi)]
#[openapi(
    paths(
        request_upload,
        upload_status,
        complete_upload,
        cancel_upload,
        get_media,
        set_caption,
        retry,
        delete_media,
        legacy_media,
        story_media
    ),
    components(schemas(
        UploadRequest,
        UploadTicket,
        types::PartTarget,
        MediaView,
        types::VariantView,
        types::MediaMeta,
        types::MediaState,
        types::MediaKind,
        types::ScanStatus,
        CaptionInput
    ))
)]
pub struct MediaApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_break_the_header() {
        let value = content_disposition(false, "a\"; evil=1\r\n.jpg");
        assert!(value.starts_with("attachment; filename=\"a__ evil_1__.jpg\""));
        assert!(!value.contains('\r') && !value.contains('\n'));
        assert!(content_disposition(true, "Grandma's 1962 photo.jpg")
            .contains("filename*=UTF-8''Grandma%27s%201962%20photo.jpg"));
    }

    #[test]
    fn names_stored_with_direction_controls_are_served_without_them() {
        let value = content_disposition(false, "\u{202E}gnp.exe");
        assert_eq!(value, "attachment; filename=\"gnp.exe\"; filename*=UTF-8''gnp.exe");
        let value = content_disposition(false, "photo\u{200B}\u{2066}.jpg");
        assert!(value.ends_with("filename*=UTF-8''photo.jpg"), "{value}");
        assert!(content_disposition(false, "\u{FEFF}").ends_with("filename*=UTF-8''file"));
    }
}
