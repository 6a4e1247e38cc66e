//! Applying each logged message exactly once when several appliers meet on
//! one database (instances, their catch-up loops, a platform's retries), and
//! first contact with a new member or chat racing itself; on both backends.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use qunban_core::{Command, Decision, GroupKind, Locale};
use qunban_lang::Calendar;
use qunban_server::Engine;
use qunban_store::{InboundMessage, MessageContext, StoreError, TaskFilter};
use support::TestDb;

async fn setup(db: &TestDb) -> Engine {
    let store = db.store.clone();
    store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = store.create_project("官网改版", None).await.unwrap();
    store.add_group("wecom", "wr-master", "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    store.add_member("张三", None, &[], &[]).await.unwrap();
    Engine::new(store, Arc::new(Calendar::builtin()))
}

fn msg(id: &str, sender: &str, text: &str) -> InboundMessage {
    InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: id.into(),
        chat_id: "wr-master".into(),
        chat_name: None,
        sender_id: format!("uid-{sender}"),
        sender_name: sender.into(),
        text: text.into(),
        sent_at: 1_768_356_000, // 2026-01-14 10:00 +08:00
        raw: "{}".into(),
    }
}

async fn task_titles(engine: &Engine) -> Vec<String> {
    let mut t: Vec<String> = engine.store().tasks(&TaskFilter::default()).await.unwrap().into_iter().map(|v| v.task.title).collect();
    t.sort();
    t
}

async fn assert_one_task(engine: &Engine, title: &str) {
    let titles = task_titles(engine).await;
    assert!(titles.len() == 1 && titles[0].contains(title), "expected one task {title}: {titles:?}");
}

/// A backlog left by dead instances, caught up by three instances at once
/// while a platform retries some of the same messages: each applied once.
async fn concurrent_catch_ups_apply_each_message_once(db: TestDb) {
    let engine = setup(&db).await;
    const N: usize = 60;
    for i in 0..N {
        // Logged, never applied, no live claim: what a failed attempt leaves.
        db.store.append_message(&msg(&format!("m{i}"), "李四", &format!("@张三 明天前完成 报告X{i}"))).await.unwrap();
    }
    let mut runs = Vec::new();
    for _ in 0..3 {
        let e = engine.clone();
        runs.push(tokio::spawn(async move { e.catch_up().await.unwrap() }));
    }
    let mut retries = Vec::new();
    for i in (0..N).step_by(3) {
        let e = engine.clone();
        retries.push(tokio::spawn(async move { e.handle(msg(&format!("m{i}"), "李四", &format!("@张三 明天前完成 报告X{i}"))).await.unwrap() }));
    }
    let mut applied = 0;
    for r in runs {
        applied += r.await.unwrap();
    }
    for r in retries {
        let h = r.await.unwrap();
        if !h.duplicate {
            applied += 1;
            assert_eq!(h.created.len(), 1);
        }
    }
    assert_eq!(applied, N as u64, "each message applied by exactly one applier");
    let titles = task_titles(&engine).await;
    assert_eq!(titles.len(), N, "{titles:?}");
    titles.windows(2).for_each(|w| assert_ne!(w[0], w[1], "applied twice"));
    assert_eq!(db.store.unprocessed_count().await.unwrap(), 0);
    // Nothing left: a further pass applies nothing.
    assert_eq!(engine.catch_up().await.unwrap(), 0);
}

/// The same message applied by two appliers at the same moment: the loser's
/// transaction is rolled back, and it answers with the winner's reply.
async fn the_second_applier_rolls_back_and_answers_like_a_retry(db: TestDb) {
    let engine = setup(&db).await;
    let m = msg("m1", "李四", "@张三 明天前完成 需求文档");
    db.store.append_message(&m).await.unwrap();
    let (a, b) = tokio::join!(engine.handle(m.clone()), engine.catch_up());
    let a = a.unwrap();
    let b = b.unwrap();
    assert_eq!(u64::from(!a.duplicate) + b, 1, "applied once: handle {a:?}, catch-up {b}");
    assert_one_task(&engine, "需求文档").await;
    // Whoever won, the platform's retry gets the reply that was queued.
    let again = engine.handle(m).await.unwrap();
    assert!(again.duplicate);
    assert!(again.reply.unwrap().contains("需求文档"));
}

