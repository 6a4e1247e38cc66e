//! Feishu / Lark: event-subscription decryption and signature check,
//! `url_verification`, `im.message.receive_v1`, and the custom bot's signed
//! outbound bodies.
//!
//! Server flow: `FeishuKeys::open_request(headers, body)` →
//! [`FeishuInbound::UrlVerification`] (answer `challenge_response`) or an
//! event (answer 200 quickly, dedupe on `event_id`).

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::util::{aes256_cbc_decrypt_nopad, aes256_cbc_encrypt_nopad, b64_decode, b64_encode, ct_eq, hmac_sha256, pkcs7_pad, pkcs7_unpad};
use crate::{ConnectError, Secret};

/// Event-subscription credentials. Both are optional in Feishu's console:
/// without an Encrypt Key events arrive in plaintext and unsigned.
#[derive(Clone, Default)]
pub struct FeishuKeys {
    pub encrypt_key: Option<Secret>,
    pub verification_token: Option<Secret>,
}

impl std::fmt::Debug for FeishuKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = |o: &Option<Secret>| if o.is_some() { "[redacted]" } else { "None" };
        f.debug_struct("FeishuKeys")
            .field("encrypt_key", &r(&self.encrypt_key))
            .field("verification_token", &r(&self.verification_token))
            .finish()
    }
}

/// The three `X-Lark-*` headers, as received (absent ones `None`).
#[derive(Debug, Clone, Default)]
pub struct SignatureHeaders<'a> {
    pub timestamp: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
}

pub const HEADER_TIMESTAMP: &str = "X-Lark-Request-Timestamp";
pub const HEADER_NONCE: &str = "X-Lark-Request-Nonce";
pub const HEADER_SIGNATURE: &str = "X-Lark-Signature";

fn derive_key(encrypt_key: &str) -> [u8; 32] {
    Sha256::digest(encrypt_key.as_bytes()).into()
}

/// Decrypts an `encrypt` field: key = SHA256(encrypt_key), IV = first 16
/// bytes of the decoded data, AES-256-CBC, PKCS#7 (16-byte blocks).
pub fn decrypt(encrypt_key: &str, encrypt: &str) -> Result<String, ConnectError> {
    let raw = b64_decode(encrypt)?;
    if raw.len() < 32 {
        return Err(ConnectError::malformed("encrypted event shorter than IV + one block"));
    }
    let iv: [u8; 16] = raw[..16].try_into().expect("16 bytes");
    let plain = aes256_cbc_decrypt_nopad(&derive_key(encrypt_key), &iv, &raw[16..])?;
    let plain = pkcs7_unpad(plain, 16)?;
    String::from_utf8(plain).map_err(|_| ConnectError::malformed("decrypted event is not UTF-8"))
}

/// The inverse of [`decrypt`], for tests and local tooling (Feishu itself
/// never needs us to encrypt).
pub fn encrypt_with_iv(encrypt_key: &str, plaintext: &str, iv: [u8; 16]) -> String {
    let data = pkcs7_pad(plaintext.as_bytes().to_vec(), 16);
    let mut out = iv.to_vec();
    out.extend(aes256_cbc_encrypt_nopad(&derive_key(encrypt_key), &iv, &data));
    b64_encode(&out)
}

/// `hex(SHA256(timestamp + nonce + encrypt_key + raw_body))` — plain SHA-256,
/// not HMAC, over the body bytes exactly as received.
pub fn signature(timestamp: &str, nonce: &str, encrypt_key: &str, raw_body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(timestamp.as_bytes());
    h.update(nonce.as_bytes());
    h.update(encrypt_key.as_bytes());
    h.update(raw_body);
    hex::encode(h.finalize())
}

pub fn verify_signature(headers: &SignatureHeaders<'_>, encrypt_key: &str, raw_body: &[u8]) -> Result<(), ConnectError> {
    let (Some(ts), Some(nonce), Some(sig)) = (headers.timestamp, headers.nonce, headers.signature) else {
        return Err(ConnectError::BadSignature);
    };
    let expected = signature(ts, nonce, encrypt_key, raw_body);
    if ct_eq(expected.as_bytes(), sig.trim().to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(ConnectError::BadSignature)
    }
}

