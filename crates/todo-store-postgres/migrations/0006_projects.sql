-- Projects, sections and subtasks; recurring tasks as one task; wall-clock dues.
-- The project is the tenant: every task is in one, and a user sees the projects they are a
-- member of. Every user gets an Inbox; their tasks move into it. Task rows are keyed by id
-- (a task moves between projects); every task query filters by project (docs/architecture.md).

CREATE TABLE projects (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    color      TEXT,
    archived   BOOLEAN NOT NULL DEFAULT FALSE,
    inbox      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX projects_one_inbox ON projects (owner_id) WHERE inbox;

-- Who may see a project and do what in it; `position` orders each member's own sidebar.
CREATE TABLE project_members (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    position   BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id, project_id);

CREATE TABLE sections (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sections_project ON sections (project_id, position);

INSERT INTO projects (owner_id, name, inbox, created_at, updated_at)
    SELECT id, 'Inbox', TRUE, created_at, created_at FROM users;
INSERT INTO project_members (project_id, user_id, role, position, created_at)
    SELECT id, owner_id, 'owner', 0, created_at FROM projects;

-- Task rows are keyed by id from now on; what hung on (user_id, id) hangs on id.
ALTER TABLE task_tags DROP CONSTRAINT task_tags_user_id_task_id_fkey;
ALTER TABLE reminders DROP CONSTRAINT reminders_user_id_task_id_fkey;
ALTER TABLE tasks DROP CONSTRAINT tasks_user_id_parent_id_fkey;
ALTER TABLE tasks DROP CONSTRAINT tasks_pkey;
ALTER TABLE tasks ADD PRIMARY KEY (id);
ALTER TABLE task_tags ADD FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE;
ALTER TABLE reminders ADD FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE;
CREATE INDEX task_tags_task ON task_tags (task_id);
CREATE INDEX reminders_task_id ON reminders (task_id);

-- A timed due's wall-clock time and the zone it is pinned to (null: it floats with the
-- owner's zone).
ALTER TABLE tasks ADD COLUMN project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE tasks ADD COLUMN section_id BIGINT REFERENCES sections (id) ON DELETE SET NULL;
ALTER TABLE tasks ADD COLUMN due_local TIMESTAMP;
ALTER TABLE tasks ADD COLUMN due_timezone TEXT;
UPDATE tasks t SET project_id = p.id FROM projects p WHERE p.owner_id = t.user_id AND p.inbox;
ALTER TABLE tasks ALTER COLUMN project_id SET NOT NULL;
UPDATE tasks t
    SET due_local = date_trunc('second', t.due_at AT TIME ZONE
        CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = u.timezone)
             THEN u.timezone ELSE 'UTC' END)
    FROM users u WHERE u.id = t.user_id AND t.due_at IS NOT NULL;

-- Every completion, a recurring task's included: the Done view and undo read them.
CREATE TABLE task_completions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    completed_at TIMESTAMPTZ NOT NULL,
    completed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    due_at       TIMESTAMPTZ,
    due_date     DATE,
    due_local    TIMESTAMP,
    due_timezone TEXT,
    recurrence   TEXT
);
CREATE INDEX task_completions_task ON task_completions (task_id, completed_at);
CREATE INDEX task_completions_by ON task_completions (completed_by, completed_at);

-- A recurring series was a row per occurrence, linked by parent_id to the first: it becomes
-- its pending occurrence (else its latest), and the completed ones its completions.
CREATE TEMP TABLE series AS
    SELECT COALESCE(parent_id, id) AS root,
           COALESCE(MAX(id) FILTER (WHERE NOT completed), MAX(id)) AS kept
    FROM tasks GROUP BY COALESCE(parent_id, id) HAVING COUNT(*) > 1;
INSERT INTO task_completions (task_id, completed_at, completed_by, due_at, due_date, due_local, recurrence)
    SELECT COALESCE(s.kept, t.id), t.completed_at, t.user_id, t.due_at, t.due_date, t.due_local, t.recurrence
    FROM tasks t LEFT JOIN series s ON s.root = COALESCE(t.parent_id, t.id)
    WHERE t.completed AND t.completed_at IS NOT NULL
    ORDER BY t.completed_at, t.id;
DELETE FROM tasks t USING series s
    WHERE s.root = COALESCE(t.parent_id, t.id) AND t.id <> s.kept;
DROP TABLE series;
-- From now on parent_id is a subtask's parent, in the same project.
UPDATE tasks SET parent_id = NULL WHERE parent_id IS NOT NULL;
ALTER TABLE tasks ADD FOREIGN KEY (parent_id) REFERENCES tasks (id) ON DELETE CASCADE;

-- Task indexes lead with the project.
DROP INDEX tasks_user_created;
DROP INDEX tasks_user_completed_created;
DROP INDEX tasks_user_due;
DROP INDEX tasks_user_priority;
DROP INDEX tasks_user_state;
DROP INDEX tasks_user_title;
DROP INDEX tasks_user_position;
DROP INDEX tasks_search;
CREATE INDEX tasks_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_project_completed_created ON tasks (project_id, completed, created_at, id);
CREATE INDEX tasks_project_due ON tasks (project_id, COALESCE(due_key, 'infinity'::timestamptz), id);
CREATE INDEX tasks_project_priority ON tasks (project_id, priority, id);
CREATE INDEX tasks_project_state ON tasks (project_id, completed, priority, due_key);
CREATE INDEX tasks_project_title ON tasks (project_id, lower(title), id);
CREATE INDEX tasks_project_position ON tasks (project_id, position, id);
CREATE INDEX tasks_search ON tasks USING gin (project_id, search);
CREATE INDEX tasks_user ON tasks (user_id);
CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_section ON tasks (section_id) WHERE section_id IS NOT NULL;
