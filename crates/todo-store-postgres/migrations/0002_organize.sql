-- Tags, the due moment used for sorting and filtering, import keys, full-text search.

-- GIN over (user_id, search) lets one index scan select a user's matching rows.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

-- The moment a task falls due: due_at, or the end of due_date in the owner's time zone
-- (written by the application; rows from before this migration get the end of day in UTC).
ALTER TABLE tasks ADD COLUMN due_key TIMESTAMPTZ;
UPDATE tasks SET due_key = COALESCE(due_at, (due_date + 1)::timestamp AT TIME ZONE 'UTC' - INTERVAL '1 microsecond')
    WHERE due_at IS NOT NULL OR due_date IS NOT NULL;

-- Where an imported task came from, so importing the same file twice adds nothing.
ALTER TABLE tasks ADD COLUMN import_key TEXT;
CREATE UNIQUE INDEX tasks_user_import_key ON tasks (user_id, import_key) WHERE import_key IS NOT NULL;

-- One index per sort order; the expressions must match the queries' ORDER BY exactly.
CREATE INDEX tasks_user_due ON tasks (user_id, COALESCE(due_key, 'infinity'::timestamptz), id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id);
-- Lets the counts behind X-Total-Count for status, priority and due filters read the index alone.
CREATE INDEX tasks_user_state ON tasks (user_id, completed, priority, due_key);
CREATE INDEX tasks_user_title ON tasks (user_id, lower(title), id);
DROP INDEX tasks_user_position;
CREATE INDEX tasks_user_position ON tasks (user_id, position, id);

-- Full-text search over title and description, without stemming (as SQLite's FTS5 here).
ALTER TABLE tasks ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || COALESCE(description, ''))) STORED;
CREATE INDEX tasks_search ON tasks USING gin (user_id, search);

CREATE TABLE tags (
    id         BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,              -- lower-cased name: unique per user
    color      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, name_key)
);

CREATE TABLE task_tags (
    user_id TEXT NOT NULL,
    task_id BIGINT NOT NULL,
    tag_id  BIGINT NOT NULL,
    PRIMARY KEY (user_id, task_id, tag_id),
    FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, tag_id) REFERENCES tags (user_id, id) ON DELETE CASCADE
);
CREATE INDEX task_tags_tag ON task_tags (user_id, tag_id, task_id);
