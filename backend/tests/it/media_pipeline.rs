//! The media processing pipeline on SQLite and PostgreSQL, with files uploaded through
//! the real service (signed part URLs, verified completion) and handed to the consumer
//! as the event bus would: content sniffing, the virus scan against a real clamd loaded
//! with an EICAR signature, metadata and location stripping, WebP thumbnails, ffmpeg
//! posters and transcodes (and their absence), retries, and one bad file never blocking
//! the next.
//!
//! clamd and ffmpeg come from Debian (`scripts/test-tools.sh` installs them). Without
//! them the tests that need them say so and skip on a developer machine; with `CI=true`
//! they fail.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use backend::db::{with_pool, Db};
use backend::db_test;
use backend::events::dispatch::Lane;
use backend::events::{consumer, outbox, Consumer, Delivered, RetryPolicy};
use backend::identity::{repo as users, NewUser, Role, User};
use backend::media::model::{self, MediaRow};
use backend::media::pipeline::{ClamdAddress, MediaPipeline, Settings};
use backend::media::signing::UrlSigner;
use backend::media::{FolderStorage, Media, MediaLimits, Signature};
use backend::people::graph::Limits;
use backend::people::People;
use backend::stories::Stories;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use types::events::Envelope;
use types::{
    LegacyId, LegacyInput, MediaId, MediaState, PersonInput, PersonView, ScanStatus, StoryId, StoryInput, UploadRequest,
};

const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

// ---- the world a test runs in ------------------------------------------------------

/// The media capability storing its files under `dir`.
pub(crate) fn media_in(db: &Db, dir: &Path) -> Arc<Media> {
    let storage = Arc::new(FolderStorage::new(dir.join("media"), backend::disk::Disk::new(dir, 0)).unwrap());
    let limits = MediaLimits {
        max_bytes: 200 * 1024 * 1024,
        allowed_types: backend::config::DEFAULT_MEDIA_TYPES.iter().map(|t| t.to_string()).collect(),
        user_quota_bytes: 1024 * 1024 * 1024,
        instance_quota_bytes: None,
        // Small parts, so uploads here are sent in several.
        part_size_bytes: 64 * 1024,
        url_ttl: Duration::from_secs(3600),
        upload_expiry: Duration::from_secs(24 * 3600),
    };
    Arc::new(Media::new(db.clone(), storage, UrlSigner::new([7; 32], 3600), limits))
}

struct World {
    media: Arc<Media>,
    user: User,
    legacy_id: LegacyId,
    dir: tempfile::TempDir,
}

impl World {
    async fn new(db: &Db) -> World {
        let dir = tempfile::tempdir().unwrap();
        let media = media_in(db, dir.path());
        let user = users::insert(db, &NewUser::new("ada@example.org", "Ada", Role::Member).unwrap()).await.unwrap();
        let legacy_input =
            LegacyInput { name: "Rosa".into(), born: "1931".into(), died: "2019".into(), summary: "".into() };
        let legacy = Stories::new(db.clone()).create_legacy(&user, &legacy_input, None).await.unwrap();
        World { media, user, legacy_id: legacy.id, dir }
    }

    /// The people of the world's legacy (relationship walks limited as the defaults are).
    fn people(&self, db: &Db) -> People {
        let limits = Limits { max_depth: 24, max_visited: 10_000 };
        People::new(db.clone(), Arc::new(Stories::new(db.clone())), limits)
    }

    /// A person of the world's legacy as a form gives it; `birth` may be empty.
    fn person_input(&self, (given, surname): (&str, &str), birth: &str, living: bool) -> PersonInput {
        PersonInput {
            legacy_id: self.legacy_id.clone(),
            given_names: given.into(),
            surname: surname.into(),
            birth_date: birth.into(),
            living: Some(if living { "on" } else { "off" }.into()),
            ..PersonInput::default()
        }
    }

    /// That person, added by the legacy's owner.
    async fn person(&self, people: &People, name: (&str, &str), birth: &str, living: bool) -> PersonView {
        people.create(&self.user, &self.person_input(name, birth, living)).await.unwrap()
    }

    fn settings(&self) -> Settings {
        Settings { clamd: None, ffmpeg: Some("ffmpeg".into()), strip_gps: true, work_dir: self.dir.path().join("work") }
    }

    fn pipeline(&self, settings: Settings) -> Arc<MediaPipeline> {
        Arc::new(MediaPipeline::new(self.media.clone(), settings))
    }

    /// Uploads `bytes` as the browser would: ask, send each part to its signed URL, complete.
    async fn upload(&self, file_name: &str, declared_type: &str, bytes: &[u8]) -> MediaId {
        self.upload_to(None, file_name, declared_type, bytes).await
    }

    /// [`World::upload`] to a story of the legacy (`None`: to the legacy itself).
    async fn upload_to(
        &self,
        story_id: Option<&StoryId>,
        file_name: &str,
        declared_type: &str,
        bytes: &[u8],
    ) -> MediaId {
        let request = UploadRequest {
            legacy_id: self.legacy_id.clone(),
            story_id: story_id.cloned(),
            file_name: file_name.into(),
            size: bytes.len() as u64,
            content_type: declared_type.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
        };
        let ticket = self.media.request_upload(&self.user, &request).await.unwrap();
        for part in &ticket.parts {
            let (expires, sig) = signed_query(&part.url);
            let mut chunk = &bytes[part.offset as usize..(part.offset + part.size) as usize];
            let signature = Signature { expires, sig: &sig };
            self.media.receive_part(&ticket.media_id, part.number, signature, &mut chunk).await.unwrap();
        }
        let view = self.media.complete_upload(&self.user, &ticket.media_id).await.unwrap();
        assert_eq!(view.state, MediaState::Pending);
        ticket.media_id
    }

