//! What the scheduler reads and writes: per-group rules, the record of
//! occurrences, and the one transaction that fires an occurrence.
//!
//! Exactly once, as users see it: [`Store::fire_occurrence`] inserts the
//! occurrence key into `schedule_runs` (UNIQUE, `ON CONFLICT DO NOTHING`) and
//! queues the occurrence's outbox rows in the same transaction. An instance
//! that loses the race inserts nothing and queues nothing; a crash before the
//! commit leaves neither the mark nor the rows, so the next tick fires it
//! again; a crash after it leaves both, and the outbox delivers the rows at
//! least once under their idempotency keys (`<occurrence key>#<chunk>`).

use std::collections::{BTreeMap, HashSet};

use jiff::civil::Time;
use qunban_core::schedule::{GroupRules, Rule, RuleKind};
use qunban_core::{GroupKind, Role};
use serde::Serialize;
use sqlx::Row;

use crate::{now_secs, Result, Store, StoreError};

/// A group as the scheduler sees it: with the project it belongs to (its own
/// or the single project a support group serves) and its rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledGroup {
    pub id: i64,
    pub platform: String,
    pub name: String,
    pub kind: GroupKind,
    pub project_id: Option<i64>,
    pub parent_task_id: Option<i64>,
    pub rules: GroupRules,
}

/// An open task with a deadline, for planning deadline alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineTask {
    pub id: i64,
    pub project_id: i64,
    pub parent_task_id: Option<i64>,
    pub due_at: i64,
    pub created_at: i64,
}

/// An open milestone with a due time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMilestone {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub due_at: i64,
    pub created_at: i64,
}

/// Someone to @-mention: the outbox payload's `mentions` entries, resolved
/// for the group's platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MentionOf {
    pub display_name: String,
    pub platform_user_id: Option<String>,
    pub mobile: Option<String>,
}

/// One recorded occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleRun {
    pub occurrence_key: String,
    pub rule: String,
    pub group_id: Option<i64>,
    pub scheduled_at: i64,
    pub status: String,
    pub outbox_rows: i64,
    pub instance: Option<String>,
    pub recorded_at: i64,
}

/// How [`Store::fire_occurrence`] should record an occurrence.
#[derive(Debug, Clone)]
pub struct Firing<'a> {
    pub key: &'a str,
    pub rule: RuleKind,
    pub group_id: i64,
    pub scheduled_at: i64,
    /// `sent`, `stale` or `superseded`.
    pub status: &'a str,
    /// Outbox payloads, one per message chunk (none when skipped).
    pub payloads: Vec<serde_json::Value>,
    pub instance: &'a str,
}

fn parse_hours(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|h| h.trim().trim_end_matches('h').parse().ok()).collect()
}

/// What a chat `/设置` key changes in a rule.
enum ChatSetting {
    /// `morning_time` …: the time of day of a timed rule.
    Time,
    /// `morning_enabled` …: `on` or `off`.
    Switch,
}

/// The chat `/设置` keys that change a rule.
fn chat_setting_rule(key: &str) -> Option<(RuleKind, ChatSetting)> {
    match key {
        "morning_time" => Some((RuleKind::Morning, ChatSetting::Time)),
        "digest_time" => Some((RuleKind::Digest, ChatSetting::Time)),
        "weekly_time" => Some((RuleKind::Weekly, ChatSetting::Time)),
        _ => Some((key.strip_suffix("_enabled")?.parse().ok()?, ChatSetting::Switch)),
    }
}

impl Store {
    /// A group's rules: defaults, with the rows of `schedule_rules` (CLI,
    /// API) and the chat's `/设置 早报 09:30` settings on top — the most
    /// recent change wins.
    pub async fn schedule_rules(&self, group_id: i64) -> Result<GroupRules> {
        Ok(self.schedule_rules_of(&[group_id]).await?.remove(&group_id).unwrap_or_default())
    }

