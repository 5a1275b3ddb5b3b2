//! Where media bytes live: a folder under the data folder, or an S3-compatible bucket.
//! Both take multipart uploads straight from the browser (S3 through presigned part
//! URLs, the folder through Heirloom's own signed part endpoint), so a large upload
//! never passes through the database and an interrupted one resumes part by part.
//!
//! Keys are `originals/<media id>` and `variants/<media id>/<variant>`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::error::{Error, Result};

/// A stream of an object's bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// One stored part of an unfinished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    pub number: u32,
    pub size: u64,
    /// S3's entity tag, needed to complete the upload; the folder's is empty.
    pub etag: String,
}

/// Bytes `start..=end` of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// The range a `Range` header asks for in an object of `total` bytes: `None` to send
    /// it whole (no header, several ranges, or a unit other than bytes), `Some(Err(()))`
    /// when it lies outside the object (416).
    pub fn from_header(header: &str, total: u64) -> Option<std::result::Result<ByteRange, ()>> {
        let spec = header.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (start, end) = spec.split_once('-')?;
        let (start, end) = (start.trim(), end.trim());
        let range = if start.is_empty() {
            // The last `n` bytes.
            let n: u64 = end.parse().ok()?;
            if n == 0 || total == 0 {
                return Some(Err(()));
            }
            ByteRange { start: total.saturating_sub(n), end: total - 1 }
        } else {
            let start: u64 = start.parse().ok()?;
            let end: u64 = if end.is_empty() { u64::MAX } else { end.parse().ok()? };
            if start >= total || end < start {
                return Some(Err(()));
            }
            ByteRange { start, end: end.min(total - 1) }
        };
        Some(Ok(range))
    }

    pub fn byte_count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// An object opened for reading (whole or a range of it).
pub struct Object {
    /// The whole object's size.
    pub total: u64,
    /// The part being sent, when a range was asked for.
    pub range: Option<ByteRange>,
    pub body: ByteStream,
}

#[async_trait]
pub trait Storage: Send + Sync {
    /// `filesystem` or `s3`, for logs and the admin page.
    fn kind(&self) -> &'static str;
    /// Starts a multipart upload to `key`; returns the storage's handle for it.
    async fn begin_upload(&self, key: &str, content_type: &str) -> Result<String>;
    /// A URL the browser may PUT part `number` to directly, or `None` when parts go to
    /// Heirloom's own part endpoint ([`Storage::write_part`]).
    async fn presign_part(&self, key: &str, upload: &str, number: u32, ttl: Duration) -> Result<Option<String>>;
    /// Stores one part received by Heirloom itself; exactly `size` bytes or an error.
    async fn write_part(
        &self,
        upload: &str,
        number: u32,
        size: u64,
        body: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<StoredPart>;
    /// The parts stored so far, by number.
    async fn parts(&self, key: &str, upload: &str) -> Result<Vec<StoredPart>>;
    /// Joins the parts into the object `key`.
    async fn finish_upload(&self, key: &str, upload: &str, parts: &[StoredPart]) -> Result<()>;
    /// Drops an unfinished upload and its parts; nothing happens if there is none.
    async fn abort_upload(&self, key: &str, upload: &str) -> Result<()>;
    /// Stores a file the server made (a thumbnail, a transcode).
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<()>;
    /// Reads an object, or a range of it.
    async fn read(&self, key: &str, range: Option<ByteRange>) -> Result<Object>;
    /// Copies an object into a local file (for processing); returns its size.
    async fn fetch_to_file(&self, key: &str, path: &Path) -> Result<u64> {
        let object = self.read(key, None).await?;
        let mut file = tokio::fs::File::create(path).await.map_err(|e| io_error("create a work file", e))?;
        let mut body = object.body;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| io_error("read an object", e))?;
            written += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| io_error("write a work file", e))?;
        }
        file.flush().await.map_err(|e| io_error("write a work file", e))?;
        Ok(written)
    }
    /// Deletes an object; deleting one that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// A failed file operation in the data folder: 507 when the disk is full, otherwise a
/// fault for an administrator (permissions, a missing file, a failing disk), not a 503.
fn io_error(what: &str, err: std::io::Error) -> Error {
    if crate::disk::is_full(&err) {
        return Error::StorageFull(format!("media storage: cannot {what}: {err}"));
    }
    Error::internal(format!("media storage: cannot {what}"), err)
}

