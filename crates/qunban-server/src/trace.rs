//! Request tracing without credentials.
//!
//! tower-http's default span records the full URI, query string included;
//! calendar feeds carry their token there (calendar apps cannot send
//! headers), and WeCom's URL check carries signatures and an encrypted echo.
//! The span here records the path only, with `?[redacted]` standing for any
//! query, so a token in a URL never reaches the logs.

use axum::body::Body;
use axum::http::{Request, Uri};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The trace layer every router uses.
pub type RedactingTraceLayer = TraceLayer<SharedClassifier<ServerErrorsAsFailures>, fn(&Request<Body>) -> Span>;

/// [`TraceLayer::new_for_http`] with [`request_span`] as its span maker.
pub fn layer() -> RedactingTraceLayer {
    TraceLayer::new_for_http().make_span_with(request_span as fn(&Request<Body>) -> Span)
}

/// The default span's fields (method, uri, version) with the query redacted.
pub fn request_span(req: &Request<Body>) -> Span {
    tracing::debug_span!("request", method = %req.method(), uri = %redacted_uri(req.uri()), version = ?req.version())
}

/// The path of `uri`, with `?[redacted]` if it had a query.
pub fn redacted_uri(uri: &Uri) -> String {
    match uri.query() {
        Some(_) => format!("{}?[redacted]", uri.path()),
        None => uri.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_redacted() {
        let uri: Uri = "/api/v1/calendar/member/a.ics?token=qb_secret&all=true".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/api/v1/calendar/member/a.ics?[redacted]");
        assert_eq!(redacted_uri(&"/healthz".parse().unwrap()), "/healthz");
    }
}
