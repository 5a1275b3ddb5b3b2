//! The browser side of an upload, shared by the uploader island and the editor's
//! "Insert image": the file's SHA-256 (read in slices, hashed in WASM), asking for the
//! upload, sending each part with `XMLHttpRequest` (fetch reports no upload progress),
//! retrying a failed part with backoff, resuming from what the server already has,
//! completing, and waiting for processing to finish.
//!
//! The REST API it speaks is `/api/v1/uploads` and `/api/v1/media` (server/src/http/
//! media_api.rs). Nothing here touches the page: progress goes to a callback.
//!
//! It compiles for the server too (islands are rendered there) but only ever runs in the
//! browser: every call goes through `web_sys`. Answers are read with the browser's own
//! JSON parser into the few fields used here ([`Ticket`], [`Item`]) rather than with
//! serde into the full DTOs, which keeps the WASM smaller.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sha2::{Digest, Sha256};
use types::MediaState;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, XmlHttpRequest};

/// Bytes read at a time while hashing.
const HASH_SLICE: f64 = 4.0 * 1024.0 * 1024.0;
/// Tries of one part before the upload pauses, and the pause before each retry.
const PART_RETRY_DELAYS_MS: [u32; 3] = [1_000, 2_000, 4_000];
/// How often processing is checked on, and for how long at most.
const POLL_EVERY_MS: u32 = 1_000;
const POLL_FOR_MS: f64 = 10.0 * 60.0 * 1000.0;

/// What the browser needs of an `UploadTicket`: where to send the parts still missing.
struct Ticket {
    media_id: String,
    size: u64,
    parts: Vec<Part>,
}

struct Part {
    offset: u64,
    size: u64,
    url: String,
}

/// What the uploader and the editor need of a `MediaView`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: String,
    pub state: MediaState,
    pub failure: Option<String>,
    pub can_edit: bool,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    pub url: String,
    pub width: u32,
}

impl Item {
    /// The URL of the variant `name` (signed for this reader).
    pub fn url(&self, name: &str) -> Option<String> {
        self.variants.iter().find(|v| v.name == name).map(|v| v.url.clone())
    }

    /// The widest thumbnail's name (`thumb-1920` when the photo is that wide), for
    /// Markdown, which needs a stable, unsigned path.
    pub fn largest_thumbnail(&self) -> Option<String> {
        self.variants.iter().filter(|v| v.name.starts_with("thumb-")).max_by_key(|v| v.width).map(|v| v.name.clone())
    }

    pub fn failure_text(&self) -> String {
        self.failure.clone().unwrap_or_else(|| "no reason was given".into())
    }
}

/// Reads a parsed JSON answer.
trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Option<Self>;
}

fn field(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn text(value: &JsValue, key: &str) -> Option<String> {
    field(value, key).as_string()
}

fn number(value: &JsValue, key: &str) -> Option<f64> {
    field(value, key).as_f64()
}

fn list(value: &JsValue, key: &str) -> Vec<JsValue> {
    field(value, key).dyn_into::<js_sys::Array>().map(|a| a.iter().collect()).unwrap_or_default()
}

impl FromJs for Ticket {
    fn from_js(value: &JsValue) -> Option<Ticket> {
        let parts = list(value, "parts")
            .iter()
            .map(|p| {
                Some(Part {
                    offset: number(p, "offset")? as u64,
                    size: number(p, "size")? as u64,
                    url: text(p, "url")?,
                })
            })
            .collect::<Option<Vec<Part>>>()?;
        Some(Ticket { media_id: text(value, "media_id")?, size: number(value, "size")? as u64, parts })
    }
}

impl FromJs for Item {
    fn from_js(value: &JsValue) -> Option<Item> {
        let variants = list(value, "variants")
            .iter()
            .filter_map(|v| {
                Some(Variant {
                    name: text(v, "name")?,
                    url: text(v, "url")?,
                    width: number(v, "width").unwrap_or(0.0) as u32,
                })
            })
            .collect();
        Some(Item {
            id: text(value, "id")?,
            state: MediaState::parse(&text(value, "state")?)?,
            failure: text(value, "failure"),
            can_edit: field(value, "can_edit").as_bool().unwrap_or(false),
            variants,
        })
    }
}

fn parse<T: FromJs>(body: &str) -> Option<T> {
    T::from_js(&js_sys::JSON::parse(body).ok()?)
}

/// Where an upload is, for the page to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Hashing the file before asking for the upload.
    Preparing,
    /// `sent` of `total` bytes are stored; `bytes_per_sec` over this sending session.
    Sending { sent: u64, total: u64, bytes_per_sec: f64 },
    /// A part failed; trying again after a pause.
    Retrying,
    /// All parts sent; the server checks the whole file.
    Finishing,
}

