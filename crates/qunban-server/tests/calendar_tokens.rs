//! Calendar feeds take a member's read-only calendar token, never a
//! full-privilege API token, and no token in a URL reaches the logs.

#[path = "connectors_support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::spawn;

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_feeds_take_only_calendar_tokens_and_urls_are_not_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let app = spawn().await;
    let zhang = app.store.add_member("张三", None, &[], &[]).await.unwrap();
    let li = app.store.add_member("李四", None, &[], &[]).await.unwrap();
    let (_, api_token) = app.store.create_member_token(zhang.id, "cli").await.unwrap();
    let (_, li_api) = app.store.create_member_token(li.id, "cli").await.unwrap();
    let feed = |member: &str, token: &str| app.client.get(app.url(&format!("/api/v1/calendar/member/{member}.ics?token={token}"))).send();

    // A full-privilege API token in the URL is refused.
    let r = feed("张三", &api_token).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], "token_not_allowed_in_url");
    assert_eq!(feed("张三", "").await.unwrap().status(), 401);

    // The member creates their calendar token (signed in, here by bearer).
    let created: serde_json::Value =
        app.client.post(app.url("/api/v1/calendar-token")).bearer_auth(&api_token).send().await.unwrap().json().await.unwrap();
    let cal = created["token"].as_str().unwrap().to_string();
    assert!(cal.starts_with("qbcal_") && created["member_feed"].as_str().unwrap().contains(&cal), "{created}");
    let r = feed("张三", &cal).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    assert!(r.text().await.unwrap().starts_with("BEGIN:VCALENDAR"));
    // Read-only and feed-only: not someone else's feed, not the API.
    assert_eq!(feed("李四", &cal).await.unwrap().status(), 403);
    assert_eq!(app.client.get(app.url("/api/v1/me")).bearer_auth(&cal).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(app.url("/api/v1/tasks")).bearer_auth(&cal).send().await.unwrap().status(), 401);
    let state: serde_json::Value = app.client.get(app.url("/api/v1/calendar-token")).bearer_auth(&api_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["exists"], true);

    // Rotating replaces it; revoking ends it.
    let rotated: serde_json::Value =
        app.client.post(app.url("/api/v1/calendar-token")).bearer_auth(&api_token).send().await.unwrap().json().await.unwrap();
    let cal2 = rotated["token"].as_str().unwrap().to_string();
    assert_eq!(feed("张三", &cal).await.unwrap().status(), 401);
    assert_eq!(feed("张三", &cal2).await.unwrap().status(), 200);
    assert_eq!(app.client.delete(app.url("/api/v1/calendar-token")).bearer_auth(&api_token).send().await.unwrap().status(), 204);
    assert_eq!(feed("张三", &cal2).await.unwrap().status(), 401);
    let _ = li_api;

    // The requests were traced, but no token (nor any query) was written.
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("/api/v1/calendar/member/") && text.contains("?[redacted]"), "the request spans were not logged:\n{text}");
    for secret in [&api_token, &cal, &cal2] {
        assert!(!text.contains(secret.as_str()), "a token reached the logs");
    }
    assert!(!text.contains("token="), "a query string reached the logs");
}
