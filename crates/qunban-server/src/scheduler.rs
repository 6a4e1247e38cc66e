//! The scheduler: morning reminders, afternoon digests, weekly reports,
//! due-soon, overdue-escalation and milestone alerts, on the China work
//! calendar.
//!
//! [`run_due`] is the whole of it: given an instant, it plans the
//! occurrences due up to then ([`qunban_core::schedule::plan`]), composes
//! their text ([`qunban_core::schedule::compose`]) and fires each through
//! [`Store::fire_occurrence`], which records the occurrence key and queues
//! the outbox rows in one transaction — so every occurrence is queued exactly
//! once, whichever instance gets there first and however often it runs.
//! `qunban serve` calls it every [`SchedulerConfig::tick`] ([`spawn`]);
//! `qunban remind run --at …` calls it once.
//!
//! After downtime, occurrences since the last run older than the catch-up
//! window are recorded as skipped, not sent; only the latest occurrence of a
//! family is sent (see the module docs of `qunban_core::schedule::rules`).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use qunban_core::schedule::compose::{self, Escalation, TaskLine, MESSAGE_MAX_BYTES};
use qunban_core::schedule::rules::{self, GroupTarget, MilestoneTarget, Occurrence, RuleKind, Step, Subject, TaskTarget};
use qunban_core::{GroupKind, Role, TaskStatus};
use qunban_lang::Calendar;
use qunban_store::{DeadlineTask, DueMilestone, Firing, MentionOf, RetentionPolicy, RetentionReport, ScheduledGroup, Store, StoreError, TaskFilter, TaskView};
use serde::Serialize;

/// Tuning of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Occurrences older than this when they are noticed are recorded as
    /// skipped instead of sent (overdue alerts excepted).
    pub catch_up: SignedDuration,
    /// How far back a run looks after downtime, at most.
    pub max_lookback: SignedDuration,
    /// Pause between runs of the background task.
    pub tick: Duration,
    /// Written next to each occurrence this instance records.
    pub instance: String,
    /// What the background task prunes once an hour (`None`: nothing);
    /// see `qunban_store::RetentionPolicy` and docs/RETENTION.md.
    pub retention: Option<RetentionPolicy>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            catch_up: SignedDuration::from_hours(2),
            max_lookback: SignedDuration::from_hours(24 * 7),
            tick: Duration::from_secs(30),
            instance: default_instance(),
            retention: Some(RetentionPolicy::default()),
        }
    }
}

/// `hostname:pid`, to tell instances apart in `schedule_runs`.
pub fn default_instance() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "qunban".into());
    format!("{host}:{}", std::process::id())
}

/// One occurrence handled by a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    pub key: String,
    pub rule: RuleKind,
    pub group_id: i64,
    pub scheduled_at: Timestamp,
    /// `sent`, `stale`, `superseded` or `moot` (its task is gone).
    pub status: String,
    pub outbox_ids: Vec<i64>,
    /// The text queued (all chunks, joined), for `remind run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    pub from: Option<Timestamp>,
    pub at: Option<Timestamp>,
    /// Occurrences this run recorded, sent or skipped.
    pub fired: Vec<Fired>,
    /// Occurrences another run (or instance) had already recorded.
    pub already: usize,
}

impl RunReport {
    pub fn sent(&self) -> impl Iterator<Item = &Fired> {
        self.fired.iter().filter(|f| f.status == "sent")
    }
}

/// The workspace time zone (Asia/Shanghai when not initialised).
async fn workspace_tz(store: &Store) -> Result<TimeZone, StoreError> {
    match store.workspace().await {
        Ok(ws) => Ok(ws.tz()),
        Err(StoreError::NotInitialised) => Ok(TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC)),
        Err(e) => Err(e),
    }
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The group a task's alerts go to: the sub-task group of its parent (or of
/// itself), else the project's master group, else any group of the project.
fn home_group(task_id: i64, project_id: i64, parent: Option<i64>, groups: &[ScheduledGroup]) -> Option<i64> {
    let mine: Vec<&ScheduledGroup> = groups.iter().filter(|g| g.project_id == Some(project_id)).collect();
    mine.iter()
        .find(|g| g.kind == GroupKind::Subtask && g.parent_task_id.is_some() && (g.parent_task_id == parent || g.parent_task_id == Some(task_id)))
        .or_else(|| mine.iter().find(|g| g.kind == GroupKind::Master))
        .or_else(|| mine.first())
        .map(|g| g.id)
}

