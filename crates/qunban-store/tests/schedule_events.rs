//! Scheduler occurrences reach generic-webhook subscribers as `task.overdue`
//! and `report.daily` events, queued with the occurrence itself.

mod support;

use qunban_core::schedule::RuleKind;
use qunban_core::{GroupKind, Locale};
use qunban_store::{ConnectorConfig, ConnectorKind, Firing};
use support::TestDb;

async fn overdue_and_digest_become_webhook_events(db: TestDb) {
    let s = &db.store;
    s.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = s.create_project("官网改版", None).await.unwrap();
    let g = s.add_group("wecom", "wr1", "总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    let config = ConnectorConfig { secret: Some("s3cret".into()), url: Some("http://127.0.0.1:9/hook".into()), ..Default::default() };
    s.add_connector("jira", ConnectorKind::Webhook, &config).await.unwrap();

    let text = serde_json::json!({"text": "⏰ #TASK-001 已逾期", "mentions": [{"display_name": "李四"}]});
    let fire = |key: &'static str, rule: RuleKind| Firing {
        key,
        rule,
        group_id: g.id,
        scheduled_at: 1_768_464_000,
        status: "sent",
        payloads: vec![text.clone()],
        instance: "test",
    };
    assert!(s.fire_occurrence(&fire("overdue:t1:1768464000:owner", RuleKind::Overdue)).await.unwrap().is_some());
    assert!(s.fire_occurrence(&fire("digest:g1:2026-01-15", RuleKind::Digest)).await.unwrap().is_some());
    assert!(s.fire_occurrence(&fire("morning:g1:2026-01-15", RuleKind::Morning)).await.unwrap().is_some());
    // a second instance firing the same occurrence queues nothing more
    assert!(s.fire_occurrence(&fire("overdue:t1:1768464000:owner", RuleKind::Overdue)).await.unwrap().is_none());

    let events: Vec<_> = s.outbox(None, 50).await.unwrap().into_iter().filter(|o| o.kind == "webhook_event").collect();
    let mut types: Vec<&str> = events.iter().map(|e| e.payload["event"]["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["report.daily", "task.overdue"]);
    let overdue = events.iter().find(|e| e.payload["event"]["type"] == "task.overdue").unwrap();
    assert_eq!(overdue.payload["event"]["data"]["text"], "⏰ #TASK-001 已逾期");
    assert_eq!(overdue.payload["event"]["data"]["occurrence"], "overdue:t1:1768464000:owner");
}

on_both_backends! {
    overdue_and_digest_become_webhook_events => super::overdue_and_digest_become_webhook_events;
}
