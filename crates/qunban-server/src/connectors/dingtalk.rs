//! DingTalk enterprise-internal robot callback (HTTP mode).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qunban_connect::dingtalk::{self, DingtalkSecret};
use qunban_connect::ConnectError;
use qunban_store::{ConnectorKind, InboundMessage, ReplyRoute};

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
    let Some(text) = msg.text().filter(|_| msg.msgtype == "text") else {
        return Ok(StatusCode::OK.into_response());
    };
    let sender_id = msg.sender_staff_id.clone().filter(|s| !s.is_empty()).or_else(|| msg.sender_id.clone()).unwrap_or_default();
    if msg.msg_id.trim().is_empty() || msg.conversation_id.is_empty() || sender_id.is_empty() {
        return Err(rejected(&name, ConnectError::Malformed("DingTalk callback without msgId, conversationId or sender".into())));
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
    if msg.session_webhook_valid(now_ms) {
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
