//! Loading for reports that look at one window: the daily report of a day,
//! the metrics of a period (`Store::report_window`).
//!
//! A task that is closed and was neither created, changed nor finished since
//! the window started has the same state throughout the window, so only its
//! counts matter; the loader leaves it out and counts it in SQL. Of the
//! other tasks, only the finished ones need their whole history (original
//! deadline, deadline moves); the rest need the rows since the window
//! started. The burn-down days before the window come from SQL sums of the
//! status changes per milestone and local day. What the report crate does
//! with this is in `qunban_report::Reduced`; the equivalence with a full
//! load is tested in `tests/report_window.rs`.
//!
//! The daily report's load leaves the burn-down sums out
//! (`Store::report_window_daily`); the metrics' load keeps, of the tasks
//! not loaded with their whole history, only the status changes of
//! milestone tasks and counts their other rows (`Store::report_window_metrics`).
//!
//! On a SQLite file the heavy queries run on two blocking threads
//! (`spawn_blocking`), each over a read-only `rusqlite` connection of its
//! own, on the same snapshot (`Side`; sequential on one connection when a
//! write was committed between the two snapshots' start):
//! rows are read in place through SQLite's C API, without the worker thread,
//! channel and per-value allocations of sqlx's driver (the same
//! `libsqlite3-sys` is linked). PostgreSQL and in-memory SQLite use the pool.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use qunban_core::TaskStatus;
use qunban_report::{BurnStep, ChangeEvent, Ctx, Dataset, HistoryRow, OpenCount, OpenLeftOut, OwnerCount, Project, RTask, Reduced, TaskCount};
use rusqlite::types::ValueRef;
use rusqlite::OpenFlags;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::Row;

use super::{load_small, status_of, StandupDays, REPORT_HISTORY_FIELDS};
use crate::{Backend, Result, Store, StoreError};

/// The connection the heavy queries run on.
enum Conn {
    /// A read-only connection on the SQLite file, used on a blocking thread.
    File(Reader),
    /// A read transaction of the pool ([`Store::read_snapshot`]).
    Any(sqlx::Transaction<'static, sqlx::Any>),
}

#[derive(Clone, Copy)]
enum Arg<'a> {
    I(i64),
    S(&'a str),
}

/// Column access shared by the two drivers' rows.
trait Get {
    fn i(&self, i: usize) -> Result<i64>;
    fn oi(&self, i: usize) -> Result<Option<i64>>;
    fn s(&self, i: usize) -> Result<String>;
    fn os(&self, i: usize) -> Result<Option<String>>;
}

impl Get for sqlx::any::AnyRow {
    fn i(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn oi(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn s(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
    fn os(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(e)))
}

fn mismatch(i: usize, want: &str, got: ValueRef<'_>) -> StoreError {
    StoreError::Corrupt(format!("report query column {i}: expected {want}, found {:?}", got.data_type()))
}

/// Values read in place: integers as stored, text borrowed from SQLite's
/// buffer until it is copied into the result.
impl Get for rusqlite::Row<'_> {
    fn i(&self, i: usize) -> Result<i64> {
        self.oi(i)?.ok_or_else(|| StoreError::Corrupt(format!("report query column {i}: unexpected NULL")))
    }
    fn oi(&self, i: usize) -> Result<Option<i64>> {
        match self.get_ref(i).map_err(sqlite_err)? {
            ValueRef::Integer(v) => Ok(Some(v)),
            ValueRef::Null => Ok(None),
            v => Err(mismatch(i, "an integer", v)),
        }
    }
    fn s(&self, i: usize) -> Result<String> {
        self.os(i)?.ok_or_else(|| StoreError::Corrupt(format!("report query column {i}: unexpected NULL")))
    }
    fn os(&self, i: usize) -> Result<Option<String>> {
        match self.get_ref(i).map_err(sqlite_err)? {
            ValueRef::Text(b) => std::str::from_utf8(b).map(|s| Some(s.to_owned())).map_err(|e| StoreError::Corrupt(e.to_string())),
            ValueRef::Null => Ok(None),
            v => Err(mismatch(i, "text", v)),
        }
    }
}

/// Runs `sql` (numbered parameters `$1`, `$2`, …) on the SQLite connection
/// and hands every row to `f`.
fn each_file(c: &rusqlite::Connection, sql: &str, args: &[Arg], f: &mut dyn FnMut(&dyn Get) -> Result<()>) -> Result<()> {
    // `$N` are named parameters to SQLite, numbered in order of appearance:
    // bind each by the number in its name, as sqlx does.
    let bind = |st: &mut rusqlite::Statement<'_>| -> Result<()> {
        for idx in 1..=st.parameter_count() {
            let n = st.parameter_name(idx).and_then(|n| n.strip_prefix('$')).and_then(|n| n.parse::<usize>().ok());
            match n.and_then(|n| n.checked_sub(1)).and_then(|n| args.get(n)) {
                Some(Arg::I(v)) => st.raw_bind_parameter(idx, *v).map_err(sqlite_err)?,
                Some(Arg::S(v)) => st.raw_bind_parameter(idx, *v).map_err(sqlite_err)?,
                None => return Err(StoreError::Invalid(format!("report query parameter {idx} has no argument"))),
            }
        }
        Ok(())
    };
    if std::env::var("QUNBAN_REPORT_TIMING").as_deref() == Ok("plan") {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(sqlite_err)?;
        bind(&mut st)?;
        eprintln!("plan of {}…", &sql[..sql.len().min(120)]);
        let mut rows = st.raw_query();
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            eprintln!("  {} {}", r.i(1)?, r.s(3)?);
        }
    }
    let mut st = c.prepare_cached(sql).map_err(sqlite_err)?;
    bind(&mut st)?;
    let mut rows = st.raw_query();
    while let Some(r) = rows.next().map_err(sqlite_err)? {
        f(r)?;
    }
    Ok(())
}

