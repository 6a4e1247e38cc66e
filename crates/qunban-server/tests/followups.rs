//! Conversations with the bot through the real Engine, on both backends:
//! confirming a tentative task, answering the owner and deadline questions,
//! correcting and undoing what the bot just did, reopening a done task.
//!
//! The current message parser marks no text tentative yet, so the tentative
//! task is fed as an intent: the first message is logged, interpreted with
//! `TaskFields { tentative: true }` and applied exactly as the pipeline does;
//! every reply after it goes through `Engine::handle`. `tentative_from_text`
//! runs the same flow from chat text once the parser marks one of its texts
//! tentative (until then it reports itself skipped).

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::{interpret, GroupKind, Locale, Role, TaskStatus};
use qunban_lang::{Calendar, Intent, TaskFields};
use qunban_server::Engine;
use qunban_store::{InboundMessage, MessageContext, TaskFilter, TaskView};
use support::TestDb;

struct Chat {
    engine: Engine,
    seq: u32,
}

const GROUP: &str = "wr-master";

impl Chat {
    async fn new(db: &TestDb) -> Chat {
        let store = db.store.clone();
        store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
        let p = store.create_project("官网改版", None).await.unwrap();
        store.add_group("wecom", GROUP, "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
        Chat { engine: Engine::new(store, Arc::new(Calendar::builtin())), seq: 0 }
    }

    fn message(&mut self, sender: &str, at: &str, text: &str) -> InboundMessage {
        self.seq += 1;
        let sent: jiff::Timestamp = format!("{at}+08:00").parse().unwrap();
        InboundMessage {
            platform: "wecom".into(),
            platform_msg_id: format!("m{}", self.seq),
            chat_id: GROUP.into(),
            chat_name: None,
            sender_id: format!("uid-{sender}"),
            sender_name: sender.into(),
            text: text.into(),
            sent_at: sent.as_second(),
            raw: "{}".into(),
        }
    }

    /// Sends `text` from `sender` at local time `at` (Asia/Shanghai).
    async fn say(&mut self, sender: &str, at: &str, text: &str) -> Option<String> {
        let m = self.message(sender, at, text);
        self.engine.handle(m).await.unwrap().reply
    }

    /// Logs a message and applies `intent` for it, as the pipeline would
    /// had the parser read the text so.
    async fn say_as(&mut self, sender: &str, at: &str, text: &str, intent: Intent) -> Option<String> {
        let m = self.message(sender, at, text);
        let store = self.engine.store();
        let (id, _) = store.append_message(&m).await.unwrap();
        let group = store.group_by_chat("wecom", GROUP).await.unwrap().unwrap();
        let actor = store.ensure_member("wecom", &m.sender_id, sender).await.unwrap();
        let now = jiff::Timestamp::from_second(m.sent_at).unwrap();
        let intents = [intent];
        let snap = store.snapshot(Some(&group), &actor, &intents, now).await.unwrap();
        let decision = interpret(&intents, &snap);
        let ctx = MessageContext { message_id: Some(id), source: "chat".into(), group: Some(group), actor, now, emit_outbox: true };
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        store.apply(&ctx, decision, &tz, Locale::Zh).await.unwrap().text
    }

    async fn tasks(&self) -> Vec<TaskView> {
        self.engine.store().tasks(&TaskFilter::default()).await.unwrap()
    }

    async fn task(&self, reference: &str) -> TaskView {
        let p = self.engine.store().project_by_name("官网改版").await.unwrap();
        self.engine.store().task_by_ref(p.id, reference).await.unwrap()
    }

    /// A fresh Engine over the same database: what a restart sees.
    fn restart(&mut self) {
        self.engine = Engine::new(self.engine.store().clone(), Arc::new(Calendar::builtin()));
    }
}

fn tentative(title: &str, owner: &str) -> Intent {
    Intent::CreateTask(TaskFields { title: Some(title.into()), owners: vec![owner.into()], tentative: true, ..Default::default() })
}

fn ts(local: &str) -> jiff::Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

async fn tentative_tasks_are_confirmed_by_their_sender(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    // 2026-01-14 is a Wednesday.
    let r = chat.say_as("张三", "2026-01-14T10:00:00", "李四回头整理下周报", tentative("整理周报", "李四")).await.unwrap();
    assert_eq!(r, "❓ 这是给 @李四 的新任务吗？回复\"是\"创建：「整理周报」");
    assert!(chat.tasks().await.is_empty(), "nothing is created before the yes");

    // Someone else's yes does nothing.
    assert_eq!(chat.say("王五", "2026-01-14T10:01:00", "是").await, None);
    assert!(chat.tasks().await.is_empty());

    // The question survives a restart; the sender's yes creates the task.
    chat.restart();
    let r = chat.say("张三", "2026-01-14T10:02:00", "好的👌").await.unwrap();
    assert!(r.contains("已创建 #TASK-001「整理周报」") && r.contains("李四"), "{r}");
    let v = chat.task("1").await;
    let h = db.store.task_history(v.task.id).await.unwrap();
    assert_eq!(h[0].field, "created");
    let yes_id = chat.engine.store().message_count().await.unwrap();
    assert_eq!(h[0].message_id, Some(yes_id), "the confirming message is the cause");
    // A second yes has nothing to confirm: an ordinary message, no reply.
    assert_eq!(chat.say("张三", "2026-01-14T10:03:00", "是").await, None);
    assert_eq!(chat.tasks().await.len(), 1);

    // No: dropped with a short acknowledgement.
    chat.say_as("张三", "2026-01-14T11:00:00", "王五要不要看下登录页", tentative("看登录页", "王五")).await.unwrap();
    let r = chat.say("张三", "2026-01-14T11:01:00", "不用了").await.unwrap();
    assert_eq!(r, "👌 好的，不创建「看登录页」。");
    assert_eq!(chat.say("张三", "2026-01-14T11:02:00", "是").await, None);
    assert_eq!(chat.tasks().await.len(), 1);

    // Any other message drops the question silently and is processed as usual.
    chat.say_as("张三", "2026-01-14T12:00:00", "王五可能要改下首页", tentative("改首页", "王五")).await.unwrap();
    assert_eq!(chat.say("张三", "2026-01-14T12:01:00", "收到").await, None);
    assert_eq!(chat.say("张三", "2026-01-14T12:02:00", "是").await, None);
    assert_eq!(chat.tasks().await.len(), 1);
    chat.say_as("张三", "2026-01-14T12:10:00", "王五可能要改下首页", tentative("改首页", "王五")).await.unwrap();
    let r = chat.say("张三", "2026-01-14T12:11:00", "#1 进度50%").await.unwrap();
    assert!(r.contains("进度 → 50%"), "{r}");
    assert_eq!(chat.say("张三", "2026-01-14T12:12:00", "是").await, None);

    // A yes after 30 minutes is too late.
    chat.say_as("张三", "2026-01-14T14:00:00", "王五可能要改下首页", tentative("改首页", "王五")).await.unwrap();
    assert_eq!(chat.say("张三", "2026-01-14T14:31:00", "是").await, None);
    assert_eq!(chat.tasks().await.len(), 1);
}

async fn questions_are_answered_in_a_word(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let r = chat.say("张三", "2026-01-14T10:00:00", "明天把需求文档写完").await.unwrap();
    assert!(r.contains("由谁负责"), "{r}");
    // Another member's @mention is no answer to 张三's question.
    assert_eq!(chat.say("王五", "2026-01-14T10:01:00", "@王五").await, None);
    let r = chat.say("张三", "2026-01-14T10:02:00", "@李四").await.unwrap();
    assert!(r.contains("已创建 #TASK-001「需求文档写完」") && r.contains("李四") && r.contains("1月15日（周四）前"), "{r}");

    // Bare names answer too, when they are members; a bare word is not.
    let r = chat.say("张三", "2026-01-14T10:05:00", "周五前把验收清单整理好").await.unwrap();
    assert!(r.contains("由谁负责"), "{r}");
    assert_eq!(chat.say("张三", "2026-01-14T10:06:00", "收到").await, None, "收到 is no member: an ordinary message");
    assert!(chat.say("张三", "2026-01-14T10:07:00", "周五前把验收清单整理好").await.unwrap().contains("由谁负责"));
    let r = chat.say("张三", "2026-01-14T10:08:00", "李四负责").await.unwrap();
    assert!(r.contains("已创建 #TASK-002「验收清单整理好」") && r.contains("李四"), "{r}");

    let r = chat.say("张三", "2026-01-14T10:10:00", "@王五 周五或者下周一前提交周报").await.unwrap();
    assert!(r.contains("截止时间是哪个"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:11:00", "下周一").await.unwrap();
    assert!(r.contains("已创建 #TASK-003") && r.contains("1月19日（周一）前"), "{r}");

    // A question left open, then the log replays into the same tasks (the
    // answers are in it) and the same memory.
    let r = chat.say("张三", "2026-01-14T10:20:00", "下周三前把测试报告写完").await.unwrap();
    assert!(r.contains("由谁负责"), "{r}");
    let group = db.store.group_by_chat("wecom", GROUP).await.unwrap().unwrap();
    let zhang = db.store.member_by_name("张三").await.unwrap();
    let memory = db.store.conversation(group.id, zhang.id).await.unwrap();
    assert!(memory.as_ref().is_some_and(|c| c.question.is_some() && c.acted.is_some()), "{memory:?}");
    let before: Vec<_> = chat.tasks().await.iter().map(|v| (v.task.reference.clone(), v.task.title.clone(), v.owner_names.clone(), v.task.due)).collect();
    chat.engine.replay(|_, _| {}).await.unwrap();
    let after: Vec<_> = chat.tasks().await.iter().map(|v| (v.task.reference.clone(), v.task.title.clone(), v.owner_names.clone(), v.task.due)).collect();
    assert_eq!(before, after);
    assert_eq!(after.len(), 3);
    // The same memory, up to the ids of the re-created tasks (PostgreSQL
    // does not reuse them).
    let rebuilt = db.store.conversation(group.id, zhang.id).await.unwrap().unwrap();
    let (memory, rebuilt_acted) = (memory.unwrap(), rebuilt.acted.clone().unwrap());
    assert_eq!(rebuilt.question, memory.question);
    let acted = memory.acted.unwrap();
    assert_eq!((rebuilt_acted.message_ids, rebuilt_acted.at), (acted.message_ids, acted.at));
    let refs = |a: &qunban_core::conversation::Acted| a.tasks.iter().map(|t| t.reference.clone()).collect::<Vec<_>>();
    assert_eq!(refs(rebuilt.acted.as_ref().unwrap()), ["TASK-003"]);
    let r = chat.say("张三", "2026-01-14T10:21:00", "@王五").await.unwrap();
    assert!(r.contains("已创建 #TASK-004「测试报告写完」"), "{r}");
}

async fn corrections_change_what_was_just_done(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    let r = chat.say("张三", "2026-01-14T10:00:00", "@李四 周五前提交周报").await.unwrap();
    assert!(r.contains("1月16日（周五）前"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:01:00", "不对，是下周一").await.unwrap();
    assert!(r.starts_with("✏️ 已更正") && r.contains("截止 → 1月19日（周一）前"), "{r}");
    let t1 = chat.task("1").await;
    assert_eq!(t1.task.due, Some(ts("2026-01-19T23:59:59")));
    // Another correction of the same message, another phrasing.
    let r = chat.say("张三", "2026-01-14T10:02:00", "截止应该是下周二").await.unwrap();
    assert!(r.contains("1月20日（周二）前"), "{r}");

    // Owners: replaced, and the wrong name makes no member.
    let members = db.store.members().await.unwrap().len();
    let r = chat.say("张三", "2026-01-14T10:03:00", "应该是@王五负责，不是@李小乙").await.unwrap();
    assert!(r.contains("负责人 → 王五"), "{r}");
    assert_eq!(chat.task("1").await.owner_names, ["王五"]);
    assert_eq!(db.store.members().await.unwrap().len(), members + 1, "王五 is new, 李小乙 is not made");
    assert!(db.store.member_by_name("李小乙").await.is_err());
    assert_eq!(chat.tasks().await.len(), 1, "no task from the correction");

    // Someone else's correction is an ordinary message (no task, no change).
    assert_eq!(chat.say("李四", "2026-01-14T10:04:00", "不对，是下周三").await, None);
    assert_eq!(chat.task("1").await.task.due, Some(ts("2026-01-20T23:59:59")));

    // Undo reverts the message and its corrections: the task is cancelled.
    let r = chat.say("张三", "2026-01-14T10:05:00", "撤销").await.unwrap();
    assert!(r.starts_with("↩️ 已撤销") && r.contains("#TASK-001") && r.contains("状态 → 已取消"), "{r}");
    assert_eq!(chat.task("1").await.task.status, TaskStatus::Cancelled);
    let r = chat.say("张三", "2026-01-14T10:06:00", "/撤销").await.unwrap();
    assert!(r.contains("没有可以撤销"), "{r}");
    let h = db.store.task_history(t1.task.id).await.unwrap();
    let fields: Vec<&str> = h.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["created", "due", "due", "owners", "status"]);
    assert!(h.iter().all(|e| e.message_id.is_some() && e.actor.as_deref() == Some("张三")));

    // Nothing acted on in the last 30 minutes: nothing to undo.
    let r = chat.say("张三", "2026-01-14T11:00:00", "/undo").await.unwrap();
    assert!(r.contains("没有可以撤销"), "{r}");
    // A bare 撤销 with no memory is an ordinary message.
    assert_eq!(chat.say("张三", "2026-01-14T11:01:00", "撤销").await, None);
}

async fn undo_restores_updated_fields(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    chat.say("张三", "2026-01-14T10:00:00", "@李四 周五前提交周报").await.unwrap();
    chat.say("张三", "2026-01-14T10:01:00", "@李四 整理会议纪要").await.unwrap();
    chat.say("李四", "2026-01-14T10:02:00", "#1 进度30%").await.unwrap();
    let before = chat.task("1").await.task;
    assert_eq!((before.status, before.progress), (TaskStatus::InProgress, 30));

    let r = chat.say("李四", "2026-01-14T10:10:00", "#1 已完成").await.unwrap();
    assert!(r.contains("已完成"), "{r}");
    let r = chat.say("李四", "2026-01-14T10:11:00", "撤销").await.unwrap();
    assert!(r.contains("已撤销") && r.contains("状态 → 进行中") && r.contains("进度 → 30%"), "{r}");
    let after = chat.task("1").await.task;
    assert_eq!((after.status, after.progress, after.done_at, after.due), (TaskStatus::InProgress, 30, None, before.due));
    let h = db.store.task_history(after.id).await.unwrap();
    let trail: Vec<(&str, Option<&str>, Option<&str>)> = h.iter().skip(3).map(|e| (e.field.as_str(), e.old_value.as_deref(), e.new_value.as_deref())).collect();
    assert_eq!(
        trail,
        [
            ("status", Some("in_progress"), Some("done")),
            ("progress", Some("30"), Some("100")),
            ("status", Some("done"), Some("in_progress")),
            ("progress", Some("100"), Some("30")),
        ]
    );

    // A deadline added to a task without one is removed again.
    let r = chat.say("张三", "2026-01-14T10:20:00", "#2 延期到下周三").await.unwrap();
    assert!(r.contains("截止 → 1月21日（周三）前"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:21:00", "/撤销").await.unwrap();
    assert!(r.contains("已撤销"), "{r}");
    assert_eq!(chat.task("2").await.task.due, None);
    assert!(chat.say("张三", "2026-01-14T10:22:00", "撤销").await.unwrap().contains("没有可以撤销"));
}

async fn done_tasks_are_reopened_from_the_chat(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    chat.say("张三", "2026-01-14T10:00:00", "@李四 周五前提交周报").await.unwrap();
    let p = db.store.project_by_name("官网改版").await.unwrap();
    let zhang = db.store.member_by_name("张三").await.unwrap();
    db.store.set_role(p.id, zhang.id, Role::Pm).await.unwrap();
    chat.say("李四", "2026-01-14T10:05:00", "#1 已完成").await.unwrap();
    // Not the owner, not a manager: refused.
    let r = chat.say("王五", "2026-01-14T10:06:00", "#1 进行中").await.unwrap();
    assert!(r.contains("不是你负责的任务"), "{r}");
    // The owner reopens it.
    let r = chat.say("李四", "2026-01-14T10:07:00", "#1 进行中").await.unwrap();
    assert!(r.contains("#TASK-001 已重新打开"), "{r}");
    let t = chat.task("1").await.task;
    assert_eq!((t.status, t.progress, t.done_at), (TaskStatus::InProgress, 90, None));
    // A PM may too.
    chat.say("李四", "2026-01-14T10:08:00", "#1 已完成").await.unwrap();
    let r = chat.say("张三", "2026-01-14T10:09:00", "#1 进行中").await.unwrap();
    assert!(r.contains("#TASK-001 已重新打开"), "{r}");
    let h = db.store.task_history(t.id).await.unwrap();
    let statuses: Vec<&str> = h.iter().filter(|e| e.field == "status").filter_map(|e| e.new_value.as_deref()).collect();
    assert_eq!(statuses, ["done", "in_progress", "done", "in_progress"]);
}

async fn english_groups_hear_english(db: TestDb) {
    let mut chat = Chat::new(&db).await;
    chat.say("张三", "2026-01-14T09:00:00", "/设置 语言 English").await.unwrap();
    chat.say_as("张三", "2026-01-14T10:00:00", "Li Si might tidy up the weekly report", tentative("weekly report", "李四")).await.unwrap();
    let r = chat.say("张三", "2026-01-14T10:00:30", "ok").await.unwrap();
    assert!(r.starts_with("✅ Created #TASK-001"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:01:00", "不对，是下周一").await.unwrap();
    assert!(r.starts_with("✏️ Corrected:") && r.contains("due → end of Mon Jan 19"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:02:00", "undo").await.unwrap();
    assert!(r.starts_with("↩️ Undid the changes of your last message:") && r.contains("status → cancelled"), "{r}");
    let r = chat.say("张三", "2026-01-14T10:03:00", "/undo").await.unwrap();
    assert!(r.starts_with("ℹ️ Nothing to undo"), "{r}");
}

/// The whole flow from chat text, once the parser marks a text tentative.
async fn tentative_from_text(db: TestDb) {
    let calendar = Calendar::builtin();
    let now = ts("2026-01-14T10:00:00").to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    let ctx = qunban_lang::MessageContext { now, sender: "张三".into(), calendar: &calendar };
    // A bare name as the subject, no @, no request, no 把: the parser
    // cannot tell a plan from an assignment, so it marks the task tentative.
    let text = "李四明天整理周报";
    assert!(
        qunban_lang::parse_message(text, &ctx).iter().any(|i| matches!(i, Intent::CreateTask(f) if f.tentative && f.owners == ["李四"])),
        "the parser should mark {text} tentative"
    );
    let mut chat = Chat::new(&db).await;
    let r = chat.say("张三", "2026-01-14T10:00:00", text).await.unwrap();
    assert!(r.contains("新任务吗"), "{r}");
    assert!(chat.tasks().await.is_empty());
    assert_eq!(chat.say("王五", "2026-01-14T10:01:00", "是").await, None);
    let r = chat.say("张三", "2026-01-14T10:02:00", "是的").await.unwrap();
    assert!(r.contains("已创建"), "{r}");
    // A replay of the log asks, remembers and creates again.
    let before = chat.tasks().await.len();
    chat.engine.replay(|_, _| {}).await.unwrap();
    assert_eq!(chat.tasks().await.len(), before);
}

on_both_backends! {
    tentative_tasks_are_confirmed_by_their_sender => super::tentative_tasks_are_confirmed_by_their_sender;
    questions_are_answered_in_a_word => super::questions_are_answered_in_a_word;
    corrections_change_what_was_just_done => super::corrections_change_what_was_just_done;
    undo_restores_updated_fields => super::undo_restores_updated_fields;
    done_tasks_are_reopened_from_the_chat => super::done_tasks_are_reopened_from_the_chat;
    tentative_from_text => super::tentative_from_text;
    english_groups_hear_english => super::english_groups_hear_english;
}
