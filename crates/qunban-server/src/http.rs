//! HTTP: health, the REST API and platform callbacks, and the connection
//! layer in front of them.
//!
//! Handlers are thin: they extract typed input, call the engine or the
//! store, and map errors to `{"error":{"code","message"}}` with a status.
//! Internal failures are answered with an error id only; the cause goes to
//! the log under that id.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tower::ServiceExt;

use qunban_store::StoreError;

use crate::limits::{Guard, HttpLimits};
use crate::pipeline::Engine;

/// An API error: an HTTP status plus a stable machine-readable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For 500s: the id under which the cause was logged.
    pub error_id: Option<String>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), error_id: None, retry_after: None }
    }

    /// A 500 that tells the caller nothing but an id: the cause (SQL text,
    /// paths, library messages) is logged under that id for the operator.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        let id = new_error_id();
        tracing::error!(error_id = %id, error = %cause, "request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: format!("internal error; the server log has the details under id {id}"),
            error_id: Some(id),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
    }
}

/// Time-ordered and unguessable enough to find one line in a log: 12 hex
/// digits of milliseconds, then 8 random ones.
fn new_error_id() -> String {
    let ms = jiff::Timestamp::now().as_millisecond();
    format!("{:012x}{:08x}", ms, rand::random::<u32>())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(id) = &self.error_id {
            error["id"] = json!(id);
        }
        let mut resp = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let (status, code) = match &e {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Duplicate { .. } => (StatusCode::CONFLICT, "conflict"),
            StoreError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            StoreError::NotInitialised => (StatusCode::SERVICE_UNAVAILABLE, "not_initialised"),
            _ => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// Instants the API accepts: anything outside is a typo or an attack (a
/// year-9999 deadline makes a Gantt chart of tens of megabytes).
pub const EARLIEST_INSTANT: jiff::Timestamp = jiff::Timestamp::constant(946_684_800, 0); // 2000-01-01T00:00:00Z
pub const LATEST_INSTANT: jiff::Timestamp = jiff::Timestamp::constant(4_102_444_800, 0); // 2100-01-01T00:00:00Z

/// 422 unless `t` lies in 2000-01-01 ..= 2100-01-01 (UTC).
pub fn check_instant(what: &str, t: jiff::Timestamp) -> Result<jiff::Timestamp, ApiError> {
    if t < EARLIEST_INSTANT || t > LATEST_INSTANT {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{what}: {t} is outside 2000-01-01 .. 2100-01-01")));
    }
    Ok(t)
}

/// The same window for a calendar date.
pub fn check_date(what: &str, d: jiff::civil::Date) -> Result<jiff::civil::Date, ApiError> {
    if d < jiff::civil::date(2000, 1, 1) || d > jiff::civil::date(2100, 1, 1) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("{what}: {d} is outside 2000-01-01 .. 2100-01-01")));
    }
    Ok(d)
}

type ApiResult<T> = Result<T, ApiError>;

/// The whole HTTP application with the default limits.
pub fn router(engine: Engine) -> Router {
    router_with(engine, &HttpLimits::default())
}

/// The whole HTTP application. Outermost first: tracing, the body cap, the
/// request deadline, per-source rate limits, the API's JSON-only rule.
pub fn router_with(engine: Engine, limits: &HttpLimits) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::connectors::routes())
        .merge(crate::http_reports::routes())
        .merge(crate::scheduler::routes())
        .merge(crate::web::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .layer(axum::middleware::from_fn(crate::web::csrf::json_only))
        .layer(axum::middleware::from_fn_with_state(Guard::new(limits), crate::limits::limit))
        .layer(axum::middleware::from_fn_with_state(limits.request_timeout, crate::limits::deadline))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        .layer(crate::trace::layer())
        .with_state(engine)
}

/// Serves with the default limits until the process is stopped (Ctrl-C).
pub async fn serve(engine: Engine, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with(engine, listener, HttpLimits::default(), shutdown_signal()).await
}

/// Serves until `shutdown` completes, then lets open requests finish (for
/// at most the request timeout).
///
/// HTTP/1.1 through hyper directly rather than `axum::serve`, for what the
/// latter does not offer: a deadline for the request head (a client that
/// opens a connection and trickles or sends nothing is dropped after
/// `header_read_timeout`) and a cap on open connections (the accept loop
/// waits for a free slot, so further clients queue in the kernel's backlog
/// instead of costing memory and file descriptors).
pub async fn serve_with(
    engine: Engine,
    listener: tokio::net::TcpListener,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, max_connections = limits.max_connections, "qunban listening");
    let app = router_with(engine, &limits);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.request_timeout) => tracing::warn!("connections still open at shutdown; closing them"),
    }
    Ok(())
}

/// Ctrl-C, or SIGTERM (what systemd, Docker and Kubernetes send when a
/// rolling upgrade stops an instance): stop accepting, finish what is open.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing open requests");
}

async fn healthz(State(engine): State<Engine>) -> ApiResult<Json<serde_json::Value>> {
    let messages = engine.store().message_count().await?;
    Ok(Json(json!({ "status": "ok", "messages": messages })))
}
