//! Persistence for qunban on SQLite (embedded default) or PostgreSQL.
//!
//! One [`Store`] type serves both backends through sqlx's `Any` driver: the
//! queries are written once in the dialect both understand (`$1` parameters,
//! `RETURNING`, `ON CONFLICT`), and only the migrations differ per backend.
//! Times are stored as unix seconds so no query depends on a backend's
//! date-time types.

mod admin;
mod apply;
mod cache;
pub use apply::IMPORT_PLATFORM;
mod connectors;
mod calendar_tokens;
pub use calendar_tokens::CALENDAR_TOKEN_PREFIX;
mod conversation;
mod directory;
mod error;
mod log;
mod outbox;
mod replay;
pub use replay::PairUse;
mod reports;
mod retention;
mod schedule;
pub mod secrets;
mod tasks;
mod web;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use admin::Kudos;
pub use apply::{Applied, GroupContext, MessageContext};
pub use connectors::{redact_url, Connector, ConnectorConfig, ConnectorKind, GroupRobot, MentionTarget, ReplyRoute, RobotKind};
pub use directory::{Alias, Group, Member, Project, Workspace};
pub use error::StoreError;
pub use log::{storable_text, Appended, InboundMessage, LoggedMessage};
pub use outbox::{OutboxItem, OutboxStatus};
pub use retention::{RetentionPolicy, RetentionReport};
pub use secrets::{KeyConfig, Keyring};
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
    /// Seals and opens connector secrets ([`secrets`]).
    keys: Keyring,
    /// Rows read on every message that do not change ([`cache`]).
    cache: std::sync::Arc<cache::Caches>,
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
    /// connects to an existing database. Connector secrets are sealed with
    /// the key configured in the environment ([`KeyConfig::from_env`]).
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, &KeyConfig::from_env()).await
    }

    /// [`Store::open`] with explicit secret keys. Plain-text secrets left by
    /// an older version are sealed before this returns.
    pub async fn open_with(url: &str, keys: &KeyConfig) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let (url, max, default_key_file) = match backend {
            Backend::Sqlite => {
                let (url, file) = sqlite_url(url)?;
                let key_file = file.map(|f| f.parent().map(|d| d.join(secrets::DEFAULT_KEY_FILE_NAME)).unwrap_or_else(|| secrets::DEFAULT_KEY_FILE_NAME.into()));
                (url, 1, key_file)
            }
            Backend::Postgres => (url.to_string(), 8, Some(std::path::PathBuf::from(secrets::DEFAULT_KEY_FILE))),
        };
        let keys = Keyring::load(keys, default_key_file)?;
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
        let store = Store { pool, backend, readers: Default::default(), keys, cache: Default::default() };
        let sealed = store.seal_plaintext_secrets().await?;
        if sealed > 0 {
            tracing::info!(sealed, "encrypted connector secrets stored in plain text by an older version");
        }
        Ok(store)
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

    /// The keys connector secrets are sealed with.
    pub fn keyring(&self) -> &Keyring {
        &self.keys
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

/// `sqlite:PATH` → a URL that creates the file (and the file's path), after
/// creating its folder (0700) and the file itself (0600): the database holds
/// the team's chats and tokens, so it is readable by its owner only. SQLite
/// gives the `-wal` and `-shm` files the database file's mode.
fn sqlite_url(url: &str) -> Result<(String, Option<std::path::PathBuf>)> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, _query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok(("sqlite::memory:".into(), None));
    }
    let unreachable = |what: &Path, e: std::io::Error| StoreError::Unreachable(format!("cannot create {}: {e}", what.display()));
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| unreachable(dir, e))?;
    }
    create_private_file(Path::new(path)).map_err(|e| unreachable(Path::new(path), e))?;
    Ok((format!("sqlite://{path}?mode=rwc"), Some(path.into())))
}

/// Creates a folder (and its parents) with mode 0700; an existing one is
/// left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Creates an empty file with mode 0600 (an empty file is a valid SQLite
/// database), or takes group and other permissions away from an existing
/// one, with its `-wal` and `-shm` companions.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.as_os_str().to_os_string();
                    name.push(suffix);
                    let Ok(meta) = std::fs::metadata(&name) else { continue };
                    let mode = meta.permissions().mode();
                    if mode & 0o077 != 0 {
                        tracing::warn!(file = ?name, mode = format!("{:o}", mode & 0o777), "database file was readable by others; setting it to 0600");
                        std::fs::set_permissions(&name, std::fs::Permissions::from_mode(mode & 0o700))?;
                    }
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
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
