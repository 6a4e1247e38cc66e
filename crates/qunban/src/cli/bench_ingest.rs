//! `qunban bench ingest`: a load generator for the callback path.
//!
//! It runs the real server — `qunban serve` child processes on 127.0.0.1
//! with an ephemeral port — on a fresh database (a temporary SQLite file, or
//! a new database on the PostgreSQL server named by `--database-url`),
//! creates a generic webhook, a WeCom app and a Feishu connector, and sends
//! correctly signed (and, for WeCom and Feishu, encrypted) callbacks over
//! loopback: a mix of task assignments, progress updates and chatter, so the
//! interpreter does real work. It reports messages/s, latency percentiles,
//! errors and the servers' memory, next to the raw insert rate of the same
//! database measured in the same run, and checks that every acknowledged
//! message was logged and applied.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use qunban_connect::wecom::WecomCrypto;
use qunban_connect::{feishu, webhook};
use qunban_core::{GroupKind, Locale, Role};
use qunban_store::{Backend, ConnectorConfig, ConnectorKind, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Messages to send in total.
    #[arg(long, default_value_t = 2_000)]
    messages: u64,
    /// Concurrent HTTP clients (requests in flight at most).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Target rate in messages/s, open loop: message i is due at i/rate
    /// whatever the latency, and its latency counts from then. Without it
    /// the clients send as fast as the server answers.
    #[arg(long)]
    rate: Option<f64>,
    /// `qunban serve` processes on the one database; the messages are
    /// spread over them in turn.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// The callbacks to send, spread in turn.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "generic,wecom,feishu")]
    platforms: Vec<Platform>,
    /// Single-row insert transactions for the raw ceiling (0: skip it).
    #[arg(long, default_value_t = 2_000)]
    raw_inserts: u64,
    /// Stop sending after this many seconds (what was sent is reported).
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// One JSON object on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Keep the database (SQLite: this file; PostgreSQL: the database is not
    /// dropped) and the servers' logs (FILE.server-N.log; with
    /// `QUNBAN_LOG=sqlx::query=trace` they list every SQL statement).
    #[arg(long)]
    keep: Option<PathBuf>,
    /// The qunban binary to run as the server (default: this one).
    #[arg(long, hide = true)]
    server_bin: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// The generic signed webhook (`/hooks/generic/{connector}`).
    Generic,
    /// A WeCom self-built app callback (encrypted XML).
    Wecom,
    /// Feishu event subscription (encrypted, signed).
    Feishu,
}

const WEBHOOK_SECRET: &str = "bench-webhook-secret";
const WECOM_TOKEN: &str = "benchtoken";
const WECOM_AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const WECOM_CORP: &str = "wwbench0001";
const WECOM_AGENT: &str = "1000002";
const FEISHU_KEY: &str = "bench-encrypt-key";
const FEISHU_TOKEN: &str = "bench-verification-token";
const FEISHU_BOT: &str = "ou_bench_bot";

/// The people of the bench project: (name, id on every platform).
const PEOPLE: [(&str, &str); 6] = [("张三", "zhangsan"), ("李四", "lisi"), ("王五", "wangwu"), ("赵六", "zhaoliu"), ("陈七", "chenqi"), ("刘八", "liuba")];
const GENERIC_ROOMS: [&str; 2] = ["bench-room-1", "bench-room-2"];
const FEISHU_CHAT: &str = "oc_bench_1";

#[derive(Debug, Serialize)]
struct Report {
    date: String,
    machine: Machine,
    backend: &'static str,
    instances: usize,
    clients: usize,
    rate_target: Option<f64>,
    platforms: Vec<Platform>,
    messages: u64,
    sent: u64,
    ok: u64,
    errors: u64,
    first_errors: Vec<String>,
    elapsed_s: f64,
    messages_per_s: f64,
    latency_ms: Latency,
    logged: i64,
    applied: i64,
    tasks: i64,
    servers: Vec<ServerMemory>,
    raw_insert: Option<RawInsert>,
    /// messages/s ÷ single-row insert transactions/s (one connection).
    ratio_to_raw_single: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    load_average_before: String,
    load_average_after: String,
}

#[derive(Debug, Default, Serialize)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

