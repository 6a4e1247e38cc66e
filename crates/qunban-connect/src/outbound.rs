//! Platform-neutral outgoing messages, their per-platform HTTP requests,
//! and the retry classification of the platforms' answers.
//!
//! The outbox worker's loop is: build requests with `*_requests`, send each
//! [`HttpRequest`] with its own HTTP client, feed the answer to
//! [`classify_response`] (or use [`Delivery::network_error`] when the
//! request never got an answer), and retry/park accordingly.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::dingtalk::{self, At, DingtalkSecret};
use crate::feishu::{self, BotMention, FeishuBotSecret};
use crate::webhook::{self, OutboundEvent, WebhookSecret};

/// WeCom group robot limits (bytes of UTF-8 content).
pub const WECOM_TEXT_MAX: usize = 2048;
pub const WECOM_MARKDOWN_MAX: usize = 4096;
/// DingTalk does not publish a hard limit; ~20 000 bytes is what SDKs quote,
/// kept well below so the appended @-tags always fit.
pub const DINGTALK_TEXT_MAX: usize = 18_000;
/// Feishu caps the whole body at 20 KB; leave room for JSON escaping and signature.
pub const FEISHU_TEXT_MAX: usize = 15_000;

const WECOM_DEFAULT_BASE: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=";

/// Someone to @-mention. Each platform uses the identifier it understands:
/// WeCom/DingTalk userid or Feishu open_id in `platform_user_id`, phone
/// number in `mobile` (WeCom/DingTalk only); `display_name` is the fallback
/// shown as plain `@name` when no identifier is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub display_name: String,
    #[serde(default)]
    pub platform_user_id: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
}

/// What the bot wants to say, independent of the platform. `text` is always
/// required so every platform has a plain fallback; `markdown` is used where
/// the platform renders it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub text: String,
    #[serde(default)]
    pub markdown: Option<String>,
    #[serde(default)]
    pub mentions: Vec<Mention>,
    /// @all / @所有人.
    #[serde(default)]
    pub mention_all: bool,
}

impl OutboundMessage {
    pub fn text(text: impl Into<String>) -> Self {
        OutboundMessage { text: text.into(), ..Default::default() }
    }
}

/// A fully built POST request; the worker only has to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    fn json(url: String, body: &Value) -> Self {
        HttpRequest {
            url,
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
            body: serde_json::to_vec(body).expect("JSON value serializes"),
        }
    }

    /// The body as JSON, mostly for tests and logging.
    pub fn body_json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Splits `text` into chunks of at most `max_bytes` UTF-8 bytes, breaking
/// at line boundaries when possible and never inside a character. The
/// newline at a break is dropped; chunks that would be blank are omitted
/// because platforms reject empty content. `max_bytes` below 4 is raised
/// to 4 so any character fits.
pub fn split_for_limit(text: &str, max_bytes: usize) -> Vec<String> {
    let max = max_bytes.max(4);
    let mut chunks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.split('\n') {
        if line.len() > max {
            if let Some(c) = current.take() {
                chunks.push(c);
            }
            let mut rest = line;
            while rest.len() > max {
                let mut cut = max;
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                chunks.push(rest[..cut].to_owned());
                rest = &rest[cut..];
            }
            current = Some(rest.to_owned());
            continue;
        }
        current = match current.take() {
            None => Some(line.to_owned()),
            Some(mut c) if c.len() + 1 + line.len() <= max => {
                c.push('\n');
                c.push_str(line);
                Some(c)
            }
            Some(c) => {
                chunks.push(c);
                Some(line.to_owned())
            }
        };
    }
    if let Some(c) = current {
        chunks.push(c);
    }
    chunks.retain(|c| !c.trim().is_empty());
    chunks
}

// ---------------------------------------------------------------- WeCom

/// Accepts either the robot key or the full webhook URL, since users paste
/// both (a URL where a key is expected is the classic cause of 93000).
pub fn wecom_webhook_url(key_or_url: &str) -> String {
    let s = key_or_url.trim();
    if s.starts_with("http://") || s.starts_with("https://") {
        s.to_owned()
    } else {
        format!("{WECOM_DEFAULT_BASE}{}", percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC))
    }
}

