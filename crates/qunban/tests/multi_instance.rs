//! Several real `qunban serve` processes on one database, under a burst of
//! signed generic-webhook messages, while one of them is restarted or killed
//! with SIGKILL: every acknowledged message is logged once and applied once
//! (one task each, no duplicates, nothing left unapplied), and every task
//! event queued in the outbox reaches the subscriber with its idempotency
//! key. On SQLite (two processes on one file) and on PostgreSQL (skipped
//! without `QUNBAN_TEST_POSTGRES_URL`, unless `QUNBAN_REQUIRE_POSTGRES=1`).

mod listening;
#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use qunban_connect::webhook::{sign_outbound, verify_inbound, WebhookSecret};
use qunban_core::{GroupKind, Locale};
use qunban_store::{ConnectorConfig, ConnectorKind, Store};
use sqlx::Row;
use support::TestDb;

const SECRET: &str = "multi-instance-secret";
const CONNECTOR: &str = "bridge";
const CHAT: &str = "room-1";
/// Distinct senders, none known before the burst: their first messages
/// arrive concurrently on both instances.
const SENDERS: usize = 24;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

/// A running `qunban serve`.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `qunban serve` on `db` and waits until it listens. Short catch-up
/// interval and leases, so that what a killed instance left is taken up
/// within the test's time.
fn start(db: &str, dir: &Path, n: usize) -> Instance {
    let started = Instant::now();
    let stderr = File::options().create(true).append(true).open(dir.join(format!("server{n}.stderr"))).unwrap();
    // The instances must read connector secrets with the key this test's
    // store sealed them with: on PostgreSQL that is the key file in the
    // test's working directory (on SQLite, the one next to the database).
    let key_file = std::env::current_dir().unwrap().join("qunban-data").join("secret.key");
    let mut child = Command::new(env!("CARGO_BIN_EXE_qunban"));
    if db.starts_with("postgres") {
        child.arg("--secret-key-file").arg(&key_file);
    }
    let mut child = child
        .args(["--database-url", db, "serve", "--listen", "127.0.0.1:0"])
        .args(["--catch-up-interval", "1", "--claim-lease", "2", "--outbox-lease", "2"])
        .env_remove("QUNBAN_DATABASE_URL")
        .env_remove("QUNBAN_LISTEN")
        .env_remove("QUNBAN_HOLIDAYS_DIR")
        .env_remove("QUNBAN_CATCH_UP_INTERVAL")
        .env_remove("QUNBAN_CLAIM_LEASE")
        .env_remove("QUNBAN_OUTBOX_LEASE")
        .env_remove("QUNBAN_SECRET_KEY_FILE")
        .env("QUNBAN_LOG", "warn")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("cannot start qunban");
    let stdout = child.stdout.take().unwrap();
    let rx = listening::listening_address(stdout);
    let addr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a.parse().unwrap(),
        Err(_) => {
            let _ = child.kill();
            panic!("instance {n} did not listen; stderr:\n{}", read_lossy(&dir.join(format!("server{n}.stderr"))));
        }
    };
    // Listening must not wait for a catch-up of the backlog.
    assert!(started.elapsed() < Duration::from_secs(10), "instance {n} took {:?} to listen", started.elapsed());
    Instance { child, addr }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// What the subscriber's endpoint received: event ids (header and body).
#[derive(Default)]
struct Sink {
    events: Mutex<HashMap<String, usize>>,
    bad: AtomicUsize,
}

