//! Test databases: a fresh SQLite file, or a fresh PostgreSQL database on the
//! server named by `QUNBAN_TEST_POSTGRES_URL` (an admin URL). Without that
//! variable the PostgreSQL tests report themselves skipped — unless
//! `QUNBAN_REQUIRE_POSTGRES=1` (set by CI), where a missing server fails.
#![allow(dead_code)]

use qunban_store::Store;

pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("qunban.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    TestDb { store, url, _dir: Some(dir) }
}

/// A brand-new PostgreSQL database, or `None` (after printing why) when no
/// server is configured.
pub async fn postgres() -> Option<TestDb> {
    let admin = match std::env::var("QUNBAN_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if std::env::var("QUNBAN_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("QUNBAN_REQUIRE_POSTGRES=1 but QUNBAN_TEST_POSTGRES_URL is not set");
            }
            eprintln!("SKIPPED: PostgreSQL test (set QUNBAN_TEST_POSTGRES_URL to run it)");
            return None;
        }
    };
    let name = format!("qunban_test_{}", uuid_like());
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the PostgreSQL admin URL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    }
    let url = match admin.rfind('/') {
        Some(i) if i > admin.find("://").map(|s| s + 2).unwrap_or(0) => format!("{}/{name}", &admin[..i]),
        _ => format!("{admin}/{name}"),
    };
    let store = Store::open(&url).await.expect("open postgres");
    Some(TestDb { store, url, _dir: None })
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{:x}", std::process::id(), nanos)
}

/// Defines `<name>_sqlite` and `<name>_postgres` tests from one async body
/// taking a `TestDb`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $body:path;)+) => {
        mod sqlite_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::support::sqlite().await;
                    $body(db).await;
                }
            )+
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::support::postgres().await else { return };
                    $body(db).await;
                }
            )+
        }
    };
}