/// JSON bodies for a WeCom group robot. Markdown is used only when every
/// mention can be expressed as `<@userid>` and there is no @all, because
/// markdown cannot notify by phone number or @all and a missed notification
/// is worse than plain formatting.
pub fn wecom_robot_bodies(msg: &OutboundMessage) -> Vec<Value> {
    let markdown_ok = !msg.mention_all && msg.mentions.iter().all(|m| m.platform_user_id.is_some() || m.mobile.is_none());
    if let (Some(md), true) = (&msg.markdown, markdown_ok) {
        let tags: Vec<String> = msg
            .mentions
            .iter()
            .filter_map(|m| m.platform_user_id.as_ref())
            .map(|u| format!("<@{u}>"))
            .filter(|t| !md.contains(t.as_str()))
            .collect();
        let content = if tags.is_empty() { md.clone() } else { format!("{md}\n{}", tags.join(" ")) };
        return split_for_limit(&content, WECOM_MARKDOWN_MAX)
            .into_iter()
            .map(|c| json!({ "msgtype": "markdown", "markdown": { "content": c } }))
            .collect();
    }
    let mut users: Vec<String> = msg.mentions.iter().filter_map(|m| m.platform_user_id.clone()).collect();
    let mut mobiles: Vec<String> = msg
        .mentions
        .iter()
        .filter(|m| m.platform_user_id.is_none())
        .filter_map(|m| m.mobile.clone())
        .collect();
    if msg.mention_all {
        users.push("@all".into());
    }
    // Unresolvable people still see their name.
    let names: Vec<String> = msg
        .mentions
        .iter()
        .filter(|m| m.platform_user_id.is_none() && m.mobile.is_none())
        .map(|m| format!("@{}", m.display_name))
        .collect();
    let text = if names.is_empty() { msg.text.clone() } else { format!("{}\n{}", msg.text, names.join(" ")) };
    let mut out = Vec::new();
    for (i, chunk) in split_for_limit(&text, WECOM_TEXT_MAX).into_iter().enumerate() {
        let mut t = json!({ "content": chunk });
        if i == 0 {
            if !users.is_empty() {
                t["mentioned_list"] = json!(std::mem::take(&mut users));
            }
            if !mobiles.is_empty() {
                t["mentioned_mobile_list"] = json!(std::mem::take(&mut mobiles));
            }
        }
        out.push(json!({ "msgtype": "text", "text": t }));
    }
    out
}

pub fn wecom_robot_requests(key_or_url: &str, msg: &OutboundMessage) -> Vec<HttpRequest> {
    let url = wecom_webhook_url(key_or_url);
    wecom_robot_bodies(msg).iter().map(|b| HttpRequest::json(url.clone(), b)).collect()
}

// ---------------------------------------------------------------- DingTalk

fn dingtalk_at(msg: &OutboundMessage) -> (At, Vec<String>) {
    let mut at = At { all: msg.mention_all, ..Default::default() };
    let mut names = Vec::new();
    for m in &msg.mentions {
        if let Some(u) = &m.platform_user_id {
            at.user_ids.push(u.clone());
        } else if let Some(p) = &m.mobile {
            at.mobiles.push(p.clone());
        } else {
            names.push(format!("@{}", m.display_name));
        }
    }
    (at, names)
}

/// A markdown title for the conversation list: first non-blank line with
/// heading marks removed, at most 64 chars.
fn markdown_title(md: &str, fallback: &str) -> String {
    let line = md.lines().chain(fallback.lines()).map(|l| l.trim().trim_start_matches('#').trim()).find(|l| !l.is_empty()).unwrap_or("qunban");
    line.chars().take(64).collect()
}

/// Robot bodies for DingTalk (custom robot, sessionWebhook, or the
/// synchronous callback reply). The @-mentions go on the first chunk only.
pub fn dingtalk_robot_bodies(msg: &OutboundMessage) -> Vec<Value> {
    let (at, names) = dingtalk_at(msg);
    let none = At::default();
    let mut out = Vec::new();
    if let Some(md) = &msg.markdown {
        let title = markdown_title(md, &msg.text);
        let md = if names.is_empty() { md.clone() } else { format!("{md}\n\n{}", names.join(" ")) };
        for (i, c) in split_for_limit(&md, DINGTALK_TEXT_MAX).iter().enumerate() {
            out.push(dingtalk::markdown_body(&title, c, if i == 0 { &at } else { &none }));
        }
    } else {
        let text = if names.is_empty() { msg.text.clone() } else { format!("{}\n{}", msg.text, names.join(" ")) };
        for (i, c) in split_for_limit(&text, DINGTALK_TEXT_MAX).iter().enumerate() {
            out.push(dingtalk::text_body(c, if i == 0 { &at } else { &none }));
        }
    }
    out
}

/// Requests to a custom robot webhook (signed when `secret` is set) or a
/// sessionWebhook (pass `secret: None`; it needs no sign). `now_ms` is
/// epoch milliseconds and must be within 1 h of DingTalk's clock.
pub fn dingtalk_robot_requests(webhook_url: &str, secret: Option<&DingtalkSecret>, now_ms: i64, msg: &OutboundMessage) -> Vec<HttpRequest> {
    let url = dingtalk::signed_webhook_url(webhook_url, secret, now_ms);
    dingtalk_robot_bodies(msg).iter().map(|b| HttpRequest::json(url.clone(), b)).collect()
}

// ---------------------------------------------------------------- Feishu

fn feishu_mentions(msg: &OutboundMessage) -> (Vec<BotMention>, Vec<String>) {
    let mut ms = Vec::new();
    let mut names = Vec::new();
    if msg.mention_all {
        ms.push(BotMention { user_id: "all".into(), name: "所有人".into() });
    }
    for m in &msg.mentions {
        match &m.platform_user_id {
            Some(id) => ms.push(BotMention { user_id: id.clone(), name: m.display_name.clone() }),
            None => names.push(format!("@{}", m.display_name)),
        }
    }
    (ms, names)
}

