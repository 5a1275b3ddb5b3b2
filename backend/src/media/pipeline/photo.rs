//! Photos: what the camera recorded (EXIF date, camera, whether there is a location), a
//! served copy without the location, and WebP thumbnails. Everything here is blocking
//! CPU work; the pipeline runs it on the blocking pool with a timeout.
//!
//! Decoding is bounded: the pixel count is read from the header first and refused above
//! [`MAX_PIXELS`], and the decoder's allocation limit stops a file that lies about it, so
//! a decompression bomb fails cleanly instead of eating the server's memory.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use img_parts::ImageEXIF;

/// Thumbnail widths: a grid tile, a page-wide view, a full-screen view.
pub const THUMB_WIDTHS: [u32; 3] = [320, 960, 1920];
/// The most pixels a photo (or poster frame) may have: 100 megapixels.
pub const MAX_PIXELS: u64 = 100_000_000;
/// The largest photo file the pipeline reads into memory.
pub const MAX_PHOTO_BYTES: u64 = 256 * 1024 * 1024;
/// The decoder's allocation limit: RGBA at [`MAX_PIXELS`] plus room for its buffers.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 4 + 64 * 1024 * 1024;
/// libwebp's largest side.
const WEBP_MAX_SIDE: u32 = 16_383;
const WEBP_QUALITY: f32 = 80.0;

/// Why a photo could not be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    /// Too many pixels or bytes: it will never be processed here.
    TooLarge(String),
    /// Not a readable image (truncated, corrupt, unsupported variant).
    Undecodable(String),
    /// The work folder could not be written: a problem of this server, not of the file.
    Io(String),
}

impl std::fmt::Display for PhotoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhotoError::TooLarge(m) | PhotoError::Undecodable(m) | PhotoError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for PhotoError {}

/// What EXIF says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExifFacts {
    /// `2019-07-14T10:23:45`, with the offset when the camera wrote one.
    pub taken_at: Option<String>,
    pub camera: Option<String>,
    pub had_gps: bool,
}

/// One WebP written to the work folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub name: String,
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// A WebP to make: `name` at most `width` wide (never wider than the source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub width: u32,
}

/// The thumbnails for a source `source_width` wide: every size up to the source's width,
/// and always the smallest (at the source's width when it is narrower still).
pub fn thumbnail_targets(source_width: u32) -> Vec<Target> {
    THUMB_WIDTHS
        .iter()
        .enumerate()
        .filter(|(i, w)| *i == 0 || **w <= source_width)
        .map(|(_, w)| Target { name: format!("thumb-{w}"), width: *w })
        .collect()
}

/// A processed photo.
#[derive(Debug)]
pub struct Photo {
    /// As displayed (after the EXIF orientation).
    pub width: u32,
    pub height: u32,
    pub exif: ExifFacts,
    /// The file without location data, when it had some and stripping was asked for.
    pub stripped: Option<Vec<u8>>,
    pub renders: Vec<Rendered>,
}

/// Reads the metadata, strips the location (when `strip_gps` and there is one) and
/// writes the thumbnails into `out_dir`.
pub fn process(bytes: &[u8], content_type: &str, strip_gps: bool, out_dir: &Path) -> Result<Photo, PhotoError> {
    let format = ImageFormat::from_mime_type(content_type);
    let exif = exif_facts(bytes, content_type);
    let stripped = if strip_gps && exif.had_gps {
        Some(strip_location(bytes, content_type).map_err(PhotoError::Undecodable)?)
    } else {
        None
    };
    let image = decode(bytes, format)?;
    let renders = render(&image, &thumbnail_targets(image.width()), out_dir)?;
    Ok(Photo { width: image.width(), height: image.height(), exif, stripped, renders })
}

/// Thumbnails of one image file into `out_dir`, as the pipeline makes them (for
/// benchmarks: thumbnails per second against `vipsthumbnail`).
pub fn thumbnails_for_file(path: &Path, out_dir: &Path) -> Result<Vec<Rendered>, PhotoError> {
    let bytes = std::fs::read(path).map_err(|e| PhotoError::Io(format!("cannot read {}: {e}", path.display())))?;
    let image = decode(&bytes, None)?;
    render(&image, &thumbnail_targets(image.width()), out_dir)
}

