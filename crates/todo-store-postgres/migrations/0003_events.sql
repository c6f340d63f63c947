-- Recurrence mode, reminders, the event outbox, the job queue and webhooks (docs/events.md).

ALTER TABLE tasks ADD COLUMN recurrence_mode TEXT NOT NULL DEFAULT 'due'
    CHECK (recurrence_mode IN ('due', 'completion'));

CREATE TABLE reminders (
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id        TEXT NOT NULL,
    task_id        BIGINT NOT NULL,
    remind_at      TIMESTAMPTZ NOT NULL,
    minutes_before BIGINT,                 -- relative to the due; null for an absolute moment
    sent_at        TIMESTAMPTZ,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE
);
CREATE INDEX reminders_task ON reminders (user_id, task_id);

-- Every task change and reminder, written in the transaction of the change. Ids grow per
-- user in commit order (writers of one user serialize on an advisory lock).
CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    task_id    BIGINT NOT NULL,
    task_data  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE webhooks (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    secret               TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_at          TIMESTAMPTZ,
    last_error           TEXT,
    PRIMARY KEY (user_id, id)
);

-- The durable queue: reminders to fire, deliveries to make. A job is due when run_at has
-- come and it is not leased (locked_until in the future).
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'webhook')),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reminder_id  BIGINT,
    event_id     BIGINT,
    webhook_id   BIGINT,
    run_at       TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMPTZ,
    last_error   TEXT,
    done_at      TIMESTAMPTZ
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL;
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;