/// Why an upload stopped before it completed.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The parts kept failing (connection lost); [`Upload::run`] again resumes.
    Paused,
    Cancelled,
    /// Refused or broken for good: the message says why.
    Failed(String),
}

/// One file on its way to the server. `run` starts it, or resumes it when the server
/// already knows it (after a pause).
pub struct Upload {
    pub file: File,
    pub name: String,
    legacy_id: String,
    story_id: Option<String>,
    media_id: RefCell<Option<String>>,
    completed: Cell<bool>,
    cancelled: Cell<bool>,
    /// The request in flight, so cancelling can abort it.
    in_flight: RefCell<Option<XmlHttpRequest>>,
}

impl Upload {
    pub fn new(file: File, legacy_id: String, story_id: Option<String>) -> Rc<Upload> {
        Rc::new(Upload {
            name: file.name(),
            file,
            legacy_id,
            story_id,
            media_id: RefCell::new(None),
            completed: Cell::new(false),
            cancelled: Cell::new(false),
            in_flight: RefCell::new(None),
        })
    }

    pub fn size(&self) -> u64 {
        self.file.size() as u64
    }

    pub fn media_id(&self) -> Option<String> {
        self.media_id.borrow().clone()
    }

    /// Sends the file (or what the server is missing of it) and completes the upload;
    /// the item is then waiting for processing.
    pub async fn run(&self, report: Rc<dyn Fn(Report)>) -> Result<Item, Stop> {
        let ticket = match self.media_id() {
            Some(id) => self.call::<Ticket>("GET", &format!("/api/v1/uploads/{id}"), None).await?,
            None => {
                report(Report::Preparing);
                let sha256 = self.sha256().await?;
                // An `UploadRequest`.
                let request = js_sys::Object::new();
                let set = |key: &str, value: JsValue| {
                    let _ = js_sys::Reflect::set(&request, &JsValue::from_str(key), &value);
                };
                set("legacy_id", self.legacy_id.as_str().into());
                if let Some(story_id) = &self.story_id {
                    set("story_id", story_id.as_str().into());
                }
                set("file_name", self.name.as_str().into());
                set("size", self.file.size().into());
                set("content_type", content_type(&self.file).into());
                set("sha256", sha256.into());
                let body = js_sys::JSON::stringify(&request).ok().and_then(|s| s.as_string()).unwrap_or_default();
                let ticket = self.call::<Ticket>("POST", "/api/v1/uploads", Some(body)).await?;
                *self.media_id.borrow_mut() = Some(ticket.media_id.clone());
                ticket
            }
        };
        self.send_parts(ticket, &report).await?;
        report(Report::Finishing);
        let id = self.media_id().unwrap_or_default();
        let view = self.call::<Item>("POST", &format!("/api/v1/uploads/{id}/complete"), None).await?;
        self.completed.set(true);
        Ok(view)
    }

    /// Stops the upload; the server forgets it (and its stored parts) too.
    pub async fn cancel(&self) {
        self.cancelled.set(true);
        if let Some(xhr) = self.in_flight.borrow_mut().take() {
            let _ = xhr.abort();
        }
        if let (Some(id), false) = (self.media_id(), self.completed.get()) {
            let _ = request("DELETE", &format!("/api/v1/uploads/{id}"), None, None, None).await;
        }
    }

    fn check(&self) -> Result<(), Stop> {
        if self.cancelled.get() {
            Err(Stop::Cancelled)
        } else {
            Ok(())
        }
    }

