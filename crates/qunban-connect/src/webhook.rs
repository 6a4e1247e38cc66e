//! qunban's own generic webhook, for bridges (Slack relays, scripts, a
//! personal-WeChat bot…) that are not one of the built-in platforms.
//!
//! Both directions use the same scheme, chosen so it can be produced with
//! `openssl dgst` in a shell (see docs/WEBHOOKS.md):
//!
//! ```text
//! X-Qunban-Timestamp: <unix seconds>
//! X-Qunban-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw_body)>
//! ```
//!
//! The timestamp is inside the MAC so a captured request cannot be replayed
//! outside the ±5 minute window.

use serde::{Deserialize, Serialize};

use crate::util::{ct_eq, hmac_sha256, parse_i64};
use crate::{ConnectError, Secret};

pub const HEADER_TIMESTAMP: &str = "X-Qunban-Timestamp";
pub const HEADER_SIGNATURE: &str = "X-Qunban-Signature";
/// Accepted clock difference between sender and receiver.
pub const MAX_SKEW_SECS: i64 = 300;

/// Shared secret of one generic connector.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Secret);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(\"[redacted]\")")
    }
}

impl WebhookSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        WebhookSecret(Secret::new(secret))
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// `sha256=<hex>` over `timestamp + "." + body`. `timestamp` is the header
/// value exactly as sent.
pub fn signature(secret: &WebhookSecret, timestamp: &str, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(timestamp.len() + 1 + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!("sha256={}", hex::encode(hmac_sha256(secret.expose().as_bytes(), &msg)))
}

/// Checks the two headers of an inbound request against the raw body.
/// `now_unix` is the server clock in seconds.
pub fn verify_inbound(secret: &WebhookSecret, timestamp_header: &str, signature_header: &str, body: &[u8], now_unix: i64) -> Result<(), ConnectError> {
    if timestamp_header.trim().is_empty() || signature_header.trim().is_empty() {
        return Err(ConnectError::BadSignature);
    }
    let ts = parse_i64(HEADER_TIMESTAMP, timestamp_header)?;
    if (now_unix - ts).abs() > MAX_SKEW_SECS {
        return Err(ConnectError::StaleTimestamp);
    }
    let expected = signature(secret, timestamp_header.trim(), body);
    let given = signature_header.trim().to_ascii_lowercase();
    if ct_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(ConnectError::BadSignature)
    }
}

/// Headers for an outbound delivery: `[(name, value); 2]`.
pub fn sign_outbound(secret: &WebhookSecret, timestamp_unix: i64, body: &[u8]) -> [(&'static str, String); 2] {
    let ts = timestamp_unix.to_string();
    let sig = signature(secret, &ts, body);
    [(HEADER_TIMESTAMP, ts), (HEADER_SIGNATURE, sig)]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub id: String,
    pub name: String,
}

/// An inbound bridge message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The bridge's chat id; maps to a qunban group.
    pub group: String,
    pub sender: Sender,
    pub text: String,
    /// Unique per message on the bridge side; used for deduplication.
    pub message_id: String,
    /// RFC 3339 with offset; when absent the server uses its receive time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<jiff::Timestamp>,
}

/// Parses and validates an inbound body; empty ids are rejected because the
/// server keys groups, members and dedupe on them.
pub fn parse_inbound(body: &[u8]) -> Result<InboundMessage, ConnectError> {
    let m: InboundMessage = serde_json::from_slice(body).map_err(|e| ConnectError::malformed(format!("webhook body: {e}")))?;
    for (name, v) in [("group", &m.group), ("sender.id", &m.sender.id), ("message_id", &m.message_id)] {
        if v.trim().is_empty() {
            return Err(ConnectError::malformed(format!("webhook body: {name} is empty")));
        }
    }
    Ok(m)
}

/// The synchronous answer to an inbound message: `{"ok":true,"reply":".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundReply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl InboundReply {
    pub fn reply(text: impl Into<String>) -> Self {
        InboundReply { ok: true, reply: Some(text.into()), error: None }
    }
    pub fn error(msg: impl Into<String>) -> Self {
        InboundReply { ok: false, reply: None, error: Some(msg.into()) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "task.created")]
    TaskCreated,
    #[serde(rename = "task.updated")]
    TaskUpdated,
    #[serde(rename = "task.overdue")]
    TaskOverdue,
    #[serde(rename = "report.daily")]
    ReportDaily,
    /// A chat message the bot wants to post through the bridge.
    #[serde(rename = "message")]
    Message,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TaskCreated => "task.created",
            EventType::TaskUpdated => "task.updated",
            EventType::TaskOverdue => "task.overdue",
            EventType::ReportDaily => "report.daily",
            EventType::Message => "message",
        }
    }
}

/// An outbound event. `id` is the idempotency key: a retried delivery
/// carries the same id so receivers can drop duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: jiff::Timestamp,
    pub data: serde_json::Value,
}

impl OutboundEvent {
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("event serializes")
    }
}
