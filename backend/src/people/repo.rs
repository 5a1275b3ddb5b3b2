//! SQL for people, their revisions and relationships, written once for both engines.

use types::{LegacyId, PersonId, RelationshipId, UserId};

use crate::args;
use crate::db::{placeholders, Args, Conn, Db, Tx};
use crate::error::Result;
use crate::people::model::{PersonFields, PersonRow, RelationshipRow};

const PERSON_SELECT: &str = "SELECT p.id, p.legacy_id, l.name AS legacy_name, p.given_names, p.surname, \
    p.birth_surname, p.nicknames, p.sex, p.birth_date, p.birth_place, p.death_date, p.death_place, p.living, p.bio, \
    p.portrait_id, p.is_subject, p.gedcom_xref, p.user_id, p.version, p.updated_at FROM persons p JOIN legacies l ON l.id = p.legacy_id";

const RELATIONSHIP_COLUMNS: &str = "id, legacy_id, kind, subkind, person_a, person_b, start_date, end_date";

/// The most ids one `IN (…)` list binds (well under either engine's parameter limit).
const IN_CHUNK: usize = 500;

/// A person about to be stored.
pub struct NewPerson<'a> {
    pub id: &'a PersonId,
    pub legacy_id: &'a LegacyId,
    pub fields: &'a PersonFields,
    pub is_subject: bool,
    pub gedcom_xref: Option<&'a str>,
    pub by: &'a UserId,
    pub now: i64,
}

/// The changeable fields as statement arguments, in the order [`FIELD_COLUMNS`] names them.
fn field_args(f: &PersonFields) -> Vec<crate::db::Arg> {
    args![
        &f.given_names,
        &f.surname,
        &f.birth_surname,
        &f.nicknames,
        f.sex,
        &f.birth_date,
        f.birth_sort(),
        &f.birth_place,
        &f.death_date,
        f.death_sort(),
        &f.death_place,
        f.living,
        &f.bio,
        &f.portrait_id
    ]
    .0
}

/// The columns [`field_args`] fills.
const FIELD_COLUMNS: [&str; 14] = [
    "given_names",
    "surname",
    "birth_surname",
    "nicknames",
    "sex",
    "birth_date",
    "birth_sort",
    "birth_place",
    "death_date",
    "death_sort",
    "death_place",
    "living",
    "bio",
    "portrait_id",
];

pub async fn insert_tx(tx: &mut Tx, person: &NewPerson<'_>) -> Result<()> {
    // $1..$14 are the fields; the rest follow them.
    let sql = format!(
        "INSERT INTO persons ({}, id, legacy_id, is_subject, gedcom_xref, version, created_by, created_at, updated_by, \
         updated_at) VALUES ({}, $15, $16, $17, $18, 1, $19, $20, $19, $20)",
        FIELD_COLUMNS.join(", "),
        placeholders(1, FIELD_COLUMNS.len())
    );
    let mut args = Args(field_args(person.fields));
    args.0.extend(args![person.id, person.legacy_id, person.is_subject, person.gedcom_xref, person.by, person.now].0);
    tx.execute(&sql, args).await?;
    Ok(())
}

/// Writes `fields` over the person if it is still at `expected_version`; false when it
/// is not (changed since, or gone).
pub async fn update_tx(
    tx: &mut Tx,
    id: &PersonId,
    expected_version: i64,
    fields: &PersonFields,
    by: &UserId,
    now: i64,
) -> Result<bool> {
    let set: Vec<String> =
        FIELD_COLUMNS.iter().enumerate().map(|(i, column)| format!("{column} = ${}", i + 1)).collect();
    let sql = format!(
        "UPDATE persons SET {}, version = version + 1, updated_by = $15, updated_at = $16 WHERE id = $17 AND version = $18",
        set.join(", ")
    );
    let mut args = Args(field_args(fields));
    args.0.extend(args![by, now, id, expected_version].0);
    Ok(tx.execute(&sql, args).await? == 1)
}

/// Deletes a person of `legacy_id` (their relationships go with them).
pub async fn delete_tx(tx: &mut Tx, legacy_id: &LegacyId, id: &PersonId) -> Result<()> {
    tx.execute("DELETE FROM persons WHERE id = $1", args![id]).await?;
    graph_changed_tx(tx, legacy_id).await
}

/// Marks the legacy's family graph as changed, so the copies kept in memory
/// (`graph::Graphs`) load it again. Every write of relationships calls it.
async fn graph_changed_tx(tx: &mut Tx, legacy_id: &LegacyId) -> Result<()> {
    tx.execute("UPDATE legacies SET graph_version = graph_version + 1 WHERE id = $1", args![legacy_id]).await?;
    Ok(())
}

/// The version of the legacy's family graph (see [`graph_changed_tx`]); `None` when the
/// legacy is gone.
pub async fn graph_version(db: &Db, legacy_id: &LegacyId) -> Result<Option<i64>> {
    db.scalar_optional("SELECT graph_version FROM legacies WHERE id = $1", args![legacy_id]).await
}

