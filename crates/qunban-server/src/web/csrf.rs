//! Cross-site request forgery: a page on another site can make a browser
//! send a form (url-encoded, multipart or text/plain) or a body-less POST to
//! qunban with the session cookie attached. Two rules close that:
//!
//! - a state-changing request under `/api/` carries JSON or no body at all
//!   (a form cannot send `Content-Type: application/json` cross-site
//!   without a CORS preflight, which qunban never grants);
//! - a cookie-authenticated one, when the browser names its `Origin`, must
//!   come from qunban's own origin (body-less forms and `fetch` calls from
//!   elsewhere carry their own origin).
//!
//! Requests with an `Authorization` header are not browser-forgeable (a
//! page cannot attach a token it does not have), so the origin rule skips
//! them; the JSON rule still applies.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

fn changes_state(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// `scheme://host[:port]` → `host[:port]`, lower-cased.
fn origin_authority(origin: &str) -> Option<String> {
    let rest = origin.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

/// Whether `origin` names this server: the `Host` the browser addressed, a
/// reverse proxy's `X-Forwarded-Host`, or the configured public URL.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(origin) = origin_authority(origin) else {
        return false;
    };
    let named = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let public = std::env::var("QUNBAN_PUBLIC_URL")
        .ok()
        .and_then(|u| origin_authority(&u));
    [
        named(header::HOST.as_str()),
        named("x-forwarded-host"),
        public,
    ]
    .into_iter()
    .flatten()
    .any(|a| a == origin)
}

/// Middleware over the whole router; only `/api/` writes are checked.
pub async fn json_only(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") || !changes_state(req.method()) {
        return next.run(req).await;
    }
    let headers = req.headers();
    match headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or(""))
    {
        Some(ct) if !is_json(ct) => {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a JSON body with Content-Type: application/json",
            )
            .into_response();
        }
        None if has_body(headers) => {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a JSON body with Content-Type: application/json",
            )
            .into_response();
        }
        _ => {}
    }
    if !headers.contains_key(header::AUTHORIZATION) {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().is_ok_and(|o| same_origin(o, headers));
            if !ok {
                tracing::warn!(origin = ?origin, path = req.uri().path(), "cross-site request refused");
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_origin",
                    "requests from another site are refused",
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin("http://127.0.0.1:8080", &h));
        assert!(!same_origin("http://evil.example", &h));
        assert!(!same_origin("null", &h));
        assert!(!same_origin("http://127.0.0.1:8081", &h));
    }
}
