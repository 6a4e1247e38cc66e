//! Hostile traffic against the real server loop (`http::serve_with`, the
//! one `qunban serve` runs) over loopback sockets: sign-in floods, password
//! guessing, per-address rate limits, half-open connections, slow bodies,
//! and internal errors that must not leak their cause.

#[path = "../../qunban-store/tests/support/mod.rs"]
mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qunban_lang::Calendar;
use qunban_server::limits::HttpLimits;
use qunban_server::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The hashing slots are per process: the tests of this file take turns, so
/// that the flood of one does not turn away another's sign-ins.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Server {
    addr: SocketAddr,
    db: support::TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// No per-address limits unless a test sets them.
fn open_limits() -> HttpLimits {
    HttpLimits {
        sign_in_per_minute: 0,
        callbacks_per_second: 0,
        ..HttpLimits::default()
    }
}

async fn start(limits: HttpLimits) -> Server {
    let db = support::sqlite().await;
    let engine = Engine::new(db.store.clone(), Arc::new(Calendar::builtin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(qunban_server::http::serve_with(
        engine,
        listener,
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        db,
        stop: Some(stop),
        done,
    }
}

/// An account `login` with `password` (the first one, an admin).
async fn account(s: &Server, login: &str, password: &str) {
    let hash = qunban_server::web::auth::hash_password(password.to_string())
        .await
        .unwrap();
    s.db.store
        .create_first_account("王强", login, &hash)
        .await
        .unwrap();
}

/// A client whose connections leave from `ip` (any 127.0.0.0/8 address is
/// loopback on Linux): a second "machine" for per-address rules.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn sign_in(
    c: &reqwest::Client,
    s: &Server,
    login: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    let r = c
        .post(s.url("/api/v1/session"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

/// Hundreds of concurrent sign-ins cannot queue hundreds of Argon2 hashes:
/// the excess is answered 503 at once with Retry-After, the server keeps
/// answering, and a real sign-in works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_is_turned_away_fast() {
    let _turn = SERIAL.lock().await;
    let s = start(open_limits()).await;
    account(&s, "admin", "correct horse").await;
    let client = reqwest::Client::new();
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (c, url) = (client.clone(), s.url("/api/v1/session"));
        flood.spawn(async move {
            let t = Instant::now();
            let r = c
                .post(url)
                .json(&json!({ "login": format!("nobody{i}"), "password": "guess-guess" }))
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.headers().contains_key("retry-after"),
                t.elapsed(),
            )
        });
    }
    // The server still answers other requests during the flood.
    let t = Instant::now();
    let health = client
        .get(s.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "healthz took {:?} during the flood",
        t.elapsed()
    );
    let mut busy = Vec::new();
    let mut denied = 0;
    while let Some(r) = flood.join_next().await {
        let (status, retry_after, took) = r.unwrap();
        match status {
            503 => {
                assert!(retry_after, "503 without Retry-After");
                busy.push(took);
            }
            401 => denied += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy.len() >= 100,
        "only {} of 200 turned away ({denied} hashed)",
        busy.len()
    );
    assert!(denied >= 2, "some attempts were still checked");
    busy.sort();
    // Queued behind ~200 hashes they would take many seconds.
    assert!(
        busy[busy.len() / 2] < Duration::from_secs(2),
        "turned away slowly: median {:?}",
        busy[busy.len() / 2]
    );
    let (status, v, _) = sign_in(&client, &s, "admin", "correct horse").await;
    assert_eq!(status, 200, "{v}");
}

/// Sign-in and callback routes are rate-limited per client address; another
/// address has its own allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_and_callbacks_are_rate_limited_per_address() {
    let _turn = SERIAL.lock().await;
    let limits = HttpLimits {
        sign_in_per_minute: 6,
        sign_in_burst: 3,
        callbacks_per_second: 5,
        callback_burst: 5,
        ..HttpLimits::default()
    };
    let s = start(limits).await;
    let here = client_from("127.0.0.1");
    for _ in 0..3 {
        assert_eq!(sign_in(&here, &s, "nobody", "guess-guess").await.0, 401);
    }
    let (status, v, retry) = sign_in(&here, &s, "nobody", "guess-guess").await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "{v}"
    );
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
    // Another machine is not affected.
    let there = client_from("127.0.0.2");
    assert_eq!(sign_in(&there, &s, "nobody", "guess-guess").await.0, 401);
    // Other API routes are not limited.
    for _ in 0..10 {
        assert_eq!(
            here.get(s.url("/api/v1/setup"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }

    // Callbacks: the burst passes (unknown connector: 404), then 429.
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(
                here.post(s.url("/hooks/generic/nope"))
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16(),
            );
        }
        v
    };
    assert_eq!(statuses, [404, 404, 404, 404, 404, 429]);
    assert_eq!(
        there
            .post(s.url("/wecom/nope/callback"))
            .body("x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The bucket refills at the configured rate.
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        here.post(s.url("/feishu/nope/events"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Someone guessing a known login from one address locks that login for
/// that address only: its owner, elsewhere, still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_cannot_lock_the_owner_out() {
    let _turn = SERIAL.lock().await;
    let s = start(open_limits()).await;
    account(&s, "admin", "correct horse").await;
    let attacker = client_from("127.0.0.2");
    for _ in 0..5 {
        assert_eq!(sign_in(&attacker, &s, "admin", "guess-guess").await.0, 401);
    }
    let (status, v, retry) = sign_in(&attacker, &s, "ADMIN", "guess-guess").await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (429, Some("too_many_attempts")),
        "{v}"
    );
    assert!(retry.is_some());
    // Even the right password is refused from the guesser's address…
    assert_eq!(
        sign_in(&attacker, &s, "admin", "correct horse").await.0,
        429
    );
    // …while the owner, from their own machine, is let in — repeatedly,
    // while the guessing goes on.
    let owner = client_from("127.0.0.1");
    for _ in 0..2 {
        assert_eq!(sign_in(&attacker, &s, "admin", "guess-guess").await.0, 429);
        let (status, v, _) = sign_in(&owner, &s, "admin", "correct horse").await;
        assert_eq!(status, 200, "{v}");
    }
}

/// Connections that never finish their request head are closed after the
/// header timeout; with the connection cap reached, further clients wait and
/// are served once slots free up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_closed_and_the_cap_holds() {
    let _turn = SERIAL.lock().await;
    let limits = HttpLimits {
        header_read_timeout: Duration::from_millis(500),
        max_connections: 50,
        ..open_limits()
    };
    let s = start(limits).await;
    let t0 = Instant::now();
    let mut socks = Vec::new();
    for _ in 0..300 {
        let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        sock.write_all(b"GET /healthz HTTP/1.1\r\nHost: x")
            .await
            .unwrap();
        socks.push(sock);
    }
    // A real client behind 300 half-open connections is still served, once
    // the ones ahead of it have timed out (they hold all 50 slots).
    let health = reqwest::Client::new()
        .get(s.url("/healthz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let mut closed = 0;
    for mut sock in socks {
        let mut buf = [0u8; 512];
        // Closed: EOF, a reset, or hyper's 408 answer and then EOF.
        let r = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        if r.is_ok() {
            closed += 1;
        }
    }
    let took = t0.elapsed();
    assert_eq!(closed, 300, "half-open connections left open");
    // 300 connections through 50 slots of 0.5 s each take several rounds.
    assert!(
        took >= Duration::from_millis(2000),
        "the cap did not hold: all closed in {took:?}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    // And afterwards the server answers at once.
    let t = Instant::now();
    assert_eq!(reqwest::get(s.url("/healthz")).await.unwrap().status(), 200);
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// A request whose body never arrives is answered 503 after the request
/// timeout instead of holding its connection forever; shutdown then ends
/// the server loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_and_shutdown_is_graceful() {
    let _turn = SERIAL.lock().await;
    let limits = HttpLimits {
        request_timeout: Duration::from_secs(1),
        ..open_limits()
    };
    let mut s = start(limits).await;
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"login\"").await.unwrap();
    let t = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

    s.stop.take().unwrap().send(()).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), &mut s.done)
        .await
        .expect("serve_with returns after shutdown");
    r.unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(s.addr).await.is_err(),
        "no longer listening"
    );
}

/// A failure inside the server answers 500 with an error id, never the SQL
/// or driver text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_carry_an_id_not_the_cause() {
    let _turn = SERIAL.lock().await;
    let s = start(open_limits()).await;
    let token =
        s.db.store
            .init_workspace("qunban", "Asia/Shanghai", Default::default())
            .await
            .unwrap()
            .unwrap();
    // Break the database under the running server.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&s.db.url).await.unwrap();
        sqlx::query("ALTER TABLE outbox RENAME TO outbox_gone")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let r = reqwest::Client::new()
        .get(s.url("/api/v1/outbox"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["code"], "internal");
    let id = v["error"]["id"].as_str().unwrap();
    assert!(
        id.len() >= 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(v["error"]["message"].as_str().unwrap().contains(id));
    for leak in ["outbox", "table", "SELECT", "sqlite", "database error"] {
        assert!(
            !text.to_lowercase().contains(&leak.to_lowercase()),
            "the answer leaks '{leak}': {text}"
        );
    }
}

/// Behind a reverse proxy (`trust_forwarded_for`), the client address is the
/// last `X-Forwarded-For` entry, the one the proxy appended; what a client
/// puts before it does not change its bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_the_forwarded_address_counts() {
    let _turn = SERIAL.lock().await;
    let limits = HttpLimits {
        sign_in_per_minute: 1,
        sign_in_burst: 1,
        trust_forwarded_for: true,
        ..open_limits()
    };
    let s = start(limits).await;
    let c = reqwest::Client::new();
    let attempt = |xff: &'static str| {
        let (c, url) = (c.clone(), s.url("/api/v1/session"));
        async move {
            let r = c
                .post(url)
                .header("x-forwarded-for", xff)
                .json(&json!({ "login": "x", "password": "guess-guess" }))
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(attempt("203.0.113.9").await, 401);
    assert_eq!(attempt("203.0.113.9").await, 429);
    assert_eq!(
        attempt("198.51.100.20, 203.0.113.9").await,
        429,
        "a spoofed first entry changes nothing"
    );
    assert_eq!(
        attempt("203.0.113.10").await,
        401,
        "another client behind the proxy"
    );
}
