//! The dashboard's storage on SQLite and PostgreSQL: accounts, sessions,
//! member tokens, search and a group's transcript.

mod support;

use qunban_core::{GroupKind, Locale, Role};
use qunban_store::{InboundMessage, StoreError};
use support::TestDb;

fn msg(id: &str, chat: &str, sender: &str, text: &str, at: i64) -> InboundMessage {
    InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: id.into(),
        chat_id: chat.into(),
        chat_name: None,
        sender_id: sender.into(),
        sender_name: sender.into(),
        text: text.into(),
        sent_at: at,
        raw: "{}".into(),
    }
}

async fn check_accounts_sessions_tokens(db: TestDb) {
    let s = &db.store;
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    assert_eq!(s.account_count().await.unwrap(), 0);
    let first = s.create_first_account("王强", "wangqiang", "$argon2id$hash").await.unwrap();
    assert!(first.is_admin);
    // Only once, even for another name.
    assert!(matches!(s.create_first_account("李娜", "lina", "$argon2id$x").await, Err(StoreError::Duplicate { .. })));
    let li = s.add_member("李娜", None, &[], &[]).await.unwrap();
    assert!(matches!(s.create_account(li.id, "wangqiang", "h", false).await, Err(StoreError::Duplicate { .. })));
    assert!(matches!(s.create_account(li.id, "bad login!", "h", false).await, Err(StoreError::Invalid(_))));
    s.create_account(li.id, "lina", "h1", false).await.unwrap();
    assert!(s.set_password_hash(li.id, "h2").await.unwrap());
    let a = s.account_by_login("lina").await.unwrap().unwrap();
    assert_eq!((a.member_id, a.password_hash.as_str(), a.is_admin), (li.id, "h2", false));
    assert!(!format!("{a:?}").contains("h2"), "hashes stay out of Debug");

    let sid = s.create_session(li.id, 3600).await.unwrap();
    assert_eq!(s.session_member(&sid).await.unwrap(), Some(li.id));
    assert_eq!(s.session_member("qs_forged").await.unwrap(), None);
    let expired = s.create_session(li.id, -10).await.unwrap();
    assert_eq!(s.session_member(&expired).await.unwrap(), None);
    s.delete_session(&sid).await.unwrap();
    assert_eq!(s.session_member(&sid).await.unwrap(), None);

    let (info, token) = s.create_member_token(li.id, "script").await.unwrap();
    assert_eq!(s.check_token(&token).await.unwrap(), Some((false, Some(li.id))));
    assert_eq!(s.member_tokens(li.id).await.unwrap(), vec![info.clone()]);
    assert!(!s.delete_member_token(first.member_id, info.id).await.unwrap(), "not someone else's token");
    assert!(s.delete_member_token(li.id, info.id).await.unwrap());
    assert_eq!(s.check_token(&token).await.unwrap(), None);

    let p = s.create_project("官网改版", None).await.unwrap();
    s.set_role(p.id, li.id, Role::Lead).await.unwrap();
    let roles = s.member_roles(li.id).await.unwrap();
    assert_eq!((roles[0].project.as_str(), roles[0].role), ("官网改版", Role::Lead));
    assert_eq!(s.project_roles(p.id).await.unwrap(), vec![(li.id, Role::Lead)]);
}

async fn check_search_and_transcript(db: TestDb) {
    let s = &db.store;
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    assert!(s.is_empty().await.unwrap());
    let p = s.create_project("官网改版", None).await.unwrap();
    let g = s.add_group("wecom", "wr1", "总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    s.append_message(&msg("m1", "wr1", "张三", "Login 页面 100% 完成", 1_700_000_000)).await.unwrap();
    s.append_message(&msg("m2", "wr1", "李四", "支付接口明天联调", 1_700_000_100)).await.unwrap();
    s.append_message(&msg("m3", "other", "李四", "支付在别的群", 1_700_000_200)).await.unwrap();
    assert!(!s.is_empty().await.unwrap());

    // Case-insensitive, and % is a character, not a wildcard.
    let hits = s.search("login", 10).await.unwrap();
    assert_eq!(hits.messages.len(), 1);
    assert_eq!(hits.messages[0].group, "总控群");
    assert_eq!(s.search("100%", 10).await.unwrap().messages.len(), 1);
    assert_eq!(s.search("%", 10).await.unwrap().messages.len(), 1);
    assert_eq!(s.search("支付", 10).await.unwrap().messages.len(), 2);

    let t = s.group_messages(g.id, 10).await.unwrap();
    assert_eq!(t.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Login 页面 100% 完成", "支付接口明天联调"]);
    assert_eq!(t[0].reply, None);
    assert_eq!(s.group_messages(g.id, 1).await.unwrap()[0].sender, "李四", "the latest, oldest first");
    let ids: Vec<i64> = t.iter().map(|m| m.id).collect();
    assert_eq!(s.chat_messages(&ids).await.unwrap().len(), 2);
}

/// Failed sign-ins are counted in the database, per login and source: a second instance on it
/// sees the lockout the first one's failures caused; the count restarts
/// after the window and is cleared by a successful sign-in.
async fn check_sign_in_failures_are_shared(db: TestDb) {
    let (a, b) = (&db.store, qunban_store::Store::open(&db.url).await.unwrap());
    let (max, window, t0) = (5, 900, 1_800_000_000);
    const IP: &str = "192.0.2.7";
    for i in 0..4 {
        a.record_sign_in_failure("Wangqiang ", IP, t0 + i, window).await.unwrap();
    }
    assert_eq!(b.sign_in_locked_for("wangqiang", IP, t0 + 10, max, window).await.unwrap(), None, "4 failures do not lock");
    b.record_sign_in_failure("wangqiang", IP, t0 + 10, window).await.unwrap();
    assert_eq!(a.sign_in_locked_for("WANGQIANG", IP, t0 + 20, max, window).await.unwrap(), Some(880), "locked until 15 min after the first failure");
    assert_eq!(a.sign_in_locked_for("lina", IP, t0 + 20, max, window).await.unwrap(), None, "other logins are not locked");
    assert_eq!(a.sign_in_locked_for("wangqiang", "198.51.100.1", t0 + 20, max, window).await.unwrap(), None, "nor the login from elsewhere");
    assert_eq!(b.sign_in_locked_for("wangqiang", IP, t0 + window, max, window).await.unwrap(), None, "the window has passed");
    // A failure after the window starts a new count.
    a.record_sign_in_failure("wangqiang", IP, t0 + window + 1, window).await.unwrap();
    for i in 0..3 {
        b.record_sign_in_failure("wangqiang", IP, t0 + window + 2 + i, window).await.unwrap();
    }
    assert_eq!(a.sign_in_locked_for("wangqiang", IP, t0 + window + 10, max, window).await.unwrap(), None, "4 failures in the new window");
    b.record_sign_in_failure("wangqiang", IP, t0 + window + 10, window).await.unwrap();
    assert!(a.sign_in_locked_for("wangqiang", IP, t0 + window + 11, max, window).await.unwrap().is_some());
    a.clear_sign_in_failures("wangqiang", IP).await.unwrap();
    assert_eq!(b.sign_in_locked_for("wangqiang", IP, t0 + window + 12, max, window).await.unwrap(), None, "cleared");
    b.close().await;
}

on_both_backends! {
    accounts_sessions_tokens => super::check_accounts_sessions_tokens;
    search_and_transcript => super::check_search_and_transcript;
    sign_in_failures_are_shared => super::check_sign_in_failures_are_shared;
}