impl Conn {
    /// Runs `sql` with `args` and hands every row to `f`. On the SQLite
    /// file this does not suspend (it runs on a blocking thread).
    async fn each(&mut self, sql: &str, args: &[Arg<'_>], mut f: impl FnMut(&dyn Get) -> Result<()>) -> Result<()> {
        match self {
            Conn::File(c) => each_file(c, sql, args, &mut f)?,
            Conn::Any(c) => {
                let mut q = sqlx::query::<sqlx::Any>(sql);
                for a in args.iter().copied() {
                    q = match a {
                        Arg::I(v) => q.bind(v),
                        Arg::S(v) => q.bind(v.to_string()),
                    };
                }
                for r in q.fetch_all(&mut **c).await? {
                    f(&r)?;
                }
            }
        }
        Ok(())
    }
}

/// Prints the time since the previous lap with `QUNBAN_REPORT_TIMING`.
fn lapper(timing: bool) -> impl FnMut(&str) + Send {
    let mut clock = std::time::Instant::now();
    move |what: &str| {
        if timing {
            eprintln!("report_window: {what} {:.1} ms", clock.elapsed().as_secs_f64() * 1e3);
            clock = std::time::Instant::now();
        }
    }
}

/// Opens `path` read only for the report queries.
fn open_file(path: &std::path::Path) -> rusqlite::Result<rusqlite::Connection> {
    let c = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    c.busy_timeout(std::time::Duration::from_secs(5))?;
    // Pages memory-mapped rather than copied into a cold cache.
    c.execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;")?;
    Ok(c)
}

/// Most idle report connections kept (the loader uses two at a time).
const MAX_IDLE_READERS: usize = 2;

/// The idle read-only connections of a [`Store`] on its SQLite file.
///
/// Opening a connection is cheap, but a new one starts with an empty page
/// cache and a fresh memory map whose every page faults on first touch:
/// on a large database that cost more than the queries themselves. SQLite
/// itself notices writes by other connections (the file change counter),
/// so a kept connection never reads stale data.
#[derive(Clone, Default)]
pub(crate) struct Readers(std::sync::Arc<std::sync::Mutex<Vec<rusqlite::Connection>>>);

impl Readers {
    /// An idle connection, or a new one on `path`.
    fn take(&self, path: &std::path::Path) -> rusqlite::Result<Reader> {
        let idle = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => open_file(path)?,
        };
        Ok(Reader { conn: Some(conn), home: self.clone() })
    }

    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A report connection, back to its [`Readers`] when dropped outside a
/// transaction (a connection left in one is closed instead).
struct Reader {
    conn: Option<rusqlite::Connection>,
    home: Readers,
}

impl std::ops::Deref for Reader {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        self.conn.as_ref().expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let mut idle = self.home.0.lock().unwrap_or_else(|e| e.into_inner());
            if c.is_autocommit() && idle.len() < MAX_IDLE_READERS {
                idle.push(c);
            }
        }
    }
}

/// `CASE` giving 1 when `col` is one of `statuses`, else 0.
fn flag(col: &str, statuses: &[TaskStatus]) -> String {
    format!("CASE WHEN {col} IN ({}) THEN 1 ELSE 0 END", names(statuses))
}

