//! The generic signed JSON webhook (docs/WEBHOOKS.md).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use qunban_connect::webhook::{self, InboundReply, WebhookSecret};
use qunban_store::{ConnectorKind, InboundMessage, ReplyRoute};

use super::{body, connector, missing, now_secs, rejected};
use crate::http::ApiError;
use crate::pipeline::Engine;

/// `POST /hooks/generic/{connector}`: answers `{"ok":true,"reply":…}` for
/// the bridge to post back into its chat.
pub async fn inbound(State(engine): State<Engine>, Path(name): Path<String>, headers: HeaderMap, raw: Result<Bytes, BytesRejection>) -> Result<Json<InboundReply>, ApiError> {
    let c = connector(&engine, &name, ConnectorKind::Webhook).await?;
    let raw = body(raw)?;
    let secret = c.config.secret.as_deref().ok_or_else(|| rejected(&name, missing("secret")))?;
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let now = now_secs();
    webhook::verify_inbound(&WebhookSecret::new(secret), &h(webhook::HEADER_TIMESTAMP), &h(webhook::HEADER_SIGNATURE), &raw, now)
        .map_err(|e| rejected(&name, e))?;
    let m = webhook::parse_inbound(&raw).map_err(|e| rejected(&name, e))?;
    let inbound = InboundMessage {
        platform: "webhook".into(),
        // Two bridges may reuse message ids; the connector name keeps them apart.
        platform_msg_id: format!("{name}:{}", m.message_id),
        chat_id: m.group.clone(),
        chat_name: None,
        sender_id: m.sender.id.clone(),
        sender_name: m.sender.name.clone(),
        text: m.text.clone(),
        sent_at: m.sent_at.map(|t| t.as_second()).unwrap_or(now),
        raw: String::from_utf8_lossy(&raw).into_owned(),
    };
    let route = ReplyRoute { connector_id: c.id, inline_reply: true, ..Default::default() };
    engine.store().save_reply_route(&inbound.platform, &inbound.platform_msg_id, &route).await?;
    let handled = engine.handle(inbound).await?;
    if handled.reply.is_some() {
        engine.store().mark_reply_delivered_inline(handled.message_id).await?;
    }
    Ok(Json(InboundReply { ok: true, reply: handled.reply, error: None }))
}
