-- Where each user's reminders go (see docs/email.md, "Channels"): the open web app, email,
-- Web Push; and the daily digest's local hour (none: no digest) with the local day it was
-- last sent, so it goes once a day whatever the hour is changed to.
ALTER TABLE users ADD COLUMN notify_in_app INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN notify_push INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN digest_hour INTEGER CHECK (digest_hour BETWEEN 0 AND 23);
ALTER TABLE users ADD COLUMN digest_sent_on TEXT;

-- A browser's Web Push subscription (RFC 8030): its push service endpoint (one per browser
-- profile, so it belongs to the account that subscribed it last) and its keys (RFC 8291).
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX push_subscriptions_user_id ON push_subscriptions (user_id);

-- A reminder's email and pushes are jobs written with its event (one per channel and
-- device); a 'digest' job is a user's next daily digest. SQLite cannot alter a CHECK
-- constraint, so the table is rebuilt.
CREATE TABLE jobs_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('reminder', 'webhook', 'email', 'push', 'digest')),
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reminder_id     INTEGER,
    event_id        INTEGER,
    webhook_id      INTEGER,
    run_at          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_error      TEXT,
    done_at         TEXT,
    payload         TEXT,
    subscription_id INTEGER
) STRICT;
INSERT INTO jobs_new (id, kind, user_id, reminder_id, event_id, webhook_id, run_at, attempts,
                      locked_until, last_error, done_at, payload)
SELECT id, kind, user_id, reminder_id, event_id, webhook_id, run_at, attempts,
       locked_until, last_error, done_at, payload FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX jobs_digest ON jobs (user_id) WHERE kind = 'digest' AND done_at IS NULL;