/// Decodes an image (format from the content when `format` is `None`) within the pixel
/// and memory limits, turned as its EXIF orientation says.
pub fn decode(bytes: &[u8], format: Option<ImageFormat>) -> Result<DynamicImage, PhotoError> {
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>, PhotoError> {
        Ok(match format {
            Some(format) => ImageReader::with_format(Cursor::new(bytes), format),
            None => ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .map_err(|e| PhotoError::Undecodable(e.to_string()))?,
        })
    };
    let (width, height) = reader()?.into_dimensions().map_err(undecodable)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(PhotoError::TooLarge(format!(
            "this image is {width} × {height} pixels ({} megapixels); the largest this server processes is {} \
             megapixels",
            pixels / 1_000_000,
            MAX_PIXELS / 1_000_000
        )));
    }
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width.max(1));
    limits.max_image_height = Some(height.max(1));
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn undecodable(err: ImageError) -> PhotoError {
    match err {
        ImageError::Limits(e) => PhotoError::TooLarge(format!("this image is too large to process ({e})")),
        ImageError::Unsupported(e) => {
            PhotoError::Undecodable(format!("this image uses a format variant that can't be read ({e})"))
        }
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Undecodable("this image is cut short (the file ends too early)".into())
        }
        e => PhotoError::Undecodable(format!("this image can't be read: {e}")),
    }
}

/// Writes each target as a lossy WebP, largest first, each made from the one before (area
/// averaging: every source pixel counts, so a large reduction does not alias).
pub fn render(image: &DynamicImage, targets: &[Target], out_dir: &Path) -> Result<Vec<Rendered>, PhotoError> {
    let source = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut order: Vec<&Target> = targets.iter().collect();
    order.sort_by_key(|t| std::cmp::Reverse(t.width));
    let mut previous: Option<DynamicImage> = None;
    let mut rendered = Vec::new();
    for target in order {
        let (width, height) = fit(source.width(), source.height(), target.width);
        let from = previous.as_ref().filter(|p| p.width() >= width && p.height() >= height).unwrap_or(&source);
        let scaled = if (from.width(), from.height()) == (width, height) {
            from.clone()
        } else {
            from.thumbnail_exact(width, height)
        };
        let webp = encode_webp(&scaled)?;
        let path = out_dir.join(format!("{}.webp", target.name));
        std::fs::write(&path, &webp).map_err(|e| PhotoError::Io(format!("cannot write {}: {e}", path.display())))?;
        rendered.push(Rendered { name: target.name.clone(), path, width, height, bytes: webp.len() as u64 });
        previous = Some(scaled);
    }
    // In the order asked for.
    rendered.sort_by_key(|r| targets.iter().position(|t| t.name == r.name));
    Ok(rendered)
}

/// The size of a `width`-wide rendering of a `w` × `h` image, never larger than the image
/// and never taller than WebP allows.
fn fit(w: u32, h: u32, width: u32) -> (u32, u32) {
    let (w64, h64) = (u64::from(w.max(1)), u64::from(h.max(1)));
    let mut tw = u64::from(width.min(w).max(1));
    let mut th = (h64 * tw + w64 / 2) / w64;
    if th > u64::from(WEBP_MAX_SIDE) {
        th = u64::from(WEBP_MAX_SIDE);
        tw = ((w64 * th + h64 / 2) / h64).max(1);
    }
    (tw as u32, th.max(1) as u32)
}

fn encode_webp(image: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let (w, h) = (image.width(), image.height());
    let encoded = match image {
        DynamicImage::ImageRgba8(buf) => {
            webp::Encoder::from_rgba(buf.as_raw(), w, h).encode_simple(false, WEBP_QUALITY)
        }
        DynamicImage::ImageRgb8(buf) => webp::Encoder::from_rgb(buf.as_raw(), w, h).encode_simple(false, WEBP_QUALITY),
        other => {
            let rgb = other.to_rgb8();
            webp::Encoder::from_rgb(rgb.as_raw(), w, h).encode_simple(false, WEBP_QUALITY)
        }
    };
    encoded.map(|m| m.to_vec()).map_err(|e| PhotoError::Undecodable(format!("cannot encode a WebP thumbnail: {e:?}")))
}

