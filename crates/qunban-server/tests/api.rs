//! The REST API over a real socket: each test spawns the app on a random
//! port with its own database.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::{GroupKind, Locale};
use qunban_lang::Calendar;
use qunban_server::Engine;
use serde_json::{json, Value};

struct App {
    base: String,
    token: String,
    client: reqwest::Client,
    _db: support::TestDb,
}

async fn spawn() -> App {
    let db = support::sqlite().await;
    let token = db.store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap().unwrap();
    let p = db.store.create_project("官网改版", None).await.unwrap();
    db.store.add_group("api", "g1", "总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    let engine = Engine::new(db.store.clone(), Arc::new(Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, qunban_server::http::router(engine)).await });
    App { base, token, client: reqwest::Client::new(), _db: db }
}

#[tokio::test]
async fn health_needs_no_token() {
    let app = spawn().await;
    let r = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
}

#[tokio::test]
async fn api_requires_a_valid_token() {
    let app = spawn().await;
    let r = app.client.get(format!("{}/api/v1/tasks", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
    let r = app.client.get(format!("{}/api/v1/tasks", app.base)).bearer_auth("qb_forged").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn posted_messages_become_tasks() {
    let app = spawn().await;
    let r = app
        .client
        .post(format!("{}/api/v1/bridge/messages", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"group": "g1", "sender": "张三", "text": "@李四 明天下午3点前把需求文档写完", "sent_at": "2026-01-14T02:30:00Z", "message_id": "x1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["created"][0], "TASK-001");
    assert!(v["reply"].as_str().unwrap().contains("李四"));

    let tasks: Value = app
        .client
        .get(format!("{}/api/v1/tasks?project=官网改版&owner=李四", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks["tasks"][0]["title"], "需求文档写完");
    assert_eq!(tasks["tasks"][0]["due"], "2026-01-15T07:00:00Z");
}

#[tokio::test]
async fn bad_input_gets_a_status_and_a_json_error() {
    let app = spawn().await;
    let post_to = |path: &'static str, body: String| {
        app.client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let post = |body: String| post_to("/api/v1/messages", body);
    let r = post("{not json".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let r = post(json!({"group": "g1", "sender": "张三", "text": "  "}).to_string()).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = post_to("/api/v1/bridge/messages", json!({"group": "g1", "sender": "张三", "text": "hi", "sent_at": "yesterday"}).to_string()).await.unwrap();
    assert_eq!(r.status(), 422);
    // Instants outside 2000..2100 are refused, not planted.
    for at in ["9999-01-01T00:00:00Z", "1970-01-01T00:00:00Z"] {
        let r = post_to("/api/v1/bridge/messages", json!({"group": "g1", "sender": "张三", "text": "hi", "sent_at": at}).to_string()).await.unwrap();
        assert_eq!(r.status(), 422, "{at}");
    }
    // The playground route assigns ids and times itself, even for admins.
    let r = post(json!({"group": "g1", "sender": "张三", "text": "hi", "message_id": "x1"}).to_string()).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = post("x".repeat(2 << 20)).await.unwrap();
    assert_eq!(r.status(), 413);
    let r = app.client.get(format!("{}/api/v1/tasks?project=不存在", app.base)).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = app.client.get(format!("{}/api/v1/tasks?status=finished", app.base)).bearer_auth(&app.token).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app.client.get(format!("{}/nowhere", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // none of it was logged
    assert_eq!(app._db.store.message_count().await.unwrap(), 0);
}
