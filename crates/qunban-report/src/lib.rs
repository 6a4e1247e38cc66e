//! Reports, metrics, Gantt charts and exports, computed from stored state and
//! task history — never by re-reading chat text.
//!
//! This crate does no IO. The store loads a [`Dataset`] (plain structs: tasks
//! with their owners, the history rows that matter, stand-ups, milestones,
//! goals, risks); the functions here turn it into report structs (serde) and
//! render those as Markdown, JSON, SVG / Mermaid Gantt charts, CSV, XLSX and
//! ICS. Import parsing (CSV / XLSX → validated rows) lives here too.
//!
//! All instants are unix seconds (UTC); the workspace time zone passed in a
//! [`Ctx`] decides where days and weeks begin. The metric definitions are in
//! `docs/METRICS.md`.

pub mod export;
pub mod gantt;
pub mod import;
pub mod markdown;
pub mod metrics;
pub mod report;
pub mod timeline;

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use qunban_core::TaskStatus;
use serde::{Deserialize, Serialize};

pub use metrics::{compute_metrics, Metrics};
pub use report::{daily_report, weekly_report, DailyReport, WeeklyReport};

/// One task as reports see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RTask {
    pub id: i64,
    pub project_id: i64,
    pub reference: String,
    pub title: String,
    pub status: TaskStatus,
    pub progress: u8,
    pub priority: Option<String>,
    /// Current owners (member ids), in order.
    pub owners: Vec<i64>,
    pub due: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub done_at: Option<i64>,
    pub milestone_id: Option<i64>,
    pub parent_task_id: Option<i64>,
    /// Ids of the tasks this one waits for.
    #[serde(default)]
    pub depends_on: Vec<i64>,
}

/// One row of `task_history`. Only `created`, `status`, `due` and `owners`
/// rows are needed for metrics; other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub task_id: i64,
    pub at: i64,
    pub actor: Option<i64>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standup {
    pub member_id: i64,
    pub project_id: Option<i64>,
    /// Local day, `YYYY-MM-DD`.
    pub day: String,
    pub yesterday: Vec<String>,
    pub today: Vec<String>,
    pub blockers: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub due_at: Option<i64>,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub metric: Option<String>,
    pub target: Option<f64>,
    pub current: Option<f64>,
    pub unit: Option<String>,
    pub deadline_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub probability: String,
    pub impact: String,
    pub owner: Option<i64>,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
}

/// Everything a report is computed from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dataset {
    pub projects: Vec<Project>,
    pub tasks: Vec<RTask>,
    /// Ordered by task, then by the order the changes happened.
    pub history: Vec<HistoryRow>,
    pub standups: Vec<Standup>,
    pub milestones: Vec<Milestone>,
    pub goals: Vec<Goal>,
    pub risks: Vec<Risk>,
    /// Member id → display name.
    pub members: HashMap<i64, String>,
    /// Members expected to post a stand-up (project roles); when empty, the
    /// owners of open tasks are expected.
    pub roster: Vec<i64>,
    /// Thank-yous given in the chat (`/点赞`), for the weekly stars.
    #[serde(default)]
    pub kudos: Vec<KudosRow>,
    /// Set when the loader left out what cannot matter from an instant on
    /// (`Store::report_window`); `None` for a complete dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduced: Option<Reduced>,
}

/// A dataset loaded for reports that look only at `since` and later: the
/// daily report of a day starting at or after `since`, metrics of a period
/// starting at or after it. Every figure is then the same as from the
/// complete dataset (docs/METRICS.md, "Loading for a window").
///
/// - `tasks` holds every task that is open now, or was created, changed or
///   finished at or after `since` (plus parents and sub-tasks); the other
///   tasks are closed and untouched since, and are only counted.
/// - `history` holds, for tasks whose status is `done`, their whole history,
///   and for the other loaded tasks (`partial`) the rows at or after `since`:
///   their timelines are exact from `since - 1` on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reduced {
    pub since: i64,
    /// Ids of the loaded tasks whose history before `since` was left out (sorted).
    pub partial: Vec<i64>,
    /// All tasks, loaded or not, counted by milestone and status.
    pub counts: Vec<TaskCount>,
    /// Burn-down of all milestone tasks for the local days that end at or
    /// before `since`: the change of (scope, done) on each day, from creations
    /// and status changes. Sorted by milestone, then day.
    pub burn_steps: Vec<BurnStep>,
    /// Set when the loader left the burn steps out (a load for the daily
    /// report only, which has no burn-downs): such a dataset cannot give
    /// metrics or the weekly report.
    #[serde(default)]
    pub without_burn_steps: bool,
    /// Set for a load for the metrics only (`Store::report_window_metrics`):
    /// of the `partial` tasks' rows since `since`, `history` then holds only
    /// the status changes of milestone tasks (burn-downs); every other row
    /// is left out and, when it counts in the period figures (reopen,
    /// reassignment, deadline move or slip, see [`metrics::classify`]), is
    /// in `changes`. Such a dataset cannot give the daily or weekly report.
    #[serde(default)]
    pub metrics_only: bool,
    /// The left-out rows that count in the period figures (`metrics_only`).
    #[serde(default)]
    pub changes: Vec<ChangeEvent>,
    /// Set by a load for the metrics only: the open tasks with no change
    /// since `since` are left out of `tasks` and only counted here, for the
    /// workload and overdue figures at one instant and the burn-down days
    /// after `since` (where such a task stays in scope and not done).
    #[serde(default)]
    pub open_left_out: Option<OpenLeftOut>,
}

