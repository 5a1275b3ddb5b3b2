//! Thumbnails per second with Heirloom's own pipeline code (decode with limits, EXIF
//! orientation, 320/960/1920 wide lossy WebP): `bench/media.py` runs this in release mode
//! beside `vipsthumbnail` on the same photos.
//!
//!     cargo run --release -p backend --example thumbnail_bench -- <out-dir> <photo>...
//!
//! Prints one JSON object: photos, seconds, photos per second, thumbnails written.

// A benchmark tool: a failed setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().expect("usage: thumbnail_bench <out-dir> <photo>..."));
    let photos: Vec<PathBuf> = args.map(PathBuf::from).collect();
    assert!(!photos.is_empty(), "no photos given");
    std::fs::create_dir_all(&out).expect("the output folder can be made");
    let started = Instant::now();
    let mut written = 0;
    for (i, photo) in photos.iter().enumerate() {
        let dir = out.join(i.to_string());
        std::fs::create_dir_all(&dir).expect("the output folder can be made");
        let rendered = backend::media::pipeline::photo::thumbnails_for_file(photo, &dir)
            .unwrap_or_else(|e| panic!("{}: {e:?}", photo.display()));
        written += rendered.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "photos": photos.len(), "seconds": seconds,
            "photos_per_s": photos.len() as f64 / seconds, "thumbnails": written })
    );
}
