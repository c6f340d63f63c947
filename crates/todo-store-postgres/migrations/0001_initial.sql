-- Accounts, API keys and tasks. Per-user tables are keyed (user_id, id) so they can be
-- distributed by user_id (Citus) without changes; users, sessions and api_keys are small
-- and would be reference tables.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT UNIQUE,           -- stored lower-cased
    name          TEXT,
    password_hash TEXT,                  -- null for external users
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,   -- SHA-256 hex of the secret
    scopes       TEXT NOT NULL,          -- comma-separated: read,write
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_user_id ON api_keys (user_id, created_at);

CREATE TABLE tasks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT,
    completed    BOOLEAN NOT NULL DEFAULT FALSE,
    completed_at TIMESTAMPTZ,
    priority     SMALLINT NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 4),
    due_at       TIMESTAMPTZ,
    due_date     DATE,
    recurrence   TEXT,
    parent_id    BIGINT,
    position     BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, parent_id) REFERENCES tasks (user_id, id) ON DELETE SET NULL (parent_id),
    CHECK (due_at IS NULL OR due_date IS NULL)
);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_completed_created ON tasks (user_id, completed, created_at, id);
CREATE INDEX tasks_user_position ON tasks (user_id, position);
