//! Reminder rules and their occurrences on the China work calendar.
//!
//! A rule belongs to a group and is on by default:
//!
//! | rule | when | to whom |
//! |---|---|---|
//! | `morning` | 09:00 on workdays | the group: tasks due today, stand-up prompt |
//! | `digest` | 16:00 on workdays | the group: done today, in progress, overdue, missing stand-ups |
//! | `weekly` | 17:00 on Friday (the week's last workday before it when Friday is off) | master groups |
//! | `due_soon` | 24 h and 2 h before a deadline | the task's owners |
//! | `overdue` | at the deadline, then +24 h, then +48 h | owners, then also leads, then also PMs |
//! | `milestone` | 72 h before a milestone's due time | the project's master group |
//!
//! Workdays come from [`Calendar`]: official holidays are skipped and
//! make-up workdays (调休) count. Every occurrence has a key that names it
//! for good (`morning:g42:2026-01-15`, `overdue:t7:1768471200:lead`), so
//! storage can fire it once however many instances run and however often the
//! clock ticks.
//!
//! [`plan`] decides what to do about the occurrences in a window of time:
//! within one *family* (a timed rule of one group; one task's due-soon
//! alerts; one task's escalation chain; one milestone) only the latest
//! occurrence can be sent, the earlier ones are superseded; and an
//! occurrence older than the catch-up window is stale — recorded, not sent —
//! except an overdue alert, which stays true while the task is open.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use qunban_lang::Calendar;
use serde::{Deserialize, Serialize};

use crate::model::{GroupKind, UnknownName};

/// The kinds of reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Morning,
    Digest,
    DueSoon,
    Overdue,
    Weekly,
    Milestone,
}

impl RuleKind {
    pub const ALL: &'static [RuleKind] =
        &[RuleKind::Morning, RuleKind::Digest, RuleKind::DueSoon, RuleKind::Overdue, RuleKind::Weekly, RuleKind::Milestone];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Morning => "morning",
            RuleKind::Digest => "digest",
            RuleKind::DueSoon => "due_soon",
            RuleKind::Overdue => "overdue",
            RuleKind::Weekly => "weekly",
            RuleKind::Milestone => "milestone",
        }
    }

    /// The name people see in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            RuleKind::Morning => "早间提醒",
            RuleKind::Digest => "下午进度汇总",
            RuleKind::DueSoon => "到期前提醒",
            RuleKind::Overdue => "逾期提醒",
            RuleKind::Weekly => "周报",
            RuleKind::Milestone => "里程碑提醒",
        }
    }

    /// The name people see in English.
    pub fn en(self) -> &'static str {
        match self {
            RuleKind::Morning => "Morning",
            RuleKind::Digest => "Afternoon digest",
            RuleKind::DueSoon => "Due-soon",
            RuleKind::Overdue => "Overdue",
            RuleKind::Weekly => "Weekly report",
            RuleKind::Milestone => "Milestone",
        }
    }

    /// Whether the rule fires at a time of day (rather than relative to a
    /// deadline).
    pub fn is_timed(self) -> bool {
        matches!(self, RuleKind::Morning | RuleKind::Digest | RuleKind::Weekly)
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<RuleKind, UnknownName> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        RuleKind::ALL.iter().copied().find(|k| k.as_str() == s).ok_or(UnknownName {
            kind: "rule",
            value: s,
            expected: "morning digest due_soon overdue weekly milestone",
        })
    }
}

/// One rule's settings in one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub kind: RuleKind,
    pub enabled: bool,
    /// Local time of day, for `morning`, `digest` and `weekly`.
    pub at: Option<Time>,
    /// Hours: before the deadline for `due_soon` (`[24, 2]`); after the
    /// deadline for `overdue`, when the leads and then the PMs are added
    /// (`[24, 48]`); before the due time for `milestone` (`[72]`).
    pub hours: Vec<i64>,
}

impl Rule {
    /// The rule as it is when nobody changed it.
    pub fn default_for(kind: RuleKind) -> Rule {
        let (at, hours) = match kind {
            RuleKind::Morning => (Some(Time::constant(9, 0, 0, 0)), vec![]),
            RuleKind::Digest => (Some(Time::constant(16, 0, 0, 0)), vec![]),
            RuleKind::Weekly => (Some(Time::constant(17, 0, 0, 0)), vec![]),
            RuleKind::DueSoon => (None, vec![24, 2]),
            RuleKind::Overdue => (None, vec![24, 48]),
            RuleKind::Milestone => (None, vec![72]),
        };
        Rule { kind, enabled: true, at, hours }
    }

