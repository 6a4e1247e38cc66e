//! `qunban secrets` and `qunban retention` as an operator runs them: the
//! default key file appears next to the database, rotation keeps every
//! connector working, a wrong key is a clear error, and retention reports
//! what it pruned.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qunban"));
    c.current_dir(dir)
        .env("QUNBAN_DATABASE_URL", format!("sqlite:{}", dir.join("data/qunban.db").display()))
        .env_remove("QUNBAN_SECRET_KEY")
        .env_remove("QUNBAN_SECRET_KEY_OLD")
        .env_remove("QUNBAN_SECRET_KEY_FILE")
        .env_remove("QUNBAN_RETENTION_OUTBOX_DAYS")
        .args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> String {
    let out = run(dir, envs, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn key_file_rotation_and_a_wrong_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(dir, &[], &["init"]);
    ok(dir, &[], &["connector", "add", "dingtalk", "--name", "ding", "--app-secret", "PLAIN-APP-SECRET-42"]);
    let key_file = dir.join("data/secret.key");
    let first = std::fs::read_to_string(&key_file).expect("the key file is created next to the database");
    let db = std::fs::read(dir.join("data/qunban.db")).unwrap();
    let wal = std::fs::read(dir.join("data/qunban.db-wal")).unwrap_or_default();
    assert!(![db, wal].concat().windows(19).any(|w| w == b"PLAIN-APP-SECRET-42"));

    let rotated: serde_json::Value = serde_json::from_str(&ok(dir, &[], &["secrets", "rotate", "--generate", "--json"])).unwrap();
    assert_eq!(rotated["rows_reencrypted"], 1, "{rotated}");
    assert_ne!(rotated["key_id"], rotated["previous_key_id"]);
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), first);
    assert!(ok(dir, &[], &["connector", "list"]).contains("ding"));

    // Another key: the command fails with a message naming the problem.
    let other = ok(dir, &[], &["secrets", "generate-key"]);
    let out = run(dir, &[("QUNBAN_SECRET_KEY", other.trim())], &["connector", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not configured") && err.contains(rotated["key_id"].as_str().unwrap()), "{err}");

    // Moving to an environment key: old key file key as QUNBAN_SECRET_KEY_OLD.
    let file_key = std::fs::read_to_string(&key_file).unwrap();
    let env = [("QUNBAN_SECRET_KEY", other.trim()), ("QUNBAN_SECRET_KEY_OLD", file_key.trim())];
    assert_eq!(serde_json::from_str::<serde_json::Value>(&ok(dir, &env, &["secrets", "rotate", "--json"])).unwrap()["rows_reencrypted"], 1);
    assert!(ok(dir, &[("QUNBAN_SECRET_KEY", other.trim())], &["connector", "list"]).contains("ding"));
}

#[test]
fn retention_run_reports_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(dir, &[], &["init"]);
    let v: serde_json::Value = serde_json::from_str(&ok(dir, &[], &["retention", "run", "--json"])).unwrap();
    assert_eq!(v["policy"]["outbox_days"], 30, "{v}");
    assert_eq!(v["deleted"]["outbox_deleted"], 0);
    let v: serde_json::Value = serde_json::from_str(&ok(dir, &[], &["retention", "run", "--outbox-days", "forever", "--json"])).unwrap();
    assert!(v["policy"]["outbox_days"].is_null(), "{v}");
    let out = run(dir, &[], &["retention", "run", "--outbox-days", "soon"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("forever"));
}