/// A repeat of a logged-but-unapplied message is applied, not just answered
/// from the log — unless another instance holds its claim, in which case it
/// is left to that instance (or to the catch-up once the claim runs out).
async fn a_retry_of_an_unapplied_message_applies_it(db: TestDb) {
    let engine = setup(&db).await;
    let m = msg("m1", "李四", "@张三 明天前完成 接口文档");
    // Another instance logged it and is (still) working on it.
    let held = db.store.append_claimed(&m, 60).await.unwrap();
    assert!(held.fresh && held.claimed);
    let retry = engine.handle(m.clone()).await.unwrap();
    assert!(retry.duplicate && retry.reply.is_none());
    assert!(task_titles(&engine).await.is_empty());
    // That instance failed and gave its claim back: the next retry applies it.
    db.store.release_claim(held.id).await.unwrap();
    let retry = engine.handle(m.clone()).await.unwrap();
    assert!(!retry.duplicate, "{retry:?}");
    assert_eq!(retry.created.len(), 1);
    assert_one_task(&engine, "接口文档").await;
    assert_eq!(db.store.unprocessed_count().await.unwrap(), 0);
    let third = engine.handle(m).await.unwrap();
    assert!(third.duplicate && third.reply.is_some());
    assert_eq!(task_titles(&engine).await.len(), 1);
}