#[derive(Debug, Serialize)]
struct ServerMemory {
    pid: u32,
    /// Peak resident set (VmHWM), MiB.
    peak_rss_mib: f64,
    /// Resident set at the end of the run (VmRSS), MiB.
    rss_mib: f64,
}

#[derive(Debug, Serialize)]
struct RawInsert {
    rows: u64,
    /// One INSERT per transaction, one after the other on one connection.
    single_tx_per_s: f64,
    /// The same with `clients` tasks at once through the store's pool.
    single_tx_concurrent_per_s: f64,
    /// Rows/s in transactions of `batch` rows.
    batched_rows_per_s: f64,
    batch: u64,
}

/// One server process and where it listens.
struct Server {
    child: tokio::process::Child,
    base: String,
    pid: u32,
}

pub async fn run(a: IngestArgs, database_url: &str) -> Result<()> {
    if a.messages == 0 || a.clients == 0 || a.instances == 0 {
        bail!("--messages, --clients and --instances must be at least 1");
    }
    if a.platforms.is_empty() {
        bail!("--platforms names no platform");
    }
    if let Some(r) = a.rate {
        if !(r > 0.0 && r.is_finite()) {
            bail!("--rate must be a positive number of messages per second");
        }
    }
    let machine_before = load_average();
    let dir = tempfile::tempdir()?;
    let db = BenchDb::create(database_url, a.keep.as_deref(), dir.path()).await?;
    let store = Store::open(&db.url).await.context("cannot open the bench database")?;
    let run_id = jiff::Timestamp::now().as_millisecond();
    setup(&store).await?;
    let raw_insert = if a.raw_inserts > 0 {
        progress_line(&a, "measuring the raw insert rate…");
        Some(raw_insert(&store, a.raw_inserts, a.clients).await?)
    } else {
        None
    };
    let bin = match &a.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("cannot find the qunban binary")?,
    };
    let mut servers = Vec::new();
    for i in 0..a.instances {
        progress_line(&a, &format!("starting server {}/{}…", i + 1, a.instances));
        let log = match &a.keep {
            Some(k) => PathBuf::from(format!("{}.server-{i}.log", k.display())),
            None => dir.path().join(format!("server-{i}.log")),
        };
        servers.push(start_server(&bin, &db.url, &log).await?);
    }
    let result = load(&a, &servers, run_id).await;
    // The servers answer only once a message is applied; wait a little in
    // case a later version acknowledges before.
    let (mut logged, mut applied) = (0, 0);
    for _ in 0..50 {
        (logged, applied) = counts(&store).await?;
        if applied >= logged {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks").fetch_one(store.pool()).await?;
    let memory: Vec<ServerMemory> = servers.iter().map(|s| memory_of(s.pid)).collect();
    for s in &mut servers {
        let _ = s.child.start_kill();
        let _ = s.child.wait().await;
    }
    store.close().await;
    db.drop_unless_kept().await;
    let load = result?;
    let single = raw_insert.as_ref().map(|r| r.single_tx_per_s);
    let report = Report {
        date: jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC").to_string(),
        machine: Machine {
            cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            cpu_model: cpu_model(),
            load_average_before: machine_before,
            load_average_after: load_average(),
        },
        backend: if db.postgres { "postgres" } else { "sqlite" },
        instances: a.instances,
        clients: a.clients,
        rate_target: a.rate,
        platforms: a.platforms.clone(),
        messages: a.messages,
        sent: load.sent,
        ok: load.ok,
        errors: load.errors,
        first_errors: load.first_errors,
        elapsed_s: load.elapsed_s,
        messages_per_s: load.ok as f64 / load.elapsed_s.max(1e-9),
        latency_ms: load.latency,
        logged,
        applied,
        tasks,
        servers: memory,
        ratio_to_raw_single: single.map(|s| load.ok as f64 / load.elapsed_s.max(1e-9) / s),
        raw_insert,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    if report.errors > 0 || report.applied < report.ok as i64 {
        bail!("{} errors, {} of {} acknowledged messages applied", report.errors, report.applied, report.ok);
    }
    Ok(())
}

/// Where the bench writes: never the user's database.
struct BenchDb {
    url: String,
    postgres: bool,
    /// PostgreSQL: (admin URL, database name) to drop at the end.
    drop: Option<(String, String)>,
}

impl BenchDb {
    async fn create(database_url: &str, keep: Option<&Path>, tmp: &Path) -> Result<BenchDb> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            use sqlx::Connection;
            let name = format!("qunban_bench_{}_{}", std::process::id(), jiff::Timestamp::now().as_millisecond());
            let mut conn = sqlx::PgConnection::connect(database_url).await.map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {}", qunban_store::redact(&e.to_string())))?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.context("cannot create the bench database (the user needs CREATEDB)")?;
            conn.close().await.ok();
            let (base, query) = match database_url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (database_url, String::new()),
            };
            let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
            let url = match base[scheme_end..].find('/') {
                Some(i) => format!("{}/{name}{query}", &base[..scheme_end + i]),
                None => format!("{base}/{name}{query}"),
            };
            let drop = if keep.is_some() {
                eprintln!("keeping the PostgreSQL database {name}");
                None
            } else {
                Some((database_url.to_string(), name))
            };
            return Ok(BenchDb { url, postgres: true, drop });
        }
        let path = match keep {
            Some(p) => {
                if p.exists() {
                    bail!("{} exists: the bench needs a new database", p.display());
                }
                p.to_path_buf()
            }
            None => tmp.join("bench-ingest.db"),
        };
        Ok(BenchDb { url: format!("sqlite:{}", path.display()), postgres: false, drop: None })
    }

    async fn drop_unless_kept(&self) {
        use sqlx::Connection;
        let Some((admin, name)) = &self.drop else { return };
        if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await {
                eprintln!("warning: could not drop the bench database {name}: {e}");
            }
        }
    }
}

