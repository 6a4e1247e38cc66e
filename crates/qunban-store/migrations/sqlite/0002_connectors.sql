-- Platform connectors, per-group outbound robots and per-message reply routes.
-- Secrets live in `connectors.config` / `group_robots.secret`; the CLI and
-- logs only ever show them redacted.

CREATE TABLE connectors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- wecom, wecom-bot, dingtalk, feishu, webhook
    kind TEXT NOT NULL,
    -- JSON object of the connector's settings and secrets.
    config TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- The robot a group's notifications are posted through.
CREATE TABLE group_robots (
    group_id INTEGER PRIMARY KEY REFERENCES chat_groups(id),
    -- wecom, dingtalk, feishu
    kind TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    secret TEXT,
    updated_at INTEGER NOT NULL
);

-- How to answer one inbound message: inline in the callback's response
-- and/or through a per-message URL (DingTalk sessionWebhook, WeCom AI bot
-- response_url). Keyed like the message log so it can be written before the
-- message is logged.
CREATE TABLE reply_routes (
    platform TEXT NOT NULL,
    platform_msg_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL REFERENCES connectors(id),
    inline_reply INTEGER NOT NULL,
    url_kind TEXT,
    url TEXT,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (platform, platform_msg_id)
);