    /// Uploads a file the pipeline must refuse and processes it; why it failed.
    async fn failure_of(&self, pipeline: &MediaPipeline, db: &Db, file: (&str, &str), bytes: &[u8]) -> String {
        let id = self.upload(file.0, file.1, bytes).await;
        process(pipeline, db, &id).await.unwrap();
        let row = self.row(&id).await;
        assert_eq!(row.state, MediaState::Failed, "{}", file.0);
        row.failure.expect("a failed item says why")
    }

    async fn row(&self, id: &MediaId) -> MediaRow {
        self.media.row(id).await.unwrap().expect("the media row")
    }

    /// The bytes a reader gets for `variant`.
    async fn served(&self, id: &MediaId, variant: &str) -> (String, Vec<u8>) {
        let served = self.media.open(Some(&self.user), id, variant, None).await.unwrap();
        let mut body = self.media.read(&served, None).await.unwrap().body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        (served.content_type, bytes)
    }

    async fn original_exists(&self, id: &MediaId) -> bool {
        self.media.storage().read(&model::original_key(id), None).await.is_ok()
    }
}

/// `exp` and `sig` of a part URL.
fn signed_query(url: &str) -> (i64, String) {
    let query = url.split_once('?').expect("a signed URL").1;
    let mut expires = None;
    let mut sig = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("exp", v)) => expires = v.parse().ok(),
            Some(("sig", v)) => sig = Some(v.to_string()),
            _ => {}
        }
    }
    (expires.expect("exp"), sig.expect("sig"))
}

/// The item's last event the pipeline listens to, as the bus would deliver it.
async fn pipeline_event(db: &Db, id: &MediaId) -> Envelope {
    outbox::events_for(db, "media", id)
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.event_type == "MediaUploaded" || e.event_type == "MediaRetryRequested")
        .expect("an upload event")
}

async fn event_types(db: &Db, id: &MediaId) -> Vec<String> {
    outbox::events_for(db, "media", id).await.unwrap().into_iter().map(|e| e.event_type.to_string()).collect()
}

async fn process(pipeline: &MediaPipeline, db: &Db, id: &MediaId) -> backend::Result<()> {
    pipeline.handle(&pipeline_event(db, id).await).await
}

fn quick() -> RetryPolicy {
    RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(1) }
}

// ---- test files -----------------------------------------------------------------------

/// A smooth picture, so JPEG keeps it small and any decoder reads it.
fn picture(width: u32, height: u32) -> image::RgbImage {
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, ((x + y) % 256) as u8])
    })
}

pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&picture(width, height)).unwrap();
    out
}

fn ascii(tag: exif::Tag, text: &str) -> exif::Field {
    exif::Field { tag, ifd_num: exif::In::PRIMARY, value: exif::Value::Ascii(vec![text.as_bytes().to_vec()]) }
}

fn rationals(tag: exif::Tag, values: &[(u32, u32)]) -> exif::Field {
    let value = exif::Value::Rational(values.iter().map(|&(num, denom)| exif::Rational { num, denom }).collect());
    exif::Field { tag, ifd_num: exif::In::PRIMARY, value }
}

/// A phone photo: EXIF with camera, date, orientation (turned 90°), a serial number and a
/// GPS position, plus an XMP packet that repeats the position.
fn phone_photo(width: u32, height: u32) -> Vec<u8> {
    use img_parts::ImageEXIF;
    let fields = vec![
        ascii(exif::Tag::Make, "Heirloom"),
        ascii(exif::Tag::Model, "Heirloom Test Camera"),
        exif::Field { tag: exif::Tag::Orientation, ifd_num: exif::In::PRIMARY, value: exif::Value::Short(vec![6]) },
        ascii(exif::Tag::DateTimeOriginal, "2019:07:14 10:23:45"),
        ascii(exif::Tag::OffsetTimeOriginal, "+02:00"),
        ascii(exif::Tag::BodySerialNumber, "SERIAL-4711"),
        ascii(exif::Tag::GPSLatitudeRef, "N"),
        rationals(exif::Tag::GPSLatitude, &[(52, 1), (31, 1), (1234, 100)]),
        ascii(exif::Tag::GPSLongitudeRef, "E"),
        rationals(exif::Tag::GPSLongitude, &[(13, 1), (24, 1), (5678, 100)]),
    ];
    let mut writer = exif::experimental::Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut exif_bytes = Cursor::new(Vec::new());
    writer.write(&mut exif_bytes, false).unwrap();
    let mut photo = img_parts::jpeg::Jpeg::from_bytes(jpeg(width, height).into()).unwrap();
    photo.set_exif(Some(exif_bytes.into_inner().into()));
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
        xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description \
        xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='52,31.2N' exif:GPSLongitude='13,24.9E'/>\
        </rdf:RDF></x:xmpmeta>";
    let segment =
        img_parts::jpeg::JpegSegment::new_with_contents(img_parts::jpeg::markers::APP1, bytes::Bytes::from_static(xmp));
    photo.segments_mut().insert(1, segment);
    let mut out = Vec::new();
    photo.encoder().write_to(&mut out).unwrap();
    out
}