/// The catch-up leaves alone what a live instance holds, and takes it up
/// once that instance's lease has run out (it died).
async fn a_dead_instances_claim_expires(db: TestDb) {
    let engine = setup(&db).await.with_claim_lease(std::time::Duration::from_secs(1));
    let held = db.store.append_claimed(&msg("m1", "李四", "@张三 明天前完成 测试报告"), 1).await.unwrap();
    assert_eq!(engine.catch_up().await.unwrap(), 0, "a live claim is respected");
    assert_eq!(db.store.unprocessed_count().await.unwrap(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(engine.catch_up().await.unwrap(), 1);
    assert_one_task(&engine, "测试报告").await;
    assert!(db.store.message(held.id).await.unwrap().is_some());
}

/// Many first messages of one new member (and one new chat) at once: every
/// one is applied, and the member and the chat are registered once.
async fn first_contact_races_register_once(db: TestDb) {
    let engine = setup(&db).await;
    let mut sends = Vec::new();
    for i in 0..16 {
        let e = engine.clone();
        sends.push(tokio::spawn(async move {
            let mut m = msg(&format!("n{i}"), "新同事", &format!("@张三 明天前完成 材料{i}"));
            if i % 2 == 1 {
                m.chat_id = "wr-new".into();
            }
            e.handle(m).await
        }));
    }
    for s in sends {
        let h = s.await.unwrap().expect("a first message failed");
        assert!(!h.duplicate);
    }
    assert_eq!(db.store.unprocessed_count().await.unwrap(), 0);
    let members = db.store.members().await.unwrap();
    assert_eq!(members.iter().filter(|m| m.display_name == "新同事").count(), 1);
    let groups = db.store.groups().await.unwrap();
    assert_eq!(groups.iter().filter(|g| g.chat_id == "wr-new").count(), 1);
    // The bound group's eight messages made eight tasks.
    assert_eq!(task_titles(&engine).await.len(), 8);
}

/// Two transactions applying the same logged message at the same moment
/// (what an expired lease can lead to): the one that comes second finds the
/// message processed and rolls its whole change back.
async fn marking_processed_is_conditional(db: TestDb) {
    let _engine = setup(&db).await;
    let store = &db.store;
    let (id, _) = store.append_message(&msg("m1", "李四", "昨天：联调\n今天：上线")).await.unwrap();
    let group = store.group_by_chat("wecom", "wr-master").await.unwrap().unwrap();
    let actor = store.ensure_member("wecom", "uid-李四", "李四").await.unwrap();
    let now = jiff::Timestamp::from_second(1_768_356_000).unwrap();
    let ctx = MessageContext { message_id: Some(id), source: "chat".into(), group: Some(group), actor, now, emit_outbox: true };
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let decision = || Decision {
        commands: vec![Command::RecordStandup { yesterday: vec!["联调".into()], today: vec!["上线".into()], blockers: vec![] }],
        ..Default::default()
    };
    let (a, b) = tokio::join!(store.apply(&ctx, decision(), &tz, Locale::Zh), store.apply(&ctx, decision(), &tz, Locale::Zh));
    let lost = [&a, &b].iter().filter(|r| matches!(r, Err(StoreError::AlreadyProcessed { message_id }) if *message_id == id)).count();
    assert!(a.is_ok() != b.is_ok() && lost == 1, "{a:?} / {b:?}");
    let again = store.apply(&ctx, decision(), &tz, Locale::Zh).await;
    assert!(matches!(again, Err(StoreError::AlreadyProcessed { .. })), "{again:?}");
    let standups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM standups WHERE message_id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
    assert_eq!(standups, 1, "applied more than once");
}

/// A replay resets the log to "unapplied": a server's catch-up running at
/// the same time leaves those messages to the replay (it would announce
/// them again), and the replay applies each once.
async fn a_replay_is_not_raced_by_the_catch_up(db: TestDb) {
    let engine = setup(&db).await;
    for i in 0..5 {
        engine.handle(msg(&format!("m{i}"), "李四", &format!("@张三 明天前完成 报告X{i}"))).await.unwrap();
    }
    let replies_before = db.store.outbox(None, 100).await.unwrap().len();
    db.store.reset_derived_state().await.unwrap();
    assert_eq!(engine.catch_up().await.unwrap(), 0);
    let report = engine.replay(|_, _| {}).await.unwrap();
    assert_eq!((report.messages, report.tasks_created), (5, 5));
    assert_eq!(task_titles(&engine).await.len(), 5);
    assert_eq!(db.store.unprocessed_count().await.unwrap(), 0);
    assert_eq!(db.store.outbox(None, 100).await.unwrap().len(), replies_before, "a replay notifies no one");
}

/// NUL cannot be stored in a PostgreSQL text: it is removed from the text
/// and the names on the way into the log; the rest is kept and applied.
async fn nul_characters_are_removed_before_logging(db: TestDb) {
    let engine = setup(&db).await;
    let mut m = msg("nul\u{0}1", "王\u{0}五", "@张三 明天前完成 周\u{0}报");
    m.chat_name = Some("群\u{0}".into());
    m.raw = "{\"text\":\"\u{0}\"}".into();
    let h = engine.handle(m.clone()).await.unwrap();
    assert_eq!(h.created.len(), 1, "{h:?}");
    let logged = db.store.message(h.message_id).await.unwrap().unwrap();
    assert_eq!((logged.text.as_str(), logged.sender_name.as_str(), logged.platform_msg_id.as_str()), ("@张三 明天前完成 周报", "王五", "nul1"));
    assert_one_task(&engine, "周报").await;
    assert!(db.store.members().await.unwrap().iter().any(|m| m.display_name == "王五"));
    // The platform's retry (with the NUL) is the same message.
    assert!(engine.handle(m).await.unwrap().duplicate);
}

on_both_backends! {
    concurrent_catch_ups_apply_each_message_once => super::concurrent_catch_ups_apply_each_message_once;
    the_second_applier_rolls_back_and_answers_like_a_retry => super::the_second_applier_rolls_back_and_answers_like_a_retry;
    a_retry_of_an_unapplied_message_applies_it => super::a_retry_of_an_unapplied_message_applies_it;
    a_dead_instances_claim_expires => super::a_dead_instances_claim_expires;
    first_contact_races_register_once => super::first_contact_races_register_once;
    nul_characters_are_removed_before_logging => super::nul_characters_are_removed_before_logging;
    marking_processed_is_conditional => super::marking_processed_is_conditional;
    a_replay_is_not_raced_by_the_catch_up => super::a_replay_is_not_raced_by_the_catch_up;
}
