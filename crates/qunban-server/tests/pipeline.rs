//! The message pipeline end to end on both backends: chat text in, tasks,
//! history and replies out; the log replayed into the same state.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::{GroupKind, Locale, Role, TaskStatus};
use qunban_lang::Calendar;
use qunban_server::Engine;
use qunban_store::{InboundMessage, TaskFilter};
use support::TestDb;

struct Chat {
    engine: Engine,
    seq: u32,
}

impl Chat {
    async fn new(db: &TestDb) -> Chat {
        let store = db.store.clone();
        store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
        let p = store.create_project("官网改版", None).await.unwrap();
        store.add_group("wecom", "wr-master", "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
        Chat { engine: Engine::new(store, Arc::new(Calendar::builtin())), seq: 0 }
    }

    /// Sends `text` from `sender` at local time `at` (Asia/Shanghai) and
    /// returns the bot's reply.
    async fn say(&mut self, group: &str, sender: &str, at: &str, text: &str) -> Option<String> {
        self.seq += 1;
        let sent: jiff::Timestamp = format!("{at}+08:00").parse().unwrap();
        let m = InboundMessage {
            platform: "wecom".into(),
            platform_msg_id: format!("m{}", self.seq),
            chat_id: group.into(),
            chat_name: None,
            sender_id: format!("uid-{sender}"),
            sender_name: sender.into(),
            text: text.into(),
            sent_at: sent.as_second(),
            raw: "{}".into(),
        };
        self.engine.handle(m).await.unwrap().reply
    }
}

/// Tasks reduced to what a user sees, for comparing states.
async fn visible_state(engine: &Engine) -> Vec<String> {
    let tasks = engine.store().tasks(&TaskFilter::default()).await.unwrap();
    tasks
        .iter()
        .map(|v| {
            let t = &v.task;
            format!(
                "{} {} [{}] {} {}% due={:?} done={:?} prio={:?} note={:?}",
                t.reference,
                t.title,
                v.owner_names.join(","),
                t.status,
                t.progress,
                t.due,
                t.done_at,
                t.priority,
                t.note
            )
        })
        .collect()
}

async fn chat_creates_and_updates_tasks(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let r = chat.say("wr-master", "张三", "2026-01-14T10:30:00", "@李四 明天下午3点前把需求文档写完").await.unwrap();
    assert!(r.contains("TASK-001") && r.contains("李四") && r.contains("1月15日（周四）15:00"), "{r}");

    let r = chat.say("wr-master", "李四", "2026-01-14T11:00:00", "#1 进度60%").await.unwrap();
    assert!(r.contains("进度 → 60%"), "{r}");
    let r = chat.say("wr-master", "李四", "2026-01-15T14:00:00", "#TASK-001 已完成").await.unwrap();
    assert!(r.contains("已完成"), "{r}");

    let store = db.store.clone();
    let p = store.project_by_name("官网改版").await.unwrap();
    let v = store.task_by_ref(p.id, "TASK-001").await.unwrap();
    assert_eq!(v.task.status, TaskStatus::Done);
    assert_eq!(v.task.progress, 100);
    assert_eq!(v.task.done_at, Some("2026-01-15T06:00:00Z".parse().unwrap()));
    // history names who changed what, through which message
    let h = store.task_history(v.task.id).await.unwrap();
    assert_eq!(h.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["created", "status", "progress", "status", "progress"]);
    assert_eq!(h[1].actor.as_deref(), Some("李四"));
    assert!(h.iter().all(|e| e.message_id.is_some()));
    // the reply is queued in the outbox for delivery
    let outbox = store.outbox(None, 10).await.unwrap();
    assert_eq!(outbox.len(), 3);
}

async fn ambiguity_is_asked_not_guessed(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let r = chat.say("wr-master", "张三", "2026-01-14T10:30:00", "#7 已完成").await.unwrap();
    assert!(r.contains("没有找到任务 #7"), "{r}");
    let r = chat.say("wr-master", "张三", "2026-01-14T10:31:00", "明天把需求文档写完").await;
    assert!(r.as_deref().unwrap_or_default().contains("由谁负责"), "{r:?}");
    // chit-chat gets no reply and creates nothing
    assert_eq!(chat.say("wr-master", "张三", "2026-01-14T10:32:00", "收到👌").await, None);
    assert!(db.store.tasks(&TaskFilter::default()).await.unwrap().is_empty());
    // an unknown group is registered unbound and the bot asks to be bound
    let r = chat.say("wr-new", "王五", "2026-01-14T10:33:00", "@张三 周五前提交周报").await.unwrap();
    assert!(r.contains("/绑定"), "{r}");
    let g = db.store.group_by_chat("wecom", "wr-new").await.unwrap().unwrap();
    assert_eq!(g.kind, GroupKind::Unbound);
}

async fn permissions_apply_once_a_project_has_managers(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    chat.say("wr-master", "张三", "2026-01-14T10:00:00", "@李四 周五前完成接口联调").await.unwrap();
    let store = db.store.clone();
    let p = store.project_by_name("官网改版").await.unwrap();
    let zhang = store.member_by_name("张三").await.unwrap();
    let wang = store.ensure_member("wecom", "uid-王五", "王五").await.unwrap();
    store.set_role(p.id, zhang.id, Role::Pm).await.unwrap();
    store.set_role(p.id, wang.id, Role::Executor).await.unwrap();
    let r = chat.say("wr-master", "王五", "2026-01-14T11:00:00", "#1 已完成").await.unwrap();
    assert!(r.contains("不是你负责的任务"), "{r}");
    assert_eq!(store.task_by_ref(p.id, "1").await.unwrap().task.status, TaskStatus::Todo);
    let r = chat.say("wr-master", "张三", "2026-01-14T11:05:00", "#1 转给 @王五").await.unwrap();
    assert!(r.contains("负责人 → 王五"), "{r}");
    let r = chat.say("wr-master", "王五", "2026-01-14T11:10:00", "#1 已完成").await.unwrap();
    assert!(r.contains("已完成"), "{r}");
}

async fn platform_retries_are_applied_once(db: TestDb) {
    let chat = Chat::new(&db).await;
    let m = InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: "retry-1".into(),
        chat_id: "wr-master".into(),
        chat_name: None,
        sender_id: "uid-张三".into(),
        sender_name: "张三".into(),
        text: "@李四 周五前完成接口联调".into(),
        sent_at: "2026-01-14T02:30:00Z".parse::<jiff::Timestamp>().unwrap().as_second(),
        raw: "{}".into(),
    };
    let first = chat.engine.handle(m.clone()).await.unwrap();
    let again = chat.engine.handle(m).await.unwrap();
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(first.reply, again.reply, "a retry gets the same answer");
    assert_eq!(db.store.tasks(&TaskFilter::default()).await.unwrap().len(), 1);
}