/// JPEG magic bytes and header, then noise.
fn corrupt_jpeg() -> Vec<u8> {
    let mut bytes = jpeg(64, 64)[..20].to_vec();
    let mut x = 0x2545_f491u32;
    bytes.extend((0..20_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    bytes
}

/// A Windows program (DOS stub and PE header), as a mail attachment renamed `.jpg`.
fn windows_program() -> Vec<u8> {
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(0x80, 0);
    exe[0x3c] = 0x80;
    exe.extend_from_slice(b"PE\0\0\x4c\x01\x03\x00");
    exe.extend_from_slice(b"This program cannot be run in DOS mode.");
    exe.resize(4096, 0x90);
    exe
}

fn is_webp(bytes: &[u8]) -> bool {
    bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP"
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---- tools from Debian ------------------------------------------------------------------

/// Whether a test may use `program`; on a developer machine without it, says why not.
fn tool(program: &str, package: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
        || Path::new(program).is_file();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but {program} is missing: install Debian's {package} (scripts/test-tools.sh does)");
        }
        eprintln!("skipping: {program} is not installed (apt-get install {package})");
    }
    found
}

/// Runs ffmpeg to make a test file.
fn ffmpeg(args: &[&str], out: &Path) -> Vec<u8> {
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(args)
        .arg("-y")
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {}", out.display());
    std::fs::read(out).unwrap()
}

/// A clamd of its own, on a free loopback port, whose only signature is EICAR (the real
/// signature downloads are not reachable, and clamd refuses to start without any).
struct Clamd {
    child: std::process::Child,
    address: ClamdAddress,
    _dir: tempfile::TempDir,
}

const CLAMD: &str = "/usr/sbin/clamd";

impl Clamd {
    async fn start() -> Option<Clamd> {
        if !tool(CLAMD, "clamav-daemon") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        std::fs::write(db.join("heirloom-test.ndb"), format!("Heirloom.Test.EICAR:0:*:{}\n", hex::encode(EICAR)))
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.path().join("clamd.conf");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\nTemporaryDirectory {}\n\
                 LogFile {}\nPidFile {}\n",
                db.display(),
                dir.path().display(),
                dir.path().join("clamd.log").display(),
                dir.path().join("clamd.pid").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new(CLAMD)
            .arg("-c")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start clamd");
        let clamd = Clamd { child, address: ClamdAddress::Tcp(format!("127.0.0.1:{port}")), _dir: dir };
        // It listens once its signatures are loaded.
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(clamd);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(clamd._dir.path().join("clamd.log")).unwrap_or_default();
        panic!("clamd did not start within 30 s:\n{log}");
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An address where nothing listens.
fn dead_clamd() -> ClamdAddress {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    ClamdAddress::Tcp(format!("127.0.0.1:{port}"))
}

// ---- the tests ----------------------------------------------------------------------------

db_test!(a_program_renamed_jpg_is_rejected_and_its_bytes_deleted, |db| {
    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let id = world.upload("holiday.jpg", "image/jpeg", &windows_program()).await;
    assert!(world.original_exists(&id).await);

    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Rejected);
    let failure = row.failure.clone().unwrap();
    assert!(failure.starts_with("This file is a Windows program (") && failure.ends_with("not a photo."), "{failure}");
    assert_eq!(row.scan, ScanStatus::NotScanned);
    assert_eq!(row.kind, None);
    assert_eq!(row.variants(), vec![]);
    assert_eq!(row.attempts, 1);
    assert!(!world.original_exists(&id).await, "a rejected original must be deleted");
    assert!(world.media.open(Some(&world.user), &id, "original", None).await.is_err());
    assert_eq!(event_types(db, &id).await, ["MediaUploaded", "MediaFailed"]);
    let failed = outbox::events_for(db, "media", &id).await.unwrap().pop().unwrap();
    assert_eq!(failed.payload["state"], "rejected");
    assert_eq!(failed.payload["legacy_id"], world.legacy_id.as_str());

    // HEIC, as iPhones take them, declared as a JPEG: refused with advice.
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.resize(2048, 0);
    let id = world.upload("IMG_0001.jpg", "image/jpeg", &heic).await;
    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Rejected);
    assert!(row.failure.as_deref().unwrap().contains("export it as JPEG"), "{:?}", row.failure);

    // Handling the event again changes nothing (it is done with).
    process(&pipeline, db, &id).await.unwrap();
    assert_eq!(world.row(&id).await.attempts, 1);
    assert_eq!(event_types(db, &id).await, ["MediaUploaded", "MediaFailed"]);
});

db_test!(eicar_is_refused_by_the_virus_scanner, |db| {
    let Some(clamd) = Clamd::start().await else { return };
    let world = World::new(db).await;
    let pipeline = world.pipeline(Settings { clamd: Some(clamd.address.clone()), ..world.settings() });

    // The test virus as a "photo", and inside a real JPEG (scanned before sniffing, so
    // the scan's verdict is what counts either way).
    let id = world.upload("eicar.jpg", "image/jpeg", EICAR.as_bytes()).await;
    let mut wrapped = jpeg(32, 32);
    wrapped.extend_from_slice(EICAR.as_bytes());
    let wrapped_id = world.upload("wrapped.jpg", "image/jpeg", &wrapped).await;
    let clean_id = world.upload("clean.jpg", "image/jpeg", &jpeg(400, 300)).await;
    for id in [&id, &wrapped_id, &clean_id] {
        process(&pipeline, db, id).await.unwrap();
    }
    for id in [&id, &wrapped_id] {
        let row = world.row(id).await;
        assert_eq!(row.state, MediaState::Rejected);
        assert_eq!(row.scan, ScanStatus::Infected);
        let failure = row.failure.unwrap();
        assert!(failure.contains("Heirloom.Test.EICAR") && failure.contains("virus scanner"), "{failure}");
        assert!(!world.original_exists(id).await);
    }
    let clean = world.row(&clean_id).await;
    assert_eq!(clean.state, MediaState::Ready, "{:?}", clean.failure);
    assert_eq!(clean.scan, ScanStatus::Clean);
    drop(clamd);
});

db_test!(a_phone_photo_is_served_without_its_location, |db| {
    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let original = phone_photo(1200, 800);
    let id = world.upload("beach.jpg", "image/jpeg", &original).await;
    process(&pipeline, db, &id).await.unwrap();

    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
    assert_eq!(row.detected_type.as_deref(), Some("image/jpeg"));
    assert_eq!(row.scan, ScanStatus::NotScanned);
    let meta = row.meta();
    // Turned by its orientation: 1200 × 800 stored, 800 × 1200 shown.
    assert_eq!((meta.width, meta.height), (Some(800), Some(1200)));
    assert_eq!(meta.taken_at.as_deref(), Some("2019-07-14T10:23:45+02:00"));
    assert_eq!(meta.camera.as_deref(), Some("Heirloom Test Camera"));
    assert!(meta.had_gps);
    assert_eq!(event_types(db, &id).await, ["MediaUploaded", "MediaProcessed"]);

    // The served original: same image data, no location, no serial number, still turned.
    let (content_type, served) = world.served(&id, "original").await;
    assert_eq!(content_type, "image/jpeg");
    assert_ne!(served, original);
    assert!(find(&served, b"GPSLatitude").is_none(), "the XMP location must be gone");
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(&served)).unwrap();
    assert!(exif.fields().all(|f| f.tag.context() != exif::Context::Gps), "no GPS field may remain");
    assert!(exif.get_field(exif::Tag::BodySerialNumber, exif::In::PRIMARY).is_none());
    assert_eq!(exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).unwrap().value.get_uint(0), Some(6));
    assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_some());
    let pixels = |bytes: &[u8]| image::load_from_memory(bytes).unwrap().to_rgb8().into_raw();
    assert!(pixels(&served) == pixels(&original), "the image data must not be re-encoded");
    let original_scan = find(&original, &[0xFF, 0xDA]).unwrap();
    let served_scan = find(&served, &[0xFF, 0xDA]).unwrap();
    assert_eq!(served[served_scan..], original[original_scan..]);

    // WebP thumbnails at the widths that fit (960 ≤ 800? no: 320 only, and never upscaled).
    let names: Vec<String> = row.variants().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["original", "thumb-320"]);
    let (content_type, thumb) = world.served(&id, "thumb-320").await;
    assert_eq!(content_type, "image/webp");
    assert!(is_webp(&thumb));
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 480), "turned as the camera said");
    let recorded = row.variants().into_iter().find(|v| v.name == "thumb-320").unwrap();
    assert_eq!((recorded.width, recorded.height, recorded.bytes), (Some(320), Some(480), thumb.len() as u64));

    // A large photo without location: every size, and the original served as uploaded.
    let big = jpeg(2400, 1200);
    let id = world.upload("panorama.jpg", "image/jpeg", &big).await;
    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
    assert!(!row.meta().had_gps);
    let sizes: Vec<(String, Option<u32>, Option<u32>)> =
        row.variants().into_iter().map(|v| (v.name, v.width, v.height)).collect();
    assert_eq!(
        sizes,
        [
            ("thumb-320".to_string(), Some(320), Some(160)),
            ("thumb-960".to_string(), Some(960), Some(480)),
            ("thumb-1920".to_string(), Some(1920), Some(960))
        ]
    );
    for name in ["thumb-320", "thumb-960", "thumb-1920"] {
        let (_, bytes) = world.served(&id, name).await;
        assert!(is_webp(&bytes), "{name} is a WebP");
    }
    assert_eq!(world.served(&id, "original").await.1, big);

    // With stripping turned off, the located photo is served as uploaded.
    let keep = world.pipeline(Settings { strip_gps: false, ..world.settings() });
    let id = world.upload("kept.jpg", "image/jpeg", &original).await;
    process(&keep, db, &id).await.unwrap();
    assert!(world.row(&id).await.meta().had_gps);
    assert_eq!(world.served(&id, "original").await.1, original);
});

