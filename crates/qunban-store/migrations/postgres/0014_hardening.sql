-- Production hardening (issue 15): DingTalk replay cache, per-member
-- calendar feed tokens, and the record of maintenance (retention) runs.

-- One row per accepted DingTalk (timestamp, sign) header pair. The
-- platform's signature covers only the timestamp, so a pair may be used
-- for one message only; a row outlives the platform's one-hour window by a
-- margin and is pruned after `expires_at` by the retention job.
CREATE TABLE callback_replays (
    pair_sha256 TEXT PRIMARY KEY,
    connector_id BIGINT NOT NULL,
    -- What the pair authenticated: msgId and conversationId, joined.
    bound_to TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX callback_replays_expiry ON callback_replays (expires_at);

-- A member's read-only calendar token (stored as its SHA-256 only). It
-- opens the member's ICS feeds and nothing else; rotating replaces it.
CREATE TABLE calendar_tokens (
    member_id BIGINT PRIMARY KEY REFERENCES members(id),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- One row per maintenance run period (`retention:2026-01-15T03`): the
-- UNIQUE key is claimed in the run's own transaction, so one instance runs
-- each period however many race for it.
CREATE TABLE maintenance_runs (
    run_key TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    ran_at BIGINT NOT NULL
);
