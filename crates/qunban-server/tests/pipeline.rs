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

/// Nicknames are asked about, never turned into phantom members or guessed;
/// the full name or a taught alias works.
async fn people_are_never_invented(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let store = db.store.clone();
    for name in ["王芳", "王强", "李建国"] {
        store.add_member(name, None, &[], &[]).await.unwrap();
    }
    let members_before = store.members().await.unwrap().len();
    let r = chat.say("wr-master", "张三", "2026-01-14T10:00:00", "@小王 明天下午3点前把接口文档写完").await.unwrap();
    assert_eq!(r, "❓「小王」是指 @王芳 还是 @王强？请用全名重新发送，或 /别名 小王 = 王芳");
    let r = chat.say("wr-master", "张三", "2026-01-14T10:01:00", "@李建 周五前提交测试报告").await.unwrap();
    assert_eq!(r, "❓「李建」是指 @李建国 吗？请用全名重新发送，或 /别名 李建 = 李建国");
    let r = chat.say("wr-master", "张三", "2026-01-14T10:02:00", "@老李 周五前提交测试报告").await.unwrap();
    assert!(r.contains("「老李」是指 @李建国 吗？"), "{r}");
    assert!(store.tasks(&TaskFilter::default()).await.unwrap().is_empty());
    // the sender (张三) registered; nobody called 小王, 李建 or 老李
    assert_eq!(store.members().await.unwrap().len(), members_before + 1);
    for phantom in ["小王", "李建", "老李"] {
        assert!(store.member_by_name(phantom).await.is_err(), "{phantom} became a member");
    }

    // answering with the full name works
    let r = chat.say("wr-master", "张三", "2026-01-14T10:05:00", "@王芳 明天下午3点前把接口文档写完").await.unwrap();
    assert!(r.contains("已创建 #TASK-001") && r.contains("负责人：王芳"), "{r}");
    // an alias taught in the chat works from then on
    let r = chat.say("wr-master", "张三", "2026-01-14T10:06:00", "/别名 老李 = 李建国").await.unwrap();
    assert_eq!(r, "🏷️ 记住了：「老李」就是 @李建国。");
    let r = chat.say("wr-master", "张三", "2026-01-14T10:07:00", "@老李 周五前提交测试报告").await.unwrap();
    assert!(r.contains("负责人：李建国"), "{r}");
    // handing a task to an unclear name changes nothing
    let r = chat.say("wr-master", "张三", "2026-01-14T10:08:00", "#1 转给 @王工").await.unwrap();
    assert!(r.contains("「王工」是指 @王芳 还是 @王强？"), "{r}");
    let p = store.project_by_name("官网改版").await.unwrap();
    assert_eq!(store.task_by_ref(p.id, "1").await.unwrap().owner_names, vec!["王芳"]);
    // a clearly new name is a new member, as before
    let r = chat.say("wr-master", "张三", "2026-01-14T10:09:00", "@赵六 周五前整理会议纪要").await.unwrap();
    assert!(r.contains("负责人：赵六"), "{r}");
    assert!(store.member_by_name("赵六").await.is_ok());
    assert_eq!(store.tasks(&TaskFilter::default()).await.unwrap().len(), 3);

    // once the project has managers, only they teach aliases
    let zhang = store.member_by_name("张三").await.unwrap();
    store.set_role(p.id, zhang.id, Role::Pm).await.unwrap();
    let r = chat.say("wr-master", "王五", "2026-01-14T10:10:00", "/别名 小王 = 王强").await.unwrap();
    assert_eq!(r, "🙏 抱歉，只有项目经理或组长可以设置成员别名。请项目经理或组长发送这条命令。");
    assert!(store.member_by_name("小王").await.is_err());
    let aliases: Vec<(String, String, bool)> = store.aliases().await.unwrap().into_iter().map(|a| (a.alias, a.member, a.from_chat)).collect();
    assert_eq!(aliases, vec![("老李".to_string(), "李建国".to_string(), true)]);

    // replay re-derives the alias from the log and rebuilds the same tasks
    let before = visible_state(&chat.engine).await;
    chat.engine.replay(|_, _| {}).await.unwrap();
    assert_eq!(visible_state(&chat.engine).await, before);
    assert_eq!(store.aliases().await.unwrap().len(), 1);

    // a new colleague whose name is close to a member's is registered when
    // they first post; from then on their exact name is theirs
    chat.say("wr-master", "李建", "2026-01-14T10:20:00", "大家好，我是新来的李建").await;
    let r = chat.say("wr-master", "张三", "2026-01-14T10:21:00", "@李建 周五前提交测试报告").await.unwrap();
    assert!(r.contains("负责人：李建，"), "{r}");
    let owners: Vec<Vec<String>> = store.tasks(&TaskFilter::default()).await.unwrap().into_iter().map(|v| v.owner_names).collect();
    assert_eq!(owners, vec![vec!["王芳"], vec!["李建国"], vec!["赵六"], vec!["李建"]]);
}

/// An English group is asked in English; a Chinese group is told about a
/// rule in Chinese, with what to send instead.
async fn questions_and_refusals_speak_the_groups_language(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let store = db.store.clone();
    for name in ["王芳", "王强"] {
        store.add_member(name, None, &[], &[]).await.unwrap();
    }
    chat.say("wr-master", "张三", "2026-01-14T10:00:00", "@李四 明天下午3点前把需求文档写完").await.unwrap();
    chat.say("wr-master", "李四", "2026-01-14T11:00:00", "#1 已完成").await.unwrap();
    let r = chat.say("wr-master", "李四", "2026-01-14T11:05:00", "#1 进度50%").await.unwrap();
    assert_eq!(r, "⚠️「TASK-001」未更改：#TASK-001 已完成，不能再改进度。如需继续，请先发送：#TASK-001 进行中");
    let p = store.project_by_name("官网改版").await.unwrap();
    assert_eq!(store.task_by_ref(p.id, "1").await.unwrap().task.progress, 100);

    chat.say("wr-master", "张三", "2026-01-14T11:10:00", "/设置 语言 English").await.unwrap();
    let r = chat.say("wr-master", "张三", "2026-01-14T11:11:00", "@小王 明天下午3点前把接口文档写完").await.unwrap();
    assert_eq!(r, "❓ Who is \"小王\": @王芳 or @王强? Please send it again with the full name, or teach me: /alias 小王 = 王芳");
    let r = chat.say("wr-master", "李四", "2026-01-14T11:12:00", "#1 进度50%").await.unwrap();
    assert!(r.contains("reopen it first: #TASK-001 in progress"), "{r}");
}

on_both_backends! {
    chat_creates_and_updates_tasks => super::chat_creates_and_updates_tasks;
    ambiguity_is_asked_not_guessed => super::ambiguity_is_asked_not_guessed;
    permissions_apply_once_a_project_has_managers => super::permissions_apply_once_a_project_has_managers;
    platform_retries_are_applied_once => super::platform_retries_are_applied_once;
    replay_rebuilds_the_same_tasks => super::replay_rebuilds_the_same_tasks;
    people_are_never_invented => super::people_are_never_invented;
    questions_and_refusals_speak_the_groups_language => super::questions_and_refusals_speak_the_groups_language;
}