db_test!(one_corrupt_image_does_not_block_the_next, |db| {
    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let corrupt = world.upload("broken.jpg", "image/jpeg", &corrupt_jpeg()).await;
    let good = world.upload("good.jpg", "image/jpeg", &jpeg(1000, 750)).await;

    // Delivered by the pipeline's own lane of the real dispatcher, in upload order.
    let lane = Lane::new(db.clone(), pipeline.clone() as Arc<dyn Consumer>, quick());
    assert_eq!(lane.drain().await.unwrap(), 2);
    assert_eq!(lane.drain().await.unwrap(), 0, "the lane's progress is its processed records");

    let row = world.row(&corrupt).await;
    assert_eq!(row.state, MediaState::Failed);
    let failure = row.failure.unwrap();
    assert!(failure.starts_with("This image"), "{failure}");
    assert_eq!(row.detected_type.as_deref(), Some("image/jpeg"));
    assert!(world.original_exists(&corrupt).await, "a failed original is kept for a retry");
    let good_row = world.row(&good).await;
    assert_eq!(good_row.state, MediaState::Ready, "{:?}", good_row.failure);
    let names: Vec<String> = good_row.variants().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["thumb-320", "thumb-960"]);
    assert!(consumer::dead_letters(db).await.unwrap().is_empty());

    // A decompression bomb (a header claiming 2.5 gigapixels) fails at once, cleanly.
    let bomb = backend::testing::png_claiming(50_000, 50_000);
    let failure = world.failure_of(&pipeline, db, ("bomb.png", "image/png"), &bomb).await;
    assert!(failure.contains("2500 megapixels"), "{failure}");
});

