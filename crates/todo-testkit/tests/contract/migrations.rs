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

/// The SQLite migration files, in order.
fn sqlite_migrations() -> Vec<std::path::PathBuf> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../todo-store-sqlite/migrations"
    );
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations dir")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// `(version, hex(checksum))` of the ledger, in order.
fn sqlite_ledger(file: &std::path::Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(file).expect("open");
    let mut statement = conn
        .prepare("SELECT version, hex(checksum) FROM _sqlx_migrations ORDER BY version")
        .expect("prepare");
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
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
    let file = dir.path().join("nested/todo.db");
    assert!(file.exists(), "the file and its folder are created");
    let ledger = sqlite_ledger(&file);
    assert_eq!(ledger.len(), sqlite_migrations().len(), "each applied once");
    assert_eq!(
        ledger[0],
        (1, SQLX_CHECKSUMS[0].into()),
        "recorded as sqlx did"
    );
}

/// SHA-384 of each SQLite migration file, as sqlx 0.9 recorded them in `_sqlx_migrations`
/// (read from a database that the sqlx-based store migrated). A migration file must never
/// change once released: this also fails if one does.
const SQLX_CHECKSUMS: [&str; 4] = [
    "F3B8721C6E5C9649FC5CA125420C6E6844E63D442E2E16EDB9B39DCE8583BE02B640EB2907FA6AD49AAC8B7E33EA912D",
    "80499E2DEEEB7AE37CDC8B2FEF8A865AC662181B4FBCD5EA3F1190C32E3527DC626710672C2601F6026F2D56DDA9F81F",
    "881A29D87F19CF48B0590E6211AE5E4092E78664002DC79E38F891171B5AB858D10F3A1EC2C76FF4EB3A029C4CE32185",
    "4CBE431E2186210FADFC3ABC41FAF8DCCAEBEA4DFCB191BB67706A86E8942F62DD374FA1CB50962C70B2EA43DCB05657",
];

/// Databases created before the store moved from sqlx to rusqlite open as they are.
#[tokio::test]
async fn a_sqlite_database_migrated_by_sqlx_opens_without_migrating_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("todo.db");
    // Arrange: the file as the sqlx-based store left it, with one account in it.
    {
        let conn = rusqlite::Connection::open(&file).expect("open");
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                success BOOLEAN NOT NULL,
                checksum BLOB NOT NULL,
                execution_time BIGINT NOT NULL
            );",
        )
        .expect("ledger");
        // The migrations of the sqlx days; later ones are applied by the store as usual.
        let files = sqlite_migrations();
        for (i, (path, checksum)) in files.iter().zip(SQLX_CHECKSUMS).enumerate() {
            conn.execute_batch(&std::fs::read_to_string(path).expect("read"))
                .expect("apply");
            let name = path
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let description = name
                .split_once('_')
                .expect("version_name")
                .1
                .replace('_', " ");
            conn.execute(
                &format!(
                    "INSERT INTO _sqlx_migrations \
                     (version, description, success, checksum, execution_time) \
                     VALUES (?1, ?2, TRUE, X'{checksum}', 1000)"
                ),
                (i as i64 + 1, description),
            )
            .expect("record");
        }
        conn.execute(
            "INSERT INTO users (id, email, timezone, created_at, updated_at) \
             VALUES ('u1', 'ada@example.com', 'UTC', '2026-01-01T00:00:00.000000Z', \
             '2026-01-01T00:00:00.000000Z')",
            [],
        )
        .expect("user");
    }
    let before = sqlite_ledger(&file);

    // Act
    let url = format!("sqlite://{}", file.display());
    let store = todo_store_sqlite::SqliteStore::connect(&url)
        .await
        .expect("open");
    store.migrate().await.expect("migrate");

    // Assert: nothing applied again (a second 0001 would fail on its CREATE TABLEs), the
    // ledger as it was plus the migrations since, the data there.
    let after = sqlite_ledger(&file);
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.len(), sqlite_migrations().len());
    let user = todo_core::store::UserStore::user_by_id(&store, &"u1".into())
        .await
        .expect("read")
        .expect("the account is still there");
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
}

/// External users from before the identities table (their id was their token's subject) keep
/// their accounts: migration 5 links them as `legacy` identities; local accounts are never
/// linked. (SQLite: `todo-store-sqlite` migrate.rs tests the same statement.)
#[tokio::test]
async fn external_users_from_before_identities_keep_their_accounts_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let store = schema_migrated_before(&db.url, 5).await;
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES \
         ('ba_123', NULL, NULL, now(), now()), \
         ('0190-local', 'ada@example.com', '$argon2id$x', now(), now())",
    )
    .execute(store.pool())
    .await
    .expect("users");
    store.migrate().await.expect("all migrations");

    let user = todo_core::store::UserStore::external_user(&store, "better-auth", "ba_123")
        .await
        .expect("lookup")
        .expect("the legacy user is found");
    assert_eq!(user.id, "ba_123");
    let local = todo_core::store::UserStore::external_user(&store, "jwks", "0190-local")
        .await
        .expect("lookup");
    assert_eq!(local, None, "a local account is never an external identity");
}

