//! The outbox worker against loopback receivers: the interop sinks that
//! imitate WeCom and DingTalk robots (schema checks, signing, 20/min limits)
//! and a small axum receiver that fails on demand.

#[path = "connectors_support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use qunban_server::delivery::{DeliveryConfig, Worker};
use qunban_store::{ConnectorConfig, ConnectorKind, InboundMessage, OutboxStatus, RobotKind};
use serde_json::Value;
use support::{eventually, python, spawn, App, Sink};

fn config() -> DeliveryConfig {
    DeliveryConfig { inline_grace: Duration::ZERO, base_backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(2), ..Default::default() }
}

async fn say(app: &App, platform: &str, chat: &str, id: &str, text: &str) -> qunban_server::Handled {
    let m = InboundMessage {
        platform: platform.into(),
        platform_msg_id: id.into(),
        chat_id: chat.into(),
        chat_name: None,
        sender_id: "pm".into(),
        sender_name: "王经理".into(),
        text: text.into(),
        sent_at: jiff::Timestamp::now().as_second(),
        raw: "{}".into(),
    };
    app.engine.handle(m).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wecom_robot_reply_mentions_the_owner_and_respects_the_rate_limit() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let sink = Sink::start(&py, "wecom_sink.py", &["--key", "KEY1"]).await;
    let group = app.bind("wecom", "wr-1").await;
    let url = format!("http://127.0.0.1:{}/cgi-bin/webhook/send?key=KEY1", sink.port);
    app.store.set_group_robot(group, RobotKind::Wecom, &url, None).await.unwrap();
    app.store.add_member("张三", Some("13800001111"), &[], &[("wecom".into(), "zhangsan".into())]).await.unwrap();
    app.store.add_member("李四", Some("13900002222"), &[], &[]).await.unwrap();

    let h = say(&app, "wecom", "wr-1", "m1", "@张三 明天下午3点前把需求文档写完").await;
    assert!(h.reply.unwrap().contains("TASK-001"));
    say(&app, "wecom", "wr-1", "m2", "@李四 周五前把登录页做完").await;
    let mut worker = Worker::new(app.store.clone(), config()).unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 2);
    assert!(eventually(5, || async { sink.records().len() == 2 }).await);
    let recs = sink.records();
    assert!(recs.iter().all(|r| r["errcode"] == 0), "{recs:?}");
    // A userid where one is known, else the mobile: both really notify.
    assert_eq!(recs[0]["body"]["text"]["mentioned_list"], serde_json::json!(["zhangsan"]));
    assert_eq!(recs[1]["body"]["text"]["mentioned_mobile_list"], serde_json::json!(["13900002222"]));

    // 25 more notifications: our own limit sends 18 more this minute (20
    // in all) and holds the rest back without using up attempts.
    for i in 0..25 {
        app.store.enqueue(&format!("bulk:{i}"), Some(group), "reminder", &serde_json::json!({ "text": format!("提醒 {i}") })).await.unwrap();
    }
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.sent, report.postponed), (18, 7), "{report:?}");
    let pending = app.store.outbox(Some(OutboxStatus::Pending), 100).await.unwrap();
    assert_eq!(pending.len(), 7);
    assert!(pending.iter().all(|p| p.attempts == 0 && p.next_attempt_at > jiff::Timestamp::now().as_second()));
    assert!(eventually(5, || async { sink.records().len() == 20 }).await);
    assert!(sink.records().iter().all(|r| r["errcode"] == 0));

    // A second worker without our limit runs into the sink's: 45009 is
    // retried after the platform's one-minute pause.
    let mut eager = Worker::new(app.store.clone(), DeliveryConfig { wecom_limit: (1000, Duration::from_secs(60)), ..config() }).unwrap();
    sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE status = 'pending'").execute(app.store.pool()).await.unwrap();
    let report = eager.run_once().await.unwrap();
    assert_eq!(report.retried, 7, "{report:?}");
    let pending = app.store.outbox(Some(OutboxStatus::Pending), 100).await.unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(pending.iter().all(|p| p.attempts == 1 && p.next_attempt_at >= now + 55 && p.last_error.as_deref() == Some("rate limited by the platform")), "{pending:?}");
    assert!(eventually(5, || async { sink.records().iter().filter(|r| r["errcode"] == 45009).count() == 7 }).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dingtalk_custom_robot_is_signed_and_mentions_by_mobile() {
    let Some(py) = python() else { return };
    let app = spawn().await;
    let secret = "SECdemo0123456789abcdef";
    let sink = Sink::start(&py, "dingtalk_sink.py", &["--token", "TOK1", "--secret", secret]).await;
    let group = app.bind("dingtalk", "cid-1").await;
    let url = format!("http://127.0.0.1:{}/robot/send?access_token=TOK1", sink.port);
    app.store.set_group_robot(group, RobotKind::Dingtalk, &url, Some(secret)).await.unwrap();
    app.store.add_member("张三", Some("13800001111"), &[], &[]).await.unwrap();
    say(&app, "dingtalk", "cid-1", "d1", "@张三 明天下午3点前把需求文档写完").await;
    let mut worker = Worker::new(app.store.clone(), config()).unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert!(eventually(5, || async { sink.records().len() == 1 }).await);
    let rec = &sink.records()[0];
    assert_eq!(rec["errcode"], 0, "sink refused the signed request: {rec}");
    assert_eq!(rec["body"]["at"]["atMobiles"], serde_json::json!(["13800001111"]));
    assert!(rec["body"]["text"]["content"].as_str().unwrap().contains("@13800001111"));

    // Scheduler rows name whom to mention; the worker takes them as given.
    let reminder = serde_json::json!({ "text": "提醒：今天截止", "mentions": [{ "display_name": "王五", "platform_user_id": "wangwu", "mobile": null }] });
    app.store.enqueue("r1", Some(group), "reminder", &reminder).await.unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert!(eventually(5, || async { sink.records().len() == 2 }).await);
    assert_eq!(sink.records()[1]["body"]["at"]["atUserIds"], serde_json::json!(["wangwu"]));

    // A wrong secret is a permanent error (310000): parked at once.
    app.store.set_group_robot(group, RobotKind::Dingtalk, &url, Some("SECwrong")).await.unwrap();
    app.store.enqueue("x1", Some(group), "reminder", &serde_json::json!({ "text": "提醒" })).await.unwrap();
    assert_eq!(worker.run_once().await.unwrap().dead, 1);
    let dead = app.store.outbox(Some(OutboxStatus::Dead), 10).await.unwrap();
    assert!(dead[0].last_error.as_deref().unwrap().contains("310000"), "{dead:?}");
}

/// What the axum receiver saw.
#[derive(Default)]
struct Seen {
    calls: AtomicUsize,
    bodies: Mutex<Vec<(HeaderMap, Vec<u8>)>>,
}

/// An HTTP receiver that answers 503 to the first `fail_first` calls, then 200.
async fn flaky_receiver(fail_first: usize) -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let n = s.calls.fetch_add(1, Ordering::SeqCst);
                s.bodies.lock().unwrap().push((headers, body.to_vec()));
                if n < fail_first {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_events_are_retried_with_backoff_then_delivered_signed() {
    let app = spawn().await;
    let (url, seen) = flaky_receiver(3).await;
    app.connector("sub", ConnectorKind::Webhook, ConnectorConfig { secret: Some("whsec".into()), url: Some(url), ..Default::default() }).await;
    app.bind("wecom", "wr-1").await;
    say(&app, "wecom", "wr-1", "m1", "@张三 明天下午3点前把需求文档写完").await;
    let rows = app.store.outbox(None, 10).await.unwrap();
    let event = rows.iter().find(|r| r.kind == "webhook_event").expect("task.created queued with the change");
    assert_eq!(event.payload["event"]["type"], "task.created");

    let mut worker = Worker::new(app.store.clone(), DeliveryConfig { max_attempts: 8, ..config() }).unwrap();
    let mut delays = Vec::new();
    for _ in 0..3 {
        let before = jiff::Timestamp::now().as_second();
        worker.run_once().await.unwrap();
        let row = app.store.outbox_item(event.id).await.unwrap().unwrap();
        assert_eq!(row.status, OutboxStatus::Pending);
        delays.push(row.next_attempt_at - before);
        tokio::time::sleep(Duration::from_millis(2100)).await;
    }
    // 1 s, 2 s, then capped at max_backoff (2 s); ±1 s of clock granularity.
    assert!(delays[0] >= 1 && delays[0] <= 2 && delays[1] >= 2 && delays[2] >= 2 && delays[2] <= 3, "{delays:?}");
    worker.run_once().await.unwrap();
    let row = app.store.outbox_item(event.id).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Sent, 4));

    // Every attempt carried the same event id and a valid signature.
    let bodies = seen.bodies.lock().unwrap();
    let events: Vec<&(HeaderMap, Vec<u8>)> = bodies.iter().filter(|(_, b)| serde_json::from_slice::<Value>(b).unwrap()["type"] == "task.created").collect();
    assert_eq!(events.len(), 4);
    for (h, b) in &events {
        assert_eq!(h["x-qunban-event-id"].to_str().unwrap(), event.idempotency_key);
        let v: Value = serde_json::from_slice(b).unwrap();
        assert_eq!(v["id"], event.idempotency_key.as_str());
        assert_eq!(v["data"]["task"]["reference"], "TASK-001");
        let secret = qunban_connect::webhook::WebhookSecret::new("whsec");
        qunban_connect::webhook::verify_inbound(&secret, h["x-qunban-timestamp"].to_str().unwrap(), h["x-qunban-signature"].to_str().unwrap(), b, jiff::Timestamp::now().as_second()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_deliveries_become_dead_letters_and_can_be_retried() {
    let app = spawn().await;
    let (url, seen) = flaky_receiver(3).await;
    app.connector("sub", ConnectorKind::Webhook, ConnectorConfig { secret: Some("whsec".into()), url: Some(url), ..Default::default() }).await;
    let n = app.store.enqueue_webhook_event("report.daily", "report:2026-01-14", &serde_json::json!({"day": "2026-01-14"})).await.unwrap();
    assert_eq!(n, 1);
    let cfg = DeliveryConfig { max_attempts: 2, base_backoff: Duration::ZERO, ..config() };
    let mut worker = Worker::new(app.store.clone(), cfg).unwrap();
    worker.run_once().await.unwrap();
    let report = worker.run_once().await.unwrap();
    assert_eq!(report.dead, 1);
    let dead = app.store.outbox(Some(OutboxStatus::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.as_deref().unwrap().starts_with("gave up after 2 attempts"));
    assert!(worker.run_once().await.unwrap() == Default::default());

    // `qunban outbox retry`: back in the queue, delivered on the next pass
    // (the receiver fails once more, then accepts).
    assert!(app.store.requeue_outbox(dead[0].id).await.unwrap());
    worker.run_once().await.unwrap();
    worker.run_once().await.unwrap();
    let row = app.store.outbox_item(dead[0].id).await.unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Sent, "{row:?}");
    assert_eq!(seen.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_claimed_by_a_crashed_worker_is_sent_after_its_lease() {
    let app = spawn().await;
    let (url, seen) = flaky_receiver(0).await;
    app.connector("sub", ConnectorKind::Webhook, ConnectorConfig { secret: Some("whsec".into()), url: Some(url), ..Default::default() }).await;
    app.store.enqueue_webhook_event("report.daily", "report:d1", &serde_json::json!({})).await.unwrap();
    let row = &app.store.outbox(None, 1).await.unwrap()[0];
    // A worker claimed it and died before sending.
    let now = jiff::Timestamp::now().as_second();
    assert!(app.store.claim_outbox(row.id, now, now + 1).await.unwrap());
    let mut worker = Worker::new(app.store.clone(), config()).unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 0, "hidden while leased");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbound_groups_are_asked_to_bind_and_undeliverable_replies_are_parked() {
    let app = spawn().await;
    let (url, seen) = flaky_receiver(0).await;
    // A chat nobody registered: the bot asks to be bound, through the bridge.
    app.connector("bridge", ConnectorKind::Webhook, ConnectorConfig { secret: Some("s".into()), url: Some(url), ..Default::default() }).await;
    let c = app.store.connector_by_name("bridge").await.unwrap().unwrap();
    let route = qunban_store::ReplyRoute { connector_id: c.id, inline_reply: true, ..Default::default() };
    app.store.save_reply_route("webhook", "bridge:n1", &route).await.unwrap();
    let h = say(&app, "webhook", "room-new", "bridge:n1", "@张三 明天交周报").await;
    assert!(h.reply.is_some());
    let mut worker = Worker::new(app.store.clone(), config()).unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    let bodies = seen.bodies.lock().unwrap().clone();
    let v: Value = serde_json::from_slice(&bodies[0].1).unwrap();
    assert_eq!(v["type"], "message");
    assert_eq!(v["data"]["text"].as_str(), h.reply.as_deref());

    // No robot and no bridge: parked with an actionable reason.
    say(&app, "feishu", "oc-x", "f1", "@张三 明天交周报").await;
    assert_eq!(worker.run_once().await.unwrap().dead, 1);
    let dead = app.store.outbox(Some(OutboxStatus::Dead), 10).await.unwrap();
    assert!(dead[0].last_error.as_deref().unwrap().contains("qunban group set-robot"));
}
