-- `sort=completed_at` (the Done view, newest completions first): the sort key is the
-- completion moment, open tasks after every completed one, walked per project like the
-- other orders (see todo-store-sql's `sort_expression`).
CREATE INDEX tasks_project_completed_at ON tasks (project_id, COALESCE(completed_at, 'infinity'::timestamptz), id);
