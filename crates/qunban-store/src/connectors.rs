//! Platform connectors, group robots, reply routes, webhook events and the
//! outbox queries the delivery worker needs.
//!
//! Connector secrets (and group robots' webhook URLs and signing secrets)
//! are sealed at rest with the store's [`crate::Keyring`] and opened when a
//! row is read: the platforms' HMAC and AES schemes need the plain value in
//! memory, so every type holding one redacts it in `Debug` and offers a
//! redacted JSON view for listings.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::secrets::{is_sealed, Keyring};
use crate::tasks::{load_task, owners_of};
use crate::{now_secs, Result, Store, StoreError};

/// The kinds of inbound connector, by the name the CLI and URLs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectorKind {
    /// WeCom self-built app callback.
    #[serde(rename = "wecom")]
    Wecom,
    /// WeCom 智能机器人 (AI bot) callback.
    #[serde(rename = "wecom-bot")]
    WecomBot,
    /// DingTalk enterprise-internal robot callback.
    #[serde(rename = "dingtalk")]
    Dingtalk,
    /// Feishu/Lark event subscription.
    #[serde(rename = "feishu")]
    Feishu,
    /// qunban's generic signed JSON webhook (both directions).
    #[serde(rename = "webhook")]
    Webhook,
}

impl ConnectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Wecom => "wecom",
            ConnectorKind::WecomBot => "wecom-bot",
            ConnectorKind::Dingtalk => "dingtalk",
            ConnectorKind::Feishu => "feishu",
            ConnectorKind::Webhook => "webhook",
        }
    }

    /// The path to paste into the platform's console.
    pub fn callback_path(self, name: &str) -> String {
        match self {
            ConnectorKind::Wecom => format!("/wecom/{name}/callback"),
            ConnectorKind::WecomBot => format!("/wecom-bot/{name}/callback"),
            ConnectorKind::Dingtalk => format!("/dingtalk/{name}/callback"),
            ConnectorKind::Feishu => format!("/feishu/{name}/events"),
            ConnectorKind::Webhook => format!("/hooks/generic/{name}"),
        }
    }
}

impl std::str::FromStr for ConnectorKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "wecom" => ConnectorKind::Wecom,
            "wecom-bot" => ConnectorKind::WecomBot,
            "dingtalk" => ConnectorKind::Dingtalk,
            "feishu" => ConnectorKind::Feishu,
            "webhook" => ConnectorKind::Webhook,
            other => return Err(StoreError::Invalid(format!("unknown connector kind '{other}'"))),
        })
    }
}

impl std::fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of one connector. One flat shape for every kind keeps the
/// stored JSON readable; each kind uses the fields its platform needs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorConfig {
    /// WeCom corp id (the receive id of app callbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// WeCom callback Token (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// WeCom EncodingAESKey (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes_key: Option<String>,
    /// DingTalk robot AppSecret (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    /// Feishu Encrypt Key (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt_key: Option<String>,
    /// Feishu Verification Token (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<String>,
    /// Feishu: the bot's open_id, so its own @-mention is dropped from texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_open_id: Option<String>,
    /// Generic webhook HMAC secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Generic webhook: where outbound events are POSTed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// DingTalk: the origins (`https://host[:port]`) a callback's
    /// `sessionWebhook` may point to. Empty means the platform's own hosts
    /// (`qunban_connect::dingtalk::SESSION_WEBHOOK_ORIGINS`); set it only to
    /// test against a local sink or to follow a platform change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_webhook_origins: Vec<String>,
}

const REDACTED: &str = "[redacted]";

impl ConnectorConfig {
    /// The settings with every secret replaced, for listings and logs.
    pub fn redacted(&self) -> ConnectorConfig {
        let r = |o: &Option<String>| o.as_ref().map(|_| REDACTED.to_string());
        ConnectorConfig {
            token: r(&self.token),
            aes_key: r(&self.aes_key),
            app_secret: r(&self.app_secret),
            encrypt_key: r(&self.encrypt_key),
            verification_token: r(&self.verification_token),
            secret: r(&self.secret),
            ..self.clone()
        }
    }
}