fn names(statuses: &[TaskStatus]) -> String {
    statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// The offset of `tz` when it is the same over `[from, to]` (no transition
/// in between), so that local days can be computed in SQL.
fn fixed_offset(tz: &TimeZone, from: i64, to: i64) -> Option<i64> {
    let (a, b) = (Timestamp::from_second(from).ok()?, Timestamp::from_second(to).ok()?);
    let off = i64::from(tz.to_offset(a).seconds());
    if i64::from(tz.to_offset(b).seconds()) != off || from + off < 0 {
        return None;
    }
    match tz.following(a).next() {
        Some(t) if t.timestamp() <= b => None,
        _ => Some(off),
    }
}

impl Store {
    /// Loads one project's (`project_id`) or every project's report data for
    /// reports that look only at `since` and later — the daily report of a
    /// day starting at or after `since`, the metrics of a period starting at
    /// or after it (burn-downs included) — with the same results as
    /// [`Store::report_dataset`] but without the history that cannot matter
    /// (see [`qunban_report::Reduced`]). `tz` is the workspace time zone
    /// (burn-down days). Stand-ups are loaded for `days` only.
    pub async fn report_window(&self, project_id: Option<i64>, days: &StandupDays, since: i64, tz: &TimeZone) -> Result<Dataset> {
        self.window(project_id, days, since, tz, Mode::All).await
    }

    /// [`Store::report_window`] for the daily report only: the same data
    /// without the burn-down steps (the daily report has no burn-downs), so
    /// it cannot give metrics or the weekly report
    /// ([`qunban_report::Reduced::without_burn_steps`]).
    pub async fn report_window_daily(&self, project_id: Option<i64>, days: &StandupDays, since: i64, tz: &TimeZone) -> Result<Dataset> {
        self.window(project_id, days, since, tz, Mode::Daily).await
    }

    /// [`Store::report_window`] for the metrics only (`compute_metrics` of
    /// periods starting at or after `since`, with `ctx`): of the tasks not
    /// finished since `since`, only the status changes of milestone tasks
    /// are loaded (burn-downs); their other rows since `since` come as the
    /// period figures they count in ([`qunban_report::Reduced::metrics_only`]);
    /// the open tasks with no change since `since` are only counted, for
    /// the workload at `ctx.now` ([`qunban_report::OpenLeftOut`]).
    /// Such a dataset cannot give the daily or weekly report, nor the
    /// metrics at another `now`.
    pub async fn report_window_metrics(&self, project_id: Option<i64>, days: &StandupDays, since: i64, ctx: &Ctx) -> Result<Dataset> {
        let week = ctx.week_range(ctx.day_of(ctx.now));
        self.window(project_id, days, since, &ctx.tz, Mode::Metrics(WorkloadAt { now: ctx.now, week })).await
    }

    async fn window(&self, project_id: Option<i64>, days: &StandupDays, since: i64, tz: &TimeZone, mode: Mode) -> Result<Dataset> {
        let (cond, pid) = match project_id {
            Some(p) => ("= $1", p),
            None => ("> $1", 0),
        };
        let timing = std::env::var_os("QUNBAN_REPORT_TIMING").is_some();
        let mut lap = lapper(timing);
        let mut data = Dataset::default();
        let file = self.report_file();
        // Without the SQLite file's own connections, every query runs in
        // one read transaction (one snapshot), the small tables included.
        let mut snapshot = match file {
            None => Some(self.read_snapshot().await?),
            Some(_) => None,
        };
        {
            let mut pooled;
            let small: &mut sqlx::AnyConnection = match &mut snapshot {
                Some(tx) => tx,
                None => {
                    pooled = self.pool.acquire().await?;
                    &mut pooled
                }
            };
            for r in sqlx::query(&format!("SELECT id, name FROM projects WHERE id {cond} ORDER BY id")).bind(pid).fetch_all(&mut *small).await? {
                data.projects.push(Project { id: r.try_get("id")?, name: r.try_get("name")? });
            }
            if let (Some(p), true) = (project_id, data.projects.is_empty()) {
                return Err(StoreError::NotFound { kind: "project", name: p.to_string() });
            }
            load_small(small, cond, pid, days, &mut data).await?;
        }
        lap("small tables");
        let mut done = None;
        if let Some(path) = file {
            // The whole load on a blocking thread; `each` never suspends on
            // the file, so the future completes in `block_on` at once.
            let handle = tokio::runtime::Handle::current();
            let tz = tz.clone();
            let readers = self.readers.clone();
            let (back, result) = tokio::task::spawn_blocking(move || {
                let c = match readers.take(&path) {
                    Ok(c) => c,
                    Err(_) => return (data, None),
                };
                // A second connection for the queries that do not depend on
                // the others (second core), on the same snapshot: see `Side`.
                // `QUNBAN_REPORT_SEQUENTIAL=1` keeps to one connection.
                let side = match std::env::var("QUNBAN_REPORT_SEQUENTIAL").as_deref() {
                    Ok("1") => None,
                    _ => readers.take(&path).ok().and_then(Side::before),
                };
                // One snapshot for all the queries below.
                if c.execute_batch("BEGIN").is_err() {
                    return (data, None);
                }
                let mut conn = Conn::File(c);
                let mut lap = lapper(timing);
                let result = handle.block_on(load_window(&mut conn, side, cond, pid, since, &tz, mode, &mut data, &mut lap));
                if let Conn::File(c) = conn {
                    let _ = c.execute_batch("COMMIT");
                }
                (data, Some(result))
            })
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))?;
            data = back;
            done = result;
        }
        let result = match done {
            Some(r) => r,
            None => {
                let tx = match snapshot.take() {
                    Some(tx) => tx,
                    None => self.read_snapshot().await?,
                };
                let mut conn = Conn::Any(tx);
                let r = load_window(&mut conn, None, cond, pid, since, tz, mode, &mut data, &mut lap).await;
                if let (Conn::Any(tx), Ok(_)) = (conn, &r) {
                    tx.commit().await?;
                }
                r
            }
        };
        if !result? {
            return self.report_dataset(project_id, days).await;
        }
        Ok(data)
    }

    /// The database file, on SQLite (not in memory).
    fn report_file(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let url = self.pool.connect_options().database_url.clone();
        if url.as_str().contains(":memory:") || url.as_str().contains("mode=memory") {
            return None;
        }
        let opts = SqliteConnectOptions::from_str(url.as_str()).ok()?;
        let path = opts.get_filename().to_path_buf();
        path.is_file().then_some(path)
    }
}

/// What a window load is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every report of the window.
    All,
    /// The daily report only: no burn steps.
    Daily,
    /// The metrics only: no rows of the partial tasks beyond the status
    /// changes of milestone tasks, the rest counted; the open tasks
    /// unchanged since the window start counted for the workload.
    Metrics(WorkloadAt),
}

/// The instant and local week the workload of a metrics-only load is for.
#[derive(Clone, Copy, PartialEq, Eq)]
struct WorkloadAt {
    now: i64,
    week: (i64, i64),
}

