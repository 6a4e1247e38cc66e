//! Project metrics. Every definition is spelled out in `docs/METRICS.md`;
//! the comments here only point at the choices.

use std::collections::{BTreeMap, HashMap};

use qunban_core::TaskStatus;
use serde::Serialize;

use crate::timeline::Timeline;
use crate::{add_days, iso_week, Ctx, Dataset, RTask};

/// The metrics of one period `[from, to)` (completion-based figures) and of
/// the moment `ctx.now` (workload, overdue).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub from: i64,
    pub to: i64,
    pub tasks_total: u64,
    pub open: u64,
    pub done: u64,
    pub cancelled: u64,
    /// Tasks whose standing completion falls in the period.
    pub completed: u64,
    /// Of those, tasks that had a deadline when they were finished.
    pub completed_with_deadline: u64,
    pub completed_without_deadline: u64,
    /// Finished no later than the deadline in force at completion.
    pub on_time_final: u64,
    pub on_time_final_rate: Option<f64>,
    /// Finished no later than the deadline the task was created with.
    pub on_time_original: u64,
    pub on_time_original_rate: Option<f64>,
    /// Finished after the deadline in force at completion.
    pub late: u64,
    pub delay_rate: Option<f64>,
    /// Mean lateness of the late tasks, in hours.
    pub avg_delay_hours: Option<f64>,
    /// Completed tasks whose deadline was moved at least once.
    pub completed_with_moved_deadline: u64,
    /// Cycle time (created → standing completion), nearest-rank percentiles, hours.
    pub cycle_time_p50_hours: Option<f64>,
    pub cycle_time_p90_hours: Option<f64>,
    /// Deadline moves made during the period (all tasks).
    pub deadline_moves: u64,
    /// Of those, moves to a later deadline.
    pub deadline_slips: u64,
    /// Done → not done transitions during the period.
    pub reopens: u64,
    /// Owner changes during the period.
    pub reassignments: u64,
    /// Open tasks past their deadline at `now`.
    pub overdue: u64,
    pub throughput: Vec<Throughput>,
    pub workload: Vec<Workload>,
    pub milestones: Vec<Burn>,
    pub goals: Vec<GoalProgress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Throughput {
    pub member: String,
    /// ISO week, `2026-W03`.
    pub week: String,
    pub completed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub member: String,
    pub open: u64,
    pub due_this_week: u64,
    pub overdue: u64,
    pub blocked: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burn {
    pub milestone: String,
    pub due_at: Option<i64>,
    pub points: Vec<BurnPoint>,
}

/// The state of a milestone at the end of a local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BurnPoint {
    pub day: String,
    /// Tasks in the milestone that exist and are not cancelled.
    pub scope: u64,
    pub done: u64,
    pub remaining: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalProgress {
    pub name: String,
    pub current: Option<f64>,
    pub target: Option<f64>,
    pub unit: Option<String>,
    /// current / target, when both are known and target ≠ 0.
    pub ratio: Option<f64>,
    pub deadline_at: Option<i64>,
}

/// The nearest-rank percentile: the smallest value with at least `p` % of
/// the values at or below it. `values` need not be sorted.
pub fn nearest_rank(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    Some(v[(rank - 1) as usize])
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// What a history row counts as in the period figures of [`Metrics`]:
/// `deadline_moves` (and `deadline_slips` for a slip), `reopens`,
/// `reassignments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Change {
    /// An owner change.
    Reassignment,
    /// Done → not done.
    Reopen,
    /// A change of an existing deadline to an earlier one.
    DeadlineMove,
    /// A change of an existing deadline to a later one (also a move).
    DeadlineSlip,
}

/// The period figure a history row (`field`, old and new value) counts in,
/// if any: the one definition of reopens, reassignments and deadline moves
/// and slips (docs/METRICS.md).
pub fn classify(field: &str, old: Option<&str>, new: Option<&str>) -> Option<Change> {
    match field {
        "owners" => Some(Change::Reassignment),
        "status" if old == Some("done") && new != Some("done") => Some(Change::Reopen),
        "due" => {
            let old = old.and_then(crate::parse_instant);
            let new = new.and_then(crate::parse_instant);
            match (old, new) {
                (Some(o), Some(n)) if o != n => Some(if n > o { Change::DeadlineSlip } else { Change::DeadlineMove }),
                _ => None,
            }
        }
        _ => None,
    }
}

fn count_change(m: &mut Metrics, c: Change) {
    match c {
        Change::Reassignment => m.reassignments += 1,
        Change::Reopen => m.reopens += 1,
        Change::DeadlineMove => m.deadline_moves += 1,
        Change::DeadlineSlip => {
            m.deadline_moves += 1;
            m.deadline_slips += 1;
        }
    }
}

/// Most burn-down points kept per milestone (the latest days).
pub const MAX_BURN_POINTS: usize = 120;

/// Computes the metrics of `data` for the period `[from, to)`.
pub fn compute_metrics(data: &Dataset, ctx: &Ctx, from: i64, to: i64) -> Metrics {
    let by_task = data.history_by_task();
    let timelines: Vec<(&RTask, Timeline)> =
        data.tasks.iter().map(|t| (t, Timeline::build(t, by_task.get(&t.id).copied().unwrap_or(&[])))).collect();
    metrics_from(data, ctx, from, to, &timelines, &by_task)
}

pub(crate) fn metrics_from(
    data: &Dataset,
    ctx: &Ctx,
    from: i64,
    to: i64,
    timelines: &[(&RTask, Timeline)],
    by_task: &HashMap<i64, &[crate::HistoryRow]>,
) -> Metrics {
    let mut m = Metrics { from, to, ..Default::default() };
    let mut cycle = Vec::new();
    let mut delays = Vec::new();
    let mut throughput: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let today = ctx.day_of(ctx.now);
    let (week_start, week_end) = ctx.week_range(today);
    let mut workload: BTreeMap<i64, Workload> = BTreeMap::new();

    let reduced = data.reduced.as_ref();
    debug_assert!(reduced.is_none_or(|r| r.since <= from), "a dataset loaded from {:?} cannot give the metrics from {from}", reduced.map(|r| r.since));
    // Counted over every task; a reduced dataset brings the counts along.
    let mut count = |status: TaskStatus, n: u64| {
        m.tasks_total += n;
        match status {
            TaskStatus::Done => m.done += n,
            TaskStatus::Cancelled => m.cancelled += n,
            _ => m.open += n,
        }
    };
    match reduced {
        Some(r) => r.counts.iter().for_each(|c| count(c.status, c.count)),
        None => timelines.iter().for_each(|(t, _)| count(t.status, 1)),
    }

    for (t, tl) in timelines {
        // Changes made during the period.
        for r in by_task.get(&t.id).copied().unwrap_or(&[]) {
            if r.at < from || r.at >= to {
                continue;
            }
            if let Some(c) = classify(&r.field, r.old_value.as_deref(), r.new_value.as_deref()) {
                count_change(&mut m, c);
            }
        }
        // The standing completion, if it falls in the period.
        if let Some(done) = tl.final_done.filter(|d| *d >= from && *d < to) {
            m.completed += 1;
            cycle.push(done - t.created_at);
            if tl.deadline_moves > 0 {
                m.completed_with_moved_deadline += 1;
            }
            match tl.due_at(done) {
                Some(due) => {
                    m.completed_with_deadline += 1;
                    if done <= due {
                        m.on_time_final += 1;
                    } else {
                        m.late += 1;
                        delays.push(done - due);
                    }
                    if tl.original_due.is_some_and(|o| done <= o) {
                        m.on_time_original += 1;
                    }
                }
                None => m.completed_without_deadline += 1,
            }
            let week = ctx.day_of(done);
            let week_key = crate::week_monday(week).to_string();
            for o in tl.owners_at(done) {
                *throughput.entry((week_key.clone(), *o)).or_default() += 1;
            }
        }
        // Workload at `now`.
        if !t.status.is_closed() {
            let (overdue, due_this_week) = deadline_class(t.due, ctx.now, (week_start, week_end));
            if overdue {
                m.overdue += 1;
            }
            for o in &t.owners {
                add_workload(&mut workload, data, *o, t.status, overdue, due_this_week, 1);
            }
        }
    }
    // The open tasks a metrics-only load left out, counted for this `now`.
    if let Some(left) = reduced.and_then(|r| r.open_left_out.as_ref()) {
        assert!(
            left.now == ctx.now && left.week == (week_start, week_end),
            "a metrics-only dataset counted for now = {} cannot give the metrics at {}",
            left.now,
            ctx.now
        );
        m.overdue += left.tasks.iter().map(|c| c.overdue).sum::<u64>();
        for g in &left.owners {
            add_workload(&mut workload, data, g.member, g.status, g.overdue, g.due_this_week, g.count);
        }
    }
    // The rows a metrics-only load left out, already classified.
    for e in reduced.map(|r| &r.changes[..]).unwrap_or(&[]) {
        if e.at >= from && e.at < to {
            count_change(&mut m, e.change);
        }
    }
    m.on_time_final_rate = ratio(m.on_time_final, m.completed_with_deadline);
    m.on_time_original_rate = ratio(m.on_time_original, m.completed_with_deadline);
    m.delay_rate = ratio(m.late, m.completed_with_deadline);
    m.avg_delay_hours = (!delays.is_empty()).then(|| delays.iter().sum::<i64>() as f64 / delays.len() as f64 / 3600.0);
    m.cycle_time_p50_hours = nearest_rank(&cycle, 50).map(|s| s as f64 / 3600.0);
    m.cycle_time_p90_hours = nearest_rank(&cycle, 90).map(|s| s as f64 / 3600.0);
    m.throughput = throughput
        .into_iter()
        .map(|((week, member), completed)| {
            let monday: jiff::civil::Date = week.parse().unwrap_or_default();
            Throughput { member: data.member_name(member), week: iso_week(monday), completed }
        })
        .collect();
    let mut wl: Vec<Workload> = workload.into_values().collect();
    wl.sort_by(|a, b| b.open.cmp(&a.open).then_with(|| a.member.cmp(&b.member)));
    m.workload = wl;
    m.milestones = burns(data, ctx, timelines);
    m.goals = data
        .goals
        .iter()
        .map(|g| GoalProgress {
            name: g.name.clone(),
            current: g.current,
            target: g.target,
            unit: g.unit.clone(),
            ratio: match (g.current, g.target) {
                (Some(c), Some(t)) if t != 0.0 => Some(c / t),
                _ => None,
            },
            deadline_at: g.deadline_at,
        })
        .collect();
    m
}

/// The deadline classes of an open task's workload at `now`: overdue
/// (deadline before `now`) and due this week (deadline within `week`,
/// `[start, end)`). A task without a deadline is neither.
pub fn deadline_class(due: Option<i64>, now: i64, week: (i64, i64)) -> (bool, bool) {
    (due.is_some_and(|d| d < now), due.is_some_and(|d| d >= week.0 && d < week.1))
}

/// Adds `n` open tasks of `member` with `status` to the workload; the
/// deadline classes (`overdue`: before `now`, `due_this_week`: within the
/// week of `now`) are given by the caller.
fn add_workload(workload: &mut BTreeMap<i64, Workload>, data: &Dataset, member: i64, status: TaskStatus, overdue: bool, due_this_week: bool, n: u64) {
    let w = workload.entry(member).or_insert_with(|| Workload { member: data.member_name(member), open: 0, due_this_week: 0, overdue: 0, blocked: 0 });
    w.open += n;
    if due_this_week {
        w.due_this_week += n;
    }
    if overdue {
        w.overdue += n;
    }
    if status == TaskStatus::Blocked {
        w.blocked += n;
    }
}

/// Burn-down / burn-up per milestone: one point per local day from the
/// milestone's first task to its due day (or today, whichever is later but
/// not after today), the last [`MAX_BURN_POINTS`] days.
///
/// From a reduced dataset, the days that end at or before `since` come from
/// its burn steps, and later days from the loaded tasks' timelines plus the
/// tasks left out (closed and untouched since `since`: a done one is in the
/// scope and done, a cancelled one in neither).
fn burns(data: &Dataset, ctx: &Ctx, timelines: &[(&RTask, Timeline)]) -> Vec<Burn> {
    let mut out = Vec::new();
    let reduced = data.reduced.as_ref();
    debug_assert!(
        reduced.is_none_or(|r| !r.without_burn_steps || data.milestones.is_empty()),
        "a dataset loaded without burn steps (daily report only) cannot give burn-downs"
    );
    for ms in &data.milestones {
        let members: Vec<&Timeline> = timelines.iter().filter(|(t, _)| t.milestone_id == Some(ms.id)).map(|(_, tl)| tl).collect();
        let (first, left_out_done, steps) = match reduced {
            None => (members.iter().map(|tl| tl.created_at).min(), 0, &[][..]),
            Some(r) => {
                let counts = r.counts.iter().filter(|c| c.milestone_id == Some(ms.id));
                let first = counts.clone().map(|c| c.first_created).min();
                let done = counts.filter(|c| c.status == TaskStatus::Done).map(|c| c.count).sum::<u64>();
                let loaded_done = timelines.iter().filter(|(t, _)| t.milestone_id == Some(ms.id) && t.status == TaskStatus::Done).count() as u64;
                let lo = r.burn_steps.partition_point(|s| s.milestone_id < ms.id);
                let hi = r.burn_steps.partition_point(|s| s.milestone_id <= ms.id);
                (first, done.saturating_sub(loaded_done), &r.burn_steps[lo..hi])
            }
        };
        // Open tasks left out of a metrics-only load: unchanged since
        // `since`, so in scope and not done on every later day.
        let left_out_open = reduced
            .and_then(|r| r.open_left_out.as_ref())
            .map(|l| l.tasks.iter().filter(|c| c.milestone_id == Some(ms.id)).map(|c| c.count).sum::<u64>())
            .unwrap_or(0);
        let Some(first) = first else {
            out.push(Burn { milestone: ms.name.clone(), due_at: ms.due_at, points: vec![] });
            continue;
        };
        let today = ctx.day_of(ctx.now);
        let mut last = ms.due_at.map(|d| ctx.day_of(d)).unwrap_or(today);
        if last > today {
            last = today;
        }
        let mut day = ctx.day_of(first);
        let span = (last - day).get_days() as i64;
        if span >= MAX_BURN_POINTS as i64 {
            day = add_days(last, -(MAX_BURN_POINTS as i64 - 1));
        }
        let mut points = Vec::new();
        let (mut step, mut step_scope, mut step_done) = (0, 0i64, 0i64);
        while day <= last {
            let (_, end) = ctx.day_range(day);
            if reduced.is_some_and(|r| end <= r.since) {
                while step < steps.len() && steps[step].day <= day {
                    step_scope += steps[step].scope;
                    step_done += steps[step].done;
                    step += 1;
                }
                let (scope, done) = (step_scope.max(0) as u64, step_done.max(0) as u64);
                points.push(BurnPoint { day: day.to_string(), scope, done, remaining: scope.saturating_sub(done) });
                day = add_days(day, 1);
                continue;
            }
            let (mut scope, mut done) = (left_out_done + left_out_open, left_out_done);
            for tl in &members {
                match tl.status_at(end - 1) {
                    None | Some(TaskStatus::Cancelled) => {}
                    Some(TaskStatus::Done) => {
                        scope += 1;
                        done += 1;
                    }
                    Some(_) => scope += 1,
                }
            }
            points.push(BurnPoint { day: day.to_string(), scope, done, remaining: scope - done });
            day = add_days(day, 1);
        }
        out.push(Burn { milestone: ms.name.clone(), due_at: ms.due_at, points });
    }
    out
}
