//! The append-only message log.
//!
//! Every inbound message is stored here before anything interprets it, keyed
//! by (platform, platform message id) so that a platform's retry, a re-import
//! or a replayed callback is stored once and acted on once.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_secs, Result, Store};

/// A message as an inbound adapter hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// `wecom`, `dingtalk`, `feishu`, `webhook`, `wechat-import`, `playground`, `api`…
    pub platform: String,
    pub platform_msg_id: String,
    pub chat_id: String,
    pub chat_name: Option<String>,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    /// When the sender sent it (unix seconds); deadlines are relative to it.
    pub sent_at: i64,
    /// The payload as received (decrypted), for audits and re-interpretation.
    pub raw: String,
}

/// A message as stored in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedMessage {
    pub id: i64,
    pub platform: String,
    pub platform_msg_id: String,
    pub chat_id: String,
    pub chat_name: Option<String>,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    pub sent_at: i64,
    pub received_at: i64,
}

fn logged_from(r: &AnyRow) -> Result<LoggedMessage> {
    Ok(LoggedMessage {
        id: r.try_get("id")?,
        platform: r.try_get("platform")?,
        platform_msg_id: r.try_get("platform_msg_id")?,
        chat_id: r.try_get("chat_id")?,
        chat_name: r.try_get("chat_name")?,
        sender_id: r.try_get("sender_id")?,
        sender_name: r.try_get("sender_name")?,
        text: r.try_get("text")?,
        sent_at: r.try_get("sent_at")?,
        received_at: r.try_get("received_at")?,
    })
}

const COLUMNS: &str = "id, platform, platform_msg_id, chat_id, chat_name, sender_id, sender_name, text, sent_at, received_at";

impl Store {
    /// Appends a message to the log. Returns its id and whether it is new;
    /// a message already logged (same platform and id) is left untouched.
    pub async fn append_message(&self, m: &InboundMessage) -> Result<(i64, bool)> {
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO messages (platform, platform_msg_id, chat_id, chat_name, sender_id, sender_name, text, sent_at, received_at, raw) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (platform, platform_msg_id) DO NOTHING RETURNING id",
        )
        .bind(&m.platform)
        .bind(&m.platform_msg_id)
        .bind(&m.chat_id)
        .bind(&m.chat_name)
        .bind(&m.sender_id)
        .bind(&m.sender_name)
        .bind(&m.text)
        .bind(m.sent_at)
        .bind(now_secs())
        .bind(&m.raw)
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(id) => Ok((id, true)),
            None => {
                let id = sqlx::query_scalar("SELECT id FROM messages WHERE platform = $1 AND platform_msg_id = $2")
                    .bind(&m.platform)
                    .bind(&m.platform_msg_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok((id, false))
            }
        }
    }

    /// Messages with an id greater than `after`, oldest first, at most `limit`.
    /// Replay pages through the whole log with it.
    pub async fn messages_after(&self, after: i64, limit: i64) -> Result<Vec<LoggedMessage>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM messages WHERE id > $1 ORDER BY id LIMIT $2"))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(logged_from).collect()
    }

    pub async fn message(&self, id: i64) -> Result<Option<LoggedMessage>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM messages WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(logged_from).transpose()
    }

    /// Logged messages not yet interpreted (a crash between logging and
    /// applying), oldest first.
    pub async fn unprocessed_messages(&self, limit: i64) -> Result<Vec<LoggedMessage>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM messages WHERE processed_at IS NULL ORDER BY id LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(logged_from).collect()
    }

    /// The reply already queued for a message, for answering a platform's
    /// retry of the same message with the same words.
    pub async fn reply_for_message(&self, message_id: i64) -> Result<Option<String>> {
        let payload: Option<String> = sqlx::query_scalar("SELECT payload FROM outbox WHERE idempotency_key = $1")
            .bind(format!("reply:{message_id}"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(payload
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string)))
    }

    pub async fn message_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&self.pool).await?)
    }
}