/// The tasks, owners, dependencies, history, counts and burn steps.
#[allow(clippy::too_many_arguments)]
async fn load_window(
    conn: &mut Conn,
    side: Option<Side>,
    cond: &str,
    pid: i64,
    since: i64,
    tz: &TimeZone,
    mode: Mode,
    data: &mut Dataset,
    lap: &mut impl FnMut(&str),
) -> Result<bool> {
    let args = [Arg::I(pid), Arg::I(since)];
    // Every task, counted by milestone and status.
    let mut counts = Vec::new();
    let mut canonical = true;
    conn.each(
        &format!("SELECT milestone_id, status, COUNT(*), MIN(created_at) FROM tasks WHERE project_id {cond} GROUP BY milestone_id, status"),
        &args[..1],
        |r| {
            let raw = r.s(1)?;
            let status = status_of(&raw)?;
            canonical &= status.as_str() == raw;
            counts.push(TaskCount { milestone_id: r.oi(0)?, status, count: r.i(2)? as u64, first_created: r.i(3)? });
            Ok(())
        },
    )
    .await?;
    lap("counts");
    if !canonical {
        // Statuses spelled other than the store writes them: the queries
        // below select by exact value, so say so and let the caller load all.
        return Ok(false);
    }
    // Burn-down days before `since`: their keys, decided by the counts.
    let first = counts.iter().filter(|c| c.milestone_id.is_some()).map(|c| c.first_created).min();
    let burn = first.filter(|f| mode != Mode::Daily && *f < since).map(|first| {
        // Local days in SQL when the offset is fixed, else exact instants.
        match fixed_offset(tz, first, since) {
            Some(off) => (off, 86_400),
            None => (0, 1),
        }
    });
    // The tasks that can matter from `since` on: open now; closed but
    // created, changed (any history row) or finished since, or a parent or
    // sub-task (roll-ups). The closed ones are found from indexes alone.
    let recent = "SELECT hs.task_id FROM task_history hs WHERE hs.at >= $2";
    let open = names(&TaskStatus::ALL.iter().copied().filter(|s| !s.is_closed()).collect::<Vec<_>>());
    let open_sql = format!("SELECT {COLUMNS} FROM tasks t LEFT JOIN task_owners o ON o.task_id = t.id WHERE t.project_id {cond} AND t.status IN ({open})");
    let deps_sql = format!("SELECT d.task_id, d.depends_on_task_id FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id {cond}");
    let columns = COLUMNS;
    let file = matches!(conn, Conn::File(_));
    // On the SQLite file, the tasks with a history row since `since`, found
    // once from the covering index `(at, task_id)` and handed back as a
    // short list (a JSON array for `json_each`): cheaper than SQLite's
    // `IN (subquery)` set of every row since then, built for each use.
    // Also needed, on both backends, to tell the open tasks left out of a
    // metrics-only load.
    let mut recent_ids: Vec<i64> = Vec::new();
    if file || mode_is_metrics(mode) {
        let distinct = if file {
            recent.replace("task_history hs", "task_history hs INDEXED BY task_history_at")
        } else {
            recent.replacen("SELECT", "SELECT DISTINCT", 1)
        };
        conn.each(&distinct, &args, |r| {
            recent_ids.push(r.i(0)?);
            Ok(())
        })
        .await?;
        recent_ids.sort_unstable();
        recent_ids.dedup();
    }
    let recent_json = format!("[{}]", recent_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","));
    lap("tasks changed since the window start");
    // A task "changed" since `since`: created, changed (any history row) or
    // finished since.
    let changed = if file {
        "(t.id IN (SELECT value FROM json_each($3)) OR t.created_at >= $2 OR t.updated_at >= $2 OR COALESCE(t.done_at, 0) >= $2)".to_string()
    } else {
        format!("(t.id IN ({recent}) OR t.created_at >= $2 OR t.updated_at >= $2 OR COALESCE(t.done_at, 0) >= $2)")
    };
    // For the metrics only, the open tasks not changed since `since` are
    // counted (per milestone; per owner, status and deadline class) rather
    // than loaded: read in a narrow query, without their text.
    let left = match mode {
        Mode::Metrics(at) => Some(LeftSql {
            sql: format!(
                "SELECT t.id, t.milestone_id, t.status, t.due_at, t.created_at, t.updated_at, t.done_at, o.member_id \
                 FROM tasks t LEFT JOIN task_owners o ON o.task_id = t.id WHERE t.project_id {cond} AND t.status IN ({open})"
            ),
            at,
        }),
        _ => None,
    };
    // `full`: done, and finished or changed since `since` — the tasks whose
    // whole history is loaded; the others get the rows since `since`.
    let mut rows: Vec<TaskRow> = Vec::new();
    let mut owners: Vec<(i64, i64, i64)> = Vec::new();
    let mut push = |r: &dyn Get, live_closed: bool| push_task(&mut rows, &mut owners, r, live_closed);
    // On a SQLite file with a second connection on the same snapshot, the
    // open tasks (or, for the metrics only, the counts of those left out),
    // the dependencies, the burn-down sums and the older history of the
    // `full` tasks are read there, on another thread, while this one reads
    // the closed tasks and the rows since `since`; the open tasks come back
    // before those rows are read, the `full` tasks' ids go the other way
    // once the closed tasks are read.
    let side = side.and_then(Side::start);
    let cols = "h.task_id, h.at, h.actor_member_id, h.field, h.old_value, h.new_value, h.id";
    // The older rows of the `full` tasks, by id list (a JSON array).
    let older_sql = format!(
        "SELECT {cols} FROM task_history h WHERE h.task_id IN (SELECT value FROM json_each($3)) \
         AND h.at < $2 AND h.field IN ({REPORT_HISTORY_FIELDS})"
    );
    let mut open_left_out = None;
    let (side_job, open_rx, ids_tx) = match side {
        Some(c) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let (ids_tx, ids_rx) = std::sync::mpsc::channel();
            let sql = SideSql {
                open: left.is_none().then(|| open_sql.clone()),
                left: left.clone().map(|l| (l, recent_ids.clone())),
                deps: deps_sql.clone(),
                older: older_sql.clone(),
                cond: cond.to_string(),
            };
            let job = tokio::task::spawn_blocking(move || side_load(c, &sql, pid, since, burn, tx, ids_rx));
            (Some(job), Some(rx), Some(ids_tx))
        }
        None => (None, None, None),
    };
    if open_rx.is_none() {
        match &left {
            None => {
                conn.each(&open_sql, &args[..1], |r| push(r, false)).await?;
                lap("open tasks");
            }
            Some(l) => {
                let mut counter = LeftCounter::new(l.at, since, &recent_ids);
                conn.each(&l.sql, &args[..1], |r| counter.row(r)).await?;
                open_left_out = Some(counter.finish());
                lap("open tasks left out, counted");
            }
        }
    }
    // Closed tasks changed since `since` (and parents and sub-tasks, for
    // roll-ups); for the metrics only, every task changed since (the open
    // ones unchanged are counted above). Done ones get `full` = true below
    // only when they were changed since.
    let others = "t.parent_task_id IS NOT NULL OR t.id IN (SELECT c.parent_task_id FROM tasks c WHERE c.parent_task_id IS NOT NULL)";
    let filter = match left {
        Some(_) => changed.clone(),
        None => format!("t.status IN ('done', 'cancelled') AND ({changed} OR {others})"),
    };
    if file {
        conn.each(
            &format!("SELECT {columns} FROM tasks t LEFT JOIN task_owners o ON o.task_id = t.id WHERE t.project_id {cond} AND {filter}"),
            &[Arg::I(pid), Arg::I(since), Arg::S(&recent_json)],
            |r| {
                // The SQL `changed` condition, from the row.
                let changed = changed_since(since, &recent_ids, r.i(0)?, r.i(8)?, r.i(9)?, r.oi(10)?);
                push(r, changed)
            },
        )
        .await?;
    } else {
        conn.each(
            &format!(
                "SELECT {columns}, CASE WHEN {changed} THEN 1 ELSE 0 END FROM tasks t LEFT JOIN task_owners o ON o.task_id = t.id \
                 WHERE t.project_id {cond} AND {filter}"
            ),
            &args,
            |r| {
                let changed = r.i(16)? == 1;
                push(r, changed)
            },
        )
        .await?;
    }
    lap("closed tasks");
    if let Some(tx) = ids_tx {
        // The `full` tasks are closed ones: their older history is read on
        // the second connection while this one reads the rows since `since`.
        let ids = rows.iter().filter(|(_, _, _, full)| *full).map(|(_, _, t, _)| t.id.to_string()).collect::<Vec<_>>().join(",");
        let _ = tx.send(format!("[{ids}]"));
    }
    if let Some(rx) = open_rx {
        let (open_rows, open_owners) = rx.recv().map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))??;
        rows.extend(open_rows);
        owners.extend(open_owners);
        lap("open tasks (second connection, waited)");
    }
    rows.sort_unstable_by_key(|(project, seq, t, _)| (*project, *seq, t.id));
    rows.dedup_by_key(|(_, _, t, _)| t.id);
    owners.sort_unstable();
    let mut partial = Vec::new();
    let mut full_ids = Vec::new();
    let mut is_partial = Vec::with_capacity(rows.len());
    let mut index: std::collections::HashMap<i64, usize> = std::collections::HashMap::with_capacity(rows.len());
    data.tasks.reserve(rows.len());
    for (_, _, t, full) in rows {
        if full {
            full_ids.push(t.id);
        } else {
            partial.push(t.id);
        }
        is_partial.push(!full);
        index.insert(t.id, data.tasks.len());
        data.tasks.push(t);
    }
    partial.sort_unstable();
    for (task, _, member) in owners {
        if let Some(i) = index.get(&task) {
            data.tasks[*i].owners.push(member);
        }
    }
    let mut deps = Vec::new();
    if side_job.is_none() {
        conn.each(&deps_sql, &args[..1], |r| {
            deps.push((r.i(0)?, r.i(1)?));
            Ok(())
        })
        .await?;
    }
    lap("owners, dependencies");
    // History: every row since `since`, and the older rows of the `full`
    // tasks (their original deadline and deadline moves).
    // For the metrics only, a partial task's row other than a status change
    // of a milestone task is kept as what it counts as, if anything.
    let metrics_only = mode_is_metrics(mode);
    let mut changes = Vec::new();
    let tasks = &data.tasks;
    let mut history: Vec<(i64, i64, HistoryRow)> = Vec::new();
    let mut push = |r: &dyn Get| -> Result<()> {
        // Only the loaded tasks' rows (a row since `since` of a task of
        // another project cannot be here; this keeps the invariant obvious).
        let task_id = r.i(0)?;
        let Some(&i) = index.get(&task_id) else { return Ok(()) };
        let field = r.s(3)?;
        if metrics_only && is_partial[i] && !(field == "status" && tasks[i].milestone_id.is_some()) {
            let (old, new) = (r.os(4)?, r.os(5)?);
            if let Some(change) = qunban_report::metrics::classify(&field, old.as_deref(), new.as_deref()) {
                changes.push(ChangeEvent { at: r.i(1)?, change });
            }
            return Ok(());
        }
        let row = HistoryRow { task_id, at: r.i(1)?, actor: r.oi(2)?, field, old_value: r.os(4)?, new_value: r.os(5)? };
        history.push((row.task_id, r.i(6)?, row));
        Ok(())
    };
    // On the SQLite file without the join on `tasks` (one lookup per row):
    // the rows of other projects' tasks are dropped by `push`.
    let since_sql = match conn {
        // The plan is pinned: without table statistics (never gathered
        // unless someone runs ANALYZE) SQLite prefers `(field, task_id)`
        // and reads every row of those fields.
        Conn::File(_) => format!("SELECT {cols} FROM task_history h INDEXED BY task_history_report_rows WHERE h.at >= $2 AND h.field IN ({REPORT_HISTORY_FIELDS})"),
        Conn::Any(_) => format!(
            "SELECT {cols} FROM task_history h JOIN tasks t ON t.id = h.task_id \
             WHERE h.at >= $2 AND h.field IN ({REPORT_HISTORY_FIELDS}) AND t.project_id {cond}"
        ),
    };
    conn.each(&since_sql, &args, &mut push).await?;
    lap("history since the window start");
    if side_job.is_some() {
        // Read on the second connection (joined below).
    } else if let Conn::File(_) = conn {
        // The ids are known here: look their rows up by (field, task)
        // rather than finding the tasks again (and the rows since `since`
        // once more) in SQL.
        let ids = format!("[{}]", full_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        conn.each(&older_sql, &[Arg::I(pid), Arg::I(since), Arg::S(&ids)], &mut push).await?;
    } else {
        conn.each(
            &format!(
                "SELECT {cols} FROM tasks t JOIN task_history h ON h.task_id = t.id \
                 WHERE t.project_id {cond} AND t.status = 'done' AND {changed} AND h.at < $2 AND h.field IN ({REPORT_HISTORY_FIELDS})"
            ),
            &args,
            &mut push,
        )
        .await?;
    }
    let mut side_sums = None;
    if let Some(job) = side_job {
        let out = job.await.map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))??;
        history.extend(out.older);
        deps = out.deps;
        side_sums = out.sums;
        if out.left.is_some() {
            open_left_out = out.left;
        }
        lap("second connection joined");
    }
    history.sort_unstable_by_key(|(task, id, _)| (*task, *id));
    data.history = history.into_iter().map(|(_, _, h)| h).collect();
    lap("history");
    for (task, on) in deps {
        if let Some(i) = index.get(&task) {
            data.tasks[*i].depends_on.push(on);
        }
    }
    // Burn-down steps before `since`, per milestone and local day: a task
    // enters its initial status when created (its current status minus all
    // its status changes), then each change moves it; a change recorded
    // before the creation counts at the creation, as the timeline does.
    let mut burn_steps = Vec::new();
    if let Some((off, div)) = burn {
        let open_or_done: Vec<TaskStatus> = TaskStatus::ALL.iter().copied().filter(|s| *s != TaskStatus::Cancelled).collect();
        let (scope, done, valid) = (|c: &str| flag(c, &open_or_done), |c: &str| flag(c, &[TaskStatus::Done]), names(TaskStatus::ALL));
        let base = "FROM tasks t JOIN task_history h ON h.task_id = t.id WHERE t.project_id {cond} AND t.milestone_id IS NOT NULL \
             AND t.created_at < $2 AND h.field = 'status'"
            .replace("{cond}", cond);
        let sql = format!(
            "SELECT m, k, SUM(ds), SUM(dd) FROM ( \
               SELECT t.milestone_id AS m, (t.created_at + $3) / $4 AS k, {s_t} AS ds, {d_t} AS dd FROM tasks t \
                 WHERE t.project_id {cond} AND t.milestone_id IS NOT NULL AND t.created_at < $2 \
               UNION ALL \
               SELECT t.milestone_id, ((CASE WHEN h.at > t.created_at THEN h.at ELSE t.created_at END) + $3) / $4, {s_n} - {s_o}, {d_n} - {d_o} {base} \
                 AND h.at < $2 AND h.old_value IN ({valid}) AND h.new_value IN ({valid}) \
               UNION ALL \
               SELECT t.milestone_id, (t.created_at + $3) / $4, {s_o} - {s_n}, {d_o} - {d_n} {base} \
                 AND h.old_value IN ({valid}) AND h.new_value IN ({valid}) \
             ) s GROUP BY m, k",
            s_t = scope("t.status"),
            d_t = done("t.status"),
            s_n = scope("h.new_value"),
            s_o = scope("h.old_value"),
            d_n = done("h.new_value"),
            d_o = done("h.old_value"),
        );
        let epoch = jiff::civil::date(1970, 1, 1);
        let mut sums: BTreeMap<(i64, i64), (i64, i64)> = BTreeMap::new();
        if let Some(side_sums) = side_sums {
            sums = side_sums;
        } else if let Conn::File(c) = conn {
            // The same sums in Rust, over one pass of the status rows rather
            // than SQLite's two passes and temporary B-tree.
            burn_sums_file(c, cond, pid, since, off, div, &mut sums)?;
        } else {
            conn.each(&sql, &[Arg::I(pid), Arg::I(since), Arg::I(off), Arg::I(div)], |r| {
                let e = sums.entry((r.i(0)?, r.i(1)?)).or_default();
                e.0 += r.i(2)?;
                e.1 += r.i(3)?;
                Ok(())
            })
            .await?;
        }
        let mut steps: BTreeMap<(i64, Date), (i64, i64)> = BTreeMap::new();
        for ((m, k), (ds, dd)) in sums {
            let day = if div == 1 {
                Timestamp::from_second(k).map_err(|e| StoreError::Corrupt(e.to_string()))?.to_zoned(tz.clone()).date()
            } else {
                epoch.checked_add(jiff::Span::new().days(k)).map_err(|e| StoreError::Corrupt(e.to_string()))?
            };
            let e = steps.entry((m, day)).or_default();
            e.0 += ds;
            e.1 += dd;
        }
        burn_steps = steps.into_iter().map(|((milestone_id, day), (scope, done))| BurnStep { milestone_id, day, scope, done }).collect();
    }
    lap("burn steps");
    data.reduced = Some(Reduced {
        since,
        partial,
        counts,
        burn_steps,
        without_burn_steps: mode == Mode::Daily,
        metrics_only,
        changes,
        open_left_out: open_left_out.map(|mut l| {
            l.tasks.sort_unstable_by_key(|c| c.milestone_id);
            l.owners.sort_unstable_by_key(|g| (g.member, g.status.as_str(), g.overdue, g.due_this_week));
            l
        }),
    });
    if metrics_only && data.reduced.as_ref().is_some_and(|r| r.open_left_out.is_none()) {
        return Err(StoreError::Invalid("the open tasks left out of a metrics load were not counted".into()));
    }
    Ok(true)
}

