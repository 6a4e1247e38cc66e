//! WeCom (企业微信) callback crypto — the WXBizMsgCrypt scheme — plus the
//! XML envelopes of the self-built-app callback and the JSON envelopes of
//! the 智能机器人 (AI bot) API mode.
//!
//! Typical server flow for the self-built app (`receive_id` = corpid):
//!
//! ```text
//! GET  ?msg_signature&timestamp&nonce&echostr → WecomCrypto::verify_url → 200 plaintext
//! POST ?msg_signature&timestamp&nonce + XML   → WecomCrypto::open_app_callback → WecomMessage
//!      reply: text_reply_xml(..) → WecomCrypto::seal_app_reply(..) → 200 XML
//! ```
//!
//! For the AI bot (`receive_id` = ""), use [`WecomCrypto::open_aibot_callback`]
//! and [`WecomCrypto::seal_aibot_reply`]; the GET verification is identical.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::util::{aes256_cbc_decrypt_nopad, aes256_cbc_encrypt_nopad, b64_decode, b64_encode, ct_eq, pkcs7_pad, pkcs7_unpad};
use crate::xml::{cdata, parse_flat};
use crate::{ConnectError, Secret};

/// WeCom pads to 32-byte blocks although AES blocks are 16 bytes; a
/// standard PKCS#7 padder would produce ciphertexts WeCom cannot read.
const WECOM_BLOCK: usize = 32;

/// Query parameters of every callback request. Derives `Deserialize` so an
/// axum `Query<CallbackQuery>` can extract it directly (already URL-decoded,
/// which matters: echostr is base64 and arrives with `+/=` percent-encoded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct CallbackQuery {
    pub msg_signature: String,
    pub timestamp: String,
    pub nonce: String,
    /// Only present on the GET URL verification.
    #[serde(default)]
    pub echostr: Option<String>,
}

