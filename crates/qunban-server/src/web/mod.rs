//! The web dashboard and its REST API (`/api/v1`), served by `qunban serve`.
//!
//! - [`auth`]: sign-in, sessions, API tokens, who may see what;
//! - [`api`]: the JSON endpoints the dashboard and scripts use; changes go
//!   through the same interpreter and outbox as chat messages;
//! - [`demo`]: a realistic demo project, offered on an empty database;
//! - [`assets`]: the embedded single-page app and the OpenAPI document.

pub mod api;
pub mod assets;
pub mod auth;
pub mod csrf;
pub mod demo;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::http::ApiError;
use crate::pipeline::Engine;

/// A JSON body whose rejections are API errors (`400 bad_request` with the
/// reason) rather than axum's plain-text answers. Requiring
/// `Content-Type: application/json` is also what keeps cross-site forms out.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send a JSON body with Content-Type: application/json"))
            }
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        }
    }
}

/// Every dashboard and API route.
pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/api/v1/setup", get(auth::setup_state).post(auth::setup))
        .route("/api/v1/demo", post(demo::load))
        .route("/api/v1/session", post(auth::sign_in).delete(auth::sign_out))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/tokens", get(auth::list_tokens).post(auth::create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(auth::delete_token))
        .route("/api/v1/projects", get(api::list_projects))
        .route("/api/v1/projects/{id}", get(api::project_detail))
        .route("/api/v1/projects/{id}/metrics", get(api::project_metrics))
        .route("/api/v1/projects/{id}/workload", get(api::project_workload))
        .route("/api/v1/projects/{id}/gantt.svg", get(api::project_gantt))
        .route("/api/v1/members", get(api::list_members))
        .route("/api/v1/tasks", get(api::list_tasks))
        .route("/api/v1/tasks/{id}", get(api::task_detail).patch(api::patch_task))
        .route("/api/v1/groups", get(api::list_groups))
        .route("/api/v1/groups/{id}/test-send", post(api::test_send))
        .route("/api/v1/connectors", get(api::list_connectors))
        .route("/api/v1/outbox", get(api::list_outbox))
        .route("/api/v1/outbox/{id}/requeue", post(api::requeue))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/messages", get(api::list_messages).post(api::post_message))
        .route("/api/v1/bridge/messages", post(api::bridge_message))
        .merge(assets::routes())
}
