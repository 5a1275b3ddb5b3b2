//! Content sniffing: what a file is by its first bytes, never by its name or the type
//! the browser declared. A file is accepted only when its content is an allowed type of
//! the same family (image, audio, video) as the declared one.
//!
//! Self-contained (std and `infer` only) so that the fuzz target compiles it directly.

/// Photos, recordings and videos browsers and phones produce; HEIC and camera RAW are
/// refused until they can be converted (browsers cannot show them).
pub const DEFAULT_MEDIA_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/mpeg",
    "audio/mp4",
    "audio/x-m4a",
    "audio/ogg",
    "audio/wav",
    "audio/x-wav",
    "audio/flac",
    "audio/webm",
    "video/mp4",
    "video/quicktime",
    "video/webm",
];

/// The families an upload may belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Image,
    Audio,
    Video,
}

impl Family {
    pub fn of_type(content_type: &str) -> Option<Family> {
        match content_type.split('/').next()? {
            "image" => Some(Family::Image),
            "audio" => Some(Family::Audio),
            "video" => Some(Family::Video),
            _ => None,
        }
    }

    /// "a photo", as the refusal message names what was expected.
    fn noun(self) -> &'static str {
        match self {
            Family::Image => "a photo",
            Family::Audio => "a recording",
            Family::Video => "a video",
        }
    }
}

/// How many leading bytes [`check`] looks at (some signatures sit a few hundred bytes in).
pub const HEAD_LEN: usize = 8192;

/// Images the pipeline can decode (and browsers show).
pub const DECODABLE_IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// An accepted file: its type by content, and the family it was accepted as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub family: Family,
}

/// Why a file was refused, in words for its uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Detected {
    /// The canonical type.
    content_type: &'static str,
    /// Other names of the same type (`audio/x-wav` for `audio/wav`).
    aliases: &'static [&'static str],
    /// The families it can be: an MP4 or WebM container holds a video or only sound.
    families: &'static [Family],
    /// For people: "a Windows program".
    what: &'static str,
    special: Special,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    /// HEIC/HEIF and AVIF: phone photos browsers do not (all) show, that we cannot decode.
    Heif,
    /// Camera RAW and TIFF.
    Raw,
}

const IMAGE: &[Family] = &[Family::Image];
const AUDIO: &[Family] = &[Family::Audio];
const VIDEO: &[Family] = &[Family::Video];
const AUDIO_OR_VIDEO: &[Family] = &[Family::Video, Family::Audio];

const fn media(
    content_type: &'static str,
    aliases: &'static [&'static str],
    families: &'static [Family],
    what: &'static str,
) -> Detected {
    Detected { content_type, aliases, families, what, special: Special::None }
}

/// Checks the first bytes of a file (up to [`HEAD_LEN`]) against the type it was
/// declared as and the allowed types.
pub fn check(head: &[u8], declared_type: &str, allowed: &[String]) -> Result<Sniffed, Refusal> {
    let declared = declared_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let declared_family = Family::of_type(&declared);
    let expected = declared_family.map_or("a photo, recording or video", Family::noun);
    let Some(found) = detect(head) else {
        let what = if looks_like_text(head) { "a text file" } else { "not a format this server recognises" };
        let what = if what.starts_with("not") {
            format!("this file's content is {what}, so it cannot be {expected}")
        } else {
            format!("this file is {what}, not {expected}")
        };
        return Err(Refusal(what));
    };
    match found.special {
        Special::Heif => {
            return Err(Refusal(format!(
                "{} photos ({}) can't be shown in browsers yet; export it as JPEG and upload again",
                if found.content_type == "image/avif" { "AVIF" } else { "HEIC" },
                found.content_type
            )))
        }
        Special::Raw => {
            return Err(Refusal(format!(
                "this file is {} ({}), which browsers can't show; export it as JPEG and upload again",
                found.what, found.content_type
            )))
        }
        Special::None => {}
    }
    let family = match declared_family {
        Some(family) if found.families.contains(&family) => family,
        _ => {
            return Err(Refusal(format!("this file is {} ({}), not {expected}", found.what, found.content_type)));
        }
    };
    // A container that holds a video or only sound takes the type of the declared family
    // (a QuickTime file with sound only is an MP4-family recording, as phones make them).
    let content_type = match (found.content_type, family) {
        ("video/mp4" | "video/quicktime", Family::Audio) => "audio/mp4",
        ("video/webm", Family::Audio) => "audio/webm",
        (t, _) => t,
    };
    let names: Vec<&str> = std::iter::once(content_type)
        .chain(std::iter::once(found.content_type))
        .chain(found.aliases.iter().copied())
        .collect();
    if !names.iter().any(|name| allowed.iter().any(|a| a.eq_ignore_ascii_case(name))) {
        return Err(Refusal(format!(
            "this file is {} ({content_type}), and {content_type} files are not accepted here (accepted: {})",
            found.what,
            allowed.join(", ")
        )));
    }
    if family == Family::Image && !DECODABLE_IMAGES.contains(&content_type) {
        return Err(Refusal(format!(
            "this file is {} ({content_type}), which this server can't process; upload a JPEG, PNG, GIF or WebP",
            found.what
        )));
    }
    Ok(Sniffed { content_type, family })
}