// ---- EXIF -----------------------------------------------------------------------------

/// The EXIF block (TIFF bytes) and XMP packets of a JPEG, PNG or WebP.
fn metadata_blocks(bytes: &[u8], content_type: &str) -> (Option<Bytes>, Vec<Bytes>) {
    let data = Bytes::copy_from_slice(bytes);
    match content_type {
        "image/jpeg" => match img_parts::jpeg::Jpeg::from_bytes(data) {
            Ok(jpeg) => {
                let xmp = jpeg
                    .segments()
                    .iter()
                    .filter(|s| s.marker() == img_parts::jpeg::markers::APP1 && is_xmp_app1(s.contents()))
                    .map(|s| s.contents().clone())
                    .collect();
                (jpeg.exif(), xmp)
            }
            Err(_) => (None, Vec::new()),
        },
        "image/png" => match img_parts::png::Png::from_bytes(data) {
            Ok(png) => {
                let xmp = png.chunks().iter().filter(|c| is_png_xmp(c)).map(|c| c.contents().clone()).collect();
                (png.exif(), xmp)
            }
            Err(_) => (None, Vec::new()),
        },
        "image/webp" => match img_parts::webp::WebP::from_bytes(data) {
            Ok(webp) => {
                let xmp =
                    webp.chunks_by_id(img_parts::webp::CHUNK_XMP).filter_map(|c| c.content().data().cloned()).collect();
                (webp.exif(), xmp)
            }
            Err(_) => (None, Vec::new()),
        },
        _ => (None, Vec::new()),
    }
}

fn is_xmp_app1(contents: &[u8]) -> bool {
    contents.starts_with(b"http://ns.adobe.com/xap/1.0/") || contents.starts_with(b"http://ns.adobe.com/xmp/extension/")
}

fn is_png_xmp(chunk: &img_parts::png::PngChunk) -> bool {
    matches!(&chunk.kind(), b"iTXt" | b"tEXt" | b"zTXt")
        && (chunk.contents().starts_with(b"XML:com.adobe.xmp\0") || chunk.contents().starts_with(b"Raw profile type"))
}

fn xmp_has_location(xmp: &[u8]) -> bool {
    let has = |needle: &[u8]| xmp.windows(needle.len()).any(|w| w == needle);
    has(b"GPSLatitude") || has(b"GPSLongitude")
}

/// Date, camera and whether a location is recorded (EXIF GPS or XMP).
pub fn exif_facts(bytes: &[u8], content_type: &str) -> ExifFacts {
    let (exif, xmp) = metadata_blocks(bytes, content_type);
    let mut facts = ExifFacts { had_gps: xmp.iter().any(|x| xmp_has_location(x)), ..Default::default() };
    let Some(exif) = exif.and_then(|raw| exif::Reader::new().read_raw(raw.to_vec()).ok()) else {
        return facts;
    };
    facts.had_gps |= exif.fields().any(|f| f.tag.context() == exif::Context::Gps);
    let ascii = |tag| {
        exif.get_field(tag, exif::In::PRIMARY).and_then(|f| match &f.value {
            exif::Value::Ascii(parts) => parts
                .first()
                .map(|p| String::from_utf8_lossy(p).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string())
                .filter(|s| !s.is_empty()),
            _ => None,
        })
    };
    let taken = ascii(exif::Tag::DateTimeOriginal)
        .or_else(|| ascii(exif::Tag::DateTimeDigitized))
        .or_else(|| ascii(exif::Tag::DateTime));
    facts.taken_at = taken.and_then(|t| iso_datetime(&t, ascii(exif::Tag::OffsetTimeOriginal).as_deref()));
    facts.camera = match (ascii(exif::Tag::Make), ascii(exif::Tag::Model)) {
        (Some(make), Some(model)) if model.to_lowercase().starts_with(&make.to_lowercase()) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    };
    facts
}

