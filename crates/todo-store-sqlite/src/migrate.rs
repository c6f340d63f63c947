//! The migration runner. The files in `migrations/` are applied in order, each with its
//! bookkeeping in one `BEGIN IMMEDIATE` transaction, so a migration is applied once even when
//! several processes start on the same file together.
//!
//! The ledger is the `_sqlx_migrations` table that sqlx kept, written as sqlx wrote it
//! (version, description, SHA-384 checksum of the file). So a database that sqlx migrated
//! opens without re-applying anything, and a build of todo from before rusqlite can still
//! open a database migrated here. As sqlx did, it refuses a database that records a failed
//! migration, a migration this build does not know (a newer build's), or a migration whose
//! file has changed since it was applied.

use std::collections::HashMap;
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};
use sha2::{Digest, Sha384};
use todo_core::{Error, Result};

use crate::rows::db_error;
use crate::sql;

struct Migration {
    version: i64,
    /// The file name after the version, without `.sql`, `_` read as a space (as sqlx does).
    description: &'static str,
    sql: &'static str,
}

/// Every migration, in order. A test checks that this list matches `migrations/`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "organize",
        sql: include_str!("../migrations/0002_organize.sql"),
    },
    Migration {
        version: 3,
        description: "events",
        sql: include_str!("../migrations/0003_events.sql"),
    },
    Migration {
        version: 4,
        description: "chat",
        sql: include_str!("../migrations/0004_chat.sql"),
    },
    Migration {
        version: 5,
        description: "identities",
        sql: include_str!("../migrations/0005_identities.sql"),
    },
    Migration {
        version: 6,
        description: "projects",
        sql: include_str!("../migrations/0006_projects.sql"),
    },
    Migration {
        version: 7,
        description: "oauth",
        sql: include_str!("../migrations/0007_oauth.sql"),
    },
    Migration {
        version: 8,
        description: "sharing",
        sql: include_str!("../migrations/0008_sharing.sql"),
    },
    Migration {
        version: 9,
        description: "conversation numbers",
        sql: include_str!("../migrations/0009_conversation_numbers.sql"),
    },
    Migration {
        version: 10,
        description: "dav",
        sql: include_str!("../migrations/0010_dav.sql"),
    },
    Migration {
        version: 11,
        description: "completed order",
        sql: include_str!("../migrations/0011_completed_order.sql"),
    },
    Migration {
        version: 12,
        description: "mail",
        sql: include_str!("../migrations/0012_mail.sql"),
    },
    Migration {
        version: 13,
        description: "channels",
        sql: include_str!("../migrations/0013_channels.sql"),
    },
    Migration {
        version: 14,
        description: "mail opt outs",
        sql: include_str!("../migrations/0014_mail_opt_outs.sql"),
    },
    Migration {
        version: 15,
        description: "email verification",
        sql: include_str!("../migrations/0015_email_verification.sql"),
    },
];

/// sqlx's ledger, created the way sqlx creates it.
const LEDGER: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

fn refused(why: String) -> Error {
    Error::internal(format!("migrating SQLite: {why}"))
}

/// Applies the migrations that are not applied yet.
pub fn run(conn: &mut Connection) -> Result<()> {
    register_functions(conn).map_err(db_error)?;
    run_these(conn, MIGRATIONS)
}

/// What migrations need that SQLite lacks: `todo_local_time(moment, zone)`, the wall-clock
/// time (`2026-12-07T09:30:00`) of a stored moment in an IANA zone (UTC when the zone is
/// unknown), as PostgreSQL's `AT TIME ZONE` gives it there.
fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "todo_local_time",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let at: Option<String> = ctx.get(0)?;
            let zone: Option<String> = ctx.get(1)?;
            let tz: chrono_tz::Tz = zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
            Ok(at
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
                .map(|at| {
                    at.with_timezone(&tz)
                        .naive_local()
                        .format(todo_core::time::LOCAL_FORMAT)
                        .to_string()
                }))
        },
    )
}