/// A second read-only connection on the SQLite file, for the queries that
/// do not depend on the main connection's (open tasks, dependencies,
/// burn-down sums; then the older history of the `full` tasks, once their
/// ids are known), run concurrently on a second blocking thread (the
/// machine's second core). Its snapshot must be the
/// main connection's: `PRAGMA data_version` is read on it before the main
/// connection's read transaction starts ([`Side::before`]) and again once
/// its own read transaction has started ([`Side::start`]). Equal values mean
/// that no other connection committed in between, so both transactions see
/// the same database; otherwise the second connection is dropped and the
/// whole load runs sequentially on the main connection.
struct Side {
    conn: Reader,
    before: i64,
}

impl Side {
    fn before(conn: Reader) -> Option<Side> {
        let before = conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()?;
        Some(Side { conn, before })
    }

    /// The connection in a read transaction on the main connection's
    /// snapshot, or `None` (a write was committed in between).
    fn start(self) -> Option<Reader> {
        let c = self.conn;
        c.execute_batch("BEGIN").ok()?;
        // A read starts the snapshot (and refreshes `data_version`).
        c.query_row("SELECT COUNT(*) FROM projects", [], |r| r.get::<_, i64>(0)).ok()?;
        let after: i64 = c.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()?;
        (after == self.before).then_some(c)
    }
}