/// `2019:07:14 10:23:45` (EXIF) → `2019-07-14T10:23:45`; None for a blank or odd value.
fn iso_datetime(exif: &str, offset: Option<&str>) -> Option<String> {
    let b = exif.as_bytes();
    let shape_ok = b.len() >= 19
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b':' || *c == b'-',
            10 => *c == b' ' || *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok || exif.starts_with("0000") {
        return None;
    }
    let mut out = format!("{}-{}-{}T{}", &exif[0..4], &exif[5..7], &exif[8..10], &exif[11..19]);
    if let Some(offset) = offset.filter(|o| o.len() == 6 && (o.starts_with('+') || o.starts_with('-'))) {
        out.push_str(offset);
    }
    Some(out)
}

/// EXIF tags kept in the served copy: how to show the photo and how it was taken, but
/// nothing that places or identifies (GPS, serial numbers, owner names, maker notes).
const KEPT_TAGS: &[exif::Tag] = &[
    exif::Tag::Orientation,
    exif::Tag::Make,
    exif::Tag::Model,
    exif::Tag::Software,
    exif::Tag::DateTime,
    exif::Tag::DateTimeOriginal,
    exif::Tag::DateTimeDigitized,
    exif::Tag::OffsetTime,
    exif::Tag::OffsetTimeOriginal,
    exif::Tag::ExposureTime,
    exif::Tag::FNumber,
    exif::Tag::ExposureProgram,
    exif::Tag::PhotographicSensitivity,
    exif::Tag::ExifVersion,
    exif::Tag::ExposureBiasValue,
    exif::Tag::MeteringMode,
    exif::Tag::Flash,
    exif::Tag::FocalLength,
    exif::Tag::ColorSpace,
    exif::Tag::PixelXDimension,
    exif::Tag::PixelYDimension,
    exif::Tag::WhiteBalance,
    exif::Tag::FocalLengthIn35mmFilm,
    exif::Tag::LensMake,
    exif::Tag::LensModel,
    exif::Tag::XResolution,
    exif::Tag::YResolution,
    exif::Tag::ResolutionUnit,
    exif::Tag::YCbCrPositioning,
];

/// A new EXIF block with only [`KEPT_TAGS`] of the primary image; None when nothing is
/// left or the block cannot be read (then the copy simply has no EXIF).
fn rebuilt_exif(raw: &[u8]) -> Option<Bytes> {
    let exif = exif::Reader::new().read_raw(raw.to_vec()).ok()?;
    let kept: Vec<&exif::Field> =
        exif.fields().filter(|f| f.ifd_num == exif::In::PRIMARY && KEPT_TAGS.contains(&f.tag)).collect();
    if kept.is_empty() {
        return None;
    }
    let mut writer = exif::experimental::Writer::new();
    for field in &kept {
        writer.push_field(field);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, exif.little_endian()).ok()?;
    Some(Bytes::from(out.into_inner()))
}

/// A copy of the file without location data, the image data untouched: the EXIF block
/// is rebuilt without GPS (and without anything not in [`KEPT_TAGS`]), XMP, IPTC and
/// raw metadata profiles are dropped, and for JPEG everything after the primary image
/// (MPF secondary images carry their own EXIF) is cut off.
pub fn strip_location(bytes: &[u8], content_type: &str) -> Result<Vec<u8>, String> {
    let data = Bytes::copy_from_slice(bytes);
    let broken = |e: img_parts::Error| format!("this image's structure is damaged ({e})");
    let mut out = Vec::with_capacity(bytes.len());
    let written = match content_type {
        "image/jpeg" => {
            use img_parts::jpeg::markers;
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(data).map_err(broken)?;
            let exif = jpeg.exif().and_then(|raw| rebuilt_exif(&raw));
            jpeg.segments_mut().retain(|s| {
                let c = s.contents();
                !((s.marker() == markers::APP1 && is_xmp_app1(c))
                    || s.marker() == markers::APP13
                    || (s.marker() == markers::APP2 && c.starts_with(b"MPF\0")))
            });
            jpeg.set_exif(exif);
            jpeg.encoder().write_to(&mut out)
        }
        "image/png" => {
            let mut png = img_parts::png::Png::from_bytes(data).map_err(broken)?;
            let exif = png.exif().and_then(|raw| rebuilt_exif(&raw));
            png.chunks_mut().retain(|c| !is_png_xmp(c));
            png.set_exif(exif);
            png.encoder().write_to(&mut out)
        }
        "image/webp" => {
            let mut webp = img_parts::webp::WebP::from_bytes(data).map_err(broken)?;
            let exif = webp.exif().and_then(|raw| rebuilt_exif(&raw));
            webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
            webp.set_exif(exif);
            webp.encoder().write_to(&mut out)
        }
        other => return Err(format!("location data can't be removed from {other} files")),
    };
    written.map_err(|e| format!("cannot write the copy without location: {e}"))?;
    if content_type == "image/jpeg" {
        if let Some(end) = primary_jpeg_len(&out) {
            out.truncate(end);
        }
    }
    Ok(out)
}

