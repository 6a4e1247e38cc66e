//! The append-only message log.
//!
//! Every inbound message is stored here before anything interprets it, keyed
//! by (platform, platform message id) so that a platform's retry, a re-import
//! or a replayed callback is stored once and acted on once.
//!
//! ## Claiming: exactly once across instances
//!
//! Several `qunban serve` processes may share one database (PostgreSQL, or
//! one SQLite file). A logged message is applied exactly once because the
//! applying transaction starts by marking it processed *conditionally*
//! (`UPDATE messages SET processed_at = … WHERE id = … AND processed_at IS
//! NULL`, see `apply.rs`): that statement takes the row's lock (PostgreSQL)
//! or the write lock (SQLite) until commit, so a second applier waits, then
//! finds 0 rows and rolls its whole decision back. This is the guarantee,
//! and it needs no clock.
//!
//! On top of it, a lease (`claimed_until`) keeps instances from doing the
//! same work: the instance that logs a message claims it for a short lease
//! while it interprets it; the background catch-up (`Engine::catch_up`)
//! claims only unapplied messages whose lease is free or expired, in one
//! `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` on PostgreSQL,
//! so two instances catching up split a backlog instead of racing through
//! it. A lease rather than a `SELECT … FOR UPDATE SKIP LOCKED` held for the
//! whole interpretation because interpreting reads through other pooled
//! connections (and the SQLite pool has one): holding a row lock across it
//! would deadlock SQLite and pin a PostgreSQL connection per message. An
//! instance that dies leaves its lease to expire; one whose processing fails
//! releases it, so the platform's retry (or the next catch-up) applies the
//! message. An expired lease on a message still being interpreted costs at
//! most a wasted interpretation, never a second application.
//!
//! ## What can be stored
//!
//! PostgreSQL cannot store a NUL character in `TEXT`. NUL never means
//! anything in a chat message (no client shows it), so it is removed from
//! every field of an inbound message on the way into the log — on both
//! backends, so they store the same text — keeping the rest of the text.

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

/// Removes what a backend cannot store (NUL) from an inbound text; the rest
/// of the text is kept as typed.
pub fn storable_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

impl InboundMessage {
    /// The message with every field made storable ([`storable_text`]).
    pub fn storable(&self) -> InboundMessage {
        let f = |s: &str| storable_text(s).into_owned();
        InboundMessage {
            platform: f(&self.platform),
            platform_msg_id: f(&self.platform_msg_id),
            chat_id: f(&self.chat_id),
            chat_name: self.chat_name.as_deref().map(f),
            sender_id: f(&self.sender_id),
            sender_name: f(&self.sender_name),
            text: f(&self.text),
            sent_at: self.sent_at,
            raw: f(&self.raw),
        }
    }
}

/// A message handed to the log, and whether this caller holds its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub id: i64,
    /// Logged by this call (false: the platform sent it before).
    pub fresh: bool,
    /// This caller holds the lease and should interpret it: always for a
    /// fresh message; for a repeat, when it was never applied and no other
    /// instance is working on it (its earlier attempt failed or died).
    pub claimed: bool,
}

const COLUMNS: &str = "id, platform, platform_msg_id, chat_id, chat_name, sender_id, sender_name, text, sent_at, received_at";

impl Store {
    /// Appends a message to the log. Returns its id and whether it is new;
    /// a message already logged (same platform and id) is left untouched.
    pub async fn append_message(&self, m: &InboundMessage) -> Result<(i64, bool)> {
        let (a, _) = self.append_inner(m, None).await?;
        Ok((a.id, a.fresh))
    }

    /// Appends a message and claims it for `lease_secs`: a fresh message is
    /// claimed as it is inserted; a repeat is claimed when it is still
    /// unapplied and its lease is free (see the module doc).
    pub async fn append_claimed(&self, m: &InboundMessage, lease_secs: i64) -> Result<Appended> {
        Ok(self.append_inner(m, Some(lease_secs)).await?.0)
    }