/// The workspace, one project per chat, the people with their platform ids
/// and roles, and the three connectors.
async fn setup(store: &Store) -> Result<()> {
    store.init_workspace("bench", "Asia/Shanghai", Locale::Zh).await?;
    let mut members = Vec::new();
    for (name, id) in PEOPLE {
        let ids: Vec<(String, String)> = ["webhook", "wecom", "feishu"].iter().map(|p| (p.to_string(), platform_id(p, id))).collect();
        members.push(store.add_member(name, None, &[], &ids).await?);
    }
    let chats = [
        ("webhook", GENERIC_ROOMS[0].to_string(), "官网改版"),
        ("webhook", GENERIC_ROOMS[1].to_string(), "数据平台"),
        ("wecom", format!("app:{WECOM_AGENT}"), "移动端"),
        ("feishu", FEISHU_CHAT.to_string(), "运营活动"),
    ];
    for (platform, chat, project) in chats {
        let p = store.create_project(project, None).await?;
        store.add_group(platform, &chat, &format!("{project}群"), GroupKind::Master, Some(p.id), None).await?;
        for (i, m) in members.iter().enumerate() {
            let role = match i {
                0 => Role::Pm,
                1 => Role::Lead,
                _ => Role::Executor,
            };
            store.set_role(p.id, m.id, role).await?;
        }
    }
    let hook = ConnectorConfig { secret: Some(WEBHOOK_SECRET.into()), ..Default::default() };
    store.add_connector("bench-hook", ConnectorKind::Webhook, &hook).await?;
    let wecom = ConnectorConfig {
        corp_id: Some(WECOM_CORP.into()),
        agent_id: Some(WECOM_AGENT.into()),
        token: Some(WECOM_TOKEN.into()),
        aes_key: Some(WECOM_AES_KEY.into()),
        ..Default::default()
    };
    store.add_connector("bench-wecom", ConnectorKind::Wecom, &wecom).await?;
    let fs = ConnectorConfig {
        encrypt_key: Some(FEISHU_KEY.into()),
        verification_token: Some(FEISHU_TOKEN.into()),
        bot_open_id: Some(FEISHU_BOT.into()),
        ..Default::default()
    };
    store.add_connector("bench-feishu", ConnectorKind::Feishu, &fs).await?;
    Ok(())
}

/// A person's id on a platform: Feishu open ids look like `ou_…`.
fn platform_id(platform: &str, id: &str) -> String {
    match platform {
        "feishu" => format!("ou_{id}"),
        _ => id.to_string(),
    }
}

