//! Each inbound adapter driven by the third-party client scripts in
//! `../shared/interop` (wechatpy, lark-oapi, the documented DingTalk
//! algorithm): the script must pass, and the database must hold exactly the
//! messages the genuine requests carried — the forged ones stored nothing.

#[path = "connectors_support/mod.rs"]
mod support;

use std::time::Duration;

use qunban_server::delivery::{DeliveryConfig, Worker};
use qunban_store::{ConnectorConfig, ConnectorKind, OutboxStatus};
use support::{python, run_script, spawn, Sink};

const TASK_TEXT: &str = "@张三 明天下午3点前把需求文档写完";
/// Tencent's sample EncodingAESKey (43 characters).
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn test_worker(store: &qunban_store::Store) -> Worker {
    let config = DeliveryConfig { inline_grace: Duration::ZERO, base_backoff: Duration::from_secs(1), ..Default::default() };
    Worker::new(store.clone(), config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_app_callback_with_wechatpy() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let config = ConnectorConfig { corp_id: Some("ww5823bf96d3bd56c7".into()), token: Some("QDG6eK".into()), aes_key: Some(AES_KEY.into()), agent_id: Some("1000002".into()), ..Default::default() };
    app.connector("hr-app", ConnectorKind::Wecom, config).await;
    app.bind("wecom", "app:1000002").await;
    app.store.add_member("张三", Some("13800001111"), &[], &[("wecom".into(), "zhangsan".into())]).await.unwrap();

    let url = app.url("/wecom/hr-app/callback");
    let (ok, out) = run_script(&py, "wecom_client.py", &[&url, "--token", "QDG6eK", "--aes-key", AES_KEY, "--corp-id", "ww5823bf96d3bd56c7", "--content", TASK_TEXT, "--negative"]).await;
    assert!(ok, "wecom_client.py failed:\n{out}");
    assert!(out.contains("passive reply decrypts"), "no passive reply:\n{out}");
    assert!(out.contains("TASK-001"), "reply does not name the task:\n{out}");

    // One genuine message; the bad-signature POST stored nothing.
    assert_eq!(app.messages().await, 1);
    let tasks = app.tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].owner_names, vec!["张三".to_string()]);
    // The reply went out inline, so the outbox must not send it again.
    let rows = app.store.outbox(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, OutboxStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_ai_bot_callback_with_wechatpy() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let config = ConnectorConfig { token: Some("bot-token".into()), aes_key: Some(AES_KEY.into()), ..Default::default() };
    app.connector("pm-bot", ConnectorKind::WecomBot, config).await;
    app.bind("wecom", "wrChat42").await;

    let url = app.url("/wecom-bot/pm-bot/callback");
    let content = format!("@qunban {TASK_TEXT}");
    let (ok, out) = run_script(&py, "wecom_client.py", &[&url, "--mode", "aibot", "--token", "bot-token", "--aes-key", AES_KEY, "--chat-id", "wrChat42", "--content", &content, "--negative"]).await;
    assert!(ok, "wecom_client.py --mode aibot failed:\n{out}");
    assert!(out.contains("aibot reply has msgtype"), "no passive reply:\n{out}");
    assert!(out.contains("TASK-001"), "reply does not name the task:\n{out}");
    assert_eq!(app.messages().await, 1);
    let tasks = app.tasks().await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].task.title, "需求文档写完");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feishu_events_with_lark_oapi() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let bot = "ou_b07c1e4e0cd3fa1f6b5d62a3b7b1e5f2";
    let config = ConnectorConfig { encrypt_key: Some("lark-enc-key".into()), verification_token: Some("lark-vt".into()), bot_open_id: Some(bot.into()), ..Default::default() };
    app.connector("fs", ConnectorKind::Feishu, config).await;
    app.bind("feishu", "oc_5ad11d72b830411d72b836c20").await;

    let url = app.url("/feishu/fs/events");
    let (ok, out) = run_script(&py, "feishu_client.py", &[&url, "--encrypt-key", "lark-enc-key", "--verification-token", "lark-vt", "--text", TASK_TEXT, "--repeat", "2", "--negative"]).await;
    assert!(ok, "feishu_client.py failed:\n{out}");
    // The event and its two retries are one message; the bad signature and
    // the wrong token stored nothing.
    assert_eq!(app.messages().await, 1);
    let tasks = app.tasks().await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    // The bot's own @-mention was dropped before interpretation.
    let logged = app.store.messages_after(0, 10).await.unwrap();
    assert_eq!(logged[0].text, TASK_TEXT);
    // Its reply waits in the outbox for the group's robot.
    let rows = app.store.outbox(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].payload["text"].as_str().unwrap().contains("TASK-001"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dingtalk_callback_replies_through_the_session_webhook() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let sink = Sink::start(&py, "dingtalk_sink.py", &[]).await;
    // The sink is on loopback, so the connector allows it explicitly (the
    // default is the platform's own hosts only).
    let origins = vec![format!("http://127.0.0.1:{}", sink.port)];
    app.connector("dt", ConnectorKind::Dingtalk, ConnectorConfig { app_secret: Some("dt-app-secret".into()), session_webhook_origins: origins, ..Default::default() }).await;
    app.bind("dingtalk", "cidAbCdEfGhIjKlMnOpQrStUv==").await;
    app.store.add_member("张三", Some("13800001111"), &[], &[("dingtalk".into(), "zhangsan01".into())]).await.unwrap();

    let url = app.url("/dingtalk/dt/callback");
    let session = format!("http://127.0.0.1:{}/robot/sendBySession?session=s1", sink.port);
    let (ok, out) = run_script(&py, "dingtalk_sink.py", &["callback", &url, "--app-secret", "dt-app-secret", "--text", TASK_TEXT, "--session-webhook", &session]).await;
    assert!(ok, "callback failed:\n{out}");
    let (ok, out) = run_script(&py, "dingtalk_sink.py", &["callback", &url, "--app-secret", "dt-app-secret", "--text", TASK_TEXT, "--session-webhook", &session, "--bad-sign"]).await;
    assert!(ok, "bad-sign callback was not rejected:\n{out}");
    assert_eq!(app.messages().await, 1);
    assert_eq!(app.tasks().await.len(), 1);

    let report = test_worker(&app.store).run_once().await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    // The sink records a request just after answering it.
    assert!(support::eventually(5, || async { !sink.records().is_empty() }).await);
    let recs = sink.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    let rec = &recs[0];
    assert_eq!(rec["path"], "/robot/sendBySession");
    assert_eq!(rec["errcode"], 0, "{rec}");
    assert!(rec["body"]["text"]["content"].as_str().unwrap().contains("TASK-001"), "{rec}");
    // The owner is really @-mentioned: in atUserIds and as @tag in the text.
    assert_eq!(rec["body"]["at"]["atUserIds"], serde_json::json!(["zhangsan01"]), "{rec}");
    assert!(rec["body"]["text"]["content"].as_str().unwrap().contains("@zhangsan01"), "{rec}");
}