/// An edge of the family graph, as the relationship finder walks it.
#[derive(sqlx::FromRow)]
pub struct GraphEdge {
    pub kind: String,
    pub subkind: String,
    pub person_a: PersonId,
    pub person_b: PersonId,
}

/// Every relationship of a legacy.
pub async fn graph_edges(db: &Db, legacy_id: &LegacyId) -> Result<Vec<GraphEdge>> {
    let sql = "SELECT kind, subkind, person_a, person_b FROM relationships WHERE legacy_id = $1";
    db.fetch_all(sql, args![legacy_id]).await
}

pub async fn insert_revision_tx(
    tx: &mut Tx,
    id: &PersonId,
    version: i64,
    fields: &PersonFields,
    by: &UserId,
    now: i64,
) -> Result<()> {
    let snapshot =
        serde_json::to_string(fields).map_err(|e| crate::Error::internal("encoding a person revision", e))?;
    let sql = "INSERT INTO person_revisions (person_id, version, snapshot, author_id, created_at) VALUES ($1, $2, $3, $4, $5)";
    tx.execute(sql, args![id, version, snapshot, by, now]).await?;
    Ok(())
}

pub async fn find<'c>(conn: impl Into<Conn<'c>>, id: &PersonId) -> Result<Option<PersonRow>> {
    conn.into().fetch_optional(&format!("{PERSON_SELECT} WHERE p.id = $1"), args![id]).await
}

/// The people of `ids` that exist, in no particular order.
pub async fn find_many(db: &Db, ids: &[&PersonId]) -> Result<Vec<PersonRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!("{PERSON_SELECT} WHERE p.id IN ({})", placeholders(1, chunk.len()));
        rows.extend(db.fetch_all::<PersonRow>(&sql, Args(chunk.iter().map(|id| (*id).into()).collect())).await?);
    }
    Ok(rows)
}

/// A legacy's people by surname and given names, at most `limit` after `after` (the
/// `(surname, given_names, id)` of the last one of the previous page).
pub async fn in_legacy(
    db: &Db,
    legacy_id: &LegacyId,
    after: Option<(&str, &str, &str)>,
    limit: i64,
) -> Result<Vec<PersonRow>> {
    match after {
        None => {
            let sql =
                format!("{PERSON_SELECT} WHERE p.legacy_id = $1 ORDER BY p.surname, p.given_names, p.id LIMIT $2");
            db.fetch_all(&sql, args![legacy_id, limit]).await
        }
        Some((surname, given, id)) => {
            let sql = format!(
                "{PERSON_SELECT} WHERE p.legacy_id = $1 AND (p.surname > $2 OR (p.surname = $2 AND \
                 (p.given_names > $3 OR (p.given_names = $3 AND p.id > $4)))) \
                 ORDER BY p.surname, p.given_names, p.id LIMIT $5"
            );
            db.fetch_all(&sql, args![legacy_id, surname, given, id, limit]).await
        }
    }
}

/// People of a legacy any of whose names contains `text` (lower case), by surname.
pub async fn matching(db: &Db, legacy_id: &LegacyId, text: &str, limit: i64) -> Result<Vec<PersonRow>> {
    let escaped: String =
        text.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
    let sql = format!(
        "{PERSON_SELECT} WHERE p.legacy_id = $1 AND LOWER(p.given_names || ' ' || p.surname || ' ' || p.birth_surname \
         || ' ' || p.nicknames) LIKE $2 ESCAPE '\\' ORDER BY p.surname, p.given_names, p.id LIMIT $3"
    );
    db.fetch_all(&sql, args![legacy_id, format!("%{escaped}%"), limit]).await
}

/// Every person of a legacy, by surname (an export).
pub async fn all_in_legacy(db: &Db, legacy_id: &LegacyId) -> Result<Vec<PersonRow>> {
    let sql = format!("{PERSON_SELECT} WHERE p.legacy_id = $1 ORDER BY p.surname, p.given_names, p.id");
    db.fetch_all(&sql, args![legacy_id]).await
}

/// The people of a legacy that came from a GEDCOM file (a re-import matches them).
pub async fn with_gedcom_xref<'c>(conn: impl Into<Conn<'c>>, legacy_id: &LegacyId) -> Result<Vec<PersonRow>> {
    let sql = format!("{PERSON_SELECT} WHERE p.legacy_id = $1 AND p.gedcom_xref IS NOT NULL");
    conn.into().fetch_all(&sql, args![legacy_id]).await
}

/// Up to `limit` people of any legacy with ids after `after_id`, in id order (a keyset
/// page, for rebuilding the search index).
pub async fn after(db: &Db, after_id: &str, limit: i64) -> Result<Vec<PersonRow>> {
    db.fetch_all(&format!("{PERSON_SELECT} WHERE p.id > $1 ORDER BY p.id LIMIT $2"), args![after_id, limit]).await
}