/// Keys are built by Heirloom from ids, never from what a client sent; this refuses
/// anything that could leave the storage root anyway.
fn checked_key(key: &str) -> Result<&str> {
    let safe = !key.is_empty()
        && key.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if safe {
        Ok(key)
    } else {
        Err(Error::internal("media storage", format!("refused key {key:?}")))
    }
}

// ---- the data folder ----------------------------------------------------------------

/// Media under a folder: `objects/<key>` and `parts/<upload>/<number>`. Files are
/// written to a temporary name and renamed, so a listed part or object is complete. A
/// stored file and its name are fsynced before the call returns (and so before the write
/// is acknowledged), so a power cut keeps it (docs/adr/0016).
pub struct FolderStorage {
    root: PathBuf,
    /// Files are refused while only the database's reserve is left.
    disk: crate::disk::Disk,
}

impl FolderStorage {
    pub fn new(root: PathBuf, disk: crate::disk::Disk) -> Result<FolderStorage> {
        for sub in ["objects", "parts", "tmp"] {
            create_dir_all_durably(&root.join(sub))
                .map_err(|e| Error::DataDir { path: root.join(sub), message: format!("cannot be created: {e}") })?;
        }
        Ok(FolderStorage { root, disk })
    }

    fn object_path(&self, key: &str) -> Result<PathBuf> {
        Ok(self.root.join("objects").join(checked_key(key)?))
    }

    fn upload_dir(&self, upload: &str) -> Result<PathBuf> {
        Ok(self.root.join("parts").join(checked_key(upload)?))
    }

    fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(crate::time::new_id())
    }

    /// Moves a finished (fsynced) temporary file into place, creating parent folders, and
    /// fsyncs the folder it lands in, so its name survives a power cut too.
    async fn place(&self, temp: &Path, target: &Path) -> Result<()> {
        let (temp, target) = (temp.to_path_buf(), target.to_path_buf());
        tokio::task::spawn_blocking(move || {
            let parent = target.parent().unwrap_or(Path::new("."));
            create_dir_all_durably(parent).map_err(|e| io_error("create a folder", e))?;
            std::fs::rename(&temp, &target).map_err(|e| io_error("move a file into place", e))?;
            sync_folder(parent).map_err(|e| io_error("sync a folder", e))
        })
        .await
        .map_err(|e| Error::internal("media storage task", e))?
    }
}

