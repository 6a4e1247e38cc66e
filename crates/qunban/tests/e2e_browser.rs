//! The web dashboard in a real browser: starts `qunban serve` on an empty
//! SQLite database and runs `e2e/dashboard.mjs` (Node + playwright-core +
//! the system Chromium) against it. Screenshots go to
//! `<workspace>/target/e2e-screenshots`.
//!
//! Skipped (with a note on stderr) when Chromium, Node or
//! `e2e/node_modules/playwright-core` is missing, unless
//! `QUNBAN_REQUIRE_BROWSER=1`, which turns the skip into a failure.
//! Set it up with `cd e2e && npm ci`.

mod listening;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const E2E_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../e2e");
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// The whole browser run, generous for a loaded CI machine.
const NODE_TIMEOUT: Duration = Duration::from_secs(600);

/// Kills the child process when dropped, so a failing assertion does not
/// leave a server (or a browser) behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium_path() -> PathBuf {
    std::env::var_os("QUNBAN_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn node_available() -> bool {
    Command::new("node").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// What is missing for the browser test, if anything.
fn missing_prerequisite(e2e: &Path) -> Option<String> {
    let chromium = chromium_path();
    if !chromium.exists() {
        return Some(format!("no Chromium at {} (set QUNBAN_CHROMIUM)", chromium.display()));
    }
    if !node_available() {
        return Some("node is not on PATH".into());
    }
    if !e2e.join("node_modules/playwright-core").is_dir() {
        return Some(format!("{}/node_modules/playwright-core is missing (run `npm ci` there)", e2e.display()));
    }
    None
}

/// Starts `qunban serve` on a fresh database and returns it with its address.
fn start_server(dir: &Path) -> (KillOnDrop, SocketAddr) {
    let db = format!("sqlite:{}", dir.join("q.db").display());
    let stderr = File::create(dir.join("server.stderr")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qunban"))
        .args(["--database-url", &db, "serve", "--listen", "127.0.0.1:0"])
        .env_remove("QUNBAN_DATABASE_URL")
        .env_remove("QUNBAN_LISTEN")
        .env_remove("QUNBAN_HOLIDAYS_DIR")
        .env_remove("QUNBAN_PUBLIC_URL")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("cannot start qunban");
    let stdout = child.stdout.take().unwrap();
    let server = KillOnDrop(child);

    let rx = listening::listening_address(stdout);
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(a) => a.parse::<SocketAddr>().expect("unparsable listen address"),
        Err(_) => {
            drop(server);
            panic!("qunban serve did not report its address; stderr:\n{}", read_lossy(&dir.join("server.stderr")));
        }
    };
    wait_healthy(addr, dir);
    (server, addr)
}

fn wait_healthy(addr: SocketAddr, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = http_status(addr, "/healthz") {
            if status == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "/healthz never answered 200; stderr:\n{}", read_lossy(&dir.join("server.stderr")));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A bare HTTP/1.1 GET; the status code, if the server answered.
fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 64];
    let n = s.read(&mut head).ok()?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

#[test]
fn dashboard_in_a_real_browser() {
    let e2e = Path::new(E2E_DIR).canonicalize().expect("the e2e folder");
    if let Some(missing) = missing_prerequisite(&e2e) {
        if std::env::var("QUNBAN_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("QUNBAN_REQUIRE_BROWSER=1 but {missing}");
        }
        eprintln!("SKIPPED dashboard_in_a_real_browser: {missing}");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start_server(dir.path());
    let screenshots = Path::new(WORKSPACE).join("target/e2e-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let out_path = dir.path().join("node.out");
    let out = File::create(&out_path).unwrap();
    let child = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(&e2e)
        .env("QUNBAN_BASE_URL", format!("http://{addr}"))
        .env("QUNBAN_SCREENSHOTS", &screenshots)
        .env("QUNBAN_CHROMIUM", chromium_path())
        // Lets the script add a connector with the CLI, as an operator would.
        .env("QUNBAN_E2E_CLI", env!("CARGO_BIN_EXE_qunban"))
        .env("QUNBAN_E2E_DATABASE_URL", format!("sqlite:{}", dir.path().join("q.db").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("cannot run node");
    let mut node = KillOnDrop(child);

    let deadline = Instant::now() + NODE_TIMEOUT;
    let status = loop {
        if let Some(status) = node.0.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(node);
    drop(server);

    let output = read_lossy(&out_path);
    println!("{output}");
    let Some(status) = status else {
        panic!("e2e/dashboard.mjs did not finish within {NODE_TIMEOUT:?}; output:\n{output}");
    };
    assert!(
        status.success(),
        "e2e/dashboard.mjs failed ({status}); output:\n{output}\nserver stderr:\n{}",
        read_lossy(&dir.path().join("server.stderr"))
    );
}
