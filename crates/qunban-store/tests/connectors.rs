//! Connector settings, group robots, reply routes, webhook events and the
//! outbox claims of the delivery worker, on SQLite and PostgreSQL.

mod support;

use jiff::Timestamp;
use qunban_core::{GroupKind, Locale};
use qunban_store::{ConnectorConfig, ConnectorKind, OutboxStatus, ReplyRoute, RobotKind, StoreError};
use support::TestDb;

async fn check_connectors_and_robots(db: TestDb) {
    let s = &db.store;
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let cfg = ConnectorConfig { corp_id: Some("ww1".into()), token: Some("s3cr3t-value".into()), aes_key: Some("k".repeat(43)), ..Default::default() };
    let c = s.add_connector("hr-app", ConnectorKind::Wecom, &cfg).await.unwrap();
    assert_eq!(c.config, cfg);
    assert!(matches!(s.add_connector("hr-app", ConnectorKind::Feishu, &cfg).await, Err(StoreError::Duplicate { .. })));
    assert!(matches!(s.add_connector("bad name/", ConnectorKind::Feishu, &cfg).await, Err(StoreError::Invalid(_))));
    assert_eq!(s.connector_by_name("hr-app").await.unwrap().unwrap().id, c.id);
    // Secrets never show in listings or Debug.
    let listed = c.redacted_json().to_string();
    assert!(!listed.contains("s3cr3t-value") && !listed.contains("kkkk") && listed.contains("ww1") && listed.contains("/wecom/hr-app/callback"), "{listed}");
    assert!(!format!("{c:?}").contains("s3cr3t-value"));

    let g = s.add_group("wecom", "wr1", "群", GroupKind::Unbound, None, None).await.unwrap();
    s.set_group_robot(g.id, RobotKind::Dingtalk, "https://x/robot/send?access_token=T", Some("SEC1")).await.unwrap();
    s.set_group_robot(g.id, RobotKind::Wecom, "KEY", None).await.unwrap();
    let r = s.group_robot(g.id).await.unwrap().unwrap();
    assert_eq!((r.kind, r.webhook_url.as_str(), r.secret), (RobotKind::Wecom, "KEY", None));
    assert!(!format!("{:?}", s.group_robot(g.id).await.unwrap()).contains("SEC1"));
}

async fn check_routes_events_and_claims(db: TestDb) {
    let s = &db.store;
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let hook = s.add_connector("sub", ConnectorKind::Webhook, &ConnectorConfig { secret: Some("x".into()), url: Some("http://127.0.0.1:9/e".into()), ..Default::default() }).await.unwrap();
    s.add_connector("in-only", ConnectorKind::Webhook, &ConnectorConfig { secret: Some("x".into()), ..Default::default() }).await.unwrap();

    let route = ReplyRoute { connector_id: hook.id, inline_reply: false, url_kind: Some("dingtalk_session".into()), url: Some("http://s".into()), expires_at: Some(99) };
    s.save_reply_route("dingtalk", "m1", &route).await.unwrap();
    // A retry does not replace the first route.
    s.save_reply_route("dingtalk", "m1", &ReplyRoute { url: Some("http://other".into()), ..route.clone() }).await.unwrap();
    let msg = qunban_store::InboundMessage {
        platform: "dingtalk".into(),
        platform_msg_id: "m1".into(),
        chat_id: "c".into(),
        chat_name: None,
        sender_id: "u".into(),
        sender_name: "张三".into(),
        text: "hi".into(),
        sent_at: 1,
        raw: "{}".into(),
    };
    let (id, _) = s.append_message(&msg).await.unwrap();
    assert_eq!(s.reply_route_for_message(id).await.unwrap(), Some(("dingtalk".into(), route)));

    // One event per subscriber with a URL; the same cause queues once.
    assert_eq!(s.enqueue_webhook_event("report.daily", "d1", &serde_json::json!({})).await.unwrap(), 1);
    assert_eq!(s.enqueue_webhook_event("report.daily", "d1", &serde_json::json!({})).await.unwrap(), 0);
    let row = s.outbox(None, 10).await.unwrap().remove(0);
    assert_eq!(row.kind, "webhook_event");
    assert_eq!(row.payload["event"]["id"], row.idempotency_key.as_str());

    let now = Timestamp::now().as_second();
    assert!(s.claim_outbox(row.id, now, now + 60).await.unwrap());
    assert!(!s.claim_outbox(row.id, now, now + 60).await.unwrap(), "a claimed row is not claimed twice");
    assert!(s.due_outbox(now, 10).await.unwrap().is_empty());
    s.mark_failed(row.id, "boom", None).await.unwrap();
    assert_eq!(s.dead_letters(10).await.unwrap().len(), 1);
    assert!(s.requeue_outbox(row.id).await.unwrap());
    let again = s.outbox_item(row.id).await.unwrap().unwrap();
    assert_eq!((again.status, again.attempts), (OutboxStatus::Pending, 0));
    s.postpone_outbox(row.id, now + 500).await.unwrap();
    assert_eq!(s.outbox_item(row.id).await.unwrap().unwrap().next_attempt_at, now + 500);
}

on_both_backends! {
    connectors_and_robots => super::check_connectors_and_robots;
    routes_events_and_claims => super::check_routes_events_and_claims;
}
