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

pub(crate) async fn find_task_by_ref(conn: &mut AnyConnection, project_id: i64, reference: &str) -> Result<Option<Task>> {
    let canonical = qunban_core::interpret::canonical_reference(reference);
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 AND reference = $2")
        .bind(project_id)
        .bind(&canonical)
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(id) => load_task(conn, id).await,
        None => Ok(None),
    }
}

impl Store {
    /// Tasks matching `filter`, ordered by project then reference.
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskView>> {
        let mut sql = format!("SELECT {TASK_COLUMNS}, p.name AS project_name FROM tasks t JOIN projects p ON p.id = t.project_id WHERE 1 = 1");
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
        if let Some(l) = filter.limit {
            q = q.bind(l);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let owners = owners_of(&mut conn, id).await?;
            out.push(TaskView {
                task: task_from(r, owners.iter().map(|(id, _)| *id).collect())?,
                project: r.try_get("project_name")?,
                owner_names: owners.into_iter().map(|(_, n)| n).collect(),
            });
        }
        Ok(out)
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
