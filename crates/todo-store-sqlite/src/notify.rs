//! Channels, the daily digest's schedule and reminder emails on SQLite. Writes go through the
//! one writer, so each is serialised with every other write of the user's.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::jobs::Job;
use todo_core::notify::{
    ChannelChanges, Channels, DigestHour, DigestUser, NotifyStore, ReminderSource, digest_run_at,
};
use todo_core::time::to_sortable_text as ts;
use todo_core::user::UserId;

use crate::rows::{date_text, db_error, opt_date, opt_time};
use crate::{SqliteStore, savepoint, sql};

fn read_channels(conn: &Connection, user: &UserId) -> Result<Option<Channels>> {
    sql::one(
        conn,
        "SELECT notify_in_app, notify_email, notify_push, digest_hour FROM users WHERE id = ?1",
        [user],
        |row| {
            Ok(Channels {
                in_app: row.get(0)?,
                email: row.get(1)?,
                push: row.get(2)?,
                digest_hour: row
                    .get::<_, Option<i64>>(3)?
                    .and_then(|h| DigestHour::new(h).ok()),
            })
        },
    )
    .map_err(db_error)
}

/// Replaces the user's pending digest job with the one their settings call for at `now`.
fn replace_digest(conn: &Connection, user: &UserId, now: DateTime<Utc>) -> Result<()> {
    let settings: Option<(Option<i64>, String, Option<NaiveDate>)> = sql::one(
        conn,
        "SELECT digest_hour, timezone, digest_sent_on FROM users WHERE id = ?1",
        [user],
        |row| Ok((row.get(0)?, row.get(1)?, opt_date(row, 2)?)),
    )
    .map_err(db_error)?;
    sql::execute(
        conn,
        "DELETE FROM jobs WHERE user_id = ?1 AND kind = 'digest' AND done_at IS NULL",
        [user],
    )
    .map_err(db_error)?;
    if let Some((hour, zone, sent_on)) = settings
        && let Some(at) = digest_run_at(hour, &zone, sent_on, now)
    {
        sql::execute(
            conn,
            "INSERT INTO jobs (kind, user_id, run_at) VALUES ('digest', ?1, ?2)",
            (user, ts(&at)),
        )
        .map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn channels(&self, user_id: &UserId) -> Result<Option<Channels>> {
        let user = user_id.clone();
        self.read(move |conn| read_channels(conn, &user)).await
    }

    async fn update_channels(
        &self,
        user_id: &UserId,
        changes: &ChannelChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Channels>> {
        let (user, changes) = (user_id.clone(), *changes);
        // Announcing: a new digest job wakes the workers.
        self.write_announcing(move |conn| {
            let tx = savepoint(conn)?;
            let hour = changes.digest_hour.map(|h| h.map(|h| i64::from(h.get())));
            let updated = sql::execute(
                &tx,
                "UPDATE users SET notify_in_app = COALESCE(?2, notify_in_app), \
                     notify_email = COALESCE(?3, notify_email), \
                     notify_push = COALESCE(?4, notify_push), \
                     digest_hour = CASE WHEN ?5 THEN ?6 ELSE digest_hour END \
                 WHERE id = ?1",
                (
                    &user,
                    changes.in_app,
                    changes.email,
                    changes.push,
                    hour.is_some(),
                    hour.flatten(),
                ),
            )
            .map_err(db_error)?;
            if updated == 0 {
                return Ok(None);
            }
            if hour.is_some() {
                replace_digest(&tx, &user, now)?;
            }
            let channels = read_channels(&tx, &user)?;
            tx.commit().map_err(db_error)?;
            Ok(channels)
        })
        .await
    }

    async fn reschedule_digest(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()> {
        let user = user_id.clone();
        self.write_announcing(move |conn| {
            let tx = savepoint(conn)?;
            replace_digest(&tx, &user, now)?;
            tx.commit().map_err(db_error)
        })
        .await
    }

    async fn digest_job_at(&self, user_id: &UserId) -> Result<Option<DateTime<Utc>>> {
        let user = user_id.clone();
        self.read(move |conn| {
            sql::one(
                conn,
                "SELECT run_at FROM jobs \
                 WHERE user_id = ?1 AND kind = 'digest' AND done_at IS NULL \
                 ORDER BY run_at LIMIT 1",
                [&user],
                |row| opt_time(row, 0),
            )
            .map(Option::flatten)
            .map_err(db_error)
        })
        .await
    }

    async fn digest_user(&self, user_id: &UserId) -> Result<Option<DigestUser>> {
        let user = user_id.clone();
        self.read(move |conn| {
            sql::one(
                conn,
                "SELECT email, timezone, digest_hour, digest_sent_on FROM users WHERE id = ?1",
                [&user],
                |row| {
                    Ok(DigestUser {
                        email: row.get(0)?,
                        timezone: row.get(1)?,
                        digest_hour: row
                            .get::<_, Option<i64>>(2)?
                            .and_then(|h| DigestHour::new(h).ok()),
                        sent_on: opt_date(row, 3)?,
                    })
                },
            )
            .map_err(db_error)
        })
        .await
    }

    async fn finish_digest(
        &self,
        job: &Job,
        mail: Option<&str>,
        sent_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (job, mail) = (job.clone(), mail.map(str::to_owned));
        self.write_announcing(move |conn| {
            let tx = savepoint(conn)?;
            let finished = sql::execute(
                &tx,
                "UPDATE jobs SET done_at = ?2, locked_until = NULL \
                 WHERE id = ?1 AND done_at IS NULL",
                (job.id, ts(&now)),
            )
            .map_err(db_error)?;
            if finished == 0 {
                // Replaced meanwhile (the hour or zone changed): the savepoint rolls back.
                return Ok(false);
            }
            if let Some(payload) = mail {
                sql::execute(
                    &tx,
                    "INSERT INTO jobs (kind, user_id, payload, run_at) \
                     VALUES ('email', ?1, ?2, ?3)",
                    (&job.user_id, payload, ts(&now)),
                )
                .map_err(db_error)?;
            }
            sql::execute(
                &tx,
                "UPDATE users SET digest_sent_on = ?2 WHERE id = ?1",
                (&job.user_id, date_text(sent_on)),
            )
            .map_err(db_error)?;
            replace_digest(&tx, &job.user_id, now)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn reminder_source(&self, job: &Job) -> Result<Option<ReminderSource>> {
        let Some(event_id) = job.event_id else {
            return Ok(None);
        };
        let user = job.user_id.clone();
        self.read(move |conn| {
            sql::one(
                conn,
                "SELECT u.email, u.notify_email, u.timezone, e.task_data \
                 FROM users u JOIN events e ON e.user_id = u.id AND e.id = ?2 \
                 WHERE u.id = ?1",
                (&user, event_id),
                |row| {
                    Ok(ReminderSource {
                        email: row.get(0)?,
                        notify_email: row.get(1)?,
                        timezone: row.get(2)?,
                        task_data: row.get(3)?,
                    })
                },
            )
            .map_err(db_error)
        })
        .await
    }

    async fn opt_out_of_invitations(&self, email: &str, now: DateTime<Utc>) -> Result<()> {
        let values = [email.into(), now.into()];
        self.write(move |conn| {
            let sql = "INSERT INTO mail_opt_outs (email, created_at) VALUES (?1, ?2) \
                       ON CONFLICT (email) DO NOTHING";
            sql::run(conn, sql, values).map(drop)
        })
        .await
    }

    async fn opted_out_of_invitations(&self, email: &str) -> Result<bool> {
        let values = [email.into()];
        self.read(move |conn| {
            let sql = "SELECT 1 FROM mail_opt_outs WHERE email = ?1";
            sql::scalar::<i64>(conn, sql, values).map(|found| found.is_some())
        })
        .await
    }
}