fn targets(groups: &[ScheduledGroup]) -> Vec<GroupTarget> {
    groups
        .iter()
        .filter_map(|g| Some(GroupTarget { group_id: g.id, kind: g.kind, project_id: g.project_id?, rules: g.rules.clone() }))
        .collect()
}

/// Hours a deadline alert can lie before / after its deadline, over all
/// groups' rules (and the quiet hours' delay).
fn reach(groups: &[GroupTarget]) -> (i64, i64) {
    let mut before = 24;
    let mut after = 48;
    for g in groups {
        before = before.max(g.rules.rule(RuleKind::DueSoon).hours.iter().copied().max().unwrap_or(0));
        before = before.max(g.rules.rule(RuleKind::Milestone).hours.iter().copied().max().unwrap_or(0));
        after = after.max(g.rules.rule(RuleKind::Overdue).escalation().1);
    }
    // Alerts in the quiet hours are moved later (to the morning).
    (before + 1, after + 1 + qunban_core::schedule::rules::MAX_QUIET_DELAY_HOURS)
}

/// Everything the planner needs for occurrences scheduled in `[from, to]`.
async fn inputs(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
) -> Result<(Vec<ScheduledGroup>, Vec<GroupTarget>, Vec<TaskTarget>, Vec<MilestoneTarget>, Vec<DeadlineTask>, Vec<DueMilestone>), StoreError> {
    let groups = store.scheduled_groups(None).await?;
    let group_targets = targets(&groups);
    let (before, after) = reach(&group_targets);
    let tasks = store.deadline_tasks(from.as_second() - after * 3600, to.as_second() + before * 3600).await?;
    let task_targets = tasks
        .iter()
        .filter_map(|t| {
            Some(TaskTarget {
                task_id: t.id,
                group_id: home_group(t.id, t.project_id, t.parent_task_id, &groups)?,
                due: ts(t.due_at),
                created_at: ts(t.created_at),
            })
        })
        .collect();
    let milestones = store.due_milestones(from.as_second(), to.as_second() + before * 3600).await?;
    let milestone_targets = milestones
        .iter()
        .filter_map(|m| {
            let group = groups
                .iter()
                .filter(|g| g.project_id == Some(m.project_id))
                .min_by_key(|g| (g.kind != GroupKind::Master, g.id))?;
            Some(MilestoneTarget { milestone_id: m.id, group_id: group.id, due: ts(m.due_at), created_at: ts(m.created_at) })
        })
        .collect();
    Ok((groups, group_targets, task_targets, milestone_targets, tasks, milestones))
}