db_test!(a_deleted_story_takes_its_media_and_their_files_with_it, |db| {
    let world = World::new(db).await;
    let stories = Stories::new(db.clone());
    let input = StoryInput {
        legacy_id: world.legacy_id.clone(),
        title: "The garden".into(),
        body: "Roses.".into(),
        visibility: Some("private".into()),
        status: Some("published".into()),
        ..Default::default()
    };
    let story = stories.create_story(&world.user, &input, None).await.unwrap();
    let photo = world.upload_to(Some(&story.id), "roses.jpg", "image/jpeg", &jpeg(400, 300)).await;
    process(&world.pipeline(world.settings()), db, &photo).await.unwrap();
    let variants: Vec<String> = world.row(&photo).await.variants().into_iter().map(|v| v.name).collect();
    assert!(!variants.is_empty());
    // An upload to the story that was never finished: its parts are held by the storage.
    let bytes = jpeg(64, 64);
    let request = UploadRequest {
        legacy_id: world.legacy_id.clone(),
        story_id: Some(story.id.clone()),
        file_name: "half.jpg".into(),
        size: bytes.len() as u64,
        content_type: "image/jpeg".into(),
        sha256: hex::encode(Sha256::digest(&bytes)),
    };
    let ticket = world.media.request_upload(&world.user, &request).await.unwrap();
    let part = &ticket.parts[0];
    let (expires, sig) = signed_query(&part.url);
    let mut chunk = &bytes[..part.size as usize];
    world.media.receive_part(&ticket.media_id, 1, Signature { expires, sig: &sig }, &mut chunk).await.unwrap();
    let half = ticket.media_id;
    let upload_id = world.row(&half).await.upload_id;
    let held = || async { world.media.storage().parts(&model::original_key(&half), &upload_id).await.unwrap().len() };
    assert_eq!(held().await, 1);
    let kept = world.upload("legacy.jpg", "image/jpeg", &jpeg(64, 64)).await;

    // The story cannot be deleted from under its media (the old foreign key made them
    // the legacy's, readable by every member).
    let bare = with_pool!(db, |pool| {
        sqlx::query("DELETE FROM stories WHERE id = $1").bind(&story.id).execute(pool).await.map(|_| ())
    });
    assert!(bare.is_err(), "a story with media is not deleted on its own");

    stories.delete_story(&world.user, &story.id).await.unwrap();
    assert!(world.media.row(&photo).await.unwrap().is_none() && world.media.row(&half).await.unwrap().is_none());
    assert!(world.media.row(&kept).await.unwrap().is_some(), "the legacy's own media stay");
    let story_events = outbox::events_for(db, "story", &story.id).await.unwrap();
    assert_eq!(story_events.last().unwrap().payload["media_deleted"], 2);

    // The files go after the commit, through the consumer of MediaDeleted (twice is fine).
    assert!(world.original_exists(&photo).await);
    let files = backend::media::files_consumer(world.media.clone());
    for id in [&photo, &half] {
        let deleted = outbox::events_for(db, "media", id).await.unwrap().into_iter().last().unwrap();
        assert_eq!(deleted.event_type, "MediaDeleted");
        assert_eq!(deleted.actor.as_deref(), Some(world.user.id.as_str()));
        files.handle(&deleted).await.unwrap();
        files.handle(&deleted).await.unwrap();
    }
    assert!(!world.original_exists(&photo).await);
    for name in &variants {
        assert!(world.media.storage().read(&model::variant_key(&photo, name), None).await.is_err(), "{name}");
    }
    assert_eq!(held().await, 0, "the unfinished upload's parts are gone");
});

