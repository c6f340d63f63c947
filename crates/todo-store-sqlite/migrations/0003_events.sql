-- Recurrence mode, reminders, the event outbox, the job queue and webhooks (docs/events.md).

ALTER TABLE tasks ADD COLUMN recurrence_mode TEXT NOT NULL DEFAULT 'due'
    CHECK (recurrence_mode IN ('due', 'completion'));

CREATE TABLE reminders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        TEXT NOT NULL,
    task_id        INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    remind_at      TEXT NOT NULL,
    minutes_before INTEGER,                -- relative to the due; null for an absolute moment
    sent_at        TEXT
) STRICT;
CREATE INDEX reminders_task ON reminders (task_id);

-- Every task change and reminder, written in the transaction of the change (one writer at a
-- time on SQLite, so ids grow in commit order).
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    task_id    INTEGER NOT NULL,
    task_data  TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX events_user ON events (user_id, id);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE webhooks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_at          TEXT,
    last_error           TEXT
) STRICT;
CREATE INDEX webhooks_user ON webhooks (user_id, id);

-- The durable queue: reminders to fire, deliveries to make. A job is due when run_at has
-- come and it is not leased (locked_until in the future).
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'webhook')),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reminder_id  INTEGER,
    event_id     INTEGER,
    webhook_id   INTEGER,
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_error   TEXT,
    done_at      TEXT
) STRICT;
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;
