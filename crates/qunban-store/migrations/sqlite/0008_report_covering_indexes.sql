-- Covering indexes for the report window (docs/METRICS.md, "Loading for a
-- window"), so that its two largest reads touch no table row:
-- the history rows since an instant that reports read (status, deadline and
-- owner changes: `REPORT_HISTORY_FIELDS`), in time order, whatever order
-- they were written in; and the open tasks' narrow query of a metrics-only
-- load. The values of these fields are short (a status, an instant, member
-- ids), so the index stays small.
CREATE INDEX IF NOT EXISTS task_history_report_rows ON task_history (at, task_id, field, actor_member_id, old_value, new_value)
    WHERE field IN ('status', 'due', 'owners');
CREATE INDEX IF NOT EXISTS tasks_project_open ON tasks (project_id, status, milestone_id, due_at, created_at, updated_at, done_at);