db_test!(a_failed_item_is_retried_and_a_transient_failure_is_retried_by_the_bus, |db| {
    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let id = world.upload("broken.jpg", "image/jpeg", &corrupt_jpeg()).await;
    process(&pipeline, db, &id).await.unwrap();
    assert_eq!(world.row(&id).await.state, MediaState::Failed);

    // The retry button: pending again, and processed again (still corrupt).
    let view = world.media.retry(&world.user, &id).await.unwrap();
    assert_eq!(view.state, MediaState::Pending);
    assert_eq!(view.failure, None);
    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Failed);
    assert_eq!(row.attempts, 2);
    assert_eq!(event_types(db, &id).await, ["MediaUploaded", "MediaFailed", "MediaRetryRequested", "MediaFailed"]);

    // clamd configured but down: an error for the bus to retry, the item stays claimed.
    let down = world.pipeline(Settings { clamd: Some(dead_clamd()), ..world.settings() });
    let id = world.upload("later.jpg", "image/jpeg", &jpeg(400, 300)).await;
    let err = process(&down, db, &id).await.unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
    let row = world.row(&id).await;
    assert_eq!((row.state, row.failure.clone()), (MediaState::Processing, None));
    let event = pipeline_event(db, &id).await;
    assert_eq!(consumer::deliver(db, down.as_ref(), &event, quick()).await.unwrap(), Delivered::Parked);
    assert_eq!(consumer::dead_letters(db).await.unwrap().len(), 1);

    // Once the scanner is back (here: not configured), the parked event goes through.
    let back = world.pipeline(world.settings());
    let event =
        consumer::take_dead_letter(db, backend::media::pipeline::CONSUMER_NAME, &event.message_id).await.unwrap();
    assert_eq!(consumer::deliver(db, back.as_ref(), &event, quick()).await.unwrap(), Delivered::Handled);
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
    // Claimed once by the first try, twice by the bus's retries, once now.
    assert_eq!(row.attempts, 4);
    // A redelivery is skipped by the bus, and would change nothing anyway.
    assert_eq!(consumer::deliver(db, back.as_ref(), &event, quick()).await.unwrap(), Delivered::AlreadyProcessed);
    back.handle(&event).await.unwrap();
    assert_eq!(world.row(&id).await.attempts, 4);
    assert_eq!(event_types(db, &id).await, ["MediaUploaded", "MediaProcessed"]);
    // Only a failed item can be retried.
    assert!(world.media.retry(&world.user, &id).await.is_err());
});

db_test!(videos_and_recordings_get_posters_and_web_versions, |db| {
    if !tool("ffmpeg", "ffmpeg") {
        return;
    }
    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let scratch = tempfile::tempdir().unwrap();
    let clip = ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=320x240:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-shortest",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            "-c:a",
            "aac",
        ],
        &scratch.path().join("clip.mp4"),
    );
    let id = world.upload("clip.mp4", "video/mp4", &clip).await;
    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
    assert_eq!(row.kind.map(|k| k.as_str()), Some("video"));
    let meta = row.meta();
    assert_eq!((meta.width, meta.height), (Some(320), Some(240)));
    assert!((meta.duration_secs.unwrap() - 2.0).abs() < 0.2, "{meta:?}");
    assert!(meta.transcoded);
    assert_eq!(meta.note, None);
    let variants = row.variants();
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["thumb-320", "poster", "web"]);
    let (content_type, poster) = world.served(&id, "poster").await;
    assert_eq!(content_type, "image/webp");
    let poster = image::load_from_memory(&poster).unwrap();
    assert_eq!((poster.width(), poster.height()), (320, 240));
    let (content_type, web) = world.served(&id, "web").await;
    assert_eq!(content_type, "video/mp4");
    let web_variant = variants.iter().find(|v| v.name == "web").unwrap();
    assert_eq!((web_variant.width, web_variant.height), (Some(320), Some(240)));
    // +faststart: the index comes before the data, so playback starts at once.
    assert!(find(&web, b"moov").unwrap() < find(&web, b"mdat").unwrap());
    let probe = backend::media::pipeline::Ffmpeg::new("ffmpeg");
    let web_path = scratch.path().join("web.mp4");
    std::fs::write(&web_path, &web).unwrap();
    let web_probe = probe.probe(&web_path, "video/mp4").await.unwrap();
    assert!(web_probe.has_audio && web_probe.video == Some((320, 240)));

    // A recording: loudness-normalised AAC.
    let wav = ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=220:duration=3"], &scratch.path().join("voice.wav"));
    let id = world.upload("voice.wav", "audio/wav", &wav).await;
    process(&pipeline, db, &id).await.unwrap();
    let row = world.row(&id).await;
    assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
    assert_eq!((row.kind.map(|k| k.as_str()), row.detected_type.as_deref()), (Some("audio"), Some("audio/wav")));
    assert!((row.meta().duration_secs.unwrap() - 3.0).abs() < 0.1);
    let web: Vec<_> = row.variants().into_iter().map(|v| (v.name, v.content_type)).collect();
    assert_eq!(web, [("web".to_string(), "audio/mp4".to_string())]);

    // A damaged video (MP4 magic, then noise) fails with ffmpeg's words.
    let mut damaged = clip[..32].to_vec();
    damaged.extend(corrupt_jpeg());
    let failure = world.failure_of(&pipeline, db, ("damaged.mp4", "video/mp4"), &damaged).await;
    assert!(failure.starts_with("This video could not be read"), "{failure}");
});