impl ConnectorConfig {
    /// The secret fields, each with the name its sealed value is bound to.
    fn secret_fields_mut(&mut self) -> [(&'static str, &mut Option<String>); 6] {
        [
            ("connector:token", &mut self.token),
            ("connector:aes_key", &mut self.aes_key),
            ("connector:app_secret", &mut self.app_secret),
            ("connector:encrypt_key", &mut self.encrypt_key),
            ("connector:verification_token", &mut self.verification_token),
            ("connector:secret", &mut self.secret),
        ]
    }

    /// Applies `f(field, stored)` to every secret present; true if any changed.
    fn map_secrets(&mut self, mut f: impl FnMut(&'static str, &str) -> Result<Option<String>>) -> Result<bool> {
        let mut changed = false;
        for (aad, field) in self.secret_fields_mut() {
            if let Some(v) = field.as_deref() {
                if let Some(new) = f(aad, v)? {
                    *field = Some(new);
                    changed = true;
                }
            }
        }
        Ok(changed)
    }
}

const ROBOT_URL_AAD: &str = "group_robot:webhook_url";
const ROBOT_SECRET_AAD: &str = "group_robot:secret";

impl std::fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.redacted();
        f.debug_struct("ConnectorConfig")
            .field("corp_id", &r.corp_id)
            .field("agent_id", &r.agent_id)
            .field("token", &r.token)
            .field("aes_key", &r.aes_key)
            .field("app_secret", &r.app_secret)
            .field("encrypt_key", &r.encrypt_key)
            .field("verification_token", &r.verification_token)
            .field("bot_open_id", &r.bot_open_id)
            .field("secret", &r.secret)
            .field("url", &r.url)
            .field("session_webhook_origins", &r.session_webhook_origins)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    pub id: i64,
    pub name: String,
    pub kind: ConnectorKind,
    pub config: ConnectorConfig,
    pub created_at: i64,
}

impl Connector {
    /// JSON for listings: secrets redacted.
    pub fn redacted_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "callback_path": self.kind.callback_path(&self.name),
            "config": self.config.redacted(),
            "created_at": self.created_at,
        })
    }
}

fn connector_from(keys: &Keyring, r: &AnyRow) -> Result<Connector> {
    let kind: String = r.try_get("kind")?;
    let config: String = r.try_get("config")?;
    let mut config: ConnectorConfig = serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("connector config: {e}")))?;
    config.map_secrets(|aad, v| keys.open(aad, v).map(Some))?;
    Ok(Connector { id: r.try_get("id")?, name: r.try_get("name")?, kind: kind.parse()?, config, created_at: r.try_get("created_at")? })
}

/// Which robot posts a group's notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotKind {
    Wecom,
    Dingtalk,
    Feishu,
}

impl RobotKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RobotKind::Wecom => "wecom",
            RobotKind::Dingtalk => "dingtalk",
            RobotKind::Feishu => "feishu",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct GroupRobot {
    pub group_id: i64,
    pub kind: RobotKind,
    /// The webhook URL (WeCom: URL or key). The URL itself is a credential
    /// for WeCom and DingTalk robots, hence the redacting `Debug`.
    pub webhook_url: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for GroupRobot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupRobot")
            .field("group_id", &self.group_id)
            .field("kind", &self.kind)
            .field("webhook_url", &redact_url(&self.webhook_url))
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// Drops the query string (access tokens, keys) from a URL for display.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?{REDACTED}"),
        None => url.to_string(),
    }
}

