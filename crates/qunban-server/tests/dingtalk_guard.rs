//! DingTalk callbacks beyond the signature: a (timestamp, sign) pair buys
//! one message (across instances), and replies go only to sessionWebhook
//! URLs on the allowed hosts — a callback naming another address makes the
//! server send nothing there.

#[path = "connectors_support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use qunban_connect::dingtalk;
use qunban_server::delivery::{DeliveryConfig, Worker};
use qunban_store::{ConnectorConfig, ConnectorKind};
use serde_json::json;
use support::spawn;

const SECRET: &str = "dt-app-secret";

fn body(msg_id: &str, text: &str, webhook: Option<&str>) -> String {
    let mut b = json!({
        "msgId": msg_id, "msgtype": "text", "text": {"content": format!(" {text}")},
        "conversationId": "cid-guard", "conversationType": "2", "senderStaffId": "zhangsan01", "senderNick": "张三",
    });
    if let Some(url) = webhook {
        b["sessionWebhook"] = json!(url);
        b["sessionWebhookExpiredTime"] = json!(jiff::Timestamp::now().as_millisecond() + 3_600_000);
    }
    b.to_string()
}

async fn post(client: &reqwest::Client, url: &str, ts: i64, body: String) -> (u16, serde_json::Value) {
    let r = client.post(url).header("timestamp", ts.to_string()).header("sign", dingtalk::sign(SECRET, ts)).body(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_pair_authenticates_one_message_on_every_instance() {
    let app = spawn().await;
    app.connector("dt", ConnectorKind::Dingtalk, ConnectorConfig { app_secret: Some(SECRET.into()), ..Default::default() }).await;
    let url = app.url("/dingtalk/dt/callback");
    let ts = jiff::Timestamp::now().as_millisecond();
    assert_eq!(post(&app.client, &url, ts, body("m1", "第一条", None)).await.0, 200);
    // The platform retrying the same message with the same headers: fine,
    // answered from the log.
    assert_eq!(post(&app.client, &url, ts, body("m1", "第一条", None)).await.0, 200);
    // The captured pair on another body: refused, nothing stored.
    let (status, err) = post(&app.client, &url, ts, body("m2", "伪造的消息", None)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (401, Some("replayed")), "{err}");
    assert_eq!(app.messages().await, 1);

    // A second instance on the same database (or this one after a restart)
    // knows the pair too.
    let store = qunban_store::Store::open(&app.db.url).await.unwrap();
    let engine = qunban_server::Engine::new(store.clone(), Arc::new(qunban_lang::Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}/dingtalk/dt/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, qunban_server::http::router(engine)).await });
    let (status, err) = post(&app.client, &other, ts, body("m3", "伪造的消息", None)).await;
    assert_eq!((status, err["error"]["code"].as_str()), (401, Some("replayed")), "{err}");
    // A fresh pair (a new timestamp) is a new message.
    assert_eq!(post(&app.client, &other, ts + 1, body("m3", "新消息", None)).await.0, 200);
    assert_eq!(app.messages().await, 2);
}

/// A loopback HTTP sink that counts the requests reaching it.
async fn sink() -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_only_to_session_webhooks_on_allowed_hosts() {
    let app = spawn().await;
    let (good_port, good) = sink().await;
    let (evil_port, evil) = sink().await;
    // "allowed" trusts the test's good sink explicitly; "default" trusts the
    // platform's hosts only.
    let allowed = ConnectorConfig { app_secret: Some(SECRET.into()), session_webhook_origins: vec![format!("http://127.0.0.1:{good_port}")], ..Default::default() };
    app.connector("allowed", ConnectorKind::Dingtalk, allowed).await;
    app.connector("default", ConnectorKind::Dingtalk, ConnectorConfig { app_secret: Some(SECRET.into()), ..Default::default() }).await;
    app.bind("dingtalk", "cid-guard").await;
    app.store.add_member("张三", None, &[], &[("dingtalk".into(), "zhangsan01".into())]).await.unwrap();

    let evil_url = format!("http://127.0.0.1:{evil_port}/evil");
    let good_url = format!("http://127.0.0.1:{good_port}/robot/sendBySession?session=s1");
    let ts = jiff::Timestamp::now().as_millisecond();
    let cases = [
        ("allowed", "e1", &evil_url),
        ("default", "e2", &evil_url),
        ("default", "e3", &good_url), // loopback is not a DingTalk host by default
        ("allowed", "g1", &good_url),
    ];
    for (i, (connector, id, hook)) in cases.iter().enumerate() {
        let url = app.url(&format!("/dingtalk/{connector}/callback"));
        let (status, b) = post(&app.client, &url, ts + i as i64, body(id, "@张三 明天下午3点前把需求文档写完", Some(hook))).await;
        assert_eq!(status, 200, "{b}");
    }
    assert_eq!(app.messages().await, 4);
    assert_eq!(app.store.outbox(None, 10).await.unwrap().len(), 4, "every message has a reply queued");

    let config = DeliveryConfig { inline_grace: Duration::ZERO, base_backoff: Duration::from_secs(60), ..Default::default() };
    let mut worker = Worker::new(app.store.clone(), config).unwrap();
    let report = worker.run_once().await.unwrap();
    assert_eq!(report.sent, 1, "only the allowed webhook is used: {report:?}");
    assert!(support::eventually(5, || async { good.load(Ordering::SeqCst) == 1 }).await, "the allowed sink got the reply");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(evil.load(Ordering::SeqCst), 0, "a request reached the address named in a callback body");
}
