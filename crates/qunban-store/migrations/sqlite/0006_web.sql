-- Web sign-in: an account (login + Argon2id hash) for a member, and browser
-- sessions stored only as SHA-256 digests of their ids.

CREATE TABLE accounts (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE web_sessions (
    id_sha256 TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_member ON web_sessions (member_id);