/// Runs the rules due at `at`: everything scheduled since the last run (at
/// most [`SchedulerConfig::max_lookback`] back, at least the catch-up window
/// back). `only_group` limits the run to one group and leaves the last-run
/// mark alone.
pub async fn run_due(store: &Store, cal: &Calendar, at: Timestamp, only_group: Option<i64>, cfg: &SchedulerConfig) -> Result<RunReport, StoreError> {
    let tz = workspace_tz(store).await?;
    let window_start = at - cfg.catch_up;
    let from = match store.scheduler_last_tick().await? {
        Some(last) if ts(last) < window_start => ts(last).max(at - cfg.max_lookback),
        _ => window_start,
    };
    let (groups, group_targets, task_targets, milestone_targets, _, milestones) = inputs(store, from, at).await?;
    let mut plan = rules::plan(&group_targets, &task_targets, &milestone_targets, cal, &tz, from, at, cfg.catch_up);
    if let Some(g) = only_group {
        plan.send.retain(|o| o.group_id == g);
        plan.skip.retain(|(o, _)| o.group_id == g);
    }
    let recorded = store.recorded_occurrences(from.as_second(), at.as_second()).await?;
    let mut report = RunReport { from: Some(from), at: Some(at), ..Default::default() };
    let mut ctx = Context { store, tz: &tz, groups: &groups, milestones: &milestones, now: at, tasks: HashMap::new() };
    for (o, reason) in &plan.skip {
        if recorded.contains(&o.key) {
            continue;
        }
        let firing = Firing {
            key: &o.key,
            rule: o.rule,
            group_id: o.group_id,
            scheduled_at: o.at.as_second(),
            status: reason.as_str(),
            payloads: vec![],
            instance: &cfg.instance,
        };
        match store.fire_occurrence(&firing).await? {
            Some(_) => report.fired.push(fired(o, reason.as_str(), vec![], None)),
            None => report.already += 1,
        }
    }
    for o in &plan.send {
        if recorded.contains(&o.key) {
            report.already += 1;
            continue;
        }
        let (status, payloads, text) = match ctx.compose(o).await? {
            Some((text, mentions)) => {
                let chunks = compose::split_for_limit(&text, MESSAGE_MAX_BYTES);
                let n = chunks.len();
                let payloads = chunks
                    .into_iter()
                    .enumerate()
                    .map(|(i, chunk)| {
                        serde_json::json!({
                            "text": chunk,
                            // The @-mentions go with the first chunk only.
                            "mentions": if i == 0 { serde_json::to_value(&mentions).unwrap_or_default() } else { serde_json::json!([]) },
                            "source": "scheduler",
                            "rule": o.rule.as_str(),
                            "occurrence": o.key,
                            "chunk": i + 1,
                            "chunks": n,
                        })
                    })
                    .collect();
                ("sent", payloads, Some(text))
            }
            None => ("moot", vec![], None),
        };
        let firing = Firing { key: &o.key, rule: o.rule, group_id: o.group_id, scheduled_at: o.at.as_second(), status, payloads, instance: &cfg.instance };
        match store.fire_occurrence(&firing).await? {
            Some(ids) => report.fired.push(fired(o, status, ids, text)),
            None => report.already += 1,
        }
    }
    if only_group.is_none() {
        store.advance_scheduler_tick(at.as_second()).await?;
    }
    Ok(report)
}

fn fired(o: &Occurrence, status: &str, outbox_ids: Vec<i64>, text: Option<String>) -> Fired {
    Fired { key: o.key.clone(), rule: o.rule, group_id: o.group_id, scheduled_at: o.at, status: status.into(), outbox_ids, text }
}

/// The next occurrences after `after`: the next of every timed rule, and
/// the deadline alerts of the coming `horizon_days`.
pub async fn upcoming(store: &Store, cal: &Calendar, after: Timestamp, only_group: Option<i64>, horizon_days: i64) -> Result<Vec<Occurrence>, StoreError> {
    let tz = workspace_tz(store).await?;
    let to = after + SignedDuration::from_hours(24 * horizon_days);
    let (_, group_targets, task_targets, milestone_targets, _, _) = inputs(store, after, to).await?;
    let mut out = rules::upcoming(&group_targets, &task_targets, &milestone_targets, cal, &tz, after, horizon_days);
    if let Some(g) = only_group {
        out.retain(|o| o.group_id == g);
    }
    Ok(out)
}

/// Spawns the background scheduler on the current runtime. Each tick runs
/// [`run_due`] at the wall-clock time; errors are logged and retried on the
/// next tick.
pub fn spawn(store: Store, calendar: std::sync::Arc<Calendar>, config: SchedulerConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_due(&store, &calendar, Timestamp::now(), None, &config).await {
                Ok(r) => {
                    let sent = r.sent().count();
                    if !r.fired.is_empty() {
                        tracing::info!(sent, skipped = r.fired.len() - sent, already = r.already, "scheduler run");
                    }
                }
                Err(e) => tracing::error!(error = %e, "scheduler run failed"),
            }
            if let Some(policy) = &config.retention {
                run_retention_hourly(&store, policy, Timestamp::now()).await;
            }
            tokio::time::sleep(config.tick).await;
        }
    })
}

/// The retention run of the current UTC hour, if no instance has done it
/// yet: its key (`retention:2026-01-15T03`) is claimed in the run's own
/// transaction, so one instance prunes per hour however many tick.
pub async fn run_retention_hourly(store: &Store, policy: &RetentionPolicy, now: Timestamp) -> Option<RetentionReport> {
    let key = format!("retention:{}", now.strftime("%Y-%m-%dT%H"));
    match store.run_retention(policy, now.as_second(), Some(&key)).await {
        Ok(r) => {
            if r.ran {
                tracing::info!(
                    outbox = r.outbox_deleted,
                    sessions = r.sessions_deleted,
                    replay_cache = r.replay_cache_deleted,
                    reply_routes = r.reply_routes_deleted,
                    "retention run"
                );
            }
            Some(r)
        }
        Err(e) => {
            tracing::error!(error = %e, "retention run failed");
            None
        }
    }
}