/// How to answer one inbound message besides the group robot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplyRoute {
    pub connector_id: i64,
    /// The callback answers with the reply itself; the worker only steps in
    /// if that did not happen (see the delivery worker's grace period).
    pub inline_reply: bool,
    /// `dingtalk_session` or `wecom_response_url`.
    pub url_kind: Option<String>,
    pub url: Option<String>,
    /// Unix seconds after which `url` no longer works.
    pub expires_at: Option<i64>,
}

/// Someone to @-mention in a notification, with their identity on the
/// target platform when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MentionTarget {
    pub display_name: String,
    pub platform_user_id: Option<String>,
    pub mobile: Option<String>,
}

/// What happened to a task inside [`Store::apply`], for webhook events.
#[derive(Debug, Clone)]
pub(crate) enum TaskChange {
    Created { project_id: i64, reference: String },
    Updated { task_id: i64 },
}

/// Connector names appear in URLs; keep them to a safe alphabet.
fn checked_connector_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(StoreError::Invalid(format!(
            "bad connector name '{name}': use 1-64 letters, digits, '-' or '_' (it becomes part of the callback URL)"
        )));
    }
    Ok(name)
}

const CONNECTOR_COLUMNS: &str = "id, name, kind, config, created_at";

impl Store {
    pub async fn add_connector(&self, name: &str, kind: ConnectorKind, config: &ConnectorConfig) -> Result<Connector> {
        let name = checked_connector_name(name)?;
        let mut sealed = config.clone();
        sealed.map_secrets(|aad, v| self.keys.seal(aad, v).map(Some))?;
        let json = serde_json::to_string(&sealed).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let row = sqlx::query(&format!(
            "INSERT INTO connectors (name, kind, config, created_at) VALUES ($1, $2, $3, $4) RETURNING {CONNECTOR_COLUMNS}"
        ))
        .bind(name)
        .bind(kind.as_str())
        .bind(json)
        .bind(now_secs())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::duplicate_or(e, "connector", name))?;
        connector_from(&self.keys, &row)
    }

    pub async fn connectors(&self) -> Result<Vec<Connector>> {
        let rows = sqlx::query(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(|r| connector_from(&self.keys, r)).collect()
    }

    /// The connector with this name. Found connectors are reused for a few
    /// seconds without reading the database (see `cache.rs` for why that is
    /// safe with several instances); an unknown name is always looked up.
    pub async fn connector_by_name(&self, name: &str) -> Result<Option<Connector>> {
        if let Some(c) = self.cache.connector(name) {
            return Ok(Some(c));
        }
        let found = self.connector_by_name_uncached(name).await?;
        if let Some(c) = &found {
            self.cache.set_connector(c);
        }
        Ok(found)
    }

    async fn connector_by_name_uncached(&self, name: &str) -> Result<Option<Connector>> {
        let row = sqlx::query(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| connector_from(&self.keys, r)).transpose()
    }

    pub async fn connector(&self, id: i64) -> Result<Option<Connector>> {
        let row = sqlx::query(&format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(|r| connector_from(&self.keys, r)).transpose()
    }

    /// Sets (or replaces) the robot that posts a group's notifications.
    pub async fn set_group_robot(&self, group_id: i64, kind: RobotKind, webhook_url: &str, secret: Option<&str>) -> Result<()> {
        if webhook_url.trim().is_empty() {
            return Err(StoreError::Invalid("the robot webhook URL cannot be empty".into()));
        }
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM group_robots WHERE group_id = $1").bind(group_id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO group_robots (group_id, kind, webhook_url, secret, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(group_id)
            .bind(kind.as_str())
            .bind(self.keys.seal(ROBOT_URL_AAD, webhook_url.trim())?)
            .bind(secret.map(str::trim).filter(|s| !s.is_empty()).map(|s| self.keys.seal(ROBOT_SECRET_AAD, s)).transpose()?)
            .bind(now_secs())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn group_robot(&self, group_id: i64) -> Result<Option<GroupRobot>> {
        let row = sqlx::query("SELECT group_id, kind, webhook_url, secret FROM group_robots WHERE group_id = $1")
            .bind(group_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let kind: String = r.try_get("kind")?;
            let kind = match kind.as_str() {
                "wecom" => RobotKind::Wecom,
                "dingtalk" => RobotKind::Dingtalk,
                "feishu" => RobotKind::Feishu,
                other => return Err(StoreError::Corrupt(format!("robot kind '{other}'"))),
            };
            let url: String = r.try_get("webhook_url")?;
            let secret: Option<String> = r.try_get("secret")?;
            Ok(GroupRobot {
                group_id: r.try_get("group_id")?,
                kind,
                webhook_url: self.keys.open(ROBOT_URL_AAD, &url)?,
                secret: secret.map(|s| self.keys.open(ROBOT_SECRET_AAD, &s)).transpose()?,
            })
        })
        .transpose()
    }

    /// Seals the secrets an older version stored in plain text. Run by
    /// [`Store::open`]; each row is rewritten only if it is still the row
    /// that was read, so instances starting together do not clash.
    pub async fn seal_plaintext_secrets(&self) -> Result<u64> {
        self.reseal(false).await
    }

    /// `qunban secrets rotate`: re-encrypts every secret that is not sealed
    /// with the current key (plain text included), in one transaction, so a
    /// failure leaves the old, still readable values in place. Fails with
    /// [`StoreError::SecretKey`] if a value's key is not configured.
    pub async fn rotate_secrets(&self) -> Result<u64> {
        self.reseal(true).await
    }

    async fn reseal(&self, rotate: bool) -> Result<u64> {
        self.cache.forget_connectors();
        let keys = &self.keys;
        // Needs work: plain text always; with `rotate`, anything not sealed
        // with the current key.
        let stale = |v: &str| -> Result<bool> { Ok(if rotate { !keys.is_current(v)? } else { !is_sealed(v) }) };
        let reseal = |aad: &str, v: &str| -> Result<Option<String>> {
            if stale(v)? {
                Ok(Some(keys.seal(aad, &keys.open(aad, v)?)?))
            } else {
                Ok(None)
            }
        };
        let connectors = sqlx::query("SELECT id, config FROM connectors ORDER BY id").fetch_all(&self.pool).await?;
        let robots = sqlx::query("SELECT group_id, webhook_url, secret FROM group_robots ORDER BY group_id").fetch_all(&self.pool).await?;
        let needs = |v: &str| stale(v);
        let mut any = false;
        for r in &connectors {
            let config: String = r.try_get("config")?;
            let mut c: ConnectorConfig = serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("connector config: {e}")))?;
            any |= c.map_secrets(|_, v| Ok(needs(v)?.then(String::new)))?;
        }
        for r in &robots {
            let url: String = r.try_get("webhook_url")?;
            let secret: Option<String> = r.try_get("secret")?;
            any |= needs(&url)? || secret.as_deref().map(needs).transpose()?.unwrap_or(false);
        }
        if !any {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        let mut n = 0;
        for r in &connectors {
            let id: i64 = r.try_get("id")?;
            let old: String = r.try_get("config")?;
            let mut c: ConnectorConfig = serde_json::from_str(&old).map_err(|e| StoreError::Corrupt(format!("connector config: {e}")))?;
            if c.map_secrets(reseal)? {
                let new = serde_json::to_string(&c).map_err(|e| StoreError::Invalid(e.to_string()))?;
                n += sqlx::query("UPDATE connectors SET config = $1 WHERE id = $2 AND config = $3").bind(new).bind(id).bind(old).execute(&mut *tx).await?.rows_affected();
            }
        }
        for r in &robots {
            let group: i64 = r.try_get("group_id")?;
            let url: String = r.try_get("webhook_url")?;
            let secret: Option<String> = r.try_get("secret")?;
            let new_url = reseal(ROBOT_URL_AAD, &url)?;
            let new_secret = secret.as_deref().map(|s| reseal(ROBOT_SECRET_AAD, s)).transpose()?.flatten();
            if new_url.is_some() || new_secret.is_some() {
                n += sqlx::query("UPDATE group_robots SET webhook_url = $1, secret = $2 WHERE group_id = $3 AND webhook_url = $4")
                    .bind(new_url.unwrap_or_else(|| url.clone()))
                    .bind(new_secret.or(secret))
                    .bind(group)
                    .bind(&url)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Remembers how to answer a message. Written before the message is
    /// logged; a platform retry finds the first route in place.
    pub async fn save_reply_route(&self, platform: &str, platform_msg_id: &str, route: &ReplyRoute) -> Result<()> {
        // Keyed like the logged message, which is stored without NUL.
        let (platform, platform_msg_id) = (crate::storable_text(platform), crate::storable_text(platform_msg_id));
        sqlx::query(
            "INSERT INTO reply_routes (platform, platform_msg_id, connector_id, inline_reply, url_kind, url, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (platform, platform_msg_id) DO NOTHING",
        )
        .bind(platform.as_ref())
        .bind(platform_msg_id.as_ref())
        .bind(route.connector_id)
        .bind(i64::from(route.inline_reply))
        .bind(&route.url_kind)
        .bind(&route.url)
        .bind(route.expires_at)
        .bind(now_secs())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The route saved for a logged message, with the message's platform.
    pub async fn reply_route_for_message(&self, message_id: i64) -> Result<Option<(String, ReplyRoute)>> {
        let row = sqlx::query(
            "SELECT m.platform, r.connector_id, r.inline_reply, r.url_kind, r.url, r.expires_at FROM messages m \
             JOIN reply_routes r ON r.platform = m.platform AND r.platform_msg_id = m.platform_msg_id WHERE m.id = $1",
        )
        .bind(message_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("platform")?,
                ReplyRoute {
                    connector_id: r.try_get("connector_id")?,
                    inline_reply: r.try_get::<i64, _>("inline_reply")? != 0,
                    url_kind: r.try_get("url_kind")?,
                    url: r.try_get("url")?,
                    expires_at: r.try_get("expires_at")?,
                },
            ))
        })
        .transpose()
    }

    /// The owners of the tasks a message created or changed, with their ids
    /// on `platform` (and mobiles), so a reply can really notify them.
    pub async fn mentions_for_message(&self, message_id: i64, platform: &str) -> Result<Vec<MentionTarget>> {
        let rows = sqlx::query(
            "SELECT DISTINCT m.id, m.display_name, m.mobile, o.position, o.task_id FROM task_history h \
             JOIN task_owners o ON o.task_id = h.task_id JOIN members m ON m.id = o.member_id \
             WHERE h.message_id = $1 ORDER BY o.task_id, o.position",
        )
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(i64, MentionTarget)> = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            if out.iter().any(|(m, _)| *m == id) {
                continue;
            }
            let user: Option<String> = sqlx::query_scalar(
                "SELECT platform_user_id FROM member_identities WHERE member_id = $1 AND platform = $2 ORDER BY platform_user_id LIMIT 1",
            )
            .bind(id)
            .bind(platform)
            .fetch_optional(&self.pool)
            .await?;
            out.push((
                id,
                MentionTarget { display_name: r.try_get("display_name")?, platform_user_id: user, mobile: r.try_get("mobile")? },
            ));
        }
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }

    /// Takes a due row for one delivery attempt: moves its next attempt to
    /// `lease_until`, so a second worker skips it and a crash mid-send
    /// leads to a re-send once the lease runs out (at-least-once).
    pub async fn claim_outbox(&self, id: i64, now: i64, lease_until: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE outbox SET next_attempt_at = $3 WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $2")
            .bind(id)
            .bind(now)
            .bind(lease_until)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Delays a row without counting an attempt (rate limits, grace periods).
    pub async fn postpone_outbox(&self, id: i64, at: i64) -> Result<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending'")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records that a reply went out inline in a callback's response.
    pub async fn mark_reply_delivered_inline(&self, message_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL \
             WHERE idempotency_key = $1 AND status = 'pending'",
        )
        .bind(format!("reply:{message_id}"))
        .bind(now_secs())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Queues one event for every generic-webhook connector with an outbound
    /// URL. `key` must identify the cause (the task and message, the report
    /// day) so the same cause never queues twice; each subscriber's row gets
    /// its own key, which is also the event id receivers deduplicate on.
    pub async fn enqueue_webhook_event(&self, event_type: &str, key: &str, data: &serde_json::Value) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = enqueue_event(&mut tx, event_type, key, data, jiff::Timestamp::now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// `qunban outbox retry`: puts a dead (or waiting) row back in the queue
    /// now with a fresh set of attempts. Returns false for an unknown or
    /// already delivered row.
    pub async fn requeue_outbox(&self, id: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND status <> 'sent'")
            .bind(id)
            .bind(now_secs())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Outbox rows that gave up, newest first.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<crate::OutboxItem>> {
        self.outbox(Some(crate::OutboxStatus::Dead), limit).await
    }
}

pub(crate) async fn enqueue_event(conn: &mut AnyConnection, event_type: &str, key: &str, data: &serde_json::Value, now: jiff::Timestamp) -> Result<u64> {
    let subscribers = sqlx::query("SELECT id, config FROM connectors WHERE kind = 'webhook' ORDER BY id").fetch_all(&mut *conn).await?;
    let mut n = 0;
    for r in &subscribers {
        let id: i64 = r.try_get("id")?;
        let config: String = r.try_get("config")?;
        let config: ConnectorConfig = serde_json::from_str(&config).unwrap_or_default();
        if config.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            continue;
        }
        let event_id = format!("evt:{id}:{key}");
        let payload = serde_json::json!({
            "connector_id": id,
            "event": { "id": event_id, "type": event_type, "created_at": now.to_string(), "data": data },
        });
        if crate::outbox::enqueue(conn, &event_id, None, "webhook_event", &payload, now).await?.is_some() {
            n += 1;
        }
    }
    Ok(n)
}

/// Queues `task.created` / `task.updated` events for the changes a decision
/// made, inside its transaction.
pub(crate) async fn emit_task_events(conn: &mut AnyConnection, message_id: Option<i64>, source: &str, changes: &[TaskChange], now: jiff::Timestamp) -> Result<()> {
    for change in changes {
        let (event_type, task) = match change {
            TaskChange::Created { project_id, reference } => ("task.created", crate::tasks::find_task_by_ref(conn, *project_id, reference).await?),
            TaskChange::Updated { task_id } => ("task.updated", load_task(conn, *task_id).await?),
        };
        let Some(task) = task else { continue };
        let project: String = sqlx::query_scalar("SELECT name FROM projects WHERE id = $1").bind(task.project_id).fetch_one(&mut *conn).await?;
        let owners: Vec<String> = owners_of(conn, task.id).await?.into_iter().map(|(_, n)| n).collect();
        let cause = match message_id {
            Some(m) => format!("m{m}"),
            None => format!("{source}{}", now.as_nanosecond()),
        };
        let key = format!("{event_type}:{}:{cause}", task.id);
        let data = serde_json::json!({
            "task": {
                "id": task.id,
                "reference": task.reference,
                "title": task.title,
                "project": project,
                "status": task.status.as_str(),
                "progress": task.progress,
                "owners": owners,
                "due_at": task.due.map(|t| t.to_string()),
                "updated_at": task.updated_at.to_string(),
            },
            "message_id": message_id,
            "source": source,
        });
        enqueue_event(conn, event_type, &key, &data, now).await?;
    }
    Ok(())
}