pub async fn subject_of(db: &Db, legacy_id: &LegacyId) -> Result<Option<PersonId>> {
    db.scalar_optional("SELECT id FROM persons WHERE legacy_id = $1 AND is_subject", args![legacy_id]).await
}

/// The person of a legacy a user said is them.
pub async fn of_user<'c>(
    conn: impl Into<Conn<'c>>,
    legacy_id: &LegacyId,
    user_id: &UserId,
) -> Result<Option<PersonRow>> {
    let sql = format!("{PERSON_SELECT} WHERE p.legacy_id = $1 AND p.user_id = $2");
    conn.into().fetch_optional(&sql, args![legacy_id, user_id]).await
}

/// Every person a user said is them, one a legacy, by legacy name.
pub async fn all_of_user(db: &Db, user_id: &UserId) -> Result<Vec<PersonRow>> {
    db.fetch_all(&format!("{PERSON_SELECT} WHERE p.user_id = $1 ORDER BY l.name, p.id"), args![user_id]).await
}

/// Says `id` is `user_id` (or nobody with `None`); a user's earlier person in the same
/// legacy is let go first. False when the person is someone else's.
pub async fn set_user_tx(tx: &mut Tx, legacy_id: &LegacyId, id: &PersonId, user_id: Option<&UserId>) -> Result<bool> {
    match user_id {
        Some(user_id) => {
            let sql = "UPDATE persons SET user_id = NULL WHERE legacy_id = $1 AND user_id = $2 AND id <> $3";
            tx.execute(sql, args![legacy_id, user_id, id]).await?;
            let sql = "UPDATE persons SET user_id = $2 WHERE id = $1 AND (user_id IS NULL OR user_id = $2)";
            Ok(tx.execute(sql, args![id, user_id]).await? == 1)
        }
        None => Ok(tx.execute("UPDATE persons SET user_id = NULL WHERE id = $1", args![id]).await? == 1),
    }
}

// --- relationships ---

pub struct NewRelationship<'a> {
    pub id: &'a RelationshipId,
    pub legacy_id: &'a LegacyId,
    pub kind: &'a str,
    pub subkind: &'a str,
    pub person_a: &'a PersonId,
    pub person_b: &'a PersonId,
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub by: &'a UserId,
    pub now: i64,
}

/// Stores the relationship; false when the same one (kind and people) already exists.
pub async fn insert_relationship_tx(tx: &mut Tx, r: &NewRelationship<'_>) -> Result<bool> {
    let sql = format!(
        "INSERT INTO relationships ({RELATIONSHIP_COLUMNS}, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, person_a, person_b) DO NOTHING"
    );
    let args =
        args![r.id, r.legacy_id, r.kind, r.subkind, r.person_a, r.person_b, r.start_date, r.end_date, r.by, r.now];
    let inserted = tx.execute(&sql, args).await? == 1;
    if inserted {
        graph_changed_tx(tx, r.legacy_id).await?;
    }
    Ok(inserted)
}

pub async fn find_relationship<'c>(conn: impl Into<Conn<'c>>, id: &RelationshipId) -> Result<Option<RelationshipRow>> {
    let sql = format!("SELECT {RELATIONSHIP_COLUMNS} FROM relationships WHERE id = $1");
    conn.into().fetch_optional(&sql, args![id]).await
}

pub async fn delete_relationship_tx(tx: &mut Tx, legacy_id: &LegacyId, id: &RelationshipId) -> Result<bool> {
    let deleted = tx.execute("DELETE FROM relationships WHERE id = $1", args![id]).await? == 1;
    if deleted {
        graph_changed_tx(tx, legacy_id).await?;
    }
    Ok(deleted)
}

/// Every relationship that touches one of `ids`.
pub async fn relationships_of<'c>(conn: impl Into<Conn<'c>>, ids: &[&PersonId]) -> Result<Vec<RelationshipRow>> {
    let mut conn = conn.into();
    let mut rows = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let list = placeholders(1, chunk.len());
        let sql = format!(
            "SELECT {RELATIONSHIP_COLUMNS} FROM relationships WHERE person_a IN ({list}) \
             UNION SELECT {RELATIONSHIP_COLUMNS} FROM relationships WHERE person_b IN ({list})"
        );
        let args = Args(chunk.iter().map(|id| (*id).into()).collect());
        rows.extend(conn.reborrow().fetch_all::<RelationshipRow>(&sql, args).await?);
    }
    Ok(rows)
}

/// The parent relationships of each of `ids` (edges where they are the child).
pub async fn parents_of<'c>(conn: impl Into<Conn<'c>>, ids: &[&PersonId]) -> Result<Vec<RelationshipRow>> {
    let mut conn = conn.into();
    let mut rows = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT {RELATIONSHIP_COLUMNS} FROM relationships WHERE kind = 'parent' AND person_b IN ({})",
            placeholders(1, chunk.len())
        );
        let args = Args(chunk.iter().map(|id| (*id).into()).collect());
        rows.extend(conn.reborrow().fetch_all::<RelationshipRow>(&sql, args).await?);
    }
    Ok(rows)
}
