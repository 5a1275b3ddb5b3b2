//! The browser's static files under the site root: `pkg/` (the islands' WASM and JS
//! glue, the CSS) and `editor/` (the editor bundle). Each is served with its gzip twin
//! (`heirloom.wasm.gz`) to browsers that accept gzip, which takes the WASM from ~590 to
//! ~230 KiB on the wire. Twins are made once, at start, beside the files (the Docker
//! image ships them made) and made again when a file is newer than its twin, so a
//! rebuilt site never serves a stale twin. Names carry no content hash, so browsers
//! revalidate (Last-Modified) rather than cache for long.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use tower_http::services::ServeDir;

/// The folders under the site root holding what browsers download.
pub const FOLDERS: [&str; 2] = ["pkg", "editor"];

/// Files worth compressing (images and the like are compressed already).
const COMPRESSIBLE: [&str; 5] = ["wasm", "js", "css", "svg", "json"];

pub fn service(site_root: &Path, folder: &str) -> ServeDir {
    ServeDir::new(site_root.join(folder)).precompressed_gzip()
}

/// Makes the missing or stale gzip twins of every folder, off the async threads. A
/// read-only site (a container's) that lacks them is served uncompressed, and says so.
pub fn refresh_twins_in_background(site_root: PathBuf) {
    tokio::task::spawn_blocking(move || {
        for folder in FOLDERS {
            let dir = site_root.join(folder);
            match refresh_twins(&dir) {
                Ok(0) => {}
                Ok(made) => tracing::info!(folder = %dir.display(), made, "compressed static files"),
                Err(err) => tracing::warn!(folder = %dir.display(), error = %err,
                    "cannot write gzip twins of the static files; they are served uncompressed"),
            }
        }
    });
}

/// Writes `<file>.gz` for each compressible file in `dir` whose twin is missing or
/// older; returns how many were written. A missing folder has nothing to do.
pub fn refresh_twins(dir: &Path) -> std::io::Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(0) };
    let mut made = 0;
    for entry in entries {
        let path = entry?.path();
        let compressible = path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible || !path.is_file() {
            continue;
        }
        let twin = PathBuf::from(format!("{}.gz", path.display()));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if matches!((modified(&path), modified(&twin)), (Some(file), Some(gz)) if gz >= file) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        // Written aside and renamed, so a request never sees half a twin.
        let partial = PathBuf::from(format!("{}.gz.partial", path.display()));
        let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::best());
        encoder.write_all(&bytes)?;
        std::fs::write(&partial, encoder.finish()?)?;
        std::fs::rename(&partial, &twin)?;
        made += 1;
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn twins_are_made_for_compressible_files_and_remade_when_stale() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("app.wasm");
        std::fs::write(&wasm, vec![7u8; 10_000]).unwrap();
        std::fs::write(dir.path().join("photo.png"), b"png").unwrap();
        assert_eq!(refresh_twins(dir.path()).unwrap(), 1, "only the WASM");
        assert!(!dir.path().join("photo.png.gz").exists());
        let twin = dir.path().join("app.wasm.gz");
        let unzip = |p: &Path| {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap()).read_to_end(&mut out).unwrap();
            out
        };
        assert_eq!(unzip(&twin), vec![7u8; 10_000]);
        assert_eq!(refresh_twins(dir.path()).unwrap(), 0, "a fresh twin is kept");

        // A rebuilt file: its twin is older and is made again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, vec![9u8; 5_000]).unwrap();
        assert_eq!(refresh_twins(dir.path()).unwrap(), 1);
        assert_eq!(unzip(&twin), vec![9u8; 5_000]);
        assert_eq!(refresh_twins(&dir.path().join("missing")).unwrap(), 0);
    }
}