/// Data shared by the occurrences of one run.
struct Context<'a> {
    store: &'a Store,
    tz: &'a TimeZone,
    groups: &'a [ScheduledGroup],
    milestones: &'a [DueMilestone],
    now: Timestamp,
    /// Tasks per project, loaded once per run.
    tasks: HashMap<i64, Vec<TaskView>>,
}

fn line(v: &TaskView) -> TaskLine {
    TaskLine {
        reference: v.task.reference.clone(),
        title: v.task.title.clone(),
        owners: v.owner_names.clone(),
        due: v.task.due,
        status: v.task.status,
        progress: v.task.progress,
    }
}

impl Context<'_> {
    async fn project_tasks(&mut self, project_id: i64) -> Result<&[TaskView], StoreError> {
        if !self.tasks.contains_key(&project_id) {
            let list = self.store.tasks(&TaskFilter { project_id: Some(project_id), ..Default::default() }).await?;
            self.tasks.insert(project_id, list);
        }
        Ok(&self.tasks[&project_id])
    }

    fn local_date(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The tasks a group's reports cover: a sub-task group's branch, or its
    /// whole project.
    async fn scope(&mut self, group: &ScheduledGroup) -> Result<Vec<TaskView>, StoreError> {
        let Some(p) = group.project_id else { return Ok(vec![]) };
        let branch = (group.kind == GroupKind::Subtask).then_some(group.parent_task_id).flatten();
        let all = self.project_tasks(p).await?;
        Ok(all.iter().filter(|v| branch.is_none_or(|b| v.task.id == b || v.task.parent_task_id == Some(b))).cloned().collect())
    }

    /// The text of an occurrence and whom it @-mentions; `None` when its
    /// subject is gone.
    async fn compose(&mut self, o: &Occurrence) -> Result<Option<(String, Vec<MentionOf>)>, StoreError> {
        let Some(group) = self.groups.iter().find(|g| g.id == o.group_id).cloned() else { return Ok(None) };
        let now = self.now;
        let open_overdue = |v: &TaskView| !v.task.status.is_closed() && v.task.due.is_some_and(|d| d < now);
        match &o.subject {
            Subject::Day { date } => {
                let scope = self.scope(&group).await?;
                let date = *date;
                let text = match o.rule {
                    RuleKind::Morning => {
                        let due_today: Vec<TaskLine> = scope
                            .iter()
                            .filter(|v| !v.task.status.is_closed() && v.task.due.is_some_and(|d| self.local_date(d) == date && d >= now))
                            .map(line)
                            .collect();
                        let overdue: Vec<TaskLine> = scope.iter().filter(|v| open_overdue(v)).map(line).collect();
                        compose::morning(date, &due_today, &overdue, self.tz)
                    }
                    RuleKind::Digest => {
                        let done: Vec<TaskLine> = scope
                            .iter()
                            .filter(|v| v.task.status == TaskStatus::Done && v.task.done_at.is_some_and(|d| self.local_date(d) == date))
                            .map(line)
                            .collect();
                        let wip: Vec<TaskLine> = scope
                            .iter()
                            .filter(|v| matches!(v.task.status, TaskStatus::InProgress | TaskStatus::Review | TaskStatus::Blocked) && !open_overdue(v))
                            .map(line)
                            .collect();
                        let overdue: Vec<TaskLine> = scope.iter().filter(|v| open_overdue(v)).map(line).collect();
                        let missing = self.missing_standups(&group, &scope, date).await?;
                        compose::digest(date, &done, &wip, &overdue, &missing, self.tz)
                    }
                    RuleKind::Weekly => {
                        let monday = date
                            .checked_sub(jiff::Span::new().days(date.weekday().to_monday_zero_offset() as i64))
                            .unwrap_or(date);
                        let next_monday = monday.checked_add(jiff::Span::new().days(7)).unwrap_or(date);
                        let start = |d: Date| d.to_zoned(self.tz.clone()).map(|z| z.timestamp()).unwrap_or(now);
                        let (week_start, next_start) = (start(monday), start(next_monday));
                        let next_end = next_start + SignedDuration::from_hours(24 * 7);
                        let done: Vec<TaskLine> = scope
                            .iter()
                            .filter(|v| v.task.status == TaskStatus::Done && v.task.done_at.is_some_and(|d| d >= week_start))
                            .map(line)
                            .collect();
                        let open: Vec<TaskLine> = scope.iter().filter(|v| !v.task.status.is_closed() && !open_overdue(v)).map(line).collect();
                        let overdue: Vec<TaskLine> = scope.iter().filter(|v| open_overdue(v)).map(line).collect();
                        let next: Vec<TaskLine> = scope
                            .iter()
                            .filter(|v| !v.task.status.is_closed() && v.task.due.is_some_and(|d| d >= next_start && d < next_end))
                            .map(line)
                            .collect();
                        compose::weekly(monday, date, &done, &open, &overdue, &next, self.tz)
                    }
                    _ => return Ok(None),
                };
                Ok(Some((text, vec![])))
            }
            Subject::Task { task_id, due, step } => {
                let Some(p) = group.project_id else { return Ok(None) };
                let Some(v) = self.project_tasks(p).await?.iter().find(|v| v.task.id == *task_id).cloned() else { return Ok(None) };
                if v.task.status.is_closed() || v.task.due != Some(*due) {
                    return Ok(None);
                }
                let mut people = v.task.owners.clone();
                let text = match step {
                    Step::Before(h) => compose::due_soon(&line(&v), *h, self.tz),
                    Step::Owner | Step::Lead | Step::Pm => {
                        let leads_ids = self.store.members_with_role(p, Role::Lead).await?;
                        let pm_ids = self.store.members_with_role(p, Role::Pm).await?;
                        let (escalation, extra): (Escalation, Vec<i64>) = match step {
                            Step::Owner => (Escalation::Owner, vec![]),
                            Step::Lead => (Escalation::Lead, leads_ids.clone()),
                            _ => (Escalation::Pm, leads_ids.iter().chain(&pm_ids).copied().collect()),
                        };
                        people.extend(extra);
                        let leads: Vec<String> = match escalation {
                            Escalation::Owner => vec![],
                            _ => self.store.mentions_of(&leads_ids, "").await?.into_iter().map(|m| m.display_name).collect(),
                        };
                        let pms: Vec<String> = match escalation {
                            Escalation::Pm => self.store.mentions_of(&pm_ids, "").await?.into_iter().map(|m| m.display_name).collect(),
                            _ => vec![],
                        };
                        let late = (now.as_second() - due.as_second()) / 3600;
                        compose::overdue(&line(&v), escalation, late, &leads, &pms, self.tz)
                    }
                };
                let mentions = self.store.mentions_of(&people, &group.platform).await?;
                Ok(Some((text, mentions)))
            }
            Subject::Milestone { milestone_id, due, .. } => {
                let Some(m) = self.milestones.iter().find(|m| m.id == *milestone_id) else { return Ok(None) };
                let name = m.name.clone();
                let open: Vec<TaskLine> = self
                    .project_tasks(m.project_id)
                    .await?
                    .iter()
                    .filter(|v| v.task.milestone_id == Some(*milestone_id) && !v.task.status.is_closed())
                    .map(line)
                    .collect();
                Ok(Some((compose::milestone(&name, *due, &open, self.tz), vec![])))
            }
        }
    }

    /// The team members who have not posted today's stand-up: everyone with
    /// a role in the project and every owner of an open task in scope.
    async fn missing_standups(&self, group: &ScheduledGroup, scope: &[TaskView], date: Date) -> Result<Vec<String>, StoreError> {
        let Some(p) = group.project_id else { return Ok(vec![]) };
        let mut team: Vec<(i64, String)> = self.store.project_team(p).await?;
        for v in scope.iter().filter(|v| !v.task.status.is_closed()) {
            for (id, name) in v.task.owners.iter().zip(&v.owner_names) {
                if !team.iter().any(|(t, _)| t == id) {
                    team.push((*id, name.clone()));
                }
            }
        }
        let posted: HashSet<i64> = self.store.standup_members(p, group.id, &date.to_string()).await?;
        Ok(team.into_iter().filter(|(id, _)| !posted.contains(id)).map(|(_, n)| n).collect())
    }
}

