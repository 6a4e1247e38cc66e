//! Reading tasks and their history.

use jiff::Timestamp;
use qunban_core::{Priority, Task, TaskStatus};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Result, Store, StoreError};

/// A task with the names a person wants to see next to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: Task,
    pub project: String,
    pub owner_names: Vec<String>,
}

/// Which tasks to list. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub status: Option<TaskStatus>,
    /// Open tasks whose deadline is before this instant.
    pub overdue_at: Option<Timestamp>,
    pub limit: Option<i64>,
    /// Only tasks after this position in the list order (a page's cursor).
    pub after: Option<TaskCursor>,
    /// Only tasks of projects this member may read: those where they have a
    /// role, and those where nobody has a role yet (a team that has not set
    /// up roles works openly). `None`: no scoping (admins, the CLI).
    pub readable_by: Option<i64>,
}

/// A position in the task list order `(project_id, seq)`: the last task of a
/// page. Shown to API clients as an opaque string (`Display` / `FromStr`),
/// so the order can change later without breaking them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCursor {
    pub project_id: i64,
    pub seq: i64,
}

impl std::fmt::Display for TaskCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t1.{}.{}", self.project_id, self.seq)
    }
}

impl std::str::FromStr for TaskCursor {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<TaskCursor> {
        let bad = || StoreError::Invalid(format!("bad cursor '{s}': pass the next_cursor of the previous page unchanged"));
        let mut parts = s.strip_prefix("t1.").ok_or_else(bad)?.splitn(2, '.');
        let project_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        Ok(TaskCursor { project_id, seq })
    }
}

/// One page of the task list.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPage {
    pub tasks: Vec<TaskView>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TaskCursor>,
}

/// One change in a task's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub actor: Option<String>,
    pub source: String,
    pub message_id: Option<i64>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

pub(crate) const TASK_COLUMNS: &str = "t.id, t.project_id, t.reference, t.title, t.status, t.progress, t.priority, t.note, t.due_at, \
     t.parent_task_id, t.milestone_id, t.created_at, t.updated_at, t.done_at";

fn ts(secs: Option<i64>) -> Result<Option<Timestamp>> {
    secs.map(|s| Timestamp::from_second(s).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}

pub(crate) fn task_from(r: &AnyRow, owners: Vec<i64>) -> Result<Task> {
    let status: String = r.try_get("status")?;
    let priority: Option<String> = r.try_get("priority")?;
    let progress: i64 = r.try_get("progress")?;
    Ok(Task {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        reference: r.try_get("reference")?,
        title: r.try_get("title")?,
        owners,
        due: ts(r.try_get("due_at")?)?,
        status: status.parse().map_err(|e: qunban_core::model::UnknownName| StoreError::Corrupt(e.to_string()))?,
        progress: u8::try_from(progress).map_err(|_| StoreError::Corrupt(format!("progress {progress}")))?,
        priority: priority.and_then(|p| p.parse::<Priority>().ok()),
        note: r.try_get("note")?,
        parent_task_id: r.try_get("parent_task_id")?,
        milestone_id: r.try_get("milestone_id")?,
        created_at: ts(Some(r.try_get("created_at")?))?.unwrap_or_default(),
        updated_at: ts(Some(r.try_get("updated_at")?))?.unwrap_or_default(),
        done_at: ts(r.try_get("done_at")?)?,
    })
}

pub(crate) async fn owners_of(conn: &mut AnyConnection, task_id: i64) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT m.id, m.display_name FROM task_owners o JOIN members m ON m.id = o.member_id WHERE o.task_id = $1 ORDER BY o.position",
    )
    .bind(task_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?))).collect()
}

/// The owners (id, display name) of each of `task_ids`, in owner order, in
/// one query per 500 tasks instead of one per task.
pub(crate) async fn owners_of_many(conn: &mut AnyConnection, task_ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<(i64, String)>>> {
    let mut out: std::collections::HashMap<i64, Vec<(i64, String)>> = std::collections::HashMap::new();
    for chunk in task_ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT o.task_id, m.id, m.display_name FROM task_owners o JOIN members m ON m.id = o.member_id \
             WHERE o.task_id IN ({}) ORDER BY o.task_id, o.position",
            params.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            out.entry(r.try_get("task_id")?).or_default().push((r.try_get("id")?, r.try_get("display_name")?));
        }
    }
    Ok(out)
}

pub(crate) async fn load_task(conn: &mut AnyConnection, id: i64) -> Result<Option<Task>> {
    let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    match row {
        Some(r) => {
            let owners = owners_of(conn, id).await?.into_iter().map(|(id, _)| id).collect();
            Ok(Some(task_from(&r, owners)?))
        }
        None => Ok(None),
    }
}

/// The task a reference names in a project, with its owners: the row by
/// reference directly, then the owners (two queries).
pub(crate) async fn find_task_by_ref(conn: &mut AnyConnection, project_id: i64, reference: &str) -> Result<Option<Task>> {
    let canonical = qunban_core::interpret::canonical_reference(reference);
    let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.project_id = $1 AND t.reference = $2"))
        .bind(project_id)
        .bind(&canonical)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            let owners = owners_of(conn, id).await?.into_iter().map(|(id, _)| id).collect();
            Ok(Some(task_from(&r, owners)?))
        }
        None => Ok(None),
    }
}

/// Only the id of the task a reference names in a project.
pub(crate) async fn task_id_by_ref(conn: &mut AnyConnection, project_id: i64, reference: &str) -> Result<Option<i64>> {
    let canonical = qunban_core::interpret::canonical_reference(reference);
    Ok(sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 AND reference = $2")
        .bind(project_id)
        .bind(&canonical)
        .fetch_optional(&mut *conn)
        .await?)
}

