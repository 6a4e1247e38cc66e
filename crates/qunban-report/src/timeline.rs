//! A task's life rebuilt from its history rows: which deadline, owners and
//! status were in force at any instant.

use qunban_core::TaskStatus;
use serde::Serialize;

use crate::{parse_instant, parse_owner_ids, HistoryRow, RTask};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub created_at: i64,
    /// The deadline the task was created with.
    pub original_due: Option<i64>,
    /// `(at, new deadline)` in order.
    pub due_changes: Vec<(i64, Option<i64>)>,
    /// Changes of an existing deadline (setting a first deadline is no move).
    pub deadline_moves: u32,
    /// Moves to a later deadline.
    pub deadline_slips: u32,
    pub initial_owners: Vec<i64>,
    pub owner_changes: Vec<(i64, Vec<i64>)>,
    pub initial_status: Option<TaskStatus>,
    /// `(at, old, new)` in order.
    pub status_changes: Vec<(i64, TaskStatus, TaskStatus)>,
    /// Instants the task became done (a reopened and re-finished task has several).
    pub completions: Vec<i64>,
    /// Done → not done transitions.
    pub reopens: u32,
    /// The completion that stands: the task is done now, finished at this instant.
    pub final_done: Option<i64>,
}

impl Timeline {
    pub fn build(task: &RTask, rows: &[HistoryRow]) -> Timeline {
        let mut tl = Timeline { created_at: task.created_at, ..Default::default() };
        let mut first_due_seen = false;
        let mut first_owner_seen = false;
        for r in rows {
            match r.field.as_str() {
                "due" => {
                    let old = r.old_value.as_deref().and_then(parse_instant);
                    let new = r.new_value.as_deref().and_then(parse_instant);
                    if !first_due_seen {
                        tl.original_due = old;
                        first_due_seen = true;
                    }
                    if let (Some(o), Some(n)) = (old, new) {
                        if o != n {
                            tl.deadline_moves += 1;
                            if n > o {
                                tl.deadline_slips += 1;
                            }
                        }
                    }
                    tl.due_changes.push((r.at, new));
                }
                "owners" => {
                    if !first_owner_seen {
                        tl.initial_owners = r.old_value.as_deref().map(parse_owner_ids).unwrap_or_default();
                        first_owner_seen = true;
                    }
                    tl.owner_changes.push((r.at, r.new_value.as_deref().map(parse_owner_ids).unwrap_or_default()));
                }
                "status" => {
                    let old = r.old_value.as_deref().and_then(|s| s.parse::<TaskStatus>().ok());
                    let new = r.new_value.as_deref().and_then(|s| s.parse::<TaskStatus>().ok());
                    if let (Some(o), Some(n)) = (old, new) {
                        if tl.initial_status.is_none() && tl.status_changes.is_empty() {
                            tl.initial_status = Some(o);
                        }
                        if n == TaskStatus::Done && o != TaskStatus::Done {
                            tl.completions.push(r.at);
                        }
                        if o == TaskStatus::Done && n != TaskStatus::Done {
                            tl.reopens += 1;
                        }
                        tl.status_changes.push((r.at, o, n));
                    }
                }
                _ => {}
            }
        }
        if !first_due_seen {
            tl.original_due = task.due;
        }
        if !first_owner_seen {
            tl.initial_owners = task.owners.clone();
        }
        if tl.initial_status.is_none() {
            tl.initial_status = Some(task.status);
        }
        if tl.initial_status == Some(TaskStatus::Done) {
            // Created done (an imported or template task already finished).
            tl.completions.insert(0, task.created_at);
        }
        if task.status == TaskStatus::Done {
            tl.final_done = tl.completions.last().copied().or(task.done_at).or(Some(task.updated_at));
        }
        tl
    }

    /// The deadline in force at `t`.
    pub fn due_at(&self, t: i64) -> Option<i64> {
        let mut due = self.original_due;
        for (at, d) in &self.due_changes {
            if *at <= t {
                due = *d;
            } else {
                break;
            }
        }
        due
    }

    /// The owners in force at `t`.
    pub fn owners_at(&self, t: i64) -> &[i64] {
        let mut owners = &self.initial_owners[..];
        for (at, o) in &self.owner_changes {
            if *at <= t {
                owners = o;
            } else {
                break;
            }
        }
        owners
    }

    /// The status at `t`, or `None` before the task existed.
    pub fn status_at(&self, t: i64) -> Option<TaskStatus> {
        if t < self.created_at {
            return None;
        }
        let mut s = self.initial_status;
        for (at, _, new) in &self.status_changes {
            if *at <= t {
                s = Some(*new);
            } else {
                break;
            }
        }
        s
    }

    /// How many times the owners changed.
    pub fn reassignments(&self) -> u32 {
        self.owner_changes.len() as u32
    }
}