/// Open tasks and owners, sent back as soon as they are read.
type OpenTasks = Result<(Vec<TaskRow>, Vec<(i64, i64, i64)>)>;

fn mode_is_metrics(mode: Mode) -> bool {
    matches!(mode, Mode::Metrics(_))
}

/// Whether a task was created, changed (`recent`: the sorted ids of the
/// tasks with a history row since `since`) or finished since `since`: the
/// SQL `changed` condition of [`load_window`].
fn changed_since(since: i64, recent: &[i64], id: i64, created_at: i64, updated_at: i64, done_at: Option<i64>) -> bool {
    recent.binary_search(&id).is_ok() || created_at >= since || updated_at >= since || done_at.is_some_and(|d| d >= since)
}

/// The open tasks' narrow query of a metrics-only load, and the instant and
/// week their workload is counted for.
#[derive(Clone)]
struct LeftSql {
    sql: String,
    at: WorkloadAt,
}

/// Counts the open tasks not changed since `since` from the rows of
/// [`LeftSql`] (one per task and owner, in any order).
struct LeftCounter<'a> {
    at: WorkloadAt,
    since: i64,
    recent: &'a [i64],
    seen: std::collections::HashSet<i64>,
    tasks: BTreeMap<Option<i64>, (u64, u64)>,
    owners: std::collections::HashMap<(i64, TaskStatus, bool, bool), u64>,
}