/// Custom-bot bodies: `text` with `<at>` tags, or an interactive card when
/// markdown is given (the only custom-bot type that renders markdown).
pub fn feishu_bot_bodies(msg: &OutboundMessage, secret: Option<&FeishuBotSecret>, now_s: i64) -> Vec<Value> {
    let (ms, names) = feishu_mentions(msg);
    let mut out = Vec::new();
    let (source, is_md) = match &msg.markdown {
        Some(md) => (md.clone(), true),
        None => (msg.text.clone(), false),
    };
    let source = if names.is_empty() { source } else { format!("{source}\n{}", names.join(" ")) };
    for (i, c) in split_for_limit(&source, FEISHU_TEXT_MAX).iter().enumerate() {
        let m: &[BotMention] = if i == 0 { &ms } else { &[] };
        out.push(if is_md {
            feishu::markdown_card_body(c, m, secret, now_s)
        } else {
            feishu::text_body(c, m, secret, now_s)
        });
    }
    out
}

/// `now_s` is unix seconds (Feishu rejects signs older than 1 h).
pub fn feishu_bot_requests(webhook_url: &str, secret: Option<&FeishuBotSecret>, now_s: i64, msg: &OutboundMessage) -> Vec<HttpRequest> {
    feishu_bot_bodies(msg, secret, now_s).iter().map(|b| HttpRequest::json(webhook_url.to_owned(), b)).collect()
}

// ---------------------------------------------------------------- generic webhook

/// A signed delivery of `event`; the body is serialized once so the
/// signature covers exactly the bytes sent.
pub fn generic_webhook_request(url: &str, secret: &WebhookSecret, now_s: i64, event: &OutboundEvent) -> HttpRequest {
    let body = event.to_body();
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    for (k, v) in webhook::sign_outbound(secret, now_s, &body) {
        headers.push((k.to_owned(), v));
    }
    HttpRequest { url: url.to_owned(), headers, body }
}

/// Wraps a chat message as a `message` event for bridges.
pub fn generic_message_event(id: impl Into<String>, created_at: jiff::Timestamp, msg: &OutboundMessage) -> OutboundEvent {
    OutboundEvent {
        id: id.into(),
        event_type: webhook::EventType::Message,
        created_at,
        data: serde_json::to_value(msg).expect("message serializes"),
    }
}

// ---------------------------------------------------------------- classification

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Wecom,
    Dingtalk,
    Feishu,
    Generic,
}

/// What the outbox should do with a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Ok,
    /// Try again; `after` is a minimum wait in seconds when the platform's
    /// throttle has a known length, else the worker's own backoff applies.
    Retry { after: Option<u64> },
    /// Retrying cannot help (bad key, bad sign, invalid body): park the
    /// message and surface `code`/`msg` to an admin.
    Fatal { code: i64, msg: String },
}

impl Delivery {
    /// Timeouts, refused connections, DNS failures: the message may or may
    /// not have arrived, but losing it is worse than a rare duplicate.
    pub fn network_error() -> Self {
        Delivery::Retry { after: None }
    }
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    s.chars().take(300).collect()
}

/// Classifies an HTTP answer. Platforms report errors in a 200 body, so the
/// error code decides, never the message text. A 2xx body that is not the
/// expected JSON (e.g. a proxy's HTML page) is retried rather than treated
/// as delivered.
pub fn classify_response(platform: Platform, http_status: u16, body: &[u8]) -> Delivery {
    if http_status == 429 || http_status == 408 || (500..=599).contains(&http_status) {
        return Delivery::Retry { after: None };
    }
    if !(200..=299).contains(&http_status) {
        return Delivery::Fatal { code: i64::from(http_status), msg: snippet(body) };
    }
    if platform == Platform::Generic {
        return Delivery::Ok;
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Delivery::Retry { after: None };
    };
    let (code, msg) = match platform {
        Platform::Wecom | Platform::Dingtalk => (v.get("errcode").and_then(Value::as_i64), v.get("errmsg")),
        Platform::Feishu => (
            v.get("code").or_else(|| v.get("StatusCode")).and_then(Value::as_i64),
            v.get("msg").or_else(|| v.get("StatusMessage")),
        ),
        Platform::Generic => unreachable!("handled above"),
    };
    let Some(code) = code else {
        return Delivery::Retry { after: None };
    };
    let msg = msg.and_then(Value::as_str).unwrap_or_default().to_owned();
    match (platform, code) {
        (_, 0) => Delivery::Ok,
        // -1 is "system busy" on both Tencent and DingTalk APIs.
        (Platform::Wecom | Platform::Dingtalk, -1) => Delivery::Retry { after: None },
        // 20 msgs/min per robot; a minute's pause clears the window.
        (Platform::Wecom, 45009) => Delivery::Retry { after: Some(60) },
        // DingTalk throttles an over-eager robot for 10 minutes.
        (Platform::Dingtalk, 130101) => Delivery::Retry { after: Some(600) },
        // Server-side pressure; Feishu allows 5 req/s so a short pause suffices.
        (Platform::Feishu, 11232) => Delivery::Retry { after: Some(10) },
        _ => Delivery::Fatal { code, msg },
    }
}
