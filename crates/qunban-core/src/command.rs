//! Commands: the only way project state changes.
//!
//! The chat interpreter, the REST API, the scheduler and a replay of the
//! message log all produce these same values, so every path goes through the
//! same checks in [`apply_patch`] and leaves the same history.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Priority, TaskStatus};
use crate::task::{check_progress, report_progress, transition, Task, TaskError};

/// A state change requested by someone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateTask(NewTask),
    UpdateTask {
        task_id: i64,
        reference: String,
        patch: TaskPatch,
        /// Owner display names replacing the current owners (`转给 @李四`);
        /// storage resolves them to members.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner_names: Option<Vec<String>>,
    },
    RecordStandup {
        yesterday: Vec<String>,
        today: Vec<String>,
        blockers: Vec<String>,
    },
}

/// A task to create. Owners are display names; storage resolves them to
/// members, registering names it has not seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    pub project_id: i64,
    /// A reference the message asked for (`TASK-007`), kept if still free.
    pub requested_reference: Option<String>,
    pub title: String,
    pub owner_names: Vec<String>,
    pub due: Option<Timestamp>,
    pub status: Option<TaskStatus>,
    pub progress: Option<u8>,
    pub priority: Option<Priority>,
    pub note: Option<String>,
    pub milestone: Option<String>,
    pub depends_on: Vec<String>,
    pub parent_task_id: Option<i64>,
}

/// Fields to change on a task; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Resolved owner member ids replacing the current owners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<i64>>,
    /// Optional fields to empty (an undo restoring "no deadline").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear: Vec<ClearField>,
}

/// An optional task field a patch can empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearField {
    Due,
    Priority,
    Note,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        *self == TaskPatch::default()
    }
}

/// One field's change, as recorded in a task's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Applies `patch` to `task` at `now`, enforcing the task rules, and returns
/// the new task with the list of fields that really changed (an update that
/// repeats the current value records nothing).
pub fn apply_patch(task: &Task, patch: &TaskPatch, now: Timestamp) -> Result<(Task, Vec<FieldChange>), TaskError> {
    let mut next = task.clone();
    if let Some(title) = &patch.title {
        let title = title.trim();
        if title.is_empty() {
            return Err(TaskError::EmptyTitle);
        }
        next.title = title.to_string();
    }
    if let Some(status) = patch.status {
        let (s, p, d) = transition(&next, status, now)?;
        (next.status, next.progress, next.done_at) = (s, p, d);
    }
    if let Some(progress) = patch.progress {
        let progress = check_progress(progress)?;
        let (s, p, d) = report_progress(&next, progress, now)?;
        (next.status, next.progress, next.done_at) = (s, p, d);
    }
    if let Some(due) = patch.due {
        next.due = Some(due);
    }
    if let Some(priority) = patch.priority {
        next.priority = Some(priority);
    }
    if let Some(note) = &patch.note {
        next.note = Some(note.clone());
    }
    for field in &patch.clear {
        match field {
            ClearField::Due => next.due = None,
            ClearField::Priority => next.priority = None,
            ClearField::Note => next.note = None,
        }
    }
    if let Some(owners) = &patch.owners {
        let mut owners = owners.clone();
        owners.dedup();
        next.owners = owners;
    }
    let changes = diff(task, &next);
    if !changes.is_empty() {
        next.updated_at = now;
    }
    Ok((next, changes))
}

/// The fields that differ between two versions of a task, in a fixed order.
pub fn diff(old: &Task, new: &Task) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: &'static str, a: Option<String>, b: Option<String>| {
        if a != b {
            out.push(FieldChange { field, old: a, new: b });
        }
    };
    push("title", Some(old.title.clone()), Some(new.title.clone()));
    push("status", Some(old.status.to_string()), Some(new.status.to_string()));
    push("progress", Some(old.progress.to_string()), Some(new.progress.to_string()));
    push("due", old.due.map(|t| t.to_string()), new.due.map(|t| t.to_string()));
    push("priority", old.priority.map(|p| p.to_string()), new.priority.map(|p| p.to_string()));
    push("note", old.note.clone(), new.note.clone());
    let ids = |v: &[i64]| Some(v.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    push("owners", ids(&old.owners), ids(&new.owners));
    out
}