/// What an event-URL request turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum FeishuInbound {
    /// Answer HTTP 200 with [`challenge_response`].
    UrlVerification { challenge: String },
    /// Boxed: it is far larger than the other variants.
    MessageReceive(Box<MessageEvent>),
    /// Any other event; `payload` is the decrypted JSON.
    Other { event_type: String, event_id: Option<String>, payload: Value },
}

impl FeishuKeys {
    pub fn new(encrypt_key: Option<&str>, verification_token: Option<&str>) -> Self {
        let nz = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(Secret::new);
        FeishuKeys { encrypt_key: nz(encrypt_key), verification_token: nz(verification_token) }
    }

    /// Decrypts (if needed), authenticates and classifies one request, in
    /// lark-oapi's order: `url_verification` is checked by token only (it
    /// arrives unsigned); every other request must carry a valid signature
    /// when an Encrypt Key is configured, then a matching token.
    pub fn open_request(&self, headers: &SignatureHeaders<'_>, raw_body: &[u8]) -> Result<FeishuInbound, ConnectError> {
        let outer: Value = serde_json::from_slice(raw_body).map_err(|e| ConnectError::malformed(format!("Feishu body: {e}")))?;
        let payload: Value = match outer.get("encrypt") {
            Some(Value::String(enc)) => {
                let key = self
                    .encrypt_key
                    .as_ref()
                    .ok_or_else(|| ConnectError::Config("encrypted Feishu event but no encrypt key configured".into()))?;
                let plain = decrypt(key.expose(), enc)?;
                serde_json::from_str(&plain).map_err(|e| ConnectError::malformed(format!("decrypted Feishu event: {e}")))?
            }
            Some(_) => return Err(ConnectError::malformed("Feishu `encrypt` is not a string")),
            None => outer,
        };

        if !payload.is_object() {
            return Err(ConnectError::malformed("Feishu event is not a JSON object"));
        }
        if payload.get("type").and_then(Value::as_str) == Some("url_verification") {
            self.check_token(payload.get("token").and_then(Value::as_str))?;
            let challenge = payload
                .get("challenge")
                .and_then(Value::as_str)
                .ok_or_else(|| ConnectError::malformed("url_verification without challenge"))?;
            return Ok(FeishuInbound::UrlVerification { challenge: challenge.to_owned() });
        }

        if let Some(key) = &self.encrypt_key {
            verify_signature(headers, key.expose(), raw_body)?;
        }
        // Schema 2.0 puts the token in header.token, 1.0 at the top level.
        let token = payload
            .pointer("/header/token")
            .or_else(|| payload.get("token"))
            .and_then(Value::as_str);
        self.check_token(token)?;

        let event_type = payload
            .pointer("/header/event_type")
            .or_else(|| payload.pointer("/event/type"))
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectError::malformed("Feishu event has no event type"))?
            .to_owned();
        if event_type == "im.message.receive_v1" {
            return Ok(FeishuInbound::MessageReceive(Box::new(MessageEvent::from_payload(&payload)?)));
        }
        let event_id = payload
            .pointer("/header/event_id")
            .or_else(|| payload.get("uuid"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(FeishuInbound::Other { event_type, event_id, payload })
    }

    fn check_token(&self, got: Option<&str>) -> Result<(), ConnectError> {
        match &self.verification_token {
            None => Ok(()),
            Some(vt) => {
                if ct_eq(vt.expose().as_bytes(), got.unwrap_or("").as_bytes()) {
                    Ok(())
                } else {
                    Err(ConnectError::BadToken)
                }
            }
        }
    }
}

/// JSON body answering a `url_verification`.
pub fn challenge_response(challenge: &str) -> String {
    json!({ "challenge": challenge }).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserIds {
    #[serde(default)]
    pub open_id: Option<String>,
    /// Null without the user-id scope.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub union_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FeishuMention {
    /// Placeholder in the text, e.g. `@_user_1`.
    pub key: String,
    pub id: UserIds,
    #[serde(default)]
    pub name: String,
}

/// An `im.message.receive_v1` event, flattened to what a chat bot needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvent {
    pub event_id: String,
    /// Epoch milliseconds (header.create_time).
    pub create_time_ms: Option<i64>,
    pub app_id: Option<String>,
    pub tenant_key: Option<String>,
    pub message_id: String,
    pub root_id: Option<String>,
    pub parent_id: Option<String>,
    pub chat_id: String,
    /// `"group"` or `"p2p"`.
    pub chat_type: String,
    pub message_type: String,
    pub sender: UserIds,
    pub sender_type: String,
    /// `message.content`, the JSON string as sent.
    pub raw_content: String,
    /// For text messages: the text with `@_user_N` placeholders still in.
    pub text: Option<String>,
    pub mentions: Vec<FeishuMention>,
}

/// Text after resolving mentions for a particular bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedText {
    /// Bot placeholder removed, other placeholders replaced by `@Name`.
    pub text: String,
    pub bot_mentioned: bool,
}

