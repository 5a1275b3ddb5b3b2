//! `heirloom backup` and `heirloom restore`: one gzip'd tar archive holding the database
//! as engine-neutral JSON lines (one file per table, read in one snapshot transaction
//! while the server keeps running), every stored media file, the settings without
//! secrets, and (only when asked) the vault key. A backup of SQLite restores into
//! PostgreSQL and the other way round; the search index is rebuilt on restore.
//!
//! Archive layout: `manifest.json`, `db/<table>.jsonl`, `media/<storage key>`,
//! `config.toml`, optionally `vault.key`.

pub mod tables;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::db::{Db, Engine};
use crate::error::{Error, Result};
use crate::media::{model as media_model, Storage};
use crate::time::now_millis;

const FORMAT: u32 = 1;

/// What an archive holds, written first so a restore can refuse early.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub heirloom_version: String,
    pub created_at: i64,
    /// The engine the backup was taken from (`sqlite` or `postgres`).
    pub engine: String,
    /// The newest migration the database had.
    pub schema_version: i64,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    pub media_files: u64,
    /// Media files a row names that the storage did not have (deleted meanwhile).
    pub media_missing: u64,
    pub vault_key_included: bool,
}

fn archive_error(what: &str, err: impl Into<crate::error::BoxError>) -> Error {
    Error::internal(format!("backup archive: cannot {what}"), err)
}

/// Writes a backup of the database and media named by `config` to `target`.
pub async fn create(
    config: &Config,
    db: &Db,
    storage: Arc<dyn Storage>,
    target: &Path,
    include_vault_key: bool,
) -> Result<Manifest> {
    let work = tempfile::tempdir().map_err(|e| archive_error("make a work folder", e))?;
    let (tables, schema_version, media_keys) = export_database(db, work.path()).await?;

    let media_dir = work.path().join("media");
    let (mut media_files, mut media_missing) = (0u64, 0u64);
    for key in &media_keys {
        let path = media_dir.join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| archive_error("make a work folder", e))?;
        }
        match storage.fetch_to_file(key, &path).await {
            Ok(_) => media_files += 1,
            Err(Error::NotFound { .. }) => media_missing += 1,
            Err(err) => return Err(err),
        }
    }

    let manifest = Manifest {
        format: FORMAT,
        heirloom_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: now_millis(),
        engine: match db.engine() {
            Engine::Sqlite => "sqlite".into(),
            Engine::Postgres => "postgres".into(),
        },
        schema_version,
        tables,
        media_files,
        media_missing,
        vault_key_included: include_vault_key,
    };
    let vault_key = if include_vault_key { Some(vault_key_text(config)?) } else { None };
    let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|e| archive_error("write the manifest", e))?;
    let public_config = config.public_toml();
    let (work_path, target) = (work.path().to_path_buf(), target.to_path_buf());
    tokio::task::spawn_blocking(move || {
        write_archive(&work_path, &target, &manifest_json, &public_config, vault_key.as_deref())
    })
    .await
    .map_err(|e| archive_error("write", e))??;
    Ok(manifest)
}

fn vault_key_text(config: &Config) -> Result<String> {
    use secrecy::ExposeSecret;
    match &config.vault_key {
        Some(key) => Ok(key.expose_secret().to_string()),
        None => {
            // The key file appears on a server's first start; make sure it exists.
            crate::vault::Vault::from_config(config)?;
            std::fs::read_to_string(config.data_dir.join("vault.key"))
                .map(|k| k.trim().to_string())
                .map_err(|e| archive_error("read the vault key file", e))
        }
    }
}

