//! Bulk loading of what reports are computed from: one query per table (not
//! per task), so a 100,000-task project loads in one pass.

use std::collections::HashMap;

use qunban_report::{Dataset, Goal, HistoryRow, Milestone, Project, RTask, Risk, Standup};
use sqlx::Row;

use crate::{Result, Store, StoreError};

mod window;

pub(crate) use window::Readers;

/// The history fields metrics read; progress, title and note rows are not loaded.
/// The partial index `task_history_report_rows` (migration 0008) lists the same fields.
pub const REPORT_HISTORY_FIELDS: &str = "'status', 'due', 'owners'";

/// Which stand-up days to load, inclusive (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default)]
pub struct StandupDays {
    pub from: String,
    pub to: String,
}

pub(crate) fn status_of(s: &str) -> Result<qunban_core::TaskStatus> {
    s.parse().map_err(|e: qunban_core::model::UnknownName| StoreError::Corrupt(e.to_string()))
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl Store {
    /// A read transaction for a report's queries, so that they all see one
    /// state of the database: on PostgreSQL `REPEATABLE READ, READ ONLY`
    /// (other instances may write meanwhile); on SQLite a deferred `BEGIN`,
    /// whose first read fixes the snapshot (WAL mode).
    pub async fn read_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Loads one project's report data (`project_id`), or every project's
    /// (`None`). Stand-ups are loaded for `days` only.
    pub async fn report_dataset(&self, project_id: Option<i64>, days: &StandupDays) -> Result<Dataset> {
        self.load_dataset(project_id, days, true).await
    }

    async fn load_dataset(&self, project_id: Option<i64>, days: &StandupDays, bulk: bool) -> Result<Dataset> {
        // `= $1` for one project, `> 0` (ids start at 1) for all.
        let (cond, pid) = match project_id {
            Some(p) => ("= $1", p),
            None => ("> $1", 0),
        };
        let mut conn = self.read_snapshot().await?;
        let mut data = Dataset::default();
        let timing = std::env::var_os("QUNBAN_REPORT_TIMING").is_some();
        let mut clock = std::time::Instant::now();
        let mut lap = |what: &str| {
            if timing {
                eprintln!("report_dataset: {what} {:.1} ms", clock.elapsed().as_secs_f64() * 1e3);
                clock = std::time::Instant::now();
            }
        };
        for r in sqlx::query(&format!("SELECT id, name FROM projects WHERE id {cond} ORDER BY id")).bind(pid).fetch_all(&mut *conn).await? {
            data.projects.push(Project { id: r.try_get("id")?, name: r.try_get("name")? });
        }
        if let (Some(p), true) = (project_id, data.projects.is_empty()) {
            return Err(StoreError::NotFound { kind: "project", name: p.to_string() });
        }
        let rows = sqlx::query(&format!(
            "SELECT id, project_id, reference, title, status, progress, priority, due_at, created_at, updated_at, done_at, milestone_id, \
             parent_task_id FROM tasks WHERE project_id {cond} ORDER BY project_id, seq"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?;
        data.tasks.reserve(rows.len());
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let status: String = r.try_get("status")?;
            let progress: i64 = r.try_get("progress")?;
            let id: i64 = r.try_get("id")?;
            index.insert(id, data.tasks.len());
            data.tasks.push(RTask {
                id,
                project_id: r.try_get("project_id")?,
                reference: r.try_get("reference")?,
                title: r.try_get("title")?,
                status: status_of(&status)?,
                progress: progress.clamp(0, 100) as u8,
                priority: r.try_get("priority")?,
                owners: vec![],
                due: r.try_get("due_at")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                done_at: r.try_get("done_at")?,
                milestone_id: r.try_get("milestone_id")?,
                parent_task_id: r.try_get("parent_task_id")?,
                depends_on: vec![],
            });
        }
        drop(rows);
        lap("tasks");
        if bulk {
        for r in sqlx::query(&format!(
            "SELECT o.task_id, o.member_id FROM task_owners o JOIN tasks t ON t.id = o.task_id WHERE t.project_id {cond} ORDER BY o.task_id, o.position"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?
        {
            let (task, member): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            if let Some(i) = index.get(&task) {
                data.tasks[*i].owners.push(member);
            }
        }
        for r in sqlx::query(&format!(
            "SELECT d.task_id, d.depends_on_task_id FROM task_dependencies d JOIN tasks t ON t.id = d.task_id WHERE t.project_id {cond}"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?
        {
            let (task, dep): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            if let Some(i) = index.get(&task) {
                data.tasks[*i].depends_on.push(dep);
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT h.task_id, h.at, h.actor_member_id, h.field, h.old_value, h.new_value FROM task_history h JOIN tasks t ON t.id = h.task_id \
             WHERE t.project_id {cond} AND h.field IN ({REPORT_HISTORY_FIELDS}) ORDER BY h.task_id, h.id"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?;
        lap("owners+deps+history query");
        data.history.reserve(rows.len());
        for r in &rows {
            data.history.push(HistoryRow {
                task_id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor: r.try_get(2)?,
                field: r.try_get(3)?,
                old_value: r.try_get(4)?,
                new_value: r.try_get(5)?,
            });
        }
        drop(rows);
        lap("history decode");
        }
        load_small(&mut conn, cond, pid, days, &mut data).await?;
        conn.commit().await?;
        lap("the rest");
        Ok(data)
    }

    /// The same tasks and history loaded the naive way — one owners query and
    /// one history query per task. Kept only as the benchmark baseline.
    #[doc(hidden)]
    pub async fn report_dataset_per_task(&self, project_id: i64) -> Result<Dataset> {
        let mut data = self.load_dataset(Some(project_id), &StandupDays::default(), false).await?;
        let mut conn = self.pool.acquire().await?;
        for t in &mut data.tasks {
            for r in sqlx::query("SELECT member_id FROM task_owners WHERE task_id = $1 ORDER BY position").bind(t.id).fetch_all(&mut *conn).await? {
                t.owners.push(r.try_get(0)?);
            }
            for r in sqlx::query(&format!(
                "SELECT task_id, at, actor_member_id, field, old_value, new_value FROM task_history WHERE task_id = $1 AND field IN ({REPORT_HISTORY_FIELDS}) ORDER BY id"
            ))
            .bind(t.id)
            .fetch_all(&mut *conn)
            .await?
            {
                data.history.push(HistoryRow {
                    task_id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    field: r.try_get(3)?,
                    old_value: r.try_get(4)?,
                    new_value: r.try_get(5)?,
                });
            }
        }
        Ok(data)
    }
}

/// Members, roster, stand-ups of `days`, milestones, goals, risks and kudos:
/// the small tables every report loads the same way.
async fn load_small(conn: &mut sqlx::AnyConnection, cond: &str, pid: i64, days: &StandupDays, data: &mut Dataset) -> Result<()> {
    for r in sqlx::query("SELECT id, display_name FROM members").fetch_all(&mut *conn).await? {
        data.members.insert(r.try_get(0)?, r.try_get(1)?);
    }
    for r in sqlx::query(&format!("SELECT DISTINCT member_id FROM project_roles WHERE project_id {cond} AND role <> 'viewer' ORDER BY member_id"))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?
    {
        data.roster.push(r.try_get(0)?);
    }
    for r in sqlx::query(&format!(
        "SELECT member_id, project_id, day, yesterday, today, blockers, created_at FROM standups \
         WHERE project_id {cond} AND day >= $2 AND day <= $3 ORDER BY id"
    ))
    .bind(pid)
    .bind(&days.from)
    .bind(&days.to)
    .fetch_all(&mut *conn)
    .await?
    {
        data.standups.push(Standup {
            member_id: r.try_get("member_id")?,
            project_id: r.try_get("project_id")?,
            day: r.try_get("day")?,
            yesterday: list(&r.try_get::<String, _>("yesterday")?),
            today: list(&r.try_get::<String, _>("today")?),
            blockers: list(&r.try_get::<String, _>("blockers")?),
            created_at: r.try_get("created_at")?,
        });
    }
    for r in sqlx::query(&format!("SELECT id, project_id, name, due_at, status, created_at FROM milestones WHERE project_id {cond} ORDER BY id"))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?
    {
        data.milestones.push(Milestone {
            id: r.try_get("id")?,
            project_id: r.try_get("project_id")?,
            name: r.try_get("name")?,
            due_at: r.try_get("due_at")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
        });
    }
    for r in sqlx::query(&format!(
        "SELECT id, project_id, name, metric, target, current, unit, deadline_at FROM goals WHERE project_id {cond} ORDER BY id"
    ))
    .bind(pid)
    .fetch_all(&mut *conn)
    .await?
    {
        data.goals.push(Goal {
            id: r.try_get("id")?,
            project_id: r.try_get("project_id")?,
            name: r.try_get("name")?,
            metric: r.try_get("metric")?,
            target: r.try_get("target")?,
            current: r.try_get("current")?,
            unit: r.try_get("unit")?,
            deadline_at: r.try_get("deadline_at")?,
        });
    }
    for r in sqlx::query(&format!(
        "SELECT id, project_id, title, probability, impact, owner_member_id, status, created_at FROM risks WHERE project_id {cond} ORDER BY id"
    ))
    .bind(pid)
    .fetch_all(&mut *conn)
    .await?
    {
        data.risks.push(Risk {
            id: r.try_get("id")?,
            project_id: r.try_get("project_id")?,
            title: r.try_get("title")?,
            probability: r.try_get("probability")?,
            impact: r.try_get("impact")?,
            owner: r.try_get("owner_member_id")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
        });
    }
    for r in sqlx::query(&format!("SELECT to_member_id, reason, created_at FROM kudos WHERE project_id {cond} ORDER BY id"))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await?
    {
        data.kudos.push(qunban_report::KudosRow { to: r.try_get("to_member_id")?, reason: r.try_get("reason")?, at: r.try_get("created_at")? });
    }
    Ok(())
}

/// A generated history row: task, instant, actor, field, old and new value.
type BenchHistoryRow = (i64, i64, i64, &'static str, Option<String>, Option<String>);

/// "Now" of the generated benchmark project: 2026-11-23 12:00 (Asia/Shanghai).
pub const BENCH_NOW: i64 = 1_795_406_400;

/// Fills a new project with `tasks` tasks and about `history` history rows
/// (one `created` row per task, then status, progress, deadline and owner
/// changes consistent with each task's final state), in large transactions.
/// For benchmarks only. Returns the project id.
#[doc(hidden)]
pub async fn bench_fill(store: &Store, name: &str, tasks: u64, history: u64, mut progress: impl FnMut(u64, u64)) -> Result<i64> {
    let project = store.create_project(name, None).await?.id;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n.max(1)
    };
    let mut tx = store.begin().await?;
    let mut members = Vec::new();
    for i in 0..50 {
        let id: i64 = sqlx::query_scalar("INSERT INTO members (display_name, mobile, created_at) VALUES ($1, NULL, $2) RETURNING id")
            .bind(format!("成员{i:02}"))
            .bind(BENCH_NOW - 400 * 86_400)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO project_roles (project_id, member_id, role) VALUES ($1, $2, 'executor')").bind(project).bind(id).execute(&mut *tx).await?;
        members.push(id);
    }
    let mut milestones = Vec::new();
    for i in 0..20 {
        let id: i64 = sqlx::query_scalar("INSERT INTO milestones (project_id, name, due_at, status, created_at) VALUES ($1, $2, $3, 'open', $4) RETURNING id")
            .bind(project)
            .bind(format!("里程碑{i:02}"))
            .bind(BENCH_NOW - 300 * 86_400 + i * 18 * 86_400)
            .bind(BENCH_NOW - 400 * 86_400)
            .fetch_one(&mut *tx)
            .await?;
        milestones.push(id);
    }
    tx.commit().await?;
    let first_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tasks").fetch_one(&store.pool).await?;
    let per_task = (history.saturating_sub(tasks)) as f64 / tasks.max(1) as f64;
    let mut budget = history.saturating_sub(tasks);
    let ts = |t: i64| jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default();
    const BATCH: u64 = 2_000;
    let mut next = 0u64;
    while next < tasks {
        let end = (next + BATCH).min(tasks);
        let mut task_rows = Vec::new();
        let mut owner_rows = Vec::new();
        let mut hist_rows: Vec<BenchHistoryRow> = Vec::new();
        for i in next..end {
            let id = first_id + i as i64;
            let created = BENCH_NOW - 365 * 86_400 + rnd(365 * 86_400) as i64;
            let mut owner = members[rnd(members.len() as u64) as usize];
            let actor = owner;
            let mut due = Some(created + (1 + rnd(20) as i64) * 86_400);
            let (mut status, mut prog, mut done_at) = ("todo", 0i64, None::<i64>);
            hist_rows.push((id, created, actor, "created", None, Some(format!("TASK-{:06}", i + 1))));
            // How many change rows this task gets (averaging `per_task`).
            let remaining_tasks = tasks - i;
            let n = if remaining_tasks == 1 { budget } else { ((per_task * (0.5 + rnd(1000) as f64 / 1000.0)) as u64).min(budget) };
            budget -= n;
            let mut t = created;
            for k in 0..n {
                t += 600 + rnd(12 * 3600) as i64;
                let t = t.min(BENCH_NOW - 60);
                let last = k + 1 == n;
                let roll = rnd(100);
                if last && rnd(100) < 65 {
                    // Finish (or cancel) most tasks with their last change.
                    let to = if rnd(100) < 7 { "cancelled" } else { "done" };
                    if status != to {
                        hist_rows.push((id, t, actor, "status", Some(status.into()), Some(to.into())));
                        if to == "done" {
                            done_at = Some(t);
                            prog = 100;
                        }
                        status = to;
                        continue;
                    }
                }
                if roll < 45 && !matches!(status, "done" | "cancelled") {
                    let np = (prog + 5 + rnd(30) as i64).min(95);
                    hist_rows.push((id, t, actor, "progress", Some(prog.to_string()), Some(np.to_string())));
                    prog = np;
                    if status == "todo" {
                        hist_rows.push((id, t, actor, "status", Some("todo".into()), Some("in_progress".into())));
                        status = "in_progress";
                    }
                } else if roll < 70 {
                    let to = match status {
                        "todo" => "in_progress",
                        "in_progress" => ["blocked", "review", "done"][rnd(3) as usize],
                        "blocked" | "review" => "in_progress",
                        "done" => "in_progress", // reopened
                        _ => "todo",
                    };
                    hist_rows.push((id, t, actor, "status", Some(status.into()), Some(to.into())));
                    done_at = if to == "done" { Some(t) } else { None };
                    if to == "done" {
                        prog = 100;
                    } else if status == "done" {
                        prog = 90;
                    }
                    status = to;
                } else if roll < 88 {
                    let nd = due.unwrap_or(t) + (1 + rnd(5) as i64) * 86_400;
                    hist_rows.push((id, t, actor, "due", due.map(ts), Some(ts(nd))));
                    due = Some(nd);
                } else {
                    let no = members[rnd(members.len() as u64) as usize];
                    if no != owner {
                        hist_rows.push((id, t, actor, "owners", Some(owner.to_string()), Some(no.to_string())));
                        owner = no;
                    } else {
                        hist_rows.push((id, t, actor, "note", None, Some("备注".into())));
                    }
                }
            }
            let updated = t.min(BENCH_NOW - 60);
            let milestone = (rnd(4) == 0).then(|| milestones[rnd(milestones.len() as u64) as usize]);
            task_rows.push((id, i as i64 + 1, status, prog, due, created, updated, done_at, milestone));
            owner_rows.push((id, owner));
        }
        let mut tx = store.begin().await?;
        for chunk in task_rows.chunks(500) {
            let mut sql2 = String::from(
                "INSERT INTO tasks (id, project_id, seq, reference, title, status, progress, priority, note, due_at, parent_task_id, milestone_id, \
                 created_by_message_id, created_at, updated_at, done_at) VALUES ",
            );
            for (k, _) in chunk.iter().enumerate() {
                let b = k * 12;
                if k > 0 {
                    sql2.push(',');
                }
                sql2 += &format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, NULL, NULL, ${}, NULL, ${}, NULL, ${}, ${}, ${})",
                    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12
                );
            }
            let mut q = sqlx::query(&sql2);
            for (id, seq, status, prog, due, created, updated, done_at, milestone) in chunk {
                q = q
                    .bind(*id)
                    .bind(project)
                    .bind(*seq)
                    .bind(format!("TASK-{seq:06}"))
                    .bind(format!("任务 {seq}"))
                    .bind(*status)
                    .bind(*prog)
                    .bind(*due)
                    .bind(*milestone)
                    .bind(*created)
                    .bind(*updated)
                    .bind(*done_at);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in owner_rows.chunks(1000) {
            let mut sql = String::from("INSERT INTO task_owners (task_id, member_id, position) VALUES ");
            for (k, _) in chunk.iter().enumerate() {
                if k > 0 {
                    sql.push(',');
                }
                sql += &format!("(${}, ${}, 0)", k * 2 + 1, k * 2 + 2);
            }
            let mut q = sqlx::query(&sql);
            for (t, m) in chunk {
                q = q.bind(*t).bind(*m);
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in hist_rows.chunks(1000) {
            let mut sql = String::from("INSERT INTO task_history (task_id, at, actor_member_id, source, message_id, field, old_value, new_value) VALUES ");
            for (k, _) in chunk.iter().enumerate() {
                let b = k * 6;
                if k > 0 {
                    sql.push(',');
                }
                sql += &format!("(${}, ${}, ${}, 'bench', NULL, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6);
            }
            let mut q = sqlx::query(&sql);
            for (t, at, actor, field, old, new) in chunk {
                q = q.bind(*t).bind(*at).bind(*actor).bind(*field).bind(old.clone()).bind(new.clone());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        next = end;
        progress(next, tasks);
    }
    sqlx::query("UPDATE projects SET task_seq = $2 WHERE id = $1").bind(project).bind(tasks as i64).execute(&store.pool).await?;
    Ok(project)
}
