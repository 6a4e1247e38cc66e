//! The DingTalk replay cache: one (timestamp, sign) header pair
//! authenticates one message.
//!
//! DingTalk's callback signature is `HMAC(secret, timestamp + "\n" + secret)`:
//! it covers the timestamp only, not the body. Whoever captures one request's
//! headers could, for the rest of the platform's one-hour window, attach them
//! to any body. The cache, in the database so it holds across instances and
//! restarts, stores each accepted pair with the message it carried (msgId and
//! conversationId); the same pair with another message is refused.
//!
//! Residual risk, which the platform's scheme leaves and no server can
//! close: an attacker who captures a pair *before* the genuine request
//! arrives (a TLS-terminating middlebox, a leaked proxy log) can spend it
//! first on a forged body; the genuine message is then refused. Keep the
//! callback behind HTTPS end to end and out of access logs.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store};

/// What a pair has been used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairUse {
    /// First use: recorded.
    Fresh,
    /// Used before for this very message (a platform retry): the message
    /// log's deduplication answers it.
    SameMessage,
    /// Used before for another message: a replay.
    Reused,
}

fn pair_digest(connector_id: i64, timestamp: &str, sign: &str) -> String {
    let mut h = Sha256::new();
    h.update(connector_id.to_string().as_bytes());
    h.update(b"\0");
    h.update(timestamp.trim().as_bytes());
    h.update(b"\0");
    h.update(sign.trim().as_bytes());
    hex::encode(h.finalize())
}

impl Store {
    /// Records that the header pair (`timestamp`, `sign`) of `connector_id`
    /// carried the message `bound_to`; the row may be pruned after
    /// `expires_at` (unix seconds), when the pair is stale anyway. Atomic
    /// across instances: the pair's digest is the table's primary key.
    pub async fn claim_callback_pair(&self, connector_id: i64, timestamp: &str, sign: &str, bound_to: &str, expires_at: i64) -> Result<PairUse> {
        let key = pair_digest(connector_id, timestamp, sign);
        let n = sqlx::query(
            "INSERT INTO callback_replays (pair_sha256, connector_id, bound_to, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pair_sha256) DO NOTHING",
        )
        .bind(&key)
        .bind(connector_id)
        .bind(bound_to)
        .bind(expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 1 {
            return Ok(PairUse::Fresh);
        }
        let row = sqlx::query("SELECT bound_to FROM callback_replays WHERE pair_sha256 = $1").bind(&key).fetch_optional(&self.pool).await?;
        let earlier: Option<String> = row.map(|r| r.try_get("bound_to")).transpose()?;
        Ok(match earlier {
            Some(b) if b == bound_to => PairUse::SameMessage,
            _ => PairUse::Reused,
        })
    }
}