/// Migration 6 on PostgreSQL: an Inbox per user holding their tasks, each recurring series
/// folded into its open occurrence with the completed ones as its completions, timed dues
/// given their wall-clock time in the owner's zone. (SQLite: `todo-store-sqlite` migrate.rs.)
#[tokio::test]
async fn projects_arrive_with_an_inbox_and_series_fold_into_one_task_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let store = schema_migrated_before(&db.url, 6).await;
    sqlx::raw_sql(
        "INSERT INTO users (id, email, timezone, created_at, updated_at) \
         VALUES ('u1', 'ada@example.com', 'Europe/Berlin', now(), now()); \
         INSERT INTO tasks (id, user_id, title, completed, completed_at, due_at, recurrence, \
             parent_id, created_at, updated_at) OVERRIDING SYSTEM VALUE VALUES \
         (1, 'u1', 'Standup', false, NULL, '2026-12-07T08:30:00Z', NULL, NULL, now(), now()), \
         (10, 'u1', 'Water', true, '2026-12-01T10:00:00Z', NULL, 'FREQ=DAILY', NULL, now(), now()), \
         (11, 'u1', 'Water', true, '2026-12-02T10:00:00Z', NULL, 'FREQ=DAILY', 10, now(), now()), \
         (12, 'u1', 'Water', false, NULL, NULL, 'FREQ=DAILY', 10, now(), now()), \
         (13, 'u1', 'Water', false, NULL, NULL, 'FREQ=DAILY', 10, now(), now()); \
         INSERT INTO tags (user_id, name, name_key, created_at) VALUES ('u1', 'home', 'home', now()); \
         INSERT INTO task_tags (user_id, task_id, tag_id) SELECT 'u1', 13, id FROM tags;",
    )
    .execute(store.pool())
    .await
    .expect("old rows");
    store.migrate().await.expect("all migrations");

    let user: todo_core::ids::UserId = "u1".into();
    let projects = todo_core::store::ProjectStore::list_projects(&store, &user)
        .await
        .expect("projects");
    assert_eq!(projects.len(), 1);
    assert!(projects[0].inbox && projects[0].role == todo_core::project::Role::Owner);
    let tasks = todo_core::store::TaskStore::list_tasks(&store, &user, &Default::default(), 10)
        .await
        .expect("tasks");
    let mut rows: Vec<_> = tasks
        .tasks
        .iter()
        .map(|t| {
            (
                t.id.get(),
                t.project_id,
                t.parent_id,
                t.due_local,
                t.tags.clone(),
            )
        })
        .collect();
    rows.sort_by_key(|row| row.0);
    let standup =
        chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(9, 30, 0));
    assert_eq!(
        rows,
        vec![
            (1, projects[0].id, None, standup, vec![]),
            (13, projects[0].id, None, None, vec!["home".to_owned()]),
        ],
        "the series is its latest open occurrence; 09:30 in Berlin stays 09:30"
    );
    let completions: Vec<(i64, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT task_id, completed_at FROM task_completions ORDER BY completed_at")
            .fetch_all(store.pool())
            .await
            .expect("completions");
    let days: Vec<_> = completions
        .iter()
        .map(|(id, at)| (*id, at.date_naive().to_string()))
        .collect();
    assert_eq!(
        days,
        [(13, "2026-12-01".to_owned()), (13, "2026-12-02".to_owned())]
    );
}

/// Migration 9 on PostgreSQL: conversations are numbered in the order they began, their
/// messages follow them, new ones take the next number, and deleting one still deletes its
/// messages. (SQLite: `todo-store-sqlite` migrate.rs.)
#[tokio::test]
async fn conversations_are_numbered_in_the_order_they_began_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let store = schema_migrated_before(&db.url, 9).await;
    sqlx::raw_sql(
        "INSERT INTO users (id, email, created_at, updated_at) \
         VALUES ('u1', 'ada@example.com', now(), now()); \
         INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES \
         ('0190-b', 'u1', 'second', '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z'), \
         ('0190-a', 'u1', 'first', '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z'); \
         INSERT INTO messages (conversation_id, user_id, role, content, created_at) VALUES \
         ('0190-a', 'u1', 'user', 'hello', now()), ('0190-b', 'u1', 'user', 'again', now());",
    )
    .execute(store.pool())
    .await
    .expect("old rows");
    store.migrate().await.expect("all migrations");

    let user: todo_core::ids::UserId = "u1".into();
    let chat: &dyn todo_core::chat::ChatStore = &store;
    let first = todo_core::ids::ConversationId::new(1);
    let found = chat
        .get_conversation(&user, &first)
        .await
        .expect("get")
        .expect("the first conversation is number 1");
    assert_eq!(found.title, "first");
    let messages = chat
        .recent_messages(&user, &first, None, 10)
        .await
        .expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "hello");
    let third = chat
        .insert_conversation(&todo_core::chat::NewConversation {
            user_id: user.clone(),
            title: "third".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        })
        .await
        .expect("a new conversation");
    assert_eq!(third.id.get(), 3);
    assert!(
        chat.delete_conversation(&user, &first)
            .await
            .expect("delete")
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(left, 1, "the deleted conversation's message went with it");
}

/// A store on a fresh schema with the PostgreSQL migrations before `version` applied: data
/// in the shape an older build left it, for the next migration to find.
async fn schema_migrated_before(url: &str, version: i64) -> PostgresStore {
    let schema = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
    let admin = PostgresStore::connect(url, 1).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .expect("create schema");
    let url = todo_testkit::schema_url(&todo_testkit::postgres_url(), &schema);
    let store = PostgresStore::connect(&url, 2).await.expect("connect");
    let all = sqlx::migrate!("../todo-store-postgres/migrations");
    let before: Vec<_> = all
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    sqlx::migrate::Migrator::with_migrations(before)
        .run(store.pool())
        .await
        .expect("the earlier migrations");
    store
}
