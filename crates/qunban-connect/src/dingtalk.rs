//! DingTalk (钉钉): robot signing (加签), the enterprise-internal robot's
//! outgoing callback, and robot message bodies.
//!
//! The same HMAC formula serves both directions —
//! `base64(HMAC-SHA256(key = secret, msg = timestamp_ms + "\n" + secret))` —
//! but outbound it travels URL-encoded in the query, inbound raw in a header.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::util::{b64_decode, b64_encode, ct_eq, hmac_sha256, parse_i64};
use crate::{ConnectError, Secret};

/// DingTalk rejects timestamps more than an hour from its clock; we apply the
/// same window to callbacks. Because the sign covers only the timestamp, the
/// window alone does not stop a replay with another body: the server also
/// refuses a (timestamp, sign) pair used for another message (see
/// `qunban-store`'s replay cache).
pub const MAX_SKEW_MS: i64 = 3_600_000;

/// A robot secret (custom robot `SEC…` secret or the app's AppSecret).
#[derive(Clone, PartialEq, Eq)]
pub struct DingtalkSecret(Secret);

impl std::fmt::Debug for DingtalkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DingtalkSecret(\"[redacted]\")")
    }
}

impl DingtalkSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        DingtalkSecret(Secret::new(secret))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The base64 sign (not URL-encoded).
    pub fn sign(&self, timestamp_ms: i64) -> String {
        sign(self.expose(), timestamp_ms)
    }
}

/// `base64(HMAC-SHA256(secret, "{timestamp_ms}\n{secret}"))`.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    sign_str(secret, &timestamp_ms.to_string())
}