/// Each table to `db/<table>.jsonl` from one snapshot; returns row counts, the schema
/// version and the storage keys of every media file the rows name.
async fn export_database(db: &Db, work: &Path) -> Result<(BTreeMap<String, u64>, i64, Vec<String>)> {
    let dir = work.join("db");
    std::fs::create_dir_all(&dir).map_err(|e| archive_error("make a work folder", e))?;
    let mut counts = BTreeMap::new();
    let mut media_keys = Vec::new();
    macro_rules! export {
        ($pool:expr, $begin:expr) => {{
            let mut conn = $pool.acquire().await?;
            // One read snapshot for every table: the server may keep writing meanwhile.
            sqlx::query($begin).execute(&mut *conn).await?;
            let version: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut *conn).await?;
            for table in tables::TABLES {
                let columns = tables::columns(db, table).await?;
                let file = std::fs::File::create(dir.join(format!("{table}.jsonl")))
                    .map_err(|e| archive_error("write a table", e))?;
                let mut out = std::io::BufWriter::new(file);
                let sql = tables::select_sql(table, &columns);
                let mut rows = sqlx::query(&sql).fetch(&mut *conn);
                let mut n = 0u64;
                while let Some(row) = rows.try_next().await? {
                    let object = tables::row_to_json(&row, &columns)?;
                    if *table == "media" {
                        media_keys.extend(media_files_of(&object));
                    }
                    serde_json::to_writer(&mut out, &object).map_err(|e| archive_error("write a table", e))?;
                    out.write_all(b"\n").map_err(|e| archive_error("write a table", e))?;
                    n += 1;
                }
                drop(rows);
                out.flush().map_err(|e| archive_error("write a table", e))?;
                counts.insert(table.to_string(), n);
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            version.unwrap_or_default()
        }};
    }
    let version = match db {
        Db::Sqlite(pool) => export!(pool, "BEGIN"),
        Db::Postgres(pool) => export!(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
    };
    Ok((counts, version, media_keys))
}

/// The storage keys of a media row: the upload (once complete) and each derived file.
fn media_files_of(row: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    let id = row.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let state = row.get("state").and_then(|v| v.as_str()).unwrap_or_default();
    if id.is_empty() || matches!(state, "uploading" | "rejected") {
        return Vec::new();
    }
    let mut keys = vec![media_model::original_key(id)];
    let variants: Vec<media_model::Variant> =
        row.get("variants").and_then(|v| v.as_str()).and_then(|v| serde_json::from_str(v).ok()).unwrap_or_default();
    keys.extend(variants.iter().map(|v| media_model::variant_key(id, &v.name)));
    keys
}

fn write_archive(work: &Path, target: &Path, manifest: &[u8], config: &str, vault_key: Option<&str>) -> Result<()> {
    // Written beside the target and renamed, so a cut-off backup never looks complete.
    let partial = target.with_extension("partial");
    let file =
        std::fs::File::create(&partial).map_err(|e| archive_error(&format!("create {}", target.display()), e))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, flate2::Compression::fast()));
    let mut add_bytes = |name: &str, bytes: &[u8], mode: u32| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(mode);
        header.set_mtime(u64::try_from(now_millis() / 1000).unwrap_or_default());
        header.set_cksum();
        tar.append_data(&mut header, name, bytes).map_err(|e| archive_error("write", e))
    };
    add_bytes("manifest.json", manifest, 0o644)?;
    add_bytes("config.toml", config.as_bytes(), 0o644)?;
    if let Some(key) = vault_key {
        add_bytes("vault.key", key.as_bytes(), 0o600)?;
    }
    for sub in ["db", "media"] {
        if work.join(sub).is_dir() {
            tar.append_dir_all(sub, work.join(sub)).map_err(|e| archive_error("write", e))?;
        }
    }
    let encoder = tar.into_inner().map_err(|e| archive_error("write", e))?;
    let file = encoder.finish().map_err(|e| archive_error("write", e))?;
    file.sync_all().map_err(|e| archive_error("write", e))?;
    std::fs::rename(&partial, target).map_err(|e| archive_error("write", e))
}

/// What a restore put back.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    pub rows: u64,
    pub media_files: u64,
    pub vault_key_written: bool,
}

