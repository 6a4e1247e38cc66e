//! Platform callbacks: WeCom (self-built app and AI bot), DingTalk, Feishu
//! and the generic signed webhook.
//!
//! Every handler authenticates the request completely — signature, replay
//! window, decryption, receive id, token — before anything touches the
//! database, so a forged, stale or malformed callback leaves no trace but a
//! log line. Accepted messages go through [`Engine::handle`] like any other.
//!
//! Replies take the fastest channel the platform offers: inline in the
//! callback's response where the protocol has one (WeCom passive replies,
//! the generic webhook's JSON answer), marking the outbox row as sent; else
//! the outbox worker delivers them (DingTalk sessionWebhook, group robots).

mod dingtalk;
mod feishu;
mod generic;
pub mod import;
mod wecom;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use qunban_connect::ConnectError;
use qunban_store::{Connector, ConnectorKind};

use crate::http::ApiError;
use crate::pipeline::Engine;

/// Callback bodies are small (a chat message); anything bigger is refused
/// before it is read, so a flood of large bodies costs little.
pub const MAX_CALLBACK_BODY: usize = 256 * 1024;

/// Accepted clock difference for WeCom and Feishu request timestamps. The
/// platforms retry within minutes and re-sign each retry, so a captured
/// request cannot be replayed after this window.
pub const MAX_CALLBACK_SKEW_SECS: i64 = 600;

/// The callback routes, merged into [`crate::http::router`].
pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/wecom/{connector}/callback", get(wecom::verify_app).post(wecom::app_message))
        .route("/wecom-bot/{connector}/callback", get(wecom::verify_bot).post(wecom::bot_message))
        .route("/dingtalk/{connector}/callback", post(dingtalk::callback))
        .route("/feishu/{connector}/events", post(feishu::events))
        .route("/hooks/generic/{connector}", post(generic::inbound))
        .layer(DefaultBodyLimit::max(MAX_CALLBACK_BODY))
        .layer(crate::trace::layer())
}

/// The connector named in the path, which must be of `kind`. An unknown
/// name and a wrong kind look the same from outside: 404.
async fn connector(engine: &Engine, name: &str, kind: ConnectorKind) -> Result<Connector, ApiError> {
    match engine.store().connector_by_name(name).await? {
        Some(c) if c.kind == kind => Ok(c),
        _ => {
            tracing::warn!(connector = name, kind = %kind, "callback for an unknown connector");
            Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_connector", format!("no {kind} connector named '{name}'")))
        }
    }
}

/// The raw body, or 413/400 as JSON.
fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("callback bodies are limited to {MAX_CALLBACK_BODY} bytes"))
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
        }
    })
}

/// Maps a refused request to its status, logging why (never the secrets:
/// the errors carry none).
fn rejected(connector: &str, e: ConnectError) -> ApiError {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let code = match &e {
        ConnectError::BadSignature => "bad_signature",
        ConnectError::StaleTimestamp => "stale_timestamp",
        ConnectError::BadToken => "bad_token",
        ConnectError::BadPadding => "bad_ciphertext",
        ConnectError::ReceiveIdMismatch => "receive_id_mismatch",
        ConnectError::Malformed(_) => "malformed",
        ConnectError::Config(_) => "connector_misconfigured",
        _ => "rejected",
    };
    if status.is_server_error() {
        // Our own set-up is at fault: the platform (or whoever sent this)
        // learns an error id, the operator the reason in the log.
        let mut err = ApiError::internal(format_args!("connector {connector} misconfigured: {e}"));
        err.status = status;
        err.code = code;
        return err;
    }
    tracing::warn!(connector, reason = %e, "callback rejected");
    ApiError::new(status, code, e.to_string())
}

/// Replay guard for platforms whose signature covers a seconds timestamp.
fn check_fresh_secs(timestamp: &str, now: i64) -> Result<(), ConnectError> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| ConnectError::Malformed(format!("bad timestamp '{timestamp}'")))?;
    if (now - ts).abs() > MAX_CALLBACK_SKEW_SECS {
        return Err(ConnectError::StaleTimestamp);
    }
    Ok(())
}

fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn missing(what: &str) -> ConnectError {
    ConnectError::Config(format!("connector has no {what}; re-add it with `qunban connector add`"))
}