/// A loopback HTTP endpoint standing for the connector's subscriber; checks
/// each request's signature and records its event id.
async fn sink() -> (String, Arc<Sink>) {
    let seen = Arc::new(Sink::default());
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let signed = verify_inbound(&WebhookSecret::new(SECRET), &h("x-qunban-timestamp"), &h("x-qunban-signature"), &body, jiff::Timestamp::now().as_second());
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = h("x-qunban-event-id");
                if signed.is_err() || (v.get("id").is_some() && v["id"] != id.as_str()) {
                    s.bad.fetch_add(1, Ordering::SeqCst);
                }
                if !id.is_empty() {
                    *s.events.lock().unwrap().entry(id).or_default() += 1;
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// A bound project group, a subscriber connector and a known owner.
async fn prepare(store: &Store, sink_url: &str) {
    store.init_workspace("测试", "Asia/Shanghai", Locale::Zh).await.unwrap();
    let p = store.create_project("官网改版", None).await.unwrap();
    store.add_group("webhook", CHAT, "官网改版总控群", GroupKind::Master, Some(p.id), None).await.unwrap();
    store.add_member("张三", None, &[], &[]).await.unwrap();
    let config = ConnectorConfig { secret: Some(SECRET.into()), url: Some(sink_url.into()), ..Default::default() };
    store.add_connector(CONNECTOR, ConnectorKind::Webhook, &config).await.unwrap();
}

/// The signed request for message `i`: a task 报告X{i} for 张三, from one of
/// the new senders.
fn message(i: usize) -> (Vec<u8>, [(&'static str, String); 2]) {
    let k = i % SENDERS;
    let body = serde_json::json!({
        "group": CHAT,
        "sender": {"id": format!("u{k}"), "name": format!("成员{k}")},
        "text": format!("@张三 明天前完成 报告X{i}"),
        "message_id": format!("m{i}"),
    });
    let body = serde_json::to_vec(&body).unwrap();
    let headers = sign_outbound(&WebhookSecret::new(SECRET), jiff::Timestamp::now().as_second(), &body);
    (body, headers)
}

/// Sends messages `0..n` over the instances in `slots` (round robin, the
/// way a load balancer would), retrying a failed or refused request on
/// another instance like a platform does. Returns the acknowledged ones.
async fn burst(n: usize, slots: Arc<RwLock<Vec<Option<SocketAddr>>>>, deadline: Instant) -> HashSet<usize> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, next, acked, slots) = (client.clone(), next.clone(), acked.clone(), slots.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                for attempt in 0.. {
                    if Instant::now() > deadline {
                        break;
                    }
                    let addr = {
                        let live: Vec<SocketAddr> = slots.read().unwrap().iter().flatten().copied().collect();
                        live.get((i + attempt) % live.len().max(1)).copied()
                    };
                    let Some(addr) = addr else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let (body, headers) = message(i);
                    let mut req = client.post(format!("http://{addr}/hooks/generic/{CONNECTOR}")).header("content-type", "application/json").body(body);
                    for (k, v) in headers {
                        req = req.header(k, v);
                    }
                    match req.send().await {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().insert(i);
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

/// How the test disturbs the instances during the burst.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chaos {
    /// Restart the second instance again and again (a rolling upgrade done
    /// badly: SIGKILL, start).
    Restarts,
    /// SIGKILL the first instance once, mid-burst, then start it again.
    CrashOnce,
}

/// One scenario at a time: each runs two servers, and the machine is small.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run(db: TestDb, n: usize, chaos: Chaos) {
    let _one_at_a_time = SERIAL.lock().await;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sink_url, sink) = sink().await;
    prepare(&db.store, &sink_url).await;

    let url = db.url.clone();
    let d = dir.path().to_path_buf();
    let instances: Vec<Instance> = tokio::task::spawn_blocking(move || vec![start(&url, &d, 0), start(&url, &d, 1)]).await.unwrap();
    let slots = Arc::new(RwLock::new(instances.iter().map(|i| Some(i.addr)).collect::<Vec<_>>()));
    let instances = Arc::new(Mutex::new(instances.into_iter().map(Some).collect::<Vec<_>>()));

    let done = Arc::new(AtomicBool::new(false));
    let sent = db.store.clone();
    let chaos_task = {
        let (slots, instances, done, url, d) = (slots.clone(), instances.clone(), done.clone(), db.url.clone(), dir.path().to_path_buf());
        tokio::spawn(async move {
            let victim = if chaos == Chaos::Restarts { 1 } else { 0 };
            let mut kills = 0;
            loop {
                // Strike while messages are flowing: after a share of the burst
                // is logged.
                let logged = sent.message_count().await.unwrap_or(0) as usize;
                let due = match chaos {
                    Chaos::Restarts => logged >= (kills + 1) * n / 5,
                    Chaos::CrashOnce => kills == 0 && logged >= n / 3,
                };
                if done.load(Ordering::SeqCst) || (chaos == Chaos::CrashOnce && kills == 1) {
                    return kills;
                }
                if !due {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                slots.write().unwrap()[victim] = None;
                let old = instances.lock().unwrap()[victim].take();
                drop(old); // SIGKILL and reap
                kills += 1;
                let (url, d) = (url.clone(), d.clone());
                let fresh = tokio::task::spawn_blocking(move || start(&url, &d, victim)).await.unwrap();
                slots.write().unwrap()[victim] = Some(fresh.addr);
                instances.lock().unwrap()[victim] = Some(fresh);
            }
        })
    };

    let acked = burst(n, slots.clone(), t0 + Duration::from_secs(40)).await;
    done.store(true, Ordering::SeqCst);
    let kills = chaos_task.await.unwrap();
    assert!(kills >= 1, "the burst ended before any instance was killed");
    if chaos == Chaos::Restarts {
        assert!(kills >= 3, "only {kills} restarts during the burst");
    }
    assert_eq!(acked.len(), n, "some messages were never acknowledged by any instance");

    // The instances (and their catch-up loops) keep running until the
    // leases of whatever a killed instance held have run out.
    let store = &db.store;
    let settle = Instant::now() + Duration::from_secs(15);
    loop {
        let unapplied = store.unprocessed_count().await.unwrap();
        let undelivered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'webhook_event' AND status <> 'sent'").fetch_one(store.pool()).await.unwrap();
        if unapplied == 0 && undelivered == 0 {
            break;
        }
        assert!(Instant::now() < settle, "after the burst: {unapplied} messages unapplied, {undelivered} events undelivered; stderr:\n{}", stderr_of(dir.path()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every acknowledged message is in the log, once.
    let logged: Vec<(i64, String)> = sqlx::query_as("SELECT id, platform_msg_id FROM messages WHERE platform = 'webhook'").fetch_all(store.pool()).await.unwrap();
    let ids: HashSet<&str> = logged.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(ids.len(), logged.len(), "a message id logged twice");
    for i in &acked {
        assert!(ids.contains(format!("{CONNECTOR}:m{i}").as_str()), "acknowledged message m{i} is not in the log");
    }
    // Applied exactly once: one task per logged message, no title twice.
    let rows = sqlx::query("SELECT created_by_message_id, title FROM tasks").fetch_all(store.pool()).await.unwrap();
    let mut per_message: HashMap<i64, usize> = HashMap::new();
    let mut titles: HashMap<String, usize> = HashMap::new();
    for r in &rows {
        *per_message.entry(r.get::<Option<i64>, _>(0).expect("a task without its message")).or_default() += 1;
        *titles.entry(r.get::<String, _>(1)).or_default() += 1;
    }
    let twice: Vec<_> = titles.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "{} tasks created more than once, e.g. {:?}", twice.len(), twice.iter().take(5).collect::<Vec<_>>());
    assert!(per_message.values().all(|c| *c == 1), "a message created several tasks");
    let missing: Vec<&String> = logged.iter().filter(|(id, _)| !per_message.contains_key(id)).map(|(_, m)| m).take(5).collect();
    assert!(missing.is_empty(), "logged messages without their task, e.g. {missing:?}");
    assert_eq!(rows.len(), n, "{} tasks for {n} messages", rows.len());
    // Each message's own task: 报告X{i} for every i.
    let numbers: HashSet<usize> = titles.keys().filter_map(|t| t.split("报告X").nth(1)?.parse().ok()).collect();
    assert_eq!(numbers, (0..n).collect::<HashSet<_>>());
    // The new senders were each registered once, whoever saw them first.
    let senders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE display_name LIKE '成员%'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(senders, SENDERS as i64);

    // Every queued task event reached the subscriber, with its key.
    let keys: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM outbox WHERE kind = 'webhook_event'").fetch_all(store.pool()).await.unwrap();
    assert_eq!(keys.len(), n, "one task.created event per task");
    let events = sink.events.lock().unwrap();
    let lost: Vec<&String> = keys.iter().filter(|k| !events.contains_key(*k)).take(5).collect();
    assert!(lost.is_empty(), "events marked sent but never received, e.g. {lost:?}");
    assert_eq!(sink.bad.load(Ordering::SeqCst), 0, "badly signed or mislabelled deliveries");
    let extra: Vec<&String> = events.keys().filter(|k| k.starts_with("evt:") && !keys.contains(k)).take(5).collect();
    assert!(extra.is_empty(), "events received that were never queued: {extra:?}");
    drop(events);

    drop(instances);
    eprintln!("{n} messages, {kills} kills, {} redelivered events, in {:?}", sink.events.lock().unwrap().values().filter(|c| **c > 1).count(), t0.elapsed());
}

fn stderr_of(dir: &Path) -> String {
    (0..2).map(|n| read_lossy(&PathBuf::from(dir).join(format!("server{n}.stderr")))).collect::<Vec<_>>().join("\n---\n")
}

const BURST: usize = 400;

async fn rolling_restarts(db: TestDb) {
    run(db, BURST, Chaos::Restarts).await;
}

async fn kill_9_mid_burst(db: TestDb) {
    run(db, BURST, Chaos::CrashOnce).await;
}

on_both_backends! {
    two_instances_restarted_during_a_burst_apply_each_message_once => super::rolling_restarts;
    an_instance_killed_mid_burst_loses_nothing_and_repeats_nothing => super::kill_9_mid_burst;
}
