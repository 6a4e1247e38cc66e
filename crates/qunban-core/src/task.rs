//! A task and the rules every change to it must respect.
//!
//! The rules live here, not in storage or handlers, so that the chat, the API
//! and a replay of the message log all enforce the same invariants.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Priority, TaskStatus};

/// A task as the interpreter sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub project_id: i64,
    /// Per-project reference, `TASK-001`.
    pub reference: String,
    pub title: String,
    /// Member ids of the owners.
    pub owners: Vec<i64>,
    pub due: Option<Timestamp>,
    pub status: TaskStatus,
    pub progress: u8,
    pub priority: Option<Priority>,
    pub note: Option<String>,
    pub parent_task_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

/// Why a change to a task was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("progress must be between 0 and 100, got {0}")]
    ProgressOutOfRange(i64),
    #[error("task {reference} is {status}; reopen it before changing its progress")]
    ClosedTask { reference: String, status: TaskStatus },
    #[error("a cancelled task cannot be marked done; reopen it first")]
    CancelledToDone,
    #[error("a task needs a title")]
    EmptyTitle,
}

/// Checks a progress figure given by a person.
pub fn check_progress(value: i64) -> Result<u8, TaskError> {
    u8::try_from(value)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or(TaskError::ProgressOutOfRange(value))
}

/// The effect of moving a task to `to`: the status, progress and done time it
/// ends with. Done means 100 %; reopening a done task clears its done time and
/// keeps the progress people reported, capped below 100.
pub fn transition(
    task: &Task,
    to: TaskStatus,
    now: Timestamp,
) -> Result<(TaskStatus, u8, Option<Timestamp>), TaskError> {
    if task.status == to {
        return Ok((task.status, task.progress, task.done_at));
    }
    if task.status == TaskStatus::Cancelled && to == TaskStatus::Done {
        return Err(TaskError::CancelledToDone);
    }
    Ok(match to {
        TaskStatus::Done => (to, 100, Some(now)),
        _ if task.status == TaskStatus::Done => (to, task.progress.min(90), None),
        _ => (to, task.progress, None),
    })
}

/// The effect of reporting `progress` on an open task: 100 % completes it,
/// anything above 0 on a todo task means work has started.
pub fn report_progress(
    task: &Task,
    progress: u8,
    now: Timestamp,
) -> Result<(TaskStatus, u8, Option<Timestamp>), TaskError> {
    if task.status.is_closed() {
        return Err(TaskError::ClosedTask {
            reference: task.reference.clone(),
            status: task.status,
        });
    }
    Ok(match progress {
        100 => (TaskStatus::Done, 100, Some(now)),
        p if p > 0 && task.status == TaskStatus::Todo => (TaskStatus::InProgress, p, None),
        p => (task.status, p, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: TaskStatus, progress: u8) -> Task {
        let t: Timestamp = "2026-01-14T02:30:00Z".parse().unwrap();
        Task {
            id: 1,
            project_id: 1,
            reference: "TASK-001".into(),
            title: "需求文档".into(),
            owners: vec![1],
            due: None,
            status,
            progress,
            priority: None,
            note: None,
            parent_task_id: None,
            milestone_id: None,
            created_at: t,
            updated_at: t,
            done_at: None,
        }
    }

    fn now() -> Timestamp {
        "2026-01-15T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn done_sets_full_progress_and_done_time() {
        let (s, p, d) = transition(&task(TaskStatus::InProgress, 40), TaskStatus::Done, now()).unwrap();
        assert_eq!((s, p, d), (TaskStatus::Done, 100, Some(now())));
    }

    #[test]
    fn reopening_clears_done_time_and_caps_progress() {
        let mut t = task(TaskStatus::Done, 100);
        t.done_at = Some(now());
        let (s, p, d) = transition(&t, TaskStatus::InProgress, now()).unwrap();
        assert_eq!((s, p, d), (TaskStatus::InProgress, 90, None));
    }

    #[test]
    fn cancelled_task_cannot_jump_to_done() {
        let err = transition(&task(TaskStatus::Cancelled, 10), TaskStatus::Done, now()).unwrap_err();
        assert_eq!(err, TaskError::CancelledToDone);
        // but it can be reopened
        assert!(transition(&task(TaskStatus::Cancelled, 10), TaskStatus::Todo, now()).is_ok());
    }

    #[test]
    fn progress_bounds() {
        assert_eq!(check_progress(0), Ok(0));
        assert_eq!(check_progress(100), Ok(100));
        assert_eq!(check_progress(101), Err(TaskError::ProgressOutOfRange(101)));
        assert_eq!(check_progress(-5), Err(TaskError::ProgressOutOfRange(-5)));
    }

    #[test]
    fn progress_starts_and_finishes_work() {
        assert_eq!(report_progress(&task(TaskStatus::Todo, 0), 60, now()).unwrap().0, TaskStatus::InProgress);
        assert_eq!(report_progress(&task(TaskStatus::Blocked, 30), 40, now()).unwrap().0, TaskStatus::Blocked);
        assert_eq!(report_progress(&task(TaskStatus::InProgress, 30), 100, now()).unwrap(), (TaskStatus::Done, 100, Some(now())));
        assert!(matches!(
            report_progress(&task(TaskStatus::Done, 100), 50, now()),
            Err(TaskError::ClosedTask { .. })
        ));
    }

    #[test]
    fn every_status_round_trips_through_its_name() {
        for s in TaskStatus::ALL {
            assert_eq!(s.as_str().parse::<TaskStatus>().unwrap(), *s);
        }
        assert!("finished".parse::<TaskStatus>().is_err());
    }
}
