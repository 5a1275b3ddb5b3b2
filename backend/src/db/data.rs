//! Data migrations: rewrites of existing rows that portable SQL cannot express (Unicode
//! normalization has no SQL function on SQLite). They run after the SQL migrations, in
//! [`Db::migrate`], each once: a row in `data_migrations` records it. Each is idempotent
//! and rewrites a row only if it still holds what was read, so two replicas starting
//! together, or a crash half-way (it runs again from the start), do no harm, and an edit
//! saved meanwhile by a replica already serving is never overwritten.

use std::borrow::Cow;

use futures::future::BoxFuture;

use crate::db::{with_pool, with_tx, Db};
use crate::error::Result;
use crate::text::normalize;
use crate::time::now_millis;

/// One data migration: a stable name (its record) and what it does.
pub struct DataMigration {
    pub name: &'static str,
    pub run: for<'a> fn(&'a Db) -> BoxFuture<'a, Result<()>>,
}

/// Every data migration, in the order they run.
pub const ALL: &[DataMigration] =
    &[DataMigration { name: "20261123-story-text-lf-nfc", run: |db| Box::pin(normalize_story_text(db)) }];

/// Runs the data migrations this database has not recorded yet.
pub async fn run_pending(db: &Db) -> Result<()> {
    for migration in ALL {
        if applied(db, migration.name).await? {
            continue;
        }
        (migration.run)(db).await?;
        let sql = "INSERT INTO data_migrations (name, applied_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        with_pool!(db, |pool| {
            sqlx::query(sql).bind(migration.name).bind(now_millis()).execute(pool).await.map(|_| ())
        })?;
        tracing::info!(migration = migration.name, "data migration applied");
    }
    Ok(())
}

/// Runs every data migration again, recorded or not: after a restore, whose rows may
/// come from before them.
pub async fn run_all(db: &Db) -> Result<()> {
    for migration in ALL {
        (migration.run)(db).await?;
    }
    Ok(())
}

async fn applied(db: &Db, name: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM data_migrations WHERE name = $1";
    let n = with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql).bind(name).fetch_one(pool).await)?;
    Ok(n > 0)
}

/// Rows read and rewritten at a time.
const PAGE: i64 = 200;

/// Story titles and bodies, and those of their revisions, with LF line endings and in
/// NFC, as `text::normalize` makes everything typed from now on: a story saved once from
/// the plain form (CRLF) and once by autosave (LF) diffed as changed on every line.
async fn normalize_story_text(db: &Db) -> Result<()> {
    for table in ["stories", "story_revisions"] {
        let select = format!("SELECT id, title, body FROM {table} WHERE id > $1 ORDER BY id LIMIT $2");
        let update = format!("UPDATE {table} SET title = $2, body = $3 WHERE id = $1 AND title = $4 AND body = $5");
        let mut after = String::new();
        loop {
            let rows: Vec<(String, String, String)> =
                with_pool!(db, |pool| { sqlx::query_as(&select).bind(&after).bind(PAGE).fetch_all(pool).await })?;
            let Some((last, ..)) = rows.last() else { break };
            after = last.clone();
            let mut tx = db.begin().await?;
            for (id, title, body) in &rows {
                let (new_title, new_body) = (normalize(title), normalize(body));
                if matches!((&new_title, &new_body), (Cow::Borrowed(_), Cow::Borrowed(_))) {
                    continue;
                }
                with_tx!(&mut tx, |conn| {
                    sqlx::query(&update)
                        .bind(id)
                        .bind(new_title.as_ref())
                        .bind(new_body.as_ref())
                        .bind(title)
                        .bind(body)
                        .execute(conn)
                        .await
                        .map(|_| ())
                })?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
