//! The database layer and the users repository, run against SQLite and PostgreSQL.

use backend::db::{with_pool, with_tx, Db, Engine};
use backend::identity::{repo, NewUser, Role};
use backend::{db_test, Error};

fn ana() -> NewUser {
    NewUser::new("Ana@Example.org", "Ana", Role::Admin).unwrap()
}

db_test!(migrations_are_all_applied, |db| {
    assert!(db.pending_migrations().await.unwrap().is_empty());
    db.ping().await.unwrap();
    // Running them again is a no-op, as it is on every start.
    db.migrate().await.unwrap();
});

db_test!(a_user_round_trips, |db| {
    let created = repo::insert(db, &ana()).await.unwrap();
    assert_eq!(created.email, "ana@example.org");
    assert_eq!(created.role(), Role::Admin);
    assert!(!created.disabled);
    assert_eq!(uuid::Uuid::parse_str(&created.id).unwrap().get_version_num(), 7);
    assert!(created.created_at > 1_700_000_000_000, "milliseconds, not seconds");

    let by_id = repo::find_by_id(db, &created.id).await.unwrap().unwrap();
    assert_eq!(by_id, created);
    let by_email = repo::find_by_email(db, "  ANA@example.ORG").await.unwrap().unwrap();
    assert_eq!(by_email, created);
    assert_eq!(repo::count(db).await.unwrap(), 1);
    assert!(repo::find_by_id(db, "no-such-id").await.unwrap().is_none());
});

db_test!(an_email_in_use_is_a_conflict_and_changes_nothing, |db| {
    repo::insert(db, &ana()).await.unwrap();
    let again = NewUser::new("ana@example.org", "Another Ana", Role::Member).unwrap();
    let err = repo::insert(db, &again).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(ref m) if m.contains("email")), "{err:?}");
    assert_eq!(repo::count(db).await.unwrap(), 1);
    assert_eq!(repo::find_by_email(db, "ana@example.org").await.unwrap().unwrap().display_name, "Ana");
});

db_test!(booleans_decode_on_both_engines, |db| {
    let user = repo::insert(db, &ana()).await.unwrap();
    let disabled = repo::set_disabled(db, &user.id, true).await.unwrap();
    assert!(disabled.disabled);
    assert!(disabled.updated_at >= user.updated_at);
    assert!(repo::find_by_id(db, &user.id).await.unwrap().unwrap().disabled);
    let missing = repo::set_disabled(db, "nobody", true).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { what: "user" }));
});

db_test!(a_transaction_rolls_back_unless_committed, |db| {
    let insert = "INSERT INTO users (id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, 'T', 'member', 0, 0)";
    let mut tx = db.begin().await.unwrap();
    with_tx!(&mut tx, |conn| sqlx::query(insert).bind("t1").bind("t1@example.org").execute(conn).await.map(|_| ()))
        .unwrap();
    drop(tx);
    assert_eq!(repo::count(db).await.unwrap(), 0);

    let mut tx = db.begin().await.unwrap();
    with_tx!(&mut tx, |conn| sqlx::query(insert).bind("t2").bind("t2@example.org").execute(conn).await.map(|_| ()))
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(repo::count(db).await.unwrap(), 1);
});

db_test!(placeholders_may_repeat_and_come_out_of_order, |db| {
    let row: (i64, String) = with_pool!(db, |pool| {
        sqlx::query_as::<_, (i64, String)>("SELECT $2 + $2, $1").bind("x").bind(20_i64).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(row, (40, "x".to_string()));
});

#[tokio::test]
async fn sqlite_runs_with_wal_and_foreign_keys() {
    let test_db = backend::testing::TestDb::sqlite().await;
    let Db::Sqlite(pool) = &test_db.db else { panic!("expected SQLite") };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    assert_eq!(mode, "wal");
    let fks: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
    assert_eq!(fks, 1);
    assert_eq!(test_db.db.engine(), Engine::Sqlite);
    test_db.cleanup().await;
}