async fn replay_rebuilds_the_same_tasks(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let script = [
        ("张三", "2026-01-12T09:00:00", "【任务编号】#TASK-001 【标题】需求文档撰写 【责任人】张三 【截止时间】2026-01-15 【状态】进行中 【备注】需与UI组确认样式规范"),
        ("张三", "2026-01-12T09:05:00", "@李四 明天下午3点前把接口文档写完"),
        ("张三", "2026-01-12T09:06:00", "@王五 @赵六 周五前完成联调"),
        ("李四", "2026-01-12T17:00:00", "#2 进度60%"),
        ("张三", "2026-01-13T10:00:00", "#1 延期到下周三"),
        ("李四", "2026-01-13T15:30:00", "#2 已完成"),
        ("王五", "2026-01-14T09:00:00", "#3 阻塞：等UI确认"),
        ("张三", "2026-01-14T09:30:00", "#3 转给 @李四"),
        ("张三", "2026-01-14T10:00:00", "收到"),
        ("李四", "2026-01-14T10:30:00", "昨日：1. 完成接口文档 今日：1. 联调 阻碍：无"),
        ("张三", "2026-01-15T18:00:00", "#1 取消"),
    ];
    for (who, at, text) in script {
        chat.say("wr-master", who, at, text).await;
    }
    let before = visible_state(&chat.engine).await;
    assert_eq!(before.len(), 3, "{before:#?}");
    let history_before = db.store.task_history(db.store.tasks(&TaskFilter::default()).await.unwrap()[0].task.id).await.unwrap();
    let outbox_before = db.store.outbox(None, 100).await.unwrap().len();

    let report = chat.engine.replay(|_, _| {}).await.unwrap();
    assert_eq!(report.messages, script.len() as u64);
    assert_eq!(visible_state(&chat.engine).await, before);
    let history_after = db.store.task_history(db.store.tasks(&TaskFilter::default()).await.unwrap()[0].task.id).await.unwrap();
    assert_eq!(history_after, history_before);
    assert_eq!(db.store.outbox(None, 100).await.unwrap().len(), outbox_before, "replay must not notify again");
}

on_both_backends! {
    chat_creates_and_updates_tasks => super::chat_creates_and_updates_tasks;
    ambiguity_is_asked_not_guessed => super::ambiguity_is_asked_not_guessed;
    permissions_apply_once_a_project_has_managers => super::permissions_apply_once_a_project_has_managers;
    platform_retries_are_applied_once => super::platform_retries_are_applied_once;
    replay_rebuilds_the_same_tasks => super::replay_rebuilds_the_same_tasks;
}