/// The raw ceiling of this database through the same driver and pool
/// settings: single-row insert transactions, alone and concurrent, and
/// batches, into a scratch table dropped afterwards.
async fn raw_insert(store: &Store, rows: u64, clients: usize) -> Result<RawInsert> {
    let pool = store.pool().clone();
    let sqlite = store.backend() == Backend::Sqlite;
    sqlx::query("CREATE TABLE bench_raw (k BIGINT PRIMARY KEY, chat TEXT NOT NULL, body TEXT NOT NULL, at BIGINT NOT NULL)").execute(&pool).await?;
    let body = "@李四 周五前把登录页的接口联调做完，顺便更新一下测试用例".repeat(4);
    let begin = move |pool: sqlx::AnyPool| async move {
        if sqlite {
            pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            pool.begin().await
        }
    };
    let insert = "INSERT INTO bench_raw (k, chat, body, at) VALUES ($1, $2, $3, $4)";
    // One after the other.
    let t = Instant::now();
    for k in 0..rows {
        let mut tx = begin(pool.clone()).await?;
        sqlx::query(insert).bind(k as i64).bind("bench-room-1").bind(&body).bind(k as i64).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    let single = rows as f64 / t.elapsed().as_secs_f64();
    // `clients` at once.
    let next = Arc::new(AtomicU64::new(rows));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (pool, next, body) = (pool.clone(), next.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= 2 * rows {
                    return Ok::<_, sqlx::Error>(());
                }
                let mut tx = begin(pool.clone()).await?;
                sqlx::query(insert).bind(k as i64).bind("bench-room-1").bind(&body).bind(k as i64).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let concurrent = rows as f64 / t.elapsed().as_secs_f64();
    // Batches of 100 rows.
    let batch = 100;
    let t = Instant::now();
    let mut k = 2 * rows;
    while k < 3 * rows {
        let mut tx = begin(pool.clone()).await?;
        for _ in 0..batch.min(3 * rows - k) {
            sqlx::query(insert).bind(k as i64).bind("bench-room-1").bind(&body).bind(k as i64).execute(&mut *tx).await?;
            k += 1;
        }
        tx.commit().await?;
    }
    let batched = rows as f64 / t.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw").execute(&pool).await?;
    Ok(RawInsert { rows, single_tx_per_s: single, single_tx_concurrent_per_s: concurrent, batched_rows_per_s: batched, batch })
}

/// Starts `qunban serve` on 127.0.0.1 with an ephemeral port and waits for
/// its "listening" line. Its log goes to a file in the bench's folder.
async fn start_server(bin: &Path, url: &str, log_path: &Path) -> Result<Server> {
    let log = std::fs::File::create(log_path)?;
    let mut child = tokio::process::Command::new(bin)
        // All load comes from one loopback address: the per-address callback
        // limit would measure the limiter, not the pipeline.
        .args(["serve", "--listen", "127.0.0.1:0", "--callback-rate", "0"])
        // The URL may carry a password: in the environment, not argv.
        .env("QUNBAN_DATABASE_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let pid = child.id().unwrap_or(0);
    let stdout = child.stdout.take().context("no server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let wait = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return Ok::<_, std::io::Error>(Some(rest.trim().trim_end_matches('/').to_string()));
            }
        }
        Ok(None)
    };
    let base = match tokio::time::timeout(Duration::from_secs(120), wait).await {
        Ok(Ok(Some(base))) if base.starts_with("http://127.0.0.1:") => base,
        _ => {
            let _ = child.start_kill();
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
            bail!("the server did not start listening on 127.0.0.1:\n{}", tail.join("\n"));
        }
    };
    // Keep reading stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server { child, base, pid })
}

struct LoadResult {
    sent: u64,
    ok: u64,
    errors: u64,
    first_errors: Vec<String>,
    elapsed_s: f64,
    latency: Latency,
}

/// Sends the messages from `clients` tasks, in turn to each server.
async fn load(a: &IngestArgs, servers: &[Server], run_id: i64) -> Result<LoadResult> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).pool_max_idle_per_host(a.clients).build()?;
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.base.clone()).collect());
    let bar = progress_bar(a);
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_errors = Arc::new(Mutex::new(Vec::new()));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(a.messages as usize)));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.max_seconds);
    let wecom = Arc::new(WecomCrypto::new(WECOM_TOKEN, WECOM_AES_KEY, WECOM_CORP)?);
    let mut tasks = Vec::new();
    for _ in 0..a.clients {
        let (http, bases, bar, next, ok, errors, first_errors, latencies, wecom) =
            (http.clone(), bases.clone(), bar.clone(), next.clone(), ok.clone(), errors.clone(), first_errors.clone(), latencies.clone(), wecom.clone());
        let (total, rate, platforms) = (a.messages, a.rate, a.platforms.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    return;
                }
                // Open loop: message i is due at i / rate, late or not.
                let due = match rate {
                    Some(r) => {
                        let due = start + Duration::from_secs_f64(i as f64 / r);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let mut rng = StdRng::seed_from_u64(run_id as u64 ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let msg = chat_message(i, &mut rng);
                let platform = platforms[(i as usize) % platforms.len()];
                let base = &bases[(i as usize) % bases.len()];
                let req = build_request(&http, base, platform, &msg, run_id, i, &wecom);
                let outcome = match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        let status = res.status();
                        match res.bytes().await {
                            Ok(body) if platform != Platform::Generic || body.starts_with(br#"{"ok":true"#) => Ok(()),
                            Ok(body) => Err(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)]))),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Ok(res) => {
                        let status = res.status();
                        let body = res.text().await.unwrap_or_default();
                        Err(format!("{status}: {}", body.chars().take(200).collect::<String>()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                let ms = due.elapsed().as_secs_f64() * 1e3;
                match outcome {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        latencies.lock().unwrap().push(ms);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut f = first_errors.lock().unwrap();
                        if f.len() < 5 {
                            f.push(format!("{platform:?} message {i}: {e}"));
                        }
                    }
                }
                bar.inc(1);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    bar.finish();
    let mut l = std::mem::take(&mut *latencies.lock().unwrap());
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| if l.is_empty() { 0.0 } else { l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1] };
    let latency = Latency { p50: pct(0.50), p90: pct(0.90), p99: pct(0.99), max: pct(1.0), mean: if l.is_empty() { 0.0 } else { l.iter().sum::<f64>() / l.len() as f64 } };
    let (ok, errors) = (ok.load(Ordering::Relaxed), errors.load(Ordering::Relaxed));
    let first_errors = std::mem::take(&mut *first_errors.lock().unwrap());
    Ok(LoadResult { sent: ok + errors, ok, errors, first_errors, elapsed_s, latency })
}

/// One chat message: who says what where.
struct ChatMessage {
    sender: usize,
    text: String,
    /// Feishu: the people @-mentioned, as (placeholder, person index).
    mentions: Vec<(String, usize)>,
}

const THINGS: [&str; 10] = ["登录页", "需求文档", "接口联调", "测试用例", "发布方案", "周报", "首页改版", "数据迁移脚本", "支付回调", "埋点方案"];
const WHEN: [&str; 8] = ["明天", "周五", "下周一", "明天下午3点", "后天上午", "本周五下班前", "下周三", "月底"];
const CHATTER: [&str; 12] = [
    "收到",
    "好的，我看一下",
    "今天下午开会吗？",
    "辛苦了👍",
    "中午吃什么",
    "这个方案我觉得可以",
    "稍等，我在路上",
    "刚才的会议纪要发群里了",
    "测试环境又挂了？",
    "@李四 你那边怎么样了",
    "明天早上九点站会",
    "哈哈哈",
];

/// A realistic mix: assignments (40 %, mostly by the PM 张三 and the lead
/// 李四, sometimes by someone who may not assign and is told so), updates
/// of earlier tasks (25 %), chatter (35 %).
fn chat_message(i: u64, rng: &mut StdRng) -> ChatMessage {
    let mut sender = rng.random_range(0..PEOPLE.len());
    let roll = rng.random_range(0..100);
    if roll < 40 && rng.random_range(0..10) < 8 {
        sender = rng.random_range(0..2);
    }
    let owner = (sender + rng.random_range(1..PEOPLE.len())) % PEOPLE.len();
    let thing = THINGS[rng.random_range(0..THINGS.len())];
    let when = WHEN[rng.random_range(0..WHEN.len())];
    let (text, mentions) = if roll < 40 {
        let name = PEOPLE[owner].0;
        let text = match rng.random_range(0..3) {
            0 => format!("@{name} {when}前把{thing}做完"),
            1 => format!("{thing}交给@{name}，{when}之前给我"),
            _ => format!("@{name} 麻烦{when}出一版{thing}，有问题随时说"),
        };
        (text, vec![(format!("@{name}"), owner)])
    } else if roll < 65 {
        // References to tasks that probably exist by now: four chats, each
        // with its project, share the assignments.
        let n = rng.random_range(1..=((i / 12).max(1)));
        let text = match rng.random_range(0..4) {
            0 => format!("#{n} 进度{}%", rng.random_range(1..10) * 10),
            1 => format!("#{n} 完成了"),
            2 => format!("#{n} 延期到{when}"),
            _ => format!("{thing}搞定了"),
        };
        (text, Vec::new())
    } else {
        let text = CHATTER[rng.random_range(0..CHATTER.len())].to_string();
        let mentions = if text.starts_with("@李四") { vec![("@李四".to_string(), 1)] } else { Vec::new() };
        (text, mentions)
    };
    ChatMessage { sender, text, mentions }
}

fn build_request(http: &reqwest::Client, base: &str, platform: Platform, m: &ChatMessage, run_id: i64, i: u64, wecom: &WecomCrypto) -> reqwest::RequestBuilder {
    let now = jiff::Timestamp::now().as_second();
    let (name, id) = PEOPLE[m.sender];
    match platform {
        Platform::Generic => {
            let body = json!({
                "group": GENERIC_ROOMS[(i as usize / 3) % GENERIC_ROOMS.len()],
                "sender": {"id": id, "name": name},
                "text": m.text,
                "message_id": format!("{run_id}-{i}"),
            })
            .to_string();
            let [(h1, v1), (h2, v2)] = webhook::sign_outbound(&webhook::WebhookSecret::new(WEBHOOK_SECRET), now, body.as_bytes());
            http.post(format!("{base}/hooks/generic/bench-hook")).header("content-type", "application/json").header(h1, v1).header(h2, v2).body(body)
        }
        Platform::Wecom => {
            let xml = format!(
                "<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><FromUserName><![CDATA[{id}]]></FromUserName><CreateTime>{now}</CreateTime>\
                 <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content><MsgId>{}</MsgId><AgentID>{WECOM_AGENT}</AgentID></xml>",
                m.text,
                (run_id as u64).wrapping_mul(1_000_000).wrapping_add(i)
            );
            let encrypt = wecom.encrypt(xml.as_bytes());
            let nonce = qunban_connect::wecom::random_nonce();
            let sig = wecom.signature(&now.to_string(), &nonce, &encrypt);
            let body = format!("<xml><ToUserName><![CDATA[{WECOM_CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[{WECOM_AGENT}]]></AgentID></xml>");
            http.post(format!("{base}/wecom/bench-wecom/callback?msg_signature={sig}&timestamp={now}&nonce={nonce}")).body(body)
        }
        Platform::Feishu => {
            // Mentions travel as placeholders with the people's open ids.
            let mut text = m.text.clone();
            let mut mentions = Vec::new();
            for (k, (at, who)) in m.mentions.iter().enumerate() {
                let key = format!("@_user_{}", k + 1);
                text = text.replacen(at.as_str(), &key, 1);
                mentions.push(json!({"key": key, "id": {"open_id": platform_id("feishu", PEOPLE[*who].1)}, "name": PEOPLE[*who].0}));
            }
            let event = json!({
                "schema": "2.0",
                "header": {"event_id": format!("ev-{run_id}-{i}"), "event_type": "im.message.receive_v1", "create_time": (now * 1000).to_string(), "token": FEISHU_TOKEN, "app_id": "cli_bench"},
                "event": {
                    "sender": {"sender_id": {"open_id": platform_id("feishu", id)}, "sender_type": "user"},
                    "message": {"message_id": format!("om_{run_id}_{i}"), "chat_id": FEISHU_CHAT, "chat_type": "group", "message_type": "text",
                                "content": json!({"text": text}).to_string(), "mentions": mentions}
                }
            })
            .to_string();
            let iv: [u8; 16] = rand::random();
            let body = json!({ "encrypt": feishu::encrypt_with_iv(FEISHU_KEY, &event, iv) }).to_string();
            let nonce = format!("{:x}", rand::random::<u64>());
            let sig = feishu::signature(&now.to_string(), &nonce, FEISHU_KEY, body.as_bytes());
            http.post(format!("{base}/feishu/bench-feishu/events"))
                .header("content-type", "application/json")
                .header(feishu::HEADER_TIMESTAMP, now.to_string())
                .header(feishu::HEADER_NONCE, nonce)
                .header(feishu::HEADER_SIGNATURE, sig)
                .body(body)
        }
    }
}

/// (logged, applied) messages in the bench database.
async fn counts(store: &Store) -> Result<(i64, i64)> {
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(store.pool()).await?;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE processed_at IS NOT NULL").fetch_one(store.pool()).await?;
    Ok((logged, applied))
}

/// VmHWM and VmRSS of a process, from /proc (Linux); zeros elsewhere.
fn memory_of(pid: u32) -> ServerMemory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    ServerMemory { pid, peak_rss_mib: kib("VmHWM:") / 1024.0, rss_mib: kib("VmRSS:") / 1024.0 }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())))
        .unwrap_or_default()
}

