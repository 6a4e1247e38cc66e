//! Connector secrets at rest (sealed, rotated, wrong key refused, old plain
//! rows sealed on open, private files) and the retention policy, on SQLite
//! and PostgreSQL.

mod support;

use qunban_core::{GroupKind, Locale};
use qunban_store::secrets::generate_key;
use qunban_store::{ConnectorConfig, ConnectorKind, InboundMessage, KeyConfig, PairUse, RetentionPolicy, RobotKind, Store, StoreError};
use sqlx::Row;
use support::TestDb;

const APP_SECRET: &str = "dt-app-secret-MARKER-1234";
const ROBOT_SECRET: &str = "SECrobot-MARKER-5678";
const ROBOT_URL: &str = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN-MARKER-9";

fn key(k: &str, old: &[&str]) -> KeyConfig {
    KeyConfig { key: Some(k.into()), old_keys: old.iter().map(|s| s.to_string()).collect(), key_file: None }
}

async fn raw_secrets(s: &Store) -> String {
    let mut out = String::new();
    for r in sqlx::query("SELECT config FROM connectors").fetch_all(s.pool()).await.unwrap() {
        out.push_str(&r.try_get::<String, _>("config").unwrap());
    }
    for r in sqlx::query("SELECT webhook_url, secret FROM group_robots").fetch_all(s.pool()).await.unwrap() {
        out.push_str(&r.try_get::<String, _>("webhook_url").unwrap());
        out.push_str(&r.try_get::<Option<String>, _>("secret").unwrap().unwrap_or_default());
    }
    out
}

async fn add_secrets(s: &Store) -> i64 {
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    s.add_connector("ding", ConnectorKind::Dingtalk, &ConnectorConfig { app_secret: Some(APP_SECRET.into()), ..Default::default() }).await.unwrap();
    let g = s.add_group("dingtalk", "cid1", "群", GroupKind::Unbound, None, None).await.unwrap();
    s.set_group_robot(g.id, RobotKind::Dingtalk, ROBOT_URL, Some(ROBOT_SECRET)).await.unwrap();
    g.id
}

async fn check_secrets_sealed_rotated_and_refused(db: TestDb) {
    let (a, b) = (generate_key(), generate_key());
    let s = Store::open_with(&db.url, &key(&a, &[])).await.unwrap();
    let group = add_secrets(&s).await;
    let raw = raw_secrets(&s).await;
    assert!(!raw.contains("MARKER") && raw.contains("qbenc:v1:"), "secrets stored in plain text: {raw}");
    assert_eq!(s.connector_by_name("ding").await.unwrap().unwrap().config.app_secret.as_deref(), Some(APP_SECRET));
    s.close().await;

    // Another key: a clear error naming the missing key id, never garbage.
    let wrong = Store::open_with(&db.url, &key(&b, &[])).await.unwrap();
    let err = wrong.connector_by_name("ding").await.unwrap_err();
    assert!(matches!(err, StoreError::SecretKey(_)) && err.to_string().contains("not configured"), "{err}");
    assert!(matches!(wrong.group_robot(group).await, Err(StoreError::SecretKey(_))));
    wrong.close().await;

    // Rotation: new key current, old key accepted for reading; afterwards
    // the new key alone opens everything and the old one nothing.
    let both = Store::open_with(&db.url, &key(&b, &[&a])).await.unwrap();
    assert_eq!(both.rotate_secrets().await.unwrap(), 2, "one connector and one robot row re-encrypted");
    assert_eq!(both.rotate_secrets().await.unwrap(), 0, "nothing left under the old key");
    both.close().await;
    let new_only = Store::open_with(&db.url, &key(&b, &[])).await.unwrap();
    assert_eq!(new_only.connector_by_name("ding").await.unwrap().unwrap().config.app_secret.as_deref(), Some(APP_SECRET));
    let robot = new_only.group_robot(group).await.unwrap().unwrap();
    assert_eq!((robot.webhook_url.as_str(), robot.secret.as_deref()), (ROBOT_URL, Some(ROBOT_SECRET)));
    assert!(!raw_secrets(&new_only).await.contains("MARKER"));
    new_only.close().await;
    let old_only = Store::open_with(&db.url, &key(&a, &[])).await.unwrap();
    assert!(matches!(old_only.connectors().await, Err(StoreError::SecretKey(_))));
    old_only.close().await;
}