fn run_these(conn: &mut Connection, migrations: &[Migration]) -> Result<()> {
    sql::execute(conn, LEDGER, []).map_err(db_error)?;
    check_applied(conn)?;
    for migration in migrations {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_error)?;
        // Read under the write lock: another process may have applied it meanwhile.
        let applied: Option<Vec<u8>> = sql::one(
            &tx,
            "SELECT checksum FROM _sqlx_migrations WHERE version = ?1",
            [migration.version],
            |row| row.get(0),
        )
        .map_err(db_error)?;
        let expected = checksum(migration.sql);
        match applied {
            Some(found) if found == expected => continue,
            Some(_) => {
                return Err(refused(format!(
                    "migration {} was applied from a different file",
                    migration.version
                )));
            }
            None => {}
        }
        let started = Instant::now();
        tx.execute_batch(migration.sql)
            .map_err(|e| refused(format!("migration {} failed: {e}", migration.version)))?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        sql::execute(
            &tx,
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            (migration.version, migration.description, expected, nanos),
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        tracing::info!(version = migration.version, "applied SQLite migration");
    }
    Ok(())
}

/// What sqlx checked before migrating: no failed migration, none this build does not know.
fn check_applied(conn: &Connection) -> Result<()> {
    let applied: HashMap<i64, bool> = sql::all(
        conn,
        "SELECT version, success FROM _sqlx_migrations",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .map_err(db_error)?
    .into_iter()
    .collect();
    for (version, success) in applied {
        if !success {
            return Err(refused(format!("migration {version} failed earlier")));
        }
        if !MIGRATIONS.iter().any(|m| m.version == version) {
            return Err(refused(format!(
                "migration {version} is applied but unknown to this build (a newer one?)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_users_from_before_identities_keep_their_accounts() {
        let mut conn = Connection::open_in_memory().expect("open");
        run_these(&mut conn, &MIGRATIONS[..4]).expect("migrations 1-4");
        conn.execute_batch(
            "INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES \
             ('ba_123', NULL, NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'), \
             ('0190-local', 'ada@example.com', '$argon2id$x', '2026-01-01T00:00:00.000000Z', \
              '2026-01-01T00:00:00.000000Z')",
        )
        .expect("users");
        run(&mut conn).expect("all migrations");
        let linked: Vec<(String, String, String)> = sql::all(
            &conn,
            "SELECT issuer, subject, user_id FROM identities ORDER BY subject",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("identities");
        assert_eq!(
            linked,
            vec![("legacy".into(), "ba_123".into(), "ba_123".into())],
            "only the password-less (external) user is linked, never a local one"
        );
    }

    /// Migration 6: every user gets an Inbox holding their tasks; a recurring series (a row
    /// per occurrence, linked to the first by `parent_id`) becomes its open occurrence with
    /// the completed ones as its completions; timed dues get their wall-clock time in the
    /// owner's zone. (PostgreSQL: the contract suite's migrations.rs checks the same.)
    #[test]
    fn projects_arrive_with_an_inbox_and_series_fold_into_one_task() {
        let mut conn = Connection::open_in_memory().expect("open");
        run_these(&mut conn, &MIGRATIONS[..5]).expect("migrations 1-5");
        conn.execute_batch(
            "INSERT INTO users (id, email, timezone, created_at, updated_at) VALUES \
             ('u1', 'ada@example.com', 'Europe/Berlin', '2026-01-01T00:00:00.000000Z', \
              '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO tasks (id, user_id, title, completed, completed_at, due_at, recurrence, \
                 parent_id, created_at, updated_at) VALUES \
             (1, 'u1', 'Standup', 0, NULL, '2026-12-07T08:30:00.000000Z', NULL, NULL, \
              '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'), \
             (10, 'u1', 'Water', 1, '2026-12-01T10:00:00.000000Z', NULL, 'FREQ=DAILY', NULL, \
              '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'), \
             (11, 'u1', 'Water', 1, '2026-12-02T10:00:00.000000Z', NULL, 'FREQ=DAILY', 10, \
              '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'), \
             (12, 'u1', 'Water', 0, NULL, NULL, 'FREQ=DAILY', 10, \
              '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'), \
             (13, 'u1', 'Water', 0, NULL, NULL, 'FREQ=DAILY', 10, \
              '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');",
        )
        .expect("old rows");
        run(&mut conn).expect("all migrations");
        let inbox: (i64, String) = sql::one(
            &conn,
            "SELECT p.id, m.role FROM projects p JOIN project_members m ON m.project_id = p.id \
             WHERE p.owner_id = 'u1' AND p.inbox",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("query")
        .expect("an Inbox");
        assert_eq!(inbox.1, "owner");
        let tasks: Vec<(i64, i64, Option<i64>, Option<String>)> = sql::all(
            &conn,
            "SELECT id, project_id, parent_id, due_local FROM tasks ORDER BY id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .expect("tasks");
        assert_eq!(
            tasks,
            vec![
                (1, inbox.0, None, Some("2026-12-07T09:30:00".into())),
                (13, inbox.0, None, None),
            ],
            "the series is its latest open occurrence; 09:30 in Berlin stays 09:30"
        );
        let completions: Vec<(i64, String)> = sql::all(
            &conn,
            "SELECT task_id, completed_at FROM task_completions ORDER BY completed_at",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("completions");
        assert_eq!(
            completions,
            vec![
                (13, "2026-12-01T10:00:00.000000Z".into()),
                (13, "2026-12-02T10:00:00.000000Z".into()),
            ]
        );
    }

    /// Migration 9: conversations are numbered in the order they began, their messages follow
    /// them, new ones take the next number, and deleting one still deletes its messages.
    /// (PostgreSQL: the contract suite's migrations.rs checks the same.)
    #[test]
    fn conversations_are_numbered_in_the_order_they_began() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .expect("foreign keys");
        register_functions(&conn).expect("functions");
        run_these(&mut conn, &MIGRATIONS[..8]).expect("migrations 1-8");
        conn.execute_batch(
            "INSERT INTO users (id, email, created_at, updated_at) VALUES \
             ('u1', 'ada@example.com', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'); \
             INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES \
             ('0190-b', 'u1', 'second', '2026-02-01T00:00:00.000000Z', '2026-02-01T00:00:00.000000Z'), \
             ('0190-a', 'u1', 'first', '2026-01-01T00:00:00.000000Z', '2026-03-01T00:00:00.000000Z'); \
             INSERT INTO messages (conversation_id, user_id, role, content, created_at) VALUES \
             ('0190-a', 'u1', 'user', 'hello', '2026-01-01T00:00:00.000000Z'), \
             ('0190-b', 'u1', 'user', 'again', '2026-02-01T00:00:00.000000Z');",
        )
        .expect("old rows");
        run(&mut conn).expect("all migrations");
        let rows: Vec<(i64, String, String)> = sql::all(
            &conn,
            "SELECT c.id, c.title, m.content FROM conversations c \
             JOIN messages m ON m.conversation_id = c.id ORDER BY c.id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("conversations");
        assert_eq!(
            rows,
            vec![
                (1, "first".into(), "hello".into()),
                (2, "second".into(), "again".into())
            ]
        );
        let next: i64 = conn
            .query_row(
                "INSERT INTO conversations (user_id, title, created_at, updated_at) VALUES \
                 ('u1', 'third', '2026-04-01T00:00:00.000000Z', '2026-04-01T00:00:00.000000Z') \
                 RETURNING id",
                [],
                |row| row.get(0),
            )
            .expect("a new conversation");
        assert_eq!(next, 3);
        conn.execute_batch("DELETE FROM conversations WHERE id = 1")
            .expect("delete");
        let left: i64 = conn
            .query_row("SELECT count(*) FROM messages", [], |row| row.get(0))
            .expect("count");
        assert_eq!(left, 1, "the deleted conversation's message went with it");
    }

    /// Each file in `migrations/` is in `MIGRATIONS`, in order, with the name sqlx derives.
    #[test]
    fn the_list_matches_the_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.description.replace(' ', "_")))
            .collect();
        assert_eq!(files, listed);
        for (file, migration) in files.iter().zip(MIGRATIONS) {
            let text = std::fs::read_to_string(format!("{dir}/{file}")).expect("read");
            assert_eq!(text, migration.sql, "{file}");
        }
    }
}
