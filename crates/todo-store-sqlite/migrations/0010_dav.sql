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