impl<'a> LeftCounter<'a> {
    fn new(at: WorkloadAt, since: i64, recent: &'a [i64]) -> Self {
        LeftCounter { at, since, recent, seen: Default::default(), tasks: BTreeMap::new(), owners: Default::default() }
    }

    fn row(&mut self, r: &dyn Get) -> Result<()> {
        let id = r.i(0)?;
        if changed_since(self.since, self.recent, id, r.i(4)?, r.i(5)?, r.oi(6)?) {
            // Loaded with the changed tasks.
            return Ok(());
        }
        let status = status_of(&r.s(2)?)?;
        // The same deadline classes as the metrics give a loaded task.
        let (overdue, due_this_week) = qunban_report::metrics::deadline_class(r.oi(3)?, self.at.now, self.at.week);
        if self.seen.insert(id) {
            let e = self.tasks.entry(r.oi(1)?).or_default();
            e.0 += 1;
            e.1 += u64::from(overdue);
        }
        if let Some(member) = r.oi(7)? {
            *self.owners.entry((member, status, overdue, due_this_week)).or_default() += 1;
        }
        Ok(())
    }

    fn finish(self) -> OpenLeftOut {
        OpenLeftOut {
            now: self.at.now,
            week: self.at.week,
            tasks: self.tasks.into_iter().map(|(milestone_id, (count, overdue))| OpenCount { milestone_id, count, overdue }).collect(),
            owners: self
                .owners
                .into_iter()
                .map(|((member, status, overdue, due_this_week), count)| OwnerCount { member, status, overdue, due_this_week, count })
                .collect(),
        }
    }
}

/// The queries of the second connection.
struct SideSql {
    /// The open tasks, or, for the metrics only, `left`.
    open: Option<String>,
    /// The open tasks left out, counted, with the sorted ids of the tasks
    /// with a history row since the window start.
    left: Option<(LeftSql, Vec<i64>)>,
    deps: String,
    older: String,
    cond: String,
}

/// What the second connection read besides the open tasks.
struct SideOut {
    /// The older history rows of the `full` tasks: (task, row id, row).
    older: Vec<(i64, i64, HistoryRow)>,
    deps: Vec<(i64, i64)>,
    sums: Option<BTreeMap<(i64, i64), (i64, i64)>>,
    left: Option<OpenLeftOut>,
}

/// The work of the second connection ([`Side`]): the open tasks (sent on
/// `tx`); the dependencies and, with `burn` = `(off, div)`, the burn-down
/// sums; then, given the `full` tasks' ids (a JSON array, on `ids`), their
/// older history rows.
fn side_load(
    c: Reader,
    sql: &SideSql,
    pid: i64,
    since: i64,
    burn: Option<(i64, i64)>,
    tx: std::sync::mpsc::Sender<OpenTasks>,
    ids: std::sync::mpsc::Receiver<String>,
) -> Result<SideOut> {
    let mut lap = lapper(std::env::var_os("QUNBAN_REPORT_TIMING").is_some());
    let mut out = SideOut { older: Vec::new(), deps: Vec::new(), sums: None, left: None };
    let (mut rows, mut owners) = (Vec::new(), Vec::new());
    let open = match &sql.open {
        Some(open) => each_file(&c, open, &[Arg::I(pid)], &mut |r: &dyn Get| push_task(&mut rows, &mut owners, r, false)),
        None => Ok(()),
    };
    lap("[second connection] open tasks");
    let failed = open.is_err();
    let _ = tx.send(open.map(|()| (rows, owners)));
    if failed {
        // The main thread returns the error.
        return Ok(out);
    }
    // The dependencies and burn-down sums first: the ids come once the
    // main thread has read the closed tasks.
    each_file(&c, &sql.deps, &[Arg::I(pid)], &mut |r: &dyn Get| {
        out.deps.push((r.i(0)?, r.i(1)?));
        Ok(())
    })?;
    lap("[second connection] dependencies");
    if let Some((off, div)) = burn {
        let mut s = BTreeMap::new();
        burn_sums_file(&c, &sql.cond, pid, since, off, div, &mut s)?;
        out.sums = Some(s);
        lap("[second connection] burn sums");
    }
    if let Some((l, recent)) = &sql.left {
        let mut counter = LeftCounter::new(l.at, since, recent);
        each_file(&c, &l.sql, &[Arg::I(pid)], &mut |r: &dyn Get| counter.row(r))?;
        out.left = Some(counter.finish());
        lap("[second connection] open tasks left out, counted");
    }
    // No ids: the main thread failed and returns its error.
    let Ok(ids) = ids.recv() else { return Ok(out) };
    each_file(&c, &sql.older, &[Arg::I(pid), Arg::I(since), Arg::S(&ids)], &mut |r: &dyn Get| {
        let row = HistoryRow { task_id: r.i(0)?, at: r.i(1)?, actor: r.oi(2)?, field: r.s(3)?, old_value: r.os(4)?, new_value: r.os(5)? };
        out.older.push((row.task_id, r.i(6)?, row));
        Ok(())
    })?;
    lap("[second connection] older history of the full tasks");
    let _ = c.execute_batch("COMMIT");
    Ok(out)
}

