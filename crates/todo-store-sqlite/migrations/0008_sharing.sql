-- Sharing (docs/sharing.md): invitations, assignees, comments, and events that reach every
-- member of a project.

-- An invitation by email, pending until the invitee accepts or declines it; one pending per
-- project and address. An address with no account yet finds it after signing up.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    invited_by  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    accepted_at TEXT,
    declined_at TEXT
) STRICT;
CREATE UNIQUE INDEX invitations_pending ON invitations (project_id, lower(email))
    WHERE accepted_at IS NULL AND declined_at IS NULL;
CREATE INDEX invitations_email ON invitations (lower(email))
    WHERE accepted_at IS NULL AND declined_at IS NULL;

-- One assignee per task, a member of its project.
ALTER TABLE tasks ADD COLUMN assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX tasks_assignee ON tasks (assignee_id, project_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX comments_task ON comments (task_id, id);

-- An event is one row (its `user_id` is who acted: for a reminder, whose it is) and reaches
-- each user in `event_recipients`: the members of its project when it was written, or the
-- reminder's user.
ALTER TABLE events ADD COLUMN project_id INTEGER;
ALTER TABLE events ADD COLUMN action TEXT;
CREATE INDEX events_project ON events (project_id, id) WHERE project_id IS NOT NULL;
CREATE TABLE event_recipients (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_recipients_event ON event_recipients (event_id);
INSERT INTO event_recipients (user_id, event_id) SELECT user_id, id FROM events;
UPDATE events SET project_id = (SELECT project_id FROM tasks WHERE tasks.id = events.task_id);

-- A webhook may be scoped to one project its user owns.
ALTER TABLE webhooks ADD COLUMN project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE;
