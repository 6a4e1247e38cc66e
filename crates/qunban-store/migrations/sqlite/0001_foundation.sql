-- qunban foundation schema. Times are unix seconds (UTC) in INTEGER columns so
-- that the same queries run on SQLite and PostgreSQL; the workspace time zone
-- turns them into local time at the edges.

CREATE TABLE workspace (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    member_id INTEGER,
    is_admin INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    status TEXT NOT NULL,
    task_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL UNIQUE,
    mobile TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE member_aliases (
    alias TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id)
);

CREATE TABLE member_identities (
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id),
    PRIMARY KEY (platform, platform_user_id)
);

CREATE TABLE project_roles (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    role TEXT NOT NULL,
    PRIMARY KEY (project_id, member_id, role)
);

CREATE TABLE chat_groups (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    project_id INTEGER REFERENCES projects(id),
    parent_group_id INTEGER REFERENCES chat_groups(id),
    parent_task_id INTEGER,
    locale TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (platform, chat_id)
);

-- Support groups may serve several projects.
CREATE TABLE group_projects (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    PRIMARY KEY (group_id, project_id)
);

CREATE TABLE milestones (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    due_at INTEGER,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    seq INTEGER NOT NULL,
    reference TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL,
    priority TEXT,
    note TEXT,
    due_at INTEGER,
    parent_task_id INTEGER REFERENCES tasks(id),
    milestone_id INTEGER REFERENCES milestones(id),
    created_by_message_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    done_at INTEGER,
    UNIQUE (project_id, seq),
    UNIQUE (project_id, reference)
);
CREATE INDEX tasks_status_due ON tasks (status, due_at);

CREATE TABLE task_owners (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (task_id, member_id)
);
CREATE INDEX task_owners_member ON task_owners (member_id);

CREATE TABLE task_dependencies (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    depends_on_task_id INTEGER NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (task_id, depends_on_task_id)
);

-- Every change of a task: who, when, through which message or API call.
CREATE TABLE task_history (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    at INTEGER NOT NULL,
    actor_member_id INTEGER REFERENCES members(id),
    source TEXT NOT NULL,
    message_id INTEGER,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX task_history_task ON task_history (task_id, id);

CREATE TABLE goals (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    metric TEXT,
    target REAL,
    current REAL,
    unit TEXT,
    deadline_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE goal_tasks (
    goal_id INTEGER NOT NULL REFERENCES goals(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (goal_id, task_id)
);

CREATE TABLE risks (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    title TEXT NOT NULL,
    probability TEXT NOT NULL,
    impact TEXT NOT NULL,
    owner_member_id INTEGER REFERENCES members(id),
    mitigation TEXT,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The append-only message log: stored before interpretation, so that state
-- can always be rebuilt from it (`qunban replay`).
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_msg_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    chat_name TEXT,
    sender_id TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    text TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    raw TEXT NOT NULL,
    -- Set in the transaction that applied the message; NULL = still to interpret.
    processed_at INTEGER,
    UNIQUE (platform, platform_msg_id)
);

CREATE TABLE standups (
    id INTEGER PRIMARY KEY,
    message_id INTEGER REFERENCES messages(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    group_id INTEGER REFERENCES chat_groups(id),
    project_id INTEGER REFERENCES projects(id),
    day TEXT NOT NULL,
    yesterday TEXT NOT NULL,
    today TEXT NOT NULL,
    blockers TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX standups_day ON standups (day, member_id);

-- Outbound messages, written in the same transaction as the change that
-- caused them; a delivery worker sends them at least once.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    group_id INTEGER REFERENCES chat_groups(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at);