/// A loaded task row: project, sequence number, the task, and whether its
/// whole history is loaded.
type TaskRow = (i64, i64, RTask, bool);

/// The task columns of the task queries (with one owner per row).
const COLUMNS: &str = "t.id, t.project_id, t.reference, t.title, t.status, t.progress, t.priority, t.due_at, t.created_at, t.updated_at, t.done_at, \
     t.milestone_id, t.parent_task_id, t.seq, o.member_id, o.position";

/// Adds a row of a task query ([`COLUMNS`]) to `rows` and its owner to
/// `owners`; `live_closed`: closed and changed since the window start.
fn push_task(rows: &mut Vec<TaskRow>, owners: &mut Vec<(i64, i64, i64)>, r: &dyn Get, live_closed: bool) -> Result<()> {
    let id = r.i(0)?;
    if let Some(m) = r.oi(14)? {
        owners.push((id, r.oi(15)?.unwrap_or(0), m));
    }
    // A task with several owners comes once per owner (rows of one
    // task are adjacent in practice; the dedup after sorting is exact).
    if rows.last().is_some_and(|(_, _, t, _)| t.id == id) {
        return Ok(());
    }
    let status = r.s(4)?;
    let created_at = r.i(8)?;
    let updated_at = r.i(9)?;
    let done_at = r.oi(10)?;
    let full = live_closed && status == "done";
    rows.push((
        r.i(1)?,
        r.i(13)?,
        RTask {
            id,
            project_id: r.i(1)?,
            reference: r.s(2)?,
            title: r.s(3)?,
            status: status_of(&status)?,
            progress: r.i(5)?.clamp(0, 100) as u8,
            priority: r.os(6)?,
            owners: vec![],
            due: r.oi(7)?,
            created_at,
            updated_at,
            done_at,
            milestone_id: r.oi(11)?,
            parent_task_id: r.oi(12)?,
            depends_on: vec![],
        },
        full,
    ));
    Ok(())
}

/// The burn-down sums of [`load_window`]'s SQL, per milestone and day key
/// `(instant + off) / div`, computed from the rows on a SQLite file: each
/// milestone task created before `since` adds its current status at its
/// creation; each status change between valid statuses moves the task back
/// at the creation and forward at the change (at the creation when recorded
/// before it) when it happened before `since`. A key gets an entry for
/// every row that contributes to it, as a `GROUP BY` gives.
///
/// The status rows are read from their partial index, pinned: without
/// table statistics SQLite may pick another.
fn burn_sums_file(c: &rusqlite::Connection, cond: &str, pid: i64, since: i64, off: i64, div: i64, sums: &mut BTreeMap<(i64, i64), (i64, i64)>) -> Result<()> {
    // (in scope, done) of a valid status, as the SQL's `IN` lists compare.
    let flags = |v: ValueRef<'_>| -> Option<(i64, i64)> {
        let ValueRef::Text(b) = v else { return None };
        let s = TaskStatus::ALL.iter().copied().find(|s| s.as_str().as_bytes() == b)?;
        Some((i64::from(s != TaskStatus::Cancelled), i64::from(s == TaskStatus::Done)))
    };
    let key = |t: i64| (t + off) / div;
    let args = [Arg::I(pid), Arg::I(since)];
    each_file(
        c,
        &format!("SELECT t.milestone_id, t.created_at, t.status FROM tasks t WHERE t.project_id {cond} AND t.milestone_id IS NOT NULL AND t.created_at < $2"),
        &args,
        &mut |r: &dyn Get| {
            let (m, created) = (r.i(0)?, r.i(1)?);
            let raw = r.s(2)?;
            let s = status_of(&raw)?;
            let (ds, dd) = (i64::from(s != TaskStatus::Cancelled), i64::from(s == TaskStatus::Done));
            let e = sums.entry((m, key(created))).or_default();
            e.0 += ds;
            e.1 += dd;
            Ok(())
        },
    )?;
    let sql = format!(
        "SELECT t.milestone_id, t.created_at, h.at, h.old_value, h.new_value \
         FROM tasks t JOIN task_history h INDEXED BY task_history_status ON h.task_id = t.id \
         WHERE t.project_id {cond} AND t.milestone_id IS NOT NULL AND t.created_at < $2 AND h.field = 'status'"
    );
    let mut st = c.prepare_cached(&sql).map_err(sqlite_err)?;
    for idx in 1..=st.parameter_count() {
        let v = match st.parameter_name(idx) {
            Some("$1") => pid,
            Some("$2") => since,
            _ => return Err(StoreError::Invalid(format!("report query parameter {idx} has no argument"))),
        };
        st.raw_bind_parameter(idx, v).map_err(sqlite_err)?;
    }
    let mut rows = st.raw_query();
    while let Some(r) = rows.next().map_err(sqlite_err)? {
        let (Some((so, dno)), Some((sn, dnn))) = (flags(r.get_ref(3).map_err(sqlite_err)?), flags(r.get_ref(4).map_err(sqlite_err)?)) else {
            continue;
        };
        let (m, created, at) = (r.i(0)?, r.i(1)?, r.i(2)?);
        let e = sums.entry((m, key(created))).or_default();
        e.0 += so - sn;
        e.1 += dno - dnn;
        if at < since {
            let e = sums.entry((m, key(at.max(created)))).or_default();
            e.0 += sn - so;
            e.1 += dnn - dno;
        }
    }
    Ok(())
}
