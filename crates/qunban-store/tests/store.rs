//! Store behaviour on both backends: what is written can be read back, the log
//! is idempotent, references are unique under concurrency, bad input leaves
//! no trace.

mod support;

use jiff::Timestamp;
use qunban_core::{Command, Decision, GroupKind, Locale, NewTask, Reply, Role, TaskPatch, TaskStatus};
use qunban_store::{InboundMessage, MessageContext, Store, StoreError, TaskFilter};
use support::TestDb;

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn setup(store: &Store) -> (i64, qunban_store::Member) {
    store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = store.create_project("官网改版", None).await.unwrap();
    let m = store.add_member("张三", Some("13800001111"), &["小张".into()], &[("wecom".into(), "zhangsan".into())]).await.unwrap();
    (p.id, m)
}

fn new_task(project_id: i64, title: &str, owner: &str) -> Command {
    Command::CreateTask(NewTask {
        project_id,
        title: title.into(),
        owner_names: vec![owner.into()],
        due: Some(at("2026-01-15T07:00:00Z")),
        ..Default::default()
    })
}

fn ctx(actor: &qunban_store::Member) -> MessageContext {
    MessageContext {
        message_id: None,
        source: "test".into(),
        group: None,
        actor: actor.clone(),
        now: at("2026-01-14T02:30:00Z"),
        emit_outbox: false,
    }
}

async fn round_trip(db: TestDb) {
    let s = &db.store;
    let (pid, zhang) = setup(s).await;
    assert_eq!(s.workspace().await.unwrap().timezone, "Asia/Shanghai");
    // aliases and identities find the same member
    assert_eq!(s.member_by_name("小张").await.unwrap().id, zhang.id);
    assert_eq!(s.ensure_member("wecom", "zhangsan", "whatever").await.unwrap().id, zhang.id);

    let g = s.add_group("wecom", "wr001", "总控群", GroupKind::Master, Some(pid), None).await.unwrap();
    assert_eq!(s.group_by_chat("wecom", "wr001").await.unwrap(), Some(g.clone()));
    s.set_role(pid, zhang.id, Role::Pm).await.unwrap();
    assert_eq!(s.roles(pid, zhang.id).await.unwrap(), vec![Role::Pm]);

    let d = Decision { commands: vec![new_task(pid, "需求文档", "李四")], replies: vec![], ..Default::default() };
    let applied = s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    assert_eq!(applied.created, vec!["TASK-001"]);
    // an owner named for the first time becomes a member
    let li = s.member_by_name("李四").await.unwrap();

    let view = s.task_by_ref(pid, "1").await.unwrap();
    assert_eq!(view.task.title, "需求文档");
    assert_eq!(view.owner_names, vec!["李四"]);
    assert_eq!(view.task.due, Some(at("2026-01-15T07:00:00Z")));
    assert_eq!(view.task.status, TaskStatus::Todo);

    // an update records history
    let patch = TaskPatch { progress: Some(60), ..Default::default() };
    let d = Decision {
        commands: vec![Command::UpdateTask { task_id: view.task.id, reference: "TASK-001".into(), patch, owner_names: None }],
        ..Default::default()
    };
    s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    let t = s.task_by_ref(pid, "TASK-001").await.unwrap().task;
    assert_eq!((t.status, t.progress), (TaskStatus::InProgress, 60));
    let history = s.task_history(t.id).await.unwrap();
    let fields: Vec<_> = history.iter().map(|h| h.field.as_str()).collect();
    assert_eq!(fields, vec!["created", "status", "progress"]);
    assert_eq!(history[2].old_value.as_deref(), Some("0"));
    assert_eq!(history[2].new_value.as_deref(), Some("60"));
    assert_eq!(history[2].actor.as_deref(), Some("张三"));

    // filters
    let mine = s.tasks(&TaskFilter { owner_id: Some(li.id), ..Default::default() }).await.unwrap();
    assert_eq!(mine.len(), 1);
    let none = s.tasks(&TaskFilter { owner_id: Some(zhang.id), ..Default::default() }).await.unwrap();
    assert!(none.is_empty());
    let overdue = s.tasks(&TaskFilter { overdue_at: Some(at("2026-01-16T00:00:00Z")), ..Default::default() }).await.unwrap();
    assert_eq!(overdue.len(), 1);
    let not_yet = s.tasks(&TaskFilter { overdue_at: Some(at("2026-01-15T00:00:00Z")), ..Default::default() }).await.unwrap();
    assert!(not_yet.is_empty());
}

