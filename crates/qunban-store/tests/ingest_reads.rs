//! The ingest path's combined reads return exactly what the separate reads
//! they replaced return, on both backends.

mod support;

use qunban_core::GroupKind;
use qunban_store::{InboundMessage, Store};

async fn check(store: &Store) {
    // The logged row handed back by the insert is the stored row.
    let m = InboundMessage {
        platform: "wecom".into(),
        platform_msg_id: "m1".into(),
        chat_id: "c1".into(),
        chat_name: Some("群\0一".into()),
        sender_id: "u1".into(),
        sender_name: "张三".into(),
        text: "#1 完成了".into(),
        sent_at: 1_767_225_600,
        raw: "{}".into(),
    };
    let (a, logged) = store.append_claimed_logged(&m, 30).await.unwrap();
    assert!(a.fresh && a.claimed);
    assert_eq!(logged, store.message(a.id).await.unwrap());
    let (again, none) = store.append_claimed_logged(&m, 30).await.unwrap();
    assert_eq!((again.id, again.fresh, none), (a.id, false, None));

    // A known member read by identity is the member read by id.
    let added = store
        .add_member("李四", Some("13800000000"), &["小李".into(), "Li".into()], &[("wecom".into(), "u2".into()), ("feishu".into(), "ou_2".into())])
        .await
        .unwrap();
    let by_identity = store.ensure_member("wecom", "u2", "whatever").await.unwrap();
    assert_eq!(by_identity, store.member(added.id).await.unwrap());
    assert_eq!(by_identity.identities, vec![("feishu".to_string(), "ou_2".to_string()), ("wecom".to_string(), "u2".to_string())]);
    assert_eq!(by_identity.aliases.len(), 2);

    // The group with its locale setting and its project's name.
    let p = store.create_project("Apollo", None).await.unwrap();
    let g = store.add_group("wecom", "c2", "项目群", GroupKind::Master, Some(p.id), None).await.unwrap();
    let gc = store.ensure_group_context("wecom", "c2", None).await.unwrap();
    assert_eq!((gc.group.id, gc.locale.as_deref(), gc.project_name.as_deref()), (g.id, None, Some("Apollo")));
    sqlx::query("INSERT INTO group_settings (group_id, key, value, updated_at) VALUES ($1, 'locale', 'en', 0)")
        .bind(g.id)
        .execute(store.pool())
        .await
        .unwrap();
    let gc = store.ensure_group_context("wecom", "c2", None).await.unwrap();
    assert_eq!(gc.locale.as_deref(), Some("en"));
    // An unknown chat becomes an unbound group without a project.
    let new = store.ensure_group_context("wecom", "c3", Some("新群")).await.unwrap();
    assert_eq!((new.group.kind, new.group.name.as_str(), new.project_name), (GroupKind::Unbound, "新群", None));
}

#[tokio::test]
async fn combined_reads_sqlite() {
    check(&support::sqlite().await.store).await;
}

#[tokio::test]
async fn combined_reads_postgres() {
    if let Some(db) = support::postgres().await {
        check(&db.store).await;
    }
}
