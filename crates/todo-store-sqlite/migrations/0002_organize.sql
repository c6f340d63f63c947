-- Tags, the due moment used for sorting and filtering, import keys, full-text search.

-- The moment a task falls due: due_at, or the end of due_date in the owner's time zone
-- (written by the application; rows from before this migration get the end of day in UTC).
ALTER TABLE tasks ADD COLUMN due_key TEXT;
UPDATE tasks SET due_key = due_at WHERE due_at IS NOT NULL;
UPDATE tasks SET due_key = due_date || 'T23:59:59.999999Z' WHERE due_date IS NOT NULL;

-- Where an imported task came from, so importing the same file twice adds nothing.
ALTER TABLE tasks ADD COLUMN import_key TEXT;
CREATE UNIQUE INDEX tasks_user_import_key ON tasks (user_id, import_key) WHERE import_key IS NOT NULL;

-- One index per sort order; the expressions must match the queries' ORDER BY exactly.
CREATE INDEX tasks_user_due ON tasks (user_id, COALESCE(due_key, '9999-12-31T23:59:59.999999Z'), id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id);
-- Lets the counts behind X-Total-Count for status, priority and due filters read the index alone.
CREATE INDEX tasks_user_state ON tasks (user_id, completed, priority, due_key);
CREATE INDEX tasks_user_title ON tasks (user_id, title COLLATE NOCASE, id);
DROP INDEX tasks_user_position;
CREATE INDEX tasks_user_position ON tasks (user_id, position, id);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,              -- lower-cased name: unique per user
    color      TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, name_key)
) STRICT;

CREATE TABLE task_tags (
    user_id TEXT NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, tag_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX task_tags_tag ON task_tags (tag_id, task_id);

-- Full-text search. The owner column holds hex(user_id), a single token whatever the id looks
-- like, so one MATCH selects the user's rows; queries restrict words to title and description.
CREATE VIRTUAL TABLE tasks_fts USING fts5 (owner, title, description, tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO tasks_fts (rowid, owner, title, description)
    SELECT id, hex(user_id), title, COALESCE(description, '') FROM tasks;
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts (rowid, owner, title, description)
        VALUES (new.id, hex(new.user_id), new.title, COALESCE(new.description, ''));
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks BEGIN
    UPDATE tasks_fts SET title = new.title, description = COALESCE(new.description, '')
        WHERE rowid = new.id;
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM tasks_fts WHERE rowid = old.id;
END;
