-- Running a project from the chat: decisions, kudos (weekly stars) and
-- per-group SOP settings.

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id),
    group_id INTEGER REFERENCES chat_groups(id),
    member_id INTEGER NOT NULL REFERENCES members(id),
    message_id INTEGER,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE kudos (
    id INTEGER PRIMARY KEY,
    project_id INTEGER REFERENCES projects(id),
    group_id INTEGER REFERENCES chat_groups(id),
    from_member_id INTEGER NOT NULL REFERENCES members(id),
    to_member_id INTEGER NOT NULL REFERENCES members(id),
    reason TEXT NOT NULL,
    message_id INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX kudos_created ON kudos (created_at);

CREATE TABLE group_settings (
    group_id INTEGER NOT NULL REFERENCES chat_groups(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, key)
);

-- Bindings and roles made in the chat are derived from the message log, so
-- replay can undo and redo them; those made on the CLI have no message.
ALTER TABLE chat_groups ADD COLUMN bound_by_message_id INTEGER;
ALTER TABLE project_roles ADD COLUMN granted_by_message_id INTEGER;
