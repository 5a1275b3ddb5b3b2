//! The data folder's free space: how much is left (the `heirloom_disk_free_bytes`
//! gauge) and the reserve the search index and media files never eat into. When the
//! disk fills, the database, which holds every acknowledged write, is the last to run
//! out: an upload or an index commit is refused while the reserve is all that is left,
//! and the database goes on writing into it.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bytes that may still be written to the data folder's file system.
pub const FREE_BYTES: &str = "heirloom_disk_free_bytes";

/// The data folder's file system, as seen by writers other than the database.
#[derive(Debug, Clone)]
pub struct Disk {
    dir: PathBuf,
    reserve_bytes: u64,
}

impl Disk {
    pub fn new(dir: &Path, reserve_bytes: u64) -> Disk {
        Disk { dir: dir.to_path_buf(), reserve_bytes }
    }

    pub fn from_config(config: &crate::Config) -> Disk {
        Disk::new(&config.data_dir, config.disk_reserve_mib.saturating_mul(1024 * 1024))
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_bytes
    }

    /// Bytes an unprivileged process may still write there (`statvfs`' `f_bavail`).
    pub fn free_bytes(&self) -> std::io::Result<u64> {
        fs4::available_space(&self.dir)
    }

    /// `Ok` when `bytes` more (an estimate is fine) still leave the reserve free;
    /// [`Error::StorageFull`] naming `what` otherwise. A file system that cannot be
    /// measured is not a reason to refuse: the write itself will tell.
    pub fn make_room(&self, what: &str, bytes: u64) -> Result<()> {
        let Ok(free) = self.free_bytes() else { return Ok(()) };
        metrics::gauge!(FREE_BYTES).set(free as f64);
        if free.saturating_sub(bytes) < self.reserve_bytes {
            return Err(Error::StorageFull(format!(
                "{what}: {free} bytes free in {}, {bytes} needed, {} kept for the database",
                self.dir.display(),
                self.reserve_bytes
            )));
        }
        Ok(())
    }

    /// Measures the free space into the gauge.
    pub fn record(&self) {
        match self.free_bytes() {
            Ok(free) => metrics::gauge!(FREE_BYTES).set(free as f64),
            Err(err) => tracing::warn!(dir = %self.dir.display(), error = %err, "cannot measure free disk space"),
        }
    }
}

/// Whether an IO error means the file system (or the user's quota) is full.
pub fn is_full(err: &std::io::Error) -> bool {
    matches!(err.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

/// Whether `err`, or any error it was caused by, is a full file system.
pub fn caused_by_full_disk(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if is_full(io) {
                return true;
            }
            // An IO error wrapping another keeps it out of `source()`.
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
        }
        // Some wrappers (an `Arc<io::Error>` inside tantivy's errors) hide the IO error
        // from `downcast_ref`; its text still names the errno.
        let text = err.to_string();
        if text.contains("(os error 28)") || text.contains("(os error 122)") {
            return true;
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_kept_and_full_disks_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let free = Disk::new(dir.path(), 0).free_bytes().unwrap();
        assert!(Disk::new(dir.path(), 0).make_room("a test", 1).is_ok());
        let refused = Disk::new(dir.path(), free + 1).make_room("a test", 0).unwrap_err();
        assert!(matches!(&refused, Error::StorageFull(why) if why.starts_with("a test: ")), "{refused:?}");
        assert!(Disk::new(dir.path(), free / 2).make_room("a test", free).is_err());
        assert!(is_full(&std::io::Error::from_raw_os_error(28)));
        assert!(!is_full(&std::io::Error::from_raw_os_error(2)));
        let wrapped = std::io::Error::other(std::io::Error::from_raw_os_error(28));
        assert!(caused_by_full_disk(&wrapped));
    }
}