/// Rows written in plain text by an older version are sealed when the
/// store opens, and read back unchanged.
async fn check_plaintext_rows_are_sealed_on_open(db: TestDb) {
    let k = generate_key();
    let s = Store::open_with(&db.url, &key(&k, &[])).await.unwrap();
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let g = s.add_group("dingtalk", "cid1", "群", GroupKind::Unbound, None, None).await.unwrap();
    let legacy = format!(r#"{{"app_secret":"{APP_SECRET}"}}"#);
    sqlx::query("INSERT INTO connectors (name, kind, config, created_at) VALUES ('old', 'dingtalk', $1, 1)").bind(&legacy).execute(s.pool()).await.unwrap();
    sqlx::query("INSERT INTO group_robots (group_id, kind, webhook_url, secret, updated_at) VALUES ($1, 'dingtalk', $2, $3, 1)")
        .bind(g.id)
        .bind(ROBOT_URL)
        .bind(ROBOT_SECRET)
        .execute(s.pool())
        .await
        .unwrap();
    // Plain rows are still readable before the migration runs.
    assert_eq!(s.connector_by_name("old").await.unwrap().unwrap().config.app_secret.as_deref(), Some(APP_SECRET));
    s.close().await;

    let s = Store::open_with(&db.url, &key(&k, &[])).await.unwrap();
    assert!(!raw_secrets(&s).await.contains("MARKER"), "plain secrets left after open");
    assert_eq!(s.connector_by_name("old").await.unwrap().unwrap().config.app_secret.as_deref(), Some(APP_SECRET));
    let robot = s.group_robot(g.id).await.unwrap().unwrap();
    assert_eq!((robot.webhook_url.as_str(), robot.secret.as_deref()), (ROBOT_URL, Some(ROBOT_SECRET)));
    s.close().await;
}

async fn check_retention(db: TestDb) {
    let s = &db.store;
    s.init_workspace("t", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let now = jiff::Timestamp::now().as_second();
    let day = 86_400;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.enqueue(&format!("k{i}"), None, "test", &serde_json::json!({ "text": i })).await.unwrap().unwrap());
    }
    let set = |id: i64, status: &'static str, sent_at: Option<i64>, created: i64| {
        let pool = s.pool().clone();
        async move {
            sqlx::query("UPDATE outbox SET status = $1, sent_at = $2, created_at = $3 WHERE id = $4")
                .bind(status)
                .bind(sent_at)
                .bind(created)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    set(ids[0], "sent", Some(now - 40 * day), now - 40 * day).await; // old, delivered: pruned
    set(ids[1], "sent", Some(now - 2 * day), now - 2 * day).await; // recent, delivered: kept
    set(ids[2], "pending", None, now - 90 * day).await; // old, undelivered: kept
    set(ids[3], "dead", None, now - 90 * day).await; // old dead letter: kept
    // ids[4]: fresh and pending.
    let (msg, _) = s
        .append_message(&InboundMessage {
            platform: "dingtalk".into(),
            platform_msg_id: "m-old".into(),
            chat_id: "cid".into(),
            chat_name: None,
            sender_id: "u".into(),
            sender_name: "U".into(),
            text: "老消息".into(),
            sent_at: now - 400 * day,
            raw: "{}".into(),
        })
        .await
        .unwrap();
    let member = s.add_member("张三", None, &[], &[]).await.unwrap();
    let expired = s.create_session(member.id, 3600).await.unwrap();
    let live = s.create_session(member.id, 3600).await.unwrap();
    sqlx::query("UPDATE web_sessions SET expires_at = $1 WHERE expires_at > $2 AND id_sha256 = (SELECT MIN(id_sha256) FROM web_sessions)")
        .bind(now - 10 * day)
        .bind(now)
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(s.claim_callback_pair(1, "1", "stale", "m1\ncid", now - 10).await.unwrap(), PairUse::Fresh);
    assert_eq!(s.claim_callback_pair(1, "2", "live", "m2\ncid", now + 3600).await.unwrap(), PairUse::Fresh);

    // Two instances racing for the same period: exactly one runs.
    let policy = RetentionPolicy::default();
    let (r1, r2) = tokio::join!(s.run_retention(&policy, now, Some("retention:test")), s.run_retention(&policy, now, Some("retention:test")));
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert!(r1.ran ^ r2.ran, "exactly one run per period: {r1:?} {r2:?}");
    let r = if r1.ran { r1 } else { r2 };
    assert_eq!((r.outbox_deleted, r.sessions_deleted, r.replay_cache_deleted), (1, 1, 1), "{r:?}");
    assert!(!s.run_retention(&policy, now, Some("retention:test")).await.unwrap().ran);

    let left: Vec<i64> = s.outbox(None, 100).await.unwrap().into_iter().map(|o| o.id).collect();
    assert!(!left.contains(&ids[0]), "old delivered row kept");
    for id in &ids[1..] {
        assert!(left.contains(id), "row {id} pruned: {left:?}");
    }
    assert!(s.message(msg).await.unwrap().is_some(), "the message log is never pruned");
    assert_eq!(s.message_count().await.unwrap(), 1);
    let sessions = [s.session_member(&expired).await.unwrap(), s.session_member(&live).await.unwrap()];
    assert_eq!(sessions.iter().filter(|m| m.is_some()).count(), 1, "one live session kept");
    // The live replay-cache row is still there: the pair stays spent.
    assert_eq!(s.claim_callback_pair(1, "2", "live", "other\ncid", now + 3600).await.unwrap(), PairUse::Reused);
    assert_eq!(s.claim_callback_pair(1, "2", "live", "m2\ncid", now + 3600).await.unwrap(), PairUse::SameMessage);

    // Running again (a manual run) deletes nothing more: idempotent.
    let again = s.run_retention(&policy, now, None).await.unwrap();
    assert_eq!((again.outbox_deleted, again.sessions_deleted, again.replay_cache_deleted), (0, 0, 0));
    // "forever" keeps delivered rows.
    let keep = RetentionPolicy { outbox_days: None, session_days: None };
    assert_eq!(s.run_retention(&keep, now + 100 * day, None).await.unwrap().outbox_deleted, 0);
}

on_both_backends! {
    secrets_sealed_rotated_and_refused => super::check_secrets_sealed_rotated_and_refused;
    plaintext_rows_are_sealed_on_open => super::check_plaintext_rows_are_sealed_on_open;
    retention_prunes_only_what_the_policy_says => super::check_retention;
}

/// The SQLite file, its WAL and the key file are private, and no secret is
/// anywhere in the database's bytes; the default key file is created next
/// to the database and rotated in place.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_private_and_hold_no_plain_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite:{}", data.join("qunban.db").display());
    let s = Store::open_with(&url, &KeyConfig::default()).await.unwrap();
    let group = add_secrets(&s).await;
    let mode = |name: &str| std::fs::metadata(data.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("qunban.db"), 0o600);
    assert_eq!(mode("qunban.db-wal"), 0o600);
    assert_eq!(mode("secret.key"), 0o600);
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let bytes = [std::fs::read(data.join("qunban.db")).unwrap(), std::fs::read(data.join("qunban.db-wal")).unwrap()].concat();
    for marker in ["MARKER", "TOKEN-MARKER"] {
        assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()), "{marker} in the database file");
    }
    let first_key = std::fs::read_to_string(data.join("secret.key")).unwrap();

    // Key-file rotation: a new key, every row re-encrypted, the file left
    // with the new key only; a fresh open reads everything.
    let keys = s.keyring();
    let old_id = keys.current_id().unwrap();
    let new_id = keys.prepend_new_key().unwrap();
    assert_ne!(old_id, new_id);
    assert_eq!(s.rotate_secrets().await.unwrap(), 2);
    keys.drop_old_keys_from_file().unwrap();
    s.close().await;
    let file = std::fs::read_to_string(data.join("secret.key")).unwrap();
    assert_eq!(file.lines().count(), 1);
    assert_ne!(file, first_key);
    assert_eq!(mode("secret.key"), 0o600);
    let s = Store::open_with(&url, &KeyConfig::default()).await.unwrap();
    assert_eq!(s.keyring().current_id().unwrap(), new_id);
    assert_eq!(s.group_robot(group).await.unwrap().unwrap().secret.as_deref(), Some(ROBOT_SECRET));
    s.close().await;
    // Someone else's key file: a clear error.
    std::fs::write(data.join("other.key"), generate_key()).unwrap();
    let other = Store::open_with(&url, &KeyConfig { key_file: Some(data.join("other.key")), ..Default::default() }).await.unwrap();
    let err = other.connectors().await.unwrap_err().to_string();
    assert!(err.contains(&new_id) && err.contains("not configured"), "{err}");
    other.close().await;
}

/// A world-readable database left by an older version is made private.
#[cfg(unix)]
#[tokio::test]
async fn an_existing_readable_database_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qunban.db");
    let url = format!("sqlite:{}", path.display());
    Store::open_with(&url, &key(&generate_key(), &[])).await.unwrap().close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open_with(&url, &key(&generate_key(), &[])).await.unwrap().close().await;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}