#[async_trait]
impl Storage for FolderStorage {
    fn kind(&self) -> &'static str {
        "filesystem"
    }

    async fn begin_upload(&self, _key: &str, _content_type: &str) -> Result<String> {
        let upload = crate::time::new_id();
        // Durably: an upload resumed after a power cut must find its folder.
        let dir = self.upload_dir(&upload)?;
        tokio::task::spawn_blocking(move || create_dir_all_durably(&dir))
            .await
            .map_err(|e| Error::internal("media storage task", e))?
            .map_err(|e| io_error("create a folder", e))?;
        Ok(upload)
    }

    async fn presign_part(&self, _key: &str, _upload: &str, _number: u32, _ttl: Duration) -> Result<Option<String>> {
        Ok(None)
    }

    async fn write_part(
        &self,
        upload: &str,
        number: u32,
        size: u64,
        body: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<StoredPart> {
        let dir = self.upload_dir(upload)?;
        if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            return Err(Error::NotFound { what: "upload" });
        }
        self.disk.make_room("upload part", size)?;
        let temp = self.temp_path();
        let result = async {
            let mut file = tokio::fs::File::create(&temp).await.map_err(|e| io_error("create a part", e))?;
            // One byte more than allowed tells an oversized part from an exact one.
            let copied = tokio::io::copy(&mut body.take(size + 1), &mut file).await.map_err(|e| {
                if crate::disk::is_full(&e) {
                    io_error("write a part", e)
                } else {
                    Error::invalid("body", &format!("the upload was interrupted: {e}"))
                }
            })?;
            if copied != size {
                return Err(Error::invalid(
                    "body",
                    &format!(
                        "part {number} must be exactly {size} bytes (received {copied}{})",
                        if copied > size { " or more" } else { "" }
                    ),
                ));
            }
            file.sync_all().await.map_err(|e| io_error("write a part", e))?;
            self.place(&temp, &dir.join(format!("{number:05}"))).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result?;
        Ok(StoredPart { number, size, etag: String::new() })
    }

    async fn parts(&self, _key: &str, upload: &str) -> Result<Vec<StoredPart>> {
        let mut found = Vec::new();
        let mut entries = match tokio::fs::read_dir(self.upload_dir(upload)?).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(io_error("list parts", e)),
        };
        while let Some(entry) = entries.next_entry().await.map_err(|e| io_error("list parts", e))? {
            let Some(number) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let size = entry.metadata().await.map_err(|e| io_error("list parts", e))?.len();
            found.push(StoredPart { number, size, etag: String::new() });
        }
        found.sort_by_key(|p| p.number);
        Ok(found)
    }

    async fn finish_upload(&self, key: &str, upload: &str, parts: &[StoredPart]) -> Result<()> {
        let dir = self.upload_dir(upload)?;
        self.disk.make_room("upload", parts.iter().map(|p| p.size).sum())?;
        let temp = self.temp_path();
        let result = async {
            let mut out = tokio::fs::File::create(&temp).await.map_err(|e| io_error("create an object", e))?;
            for part in parts {
                let mut input = tokio::fs::File::open(dir.join(format!("{:05}", part.number)))
                    .await
                    .map_err(|e| io_error("open a part", e))?;
                tokio::io::copy(&mut input, &mut out).await.map_err(|e| io_error("join parts", e))?;
            }
            out.sync_all().await.map_err(|e| io_error("write an object", e))?;
            self.place(&temp, &self.object_path(key)?).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
            return result;
        }
        let _ = tokio::fs::remove_dir_all(&dir).await;
        Ok(())
    }

    async fn abort_upload(&self, _key: &str, upload: &str) -> Result<()> {
        match tokio::fs::remove_dir_all(self.upload_dir(upload)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("remove an upload", e)),
        }
    }

    async fn put_file(&self, key: &str, path: &Path, _content_type: &str) -> Result<()> {
        let size = tokio::fs::metadata(path).await.map_err(|e| io_error("store a file", e))?.len();
        self.disk.make_room("media file", size)?;
        let temp = self.temp_path();
        tokio::fs::copy(path, &temp).await.map_err(|e| io_error("store a file", e))?;
        let synced = async { tokio::fs::File::open(&temp).await?.sync_all().await }.await;
        if let Err(e) = synced {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error("store a file", e));
        }
        let placed = self.place(&temp, &self.object_path(key)?).await;
        if placed.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        placed
    }

    async fn read(&self, key: &str, range: Option<ByteRange>) -> Result<Object> {
        let path = self.object_path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotFound { what: "media file" }),
            Err(e) => return Err(io_error("open an object", e)),
        };
        let total = file.metadata().await.map_err(|e| io_error("open an object", e))?.len();
        let body: ByteStream = match range {
            Some(r) => {
                file.seek(std::io::SeekFrom::Start(r.start)).await.map_err(|e| io_error("seek", e))?;
                Box::pin(tokio_util::io::ReaderStream::new(file.take(r.end - r.start + 1)))
            }
            None => Box::pin(tokio_util::io::ReaderStream::new(file)),
        };
        Ok(Object { total, range, body })
    }

    async fn fetch_to_file(&self, key: &str, path: &Path) -> Result<u64> {
        let source = self.object_path(key)?;
        match tokio::fs::copy(&source, path).await {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound { what: "media file" }),
            Err(e) => Err(io_error("copy an object", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.object_path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete an object", e)),
        }
    }
}

/// Makes the names in `dir` durable: a file created, renamed or removed in it reaches the
/// disk with an fsync of the folder, not of the file (fsync(2)). A file system that cannot
/// sync a folder (EINVAL) is taken at its word.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    match std::fs::File::open(dir)?.sync_all() {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// `create_dir_all`, then an fsync of the folder above each folder it created.
fn create_dir_all_durably(dir: &Path) -> std::io::Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.exists()).collect();
    std::fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        sync_folder(created.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

// ---- S3 -----------------------------------------------------------------------------

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub force_path_style: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Media in an S3-compatible bucket (AWS, MinIO, Garage, Ceph…).
pub struct S3Storage {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// A failed S3 call: 503 when the store may answer later (no connection, a timeout, a
/// garbled answer, its own 5xx or throttling); otherwise a fault for an administrator
/// (refused credentials, a missing bucket), which no retry mends.
fn s3_error<E: std::error::Error + Send + Sync + 'static>(
    what: &str,
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Error {
    use aws_sdk_s3::error::SdkError;
    let passing = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            status.is_server_error() || status.as_u16() == 429
        }
        _ => false,
    };
    let err = aws_sdk_s3::error::DisplayErrorContext(err).to_string();
    if passing {
        Error::Unavailable(format!("media storage (S3): cannot {what}: {err}"))
    } else {
        Error::internal(format!("media storage (S3): cannot {what}"), err)
    }
}