/// Restores `archive` into the (empty) database and media storage of `config`. Refuses
/// a database that already has accounts, or media storage that already has files.
pub async fn restore(config: &Config, db: &Db, storage: Arc<dyn Storage>, archive: &Path) -> Result<Restored> {
    let work = tempfile::tempdir().map_err(|e| archive_error("make a work folder", e))?;
    let (archive_path, work_path) = (archive.to_path_buf(), work.path().to_path_buf());
    tokio::task::spawn_blocking(move || unpack(&archive_path, &work_path))
        .await
        .map_err(|e| archive_error("read", e))??;
    let manifest: Manifest = std::fs::read(work.path().join("manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Error::invalid("archive", "is not a Heirloom backup (no readable manifest.json)"))?;
    if manifest.format != FORMAT {
        return Err(Error::invalid(
            "archive",
            &format!("has format {}, this Heirloom reads format {FORMAT}", manifest.format),
        ));
    }
    let known = crate::db::MIGRATOR.iter().map(|m| m.version).max().unwrap_or_default();
    if manifest.schema_version > known {
        return Err(Error::invalid(
            "archive",
            "was made by a newer Heirloom (its database has migrations this one does not know); upgrade first",
        ));
    }
    let users: i64 =
        crate::db::with_pool!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?;
    if users > 0 {
        return Err(Error::Conflict(
            "The database already has accounts. Restore into an empty database and data folder.".into(),
        ));
    }

    let rows = import_database(db, &work.path().join("db")).await?;
    // The backup may predate data migrations this database has recorded as done.
    crate::db::data::run_all(db).await?;
    let mut media_files = 0u64;
    let media_root = work.path().join("media");
    for path in files_under(&media_root)? {
        let key =
            path.strip_prefix(&media_root).map_err(|e| archive_error("read", e))?.to_string_lossy().replace('\\', "/");
        storage.put_file(&key, &path, "application/octet-stream").await?;
        media_files += 1;
    }
    let mut vault_key_written = false;
    let key_file = config.data_dir.join("vault.key");
    if let Ok(key) = std::fs::read_to_string(work.path().join("vault.key")) {
        if config.vault_key.is_none() && !key_file.exists() {
            crate::vault::write_key_file(&key_file, key.trim())?;
            vault_key_written = true;
        }
    }
    Ok(Restored { manifest, rows, media_files, vault_key_written })
}

fn unpack(archive: &Path, work: &Path) -> Result<()> {
    let file =
        std::fs::File::open(archive).map_err(|e| Error::invalid("archive", &format!("cannot be opened: {e}")))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    // `unpack` refuses entries that would land outside `work` (absolute paths, `..`).
    tar.unpack(work).map_err(|e| Error::invalid("archive", &format!("is not a readable backup: {e}")))
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(found) };
    for entry in entries {
        let path = entry.map_err(|e| archive_error("read", e))?.path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Inserts every table's rows in one transaction, parents first.
async fn import_database(db: &Db, dir: &Path) -> Result<u64> {
    let mut tx = db.begin().await?;
    let mut total = 0u64;
    for table in tables::TABLES {
        let path = dir.join(format!("{table}.jsonl"));
        // A table newer than the backup simply has no rows in it.
        let Ok(file) = std::fs::File::open(&path) else { continue };
        let columns = tables::columns(db, table).await?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| archive_error("read", e))?;
            if line.trim().is_empty() {
                continue;
            }
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line)
                .map_err(|e| Error::invalid("archive", &format!("has a damaged row in {table}: {e}")))?;
            let present: Vec<&tables::Column> = columns.iter().filter(|c| object.contains_key(&c.name)).collect();
            let sql = tables::insert_sql(table, &present);
            crate::db::with_tx!(&mut tx, |conn| {
                let mut query = sqlx::query(&sql);
                for column in &present {
                    query = tables::bind(query, column, &object[&column.name])?;
                }
                query.execute(conn).await.map(|_| ())
            })?;
            total += 1;
        }
    }
    tx.commit().await?;
    Ok(total)
}