/// Executable headers, refused whatever else the bytes after them resemble (a media
/// signature further in, as in a polyglot file).
static PROGRAMS: [(&[u8], &str, &str); 6] = [
    (b"MZ", "application/vnd.microsoft.portable-executable", "a Windows program"),
    (b"\x7fELF", "application/x-executable", "a program"),
    (b"\xca\xfe\xba\xbe", "application/x-mach-binary", "a macOS program or Java class"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary", "a macOS program"),
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary", "a macOS program"),
];

fn detect(head: &[u8]) -> Option<Detected> {
    if let Some((_, content_type, what)) = PROGRAMS.iter().find(|(magic, ..)| head.starts_with(magic)) {
        return Some(media(content_type, &[], &[], what));
    }
    if let Some(found) = iso_media(head) {
        return Some(found);
    }
    if let Some(found) = camera_raw(head) {
        return Some(found);
    }
    let kind = infer::get(head)?;
    let found = match kind.mime_type() {
        "image/jpeg" => media("image/jpeg", &["image/jpg", "image/pjpeg"], IMAGE, "a JPEG photo"),
        "image/png" => media("image/png", &[], IMAGE, "a PNG image"),
        "image/gif" => media("image/gif", &[], IMAGE, "a GIF image"),
        // infer looks only for "WEBP" at offset 8; a WebP file is a RIFF container.
        "image/webp" if head.starts_with(b"RIFF") => media("image/webp", &[], IMAGE, "a WebP image"),
        "image/webp" => return None,
        "image/heif" => Detected { special: Special::Heif, ..media("image/heif", &[], IMAGE, "a HEIC photo") },
        "image/avif" => Detected { special: Special::Heif, ..media("image/avif", &[], IMAGE, "an AVIF photo") },
        "image/x-canon-cr2" => {
            Detected { special: Special::Raw, ..media("image/x-canon-cr2", &[], IMAGE, "a Canon RAW photo") }
        }
        "image/tiff" => Detected {
            special: Special::Raw,
            ..media("image/tiff", &[], IMAGE, "a TIFF image or camera RAW photo (DNG, NEF, ARW…)")
        },
        "image/bmp" => media("image/bmp", &[], IMAGE, "a BMP image"),
        "image/jxl" => media("image/jxl", &[], IMAGE, "a JPEG XL image"),
        "image/jp2" => media("image/jp2", &[], IMAGE, "a JPEG 2000 image"),
        "image/vnd.adobe.photoshop" => media("image/vnd.adobe.photoshop", &[], IMAGE, "a Photoshop document"),
        "image/vnd.microsoft.icon" => media("image/vnd.microsoft.icon", &[], IMAGE, "an icon"),
        "video/webm" => media("video/webm", &[], AUDIO_OR_VIDEO, "a WebM video"),
        "video/x-matroska" => media("video/x-matroska", &[], AUDIO_OR_VIDEO, "a Matroska video"),
        "video/x-msvideo" => media("video/x-msvideo", &["video/avi"], VIDEO, "an AVI video"),
        "video/x-ms-wmv" => media("video/x-ms-wmv", &[], VIDEO, "a Windows Media video"),
        "video/mpeg" => media("video/mpeg", &[], VIDEO, "an MPEG video"),
        "video/x-flv" => media("video/x-flv", &[], VIDEO, "a Flash video"),
        "audio/mpeg" => media("audio/mpeg", &["audio/mp3"], AUDIO, "an MP3 recording"),
        "audio/ogg" => media("audio/ogg", &["audio/opus", "application/ogg"], AUDIO, "an Ogg recording"),
        "audio/opus" => media("audio/ogg", &["audio/opus"], AUDIO, "an Opus recording"),
        "audio/x-flac" => media("audio/flac", &["audio/x-flac"], AUDIO, "a FLAC recording"),
        "audio/x-wav" => media("audio/wav", &["audio/x-wav", "audio/wave", "audio/vnd.wave"], AUDIO, "a WAV recording"),
        "audio/aac" => media("audio/aac", &[], AUDIO, "an AAC recording"),
        "audio/x-aiff" => media("audio/aiff", &["audio/x-aiff"], AUDIO, "an AIFF recording"),
        "audio/amr" => media("audio/amr", &[], AUDIO, "an AMR recording"),
        "audio/midi" => media("audio/midi", &[], AUDIO, "a MIDI file"),
        other => {
            let what = match other {
                "application/vnd.microsoft.portable-executable" => "a Windows program",
                "application/x-executable" => "a program",
                "application/x-mach-binary" => "a macOS program",
                "application/pdf" => "a PDF document",
                "application/zip" => "a ZIP archive",
                "text/html" => "a web page",
                "text/xml" => "an XML document",
                "text/x-shellscript" => "a shell script",
                _ => match kind.matcher_type() {
                    infer::MatcherType::App => "a program",
                    infer::MatcherType::Archive => "an archive",
                    infer::MatcherType::Book => "an e-book",
                    infer::MatcherType::Doc => "a document",
                    infer::MatcherType::Font => "a font",
                    infer::MatcherType::Text => "a text file",
                    infer::MatcherType::Image => "an image of another kind",
                    infer::MatcherType::Audio => "a recording of another kind",
                    infer::MatcherType::Video => "a video of another kind",
                    infer::MatcherType::Custom => "a file of another kind",
                },
            };
            // Audio and video types this table does not name are refused as not allowed.
            let families: &'static [Family] = match kind.matcher_type() {
                infer::MatcherType::Audio => AUDIO,
                infer::MatcherType::Video => VIDEO,
                infer::MatcherType::Image => IMAGE,
                _ => &[],
            };
            media(other, &[], families, what)
        }
    };
    Some(found)
}

