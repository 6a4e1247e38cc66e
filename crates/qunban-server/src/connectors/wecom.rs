//! WeCom: self-built app callback (receive id = corp id, XML) and the
//! 智能机器人 callback (receive id = "", JSON), both WXBizMsgCrypt.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use qunban_connect::wecom::{self, CallbackQuery, WecomCrypto, WecomMessage};
use qunban_connect::ConnectError;
use qunban_store::{Connector, ConnectorKind, InboundMessage, ReplyRoute};

use super::{body, check_fresh_secs, connector, missing, now_secs, rejected};
use crate::http::ApiError;
use crate::pipeline::Engine;

/// How long an AI bot `response_url` is usable (WeCom documents one hour).
const RESPONSE_URL_TTL_SECS: i64 = 3600;

fn crypto(c: &Connector, receive_id: &str) -> Result<WecomCrypto, ApiError> {
    let token = c.config.token.as_deref().ok_or_else(|| rejected(&c.name, missing("token")))?;
    let key = c.config.aes_key.as_deref().ok_or_else(|| rejected(&c.name, missing("EncodingAESKey")))?;
    WecomCrypto::new(token, key, receive_id).map_err(|e| rejected(&c.name, e))
}

fn query(q: Result<Query<CallbackQuery>, QueryRejection>, name: &str) -> Result<CallbackQuery, ApiError> {
    q.map(|Query(q)| q).map_err(|e| rejected(name, ConnectError::Malformed(format!("callback query: {}", e.body_text()))))
}

fn receive_id(c: &Connector) -> Result<String, ApiError> {
    match c.kind {
        ConnectorKind::Wecom => c.config.corp_id.clone().ok_or_else(|| rejected(&c.name, missing("corp id"))),
        _ => Ok(String::new()),
    }
}

async fn verify(engine: Engine, name: String, kind: ConnectorKind, q: Result<Query<CallbackQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let c = connector(&engine, &name, kind).await?;
    let q = query(q, &name)?;
    let crypto = crypto(&c, &receive_id(&c)?)?;
    check_fresh_secs(&q.timestamp, now_secs()).map_err(|e| rejected(&name, e))?;
    let plain = crypto.verify_url(&q).map_err(|e| rejected(&name, e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], plain).into_response())
}

/// `GET /wecom/{connector}/callback`: URL verification.
pub async fn verify_app(State(engine): State<Engine>, Path(name): Path<String>, q: Result<Query<CallbackQuery>, QueryRejection>) -> Result<Response, ApiError> {
    verify(engine, name, ConnectorKind::Wecom, q).await
}

/// `GET /wecom-bot/{connector}/callback`: URL verification.
pub async fn verify_bot(State(engine): State<Engine>, Path(name): Path<String>, q: Result<Query<CallbackQuery>, QueryRejection>) -> Result<Response, ApiError> {
    verify(engine, name, ConnectorKind::WecomBot, q).await
}

