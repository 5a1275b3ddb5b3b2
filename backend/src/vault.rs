//! The vault seals credentials Heirloom must keep but never show: webhook signing
//! secrets, credential headers of outbound calls, connector tokens. XChaCha20-Poly1305
//! with a random nonce per value; each sealed value names the key that sealed it, so a
//! key can be rotated while older values stay readable. The key comes from config or a
//! key file in the data folder, never from the database.

use std::collections::HashMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use blake2::{Blake2s256, Digest};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::error::{Error, Result};

const KEY_FILE: &str = "vault.key";
const PREFIX: &str = "v1";

pub struct Vault {
    current: String,
    current_key: [u8; 32],
    keys: HashMap<String, XChaCha20Poly1305>,
}

/// The 32 bytes of a base64 key, if it is one.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    BASE64.decode(text.trim()).ok()?.try_into().ok()
}

/// A short, stable name for a key that reveals nothing about it.
fn key_id(key: &[u8; 32]) -> String {
    let digest = Blake2s256::new_with_prefix(b"heirloom-vault-key-id").chain_update(key).finalize();
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl Vault {
    /// A vault over one key.
    pub fn with_key(key: [u8; 32]) -> Vault {
        let id = key_id(&key);
        let mut keys = HashMap::new();
        keys.insert(id.clone(), XChaCha20Poly1305::new(&key.into()));
        Vault { current: id, current_key: key, keys }
    }

    /// Keeps `old` readable while sealing with the current key (key rotation).
    pub fn also_open_with(mut self, old: [u8; 32]) -> Vault {
        self.keys.entry(key_id(&old)).or_insert_with(|| XChaCha20Poly1305::new(&old.into()));
        self
    }

    /// The configured key, else the data folder's key file, created on first start; and
    /// `vault_previous_keys`, which still open what they sealed (during a rotation).
    pub fn from_config(config: &Config) -> Result<Vault> {
        let mut vault = match &config.vault_key {
            Some(key) => Vault::with_key(decode_key(key.expose_secret()).ok_or_else(|| Error::Config {
                key: "vault_key".into(),
                message: "must be base64 of 32 bytes".into(),
            })?),
            None => Vault::with_key(load_or_create_key_file(&config.data_dir.join(KEY_FILE))?),
        };
        for old in &config.vault_previous_keys {
            let old = decode_key(old.expose_secret()).ok_or_else(|| Error::Config {
                key: "vault_previous_keys".into(),
                message: "each must be base64 of 32 bytes".into(),
            })?;
            vault = vault.also_open_with(old);
        }
        Ok(vault)
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Whether `sealed` was sealed with the current key (nothing to re-seal).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.split(':').next() == Some(self.current.as_str()))
    }

    /// The value opened with whichever key sealed it and sealed again with the current one.
    pub fn reseal(&self, sealed: &str) -> Result<String> {
        Ok(self.seal(&self.open(sealed)?))
    }

    /// A key for one purpose (signing media URLs…), derived from the current key so no
    /// second secret needs configuring; rotating the vault key rotates it too.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        let digest = Blake2s256::new_with_prefix(b"heirloom-vault-derive")
            .chain_update(self.current_key)
            .chain_update(purpose.as_bytes())
            .finalize();
        digest.into()
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = &self.keys[&self.current];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encrypting into a Vec cannot fail for inputs below the AEAD's 2^38-byte limit.
        let ciphertext = cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{PREFIX}:{}:{}", self.current, BASE64.encode(sealed))
    }

    /// The plaintext, or an error naming why it cannot be opened (unknown key, tampered).
    pub fn open(&self, sealed: &str) -> Result<String> {
        let unreadable = |why: &str| Error::internal("opening a sealed value", why.to_string());
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unreadable("not a sealed value"));
        };
        let cipher = self.keys.get(id).ok_or_else(|| unreadable("sealed with a key this instance does not have"))?;
        let bytes = BASE64.decode(data).map_err(|_| unreadable("damaged"))?;
        if bytes.len() < 24 {
            return Err(unreadable("damaged"));
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plaintext =
            cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| unreadable("wrong key or tampered"))?;
        String::from_utf8(plaintext).map_err(|_| unreadable("damaged"))
    }
}

/// Shows which keys the vault holds by id, never the keys.
impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Vault").field("current", &self.current).field("keys", &ids).finish_non_exhaustive()
    }
}

/// Every sealed value in the database, by table and column: the webhook signing
/// secrets, the outbound calls' credential headers and the connectors' tokens.
const SEALED_COLUMNS: &[(&str, &str, &str, &str)] = &[
    ("webhook secrets", "webhooks", "id", "sealed_secret"),
    ("call credentials", "calls", "id", "sealed_headers"),
    ("connector tokens", "connector_connections", "user_id || ':' || connector", "sealed_credential"),
];

