//! Persistence for qunban on SQLite (embedded default) or PostgreSQL.
//!
//! One [`Store`] type serves both backends through sqlx's `Any` driver: the
//! queries are written once in the dialect both understand (`$1` parameters,
//! `RETURNING`, `ON CONFLICT`), and only the migrations differ per backend.
//! Times are stored as unix seconds so no query depends on a backend's
//! date-time types.

mod admin;
mod apply;
pub use apply::IMPORT_PLATFORM;
mod connectors;
mod conversation;
mod directory;
mod error;
mod log;
mod outbox;
mod reports;
mod schedule;
mod tasks;
mod web;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use admin::Kudos;
pub use apply::{Applied, MessageContext};
pub use connectors::{redact_url, Connector, ConnectorConfig, ConnectorKind, GroupRobot, MentionTarget, ReplyRoute, RobotKind};
pub use directory::{Alias, Group, Member, Project, Workspace};
pub use error::StoreError;
pub use log::{InboundMessage, LoggedMessage};
pub use outbox::{OutboxItem, OutboxStatus};
pub use schedule::{DeadlineTask, DueMilestone, Firing, MentionOf, ScheduleRun, ScheduledGroup};
pub use reports::{bench_fill, StandupDays, BENCH_NOW, REPORT_HISTORY_FIELDS};
pub use tasks::{HistoryEntry, TaskCursor, TaskFilter, TaskPage, TaskView};
pub use web::{Account, ChatMessage, DecisionHit, ProjectRole, SearchHits, TokenInfo};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The default embedded database location, relative to the working directory.
pub const DEFAULT_SQLITE_PATH: &str = "qunban-data/qunban.db";

/// A handle on the qunban database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Idle read-only connections on the SQLite file for the report loader
    /// (`reports::window`), kept so that their memory map and page cache
    /// stay warm between reports.
    readers: reports::Readers,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password; never print it.
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema
    /// up to date. `sqlite:PATH` creates the file and its folder; `postgres://`
    /// connects to an existing database.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let (url, max) = match backend {
            Backend::Sqlite => (sqlite_url(url)?, 1),
            Backend::Postgres => (url.to_string(), 8),
        };
        let opts = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .log_statements(tracing::log::LevelFilter::Trace);
        let pool = AnyPoolOptions::new()
            // SQLite allows one writer; a single connection serialises writes
            // without busy errors, which suits an embedded team server.
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Unreachable(redact(&e.to_string())))?;
        let migrator = match backend {
            Backend::Sqlite => &MIGRATE_SQLITE,
            Backend::Postgres => &MIGRATE_POSTGRES,
        };
        migrator.run(&pool).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { pool, backend, readers: Default::default() })
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so that two processes never deadlock upgrading a
    /// read lock and the busy timeout applies instead of an instant error.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.readers.clear();
        self.pool.close().await;
    }
}

fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::BadUrl(format!(
            "unsupported database URL '{}': use sqlite:PATH or postgres://…",
            redact(url)
        )))
    }
}

/// `sqlite:PATH` → a URL that creates the file, after creating its folder.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, _query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok("sqlite::memory:".into());
    }
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unreachable(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(format!("sqlite://{path}?mode=rwc"))
}

/// Hides the password in a database URL or an error that quotes one.
pub fn redact(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &s[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &s[..scheme + 3], &s[at..]),
                None => s.to_string(),
            }
        }
        _ => s.to_string(),
    }
}

pub(crate) fn now_secs() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://qb:secret@127.0.0.1/db"), "postgres://qb:***@127.0.0.1/db");
        assert_eq!(redact("sqlite:x.db"), "sqlite:x.db");
    }
}