// ---------------------------------------------------------------- REST API

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};

use crate::http::ApiError;
use crate::Engine;

/// `GET /api/v1/groups/{group}/reminders` (rules and next occurrences),
/// `PUT /api/v1/groups/{group}/reminders/{rule}` (`{"enabled":false}`,
/// `{"at":"09:30"}`, `{"hours":[24,2]}`; the project's PM or lead), `POST
/// /api/v1/reminders/run` (`{"at":"…","group":"…"}`; admins). `{group}`
/// is a group name or `platform:chat_id`.
pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/api/v1/groups/{group}/reminders", get(api_list))
        .route("/api/v1/groups/{group}/reminders/{rule}", put(api_set))
        .route("/api/v1/reminders/run", post(api_run))
}

/// Members who can see the group's project read its rules; its PMs and leads
/// (and admins) change them. Running the scheduler by hand is for admins.
async fn group_for(engine: &Engine, caller: &crate::web::auth::Caller, group: &str, change: bool) -> Result<qunban_store::Group, ApiError> {
    // The dashboard names groups by id; people and scripts by name.
    let by_id = match group.parse::<i64>() {
        Ok(id) => engine.store().groups().await?.into_iter().find(|g| g.id == id),
        Err(_) => None,
    };
    let g = match by_id {
        Some(g) => g,
        None => engine.store().group_by_name(group).await?,
    };
    match g.project_id {
        Some(p) => caller.check_read(engine, p).await?,
        None if caller.is_admin => {}
        None => return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this group is not bound to a project you can see")),
    }
    if change && !(caller.is_admin || g.project_id.is_some_and(|p| caller.manages(p))) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only the project's PM or lead changes its reminders"));
    }
    Ok(g)
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    after: Option<Timestamp>,
    days: Option<i64>,
}