/// ISO base media files (MP4, MOV, M4A, HEIC, AVIF, CR3) by the brands of their `ftyp`
/// box, which is more precise than a list of known major brands.
fn iso_media(head: &[u8]) -> Option<Detected> {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return None;
    }
    // A real `ftyp` box is small and a whole number of brands; anything else (a
    // program's header with "ftyp" at offset 4) is left to the other signatures.
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if !(16..=1024).contains(&size) || size & 3 != 0 {
        return None;
    }
    let end = size.min(head.len());
    let major = &head[8..12];
    let compatible = head[16..end].chunks_exact(4);
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible).collect();
    let has = |names: &[&[u8; 4]]| brands.iter().any(|b| names.iter().any(|n| *b == n.as_slice()));
    let heif = |t, what| Detected { special: Special::Heif, ..media(t, &[], IMAGE, what) };
    Some(if has(&[b"crx "]) {
        Detected { special: Special::Raw, ..media("image/x-canon-cr3", &[], IMAGE, "a Canon RAW photo") }
    } else if has(&[b"avif", b"avis"]) {
        heif("image/avif", "an AVIF photo")
    } else if has(&[b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"]) {
        heif("image/heif", "a HEIC photo")
    } else if has(&[b"M4A ", b"M4B ", b"M4P ", b"F4A "]) && !has(&[b"M4V "]) {
        media("audio/mp4", &["audio/x-m4a", "audio/m4a", "audio/aac"], AUDIO, "an M4A recording")
    } else if major == b"qt  " {
        media("video/quicktime", &["video/mov"], AUDIO_OR_VIDEO, "a QuickTime video")
    } else if major.starts_with(b"3g") {
        media("video/3gpp", &["audio/3gpp"], AUDIO_OR_VIDEO, "a 3GP video")
    } else {
        media("video/mp4", &["video/x-m4v"], AUDIO_OR_VIDEO, "an MP4 video")
    })
}