/// A failure around an S3 call that is not the store's answer (a bad signing setting).
fn s3_fault(what: &str, err: impl Into<crate::error::BoxError>) -> Error {
    Error::internal(format!("media storage (S3): cannot {what}"), err)
}

/// S3's answer for an upload that was completed or aborted already (or never began).
fn is_no_such_upload<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> bool {
    err.as_service_error().and_then(|s| s.code()) == Some("NoSuchUpload")
}

impl S3Storage {
    pub fn new(settings: S3Settings) -> S3Storage {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
        let http =
            aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region))
            .force_path_style(settings.force_path_style)
            .http_client(http);
        if let Some(endpoint) = settings.endpoint {
            config = config.endpoint_url(endpoint.trim_end_matches('/'));
        }
        if let (Some(id), Some(secret)) = (settings.access_key_id, settings.secret_access_key) {
            config = config.credentials_provider(Credentials::new(id, secret, None, None, "heirloom-config"));
        }
        S3Storage { client: aws_sdk_s3::Client::from_conf(config.build()), bucket: settings.bucket }
    }
}

#[async_trait]
impl Storage for S3Storage {
    fn kind(&self) -> &'static str {
        "s3"
    }

    async fn begin_upload(&self, key: &str, content_type: &str) -> Result<String> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| s3_error("start an upload", e))?;
        created.upload_id.ok_or_else(|| s3_fault("start an upload", "no upload id in the answer"))
    }

    async fn presign_part(&self, key: &str, upload: &str, number: u32, ttl: Duration) -> Result<Option<String>> {
        let presigning =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(ttl).map_err(|e| s3_fault("sign a URL", e))?;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .upload_id(upload)
            .part_number(number as i32)
            .presigned(presigning)
            .await
            .map_err(|e| s3_error("sign a URL", e))?;
        Ok(Some(request.uri().to_string()))
    }

    async fn write_part(
        &self,
        _upload: &str,
        _number: u32,
        _size: u64,
        _body: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<StoredPart> {
        // Parts go to the bucket through presigned URLs; this endpoint is not theirs.
        Err(Error::NotFound { what: "upload" })
    }

    async fn parts(&self, key: &str, upload: &str) -> Result<Vec<StoredPart>> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_parts()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .upload_id(upload)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    if is_no_such_upload(&e) {
                        return Ok(Vec::new());
                    }
                    return Err(s3_error("list parts", e));
                }
            };
            for part in page.parts() {
                found.push(StoredPart {
                    number: part.part_number().unwrap_or_default().max(0) as u32,
                    size: part.size().unwrap_or_default().max(0) as u64,
                    etag: part.e_tag().unwrap_or_default().to_string(),
                });
            }
        }
        found.sort_by_key(|p| p.number);
        Ok(found)
    }

    async fn finish_upload(&self, key: &str, upload: &str, parts: &[StoredPart]) -> Result<()> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|p| CompletedPart::builder().part_number(p.number as i32).e_tag(&p.etag).build())
                    .collect(),
            ))
            .build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .upload_id(upload)
            .multipart_upload(completed)
            .send()
            .await
            .map_err(|e| s3_error("complete an upload", e))?;
        Ok(())
    }

    async fn abort_upload(&self, key: &str, upload: &str) -> Result<()> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .upload_id(upload)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                if is_no_such_upload(&e) {
                    Ok(())
                } else {
                    Err(s3_error("abort an upload", e))
                }
            }
        }
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<()> {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await.map_err(|e| s3_fault("read a file", e))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| s3_error("store a file", e))?;
        Ok(())
    }

    async fn read(&self, key: &str, range: Option<ByteRange>) -> Result<Object> {
        let mut request = self.client.get_object().bucket(&self.bucket).key(checked_key(key)?);
        if let Some(r) = range {
            request = request.range(format!("bytes={}-{}", r.start, r.end));
        }
        let object = match request.send().await {
            Ok(object) => object,
            Err(e) => {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    return Err(Error::NotFound { what: "media file" });
                }
                return Err(s3_error("read an object", e));
            }
        };
        let length = object.content_length().unwrap_or_default().max(0) as u64;
        let total = match (range, object.content_range()) {
            // "bytes 0-99/1234"
            (Some(_), Some(content_range)) => {
                content_range.rsplit('/').next().and_then(|t| t.parse().ok()).unwrap_or(length)
            }
            _ => length,
        };
        let body = object.body.into_async_read();
        let body: ByteStream = Box::pin(tokio_util::io::ReaderStream::new(body).map_err(std::io::Error::other));
        Ok(Object { total, range, body })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(checked_key(key)?)
            .send()
            .await
            .map_err(|e| s3_error("delete an object", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_the_root() {
        assert!(checked_key("originals/0190-abc").is_ok());
        assert!(checked_key("variants/x/thumb-320").is_ok());
        for bad in ["", "../etc/passwd", "a//b", "a/./b", "/abs", "a/b c", "a\\b"] {
            assert!(checked_key(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn range_headers_resolve_against_the_size() {
        let r = |h: &str| ByteRange::from_header(h, 100);
        assert_eq!(r("bytes=0-9"), Some(Ok(ByteRange { start: 0, end: 9 })));
        assert_eq!(r("bytes=90-"), Some(Ok(ByteRange { start: 90, end: 99 })));
        assert_eq!(r("bytes=90-500"), Some(Ok(ByteRange { start: 90, end: 99 })));
        assert_eq!(r("bytes=-10"), Some(Ok(ByteRange { start: 90, end: 99 })));
        assert_eq!(r("bytes=-500"), Some(Ok(ByteRange { start: 0, end: 99 })));
        assert_eq!(r("bytes=100-"), Some(Err(())));
        assert_eq!(r("bytes=5-1"), Some(Err(())));
        assert_eq!(r("bytes=0-1,5-6"), None);
        assert_eq!(r("items=0-1"), None);
        assert_eq!(r("bytes=x-1"), None);
    }

    #[tokio::test]
    async fn folder_parts_join_in_order_and_ranges_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FolderStorage::new(dir.path().to_path_buf(), crate::disk::Disk::new(dir.path(), 0)).unwrap();
        let upload = storage.begin_upload("originals/m1", "image/png").await.unwrap();
        // Sent out of order, as a resumed upload may.
        storage.write_part(&upload, 2, 3, &mut &b"def"[..]).await.unwrap();
        storage.write_part(&upload, 1, 3, &mut &b"abc"[..]).await.unwrap();
        let short = storage.write_part(&upload, 3, 3, &mut &b"gh"[..]).await;
        assert!(matches!(short, Err(Error::Invalid(_))), "a short part is refused");
        let long = storage.write_part(&upload, 3, 3, &mut &b"ghij"[..]).await;
        assert!(matches!(long, Err(Error::Invalid(_))), "a long part is refused");
        let parts = storage.parts("originals/m1", &upload).await.unwrap();
        assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), vec![1, 2]);
        storage.finish_upload("originals/m1", &upload, &parts).await.unwrap();
        let whole = storage.read("originals/m1", None).await.unwrap();
        assert_eq!(whole.total, 6);
        let bytes: Vec<u8> = whole.body.try_collect::<Vec<_>>().await.unwrap().concat();
        assert_eq!(bytes, b"abcdef");
        let ranged = storage.read("originals/m1", Some(ByteRange { start: 2, end: 4 })).await.unwrap();
        let bytes: Vec<u8> = ranged.body.try_collect::<Vec<_>>().await.unwrap().concat();
        assert_eq!(bytes, b"cde");
        assert!(storage.parts("originals/m1", &upload).await.unwrap().is_empty(), "parts are cleaned up");
        storage.delete("originals/m1").await.unwrap();
        assert!(matches!(storage.read("originals/m1", None).await, Err(Error::NotFound { .. })));
        storage.delete("originals/m1").await.unwrap();
    }
}
