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

/// A rule's switch and time come from the CLI/API row or the chat's
/// `/设置` settings, whichever changed last — each on its own.
async fn chat_switches_and_cli_changes_latest_wins(db: TestDb) {
    let s = &db.store;
    s.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = s.create_project("官网改版", None).await.unwrap();
    let g = s.add_group("wecom", "wr1", "总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    let chat = |key: &'static str, value: &'static str, at: i64| {
        sqlx::query(
            "INSERT INTO group_settings (group_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (group_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
        )
        .bind(g.id)
        .bind(key)
        .bind(value)
        .bind(at)
        .execute(s.pool())
    };
    // Long ago in the chat: the morning reminder at 09:30, then off.
    chat("morning_time", "09:30", 1_000).await.unwrap();
    chat("morning_enabled", "off", 1_001).await.unwrap();
    let m = s.schedule_rules(g.id).await.unwrap().rule(RuleKind::Morning);
    assert!(!m.enabled && m.at == Some(jiff::civil::time(9, 30, 0, 0)), "{m:?}");
    // Now the CLI turns it back on: the newer row wins, the time is kept.
    let m = s.set_schedule_rule(g.id, RuleKind::Morning, Some(true), None, None).await.unwrap();
    assert!(m.enabled && m.at == Some(jiff::civil::time(9, 30, 0, 0)), "{m:?}");
    assert!(s.schedule_rules(g.id).await.unwrap().rule(RuleKind::Morning).enabled);
    // A later chat switch wins again, without touching the time.
    chat("morning_enabled", "off", i64::MAX / 2).await.unwrap();
    let m = s.schedule_rules(g.id).await.unwrap().rule(RuleKind::Morning);
    assert!(!m.enabled && m.at == Some(jiff::civil::time(9, 30, 0, 0)), "{m:?}");
    // Other rules and a value that is neither on nor off are left alone.
    chat("overdue_enabled", "maybe", i64::MAX / 2).await.unwrap();
    assert!(s.schedule_rules(g.id).await.unwrap().rule(RuleKind::Overdue).enabled);
}

on_both_backends! {
    overdue_and_digest_become_webhook_events => super::overdue_and_digest_become_webhook_events;
    chat_switches_and_cli_changes_latest_wins => super::chat_switches_and_cli_changes_latest_wins;
}
