use todo_store_postgres::PostgresStore;

/// Replicas start together and each applies migrations on start: that must be safe.
#[tokio::test]
async fn concurrent_migrations_on_postgres_apply_once() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    // `db` is migrated; a second schema starts empty and gets migrated by three "replicas".
    let base = todo_testkit::postgres_url();
    let schema = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(
            &PostgresStore::connect(&db.url, 1)
                .await
                .expect("connect")
                .pool()
                .clone(),
        )
        .await
        .expect("create schema");
    let url = todo_testkit::schema_url(&base, &schema);
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(PostgresStore::connect(&url, 2).await.expect("connect"));
    }
    let results = futures::future::join_all(replicas.iter().map(|r| r.migrate())).await;
    for result in results {
        result.expect("every replica's migrate succeeds");
    }
    let store = &replicas[0];
    todo_core::Store::ping(store).await.expect("ping");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .expect("count");
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../todo-store-postgres/migrations"
    ))
    .expect("migrations dir")
    .count();
    assert_eq!(applied as usize, files);
}

#[tokio::test]
async fn migrating_twice_is_harmless_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/nested/todo.db", dir.path().display());
    for _ in 0..2 {
        let store = todo_store_sqlite::SqliteStore::connect(&url)
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        store.close().await;
    }
    assert!(
        dir.path().join("nested/todo.db").exists(),
        "the file and its folder are created"
    );
}