fn opt_str(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn req_str(v: &Value, ptr: &str) -> Result<String, ConnectError> {
    opt_str(v, ptr).ok_or_else(|| ConnectError::malformed(format!("Feishu event lacks {ptr}")))
}

impl MessageEvent {
    /// Builds from a decrypted schema-2.0 payload.
    pub fn from_payload(p: &Value) -> Result<Self, ConnectError> {
        let raw_content = opt_str(p, "/event/message/content").unwrap_or_default();
        let message_type = req_str(p, "/event/message/message_type")?;
        let text = if message_type == "text" {
            let c: Value = serde_json::from_str(&raw_content)
                .map_err(|e| ConnectError::malformed(format!("message.content is not JSON: {e}")))?;
            Some(c.get("text").and_then(Value::as_str).unwrap_or_default().to_owned())
        } else {
            None
        };
        let mentions = match p.pointer("/event/message/mentions") {
            None | Some(Value::Null) => Vec::new(),
            Some(m) => serde_json::from_value(m.clone()).map_err(|e| ConnectError::malformed(format!("mentions: {e}")))?,
        };
        let sender: UserIds = match p.pointer("/event/sender/sender_id") {
            Some(s) => serde_json::from_value(s.clone()).map_err(|e| ConnectError::malformed(format!("sender_id: {e}")))?,
            None => return Err(ConnectError::malformed("Feishu event lacks /event/sender/sender_id")),
        };
        Ok(MessageEvent {
            event_id: req_str(p, "/header/event_id")?,
            create_time_ms: opt_str(p, "/header/create_time").and_then(|s| s.parse().ok()),
            app_id: opt_str(p, "/header/app_id"),
            tenant_key: opt_str(p, "/header/tenant_key"),
            message_id: req_str(p, "/event/message/message_id")?,
            root_id: opt_str(p, "/event/message/root_id"),
            parent_id: opt_str(p, "/event/message/parent_id"),
            chat_id: req_str(p, "/event/message/chat_id")?,
            chat_type: opt_str(p, "/event/message/chat_type").unwrap_or_default(),
            message_type,
            sender,
            sender_type: opt_str(p, "/event/sender/sender_type").unwrap_or_default(),
            raw_content,
            text,
            mentions,
        })
    }

    pub fn is_group(&self) -> bool {
        self.chat_type == "group"
    }

    pub fn mentions_bot(&self, bot_open_id: &str) -> bool {
        self.mentions.iter().any(|m| m.id.open_id.as_deref() == Some(bot_open_id))
    }

    /// Resolves placeholders. Scans left to right taking the longest key
    /// at each `@`, so `@_user_1` never eats the prefix of `@_user_10`.
    pub fn resolve_text(&self, bot_open_id: Option<&str>) -> Option<ResolvedText> {
        let text = self.text.as_ref()?;
        let mut keys: Vec<&FeishuMention> = self.mentions.iter().collect();
        keys.sort_by_key(|m| std::cmp::Reverse(m.key.len()));
        let mut out = String::with_capacity(text.len());
        let mut bot_mentioned = false;
        let mut rest = text.as_str();
        while let Some(pos) = rest.find('@') {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            match keys.iter().find(|m| !m.key.is_empty() && tail.starts_with(m.key.as_str())) {
                Some(m) => {
                    let is_bot = bot_open_id.is_some() && m.id.open_id.as_deref() == bot_open_id;
                    if is_bot {
                        bot_mentioned = true;
                    } else {
                        out.push('@');
                        out.push_str(&m.name);
                    }
                    rest = &tail[m.key.len()..];
                    if is_bot {
                        // Drop one following space so "@_user_1 list" becomes "list".
                        rest = rest.strip_prefix(' ').unwrap_or(rest);
                    }
                }
                None => {
                    out.push('@');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        Some(ResolvedText { text: out.trim().to_owned(), bot_mentioned })
    }
}

/// Custom-bot secret (the "签名校验" secret of a group bot).
#[derive(Clone, PartialEq, Eq)]
pub struct FeishuBotSecret(Secret);

impl std::fmt::Debug for FeishuBotSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeishuBotSecret(\"[redacted]\")")
    }
}

impl FeishuBotSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        FeishuBotSecret(Secret::new(secret))
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// Custom-bot sign: HMAC-SHA256 with **key** `"{timestamp}\n{secret}"`
/// over an empty message (the reverse of DingTalk), base64.
pub fn bot_sign(secret: &str, timestamp_s: i64) -> String {
    b64_encode(&hmac_sha256(format!("{timestamp_s}\n{secret}").as_bytes(), b""))
}

/// A mention in a custom-bot message; `user_id` is an open_id (`ou_…`) or `"all"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotMention {
    pub user_id: String,
    pub name: String,
}

/// Names go inside `<at>…</at>`; angle brackets would end the tag early.
fn at_tag(m: &BotMention) -> String {
    let name: String = m.name.chars().filter(|c| *c != '<' && *c != '>').collect();
    format!("<at user_id=\"{}\">{}</at>", m.user_id.replace('"', ""), name)
}

fn with_sign(mut body: Value, secret: Option<&FeishuBotSecret>, timestamp_s: i64) -> Value {
    if let Some(s) = secret {
        body["timestamp"] = Value::String(timestamp_s.to_string());
        body["sign"] = Value::String(bot_sign(s.expose(), timestamp_s));
    }
    body
}

/// `msg_type: text` with mentions prepended as `<at>` tags. Sign and
/// timestamp go in the body (not the URL) when a secret is set.
pub fn text_body(text: &str, mentions: &[BotMention], secret: Option<&FeishuBotSecret>, timestamp_s: i64) -> Value {
    let mut content = String::new();
    for m in mentions {
        content.push_str(&at_tag(m));
        content.push(' ');
    }
    content.push_str(text);
    with_sign(json!({ "msg_type": "text", "content": { "text": content } }), secret, timestamp_s)
}

/// `msg_type: post` rich text: one paragraph per line of `text`, mentions
/// as `at` elements in the first paragraph.
pub fn post_body(title: &str, text: &str, mentions: &[BotMention], secret: Option<&FeishuBotSecret>, timestamp_s: i64) -> Value {
    let mut paragraphs: Vec<Vec<Value>> = text.split('\n').map(|line| vec![json!({ "tag": "text", "text": line })]).collect();
    if !mentions.is_empty() {
        let mut first: Vec<Value> = mentions.iter().map(|m| json!({ "tag": "at", "user_id": m.user_id })).collect();
        first.extend(paragraphs.first().cloned().unwrap_or_default());
        paragraphs[0] = first;
    }
    with_sign(
        json!({ "msg_type": "post", "content": { "post": { "zh_cn": { "title": title, "content": paragraphs } } } }),
        secret,
        timestamp_s,
    )
}

/// `msg_type: interactive` card with one markdown element — the only
/// custom-bot type that renders markdown. Mentions use the card syntax
/// `<at id=ou_x></at>`.
pub fn markdown_card_body(markdown: &str, mentions: &[BotMention], secret: Option<&FeishuBotSecret>, timestamp_s: i64) -> Value {
    let mut content = String::new();
    for m in mentions {
        content.push_str(&format!("<at id={}></at> ", m.user_id.replace(['<', '>', ' '], "")));
    }
    content.push_str(markdown);
    with_sign(
        json!({ "msg_type": "interactive", "card": { "elements": [ { "tag": "markdown", "content": content } ] } }),
        secret,
        timestamp_s,
    )
}