    /// The time of day, falling back to the default for a timed rule.
    pub fn time(&self) -> Time {
        self.at.or(Rule::default_for(self.kind).at).unwrap_or(Time::midnight())
    }

    /// Escalation delays for `overdue`: (to the leads, to the PMs).
    pub fn escalation(&self) -> (i64, i64) {
        let lead = self.hours.first().copied().unwrap_or(24);
        let pm = self.hours.get(1).copied().unwrap_or(lead * 2);
        (lead, pm.max(lead))
    }

    /// `HH:MM`, or the hours, for lists.
    pub fn describe(&self) -> String {
        let state = if self.enabled { "on" } else { "off" };
        if self.kind.is_timed() {
            format!("{state} {}", hhmm(self.time()))
        } else {
            let hours: Vec<String> = self.hours.iter().map(|h| format!("{h}h")).collect();
            format!("{state} {}", hours.join(","))
        }
    }
}

/// `09:00`.
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Parses `9:00`, `09:30`, `17：00`.
pub fn parse_hhmm(s: &str) -> Option<Time> {
    let s = s.trim().replace('：', ":");
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.trim().parse::<i8>().ok()?, m.trim().parse::<i8>().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// A group's rules: the defaults with the group's own changes on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRules {
    changed: BTreeMap<RuleKind, Rule>,
}

impl GroupRules {
    pub fn rule(&self, kind: RuleKind) -> Rule {
        self.changed.get(&kind).cloned().unwrap_or_else(|| Rule::default_for(kind))
    }

    pub fn set(&mut self, rule: Rule) {
        self.changed.insert(rule.kind, rule);
    }

    /// Every rule, in [`RuleKind::ALL`] order.
    pub fn all(&self) -> Vec<Rule> {
        RuleKind::ALL.iter().map(|k| self.rule(*k)).collect()
    }
}

/// A group that reminders may go to: it belongs to a project.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTarget {
    pub group_id: i64,
    pub kind: GroupKind,
    pub project_id: i64,
    pub rules: GroupRules,
}

/// An open task with a deadline, and the group its alerts go to.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTarget {
    pub task_id: i64,
    pub group_id: i64,
    pub due: Timestamp,
    pub created_at: Timestamp,
}

/// An open milestone with a due time, and the group its alert goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneTarget {
    pub milestone_id: i64,
    pub group_id: i64,
    pub due: Timestamp,
    pub created_at: Timestamp,
}

/// Which alert of a task's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `due_soon`: this many hours before the deadline.
    Before(i64),
    /// `overdue`: the owners are told.
    Owner,
    /// `overdue`: still open after the first delay; the leads are added.
    Lead,
    /// `overdue`: still open after the second delay; the PMs are added.
    Pm,
}

impl Step {
    fn key(self) -> String {
        match self {
            Step::Before(h) => format!("{h}h"),
            Step::Owner => "owner".into(),
            Step::Lead => "lead".into(),
            Step::Pm => "pm".into(),
        }
    }
}

/// What an occurrence is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// `morning`, `digest`, `weekly`: the local day it is for.
    Day { date: Date },
    Task { task_id: i64, due: Timestamp, step: Step },
    Milestone { milestone_id: i64, due: Timestamp, hours: i64 },
}

/// One firing of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub rule: RuleKind,
    pub group_id: i64,
    /// When it is scheduled.
    pub at: Timestamp,
    /// Names the occurrence for good; unique across all rules.
    pub key: String,
    pub subject: Subject,
}

impl Occurrence {
    /// Occurrences that supersede each other share a family.
    fn family(&self) -> String {
        match &self.subject {
            Subject::Day { .. } => format!("{}:g{}", self.rule, self.group_id),
            Subject::Task { task_id, due, .. } => format!("{}:t{task_id}:{}", self.rule, due.as_second()),
            Subject::Milestone { milestone_id, due, .. } => format!("milestone:m{milestone_id}:{}", due.as_second()),
        }
    }
}

