//! DingTalk enterprise-internal robot callback (HTTP mode).
//!
//! Two checks go beyond the platform's signature, because that signature
//! covers only the `timestamp` header (`HMAC(secret, timestamp + "\n" +
//! secret)`), never the body:
//!
//! - **Replay**: besides the platform's one-hour window, a (timestamp, sign)
//!   pair is accepted for one message only (msgId + conversationId), in a
//!   database cache shared by every instance ([`Store::claim_callback_pair`]).
//!   The same pair with the same message (a platform retry) is answered from
//!   the message log; with another message it is refused as `replayed`.
//! - **Where replies go**: the body's `sessionWebhook` is followed only if it
//!   is on the connector's allowed origins (by default the platform's hosts,
//!   `https://oapi.dingtalk.com` and `https://api.dingtalk.com`); anything else
//!   is dropped before the route is stored, so a body cannot make the server
//!   POST to an address of its choosing (SSRF).
//!
//! Residual risk, which the platform's scheme leaves: an attacker who sees a
//! pair before the genuine request arrives (a TLS-terminating middlebox, a
//! proxy that logs headers) can spend it first on a forged body within the
//! hour, and the genuine message is then refused. Serve the callback over
//! HTTPS end to end and keep its headers out of logs.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qunban_connect::dingtalk::{self, DingtalkSecret};
use qunban_connect::ConnectError;
use qunban_store::{ConnectorKind, InboundMessage, PairUse, ReplyRoute};

use super::{body, connector, missing, rejected};
use crate::http::ApiError;
use crate::pipeline::Engine;

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// `POST /dingtalk/{connector}/callback`. The reply goes out through the
/// message's sessionWebhook from the outbox, which rate-limits, retries and
/// can @-mention people; the callback itself is answered with an empty 200.
pub async fn callback(State(engine): State<Engine>, Path(name): Path<String>, headers: HeaderMap, raw: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let c = connector(&engine, &name, ConnectorKind::Dingtalk).await?;
    let raw = body(raw)?;
    let secret = c.config.app_secret.as_deref().ok_or_else(|| rejected(&name, missing("AppSecret")))?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    dingtalk::verify_callback(&DingtalkSecret::new(secret), header(&headers, "timestamp"), header(&headers, "sign"), now_ms)
        .map_err(|e| rejected(&name, e))?;
    let msg = dingtalk::parse_callback(&raw).map_err(|e| rejected(&name, e))?;
    if msg.msg_id.trim().is_empty() || msg.conversation_id.is_empty() {
        return Err(rejected(&name, ConnectError::Malformed("DingTalk callback without msgId or conversationId".into())));
    }
    // One header pair, one message — whatever its type, so a pair spent on
    // a picture cannot be reused for a text.
    let (ts_header, sign_header) = (header(&headers, "timestamp"), header(&headers, "sign"));
    let expires_at = ts_header.trim().parse::<i64>().unwrap_or(now_ms).div_euclid(1000) + dingtalk::MAX_SKEW_MS / 1000 + 60;
    let bound_to = format!("{}\n{}", msg.msg_id.trim(), msg.conversation_id);
    if engine.store().claim_callback_pair(c.id, ts_header, sign_header, &bound_to, expires_at).await? == PairUse::Reused {
        tracing::warn!(connector = name, "DingTalk callback replayed: its timestamp and sign were already used for another message");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "replayed", "this timestamp and sign were already used for another message"));
    }
    let Some(text) = msg.text().filter(|_| msg.msgtype == "text") else {
        return Ok(StatusCode::OK.into_response());
    };
    let sender_id = msg.sender_staff_id.clone().filter(|s| !s.is_empty()).or_else(|| msg.sender_id.clone()).unwrap_or_default();
    if sender_id.is_empty() {
        return Err(rejected(&name, ConnectError::Malformed("DingTalk callback without a sender".into())));
    }
    let inbound = InboundMessage {
        platform: "dingtalk".into(),
        platform_msg_id: msg.msg_id.clone(),
        chat_id: msg.conversation_id.clone(),
        chat_name: msg.conversation_title.clone(),
        sender_id,
        sender_name: msg.sender_nick.clone(),
        text: text.to_string(),
        sent_at: msg.create_at.map(|ms| ms.div_euclid(1000)).unwrap_or(now_ms / 1000),
        raw: String::from_utf8_lossy(&raw).into_owned(),
    };
    let webhook_allowed = msg.session_webhook.as_deref().is_some_and(|url| {
        let allowed = if c.config.session_webhook_origins.is_empty() {
            dingtalk::session_webhook_allowed(url, dingtalk::SESSION_WEBHOOK_ORIGINS)
        } else {
            dingtalk::session_webhook_allowed(url, &c.config.session_webhook_origins)
        };
        if !allowed {
            tracing::warn!(connector = name, url = %qunban_store::redact_url(url), "sessionWebhook not on the allowed hosts; replies go through the group robot only");
        }
        allowed
    });
    if webhook_allowed && msg.session_webhook_valid(now_ms) {
        let route = ReplyRoute {
            connector_id: c.id,
            inline_reply: false,
            url_kind: Some("dingtalk_session".into()),
            url: msg.session_webhook.clone(),
            expires_at: msg.session_webhook_expired_time.map(|ms| ms.div_euclid(1000)),
        };
        engine.store().save_reply_route(&inbound.platform, &inbound.platform_msg_id, &route).await?;
    }
    engine.handle(inbound).await?;
    Ok(StatusCode::OK.into_response())
}
