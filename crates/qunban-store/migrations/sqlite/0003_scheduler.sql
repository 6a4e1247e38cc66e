-- The scheduler: per-group reminder rules, and one row per occurrence of a
-- rule (sent or skipped). `schedule_runs.occurrence_key` is UNIQUE and is
-- written in the same transaction as the occurrence's outbox rows, so an
-- occurrence is queued exactly once however many instances race for it.

-- A group's changes to the default rules; a missing row means the default.
CREATE TABLE schedule_rules (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    -- morning, digest, due_soon, overdue, weekly, milestone
    rule TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    -- HH:MM local time, for morning / digest / weekly.
    at_time TEXT,
    -- Comma-separated hours: before the deadline (due_soon, milestone) or
    -- after it (overdue: to the leads, then to the PMs).
    hours TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, rule)
);

CREATE TABLE schedule_runs (
    id INTEGER PRIMARY KEY,
    occurrence_key TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    group_id INTEGER REFERENCES chat_groups(id),
    scheduled_at INTEGER NOT NULL,
    -- sent, stale, superseded
    status TEXT NOT NULL,
    outbox_rows INTEGER NOT NULL,
    instance TEXT,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX schedule_runs_scheduled ON schedule_runs (scheduled_at);

-- When the scheduler last looked (one row, id 1): after downtime, the
-- occurrences in between are recorded as skipped or caught up.
CREATE TABLE scheduler_state (
    id INTEGER PRIMARY KEY,
    last_tick_at INTEGER NOT NULL
);