    async fn call<T: FromJs>(&self, method: &str, url: &str, body: Option<String>) -> Result<T, Stop> {
        self.check()?;
        let answer = request(method, url, body.map(JsValue::from).as_ref(), None, Some(&self.in_flight)).await;
        self.check()?;
        match answer {
            Ok((status, body)) if (200..300).contains(&status) => {
                parse(&body).ok_or_else(|| Stop::Failed("the server's answer was not understood".into()))
            }
            Ok((status, body)) => Err(Stop::Failed(error_message(status, &body))),
            Err(()) => Err(Stop::Paused),
        }
    }

    /// Lowercase hex SHA-256 of the whole file, read a slice at a time.
    async fn sha256(&self) -> Result<String, Stop> {
        let mut hasher = Sha256::new();
        let size = self.file.size();
        let mut offset = 0.0;
        while offset < size {
            self.check()?;
            let end = (offset + HASH_SLICE).min(size);
            let bytes = read_slice(&self.file, offset, end)
                .await
                .map_err(|_| Stop::Failed("the file could not be read".into()))?;
            hasher.update(&bytes);
            offset = end;
        }
        Ok(hex(&hasher.finalize()))
    }

    /// Sends the ticket's parts one after the other. A failed part is tried again after
    /// a pause, with fresh URLs from the server (an expired one is refused); when it
    /// keeps failing the upload pauses.
    async fn send_parts(&self, mut ticket: Ticket, report: &Rc<dyn Fn(Report)>) -> Result<(), Stop> {
        let total = ticket.size;
        let started = js_sys::Date::now();
        let mut sent_now = 0u64;
        let mut failures = 0usize;
        loop {
            let missing: u64 = ticket.parts.iter().map(|p| p.size).sum();
            let mut stored = total.saturating_sub(missing);
            report(Report::Sending { sent: stored, total, bytes_per_sec: speed(started, sent_now) });
            let mut failed = false;
            for part in &ticket.parts {
                self.check()?;
                let body = self
                    .file
                    .slice_with_f64_and_f64(part.offset as f64, (part.offset + part.size) as f64)
                    .map_err(|_| Stop::Failed("the file could not be read".into()))?;
                let on_progress: Rc<dyn Fn(f64)> = {
                    let (report, size, before) = (report.clone(), part.size, sent_now);
                    Rc::new(move |loaded: f64| {
                        let loaded = (loaded as u64).min(size);
                        report(Report::Sending {
                            sent: stored + loaded,
                            total,
                            bytes_per_sec: speed(started, before + loaded),
                        });
                    })
                };
                let answer = request("PUT", &part.url, Some(&body), Some(on_progress), Some(&self.in_flight)).await;
                self.check()?;
                match answer {
                    Ok((status, _)) if (200..300).contains(&status) => {
                        stored += part.size;
                        sent_now += part.size;
                        failures = 0;
                        report(Report::Sending { sent: stored, total, bytes_per_sec: speed(started, sent_now) });
                    }
                    // Too large, or the wrong bytes: trying again cannot help. (Anything else,
                    // an expired link or S3's 400 RequestTimeout included, is tried again.)
                    Ok((status @ (413 | 422), text)) => return Err(Stop::Failed(error_message(status, &text))),
                    _ => {
                        failed = true;
                        break;
                    }
                }
            }
            if !failed {
                return Ok(());
            }
            // Pauses, then asks which parts the server has (and for fresh URLs); a
            // failed question counts as another failure.
            ticket = loop {
                let Some(delay) = PART_RETRY_DELAYS_MS.get(failures) else {
                    return Err(Stop::Paused);
                };
                failures += 1;
                report(Report::Retrying);
                sleep(*delay).await;
                let id = self.media_id().unwrap_or_default();
                match self.call::<Ticket>("GET", &format!("/api/v1/uploads/{id}"), None).await {
                    Ok(ticket) => break ticket,
                    Err(Stop::Paused) => continue,
                    Err(other) => return Err(other),
                }
            };
        }
    }
}

/// Bytes per second since `started` (ms).
fn speed(started: f64, sent: u64) -> f64 {
    let secs = (js_sys::Date::now() - started) / 1000.0;
    if secs > 0.0 {
        sent as f64 / secs
    } else {
        0.0
    }
}