impl Store {
    /// Tasks matching `filter`, ordered by project then reference.
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskView>> {
        Ok(self.task_rows(filter).await?.0)
    }

    /// One page of at most `limit` tasks matching `filter` (whose own
    /// `limit` is ignored), after `filter.after`, in list order, with the
    /// cursor of the next page. Filters and scoping run in SQL, so a page is
    /// full unless it is the last one.
    pub async fn tasks_page(&self, filter: &TaskFilter, limit: i64) -> Result<TaskPage> {
        let limit = limit.max(1);
        // One row more than asked tells whether there is a next page.
        let f = TaskFilter { limit: Some(limit + 1), ..filter.clone() };
        let (mut tasks, mut seqs) = self.task_rows(&f).await?;
        let more = tasks.len() as i64 > limit;
        tasks.truncate(limit as usize);
        seqs.truncate(limit as usize);
        let next = match (more, tasks.last(), seqs.last()) {
            (true, Some(v), Some(seq)) => Some(TaskCursor { project_id: v.task.project_id, seq: *seq }),
            _ => None,
        };
        Ok(TaskPage { tasks, next })
    }

    /// The tasks and their `seq` (the list order within a project), with
    /// the owners of all of them read in one query.
    async fn task_rows(&self, filter: &TaskFilter) -> Result<(Vec<TaskView>, Vec<i64>)> {
        let mut sql = format!("SELECT {TASK_COLUMNS}, t.seq, p.name AS project_name FROM tasks t JOIN projects p ON p.id = t.project_id WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if filter.project_id.is_some() {
            sql += &format!(" AND t.project_id = ${}", next());
        }
        if filter.owner_id.is_some() {
            sql += &format!(" AND t.id IN (SELECT task_id FROM task_owners WHERE member_id = ${})", next());
        }
        if filter.status.is_some() {
            sql += &format!(" AND t.status = ${}", next());
        }
        if filter.overdue_at.is_some() {
            sql += &format!(" AND t.status NOT IN ('done', 'cancelled') AND t.due_at IS NOT NULL AND t.due_at < ${}", next());
        }
        if filter.after.is_some() {
            // Row values are not in every SQLite a user may link; spelt out.
            let (a, b, c) = (next(), next(), next());
            sql += &format!(" AND (t.project_id > ${a} OR (t.project_id = ${b} AND t.seq > ${c}))");
        }
        if filter.readable_by.is_some() {
            sql += &format!(
                " AND (t.project_id IN (SELECT project_id FROM project_roles WHERE member_id = ${}) \
                 OR NOT EXISTS (SELECT 1 FROM project_roles r WHERE r.project_id = t.project_id))",
                next()
            );
        }
        sql += " ORDER BY t.project_id, t.seq";
        if filter.limit.is_some() {
            sql += &format!(" LIMIT ${}", next());
        }
        let mut q = sqlx::query(&sql);
        if let Some(p) = filter.project_id {
            q = q.bind(p);
        }
        if let Some(o) = filter.owner_id {
            q = q.bind(o);
        }
        if let Some(s) = filter.status {
            q = q.bind(s.as_str());
        }
        if let Some(t) = filter.overdue_at {
            q = q.bind(t.as_second());
        }
        if let Some(c) = filter.after {
            q = q.bind(c.project_id).bind(c.project_id).bind(c.seq);
        }
        if let Some(m) = filter.readable_by {
            q = q.bind(m);
        }
        if let Some(l) = filter.limit {
            q = q.bind(l);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let ids = rows.iter().map(|r| r.try_get("id")).collect::<Result<Vec<i64>, _>>()?;
        let mut owners = owners_of_many(&mut conn, &ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut seqs = Vec::with_capacity(rows.len());
        for (r, id) in rows.iter().zip(&ids) {
            let owners = owners.remove(id).unwrap_or_default();
            out.push(TaskView {
                task: task_from(r, owners.iter().map(|(id, _)| *id).collect())?,
                project: r.try_get("project_name")?,
                owner_names: owners.into_iter().map(|(_, n)| n).collect(),
            });
            seqs.push(r.try_get("seq")?);
        }
        Ok((out, seqs))
    }

    /// A task by project and reference (`TASK-001`, `task-1` or `1`).
    pub async fn task_by_ref(&self, project_id: i64, reference: &str) -> Result<TaskView> {
        let mut conn = self.pool.acquire().await?;
        let task = find_task_by_ref(&mut conn, project_id, reference)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "task", name: reference.to_string() })?;
        let owner_names = owners_of(&mut conn, task.id).await?.into_iter().map(|(_, n)| n).collect();
        let project: String = sqlx::query_scalar("SELECT name FROM projects WHERE id = $1").bind(project_id).fetch_one(&mut *conn).await?;
        Ok(TaskView { task, project, owner_names })
    }

    /// The full change history of a task, oldest first.
    pub async fn task_history(&self, task_id: i64) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT h.at, m.display_name, h.source, h.message_id, h.field, h.old_value, h.new_value \
             FROM task_history h LEFT JOIN members m ON m.id = h.actor_member_id WHERE h.task_id = $1 ORDER BY h.id",
        )
        .bind(task_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("display_name")?,
                    source: r.try_get("source")?,
                    message_id: r.try_get("message_id")?,
                    field: r.try_get("field")?,
                    old_value: r.try_get("old_value")?,
                    new_value: r.try_get("new_value")?,
                })
            })
            .collect()
    }
}