async fn invalid_update_changes_nothing(db: TestDb) {
    let s = &db.store;
    let (pid, zhang) = setup(s).await;
    let d = Decision { commands: vec![new_task(pid, "接口联调", "张三")], replies: vec![], ..Default::default() };
    s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    let t = s.task_by_ref(pid, "1").await.unwrap().task;
    let patch = TaskPatch { progress: Some(150), ..Default::default() };
    let d = Decision { commands: vec![Command::UpdateTask { task_id: t.id, reference: t.reference.clone(), patch, owner_names: None }], replies: vec![], ..Default::default() };
    let applied = s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    assert!(matches!(&applied.replies[0], Reply::Invalid { .. }), "{:?}", applied.replies);
    let after = s.task_by_ref(pid, "1").await.unwrap().task;
    assert_eq!(after, t);
    assert_eq!(s.task_history(t.id).await.unwrap().len(), 1);
}

async fn log_append_is_idempotent(db: TestDb) {
    let s = &db.store;
    let m = InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: "4561255354251345929".into(),
        chat_id: "wr001".into(),
        chat_name: None,
        sender_id: "zhangsan".into(),
        sender_name: "张三".into(),
        text: "#1 已完成".into(),
        sent_at: 1_768_357_800,
        raw: "<xml/>".into(),
    };
    let (id1, fresh1) = s.append_message(&m).await.unwrap();
    let (id2, fresh2) = s.append_message(&m).await.unwrap();
    assert!(fresh1 && !fresh2);
    assert_eq!(id1, id2);
    assert_eq!(s.message_count().await.unwrap(), 1);
    // the same id on another platform is another message
    let other = InboundMessage { platform: "dingtalk".into(), ..m.clone() };
    assert!(s.append_message(&other).await.unwrap().1);
    let logged = s.message(id1).await.unwrap().unwrap();
    assert_eq!(logged.text, "#1 已完成");
    assert_eq!(logged.sender_name, "张三");
}

async fn duplicates_and_bad_names_are_refused(db: TestDb) {
    let s = &db.store;
    setup(s).await;
    assert!(matches!(s.create_project("官网改版", None).await, Err(StoreError::Duplicate { .. })));
    assert!(matches!(s.create_project("   ", None).await, Err(StoreError::Invalid(_))));
    assert!(matches!(s.add_member("张三", None, &[], &[]).await, Err(StoreError::Duplicate { .. })));
    // a failed member insert leaves nothing half-written
    let err = s.add_member("王五", None, &["小张".into()], &[]).await;
    assert!(matches!(err, Err(StoreError::Duplicate { kind: "alias", .. })), "{err:?}");
    assert!(matches!(s.member_by_name("王五").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(s.project_by_name("不存在").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        s.add_group("wecom", "x", "孤儿群", GroupKind::Master, None, None).await,
        Err(StoreError::Invalid(_))
    ));
    // init is idempotent
    assert!(s.init_workspace("again", "Asia/Shanghai", Locale::Zh).await.unwrap().is_none());
    assert_eq!(s.workspace().await.unwrap().name, "测试");
}

/// Two handles on one database (two qunban instances) creating tasks at the
/// same time never hand out the same reference.
async fn concurrent_reference_allocation(db: TestDb) {
    let (pid, zhang) = setup(&db.store).await;
    let other = Store::open(&db.url).await.unwrap();
    let mut handles = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { db.store.clone() } else { other.clone() };
        let actor = zhang.clone();
        handles.push(tokio::spawn(async move {
            let d = Decision { commands: vec![new_task(pid, &format!("任务{i}"), "张三")], replies: vec![], ..Default::default() };
            store.apply(&ctx(&actor), d, &tz(), Locale::Zh).await.unwrap().created
        }));
    }
    let mut refs = Vec::new();
    for h in handles {
        refs.extend(h.await.unwrap());
    }
    refs.sort();
    let before = refs.len();
    refs.dedup();
    assert_eq!(before, 40);
    assert_eq!(refs.len(), 40, "duplicate references handed out");
    assert_eq!(refs.first().map(String::as_str), Some("TASK-001"));
    assert_eq!(refs.last().map(String::as_str), Some("TASK-040"));
}

