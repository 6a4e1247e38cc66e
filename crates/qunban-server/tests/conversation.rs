//! A fortnight of a project run entirely from the chat (tests/data/
//! conversation.txt): over a hundred messages across a master group, two
//! sub-task groups and a support group serving two projects, five members
//! with different roles. Every bot reply is checked, then the final state,
//! then that replaying the log rebuilds the same tasks.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::schedule::RuleKind;
use qunban_core::{GroupKind, Locale, Role, TaskStatus};
use qunban_lang::Calendar;
use qunban_server::Engine;
use qunban_store::{InboundMessage, TaskFilter};
use support::TestDb;

struct Step {
    line: usize,
    group: String,
    sender: String,
    at: String,
    text: String,
    expect: Option<Vec<String>>,
}

fn script() -> Vec<Step> {
    let text = include_str!("data/conversation.txt");
    let mut steps: Vec<Step> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix('[') {
            let (group, rest) = rest.split_once("] ").expect("[group] sender time text");
            let mut parts = rest.splitn(3, ' ');
            let (sender, at, text) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            steps.push(Step { line: i + 1, group: group.into(), sender: sender.into(), at: at.into(), text: text.into(), expect: None });
        } else if let Some(e) = line.strip_prefix("=> ") {
            let step = steps.last_mut().expect("an expectation follows a message");
            step.expect = Some(if e.trim() == "-" { vec![] } else { e.split(" | ").map(|p| p.trim().to_string()).collect() });
        }
    }
    assert!(steps.iter().all(|s| s.expect.is_some()), "every message needs an expectation");
    steps
}

async fn run(engine: &Engine, steps: &[Step]) -> Vec<String> {
    let mut failures = Vec::new();
    for (n, s) in steps.iter().enumerate() {
        let sent: jiff::Timestamp = format!("{}:00+08:00", s.at).parse().unwrap();
        let m = InboundMessage {
            platform: "wecom".into(),
            platform_msg_id: format!("conv-{n}"),
            chat_id: s.group.clone(),
            chat_name: None,
            sender_id: format!("uid-{}", s.sender),
            sender_name: s.sender.clone(),
            text: s.text.clone(),
            sent_at: sent.as_second(),
            raw: "{}".into(),
        };
        let reply = engine.handle(m).await.unwrap().reply;
        let expect = s.expect.as_ref().unwrap();
        match (&reply, expect.is_empty()) {
            (None, true) => {}
            (Some(r), true) => failures.push(format!("line {}: expected silence, got {r:?}", s.line)),
            (None, false) => failures.push(format!("line {}: expected {expect:?}, got no reply", s.line)),
            (Some(r), false) => {
                for part in expect {
                    if !r.contains(part.as_str()) {
                        failures.push(format!("line {}: reply {r:?} lacks {part:?}", s.line));
                    }
                }
            }
        }
    }
    failures
}

