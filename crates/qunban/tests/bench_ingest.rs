//! `qunban bench ingest` keeps working: a tiny run against real `qunban
//! serve` processes sends every message with a valid signature, and every
//! acknowledged message is logged and applied exactly once.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str], database_url: Option<&str>) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qunban"));
    cmd.args(["bench", "ingest", "--json"]).args(args).env_remove("QUNBAN_DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("QUNBAN_DATABASE_URL", url);
    }
    let out = cmd.output().expect("run qunban bench ingest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "bench failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn check(r: &Value, messages: u64, instances: usize) {
    assert_eq!(r["messages"], messages);
    assert_eq!(r["sent"], messages, "{r}");
    assert_eq!(r["ok"], messages, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    // Every acknowledged message is in the log and was applied, once.
    assert_eq!(r["logged"], messages, "{r}");
    assert_eq!(r["applied"], messages, "{r}");
    // The mix has assignments: the interpreter created tasks.
    assert!(r["tasks"].as_i64().unwrap() > 0, "{r}");
    assert!(r["messages_per_s"].as_f64().unwrap() > 0.0);
    let l = &r["latency_ms"];
    assert!(l["p50"].as_f64().unwrap() > 0.0 && l["p50"].as_f64() <= l["p99"].as_f64() && l["p99"].as_f64() <= l["max"].as_f64(), "{l}");
    let servers = r["servers"].as_array().unwrap();
    assert_eq!(servers.len(), instances);
    if cfg!(target_os = "linux") {
        assert!(servers.iter().all(|s| s["peak_rss_mib"].as_f64().unwrap() > 1.0), "{servers:?}");
    }
    let raw = &r["raw_insert"];
    assert!(raw["single_tx_per_s"].as_f64().unwrap() > 0.0 && raw["batched_rows_per_s"].as_f64().unwrap() > 0.0, "{raw}");
}

#[test]
fn a_tiny_run_on_sqlite_applies_every_message() {
    let r = bench(&["--messages", "60", "--clients", "4", "--raw-inserts", "50", "--max-seconds", "50"], None);
    check(&r, 60, 1);
    assert_eq!(r["backend"], "sqlite");
    assert_eq!(r["platforms"], serde_json::json!(["generic", "wecom", "feishu"]));
}

#[test]
fn two_instances_on_postgres_apply_every_message() {
    let admin = match std::env::var("QUNBAN_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert_ne!(std::env::var("QUNBAN_REQUIRE_POSTGRES").as_deref(), Ok("1"), "QUNBAN_REQUIRE_POSTGRES=1 but QUNBAN_TEST_POSTGRES_URL is not set");
            eprintln!("SKIPPED: PostgreSQL bench test (set QUNBAN_TEST_POSTGRES_URL to run it)");
            return;
        }
    };
    let r = bench(&["--messages", "60", "--clients", "4", "--instances", "2", "--rate", "200", "--raw-inserts", "50", "--max-seconds", "50"], Some(&admin));
    check(&r, 60, 2);
    assert_eq!(r["backend"], "postgres");
}