/// The open tasks left out of a metrics-only load, counted for the
/// workload at [`OpenLeftOut::now`] (metrics computed for another "now" or
/// week would be wrong, so `compute_metrics` refuses that).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenLeftOut {
    /// The `Ctx::now` the figures were counted for.
    pub now: i64,
    /// The local week of `now`, `[start, end)`, as `Ctx::week_range` gives.
    pub week: (i64, i64),
    /// Per milestone (`None`: outside milestones).
    pub tasks: Vec<OpenCount>,
    /// Per owner, status and deadline class: one per (task, owner).
    pub owners: Vec<OwnerCount>,
}

/// Left-out open tasks of one milestone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCount {
    pub milestone_id: Option<i64>,
    pub count: u64,
    /// Of those, past their deadline at `now`.
    pub overdue: u64,
}

/// Left-out open tasks of one owner with the same status and deadline class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerCount {
    pub member: i64,
    pub status: TaskStatus,
    /// Deadline before `now`.
    pub overdue: bool,
    /// Deadline within the week of `now`.
    pub due_this_week: bool,
    pub count: u64,
}

/// A history row left out of a metrics-only dataset, by what it counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub at: i64,
    pub change: metrics::Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCount {
    pub milestone_id: Option<i64>,
    pub status: TaskStatus,
    pub count: u64,
    /// The earliest `created_at` among them.
    pub first_created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurnStep {
    pub milestone_id: i64,
    pub day: Date,
    pub scope: i64,
    pub done: i64,
}

/// One `/点赞 @成员 理由`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KudosRow {
    pub to: i64,
    pub reason: String,
    pub at: i64,
}

impl Dataset {
    pub fn member_name(&self, id: i64) -> String {
        self.members.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    pub fn owner_names(&self, t: &RTask) -> Vec<String> {
        t.owners.iter().map(|o| self.member_name(*o)).collect()
    }

    pub fn project_name(&self, id: i64) -> String {
        self.projects.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| format!("#{id}"))
    }

    /// History rows grouped per task (rows must be ordered by task).
    pub fn history_by_task(&self) -> HashMap<i64, &[HistoryRow]> {
        let mut out = HashMap::with_capacity(self.tasks.len());
        let h = &self.history;
        let mut i = 0;
        while i < h.len() {
            let id = h[i].task_id;
            let mut j = i;
            while j < h.len() && h[j].task_id == id {
                j += 1;
            }
            out.insert(id, &h[i..j]);
            i = j;
        }
        out
    }
}

/// When and where a report is computed.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// "Now" for overdue and the today line.
    pub now: i64,
    pub tz: TimeZone,
}

impl Ctx {
    pub fn new(now: i64, tz: TimeZone) -> Ctx {
        Ctx { now, tz }
    }

    pub fn shanghai(now: i64) -> Ctx {
        Ctx::new(now, TimeZone::get("Asia/Shanghai").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(8))))
    }

    /// The local day of an instant.
    pub fn day_of(&self, t: i64) -> Date {
        jiff::Timestamp::from_second(t).unwrap_or_default().to_zoned(self.tz.clone()).date()
    }

    /// The instant a local day starts.
    pub fn start_of(&self, d: Date) -> i64 {
        d.to_zoned(self.tz.clone()).map(|z| z.timestamp().as_second()).unwrap_or(0)
    }

    /// `[start, end)` of a local day.
    pub fn day_range(&self, d: Date) -> (i64, i64) {
        (self.start_of(d), self.start_of(d.tomorrow().unwrap_or(d)))
    }

    /// `[Monday 00:00, next Monday 00:00)` of the ISO week containing `d`.
    pub fn week_range(&self, d: Date) -> (i64, i64) {
        let monday = week_monday(d);
        (self.start_of(monday), self.start_of(add_days(monday, 7)))
    }

    /// Local `YYYY-MM-DD HH:MM`.
    pub fn fmt(&self, t: i64) -> String {
        jiff::Timestamp::from_second(t).unwrap_or_default().to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }

    /// Local `M月D日 HH:MM`.
    pub fn fmt_short(&self, t: i64) -> String {
        jiff::Timestamp::from_second(t).unwrap_or_default().to_zoned(self.tz.clone()).strftime("%-m月%-d日 %H:%M").to_string()
    }
}

pub fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

pub fn week_monday(d: Date) -> Date {
    add_days(d, -i64::from(d.weekday().to_monday_zero_offset()))
}

/// ISO week label `2026-W03`.
pub fn iso_week(d: Date) -> String {
    let w = d.iso_week_date();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Parses a `due` history value: an RFC 3339 instant (what the store writes).
pub fn parse_instant(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Parses an `owners` history value: comma-separated member ids.
pub fn parse_owner_ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}