/// Why an occurrence is recorded without being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Older than the catch-up window: the moment has passed.
    Stale,
    /// A later occurrence of the same family is due (the 2 h alert after
    /// the 24 h one, the lead step after the owner step, today's morning
    /// reminder after yesterday's).
    Superseded,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Stale => "stale",
            SkipReason::Superseded => "superseded",
        }
    }
}

/// What to do about the occurrences of a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub send: Vec<Occurrence>,
    pub skip: Vec<(Occurrence, SkipReason)>,
}

/// Whether the weekly report is due on `date`: Friday when it is a workday,
/// otherwise the last workday of Monday–Thursday of that week. A week of
/// holidays has no report; make-up weekend days do not move it.
pub fn is_weekly_report_day(cal: &Calendar, date: Date) -> bool {
    let offset = date.weekday().to_monday_zero_offset() as i64;
    if offset > 4 || !cal.is_workday(date) {
        return false;
    }
    // No later workday up to Friday.
    (offset + 1..=4).all(|o| match date.checked_add(jiff::Span::new().days(o - offset)) {
        Ok(d) => !cal.is_workday(d),
        Err(_) => true,
    })
}

/// Quiet hours, local time: a deadline alert that would fall from
/// [`QUIET_FROM`] to [`QUIET_UNTIL`] is sent at `QUIET_UNTIL` instead, so an
/// end-of-day deadline's overdue @-mention arrives in the morning rather
/// than at midnight.
pub const QUIET_FROM: Time = Time::constant(22, 0, 0, 0);
pub const QUIET_UNTIL: Time = Time::constant(8, 0, 0, 0);
/// The longest a deadline alert is moved by the quiet hours.
pub const MAX_QUIET_DELAY_HOURS: i64 = 10;

/// `at`, or the end of the quiet hours it falls in.
pub fn after_quiet_hours(at: Timestamp, tz: &TimeZone) -> Timestamp {
    let z = at.to_zoned(tz.clone());
    let (date, time) = (z.date(), z.time());
    let until = if time >= QUIET_FROM {
        date.tomorrow().ok()
    } else if time < QUIET_UNTIL {
        Some(date)
    } else {
        None
    };
    until.and_then(|d| local_instant(d, QUIET_UNTIL, tz)).filter(|t| *t > at).unwrap_or(at)
}