/// A bar with rate and ETA on a terminal; plain lines every few seconds
/// otherwise (CI logs), nothing with `--json` off a terminal.
fn progress_bar(a: &IngestArgs) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(a.messages);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} ETA {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        return bar;
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_length(a.messages);
    if !a.json {
        let watch = bar.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            while !watch.is_finished() {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let done = watch.position();
                let secs = start.elapsed().as_secs_f64();
                eprintln!("sent {done}/{} in {secs:.0} s ({:.0} messages/s)", watch.length().unwrap_or(0), done as f64 / secs);
            }
        });
    }
    bar
}

fn progress_line(a: &IngestArgs, line: &str) {
    if !a.json || std::io::stderr().is_terminal() {
        eprintln!("{line}");
    }
}

fn print_table(r: &Report) {
    println!(
        "{} · {} instance(s) · {} clients · rate {} · platforms {:?} · {} ({} CPUs, load {} → {})",
        r.backend,
        r.instances,
        r.clients,
        r.rate_target.map_or("max".to_string(), |x| format!("{x}/s")),
        r.platforms,
        r.date,
        r.machine.cpus,
        r.machine.load_average_before,
        r.machine.load_average_after
    );
    println!("| measure | value |\n|---|---|");
    println!("| messages sent / ok / errors | {} / {} / {} |", r.sent, r.ok, r.errors);
    println!("| logged / applied in the database | {} / {} |", r.logged, r.applied);
    println!("| tasks created | {} |", r.tasks);
    println!("| elapsed | {:.2} s |", r.elapsed_s);
    println!("| **messages/s** | **{:.0}** |", r.messages_per_s);
    let l = &r.latency_ms;
    println!("| latency p50 / p90 / p99 / max (ms) | {:.1} / {:.1} / {:.1} / {:.1} |", l.p50, l.p90, l.p99, l.max);
    for s in &r.servers {
        println!("| server {} RSS peak / end | {:.1} / {:.1} MiB |", s.pid, s.peak_rss_mib, s.rss_mib);
    }
    if let Some(raw) = &r.raw_insert {
        println!("| raw: single-row insert transactions, 1 connection | {:.0}/s |", raw.single_tx_per_s);
        println!("| raw: single-row insert transactions, {} tasks | {:.0}/s |", r.clients, raw.single_tx_concurrent_per_s);
        println!("| raw: rows in transactions of {} | {:.0}/s |", raw.batch, raw.batched_rows_per_s);
    }
    if let Some(x) = r.ratio_to_raw_single {
        println!("| messages/s ÷ raw single-row transactions/s | {:.3} |", x);
    }
    for e in &r.first_errors {
        println!("error: {e}");
    }
}
