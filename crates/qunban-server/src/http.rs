//! HTTP: health, the REST API and (later) platform callbacks.
//!
//! Handlers are thin: they extract typed input, call the engine or the
//! store, and map errors to `{"error":{"code","message"}}` with a status.

use std::net::SocketAddr;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use qunban_core::TaskStatus;
use qunban_store::{InboundMessage, StoreError, TaskFilter};

use crate::pipeline::Engine;

/// An API error: an HTTP status plus a stable machine-readable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "code": self.code, "message": self.message } }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let (status, code) = match &e {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Duplicate { .. } => (StatusCode::CONFLICT, "conflict"),
            StoreError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            StoreError::NotInitialised => (StatusCode::SERVICE_UNAVAILABLE, "not_initialised"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        ApiError::new(status, code, e.to_string())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The whole HTTP application.
pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/projects", get(list_projects))
        .route("/api/v1/tasks", get(list_tasks))
        .route("/api/v1/messages", post(post_message))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .merge(crate::connectors::routes())
        .merge(crate::http_reports::routes())
        .merge(crate::scheduler::routes())
        .with_state(engine)
}

/// Serves until the process is stopped.
pub async fn serve(engine: Engine, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "qunban listening");
    axum::serve(listener, router(engine)).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

async fn healthz(State(engine): State<Engine>) -> ApiResult<Json<serde_json::Value>> {
    let messages = engine.store().message_count().await?;
    Ok(Json(json!({ "status": "ok", "messages": messages })))
}

/// Requires a valid API token in `Authorization: Bearer …`.
async fn authorize(engine: &Engine, headers: &HeaderMap) -> ApiResult<()> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing bearer token"))?;
    match engine.store().check_token(token.trim()).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown API token")),
    }
}

async fn list_projects(State(engine): State<Engine>, headers: HeaderMap) -> ApiResult<Json<serde_json::Value>> {
    authorize(&engine, &headers).await?;
    Ok(Json(json!({ "projects": engine.store().projects().await? })))
}

#[derive(Debug, Deserialize)]
struct TaskQuery {
    project: Option<String>,
    owner: Option<String>,
    status: Option<String>,
    #[serde(default)]
    overdue: bool,
}

async fn list_tasks(State(engine): State<Engine>, headers: HeaderMap, Query(q): Query<TaskQuery>) -> ApiResult<Json<serde_json::Value>> {
    authorize(&engine, &headers).await?;
    let store = engine.store();
    let mut filter = TaskFilter::default();
    if let Some(p) = &q.project {
        filter.project_id = Some(store.project_by_name(p).await?.id);
    }
    if let Some(o) = &q.owner {
        filter.owner_id = Some(store.member_by_name(o).await?.id);
    }
    if let Some(s) = &q.status {
        filter.status = Some(s.parse::<TaskStatus>().map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?);
    }
    if q.overdue {
        filter.overdue_at = Some(jiff::Timestamp::now());
    }
    Ok(Json(json!({ "tasks": store.tasks(&filter).await? })))
}

#[derive(Debug, Deserialize)]
struct PostedMessage {
    /// Group chat id (platform `api` unless given).
    group: String,
    #[serde(default)]
    platform: Option<String>,
    sender: String,
    text: String,
    #[serde(default)]
    message_id: Option<String>,
    /// RFC 3339; defaults to now.
    #[serde(default)]
    sent_at: Option<String>,
}

/// Feeds a chat message through the pipeline as if it came from a group:
/// the playground and scripts use it.
async fn post_message(State(engine): State<Engine>, headers: HeaderMap, body: Result<Json<PostedMessage>, axum::extract::rejection::JsonRejection>) -> ApiResult<Json<serde_json::Value>> {
    authorize(&engine, &headers).await?;
    let Json(m) = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    if m.text.trim().is_empty() || m.sender.trim().is_empty() || m.group.trim().is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "group, sender and text are required"));
    }
    let sent_at = match &m.sent_at {
        Some(s) => s
            .parse::<jiff::Timestamp>()
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("sent_at: {e}")))?,
        None => jiff::Timestamp::now(),
    };
    let platform = m.platform.clone().unwrap_or_else(|| "api".into());
    let msg = InboundMessage {
        platform: platform.clone(),
        platform_msg_id: m.message_id.clone().unwrap_or_else(|| format!("api-{}", sent_at.as_nanosecond())),
        chat_id: m.group.clone(),
        chat_name: None,
        sender_id: m.sender.clone(),
        sender_name: m.sender.clone(),
        text: m.text.clone(),
        sent_at: sent_at.as_second(),
        raw: serde_json::to_string(&json!({ "group": m.group, "sender": m.sender, "text": m.text })).unwrap_or_default(),
    };
    let handled = engine.handle(msg).await?;
    Ok(Json(json!({
        "message_id": handled.message_id,
        "duplicate": handled.duplicate,
        "reply": handled.reply,
        "created": handled.created,
        "updated": handled.updated,
    })))
}