/// The item again, until processing has decided (ready, failed or refused). `on_state`
/// hears every state seen. A few failed looks in a row (a flaky connection) are
/// tolerated.
pub async fn until_processed(id: &str, on_state: &dyn Fn(&Item)) -> Result<Item, String> {
    let started = js_sys::Date::now();
    let mut failures = 0;
    loop {
        match media(id).await {
            Ok(view) => {
                failures = 0;
                on_state(&view);
                if matches!(view.state, MediaState::Ready | MediaState::Failed | MediaState::Rejected) {
                    return Ok(view);
                }
            }
            Err(why) if failures >= 5 => return Err(format!("its processing could not be followed ({why})")),
            Err(_) => failures += 1,
        }
        if js_sys::Date::now() - started > POLL_FOR_MS {
            return Err("processing is taking long; reload the page later to see it".into());
        }
        sleep(POLL_EVERY_MS).await;
    }
}

pub async fn media(id: &str) -> Result<Item, String> {
    json_call("GET", &format!("/api/v1/media/{id}")).await
}

/// Sends a failed item through processing again.
pub async fn retry_processing(id: &str) -> Result<Item, String> {
    json_call("POST", &format!("/api/v1/media/{id}/retry")).await
}

/// Replaces the page's gallery (`[data-gallery]`) with the server's current rendering of
/// it, so a finished upload appears there, with its caption form, without a reload; the
/// new item waits for the next finished upload or a reload while the reader is at work
/// in the gallery.
pub async fn refresh_gallery() {
    refresh_parts(&["[data-gallery]"], false).await;
}

/// Replaces each part of the page that `selectors` name with the server's current
/// rendering of it (the HTML is this site's own page, rendered and sanitized as on any
/// page load). While the reader is at work in one of them (focus there, or text typed
/// and not sent) nothing is replaced and the answer is false, unless `anyway`: then what
/// they typed is put back into the same fields of the new rendering, their forms open.
pub async fn refresh_parts(selectors: &[&str], anyway: bool) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let Some(document) = window.document() else { return false };
    let current: Vec<(&str, web_sys::Element)> =
        selectors.iter().filter_map(|s| Some((*s, document.query_selector(s).ok().flatten()?))).collect();
    let busy = || !anyway && current.iter().any(|(_, part)| is_being_edited(&document, part));
    if busy() {
        return false;
    }
    let location = window.location();
    let url = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
    let Some(fresh) = fetch_page(&url).await else { return false };
    // Checked again: the reader may have started typing while the page was fetched.
    if busy() {
        return false;
    }
    for (selector, part) in &current {
        if let Ok(Some(new)) = fresh.query_selector(selector) {
            let typed = typed_text(part);
            part.set_inner_html(&new.inner_html());
            put_back(&document, typed);
        }
    }
    true
}

/// This site's page at `url` as the server renders it now, parsed (not shown).
pub async fn fetch_page(url: &str) -> Option<web_sys::Document> {
    let Ok((200, html)) = request("GET", url, None, None, None).await else { return None };
    let parser = web_sys::DomParser::new().ok()?;
    parser.parse_from_string(&html, web_sys::SupportedType::TextHtml).ok()
}

/// The text areas of `part` whose text was changed and not sent: (element id, text).
fn typed_text(part: &web_sys::Element) -> Vec<(String, String)> {
    let Ok(list) = part.query_selector_all("textarea") else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        .filter(|area| area.default_value().is_ok_and(|initial| area.value() != initial) && !area.id().is_empty())
        .map(|area| (area.id(), area.value()))
        .collect()
}

/// Puts typed text back into the fields of the same ids, opening the `<details>` each is in.
fn put_back(document: &web_sys::Document, typed: Vec<(String, String)>) {
    for (id, text) in typed {
        let Some(area) = document.get_element_by_id(&id) else { continue };
        if let Some(details) = area.closest("details").ok().flatten() {
            let _ = details.set_attribute("open", "");
        }
        if let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() {
            area.set_value(&text);
        }
    }
}

/// Whether the reader is at work in a part of the page (focus in it, or text typed in it
/// and not sent).
fn is_being_edited(document: &web_sys::Document, part: &web_sys::Element) -> bool {
    let focused = document.active_element().is_some_and(|el| part.contains(Some(&el)));
    focused || !typed_text(part).is_empty()
}