    async fn schedule_rules_of(&self, group_ids: &[i64]) -> Result<BTreeMap<i64, GroupRules>> {
        // Per group and rule: the rule, and when its time and its on/off
        // switch were last changed (each by the CLI/API or the chat).
        let mut changed: BTreeMap<(i64, RuleKind), (Rule, i64, i64)> = BTreeMap::new();
        let rows = sqlx::query("SELECT group_id, rule, enabled, at_time, hours, updated_at FROM schedule_rules ORDER BY group_id")
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let group_id: i64 = r.try_get("group_id")?;
            let name: String = r.try_get("rule")?;
            let Ok(kind) = name.parse::<RuleKind>() else { continue };
            let at: Option<String> = r.try_get("at_time")?;
            let hours: Option<String> = r.try_get("hours")?;
            let mut rule = Rule::default_for(kind);
            rule.enabled = r.try_get::<i64, _>("enabled")? != 0;
            if let Some(t) = at.as_deref().and_then(qunban_core::schedule::rules::parse_hhmm) {
                rule.at = Some(t);
            }
            if let Some(h) = hours.as_deref().map(parse_hours).filter(|h| !h.is_empty()) {
                rule.hours = h;
            }
            let updated: i64 = r.try_get("updated_at")?;
            changed.insert((group_id, kind), (rule, updated, updated));
        }
        // Chat settings (`group_settings`, written by `/设置`): a time
        // (`morning_time` …) or a switch (`morning_enabled` …). Read outside
        // any transaction; a database without that table simply has none.
        if let Ok(rows) = sqlx::query("SELECT group_id, key, value, updated_at FROM group_settings").fetch_all(&self.pool).await {
            for r in &rows {
                let key: String = r.try_get("key")?;
                let Some((kind, setting)) = chat_setting_rule(&key) else { continue };
                let value: String = r.try_get("value")?;
                let (group_id, updated): (i64, i64) = (r.try_get("group_id")?, r.try_get("updated_at")?);
                let entry = changed.entry((group_id, kind)).or_insert_with(|| (Rule::default_for(kind), i64::MIN, i64::MIN));
                match setting {
                    ChatSetting::Time => {
                        let Some(t) = qunban_core::schedule::rules::parse_hhmm(&value) else { continue };
                        if updated >= entry.1 {
                            entry.0.at = Some(t);
                            entry.1 = updated;
                        }
                    }
                    ChatSetting::Switch => {
                        let on = match value.as_str() {
                            "on" => true,
                            "off" => false,
                            _ => continue,
                        };
                        if updated >= entry.2 {
                            entry.0.enabled = on;
                            entry.2 = updated;
                        }
                    }
                }
            }
        }
        let mut out: BTreeMap<i64, GroupRules> = group_ids.iter().map(|g| (*g, GroupRules::default())).collect();
        for ((group_id, _), (rule, _, _)) in changed {
            if let Some(rules) = out.get_mut(&group_id) {
                rules.set(rule);
            }
        }
        Ok(out)
    }

    /// Changes one rule of one group. `None` keeps the current value.
    pub async fn set_schedule_rule(&self, group_id: i64, kind: RuleKind, enabled: Option<bool>, at: Option<Time>, hours: Option<Vec<i64>>) -> Result<Rule> {
        if let Some(h) = &hours {
            if h.is_empty() || h.iter().any(|h| *h <= 0 || *h > 24 * 60) {
                return Err(StoreError::Invalid("hours must be positive whole numbers up to 1440".into()));
            }
        }
        if at.is_some() && !kind.is_timed() {
            return Err(StoreError::Invalid(format!("rule '{kind}' has no time of day; use hours")));
        }
        let mut rule = self.schedule_rules(group_id).await?.rule(kind);
        if let Some(e) = enabled {
            rule.enabled = e;
        }
        if let Some(t) = at {
            rule.at = Some(t);
        }
        if let Some(h) = hours {
            rule.hours = h;
        }
        let at_text = rule.at.map(qunban_core::schedule::rules::hhmm);
        let hours_text = (!rule.hours.is_empty()).then(|| rule.hours.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(","));
        sqlx::query(
            "INSERT INTO schedule_rules (group_id, rule, enabled, at_time, hours, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (group_id, rule) DO UPDATE SET enabled = EXCLUDED.enabled, at_time = EXCLUDED.at_time, \
             hours = EXCLUDED.hours, updated_at = EXCLUDED.updated_at",
        )
        .bind(group_id)
        .bind(kind.as_str())
        .bind(i64::from(rule.enabled))
        .bind(at_text)
        .bind(hours_text)
        .bind(now_secs())
        .execute(&self.pool)
        .await?;
        Ok(rule)
    }

    /// Every group (or one), with its project and rules.
    pub async fn scheduled_groups(&self, only: Option<i64>) -> Result<Vec<ScheduledGroup>> {
        let rows = sqlx::query(
            "SELECT g.id, g.platform, g.name, g.kind, g.project_id, g.parent_task_id, \
             (SELECT MIN(gp.project_id) FROM group_projects gp WHERE gp.group_id = g.id) AS served, \
             (SELECT COUNT(*) FROM group_projects gp WHERE gp.group_id = g.id) AS served_count \
             FROM chat_groups g ORDER BY g.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            if only.is_some_and(|o| o != id) {
                continue;
            }
            let kind: String = r.try_get("kind")?;
            let own: Option<i64> = r.try_get("project_id")?;
            let served: Option<i64> = r.try_get("served")?;
            let served_count: i64 = r.try_get("served_count")?;
            out.push(ScheduledGroup {
                id,
                platform: r.try_get("platform")?,
                name: r.try_get("name")?,
                kind: kind.parse().map_err(|e: qunban_core::model::UnknownName| StoreError::Corrupt(e.to_string()))?,
                project_id: own.or(if served_count == 1 { served } else { None }),
                parent_task_id: r.try_get("parent_task_id")?,
                rules: GroupRules::default(),
            });
        }
        let ids: Vec<i64> = out.iter().map(|g| g.id).collect();
        let mut rules = self.schedule_rules_of(&ids).await?;
        for g in &mut out {
            g.rules = rules.remove(&g.id).unwrap_or_default();
        }
        Ok(out)
    }

    /// Open tasks with a deadline in `[from, to]` (unix seconds).
    pub async fn deadline_tasks(&self, from: i64, to: i64) -> Result<Vec<DeadlineTask>> {
        let rows = sqlx::query(
            "SELECT id, project_id, parent_task_id, due_at, created_at FROM tasks \
             WHERE status NOT IN ('done', 'cancelled') AND due_at IS NOT NULL AND due_at >= $1 AND due_at <= $2 ORDER BY id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadlineTask {
                    id: r.try_get("id")?,
                    project_id: r.try_get("project_id")?,
                    parent_task_id: r.try_get("parent_task_id")?,
                    due_at: r.try_get("due_at")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Open milestones due in `[from, to]`.
    pub async fn due_milestones(&self, from: i64, to: i64) -> Result<Vec<DueMilestone>> {
        let rows = sqlx::query(
            "SELECT id, project_id, name, due_at, created_at FROM milestones \
             WHERE status NOT IN ('done', 'cancelled') AND due_at IS NOT NULL AND due_at >= $1 AND due_at <= $2 ORDER BY id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueMilestone {
                    id: r.try_get("id")?,
                    project_id: r.try_get("project_id")?,
                    name: r.try_get("name")?,
                    due_at: r.try_get("due_at")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The members holding `role` in a project, by id.
    pub async fn members_with_role(&self, project_id: i64, role: Role) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT member_id FROM project_roles WHERE project_id = $1 AND role = $2 ORDER BY member_id")
            .bind(project_id)
            .bind(role.as_str())
            .fetch_all(&self.pool)
            .await?)
    }

    /// Everybody with a role in a project: `(id, display name)`.
    pub async fn project_team(&self, project_id: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT m.id, m.display_name FROM project_roles r JOIN members m ON m.id = r.member_id \
             WHERE r.project_id = $1 AND r.role <> 'viewer' ORDER BY m.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?))).collect()
    }

    /// Members who posted a stand-up on local day `day` (`2026-01-15`) in
    /// the project or the group.
    pub async fn standup_members(&self, project_id: i64, group_id: i64, day: &str) -> Result<HashSet<i64>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT member_id FROM standups WHERE day = $1 AND (project_id = $2 OR group_id = $3)")
            .bind(day)
            .bind(project_id)
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().collect())
    }

    /// Members by name, with their mobile and their user id on `platform`,
    /// for real @-mentions. Unknown ids are left out.
    pub async fn mentions_of(&self, member_ids: &[i64], platform: &str) -> Result<Vec<MentionOf>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for id in member_ids {
            if !seen.insert(*id) {
                continue;
            }
            let Some(r) = sqlx::query("SELECT display_name, mobile FROM members WHERE id = $1").bind(id).fetch_optional(&self.pool).await? else {
                continue;
            };
            let user: Option<String> = sqlx::query_scalar(
                "SELECT platform_user_id FROM member_identities WHERE member_id = $1 AND platform = $2 ORDER BY platform_user_id LIMIT 1",
            )
            .bind(id)
            .bind(platform)
            .fetch_optional(&self.pool)
            .await?;
            out.push(MentionOf { display_name: r.try_get("display_name")?, platform_user_id: user, mobile: r.try_get("mobile")? });
        }
        Ok(out)
    }

    /// The occurrence keys already recorded among those scheduled in
    /// `[from, to]`.
    pub async fn recorded_occurrences(&self, from: i64, to: i64) -> Result<HashSet<String>> {
        let keys: Vec<String> = sqlx::query_scalar("SELECT occurrence_key FROM schedule_runs WHERE scheduled_at >= $1 AND scheduled_at <= $2")
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        Ok(keys.into_iter().collect())
    }

    /// Records an occurrence and queues its messages, in one transaction.
    /// Returns the outbox ids, or `None` when the occurrence was already
    /// recorded (by this or another instance) — then nothing is queued.
    pub async fn fire_occurrence(&self, f: &Firing<'_>) -> Result<Option<Vec<i64>>> {
        let now = jiff::Timestamp::now();
        let mut tx = self.begin().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO schedule_runs (occurrence_key, rule, group_id, scheduled_at, status, outbox_rows, instance, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (occurrence_key) DO NOTHING RETURNING id",
        )
        .bind(f.key)
        .bind(f.rule.as_str())
        .bind(f.group_id)
        .bind(f.scheduled_at)
        .bind(f.status)
        .bind(f.payloads.len() as i64)
        .bind(f.instance)
        .bind(now.as_second())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut ids = Vec::with_capacity(f.payloads.len());
        for (i, payload) in f.payloads.iter().enumerate() {
            let key = format!("{}#{}", f.key, i + 1);
            if let Some(id) = crate::outbox::enqueue(&mut tx, &key, Some(f.group_id), "reminder", payload, now).await? {
                ids.push(id);
            }
        }
        // Generic-webhook subscribers (Jira, Teambition bridges) hear about
        // overdue tasks and the daily digest, in the same transaction and
        // with the occurrence key as the event id.
        let event_type = match f.rule {
            RuleKind::Overdue => Some("task.overdue"),
            RuleKind::Digest => Some("report.daily"),
            _ => None,
        };
        if let (Some(event_type), "sent") = (event_type, f.status) {
            let text: Vec<&str> = f.payloads.iter().filter_map(|p| p.get("text").and_then(|t| t.as_str())).collect();
            let data = serde_json::json!({
                "occurrence": f.key,
                "group_id": f.group_id,
                "scheduled_at": f.scheduled_at,
                "text": text.join("\n"),
                "mentions": f.payloads.first().and_then(|p| p.get("mentions")).cloned().unwrap_or_default(),
            });
            crate::connectors::enqueue_event(&mut tx, event_type, f.key, &data, now).await?;
        }
        tx.commit().await?;
        Ok(Some(ids))
    }

    /// When the scheduler last ran, in unix seconds.
    pub async fn scheduler_last_tick(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT last_tick_at FROM scheduler_state WHERE id = 1").fetch_optional(&self.pool).await?)
    }

    /// Moves the last-run mark forward to `at` (never back).
    pub async fn advance_scheduler_tick(&self, at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO scheduler_state (id, last_tick_at) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET last_tick_at = EXCLUDED.last_tick_at WHERE scheduler_state.last_tick_at < EXCLUDED.last_tick_at",
        )
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Recorded occurrences, most recently scheduled first.
    pub async fn schedule_runs(&self, group_id: Option<i64>, limit: i64) -> Result<Vec<ScheduleRun>> {
        let cols = "occurrence_key, rule, group_id, scheduled_at, status, outbox_rows, instance, recorded_at";
        let rows = match group_id {
            Some(g) => {
                sqlx::query(&format!("SELECT {cols} FROM schedule_runs WHERE group_id = $1 ORDER BY scheduled_at DESC, id DESC LIMIT $2"))
                    .bind(g)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(&format!("SELECT {cols} FROM schedule_runs ORDER BY scheduled_at DESC, id DESC LIMIT $1")).bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(ScheduleRun {
                    occurrence_key: r.try_get("occurrence_key")?,
                    rule: r.try_get("rule")?,
                    group_id: r.try_get("group_id")?,
                    scheduled_at: r.try_get("scheduled_at")?,
                    status: r.try_get("status")?,
                    outbox_rows: r.try_get("outbox_rows")?,
                    instance: r.try_get("instance")?,
                    recorded_at: r.try_get("recorded_at")?,
                })
            })
            .collect()
    }
}