/// Where the primary image of a JPEG ends (just after its EOI marker): the marker
/// segments are walked to the first scan, then the entropy-coded data, in which 0xFF is
/// always followed by 0x00 or a restart marker, is searched for 0xFFD9.
fn primary_jpeg_len(jpeg: &[u8]) -> Option<usize> {
    let mut i = 2;
    loop {
        while *jpeg.get(i)? == 0xFF && *jpeg.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(i + 1)?;
        match marker {
            0xDA => break,
            0x01 | 0xD0..=0xD8 => i += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]));
                i += 2 + len;
            }
        }
    }
    let eoi = jpeg[i..].windows(2).position(|w| w == [0xFF, 0xD9])?;
    Some(i + eoi + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_never_upscale_but_the_smallest_always_exists() {
        let names = |w| thumbnail_targets(w).into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(names(200), ["thumb-320"]);
        assert_eq!(names(960), ["thumb-320", "thumb-960"]);
        assert_eq!(names(4000), ["thumb-320", "thumb-960", "thumb-1920"]);
        assert_eq!(fit(200, 100, 320), (200, 100));
        assert_eq!(fit(4000, 3000, 320), (320, 240));
        assert_eq!(fit(1, 100_000, 320), (1, WEBP_MAX_SIDE));
        assert_eq!(fit(320, 40_000, 320), (131, WEBP_MAX_SIDE));
    }

    #[test]
    fn exif_dates_become_iso() {
        assert_eq!(iso_datetime("2019:07:14 10:23:45", None).as_deref(), Some("2019-07-14T10:23:45"));
        assert_eq!(iso_datetime("2019:07:14 10:23:45", Some("+02:00")).as_deref(), Some("2019-07-14T10:23:45+02:00"));
        assert_eq!(iso_datetime("0000:00:00 00:00:00", None), None);
        assert_eq!(iso_datetime("    :  :     :  :  ", None), None);
        assert_eq!(iso_datetime("2019", None), None);
    }

    #[test]
    fn the_primary_jpeg_ends_at_its_first_eoi_after_the_scan() {
        let seg = |marker: u8, body: &[u8]| {
            let mut s = vec![0xFF, marker];
            s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            s.extend_from_slice(body);
            s
        };
        // An EXIF thumbnail's EOI inside APP1 must not count.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(seg(0xE1, b"Exif\0\0\xFF\xD8\xFF\xD9"));
        jpeg.extend(seg(0xDA, b"\x01\x01\x00\x00\x3f\x00"));
        jpeg.extend_from_slice(b"\x12\xFF\x00\x34\xFF\xD0\x56");
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let primary = jpeg.len();
        jpeg.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 8, b'E', b'x', b'i', b'f', 0, 0, 0xFF, 0xD9]);
        assert_eq!(primary_jpeg_len(&jpeg), Some(primary));
        assert_eq!(primary_jpeg_len(&jpeg[..10]), None);
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A PNG header claiming 50000 × 50000 pixels, with almost no image data behind it.
        let png = crate::testing::png_claiming(50_000, 50_000);
        match decode(&png, Some(ImageFormat::Png)) {
            Err(PhotoError::TooLarge(message)) => assert!(message.contains("2500 megapixels"), "{message}"),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }
}
