//! The daily report with its stand-up digest, and the weekly report.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use qunban_core::TaskStatus;
use serde::Serialize;

use crate::metrics::{metrics_from, Metrics};
use crate::timeline::Timeline;
use crate::{add_days, iso_week, Ctx, Dataset, RTask};

/// A task as a line of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskLine {
    pub reference: String,
    pub title: String,
    pub owners: Vec<String>,
    pub status: TaskStatus,
    pub progress: u8,
    pub due: Option<i64>,
    pub done_at: Option<i64>,
}

impl TaskLine {
    pub fn of(data: &Dataset, t: &RTask) -> TaskLine {
        TaskLine {
            reference: t.reference.clone(),
            title: t.title.clone(),
            owners: data.owner_names(t),
            status: t.status,
            progress: t.progress,
            due: t.due,
            done_at: t.done_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineChange {
    pub task: TaskLine,
    pub at: i64,
    pub old: Option<i64>,
    pub new: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandupDigest {
    pub member: String,
    pub yesterday: Vec<String>,
    pub today: Vec<String>,
    pub blockers: Vec<String>,
}

/// A parent task with the sub-tasks its sub-task groups created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollup {
    pub parent: TaskLine,
    pub subtasks_total: u64,
    pub subtasks_done: u64,
    pub subtasks_overdue: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    pub project: String,
    pub date: String,
    /// Tasks finished that day (and still done).
    pub completed: Vec<TaskLine>,
    pub created: Vec<TaskLine>,
    pub due_today: Vec<TaskLine>,
    /// Open tasks past their deadline at the end of the day (or now).
    pub overdue: Vec<TaskLine>,
    pub blocked: Vec<TaskLine>,
    pub deadline_changes: Vec<DeadlineChange>,
    pub standups: Vec<StandupDigest>,
    /// Expected members without a stand-up that day.
    pub missing_standups: Vec<String>,
    pub rollup: Vec<Rollup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskLine {
    pub title: String,
    pub probability: String,
    pub impact: String,
    pub owner: Option<String>,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyReport {
    pub project: String,
    /// ISO week, `2026-W03`.
    pub week: String,
    pub from: String,
    pub to: String,
    pub completed: Vec<TaskLine>,
    /// Deadlines moved later during the week, or passed during the week
    /// with the task still open.
    pub slipped: Vec<DeadlineChange>,
    pub new_risks: Vec<RiskLine>,
    pub due_next_week: Vec<TaskLine>,
    pub metrics: Metrics,
    pub rollup: Vec<Rollup>,
    /// 每周之星: members thanked this week, most thanked first.
    pub stars: Vec<Star>,
}

/// A member thanked during the week, with every reason given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Star {
    pub member: String,
    pub count: usize,
    pub reasons: Vec<String>,
}

/// The week's stars: thank-yous in [start, end), grouped by member, most
/// thanked first (ties by name, so the order is stable).
fn stars(data: &Dataset, start: i64, end: i64) -> Vec<Star> {
    let mut out: Vec<Star> = Vec::new();
    for k in data.kudos.iter().filter(|k| k.at >= start && k.at < end) {
        let member = data.member_name(k.to);
        match out.iter_mut().find(|s| s.member == member) {
            Some(s) => {
                s.count += 1;
                s.reasons.push(k.reason.clone());
            }
            None => out.push(Star { member, count: 1, reasons: vec![k.reason.clone()] }),
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.member.cmp(&b.member)));
    out
}

/// Each task's history rows, and each task with its timeline.
type Timelines<'a> = (HashMap<i64, &'a [crate::HistoryRow]>, Vec<(&'a RTask, Timeline)>);

fn timelines(data: &Dataset) -> Timelines<'_> {
    let by_task = data.history_by_task();
    let tls = data.tasks.iter().map(|t| (t, Timeline::build(t, by_task.get(&t.id).copied().unwrap_or(&[])))).collect();
    (by_task, tls)
}

fn project_label(data: &Dataset) -> String {
    data.projects.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("、")
}

fn sort_lines(v: &mut [TaskLine]) {
    v.sort_by(|a, b| a.due.unwrap_or(i64::MAX).cmp(&b.due.unwrap_or(i64::MAX)).then_with(|| a.reference.cmp(&b.reference)));
}

fn rollup(data: &Dataset, asof: i64) -> Vec<Rollup> {
    let mut children: BTreeMap<i64, (u64, u64, u64)> = BTreeMap::new();
    for t in &data.tasks {
        if let Some(p) = t.parent_task_id {
            if t.status == TaskStatus::Cancelled {
                continue;
            }
            let e = children.entry(p).or_default();
            e.0 += 1;
            if t.status == TaskStatus::Done {
                e.1 += 1;
            } else if t.due.is_some_and(|d| d < asof) {
                e.2 += 1;
            }
        }
    }
    let by_id: HashMap<i64, &RTask> = data.tasks.iter().map(|t| (t.id, t)).collect();
    children
        .into_iter()
        .filter_map(|(p, (total, done, overdue))| {
            by_id.get(&p).map(|t| Rollup { parent: TaskLine::of(data, t), subtasks_total: total, subtasks_done: done, subtasks_overdue: overdue })
        })
        .collect()
}

/// The daily report of `day` (local), with the stand-up digest.
pub fn daily_report(data: &Dataset, ctx: &Ctx, day: Date) -> DailyReport {
    let (start, end) = ctx.day_range(day);
    let asof = end.min(ctx.now.max(start));
    debug_assert!(data.reduced.as_ref().is_none_or(|r| r.since <= start), "a dataset loaded from a later instant cannot give the daily report of {day}");
    debug_assert!(data.reduced.as_ref().is_none_or(|r| !r.metrics_only), "a metrics-only dataset cannot give the daily report");
    let (by_task, tls) = timelines(data);
    let mut r = DailyReport {
        project: project_label(data),
        date: day.to_string(),
        completed: vec![],
        created: vec![],
        due_today: vec![],
        overdue: vec![],
        blocked: vec![],
        deadline_changes: vec![],
        standups: vec![],
        missing_standups: vec![],
        rollup: rollup(data, asof),
    };
    for (t, tl) in &tls {
        if t.created_at >= end {
            continue;
        }
        let line = || TaskLine::of(data, t);
        if tl.final_done.is_some_and(|d| d >= start && d < end) {
            r.completed.push(line());
        }
        if t.created_at >= start {
            r.created.push(line());
        }
        let status = tl.status_at(asof - 1).unwrap_or(t.status);
        let due = tl.due_at(asof - 1);
        if !status.is_closed() {
            if due.is_some_and(|d| d >= start && d < end) {
                r.due_today.push(line());
            }
            if due.is_some_and(|d| d < asof) {
                r.overdue.push(line());
            }
            if status == TaskStatus::Blocked {
                r.blocked.push(line());
            }
        }
        for h in by_task.get(&t.id).copied().unwrap_or(&[]) {
            if h.field == "due" && h.at >= start && h.at < end {
                r.deadline_changes.push(DeadlineChange {
                    task: line(),
                    at: h.at,
                    old: h.old_value.as_deref().and_then(crate::parse_instant),
                    new: h.new_value.as_deref().and_then(crate::parse_instant),
                });
            }
        }
    }
    for v in [&mut r.completed, &mut r.created, &mut r.due_today, &mut r.overdue, &mut r.blocked] {
        sort_lines(v);
    }
    // Stand-ups: the latest one per member that day.
    let day_s = day.to_string();
    let mut posted: BTreeMap<i64, &crate::Standup> = BTreeMap::new();
    for s in data.standups.iter().filter(|s| s.day == day_s) {
        match posted.get(&s.member_id) {
            Some(prev) if prev.created_at > s.created_at => {}
            _ => {
                posted.insert(s.member_id, s);
            }
        }
    }
    let mut digests: Vec<StandupDigest> = posted
        .values()
        .map(|s| StandupDigest {
            member: data.member_name(s.member_id),
            yesterday: s.yesterday.clone(),
            today: s.today.clone(),
            blockers: s.blockers.clone(),
        })
        .collect();
    digests.sort_by(|a, b| a.member.cmp(&b.member));
    r.standups = digests;
    let expected: BTreeSet<i64> = if data.roster.is_empty() {
        tls.iter()
            .filter(|(t, tl)| t.created_at < end && !tl.status_at(asof - 1).unwrap_or(t.status).is_closed())
            .flat_map(|(_, tl)| tl.owners_at(asof - 1).to_vec())
            .collect()
    } else {
        data.roster.iter().copied().collect()
    };
    let mut missing: Vec<String> = expected.into_iter().filter(|m| !posted.contains_key(m)).map(|m| data.member_name(m)).collect();
    missing.sort();
    r.missing_standups = missing;
    r
}

/// The weekly report of the ISO week containing `day`.
pub fn weekly_report(data: &Dataset, ctx: &Ctx, day: Date) -> WeeklyReport {
    let (start, end) = ctx.week_range(day);
    debug_assert!(data.reduced.as_ref().is_none_or(|r| !r.metrics_only), "a metrics-only dataset cannot give the weekly report");
    let monday = crate::week_monday(day);
    let (next_start, next_end) = ctx.week_range(add_days(monday, 7));
    let (by_task, tls) = timelines(data);
    let asof = end.min(ctx.now.max(start));
    let mut completed = vec![];
    let mut slipped = vec![];
    let mut due_next = vec![];
    for (t, tl) in &tls {
        let line = || TaskLine::of(data, t);
        if tl.final_done.is_some_and(|d| d >= start && d < end) {
            completed.push(line());
        }
        let mut moved = false;
        for h in by_task.get(&t.id).copied().unwrap_or(&[]) {
            if h.field != "due" || h.at < start || h.at >= end {
                continue;
            }
            let old = h.old_value.as_deref().and_then(crate::parse_instant);
            let new = h.new_value.as_deref().and_then(crate::parse_instant);
            if let (Some(o), Some(n)) = (old, new) {
                if n > o {
                    moved = true;
                    slipped.push(DeadlineChange { task: line(), at: h.at, old, new });
                }
            }
        }
        // A deadline that passed this week with the task still open then.
        if !moved {
            if let Some(d) = tl.due_at(asof - 1).filter(|d| *d >= start && *d < asof) {
                let status = tl.status_at(asof - 1).unwrap_or(t.status);
                if !status.is_closed() {
                    slipped.push(DeadlineChange { task: line(), at: d, old: Some(d), new: None });
                }
            }
        }
        if !t.status.is_closed() && t.due.is_some_and(|d| d >= next_start && d < next_end) {
            due_next.push(line());
        }
    }
    sort_lines(&mut completed);
    sort_lines(&mut due_next);
    slipped.sort_by(|a, b| a.task.reference.cmp(&b.task.reference).then(a.at.cmp(&b.at)));
    let new_risks = data
        .risks
        .iter()
        .filter(|r| r.created_at >= start && r.created_at < end)
        .map(|r| RiskLine {
            title: r.title.clone(),
            probability: r.probability.clone(),
            impact: r.impact.clone(),
            owner: r.owner.map(|o| data.member_name(o)),
            status: r.status.clone(),
            created_at: r.created_at,
        })
        .collect();
    let metrics = metrics_from(data, ctx, start, end, &tls, &by_task);
    WeeklyReport {
        project: project_label(data),
        week: iso_week(day),
        from: monday.to_string(),
        to: add_days(monday, 6).to_string(),
        completed,
        slipped,
        new_risks,
        due_next_week: due_next,
        metrics,
        rollup: rollup(data, asof),
        stars: stars(data, start, end),
    }
}