async fn api_list(
    State(engine): State<Engine>,
    caller: crate::web::auth::Caller,
    Path(group): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = engine.store();
    let g = group_for(&engine, &caller, &group, false).await?;
    let after = q.after.map(|t| crate::http::check_instant("after", t)).transpose()?;
    let rules = store.schedule_rules(g.id).await?;
    let next = upcoming(store, engine.calendar(), after.unwrap_or_else(Timestamp::now), Some(g.id), q.days.unwrap_or(7).clamp(1, 60)).await?;
    Ok(Json(serde_json::json!({ "group_id": g.id, "group": g.name, "rules": rules.all(), "next": next })))
}

#[derive(Debug, serde::Deserialize)]
struct SetBody {
    enabled: Option<bool>,
    at: Option<String>,
    hours: Option<Vec<i64>>,
}

async fn api_set(
    State(engine): State<Engine>,
    caller: crate::web::auth::Caller,
    Path((group, rule)): Path<(String, String)>,
    crate::web::JsonBody(body): crate::web::JsonBody<SetBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let g = group_for(&engine, &caller, &group, true).await?;
    let kind: RuleKind = rule.parse().map_err(|e: qunban_core::model::UnknownName| ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()))?;
    let at = match &body.at {
        Some(s) => Some(rules::parse_hhmm(s).ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("'{s}' is not HH:MM")))?),
        None => None,
    };
    let store = engine.store();
    let rule = store.set_schedule_rule(g.id, kind, body.enabled, at, body.hours).await?;
    Ok(Json(serde_json::json!({ "group_id": g.id, "rule": rule })))
}

#[derive(Debug, Default, serde::Deserialize)]
struct RunBody {
    at: Option<Timestamp>,
    group: Option<String>,
}

async fn api_run(State(engine): State<Engine>, caller: crate::web::auth::Caller, body: Option<Json<RunBody>>) -> Result<Json<RunReport>, ApiError> {
    if !caller.is_admin {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "running the scheduler by hand is for admins"));
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let store = engine.store();
    let group = match &body.group {
        Some(n) => Some(store.group_by_name(n).await?.id),
        None => None,
    };
    let at = body.at.map(|t| crate::http::check_instant("at", t)).transpose()?;
    let report = run_due(store, engine.calendar(), at.unwrap_or_else(Timestamp::now), group, &SchedulerConfig::default()).await?;
    Ok(Json(report))
}