/// `POST /wecom/{connector}/callback`: one encrypted message; text messages
/// are answered with an encrypted passive reply.
pub async fn app_message(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    q: Result<Query<CallbackQuery>, QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let c = connector(&engine, &name, ConnectorKind::Wecom).await?;
    let q = query(q, &name)?;
    let raw = body(raw)?;
    let corp_id = receive_id(&c)?;
    let crypto = crypto(&c, &corp_id)?;
    check_fresh_secs(&q.timestamp, now_secs()).map_err(|e| rejected(&name, e))?;
    // The steps of `open_app_callback`, kept apart to log the decrypted XML.
    let open = || -> Result<(String, WecomMessage), ConnectError> {
        let env = wecom::parse_envelope(&raw)?;
        crypto.verify_signature(&q.msg_signature, &q.timestamp, &q.nonce, &env.encrypt)?;
        let xml = crypto.decrypt_str(&env.encrypt)?;
        let msg = wecom::parse_message(xml.as_bytes())?;
        Ok((xml, msg))
    };
    let (xml, msg) = open().map_err(|e| rejected(&name, e))?;
    let WecomMessage::Text { header, msg_id, content } = msg else {
        // Events (enter_agent…) and media: acknowledged, not logged.
        return Ok(StatusCode::OK.into_response());
    };
    // A self-built app talks to each user one to one; the app as a whole is
    // the "group" that gets bound to a project.
    let agent = header.agent_id.clone().or_else(|| c.config.agent_id.clone()).unwrap_or_else(|| c.name.clone());
    let inbound = InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: msg_id,
        chat_id: format!("app:{agent}"),
        chat_name: Some(format!("{} (WeCom app {agent})", c.name)),
        sender_id: header.from_user_name.clone(),
        sender_name: header.from_user_name.clone(),
        text: content,
        sent_at: header.create_time,
        raw: xml,
    };
    let route = ReplyRoute { connector_id: c.id, inline_reply: true, ..Default::default() };
    engine.store().save_reply_route(&inbound.platform, &inbound.platform_msg_id, &route).await?;
    let handled = engine.handle(inbound).await?;
    let Some(reply) = handled.reply else {
        return Ok(StatusCode::OK.into_response());
    };
    let now = now_secs();
    let plain = wecom::text_reply_xml(&header.from_user_name, &corp_id, now, &reply);
    let sealed = crypto.seal_app_reply(&plain, now as u64, &wecom::random_nonce());
    engine.store().mark_reply_delivered_inline(handled.message_id).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], sealed).into_response())
}

/// `POST /wecom-bot/{connector}/callback`: an AI bot message (group
/// @-mention or single chat), answered with an encrypted stream reply.
pub async fn bot_message(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    q: Result<Query<CallbackQuery>, QueryRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let c = connector(&engine, &name, ConnectorKind::WecomBot).await?;
    let q = query(q, &name)?;
    let raw = body(raw)?;
    let crypto = crypto(&c, "")?;
    let now = now_secs();
    check_fresh_secs(&q.timestamp, now).map_err(|e| rejected(&name, e))?;
    let msg = crypto.open_aibot_callback(&q, &raw).map_err(|e| rejected(&name, e))?;
    if msg.msgtype != "text" {
        // Stream refreshes, events, media: nothing to interpret.
        return Ok(StatusCode::OK.into_response());
    }
    if msg.msgid.trim().is_empty() || msg.from.userid.trim().is_empty() {
        return Err(rejected(&name, ConnectError::Malformed("AI bot text message without msgid or sender".into())));
    }
    let chat_id = match (&msg.chatid, msg.is_group()) {
        (Some(chat), true) if !chat.is_empty() => chat.clone(),
        _ => format!("single:{}", msg.from.userid),
    };
    let inbound = InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: msg.msgid.clone(),
        chat_id,
        chat_name: None,
        sender_id: msg.from.userid.clone(),
        sender_name: msg.from.userid.clone(),
        text: msg.text_without_leading_mention().unwrap_or_default(),
        sent_at: now,
        raw: msg.raw.to_string(),
    };
    let route = ReplyRoute {
        connector_id: c.id,
        inline_reply: true,
        url_kind: msg.response_url.as_ref().map(|_| "wecom_response_url".to_string()),
        url: msg.response_url.clone(),
        expires_at: msg.response_url.as_ref().map(|_| now + RESPONSE_URL_TTL_SECS),
    };
    engine.store().save_reply_route(&inbound.platform, &inbound.platform_msg_id, &route).await?;
    let handled = engine.handle(inbound).await?;
    let Some(reply) = handled.reply else {
        return Ok(StatusCode::OK.into_response());
    };
    let plain = wecom::aibot_stream_reply(&format!("qb-{}", msg.msgid), &reply, true);
    let sealed = crypto.seal_aibot_reply(&plain, now as u64, &wecom::random_nonce());
    engine.store().mark_reply_delivered_inline(handled.message_id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], sealed).into_response())
}