/// Camera RAW formats `infer` does not name (they would otherwise pass as TIFF or nothing).
fn camera_raw(head: &[u8]) -> Option<Detected> {
    let raw = |t, what| Some(Detected { special: Special::Raw, ..media(t, &[], IMAGE, what) });
    if head.starts_with(b"FUJIFILMCCD-RAW") {
        raw("image/x-fuji-raf", "a Fujifilm RAW photo")
    } else if head.starts_with(b"IIRO") || head.starts_with(b"IIRS") || head.starts_with(b"MMOR") {
        raw("image/x-olympus-orf", "an Olympus RAW photo")
    } else if head.starts_with(b"IIU\0") {
        raw("image/x-panasonic-rw2", "a Panasonic RAW photo")
    } else {
        None
    }
}

/// Mostly printable ASCII or UTF-8 (a script, a text file, the EICAR test string).
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut in the middle of a character at the end of the head.
        Err(e) if e.valid_up_to() + 4 >= head.len() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty() && text.chars().all(|c| !c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        DEFAULT_MEDIA_TYPES.iter().map(|s| s.to_string()).collect()
    }

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut head = (size as u32).to_be_bytes().to_vec();
        head.extend_from_slice(b"ftyp");
        head.extend_from_slice(major);
        head.extend_from_slice(&[0, 0, 2, 0]);
        for brand in compatible {
            head.extend_from_slice(*brand);
        }
        head.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        head
    }

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1];

    #[test]
    fn a_program_renamed_jpg_is_refused_by_name() {
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        exe.resize(512, 0);
        exe[0x3c] = 0x80;
        exe.resize(0x80, 0);
        exe.extend_from_slice(b"PE\0\0");
        exe.resize(1024, 0);
        let refused = check(&exe, "image/jpeg", &allowed()).unwrap_err();
        assert!(refused.0.contains("Windows program"), "{refused:?}");
        assert!(refused.0.ends_with("not a photo"), "{refused:?}");
    }

    #[test]
    fn photos_are_accepted_in_their_family_only() {
        let ok = check(JPEG, "image/png", &allowed()).unwrap();
        assert_eq!(ok, Sniffed { content_type: "image/jpeg", family: Family::Image });
        assert!(check(JPEG, "video/mp4", &allowed()).unwrap_err().0.contains("not a video"));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check(png, "IMAGE/JPEG; charset=x", &allowed()).unwrap().content_type, "image/png");
        let only_jpeg = vec!["image/jpeg".to_string()];
        assert!(check(png, "image/jpeg", &only_jpeg).unwrap_err().0.contains("not accepted here"));
    }

    #[test]
    fn mp4_containers_hold_sound_or_video() {
        let mp4 = ftyp(b"isom", &[b"isom", b"mp41"]);
        assert_eq!(check(&mp4, "video/mp4", &allowed()).unwrap().content_type, "video/mp4");
        assert_eq!(
            check(&mp4, "audio/mp4", &allowed()).unwrap(),
            Sniffed { content_type: "audio/mp4", family: Family::Audio }
        );
        let m4a = ftyp(b"M4A ", &[b"M4A ", b"isom"]);
        assert_eq!(check(&m4a, "audio/x-m4a", &allowed()).unwrap().content_type, "audio/mp4");
        assert!(check(&m4a, "video/mp4", &allowed()).is_err());
        let mov = ftyp(b"qt  ", &[b"qt  "]);
        assert_eq!(check(&mov, "video/quicktime", &allowed()).unwrap().content_type, "video/quicktime");
        // Found by the fuzzer: the type must be of the family it is accepted as.
        assert_eq!(
            check(&mov, "audio/mp4", &allowed()).unwrap(),
            Sniffed { content_type: "audio/mp4", family: Family::Audio }
        );
    }

    #[test]
    fn heic_and_raw_are_refused_with_advice() {
        let heic = ftyp(b"heic", &[b"mif1", b"heic"]);
        let refused = check(&heic, "image/jpeg", &allowed()).unwrap_err();
        assert!(refused.0.starts_with("HEIC photos"), "{refused:?}");
        assert!(refused.0.contains("export it as JPEG"));
        let generic_heif = ftyp(b"mif1", &[b"mif1", b"miaf"]);
        assert!(check(&generic_heif, "image/jpeg", &allowed()).unwrap_err().0.contains("HEIC"));
        let cr3 = ftyp(b"crx ", &[b"crx ", b"isom"]);
        assert!(check(&cr3, "image/jpeg", &allowed()).unwrap_err().0.contains("Canon RAW"));
        let tiff = b"II*\0\x08\0\0\0\x10\0\xfe\0\x04\0\x01\0\0\0\x01\0\0\0";
        assert!(check(tiff, "image/jpeg", &allowed()).unwrap_err().0.contains("camera RAW"));
        assert!(check(b"FUJIFILMCCD-RAW 0201", "image/jpeg", &allowed()).unwrap_err().0.contains("Fujifilm"));
    }

    #[test]
    fn text_and_unknown_bytes_are_refused() {
        let eicar = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(check(eicar, "image/jpeg", &allowed()).unwrap_err().0, "this file is a text file, not a photo");
        assert!(check(&[0u8; 64], "audio/mpeg", &allowed()).unwrap_err().0.contains("cannot be a recording"));
        assert!(check(b"", "image/jpeg", &allowed()).is_err());
        assert!(check(b"%PDF-1.7\n", "image/jpeg", &allowed()).unwrap_err().0.contains("PDF document"));
        assert!(check(JPEG, "application/octet-stream", &allowed()).unwrap_err().0.contains("not a photo, recording"));
    }

    #[test]
    fn short_and_odd_ftyp_boxes_do_not_panic() {
        for len in 0..40 {
            let mut head = ftyp(b"isom", &[b"isom"]);
            head.truncate(len);
            let _ = check(&head, "video/mp4", &allowed());
        }
        let mut huge = ftyp(b"isom", &[b"isom"]);
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(check(&huge, "video/mp4", &allowed()).is_ok());
        // A program header before a WebP signature (found by fuzzing) is a program.
        let fat_binary = b"\xca\xfe\xba\xbe\x00\x01\x00\x00WEBPV\xef";
        assert!(check(fat_binary, "image/webp", &allowed()).unwrap_err().0.contains("program"));
        // "WEBP" at offset 8 without the RIFF container is not a WebP image.
        let mut no_riff = b"XXXX\x10\0\0\0WEBPVP8 ".to_vec();
        no_riff.resize(64, 0);
        assert!(check(&no_riff, "image/webp", &allowed()).is_err());
        // A Windows program with "ftyp" where an MP4's box would start is still a program.
        let mut polyglot = b"MZ\0\0ftypisom\0\0\x02\0isomiso2".to_vec();
        polyglot.resize(512, 0);
        assert!(check(&polyglot, "video/mp4", &allowed()).unwrap_err().0.contains("Windows program"));
        let mut tiny = ftyp(b"isom", &[]);
        tiny[..4].copy_from_slice(&3u32.to_be_bytes());
        let _ = check(&tiny, "video/mp4", &allowed());
    }
}