async fn json_call<T: FromJs>(method: &str, url: &str) -> Result<T, String> {
    match request(method, url, None, None, None).await {
        Ok((status, body)) if (200..300).contains(&status) => {
            parse(&body).ok_or_else(|| "the server's answer was not understood".to_string())
        }
        Ok((status, body)) => Err(error_message(status, &body)),
        Err(()) => Err("the connection was lost".into()),
    }
}

/// What a person should read of an error answer: the first field's problem, else the
/// message.
pub fn error_message(status: u16, body: &str) -> String {
    // An `ApiError`: `{kind, message, fields: [{field, message}]}`.
    let error = js_sys::JSON::parse(body).unwrap_or(JsValue::UNDEFINED);
    let first_field = list(&error, "fields").first().and_then(|f| text(f, "message"));
    first_field.or_else(|| text(&error, "message")).unwrap_or_else(|| format!("the server answered {status}"))
}

/// One HTTP request by `XMLHttpRequest`: the status and text of the answer, or `Err`
/// when there was none (network down, aborted). `progress` hears bytes sent.
async fn request(
    method: &str,
    url: &str,
    body: Option<&JsValue>,
    progress: Option<Rc<dyn Fn(f64)>>,
    slot: Option<&RefCell<Option<XmlHttpRequest>>>,
) -> Result<(u16, String), ()> {
    let xhr = XmlHttpRequest::new().map_err(|_| ())?;
    xhr.open(method, url).map_err(|_| ())?;
    let is_api = url.starts_with("/api/");
    if is_api {
        let _ = xhr.set_request_header("Accept", "application/json");
        if body.is_some() {
            let _ = xhr.set_request_header("Content-Type", "application/json");
        }
    }
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
        xhr.set_ontimeout(Some(&reject));
    });
    // Lives until the request is over; unhooked and dropped right after.
    let on_progress = progress.map(|progress| {
        wasm_bindgen::closure::Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            progress(e.loaded())
        })
    });
    if let (Some(closure), Ok(upload)) = (&on_progress, xhr.upload()) {
        upload.set_onprogress(Some(closure.as_ref().unchecked_ref()));
    }
    let sent = match body {
        Some(body) if body.is_string() => xhr.send_with_opt_str(body.as_string().as_deref()),
        Some(body) => xhr.send_with_opt_blob(body.dyn_ref::<Blob>()),
        None => xhr.send(),
    };
    if let Some(slot) = slot {
        *slot.borrow_mut() = Some(xhr.clone());
    }
    let outcome = if sent.is_ok() { JsFuture::from(done).await.map_err(|_| ()) } else { Err(()) };
    if let Some(slot) = slot {
        slot.borrow_mut().take();
    }
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(None);
    }
    drop(on_progress);
    outcome?;
    let status = xhr.status().map_err(|_| ())?;
    if status == 0 {
        return Err(());
    }
    Ok((status, xhr.response_text().ok().flatten().unwrap_or_default()))
}

async fn read_slice(file: &File, start: f64, end: f64) -> Result<Vec<u8>, JsValue> {
    let blob = file.slice_with_f64_and_f64(start, end)?;
    let buffer = JsFuture::from(blob.array_buffer()).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[(b >> 4) as usize] as char, DIGITS[(b & 15) as usize] as char]).collect()
}

/// The browser's type for the file, or one guessed from its name when it has none (the
/// server checks the content either way).
fn content_type(file: &File) -> String {
    let declared = file.type_();
    if !declared.is_empty() {
        return declared;
    }
    let name = file.name().to_ascii_lowercase();
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "flac" => "audio/flac",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// Bytes per second as people read them: 850 KB/s, 2.4 MB/s. Integer arithmetic only:
/// formatting floats would pull a float printer into the WASM.
pub fn speed_text(bytes_per_sec: f64) -> String {
    let rate = bytes_per_sec as u64;
    if rate == 0 {
        String::new()
    } else if rate < 1_000_000 {
        format!("{} KB/s", ((rate + 500) / 1000).max(1))
    } else {
        let tenths = (rate + 50_000) / 100_000;
        format!("{}.{} MB/s", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_read_like_people_write_them() {
        assert_eq!(speed_text(0.0), "");
        assert_eq!(speed_text(850_400.0), "850 KB/s");
        assert_eq!(speed_text(2_430_000.0), "2.4 MB/s");
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
