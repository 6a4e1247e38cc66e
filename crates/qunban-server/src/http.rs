//! HTTP: health, the REST API and (later) platform callbacks.
//!
//! Handlers are thin: they extract typed input, call the engine or the
//! store, and map errors to `{"error":{"code","message"}}` with a status.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use qunban_store::StoreError;

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
        .merge(crate::connectors::routes())
        .merge(crate::http_reports::routes())
        .merge(crate::scheduler::routes())
        .merge(crate::web::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        .layer(crate::trace::layer())
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