fn sign_str(secret: &str, timestamp: &str) -> String {
    let msg = format!("{timestamp}\n{secret}");
    b64_encode(&hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

/// The sign as it must appear in a query string (`+`, `/`, `=` escaped).
pub fn sign_url_encoded(secret: &str, timestamp_ms: i64) -> String {
    percent_encoding::utf8_percent_encode(&sign(secret, timestamp_ms), percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Appends `&timestamp=…&sign=…` to a custom-robot webhook URL
/// (`https://oapi.dingtalk.com/robot/send?access_token=…`). Without a secret
/// the URL is returned unchanged, for robots secured by keyword or IP.
pub fn signed_webhook_url(webhook_url: &str, secret: Option<&DingtalkSecret>, timestamp_ms: i64) -> String {
    match secret {
        None => webhook_url.to_owned(),
        Some(s) => {
            let sep = if webhook_url.contains('?') { '&' } else { '?' };
            format!(
                "{webhook_url}{sep}timestamp={timestamp_ms}&sign={}",
                sign_url_encoded(s.expose(), timestamp_ms)
            )
        }
    }
}

/// Verifies the `timestamp` and `sign` headers of an outgoing-robot callback.
/// `now_ms` is the server clock in epoch milliseconds. The timestamp is
/// checked first so a replayed request fails as stale even with a valid sign.
pub fn verify_callback(app_secret: &DingtalkSecret, timestamp_header: &str, sign_header: &str, now_ms: i64) -> Result<(), ConnectError> {
    if timestamp_header.trim().is_empty() || sign_header.trim().is_empty() {
        return Err(ConnectError::BadSignature);
    }
    let ts = parse_i64("timestamp header", timestamp_header)?;
    if (now_ms - ts).abs() > MAX_SKEW_MS {
        return Err(ConnectError::StaleTimestamp);
    }
    let expected = sign_str(app_secret.expose(), timestamp_header.trim());
    // Compare decoded bytes so an equivalent encoding cannot matter, and
    // reject undecodable signs as forged rather than malformed.
    let given = b64_decode(sign_header).map_err(|_| ConnectError::BadSignature)?;
    let expected = b64_decode(&expected).expect("own base64");
    if ct_eq(&given, &expected) {
        Ok(())
    } else {
        Err(ConnectError::BadSignature)
    }
}

/// Where DingTalk's `sessionWebhook` URLs point (protocols.md C2: replies
/// are POSTed to `https://oapi.dingtalk.com/robot/sendBySession?…`;
/// `api.dingtalk.com` is the newer API host). A callback naming anything
/// else is not followed: the body is not covered by the signature, so its
/// URL must not decide where the server sends requests.
pub const SESSION_WEBHOOK_ORIGINS: &[&str] = &["https://oapi.dingtalk.com", "https://api.dingtalk.com"];

/// Whether `url` may be POSTed to as a session webhook: its scheme, host and
/// port must be exactly those of one of `allowed_origins` (`scheme://host[:port]`),
/// and it must carry no user info. Parsed with the `url` crate, so tricks like
/// `https://oapi.dingtalk.com@evil.example/` or `https://oapi.dingtalk.com.evil.example/`
/// are seen for what they are.
pub fn session_webhook_allowed<S: AsRef<str>>(url: &str, allowed_origins: &[S]) -> bool {
    let Ok(u) = url::Url::parse(url.trim()) else { return false };
    if !u.username().is_empty() || u.password().is_some() || !matches!(u.scheme(), "https" | "http") {
        return false;
    }
    let origin = u.origin();
    allowed_origins.iter().any(|o| url::Url::parse(o.as_ref().trim()).is_ok_and(|a| a.origin() == origin))
}

/// `conversationType`: "1" single chat, "2" group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationType {
    Single,
    Group,
    Other(String),
}

impl<'de> Deserialize<'de> for ConversationType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let s = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        Ok(match s.as_str() {
            "1" => ConversationType::Single,
            "2" => ConversationType::Group,
            _ => ConversationType::Other(s),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AtUser {
    #[serde(rename = "dingtalkId", default)]
    pub dingtalk_id: String,
    #[serde(rename = "staffId", default)]
    pub staff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallbackText {
    #[serde(default)]
    pub content: String,
}

/// The outgoing-robot callback body (C2). Only `msgId` and `msgtype` are
/// required; everything else defaults, because DingTalk adds and drops
/// fields between versions and a missing optional field must not lose the
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackMessage {
    pub msg_id: String,
    pub msgtype: String,
    #[serde(default)]
    pub text: Option<CallbackText>,
    /// Epoch milliseconds.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub create_at: Option<i64>,
    #[serde(default = "default_conv")]
    pub conversation_type: ConversationType,
    #[serde(default)]
    pub conversation_id: String,
    #[serde(default)]
    pub conversation_title: Option<String>,
    /// Encrypted per-robot id; prefer `sender_staff_id`.
    #[serde(default)]
    pub sender_id: Option<String>,
    #[serde(default)]
    pub sender_nick: String,
    /// The sender's userid within the corp — the stable member identity.
    #[serde(default)]
    pub sender_staff_id: Option<String>,
    #[serde(default)]
    pub sender_corp_id: Option<String>,
    #[serde(default)]
    pub session_webhook: Option<String>,
    /// Epoch milliseconds after which `session_webhook` stops working.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub session_webhook_expired_time: Option<i64>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub chatbot_corp_id: Option<String>,
    #[serde(default)]
    pub chatbot_user_id: Option<String>,
    #[serde(default)]
    pub is_in_at_list: bool,
    #[serde(default)]
    pub at_users: Vec<AtUser>,
    #[serde(default)]
    pub robot_code: Option<String>,
}

fn default_conv() -> ConversationType {
    ConversationType::Other(String::new())
}

/// DingTalk documents these as numbers but some gateways stringify them.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

impl CallbackMessage {
    /// Text content with DingTalk's customary leading space removed.
    pub fn text(&self) -> Option<&str> {
        self.text.as_ref().map(|t| t.content.trim())
    }

    pub fn is_group(&self) -> bool {
        self.conversation_type == ConversationType::Group
    }

    /// Whether the session webhook can still be used at `now_ms`.
    pub fn session_webhook_valid(&self, now_ms: i64) -> bool {
        self.session_webhook.is_some() && self.session_webhook_expired_time.map_or(true, |t| now_ms < t)
    }
}

pub fn parse_callback(body: &[u8]) -> Result<CallbackMessage, ConnectError> {
    serde_json::from_slice(body).map_err(|e| ConnectError::malformed(format!("DingTalk callback: {e}")))
}

/// Whom a robot message @-mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct At {
    #[serde(rename = "atMobiles")]
    pub mobiles: Vec<String>,
    #[serde(rename = "atUserIds")]
    pub user_ids: Vec<String>,
    #[serde(rename = "isAtAll")]
    pub all: bool,
}

impl At {
    pub fn is_empty(&self) -> bool {
        self.mobiles.is_empty() && self.user_ids.is_empty() && !self.all
    }

    /// DingTalk only notifies people whose `@mobile`/`@userid` also appears
    /// in the text; append the missing ones on a last line, as
    /// dingtalkchatbot does.
    fn ensure_in_text(&self, text: &str) -> String {
        let missing: Vec<String> = self
            .mobiles
            .iter()
            .chain(self.user_ids.iter())
            .map(|m| format!("@{m}"))
            .filter(|tag| !contains_tag(text, tag))
            .collect();
        if missing.is_empty() {
            text.to_owned()
        } else {
            format!("{text}\n{}", missing.join(" "))
        }
    }
}

/// `@138…` must not match inside `@1380…`, so require a non-alphanumeric
/// character (or end) after the tag.
fn contains_tag(text: &str, tag: &str) -> bool {
    text.match_indices(tag).any(|(i, _)| {
        text[i + tag.len()..].chars().next().map_or(true, |c| !c.is_alphanumeric() && c != '_' && c != '-')
    })
}

/// `{"msgtype":"text","text":{"content"},"at":{…}}` with the @ tags ensured in the content.
pub fn text_body(content: &str, at: &At) -> Value {
    json!({
        "msgtype": "text",
        "text": { "content": at.ensure_in_text(content) },
        "at": at,
    })
}

/// `{"msgtype":"markdown","markdown":{"title","text"},"at":{…}}`; `title`
/// is what the conversation list shows.
pub fn markdown_body(title: &str, text: &str, at: &At) -> Value {
    json!({
        "msgtype": "markdown",
        "markdown": { "title": title, "text": at.ensure_in_text(text) },
        "at": at,
    })
}
