//! GEDZIP archives (GEDCOM 7's `.gdz`): one zip holding `gedcom.ged` at its top and the
//! media files its `FILE` lines name by path within the archive. Reading only: the
//! archive is opened from memory, its GEDCOM file and each named file read at most to a
//! size limit, so a small archive that unpacks to gigabytes (a zip bomb) is refused
//! instead of filling memory.

use std::io::{Cursor, Read};

use crate::error::{Error, Result};

/// Where GEDZIP puts the GEDCOM file.
pub const GEDCOM_NAME: &str = "gedcom.ged";

/// Whether the bytes are a zip archive (its local file header's signature).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// An opened GEDZIP archive.
pub struct Gedzip<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
}

fn unreadable(err: impl std::fmt::Display) -> Error {
    Error::invalid("file", &format!("is a zip archive that does not read ({err})"))
}

impl<'a> Gedzip<'a> {
    /// Opens an archive; refused unless it holds `gedcom.ged` at its top.
    pub fn open(bytes: &'a [u8]) -> Result<Gedzip<'a>> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
        if archive.index_for_name(GEDCOM_NAME).is_none() {
            return Err(Error::invalid(
                "file",
                "is a zip archive without gedcom.ged at its top, which a GEDZIP file holds its family tree in",
            ));
        }
        Ok(Gedzip { archive })
    }

    /// The GEDCOM file, at most `max_bytes`.
    pub fn gedcom(&mut self, max_bytes: u64) -> Result<Vec<u8>> {
        match self.file(GEDCOM_NAME, max_bytes)? {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(too_large)) => {
                Err(Error::invalid("file", &format!("holds a gedcom.ged larger than {} MB", too_large / 1024 / 1024)))
            }
            None => Err(Error::invalid("file", "is a zip archive without gedcom.ged")),
        }
    }

    /// The file at `path` within the archive (a `FILE` line's path; a leading `./` is
    /// the same file): `None` when there is none, `Some(Err(limit))` when it holds more
    /// than `max_bytes`.
    pub fn file(&mut self, path: &str, max_bytes: u64) -> Result<Option<std::result::Result<Vec<u8>, u64>>> {
        let name = path.trim_start_matches("./");
        let Some(index) = self.archive.index_for_name(name) else { return Ok(None) };
        let entry = self.archive.by_index(index).map_err(unreadable)?;
        if entry.is_dir() {
            return Ok(None);
        }
        // The declared size may lie; reading one byte past the limit tells.
        let mut bytes = Vec::new();
        entry.take(max_bytes + 1).read_to_end(&mut bytes).map_err(unreadable)?;
        if bytes.len() as u64 > max_bytes {
            return Ok(Some(Err(max_bytes)));
        }
        Ok(Some(Ok(bytes)))
    }
}

/// A zip archive of `files` (`(name, bytes)`, Deflate), for tests.
#[cfg(any(test, feature = "testing"))]
#[allow(clippy::expect_used)] // Writing a zip to memory does not fail.
pub fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        writer.start_file(*name, options).expect("a file in a zip in memory");
        writer.write_all(bytes).expect("bytes into a zip in memory");
    }
    writer.finish().expect("a zip in memory");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gedcom_file_and_named_files_are_read_within_their_limits() {
        let bytes = archive(&[("gedcom.ged", b"0 HEAD\n0 TRLR\n"), ("media/rose.jpg", &[7u8; 5000])]);
        assert!(is_zip(&bytes));
        let mut gedzip = Gedzip::open(&bytes).unwrap();
        assert_eq!(gedzip.gedcom(1000).unwrap(), b"0 HEAD\n0 TRLR\n");
        assert_eq!(gedzip.file("./media/rose.jpg", 10_000).unwrap(), Some(Ok(vec![7u8; 5000])));
        assert_eq!(gedzip.file("media/rose.jpg", 100).unwrap(), Some(Err(100)), "past the limit");
        assert_eq!(gedzip.file("media/tom.jpg", 100).unwrap(), None);
        assert!(gedzip.gedcom(5).is_err());
    }

    #[test]
    fn an_archive_without_its_gedcom_file_or_that_does_not_read_is_refused() {
        let without = archive(&[("tree.ged", b"0 HEAD\n")]);
        let err = Gedzip::open(&without).err().unwrap().to_string();
        assert!(err.contains("without gedcom.ged"), "{err}");
        let mut broken = archive(&[("gedcom.ged", b"0 HEAD\n")]);
        broken.truncate(30);
        assert!(is_zip(&broken));
        assert!(Gedzip::open(&broken).is_err());
    }
}
