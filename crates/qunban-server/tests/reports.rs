//! Reports computed from state and history that a scripted chat produced
//! through the real pipeline, on both backends.
//!
//! The week of Mon 2026-01-12 (Asia/Shanghai):
//! - #1 李四, due 13日 15:00: done 13日 10:00, reopened 14:00, done again 14日 09:00 (18 h late)
//! - #2 王五, due 13日 15:00: moved to 下周三 (21日) on 13日
//! - #3 赵六 → 李四 (13日 16:00), due 13日 15:00: done 14日 10:00 (19 h late, credited to 李四)
//! - #4 李四, due 14日 15:00: still open — overdue
//! - 李四 posts a stand-up on 14日; 王五 does not.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::{GroupKind, Locale};
use qunban_lang::Calendar;
use qunban_report::Ctx;
use qunban_server::Engine;
use qunban_store::{InboundMessage, StandupDays};
use support::TestDb;

fn at(s: &str) -> i64 {
    format!("{s}+08:00").parse::<jiff::Timestamp>().unwrap().as_second()
}

async fn scripted(db: &TestDb) -> (Engine, i64) {
    let store = db.store.clone();
    store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = store.create_project("官网改版", None).await.unwrap();
    store.add_group("wecom", "wr-master", "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    let engine = Engine::new(store, Arc::new(Calendar::builtin()));
    let script = [
        ("张三", "2026-01-12T09:00:00", "@李四 明天下午3点前把接口文档写完"),
        ("张三", "2026-01-12T09:05:00", "@王五 明天下午3点前完成联调"),
        ("张三", "2026-01-12T09:10:00", "@赵六 明天下午3点前提交测试报告"),
        ("张三", "2026-01-12T09:15:00", "@李四 后天下午3点前完成部署脚本"),
        ("李四", "2026-01-13T10:00:00", "#1 已完成"),
        ("张三", "2026-01-13T11:00:00", "#2 延期到下周三"),
        ("李四", "2026-01-13T14:00:00", "#1 进行中"),
        ("张三", "2026-01-13T16:00:00", "#3 转给 @李四"),
        ("李四", "2026-01-14T09:00:00", "#1 已完成"),
        ("李四", "2026-01-14T10:00:00", "#3 已完成"),
        ("李四", "2026-01-14T10:30:00", "昨日：完成接口文档\n今日：联调\n阻碍：无"),
    ];
    for (i, (who, when, text)) in script.iter().enumerate() {
        let m = InboundMessage {
            platform: "wecom".into(),
            platform_msg_id: format!("r{i}"),
            chat_id: "wr-master".into(),
            chat_name: None,
            sender_id: format!("uid-{who}"),
            sender_name: (*who).into(),
            text: (*text).into(),
            sent_at: at(when),
            raw: "{}".into(),
        };
        let h = engine.handle(m).await.unwrap();
        assert!(h.reply.is_some(), "no reply to {text}");
    }
    (engine, p.id)
}

fn ctx() -> Ctx {
    Ctx::shanghai(at("2026-01-16T12:00:00"))
}

fn refs(v: &[qunban_report::report::TaskLine]) -> Vec<String> {
    v.iter().map(|t| t.reference.clone()).collect()
}

async fn reports_from_chat(db: TestDb) {
    let (engine, project) = scripted(&db).await;
    let store = engine.store();
    let week = StandupDays { from: "2026-01-12".into(), to: "2026-01-18".into() };
    let data = store.report_dataset(Some(project), &week).await.unwrap();
    assert_eq!(data.tasks.len(), 4);

    // Metrics of the week.
    let m = qunban_report::compute_metrics(&data, &ctx(), at("2026-01-12T00:00:00"), at("2026-01-19T00:00:00"));
    assert_eq!(m.completed, 2, "{m:#?}");
    assert_eq!((m.on_time_final, m.late, m.completed_with_deadline), (0, 2, 2));
    assert_eq!(m.delay_rate, Some(1.0));
    assert_eq!(m.avg_delay_hours, Some(18.5));
    assert_eq!(m.cycle_time_p50_hours, Some(48.0));
    assert!((m.cycle_time_p90_hours.unwrap() - (48.0 + 50.0 / 60.0)).abs() < 1e-9);
    assert_eq!((m.reopens, m.reassignments, m.deadline_moves, m.deadline_slips), (1, 1, 1, 1));
    assert_eq!(m.overdue, 1);
    let tp: Vec<(&str, u64)> = m.throughput.iter().map(|t| (t.member.as_str(), t.completed)).collect();
    assert_eq!(tp, [("李四", 2)], "reassigned #3 is credited to 李四");
    let li = m.workload.iter().find(|w| w.member == "李四").unwrap();
    assert_eq!((li.open, li.overdue), (1, 1));

    // Daily report of the 14th with its stand-up digest.
    let d = qunban_report::daily_report(&data, &ctx(), "2026-01-14".parse().unwrap());
    assert_eq!(refs(&d.completed), ["TASK-001", "TASK-003"]);
    assert_eq!(refs(&d.due_today), ["TASK-004"]);
    assert_eq!(refs(&d.overdue), ["TASK-004"]);
    assert_eq!(d.standups.len(), 1);
    assert_eq!(d.standups[0].member, "李四");
    assert_eq!(d.standups[0].today, ["联调"]);
    assert_eq!(d.missing_standups, ["王五"]);
    let md = qunban_report::markdown::daily(&d, &ctx());
    assert!(md.contains("# 官网改版 日报 · 2026-01-14") && md.contains("未提交站会：王五"), "{md}");

    // Weekly report.
    let w = qunban_report::weekly_report(&data, &ctx(), "2026-01-14".parse().unwrap());
    assert_eq!(refs(&w.completed), ["TASK-001", "TASK-003"]);
    assert_eq!(w.slipped.iter().map(|s| s.task.reference.as_str()).collect::<Vec<_>>(), ["TASK-002", "TASK-004"]);
    assert_eq!(refs(&w.due_next_week), ["TASK-002"]);
    assert_eq!(w.metrics.completed, 2);

    // Exports from stored state re-read independently.
    let csv = qunban_report::export::csv(&data, &ctx()).unwrap();
    let mut r = csv::Reader::from_reader(&csv[3..]);
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[2][2], "李四");
    let ics = qunban_report::export::ics(&data, &ctx(), &Default::default());
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "open tasks with deadlines: #2, #4");
    assert!(ics.lines().all(|l| l.len() <= 76));
}

/// The bulk loader and the per-task baseline see the same tasks and history.
async fn bulk_and_per_task_loaders_agree(db: TestDb) {
    let (engine, project) = scripted(&db).await;
    let a = engine.store().report_dataset(Some(project), &StandupDays::default()).await.unwrap();
    let b = engine.store().report_dataset_per_task(project).await.unwrap();
    assert_eq!(a.tasks, b.tasks);
    assert_eq!(a.history, b.history);
    assert!(a.history.iter().all(|h| ["status", "due", "owners"].contains(&h.field.as_str())));
}

on_both_backends! {
    reports_from_chat => super::reports_from_chat;
    bulk_and_per_task_loaders_agree => super::bulk_and_per_task_loaders_agree;
}