/// Credentials of one WeCom callback endpoint.
#[derive(Clone)]
pub struct WecomCrypto {
    token: Secret,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for WecomCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WecomCrypto")
            .field("token", &"[redacted]")
            .field("encoding_aes_key", &"[redacted]")
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

impl WecomCrypto {
    /// `receive_id` is the corpid for self-built apps and `""` for the
    /// 智能机器人; decryption rejects messages addressed to any other id.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, ConnectError> {
        if encoding_aes_key.len() != 43 {
            return Err(ConnectError::Config(format!(
                "EncodingAESKey must be 43 characters, got {}",
                encoding_aes_key.len()
            )));
        }
        let raw = b64_decode(&format!("{encoding_aes_key}="))
            .map_err(|_| ConnectError::Config("EncodingAESKey is not valid base64".into()))?;
        let key: [u8; 32] = raw
            .try_into()
            .map_err(|_| ConnectError::Config("EncodingAESKey does not decode to 32 bytes".into()))?;
        Ok(WecomCrypto { token: Secret::new(token), key, receive_id: receive_id.to_owned() })
    }

    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `sha1(sorted([token, timestamp, nonce, encrypt]).concat())` as lowercase hex.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.expose(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut h = Sha1::new();
        for p in parts {
            h.update(p.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Constant-time check of `msg_signature` (case-insensitive hex).
    pub fn verify_signature(&self, msg_signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> Result<(), ConnectError> {
        let expected = self.signature(timestamp, nonce, encrypt);
        if ct_eq(expected.as_bytes(), msg_signature.trim().to_ascii_lowercase().as_bytes()) {
            Ok(())
        } else {
            Err(ConnectError::BadSignature)
        }
    }

    /// Decrypts an `Encrypt`/`echostr` value and returns the message bytes
    /// after checking padding, length prefix and receive id.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, ConnectError> {
        let cipher = b64_decode(encrypt)?;
        if cipher.len() % WECOM_BLOCK != 0 {
            // WeCom always produces whole 32-byte blocks; anything else is truncated.
            return Err(ConnectError::malformed(format!("ciphertext length {} is not a multiple of 32", cipher.len())));
        }
        let iv: [u8; 16] = self.key[..16].try_into().expect("16 bytes");
        let plain = aes256_cbc_decrypt_nopad(&self.key, &iv, &cipher)?;
        let plain = pkcs7_unpad(plain, WECOM_BLOCK)?;
        if plain.len() < 20 {
            return Err(ConnectError::malformed("decrypted payload shorter than its 20-byte header"));
        }
        let len = u32::from_be_bytes(plain[16..20].try_into().expect("4 bytes")) as usize;
        let rest = &plain[20..];
        if len > rest.len() {
            return Err(ConnectError::malformed("decrypted length prefix exceeds payload"));
        }
        let (msg, rid) = rest.split_at(len);
        if !ct_eq(rid, self.receive_id.as_bytes()) {
            return Err(ConnectError::ReceiveIdMismatch);
        }
        Ok(msg.to_vec())
    }

    /// Like [`decrypt`](Self::decrypt) but requires UTF-8, which every
    /// WeCom payload (XML, JSON, echostr digits) is.
    pub fn decrypt_str(&self, encrypt: &str) -> Result<String, ConnectError> {
        String::from_utf8(self.decrypt(encrypt)?).map_err(|_| ConnectError::malformed("decrypted payload is not UTF-8"))
    }

    /// Encrypts with caller-chosen random prefix, so tests can reproduce
    /// published vectors; production code should use [`encrypt`](Self::encrypt).
    pub fn encrypt_with_random(&self, msg: &[u8], random: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(16 + 4 + msg.len() + self.receive_id.len() + WECOM_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let plain = pkcs7_pad(plain, WECOM_BLOCK);
        let iv: [u8; 16] = self.key[..16].try_into().expect("16 bytes");
        b64_encode(&aes256_cbc_encrypt_nopad(&self.key, &iv, &plain))
    }

    /// Encrypts with a fresh random prefix from the thread RNG.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        self.encrypt_with_random(msg, rand::random())
    }

    /// GET URL verification: checks the signature over `echostr` and returns
    /// the plaintext to answer with (HTTP 200, body exactly this string).
    pub fn verify_url(&self, q: &CallbackQuery) -> Result<String, ConnectError> {
        let echostr = q.echostr.as_deref().ok_or_else(|| ConnectError::malformed("missing echostr"))?;
        self.verify_signature(&q.msg_signature, &q.timestamp, &q.nonce, echostr)?;
        self.decrypt_str(echostr)
    }

    /// Self-built app POST: parses the XML envelope, verifies the signature
    /// over its `Encrypt`, decrypts and parses the inner message.
    pub fn open_app_callback(&self, q: &CallbackQuery, body: &[u8]) -> Result<WecomMessage, ConnectError> {
        let env = parse_envelope(body)?;
        self.verify_signature(&q.msg_signature, &q.timestamp, &q.nonce, &env.encrypt)?;
        parse_message(self.decrypt_str(&env.encrypt)?.as_bytes())
    }

    /// 智能机器人 POST: body `{"encrypt":"…"}`, signature over that value,
    /// decrypted payload is JSON.
    pub fn open_aibot_callback(&self, q: &CallbackQuery, body: &[u8]) -> Result<AibotMessage, ConnectError> {
        #[derive(Deserialize)]
        struct Env {
            encrypt: String,
        }
        let env: Env = serde_json::from_slice(body).map_err(|e| ConnectError::malformed(format!("aibot body: {e}")))?;
        self.verify_signature(&q.msg_signature, &q.timestamp, &q.nonce, &env.encrypt)?;
        let plain = self.decrypt(&env.encrypt)?;
        AibotMessage::parse(&plain)
    }

    /// Builds the encrypted passive-reply XML (B4) around a plaintext reply
    /// such as [`text_reply_xml`]. `timestamp`/`nonce` are fresh values
    /// chosen by the caller; `random` is the 16-byte prefix.
    pub fn seal_app_reply_with_random(&self, plaintext_xml: &str, timestamp: u64, nonce: &str, random: [u8; 16]) -> String {
        let encrypt = self.encrypt_with_random(plaintext_xml.as_bytes(), random);
        let ts = timestamp.to_string();
        let sig = self.signature(&ts, nonce, &encrypt);
        format!(
            "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
            cdata(&encrypt),
            cdata(&sig),
            ts,
            cdata(nonce)
        )
    }

    pub fn seal_app_reply(&self, plaintext_xml: &str, timestamp: u64, nonce: &str) -> String {
        self.seal_app_reply_with_random(plaintext_xml, timestamp, nonce, rand::random())
    }

    /// Builds the 智能机器人 passive reply
    /// `{"encrypt","msgsignature","timestamp","nonce"}` around a plaintext
    /// JSON reply (see [`aibot_stream_reply`]). `timestamp` is a JSON number,
    /// as in WeCom's documentation; wechatpy-based clients accept both.
    pub fn seal_aibot_reply_with_random(&self, plaintext_json: &str, timestamp: u64, nonce: &str, random: [u8; 16]) -> String {
        let encrypt = self.encrypt_with_random(plaintext_json.as_bytes(), random);
        let sig = self.signature(&timestamp.to_string(), nonce, &encrypt);
        serde_json::json!({
            "encrypt": encrypt,
            "msgsignature": sig,
            "timestamp": timestamp,
            "nonce": nonce,
        })
        .to_string()
    }

    pub fn seal_aibot_reply(&self, plaintext_json: &str, timestamp: u64, nonce: &str) -> String {
        self.seal_aibot_reply_with_random(plaintext_json, timestamp, nonce, rand::random())
    }
}

/// A fresh numeric nonce for replies (WeCom's own nonces are digits).
pub fn random_nonce() -> String {
    let n: u32 = rand::random_range(100_000_000..1_000_000_000);
    n.to_string()
}

/// The outer XML of a self-built-app callback POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub to_user_name: Option<String>,
    pub encrypt: String,
    pub agent_id: Option<String>,
}

pub fn parse_envelope(body: &[u8]) -> Result<Envelope, ConnectError> {
    let mut f = parse_flat(body)?;
    let encrypt = f
        .remove("Encrypt")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ConnectError::malformed("envelope has no Encrypt"))?;
    Ok(Envelope {
        to_user_name: f.remove("ToUserName"),
        encrypt: encrypt.trim().to_owned(),
        agent_id: f.remove("AgentID").filter(|s| !s.is_empty()),
    })
}

/// Fields every decrypted self-built-app message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader {
    /// The corpid.
    pub to_user_name: String,
    /// The sender's userid — the stable identity to map to a member.
    pub from_user_name: String,
    /// Unix seconds.
    pub create_time: i64,
    pub agent_id: Option<String>,
}