    /// [`Store::append_claimed`], also returning the logged row when this
    /// call stored it, so that the caller interprets it without reading it
    /// back: the row holds exactly the values just inserted (the storable
    /// form of `m`, the id, and the receive time set here).
    pub async fn append_claimed_logged(&self, m: &InboundMessage, lease_secs: i64) -> Result<(Appended, Option<LoggedMessage>)> {
        self.append_inner(m, Some(lease_secs)).await
    }

    async fn append_inner(&self, m: &InboundMessage, lease_secs: Option<i64>) -> Result<(Appended, Option<LoggedMessage>)> {
        let m = m.storable();
        let m = &m;
        let now = now_secs();
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO messages (platform, platform_msg_id, chat_id, chat_name, sender_id, sender_name, text, sent_at, received_at, raw, claimed_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (platform, platform_msg_id) DO NOTHING RETURNING id",
        )
        .bind(&m.platform)
        .bind(&m.platform_msg_id)
        .bind(&m.chat_id)
        .bind(&m.chat_name)
        .bind(&m.sender_id)
        .bind(&m.sender_name)
        .bind(&m.text)
        .bind(m.sent_at)
        .bind(now)
        .bind(&m.raw)
        .bind(lease_secs.map(|l| now + l))
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(id) => {
                let logged = LoggedMessage {
                    id,
                    platform: m.platform.clone(),
                    platform_msg_id: m.platform_msg_id.clone(),
                    chat_id: m.chat_id.clone(),
                    chat_name: m.chat_name.clone(),
                    sender_id: m.sender_id.clone(),
                    sender_name: m.sender_name.clone(),
                    text: m.text.clone(),
                    sent_at: m.sent_at,
                    received_at: now,
                };
                Ok((Appended { id, fresh: true, claimed: lease_secs.is_some() }, Some(logged)))
            }
            None => {
                let id = sqlx::query_scalar("SELECT id FROM messages WHERE platform = $1 AND platform_msg_id = $2")
                    .bind(&m.platform)
                    .bind(&m.platform_msg_id)
                    .fetch_one(&self.pool)
                    .await?;
                let claimed = match lease_secs {
                    Some(lease) => self.claim_message(id, lease).await?,
                    None => false,
                };
                Ok((Appended { id, fresh: false, claimed }, None))
            }
        }
    }

    /// Claims one unapplied message for `lease_secs` if no live lease holds
    /// it. True when this caller now holds it.
    pub async fn claim_message(&self, id: i64, lease_secs: i64) -> Result<bool> {
        let now = now_secs();
        let done = sqlx::query(
            "UPDATE messages SET claimed_until = $2 WHERE id = $1 AND processed_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)",
        )
        .bind(id)
        .bind(now + lease_secs)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up a claim after a failed attempt, so that the platform's retry
    /// or the next catch-up applies the message without waiting for the
    /// lease to run out.
    pub async fn release_claim(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE messages SET claimed_until = NULL WHERE id = $1 AND processed_at IS NULL").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Claims up to `limit` unapplied messages whose lease is free or
    /// expired, for `lease_secs`; oldest first. On PostgreSQL rows another
    /// instance is claiming at the same moment are skipped (`SKIP LOCKED`),
    /// and the outer conditions are re-checked on the latest row version, so
    /// two instances never claim the same message at once.
    pub async fn claim_unprocessed(&self, limit: i64, lease_secs: i64) -> Result<Vec<LoggedMessage>> {
        let now = now_secs();
        let lock = match self.backend {
            crate::Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            // One writer at a time: the statement runs under the write lock.
            crate::Backend::Sqlite => "",
        };
        let free = "processed_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2)";
        let rows = sqlx::query(&format!(
            "UPDATE messages SET claimed_until = $1 WHERE id IN (SELECT id FROM messages WHERE {free} ORDER BY id LIMIT $3 {lock}) AND {free} \
             RETURNING {COLUMNS}"
        ))
        .bind(now + lease_secs)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut batch = rows.iter().map(logged_from).collect::<Result<Vec<_>>>()?;
        batch.sort_by_key(|m| m.id);
        Ok(batch)
    }

    /// How many logged messages are not applied yet.
    pub async fn unprocessed_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE processed_at IS NULL").fetch_one(&self.pool).await?)
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
