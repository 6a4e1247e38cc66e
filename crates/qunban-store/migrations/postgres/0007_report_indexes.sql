-- Reports for one window (Store::report_window): the tasks open or changed
-- since an instant, the task counts per milestone and status, and the
-- burn-down sums over the status changes of milestone tasks, each read from
-- an index instead of the whole tables.
CREATE INDEX IF NOT EXISTS task_history_at ON task_history (at, task_id);
CREATE INDEX IF NOT EXISTS task_history_status ON task_history (task_id, at, old_value, new_value) WHERE field = 'status';
CREATE INDEX IF NOT EXISTS tasks_project_status ON tasks (project_id, status, created_at, updated_at, done_at, parent_task_id);
CREATE INDEX IF NOT EXISTS tasks_project_milestone ON tasks (project_id, milestone_id, status, created_at);