async fn conversation(db: TestDb) {
    let store = db.store.clone();
    store.init_workspace("研发部", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Calendar::builtin()));
    let steps = script();
    assert!(steps.len() >= 100, "{} messages", steps.len());
    let failures = run(&engine, &steps).await;
    assert!(failures.is_empty(), "{} replies wrong:\n{}", failures.len(), failures.join("\n"));

    // Final state: the groups form the hierarchy.
    let web = store.project_by_name("官网改版").await.unwrap();
    let mini = store.project_by_name("小程序").await.unwrap();
    let master = store.group_by_chat("wecom", "wr-master").await.unwrap().unwrap();
    let fe = store.group_by_chat("wecom", "wr-fe").await.unwrap().unwrap();
    let design = store.group_by_chat("wecom", "wr-design").await.unwrap().unwrap();
    assert_eq!((master.kind, master.project_id), (GroupKind::Master, Some(web.id)));
    assert_eq!((fe.kind, fe.project_id, fe.parent_group_id), (GroupKind::Subtask, Some(web.id), Some(master.id)));
    let t1 = store.task_by_ref(web.id, "1").await.unwrap().task;
    assert_eq!(fe.parent_task_id, Some(t1.id));
    assert_eq!(design.kind, GroupKind::Support);
    let served: Vec<String> = store.projects_of_support_group(design.id).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(served, ["官网改版", "小程序"]);

    // Roles given in the chat.
    let roles = |name: &str| {
        let store = store.clone();
        let name = name.to_string();
        async move {
            let m = store.member_by_name(&name).await.unwrap();
            store.roles(web.id, m.id).await.unwrap()
        }
    };
    assert_eq!(roles("张三").await, vec![Role::Pm]);
    assert_eq!(roles("李四").await, vec![Role::Lead]);
    assert_eq!(roles("钱七").await, vec![Role::Supervisor]);
    assert_eq!(roles("赵六").await, vec![Role::Executor], "an executor could not promote anyone");

    // Tasks: all eight of the web project done; sub-tasks under their parents.
    let web_tasks = store.tasks(&TaskFilter { project_id: Some(web.id), ..Default::default() }).await.unwrap();
    assert_eq!(web_tasks.len(), 8);
    assert!(web_tasks.iter().all(|v| v.task.status == TaskStatus::Done), "{web_tasks:#?}");
    let t4 = &web_tasks[3];
    assert_eq!(t4.task.parent_task_id, Some(t1.id));
    let t5 = &web_tasks[4];
    assert_eq!(t5.owner_names, ["王五"], "reassigned");
    assert_eq!(t5.task.due, Some("2026-03-11T15:59:59Z".parse().unwrap()), "moved deadline");
    let mini_tasks = store.tasks(&TaskFilter { project_id: Some(mini.id), ..Default::default() }).await.unwrap();
    assert_eq!(mini_tasks.len(), 1);
    assert_eq!(mini_tasks[0].task.reference, "TASK-001");
    assert_eq!(mini_tasks[0].owner_names, ["钱七"]);
    // TASK-001 was reopened once and closed again.
    let h = store.task_history(t1.id).await.unwrap();
    let statuses: Vec<&str> = h.iter().filter(|e| e.field == "status").filter_map(|e| e.new_value.as_deref()).collect();
    assert_eq!(statuses, ["review", "done", "in_progress", "done"]);

    // Decisions, kudos and settings.
    let decisions = store.decisions(web.id).await.unwrap();
    assert_eq!(decisions.iter().map(|d| d.2.as_str()).collect::<Vec<_>>(), ["首页采用方案B，移动端优先", "下周一发布测试版"]);
    let kudos = store.kudos_between(0, i64::MAX).await.unwrap();
    assert_eq!(kudos.len(), 4);
    let settings = store.group_settings(master.id).await.unwrap();
    assert!(settings.contains(&("morning_time".to_string(), "09:30".to_string())));
    assert!(settings.contains(&("locale".to_string(), "zh".to_string())));
    // The scheduler reads the chat's time and switch.
    let rules = store.schedule_rules(master.id).await.unwrap();
    let (morning, overdue) = (rules.rule(RuleKind::Morning), rules.rule(RuleKind::Overdue));
    assert!(morning.enabled && morning.at == Some(jiff::civil::time(9, 30, 0, 0)), "{morning:?}");
    assert!(!overdue.enabled, "/设置 逾期提醒 关闭 turned the overdue alerts off");
    assert!(rules.rule(RuleKind::Milestone).enabled);

    // The weekly report of the first week names its stars with the reasons.
    let data = store.report_dataset(Some(web.id), &qunban_store::StandupDays::default()).await.unwrap();
    let ctx = qunban_report::Ctx::shanghai("2026-03-06T10:00:00Z".parse::<jiff::Timestamp>().unwrap().as_second());
    let weekly = qunban_report::report::weekly_report(&data, &ctx, "2026-03-06".parse().unwrap());
    let stars: Vec<(&str, usize)> = weekly.stars.iter().map(|s| (s.member.as_str(), s.count)).collect();
    assert_eq!(stars, [("王五", 2), ("赵六", 1), ("钱七", 1)]);
    assert_eq!(weekly.stars[0].reasons, ["需求文档提前完成", "首页布局准时交付"]);

    // Replay the whole log: the same tasks, history, groups and roles.
    let before = store.tasks(&TaskFilter::default()).await.unwrap();
    engine.replay(|_, _| {}).await.unwrap();
    let after = store.tasks(&TaskFilter::default()).await.unwrap();
    let key = |v: &qunban_store::TaskView| (v.project.clone(), v.task.reference.clone(), v.task.title.clone(), v.owner_names.clone(), v.task.status, v.task.due, v.task.done_at);
    assert_eq!(before.iter().map(key).collect::<Vec<_>>(), after.iter().map(key).collect::<Vec<_>>());
    assert_eq!(store.kudos_between(0, i64::MAX).await.unwrap().len(), 4);
    assert_eq!(roles("李四").await, vec![Role::Lead]);
}

on_both_backends! {
    conversation => super::conversation;
}
