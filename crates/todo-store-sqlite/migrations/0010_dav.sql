-- CalDAV (docs/caldav.md): what a client named and wrote that todo does not model, per task.
-- No foreign key to tasks: the row outlives its task, so a sync can still name the resource
-- that was deleted.
CREATE TABLE dav_objects (
    task_id    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    uid        TEXT NOT NULL,
    extra      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX dav_objects_name ON dav_objects (name);

-- A calendar a client made (MKCALENDAR, MKCOL) at a path of its choosing: that path segment
-- names the project for that user from then on.
CREATE TABLE dav_collections (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, name)
) STRICT, WITHOUT ROWID;
