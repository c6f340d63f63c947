-- Projects, sections and subtasks; recurring tasks as one task; wall-clock dues.
-- The project is the tenant: every task is in one, and a user sees the projects they are a
-- member of. Every user gets an Inbox; their tasks move into it.

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    color      TEXT,
    archived   INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    inbox      INTEGER NOT NULL DEFAULT 0 CHECK (inbox IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX projects_one_inbox ON projects (owner_id) WHERE inbox;

-- Who may see a project and do what in it; `position` orders each member's own sidebar.
CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    position   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members (user_id, project_id);

CREATE TABLE sections (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX sections_project ON sections (project_id, position);

INSERT INTO projects (owner_id, name, inbox, created_at, updated_at)
    SELECT id, 'Inbox', 1, created_at, created_at FROM users;
INSERT INTO project_members (project_id, user_id, role, position, created_at)
    SELECT id, owner_id, 'owner', 0, created_at FROM projects;

-- A timed due's wall-clock time (`2026-12-07T09:30:00`) and the zone it is pinned to (null:
-- it floats with the owner's zone). `todo_local_time` is registered by the migration runner.
ALTER TABLE tasks ADD COLUMN project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE tasks ADD COLUMN section_id INTEGER REFERENCES sections (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN due_local TEXT;
ALTER TABLE tasks ADD COLUMN due_timezone TEXT;
UPDATE tasks SET project_id = (SELECT p.id FROM projects p WHERE p.owner_id = tasks.user_id AND p.inbox);
-- ALTER TABLE cannot make the new column NOT NULL here: triggers hold the line instead.
CREATE TRIGGER tasks_project_required_insert BEFORE INSERT ON tasks WHEN NEW.project_id IS NULL
BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: tasks.project_id'); END;
CREATE TRIGGER tasks_project_required_update BEFORE UPDATE OF project_id ON tasks
    WHEN NEW.project_id IS NULL
BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: tasks.project_id'); END;
UPDATE tasks SET due_local = todo_local_time(due_at, (SELECT timezone FROM users WHERE users.id = tasks.user_id))
    WHERE due_at IS NOT NULL;

-- Every completion, a recurring task's included: the Done view and undo read them.
CREATE TABLE task_completions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    completed_at TEXT NOT NULL,
    completed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    due_at       TEXT,
    due_date     TEXT,
    due_local    TEXT,
    due_timezone TEXT,
    recurrence   TEXT
) STRICT;
CREATE INDEX task_completions_task ON task_completions (task_id, completed_at);
CREATE INDEX task_completions_by ON task_completions (completed_by, completed_at);

-- A recurring series was a row per occurrence, linked by parent_id to the first: it becomes
-- its pending occurrence (else its latest), and the completed ones its completions.
CREATE TEMP TABLE series AS
    SELECT COALESCE(parent_id, id) AS root,
           COALESCE(MAX(CASE WHEN completed = 0 THEN id END), MAX(id)) AS kept
    FROM tasks GROUP BY COALESCE(parent_id, id) HAVING COUNT(*) > 1;
INSERT INTO task_completions (task_id, completed_at, completed_by, due_at, due_date, due_local, recurrence)
    SELECT COALESCE(s.kept, t.id), t.completed_at, t.user_id, t.due_at, t.due_date, t.due_local, t.recurrence
    FROM tasks t LEFT JOIN series s ON s.root = COALESCE(t.parent_id, t.id)
    WHERE t.completed = 1 AND t.completed_at IS NOT NULL
    ORDER BY t.completed_at, t.id;
DELETE FROM tasks WHERE id IN (
    SELECT t.id FROM tasks t JOIN series s ON s.root = COALESCE(t.parent_id, t.id) WHERE t.id <> s.kept);
DROP TABLE series;
-- From now on parent_id is a subtask's parent.
UPDATE tasks SET parent_id = NULL WHERE parent_id IS NOT NULL;

-- Task indexes lead with the project.
DROP INDEX tasks_user_created;
DROP INDEX tasks_user_completed_created;
DROP INDEX tasks_user_due;
DROP INDEX tasks_user_priority;
DROP INDEX tasks_user_state;
DROP INDEX tasks_user_title;
DROP INDEX tasks_user_position;
CREATE INDEX tasks_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_project_completed_created ON tasks (project_id, completed, created_at, id);
CREATE INDEX tasks_project_due ON tasks (project_id, COALESCE(due_key, '9999-12-31T23:59:59.999999Z'), id);
CREATE INDEX tasks_project_priority ON tasks (project_id, priority, id);
CREATE INDEX tasks_project_state ON tasks (project_id, completed, priority, due_key);
CREATE INDEX tasks_project_title ON tasks (project_id, title COLLATE NOCASE, id);
CREATE INDEX tasks_project_position ON tasks (project_id, position, id);
CREATE INDEX tasks_user ON tasks (user_id);
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_section ON tasks (section_id) WHERE section_id IS NOT NULL;