/// A new task asking for a reference another task holds gets the next free
/// number, and the reply names the holder; the holder is untouched.
async fn taken_reference_goes_to_the_next_free_number(db: TestDb) {
    let s = &db.store;
    let (pid, zhang) = setup(s).await;
    let asking = |title: &str, r: &str| {
        Command::CreateTask(NewTask {
            project_id: pid,
            requested_reference: Some(r.into()),
            title: title.into(),
            owner_names: vec!["张三".into()],
            ..Default::default()
        })
    };
    let d = Decision { commands: vec![new_task(pid, "第一个", "张三"), asking("登录页", "TASK-004")], replies: vec![], ..Default::default() };
    let applied = s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    assert_eq!(applied.created, vec!["TASK-001", "TASK-004"], "a free requested reference is kept");
    let d = Decision { commands: vec![asking("支付接口联调", "TASK-004")], replies: vec![], ..Default::default() };
    let applied = s.apply(&ctx(&zhang), d, &tz(), Locale::Zh).await.unwrap();
    assert_eq!(applied.created, vec!["TASK-005"]);
    let text = applied.text.unwrap();
    assert!(text.contains("TASK-004 已被「登录页」占用，新任务编号为 TASK-005"), "{text}");
    assert_eq!(s.task_by_ref(pid, "TASK-004").await.unwrap().task.title, "登录页");
    assert_eq!(s.task_by_ref(pid, "TASK-005").await.unwrap().task.title, "支付接口联调");
    let d = Decision { commands: vec![asking("又一个", "TASK-001")], replies: vec![], ..Default::default() };
    let en = s.apply(&ctx(&zhang), d, &tz(), Locale::En).await.unwrap().text.unwrap();
    assert!(en.contains("TASK-001 is already taken by \"第一个\"; the new task is TASK-006"), "{en}");
}

/// Aliases find their member in any Latin case and spacing; one alias means
/// one member; a member's own name is no alias.
async fn aliases_name_one_member(db: TestDb) {
    let s = &db.store;
    let (_, zhang) = setup(s).await;
    let kevin = s.add_member("Kevin Li", None, &[], &[]).await.unwrap();
    let li = s.add_member("李建国", None, &[], &[]).await.unwrap();
    s.add_alias("Kev L", kevin.id).await.unwrap();
    s.add_alias("@老李", li.id).await.unwrap();
    assert_eq!(s.member_by_name("kevl").await.unwrap().id, kevin.id);
    assert_eq!(s.member_by_name("@KEV L").await.unwrap().id, kevin.id);
    assert_eq!(s.member_by_name("老李").await.unwrap().id, li.id);
    // an alias given at `member add` is found the same way
    assert_eq!(s.member_by_name("小张").await.unwrap().id, zhang.id);
    // teaching the same alias again is fine; for someone else it is not
    s.add_alias("kev l", kevin.id).await.unwrap();
    assert!(matches!(s.add_alias("KevL", li.id).await, Err(StoreError::Duplicate { kind: "alias", .. })));
    assert!(matches!(s.add_alias("张三", li.id).await, Err(StoreError::Invalid(_))));
    let listed: Vec<(String, String, bool)> = s.aliases().await.unwrap().into_iter().map(|a| (a.alias, a.member, a.from_chat)).collect();
    assert_eq!(
        listed,
        vec![("Kev L".into(), "Kevin Li".into(), false), ("小张".into(), "张三".into(), false), ("老李".into(), "李建国".into(), false)]
    );
    assert_eq!(s.remove_alias("KEV L").await.unwrap().as_deref(), Some("Kevin Li"));
    assert_eq!(s.remove_alias("KEV L").await.unwrap(), None);
    assert!(s.member_by_name("kevl").await.is_err());
}

async fn outbox_round_trip(db: TestDb) {
    let s = &db.store;
    let payload = serde_json::json!({"text": "你好"});
    let id = s.enqueue("k1", None, "reply", &payload).await.unwrap().unwrap();
    assert_eq!(s.enqueue("k1", None, "reply", &payload).await.unwrap(), None, "same key queued twice");
    let due = s.due_outbox(i64::MAX, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    s.mark_failed(id, "connection refused", Some(i64::MAX)).await.unwrap();
    assert!(s.due_outbox(jiff::Timestamp::now().as_second(), 10).await.unwrap().is_empty());
    s.mark_failed(id, "gave up", None).await.unwrap();
    let dead = s.outbox(Some(qunban_store::OutboxStatus::Dead), 10).await.unwrap();
    assert_eq!(dead[0].attempts, 2);
    assert!(s.requeue_outbox(id).await.unwrap());
    s.mark_sent(id).await.unwrap();
    let item = s.outbox_item(id).await.unwrap().unwrap();
    assert_eq!(item.status, qunban_store::OutboxStatus::Sent);
    assert_eq!(item.payload["text"], "你好");
}

on_both_backends! {
    round_trip => super::round_trip;
    invalid_update_changes_nothing => super::invalid_update_changes_nothing;
    log_append_is_idempotent => super::log_append_is_idempotent;
    duplicates_and_bad_names_are_refused => super::duplicates_and_bad_names_are_refused;
    concurrent_reference_allocation => super::concurrent_reference_allocation;
    outbox_round_trip => super::outbox_round_trip;
    taken_reference_goes_to_the_next_free_number => super::taken_reference_goes_to_the_next_free_number;
    aliases_name_one_member => super::aliases_name_one_member;
}