fn local_instant(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    date.to_datetime(time).to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

fn timed_fires_on(kind: RuleKind, group: &GroupTarget, cal: &Calendar, date: Date) -> bool {
    match kind {
        RuleKind::Morning | RuleKind::Digest => cal.is_workday(date),
        RuleKind::Weekly => group.kind == GroupKind::Master && is_weekly_report_day(cal, date),
        _ => false,
    }
}

fn timed_key(kind: RuleKind, group_id: i64, date: Date) -> String {
    match kind {
        // One report per ISO week, whatever day or time it is moved to.
        RuleKind::Weekly => {
            let w = date.iso_week_date();
            format!("weekly:g{group_id}:{:04}-W{:02}", w.year(), w.week())
        }
        _ => format!("{kind}:g{group_id}:{date}"),
    }
}

/// Every occurrence scheduled in `[from, to]`, sorted by time then key.
pub fn occurrences(
    groups: &[GroupTarget],
    tasks: &[TaskTarget],
    milestones: &[MilestoneTarget],
    cal: &Calendar,
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    if to < from {
        return out;
    }
    let inside = |t: Timestamp| from <= t && t <= to;
    // Timed rules: every local day the window touches.
    let (first, last) = (from.to_zoned(tz.clone()).date(), to.to_zoned(tz.clone()).date());
    for g in groups {
        for kind in [RuleKind::Morning, RuleKind::Digest, RuleKind::Weekly] {
            let rule = g.rules.rule(kind);
            if !rule.enabled {
                continue;
            }
            let mut d = first;
            while d <= last {
                if timed_fires_on(kind, g, cal, d) {
                    if let Some(at) = local_instant(d, rule.time(), tz).filter(|t| inside(*t)) {
                        out.push(Occurrence {
                            rule: kind,
                            group_id: g.group_id,
                            at,
                            key: timed_key(kind, g.group_id, d),
                            subject: Subject::Day { date: d },
                        });
                    }
                }
                match d.tomorrow() {
                    Ok(n) => d = n,
                    Err(_) => break,
                }
            }
        }
    }
    let rules_of = |group_id: i64| groups.iter().find(|g| g.group_id == group_id).map(|g| &g.rules);
    // Deadline rules, out of the quiet hours. Two alerts of one family
    // moved to the same morning make one: the later step.
    let push_alert = |out: &mut Vec<Occurrence>, o: Occurrence| match out.last_mut() {
        Some(prev) if prev.at == o.at && prev.family() == o.family() => *prev = o,
        _ => out.push(o),
    };
    for t in tasks {
        let Some(rules) = rules_of(t.group_id) else { continue };
        let mut push = |rule: RuleKind, step: Step, at: Timestamp| {
            // An alert timed before the task existed is not for this task;
            // a due-soon alert moved past the deadline is moot.
            let moved = after_quiet_hours(at, tz);
            let moot = matches!(step, Step::Before(_)) && moved >= t.due;
            if inside(moved) && at >= t.created_at && !moot {
                push_alert(&mut out, Occurrence {
                    rule,
                    group_id: t.group_id,
                    at: moved,
                    key: format!("{rule}:t{}:{}:{}", t.task_id, t.due.as_second(), step.key()),
                    subject: Subject::Task { task_id: t.task_id, due: t.due, step },
                });
            }
        };
        let soon = rules.rule(RuleKind::DueSoon);
        if soon.enabled {
            let mut hours: Vec<i64> = soon.hours.iter().copied().filter(|h| *h > 0).collect();
            hours.sort_unstable_by(|a, b| b.cmp(a));
            for h in hours {
                push(RuleKind::DueSoon, Step::Before(h), t.due - SignedDuration::from_hours(h));
            }
        }
        let overdue = rules.rule(RuleKind::Overdue);
        if overdue.enabled {
            let (lead, pm) = overdue.escalation();
            push(RuleKind::Overdue, Step::Owner, t.due);
            if lead > 0 {
                push(RuleKind::Overdue, Step::Lead, t.due + SignedDuration::from_hours(lead));
            }
            if pm > lead {
                push(RuleKind::Overdue, Step::Pm, t.due + SignedDuration::from_hours(pm));
            }
        }
    }
    for m in milestones {
        let Some(rules) = rules_of(m.group_id) else { continue };
        let rule = rules.rule(RuleKind::Milestone);
        if !rule.enabled {
            continue;
        }
        let mut hours: Vec<i64> = rule.hours.iter().copied().filter(|h| *h > 0).collect();
        hours.sort_unstable_by(|a, b| b.cmp(a));
        for h in hours {
            let at = m.due - SignedDuration::from_hours(h);
            let moved = after_quiet_hours(at, tz);
            if inside(moved) && at >= m.created_at && moved < m.due {
                push_alert(&mut out, Occurrence {
                    rule: RuleKind::Milestone,
                    group_id: m.group_id,
                    at: moved,
                    key: format!("milestone:m{}:{}:{h}h", m.milestone_id, m.due.as_second()),
                    subject: Subject::Milestone { milestone_id: m.milestone_id, due: m.due, hours: h },
                });
            }
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    out
}

/// Decides, for the occurrences scheduled in `[from, now]`, which to send
/// and which to record as skipped. `window` is the catch-up window.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    groups: &[GroupTarget],
    tasks: &[TaskTarget],
    milestones: &[MilestoneTarget],
    cal: &Calendar,
    tz: &TimeZone,
    from: Timestamp,
    now: Timestamp,
    window: SignedDuration,
) -> Plan {
    let all = occurrences(groups, tasks, milestones, cal, tz, from, now);
    let mut latest: BTreeMap<String, Timestamp> = BTreeMap::new();
    for o in &all {
        let e = latest.entry(o.family()).or_insert(o.at);
        if o.at > *e {
            *e = o.at;
        }
    }
    let oldest_fresh = now - window;
    let mut plan = Plan::default();
    for o in all {
        let is_latest = latest.get(&o.family()) == Some(&o.at);
        let past_deadline = match &o.subject {
            // A due-soon or milestone alert after the deadline is moot.
            Subject::Task { due, step: Step::Before(_), .. } | Subject::Milestone { due, .. } => now >= *due,
            _ => false,
        };
        let reason = if !is_latest || past_deadline {
            Some(SkipReason::Superseded)
        } else if o.at < oldest_fresh && o.rule != RuleKind::Overdue {
            Some(SkipReason::Stale)
        } else {
            None
        };
        match reason {
            Some(r) => plan.skip.push((o, r)),
            None => plan.send.push(o),
        }
    }
    plan
}

/// The next occurrence of every rule of every group after `after`, looking
/// `horizon_days` ahead (deadline alerts) and up to a year for timed rules.
pub fn upcoming(
    groups: &[GroupTarget],
    tasks: &[TaskTarget],
    milestones: &[MilestoneTarget],
    cal: &Calendar,
    tz: &TimeZone,
    after: Timestamp,
    horizon_days: i64,
) -> Vec<Occurrence> {
    let start = after + SignedDuration::from_secs(1);
    let mut out = occurrences(groups, tasks, milestones, cal, tz, start, after + SignedDuration::from_hours(24 * horizon_days));
    // Timed rules not seen yet (a long holiday): search further, a month at a time.
    for g in groups {
        for kind in [RuleKind::Morning, RuleKind::Digest, RuleKind::Weekly] {
            if !g.rules.rule(kind).enabled || out.iter().any(|o| o.group_id == g.group_id && o.rule == kind) {
                continue;
            }
            for month in 0..12 {
                let from = after + SignedDuration::from_hours(24 * (horizon_days + 30 * month));
                let to = from + SignedDuration::from_hours(24 * 30);
                let one = std::slice::from_ref(g);
                if let Some(o) = occurrences(one, &[], &[], cal, tz, from, to).into_iter().find(|o| o.rule == kind) {
                    out.push(o);
                    break;
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    // One per timed rule and group; every deadline alert.
    out.retain(|o| !o.rule.is_timed() || seen.insert((o.group_id, o.rule)));
    out
}

/// The weekday in Chinese: `周四`.
pub fn weekday_zh(w: Weekday) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][w.to_monday_zero_offset() as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn group(id: i64, kind: GroupKind) -> GroupTarget {
        GroupTarget { group_id: id, kind, project_id: 1, rules: GroupRules::default() }
    }

    fn days(occ: &[Occurrence], kind: RuleKind) -> Vec<String> {
        occ.iter().filter(|o| o.rule == kind).map(|o| o.key.rsplit(':').next().unwrap().to_string()).collect()
    }

    #[test]
    fn spring_festival_skips_holidays_and_keeps_makeup_workdays() {
        let cal = Calendar::builtin();
        let occ = occurrences(
            &[group(42, GroupKind::Master)],
            &[],
            &[],
            &cal,
            &tz(),
            ts("2026-02-09T00:00:00+08:00"),
            ts("2026-03-01T23:59:59+08:00"),
        );
        let mornings = days(&occ, RuleKind::Morning);
        assert_eq!(
            mornings,
            [
                "2026-02-09", "2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13",
                "2026-02-14", // Saturday make-up workday
                // 春节 2/15–2/23 off
                "2026-02-24", "2026-02-25", "2026-02-26", "2026-02-27",
                "2026-02-28", // Saturday make-up workday
            ]
        );
        assert_eq!(days(&occ, RuleKind::Digest), mornings);
        // Friday reports; the holiday week has none.
        assert_eq!(days(&occ, RuleKind::Weekly), ["2026-W07", "2026-W09"]);
        let weekly: Vec<Timestamp> = occ.iter().filter(|o| o.rule == RuleKind::Weekly).map(|o| o.at).collect();
        assert_eq!(weekly, [ts("2026-02-13T17:00:00+08:00"), ts("2026-02-27T17:00:00+08:00")]);
        let m = occ.iter().find(|o| o.key == "morning:g42:2026-02-14").unwrap();
        assert_eq!(m.at, ts("2026-02-14T09:00:00+08:00"));
        let d = occ.iter().find(|o| o.key == "digest:g42:2026-02-28").unwrap();
        assert_eq!(d.at, ts("2026-02-28T16:00:00+08:00"));
    }

    #[test]
    fn national_day_week_reports_on_the_last_workday_before_friday() {
        let cal = Calendar::builtin();
        let occ = occurrences(
            &[group(1, GroupKind::Master)],
            &[],
            &[],
            &cal,
            &tz(),
            ts("2026-09-14T00:00:00+08:00"),
            ts("2026-10-18T00:00:00+08:00"),
        );
        let mornings = days(&occ, RuleKind::Morning);
        assert!(mornings.contains(&"2026-09-20".to_string()), "Sunday 9/20 is a make-up workday");
        assert!(mornings.contains(&"2026-10-10".to_string()), "Saturday 10/10 is a make-up workday");
        for off in ["2026-09-25", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-07", "2026-10-11"] {
            assert!(!mornings.contains(&off.to_string()), "{off} is a day off");
        }
        assert!(mornings.contains(&"2026-10-08".to_string()));
        let weekly: Vec<Timestamp> = occ.iter().filter(|o| o.rule == RuleKind::Weekly).map(|o| o.at).collect();
        assert_eq!(
            weekly,
            [
                ts("2026-09-18T17:00:00+08:00"),
                // 中秋 9/25 (Fri) is off: Thursday 9/24
                ts("2026-09-24T17:00:00+08:00"),
                // 国庆 from Thursday 10/1: Wednesday 9/30
                ts("2026-09-30T17:00:00+08:00"),
                ts("2026-10-09T17:00:00+08:00"),
                ts("2026-10-16T17:00:00+08:00"),
            ]
        );
    }

    #[test]
    fn weekly_goes_to_master_groups_only_and_rules_can_be_moved_or_switched_off() {
        let cal = Calendar::builtin();
        let mut sub = group(2, GroupKind::Subtask);
        sub.rules.set(Rule { at: parse_hhmm("9:30"), ..Rule::default_for(RuleKind::Morning) });
        sub.rules.set(Rule { enabled: false, ..Rule::default_for(RuleKind::Digest) });
        let occ = occurrences(&[sub], &[], &[], &cal, &tz(), ts("2026-01-12T00:00:00+08:00"), ts("2026-01-18T23:00:00+08:00"));
        assert!(occ.iter().all(|o| o.rule == RuleKind::Morning), "{occ:?}");
        assert_eq!(occ.len(), 5);
        assert_eq!(occ[0].at, ts("2026-01-12T09:30:00+08:00"));
    }

    #[test]
    fn new_year_makeup_sunday() {
        let cal = Calendar::builtin();
        let occ = occurrences(&[group(3, GroupKind::Master)], &[], &[], &cal, &tz(), ts("2025-12-31T00:00:00+08:00"), ts("2026-01-05T23:00:00+08:00"));
        assert_eq!(days(&occ, RuleKind::Morning), ["2025-12-31", "2026-01-04", "2026-01-05"]);
    }

    #[test]
    fn window_bounds_are_inclusive_and_keys_stable() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let at = ts("2026-01-15T09:00:00+08:00");
        let occ = occurrences(&g, &[], &[], &cal, &tz(), at, at);
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].key, "morning:g42:2026-01-15");
        assert!(occurrences(&g, &[], &[], &cal, &tz(), at + SignedDuration::from_secs(1), at + SignedDuration::from_hours(1)).is_empty());
    }

    #[test]
    fn other_time_zones() {
        let cal = Calendar::weekends_only();
        let utc = TimeZone::UTC;
        let occ = occurrences(&[group(1, GroupKind::Master)], &[], &[], &cal, &utc, ts("2026-01-15T00:00:00Z"), ts("2026-01-15T23:59:00Z"));
        assert_eq!(occ.iter().find(|o| o.rule == RuleKind::Morning).unwrap().at, ts("2026-01-15T09:00:00Z"));
    }

    fn task(id: i64, due: &str) -> TaskTarget {
        TaskTarget { task_id: id, group_id: 42, due: ts(due), created_at: ts("2026-01-01T00:00:00Z") }
    }

    #[test]
    fn deadline_alerts_and_escalation_chain() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let t = [task(7, "2026-01-15T15:00:00+08:00")];
        let occ = occurrences(&g, &t, &[], &cal, &tz(), ts("2026-01-13T00:00:00+08:00"), ts("2026-01-20T00:00:00+08:00"));
        let got: Vec<(String, Timestamp)> = occ.iter().filter(|o| !o.rule.is_timed()).map(|o| (o.key.clone(), o.at)).collect();
        let due = ts("2026-01-15T15:00:00+08:00").as_second();
        assert_eq!(
            got,
            [
                (format!("due_soon:t7:{due}:24h"), ts("2026-01-14T15:00:00+08:00")),
                (format!("due_soon:t7:{due}:2h"), ts("2026-01-15T13:00:00+08:00")),
                (format!("overdue:t7:{due}:owner"), ts("2026-01-15T15:00:00+08:00")),
                (format!("overdue:t7:{due}:lead"), ts("2026-01-16T15:00:00+08:00")),
                (format!("overdue:t7:{due}:pm"), ts("2026-01-17T15:00:00+08:00")),
            ]
        );
    }

    #[test]
    fn night_alerts_wait_for_the_morning() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        // An end-of-day deadline: the 24 h alert and every overdue step
        // would fall at midnight; they come at 08:00. The 2 h alert (21:59)
        // is before the quiet hours.
        let t = [task(7, "2026-01-15T23:59:59+08:00")];
        let occ = occurrences(&g, &t, &[], &cal, &tz(), ts("2026-01-13T00:00:00+08:00"), ts("2026-01-20T00:00:00+08:00"));
        let got: Vec<(&str, Timestamp)> = occ.iter().filter(|o| !o.rule.is_timed()).map(|o| (o.key.rsplit(':').next().unwrap(), o.at)).collect();
        assert_eq!(
            got,
            [
                ("24h", ts("2026-01-15T08:00:00+08:00")),
                ("2h", ts("2026-01-15T21:59:59+08:00")),
                ("owner", ts("2026-01-16T08:00:00+08:00")),
                ("lead", ts("2026-01-17T08:00:00+08:00")),
                ("pm", ts("2026-01-18T08:00:00+08:00")),
            ]
        );
        // A 07:00 deadline: its 2 h alert would come after the deadline, so
        // there is none; the overdue alert at 07:00 waits until 08:00.
        let t = [task(8, "2026-01-15T07:00:00+08:00")];
        let occ = occurrences(&g, &t, &[], &cal, &tz(), ts("2026-01-15T00:00:00+08:00"), ts("2026-01-15T12:00:00+08:00"));
        let got: Vec<(&str, Timestamp)> = occ.iter().filter(|o| !o.rule.is_timed()).map(|o| (o.key.rsplit(':').next().unwrap(), o.at)).collect();
        assert_eq!(got, [("owner", ts("2026-01-15T08:00:00+08:00"))]);
        // Two due-soon alerts moved to the same morning make one (the later step).
        let mut rules = GroupRules::default();
        rules.set(Rule { hours: vec![4, 2], ..Rule::default_for(RuleKind::DueSoon) });
        let g = [GroupTarget { rules, ..group(42, GroupKind::Master) }];
        let t = [task(9, "2026-01-15T09:30:00+08:00")];
        let occ = occurrences(&g, &t, &[], &cal, &tz(), ts("2026-01-15T00:00:00+08:00"), ts("2026-01-15T09:00:00+08:00"));
        let got: Vec<(&str, Timestamp)> = occ.iter().filter(|o| o.rule == RuleKind::DueSoon).map(|o| (o.key.rsplit(':').next().unwrap(), o.at)).collect();
        assert_eq!(got, [("2h", ts("2026-01-15T08:00:00+08:00"))]);
        // Daytime alerts are not moved.
        assert_eq!(after_quiet_hours(ts("2026-01-15T21:59:59+08:00"), &tz()), ts("2026-01-15T21:59:59+08:00"));
        assert_eq!(after_quiet_hours(ts("2026-01-15T08:00:00+08:00"), &tz()), ts("2026-01-15T08:00:00+08:00"));
        assert_eq!(after_quiet_hours(ts("2026-01-15T22:00:00+08:00"), &tz()), ts("2026-01-16T08:00:00+08:00"));
    }

    #[test]
    fn alerts_timed_before_the_task_existed_are_not_made() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let mut t = task(7, "2026-01-15T15:00:00+08:00");
        t.created_at = ts("2026-01-15T10:00:00+08:00");
        let occ = occurrences(&g, &[t], &[], &cal, &tz(), ts("2026-01-14T00:00:00+08:00"), ts("2026-01-15T16:00:00+08:00"));
        let keys: Vec<&str> = occ.iter().filter(|o| !o.rule.is_timed()).map(|o| o.key.as_str()).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys[0].ends_with(":2h") && keys[1].ends_with(":owner"));
    }

    #[test]
    fn catch_up_sends_only_the_latest_fresh_occurrence() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let window = SignedDuration::from_hours(2);
        // Down from Monday 08:00 to Wednesday 10:00.
        let p = plan(&g, &[], &[], &cal, &tz(), ts("2026-01-12T08:00:00+08:00"), ts("2026-01-14T10:00:00+08:00"), window);
        let sent: Vec<&str> = p.send.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(sent, ["morning:g42:2026-01-14"]);
        let skipped: Vec<(&str, SkipReason)> = p.skip.iter().map(|(o, r)| (o.key.as_str(), *r)).collect();
        assert_eq!(
            skipped,
            [
                ("morning:g42:2026-01-12", SkipReason::Superseded),
                ("digest:g42:2026-01-12", SkipReason::Superseded),
                ("morning:g42:2026-01-13", SkipReason::Superseded),
                ("digest:g42:2026-01-13", SkipReason::Stale),
            ]
        );
        // Back at 12:00: the morning reminder is three hours old.
        let p = plan(&g, &[], &[], &cal, &tz(), ts("2026-01-14T08:00:00+08:00"), ts("2026-01-14T12:00:00+08:00"), window);
        assert!(p.send.is_empty());
        assert_eq!(p.skip[0].1, SkipReason::Stale);
    }

    #[test]
    fn overdue_escalation_survives_downtime_and_due_soon_is_moot_after_the_deadline() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let t = [task(7, "2026-01-15T15:00:00+08:00")];
        let window = SignedDuration::from_hours(2);
        // Down from 1/14 12:00 until 1/16 18:00: only the lead step is sent.
        let p = plan(&g, &t, &[], &cal, &tz(), ts("2026-01-14T12:00:00+08:00"), ts("2026-01-16T18:00:00+08:00"), window);
        let sent: Vec<&str> = p.send.iter().filter(|o| !o.rule.is_timed()).map(|o| o.key.as_str()).collect();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].ends_with(":lead"), "{sent:?}");
        let skipped: Vec<&str> = p.skip.iter().filter(|(o, _)| !o.rule.is_timed()).map(|(o, _)| o.key.as_str()).collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
    }

    #[test]
    fn milestone_alert() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let m = [MilestoneTarget { milestone_id: 3, group_id: 42, due: ts("2026-01-20T18:00:00+08:00"), created_at: ts("2026-01-01T00:00:00Z") }];
        let occ = occurrences(&g, &[], &m, &cal, &tz(), ts("2026-01-17T00:00:00+08:00"), ts("2026-01-18T00:00:00+08:00"));
        let ms: Vec<&Occurrence> = occ.iter().filter(|o| o.rule == RuleKind::Milestone).collect();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0].at, ts("2026-01-17T18:00:00+08:00"));
    }

    #[test]
    fn upcoming_finds_the_next_morning_after_a_long_holiday() {
        let cal = Calendar::builtin();
        let g = [group(42, GroupKind::Master)];
        let next = upcoming(&g, &[], &[], &cal, &tz(), ts("2026-02-14T18:00:00+08:00"), 3);
        let m = next.iter().find(|o| o.rule == RuleKind::Morning).unwrap();
        assert_eq!(m.key, "morning:g42:2026-02-24");
        assert_eq!(next.iter().filter(|o| o.rule == RuleKind::Morning).count(), 1);
        let w = next.iter().find(|o| o.rule == RuleKind::Weekly).unwrap();
        assert_eq!(w.at, ts("2026-02-27T17:00:00+08:00"));
    }

    #[test]
    fn rule_names_and_times_parse() {
        assert_eq!("due-soon".parse::<RuleKind>().unwrap(), RuleKind::DueSoon);
        assert!("lunch".parse::<RuleKind>().is_err());
        assert_eq!(parse_hhmm("9:05"), Some(Time::constant(9, 5, 0, 0)));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(Rule::default_for(RuleKind::Overdue).escalation(), (24, 48));
        assert_eq!(Rule::default_for(RuleKind::Morning).describe(), "on 09:00");
    }
}
