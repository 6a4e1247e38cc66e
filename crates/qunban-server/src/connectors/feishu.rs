//! Feishu/Lark event subscription.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qunban_connect::feishu::{self, FeishuInbound, FeishuKeys, SignatureHeaders};
use qunban_store::{ConnectorKind, InboundMessage};
use serde_json::json;

use super::{body, check_fresh_secs, connector, now_secs, rejected};
use crate::http::ApiError;
use crate::pipeline::Engine;

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /feishu/{connector}/events`. Messages are answered by the outbox
/// through the group's Feishu robot; the event itself gets an immediate 200
/// so Feishu does not retry. Retries of one event carry the same
/// message_id, which the message log stores once.
pub async fn events(State(engine): State<Engine>, Path(name): Path<String>, headers: HeaderMap, raw: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let c = connector(&engine, &name, ConnectorKind::Feishu).await?;
    let raw = body(raw)?;
    let keys = FeishuKeys::new(c.config.encrypt_key.as_deref(), c.config.verification_token.as_deref());
    let sig = SignatureHeaders {
        timestamp: header_str(&headers, feishu::HEADER_TIMESTAMP),
        nonce: header_str(&headers, feishu::HEADER_NONCE),
        signature: header_str(&headers, feishu::HEADER_SIGNATURE),
    };
    let inbound = keys.open_request(&sig, &raw).map_err(|e| rejected(&name, e))?;
    let ev = match inbound {
        FeishuInbound::UrlVerification { challenge } => {
            return Ok(([(header::CONTENT_TYPE, "application/json")], feishu::challenge_response(&challenge)).into_response());
        }
        FeishuInbound::MessageReceive(ev) => ev,
        FeishuInbound::Other { event_type, .. } => {
            tracing::debug!(connector = %name, event_type, "Feishu event ignored");
            return Ok(Json(json!({})).into_response());
        }
    };
    // Signed events carry a timestamp inside the signature: refuse old ones.
    if let (Some(ts), Some(_)) = (sig.timestamp, &keys.encrypt_key) {
        check_fresh_secs(ts, now_secs()).map_err(|e| rejected(&name, e))?;
    }
    let Some(resolved) = ev.resolve_text(c.config.bot_open_id.as_deref()) else {
        return Ok(Json(json!({})).into_response());
    };
    let store = engine.store();
    // Everyone @-mentioned becomes a known member with their open_id, so the
    // bot's later @ of them in a Feishu robot message really notifies.
    for m in &ev.mentions {
        let is_bot = c.config.bot_open_id.is_some() && m.id.open_id == c.config.bot_open_id;
        if let (Some(open_id), false) = (&m.id.open_id, is_bot) {
            if !m.name.trim().is_empty() {
                store.ensure_member("feishu", open_id, &m.name).await?;
            }
        }
    }
    let sender = ev.sender.open_id.clone().or_else(|| ev.sender.user_id.clone()).unwrap_or_default();
    let inbound = InboundMessage {
        platform: "feishu".into(),
        platform_msg_id: ev.message_id.clone(),
        chat_id: ev.chat_id.clone(),
        chat_name: None,
        sender_id: sender.clone(),
        sender_name: sender,
        text: resolved.text,
        sent_at: ev.create_time_ms.map(|ms| ms.div_euclid(1000)).unwrap_or_else(now_secs),
        raw: String::from_utf8_lossy(&raw).into_owned(),
    };
    engine.handle(inbound).await?;
    Ok(Json(json!({})).into_response())
}
