//! Shared by the connector, outbox and import tests: the real app on a
//! random port with its own database, and the Python interop harness in
//! `../shared/interop` (skipped with a notice when no interpreter is set).
#![allow(dead_code)]

#[path = "../../../qunban-store/tests/support/mod.rs"]
pub mod db;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use qunban_core::{GroupKind, Locale};
use qunban_lang::Calendar;
use qunban_server::Engine;
use qunban_store::{ConnectorConfig, ConnectorKind, Store};
use tokio::io::{AsyncBufReadExt, BufReader};

pub const INTEROP_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/interop");

pub struct App {
    pub base: String,
    pub engine: Engine,
    pub store: Store,
    pub client: reqwest::Client,
    pub db: db::TestDb,
}

/// A fresh SQLite database with a workspace and the project 官网改版, and
/// the app serving on 127.0.0.1:0.
pub async fn spawn() -> App {
    let db = db::sqlite().await;
    let store = db.store.clone();
    store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    store.create_project("官网改版", None).await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app_engine = engine.clone();
    tokio::spawn(async move { axum::serve(listener, qunban_server::http::router(app_engine)).await });
    App { base, engine, store, client: reqwest::Client::new(), db }
}

impl App {
    pub async fn connector(&self, name: &str, kind: ConnectorKind, config: ConnectorConfig) {
        self.store.add_connector(name, kind, &config).await.unwrap();
    }

    /// Registers `platform:chat_id` as the master group of 官网改版.
    pub async fn bind(&self, platform: &str, chat_id: &str) -> i64 {
        let p = self.store.project_by_name("官网改版").await.unwrap();
        self.store.add_group(platform, chat_id, &format!("{platform}-{chat_id}"), GroupKind::Master, Some(p.id), None).await.unwrap().id
    }

    pub async fn messages(&self) -> i64 {
        self.store.message_count().await.unwrap()
    }

    pub async fn tasks(&self) -> Vec<qunban_store::TaskView> {
        self.store.tasks(&Default::default()).await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The interop Python, or `None` after printing why the test is skipped.
/// With `QUNBAN_REQUIRE_INTEROP=1` (CI) a missing interpreter fails instead.
pub fn python() -> Option<PathBuf> {
    match std::env::var("QUNBAN_INTEROP_PYTHON") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            if std::env::var("QUNBAN_REQUIRE_INTEROP").as_deref() == Ok("1") {
                panic!("QUNBAN_REQUIRE_INTEROP=1 but QUNBAN_INTEROP_PYTHON is not set");
            }
            eprintln!("SKIPPED: interop test (set QUNBAN_INTEROP_PYTHON to a Python with wechatpy, lark-oapi, dingtalkchatbot)");
            None
        }
    }
}

/// Runs one harness script to completion; returns (success, stdout+stderr).
pub async fn run_script(py: &PathBuf, script: &str, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(py)
        .arg(format!("{INTEROP_DIR}/{script}"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run interop script");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A loopback sink (`wecom_sink.py` / `dingtalk_sink.py serve`) on a free
/// port, recording to a JSONL file; killed when dropped.
pub struct Sink {
    pub port: u16,
    pub out: PathBuf,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Sink {
    pub async fn start(py: &PathBuf, script: &str, args: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sink.jsonl");
        let mut child = tokio::process::Command::new(py)
            .arg(format!("{INTEROP_DIR}/{script}"))
            .arg("serve")
            .args(["--port", "0", "--quiet", "--out"])
            .arg(&out)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start sink");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await.expect("sink start").unwrap().unwrap();
        // "... listening on http://127.0.0.1:PORT/..."
        let port = line.split("127.0.0.1:").nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no port in {line:?}"));
        Sink { port, out, _child: child, _dir: dir }
    }

    pub fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

/// Polls `cond` for up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if cond().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    cond().await
}