/// What [`reseal_all`] did, per kind of value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// `(what, re-sealed, already under the current key, unreadable)` per kind of value.
    pub kinds: Vec<(&'static str, u64, u64, u64)>,
}

impl ResealReport {
    pub fn resealed(&self) -> u64 {
        self.kinds.iter().map(|k| k.1).sum()
    }

    pub fn unreadable(&self) -> u64 {
        self.kinds.iter().map(|k| k.3).sum()
    }
}

/// Re-seals every sealed value in the database under the vault's current key (after a
/// key rotation, with the old key in `vault_previous_keys`). Each row is replaced only
/// if it still holds the value read (a concurrent change wins); values no configured
/// key opens are counted as unreadable and left alone.
pub async fn reseal_all(db: &crate::db::Db, vault: &Vault) -> Result<ResealReport> {
    let mut report = ResealReport::default();
    for &(what, table, key, column) in SEALED_COLUMNS {
        let select = format!("SELECT {key} AS k, {column} AS v FROM {table} WHERE {column} IS NOT NULL");
        let rows: Vec<(String, String)> = db.fetch_all(&select, crate::args![]).await?;
        let update = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3");
        let (mut resealed, mut current, mut unreadable) = (0, 0, 0);
        for (id, sealed) in rows {
            if vault.is_current(&sealed) {
                current += 1;
                continue;
            }
            let Ok(fresh) = vault.reseal(&sealed) else {
                tracing::warn!(what, table, "a sealed value cannot be opened with the configured keys");
                unreadable += 1;
                continue;
            };
            resealed += db.execute(&update, crate::args![&fresh, &id, &sealed]).await?;
        }
        report.kinds.push((what, resealed, current, unreadable));
    }
    Ok(report)
}

fn load_or_create_key_file(path: &Path) -> Result<[u8; 32]> {
    let fail = |message: String| Error::DataDir { path: path.to_path_buf(), message };
    match std::fs::read_to_string(path) {
        Ok(text) => decode_key(&text).ok_or_else(|| fail("is not a base64 32-byte vault key".into())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = XChaCha20Poly1305::generate_key(&mut OsRng).into();
            write_private(path, &BASE64.encode(key)).map_err(|e| fail(format!("cannot be written: {e}")))?;
            Ok(key)
        }
        Err(err) => Err(fail(format!("cannot be read: {err}"))),
    }
}

/// Writes a key (base64) as the data folder's key file, readable by its owner only
/// (a restore that carried the key). Refuses to replace an existing file.
pub fn write_key_file(path: &Path, key: &str) -> Result<()> {
    if decode_key(key).is_none() {
        return Err(Error::invalid("archive", "holds a vault key that is not a base64 32-byte key"));
    }
    write_private(path, key)
        .map_err(|e| Error::DataDir { path: path.to_path_buf(), message: format!("cannot be written: {e}") })
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    // The key must outlive a power cut (what it sealed cannot be opened without it): the
    // file's bytes, then its name, which reaches the disk with an fsync of its folder.
    file.sync_all()?;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match std::fs::File::open(folder)?.sync_all() {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let vault = Vault::with_key([7; 32]);
        let sealed = vault.seal("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_eq!(vault.open(&sealed).unwrap(), "hunter2");
        assert_ne!(vault.seal("hunter2"), sealed, "each seal uses a fresh nonce");
        assert!(Vault::with_key([8; 32]).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(vault.open(&tampered).is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old = Vault::with_key([1; 32]);
        let sealed_old = old.seal("token");
        let rotated = Vault::with_key([2; 32]).also_open_with([1; 32]);
        assert_eq!(rotated.open(&sealed_old).unwrap(), "token");
        assert!(rotated.seal("x").contains(&key_id(&[2; 32])));
    }

    #[test]
    fn debug_names_keys_by_id_only() {
        let vault = Vault::with_key([3; 32]).also_open_with([4; 32]);
        let shown = format!("{vault:?}");
        assert!(shown.contains(&key_id(&[3; 32])) && shown.contains(&key_id(&[4; 32])), "{shown}");
        assert!(!shown.contains(&BASE64.encode([3u8; 32])), "{shown}");
        let sealed = vault.seal("x");
        assert!(vault.is_current(&sealed));
        assert!(!vault.is_current(&Vault::with_key([4; 32]).seal("x")));
        assert!(!vault.is_current("nonsense"));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = load_or_create_key_file(&path).unwrap();
        assert_eq!(load_or_create_key_file(&path).unwrap(), first);
        std::fs::write(&path, "nope").unwrap();
        assert!(load_or_create_key_file(&path).is_err());
    }
}