db_test!(without_ffmpeg_videos_are_served_as_uploaded, |db| {
    let world = World::new(db).await;
    // Any MP4 will do: nothing decodes it.
    let mut clip = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    clip.extend_from_slice(b"\0\0\0\x08free");
    clip.resize(4096, 0);
    for (settings, says) in [
        (Settings { ffmpeg: None, ..world.settings() }, "turned off"),
        (Settings { ffmpeg: Some("/nonexistent/bin/ffmpeg".into()), ..world.settings() }, "not installed"),
    ] {
        let pipeline = world.pipeline(settings);
        let id = world.upload("clip.mp4", "video/mp4", &clip).await;
        process(&pipeline, db, &id).await.unwrap();
        let row = world.row(&id).await;
        assert_eq!(row.state, MediaState::Ready, "{:?}", row.failure);
        let meta = row.meta();
        assert!(!meta.transcoded);
        let note = meta.note.unwrap();
        assert!(note.contains(says) && note.contains("served as uploaded"), "{note}");
        assert_eq!(row.variants(), vec![]);
        let (content_type, served) = world.served(&id, "original").await;
        assert_eq!((content_type.as_str(), served.len()), ("video/mp4", clip.len()));
    }
});

db_test!(people_are_tagged_in_an_item_by_whoever_may_edit_it, |db| {
    use types::LegacyRole;

    let world = World::new(db).await;
    let (people, stories) = (world.people(db), Stories::new(db.clone()));
    let photo = world.upload("bakery.jpg", "image/jpeg", &jpeg(64, 48)).await;
    let mary = world.person(&people, ("Mary", "Howard"), "", false).await;
    let lily = world.person(&people, ("Lily", "Howard"), "", true).await;
    people.tag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    people.tag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    people.tag(&world.media, &world.user, &photo, &lily.id).await.unwrap();
    let count = with_pool!(db, |pool| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM media_people")
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(count, 2, "tagging twice changes nothing");
    let items = vec![world.media.media(Some(&world.user), &photo).await.unwrap()];
    let names = |tagged: std::collections::HashMap<MediaId, Vec<types::PersonSummary>>| {
        tagged.get(&photo).map(|people| people.iter().map(|p| p.name.clone()).collect::<Vec<_>>()).unwrap_or_default()
    };
    let tagged = people.tagged_in(Some(&world.user), &world.legacy_id, &items).await.unwrap();
    assert_eq!(names(tagged), vec!["Mary Howard", "Lily Howard"]);
    let on_page = people.tagged_media(&world.media, Some(&world.user), &mary.id).await.unwrap();
    assert_eq!(on_page.iter().map(|m| &m.id).collect::<Vec<_>>(), vec![&photo]);

    // A viewer sees Mary on the photo but not the living Lily, and may not tag.
    let viewer = users::insert(db, &NewUser::new("vi@example.org", "Vi", Role::Member).unwrap()).await.unwrap();
    let token = stories.invite(&world.user, &world.legacy_id, LegacyRole::Viewer.as_str(), 7, None).await.unwrap();
    stories.accept_invitation(&viewer, &token).await.unwrap();
    let tagged = people.tagged_in(Some(&viewer), &world.legacy_id, &items).await.unwrap();
    assert_eq!(names(tagged), vec!["Mary Howard"]);
    assert!(people.tagged_media(&world.media, Some(&viewer), &lily.id).await.unwrap().is_empty());
    let refused = people.untag(&world.media, &viewer, &photo, &mary.id).await;
    assert!(matches!(refused, Err(backend::Error::Forbidden(_))), "{refused:?}");

    // A person of another legacy is refused by name; removing a tag takes it away.
    let other = stories
        .create_legacy(&world.user, &LegacyInput { name: "Elsewhere".into(), ..LegacyInput::default() }, None)
        .await
        .unwrap();
    let stranger = people.in_legacy(Some(&world.user), &other.id, None, None).await.unwrap().items[0].id.clone();
    let refused = people.tag(&world.media, &world.user, &photo, &stranger).await;
    assert!(matches!(&refused, Err(backend::Error::Invalid(fields)) if fields[0].field == "person_id"), "{refused:?}");
    people.untag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    assert!(people.tagged_media(&world.media, Some(&world.user), &mary.id).await.unwrap().is_empty());
});

db_test!(a_portrait_is_a_processed_photo_of_the_legacy_and_the_timeline_places_photos_by_when_they_were_taken, |db| {
    use types::{LegacyRole, PortraitInput, TimelineKind};

    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let (people, stories) = (world.people(db), Stories::new(db.clone()));
    let photo = world.upload("garden.jpg", "image/jpeg", &phone_photo(64, 48)).await;
    process(&pipeline, db, &photo).await.unwrap();
    let waiting = world.upload("later.jpg", "image/jpeg", &jpeg(32, 32)).await;
    let mary = world.person(&people, ("Mary", "Howard"), "1931", false).await;
    people.tag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    let choose = |media_id: &MediaId, version: Option<i64>| PortraitInput { media_id: Some(media_id.clone()), version };

    // Not processed yet, or not a photo of this legacy: refused, nothing changes.
    let refused = people.set_portrait(&world.media, &world.user, &mary.id, &choose(&waiting, None)).await;
    assert!(matches!(&refused, Err(backend::Error::Invalid(f)) if f[0].field == "media_id"), "{refused:?}");
    let refused = people.set_portrait(&world.media, &world.user, &mary.id, &choose(&"nope".into(), None)).await;
    assert!(matches!(&refused, Err(backend::Error::Invalid(f)) if f[0].field == "media_id"), "{refused:?}");
    let other = stories
        .create_legacy(&world.user, &LegacyInput { name: "Elsewhere".into(), ..LegacyInput::default() }, None)
        .await
        .unwrap();
    let stranger = people.in_legacy(Some(&world.user), &other.id, None, None).await.unwrap().items[0].id.clone();
    let refused = people.set_portrait(&world.media, &world.user, &stranger, &choose(&photo, None)).await;
    assert!(matches!(&refused, Err(backend::Error::Invalid(_))), "{refused:?}");
    assert_eq!(people.person(Some(&world.user), &mary.id).await.unwrap().version, 1);

    let chosen = people.set_portrait(&world.media, &world.user, &mary.id, &choose(&photo, Some(1))).await.unwrap();
    assert_eq!((chosen.portrait_id.as_ref(), chosen.version), (Some(&photo), 2), "an edit like any other");
    let stale = people.set_portrait(&world.media, &world.user, &mary.id, &choose(&photo, Some(1))).await;
    assert!(matches!(stale, Err(backend::Error::Conflict(_))), "{stale:?}");

    // A viewer sees the portrait and the photo on the timeline, at the day it was taken.
    let viewer = users::insert(db, &NewUser::new("vi@example.org", "Vi", Role::Member).unwrap()).await.unwrap();
    let token = stories.invite(&world.user, &world.legacy_id, LegacyRole::Viewer.as_str(), 7, None).await.unwrap();
    stories.accept_invitation(&viewer, &token).await.unwrap();
    let page = people.page(&world.media, Some(&viewer), &mary.id).await.unwrap();
    assert_eq!(page.portrait.map(|p| p.id), Some(photo.clone()));
    let timeline: Vec<(TimelineKind, &str, Option<i32>)> =
        page.timeline.iter().map(|e| (e.kind, e.when.as_str(), e.year)).collect();
    assert_eq!(
        timeline,
        [(TimelineKind::Born, "1931", Some(1931)), (TimelineKind::TaggedIn, "14 July 2019", Some(2019))]
    );
    assert_eq!(page.timeline[1].media_id.as_ref(), Some(&photo));
    let refused = people.set_portrait(&world.media, &viewer, &mary.id, &PortraitInput::default()).await;
    assert!(matches!(refused, Err(backend::Error::Forbidden(_))), "{refused:?}");

    // Taken away; and a deleted photo leaves no portrait behind.
    let removed = people.set_portrait(&world.media, &world.user, &mary.id, &PortraitInput::default()).await.unwrap();
    assert_eq!((removed.portrait_id, removed.version), (None, 3));
    people.set_portrait(&world.media, &world.user, &mary.id, &choose(&photo, None)).await.unwrap();
    world.media.delete(&world.user, &photo).await.unwrap();
    assert_eq!(people.person(Some(&world.user), &mary.id).await.unwrap().portrait_id, None);
    assert!(people.page(&world.media, Some(&world.user), &mary.id).await.unwrap().portrait.is_none());
});

// Tags feed search: an item is found by the names of the people in it (not of a living
// one, whose name would give them away), and follows every tag, rename and deletion.
db_test!(a_photo_is_found_by_the_names_of_the_people_tagged_in_it, |db| {
    use backend::events::Dispatcher;
    use backend::search::{Kind, Search, SearchQuery};

    let world = World::new(db).await;
    let pipeline = world.pipeline(world.settings());
    let search =
        Arc::new(Search::open_or_rebuild(&backend::disk::Disk::new(world.dir.path(), 0), db.clone()).await.unwrap());
    let dispatcher = Dispatcher::new(db.clone(), vec![search.indexer()], quick());
    let people = world.people(db);
    let photo = world.upload("bakery.jpg", "image/jpeg", &jpeg(64, 48)).await;
    process(&pipeline, db, &photo).await.unwrap();
    let mary = world.person(&people, ("Marigold", "Quennell"), "", false).await;
    let lily = world.person(&people, ("Lilibet", "Quennell"), "", true).await;
    people.tag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    people.tag(&world.media, &world.user, &photo, &lily.id).await.unwrap();
    let found = |text: &'static str| {
        let (search, dispatcher, user) = (search.clone(), &dispatcher, &world.user);
        async move {
            dispatcher.drain().await.unwrap();
            let mut query = SearchQuery::text(text);
            query.kinds = vec![Kind::Media];
            let reader = search.reader(Some(user)).await.unwrap();
            search.search(&reader, &query).await.unwrap().hits.into_iter().map(|h| h.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("Marigold Quennell").await, [photo.to_string()]);
    assert!(found("Lilibet").await.is_empty(), "a living person's name finds nothing");

    people.untag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    assert!(found("Marigold").await.is_empty(), "the tag was taken away");
    people.tag(&world.media, &world.user, &photo, &mary.id).await.unwrap();
    let mut renamed = world.person_input(("Rosamund", "Quennell"), "", false);
    renamed.version = Some(1);
    people.update(&world.user, &mary.id, &renamed).await.unwrap();
    assert_eq!(found("Rosamund").await, [photo.to_string()], "a rename reaches the items they are in");
    assert!(found("Marigold").await.is_empty());
    people.delete(&world.user, &mary.id).await.unwrap();
    assert!(found("Rosamund").await.is_empty(), "a deleted person's name goes from the items");
    assert!(consumer::dead_letters(db).await.unwrap().is_empty());
});
