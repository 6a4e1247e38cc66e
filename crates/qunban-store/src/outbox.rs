//! The durable outbox: messages waiting to be delivered.
//!
//! Rows are written inside the transaction of the change that caused them and
//! carry an idempotency key, so a notification is neither lost on a crash nor
//! queued twice for the same cause.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{now_secs, Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    /// Gave up after repeated failures; `qunban outbox retry` re-queues it.
    Dead,
}

impl OutboxStatus {
    fn parse(s: &str) -> OutboxStatus {
        match s {
            "sent" => OutboxStatus::Sent,
            "dead" => OutboxStatus::Dead,
            _ => OutboxStatus::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub idempotency_key: String,
    pub group_id: Option<i64>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

fn item_from(r: &AnyRow) -> Result<OutboxItem> {
    let payload: String = r.try_get("payload")?;
    let status: String = r.try_get("status")?;
    Ok(OutboxItem {
        id: r.try_get("id")?,
        idempotency_key: r.try_get("idempotency_key")?,
        group_id: r.try_get("group_id")?,
        kind: r.try_get("kind")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
        status: OutboxStatus::parse(&status),
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

const COLUMNS: &str = "id, idempotency_key, group_id, kind, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at";

/// Queues a message inside an open transaction. Returns `None` when a message
/// with the same key is already queued.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    key: &str,
    group_id: Option<i64>,
    kind: &str,
    payload: &serde_json::Value,
    now: jiff::Timestamp,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (idempotency_key, group_id, kind, payload, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(key)
    .bind(group_id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(now.as_second())
    .fetch_optional(&mut *conn)
    .await?)
}

impl Store {
    /// Queues a message outside any other change (scheduler, API).
    pub async fn enqueue(&self, key: &str, group_id: Option<i64>, kind: &str, payload: &serde_json::Value) -> Result<Option<i64>> {
        let mut conn = self.pool.acquire().await?;
        enqueue(&mut conn, key, group_id, kind, payload, jiff::Timestamp::now()).await
    }

    /// Outbox rows, newest first; `status` narrows the list.
    pub async fn outbox(&self, status: Option<OutboxStatus>, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = match status {
            Some(s) => {
                let name = match s {
                    OutboxStatus::Pending => "pending",
                    OutboxStatus::Sent => "sent",
                    OutboxStatus::Dead => "dead",
                };
                sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE status = $1 ORDER BY id DESC LIMIT $2"))
                    .bind(name)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1")).bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter().map(item_from).collect()
    }

    /// Outbox rows of the groups `group_ids` only, newest first (what a PM
    /// or lead may see: the groups of their projects).
    pub async fn outbox_of_groups(&self, status: Option<OutboxStatus>, group_ids: &[i64], limit: i64) -> Result<Vec<OutboxItem>> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers: inlined, since `Any` has no array binding.
        let list = group_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let status = status.map(|s| match s {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        });
        let rows = match status {
            Some(name) => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE status = $1 AND group_id IN ({list}) ORDER BY id DESC LIMIT $2"))
                    .bind(name)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE group_id IN ({list}) ORDER BY id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(item_from).collect()
    }

    pub async fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(item_from).transpose()
    }

    /// Pending messages whose time has come, oldest first.
    pub async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from).collect()
    }

    pub async fn mark_sent(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1")
            .bind(id)
            .bind(now_secs())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at`, or parked as dead.
    pub async fn mark_failed(&self, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
        let (status, next) = match retry_at {
            Some(t) => ("pending", t),
            None => ("dead", now_secs()),
        };
        sqlx::query("UPDATE outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4 WHERE id = $1")
            .bind(id)
            .bind(status)
            .bind(next)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