/// A decrypted self-built-app message. Ids stay strings: `MsgId` is a
/// 64-bit value used only for deduplication, and parsing it buys nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WecomMessage {
    Text { header: MessageHeader, msg_id: String, content: String },
    /// `MsgType=event`; events carry no MsgId, dedupe on (from, create_time, event).
    Event { header: MessageHeader, event: String, event_key: Option<String>, fields: BTreeMap<String, String> },
    /// Image, voice, location…: kept so the server can answer politely.
    Other { header: MessageHeader, msg_type: String, msg_id: Option<String>, fields: BTreeMap<String, String> },
}

impl WecomMessage {
    pub fn header(&self) -> &MessageHeader {
        match self {
            WecomMessage::Text { header, .. } | WecomMessage::Event { header, .. } | WecomMessage::Other { header, .. } => header,
        }
    }
}

/// Parses a decrypted message XML (B3).
pub fn parse_message(xml: &[u8]) -> Result<WecomMessage, ConnectError> {
    let mut f = parse_flat(xml)?;
    let mut take = |k: &str| f.remove(k);
    let msg_type = take("MsgType").ok_or_else(|| ConnectError::malformed("message has no MsgType"))?;
    let create_time = match take("CreateTime") {
        Some(s) => crate::util::parse_i64("CreateTime", &s)?,
        None => return Err(ConnectError::malformed("message has no CreateTime")),
    };
    let header = MessageHeader {
        to_user_name: take("ToUserName").unwrap_or_default(),
        from_user_name: take("FromUserName").ok_or_else(|| ConnectError::malformed("message has no FromUserName"))?,
        create_time,
        agent_id: take("AgentID").filter(|s| !s.is_empty()),
    };
    let msg_id = take("MsgId").filter(|s| !s.is_empty());
    Ok(match msg_type.as_str() {
        "text" => WecomMessage::Text {
            header,
            msg_id: msg_id.ok_or_else(|| ConnectError::malformed("text message has no MsgId"))?,
            content: take("Content").unwrap_or_default(),
        },
        "event" => WecomMessage::Event {
            header,
            event: take("Event").unwrap_or_default(),
            event_key: take("EventKey").filter(|s| !s.is_empty()),
            fields: f,
        },
        _ => WecomMessage::Other { header, msg_type, msg_id, fields: f },
    })
}

