-- Outgoing email goes through the job queue: a job of kind 'email' carries the composed
-- message (JSON) in `payload`, so a send is retried with backoff and, with several replicas,
-- made once. SQLite cannot alter a CHECK constraint, so the table is rebuilt.
CREATE TABLE jobs_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'webhook', 'email')),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reminder_id  INTEGER,
    event_id     INTEGER,
    webhook_id   INTEGER,
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_error   TEXT,
    done_at      TEXT,
    payload      TEXT
) STRICT;
INSERT INTO jobs_new (id, kind, user_id, reminder_id, event_id, webhook_id, run_at, attempts,
                      locked_until, last_error, done_at)
SELECT id, kind, user_id, reminder_id, event_id, webhook_id, run_at, attempts,
       locked_until, last_error, done_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;

-- Password resets: only the SHA-256 of the token is kept; single use, with an expiry.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
CREATE INDEX password_resets_user_id ON password_resets (user_id);
