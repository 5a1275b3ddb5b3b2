//! Fuzzes upload content sniffing: whatever the bytes and the declared type, checking
//! must not panic, and a file it accepts must be of an allowed type, of the declared
//! family, and never a program.
//!
//! Input: the first byte picks the declared type, the rest are the file's first bytes.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

// Self-contained (std + infer), so compiled here directly rather than through the whole
// backend crate.
#[path = "../../backend/src/media/pipeline/sniff.rs"]
#[allow(dead_code)]
mod sniff;

const DECLARED: [&str; 10] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/mpeg",
    "audio/mp4",
    "audio/wav",
    "video/mp4",
    "video/webm",
    "application/octet-stream",
    "IMAGE/GIF; charset=binary",
];

const PROGRAMS: [&[u8]; 4] = [b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe"];

fuzz_target!(|data: &[u8]| {
    static ALLOWED_TYPES: OnceLock<Vec<String>> = OnceLock::new();
    let allowed = ALLOWED_TYPES.get_or_init(|| sniff::DEFAULT_MEDIA_TYPES.iter().map(|t| t.to_string()).collect());
    let Some((&pick, head)) = data.split_first() else { return };
    let declared = DECLARED[usize::from(pick) % DECLARED.len()];
    let head = &head[..head.len().min(sniff::HEAD_LEN)];
    match sniff::check(head, declared, allowed) {
        Ok(found) => {
            let family = sniff::Family::of_type(&declared.to_ascii_lowercase());
            assert_eq!(Some(found.family), family, "{declared} accepted as {found:?}");
            assert!(allowed.iter().any(|t| t == found.content_type), "{found:?} is not allowed");
            assert_eq!(sniff::Family::of_type(found.content_type), Some(found.family), "{found:?}");
            if found.family == sniff::Family::Image {
                assert!(sniff::DECODABLE_IMAGES.contains(&found.content_type), "{found:?}");
            }
            assert!(!PROGRAMS.iter().any(|p| head.starts_with(p)), "a program accepted as {found:?}");
        }
        Err(refusal) => {
            assert!(!refusal.0.is_empty());
            assert!(!refusal.0.chars().any(char::is_control), "{refusal:?}");
        }
    }
});
