-- Reports load a project's tasks and the history rows that metrics use
-- (status, due, owners) in one query per table.
CREATE INDEX IF NOT EXISTS tasks_project ON tasks (project_id, seq);
CREATE INDEX IF NOT EXISTS task_history_field_task ON task_history (field, task_id, id);
CREATE INDEX IF NOT EXISTS standups_project_day ON standups (project_id, day);