/// Plaintext passive text reply (B4): `to_user` is the sender's userid,
/// `corp_id` our corpid.
pub fn text_reply_xml(to_user: &str, corp_id: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{}</CreateTime><MsgType>{}</MsgType><Content>{}</Content></xml>",
        cdata(to_user),
        cdata(corp_id),
        create_time,
        cdata("text"),
        cdata(content)
    )
}

/// Plaintext passive markdown reply (self-built apps render a markdown subset).
pub fn markdown_reply_xml(to_user: &str, corp_id: &str, create_time: i64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{}</CreateTime><MsgType>{}</MsgType><Markdown><Content>{}</Content></Markdown></xml>",
        cdata(to_user),
        cdata(corp_id),
        create_time,
        cdata("markdown"),
        cdata(content)
    )
}

/// Decrypted 智能机器人 callback payload. Unknown message types keep their
/// raw JSON so nothing is silently lost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AibotMessage {
    #[serde(default)]
    pub msgid: String,
    #[serde(default)]
    pub aibotid: String,
    /// Absent for single chats.
    #[serde(default)]
    pub chatid: Option<String>,
    /// `"group"` or `"single"`.
    #[serde(default)]
    pub chattype: String,
    /// Defaulted rather than required so event and stream-refresh callbacks
    /// of other shapes still parse and can be answered with 200.
    #[serde(default)]
    pub from: AibotSender,
    /// URL for a later active reply (markdown), valid for a limited time.
    #[serde(default)]
    pub response_url: Option<String>,
    pub msgtype: String,
    #[serde(default)]
    pub text: Option<AibotText>,
    #[serde(skip)]
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AibotSender {
    #[serde(default)]
    pub userid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AibotText {
    pub content: String,
}

impl AibotMessage {
    pub fn parse(json: &[u8]) -> Result<Self, ConnectError> {
        let raw: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| ConnectError::malformed(format!("aibot payload: {e}")))?;
        let mut msg: AibotMessage =
            serde_json::from_value(raw.clone()).map_err(|e| ConnectError::malformed(format!("aibot payload: {e}")))?;
        msg.raw = raw;
        Ok(msg)
    }

    pub fn is_group(&self) -> bool {
        self.chattype == "group"
    }

    /// Text with a leading `@BotName ` removed: in groups WeCom keeps the
    /// mention in the content, and commands should not have to skip it.
    pub fn text_without_leading_mention(&self) -> Option<String> {
        let t = self.text.as_ref()?.content.trim_start();
        if let Some(rest) = t.strip_prefix('@') {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            Some(rest[end..].trim_start().to_owned())
        } else {
            Some(t.to_owned())
        }
    }
}

/// Plaintext JSON for a finished 智能机器人 stream reply — the passive reply
/// type WeCom documents for answering a user message. `stream_id` should be
/// unique per reply (e.g. derived from the inbound msgid).
pub fn aibot_stream_reply(stream_id: &str, content: &str, finish: bool) -> String {
    serde_json::json!({
        "msgtype": "stream",
        "stream": { "id": stream_id, "finish": finish, "content": content },
    })
    .to_string()
}

/// Plaintext JSON for a text reply (documented for welcome messages; use
/// [`aibot_stream_reply`] for answers to user messages).
pub fn aibot_text_reply(content: &str) -> String {
    serde_json::json!({ "msgtype": "text", "text": { "content": content } }).to_string()
}

/// Body to POST (unencrypted) to an aibot `response_url` for a later reply.
pub fn aibot_markdown_response(content: &str) -> String {
    serde_json::json!({ "msgtype": "markdown", "markdown": { "content": content } }).to_string()
}
