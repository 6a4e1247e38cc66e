//! `qunban remind`: run the scheduler's rules at an instant, list the next
//! occurrences, change a group's rules.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};
use qunban_core::schedule::rules::parse_hhmm;
use qunban_core::schedule::RuleKind;
use qunban_server::scheduler::{self, SchedulerConfig};
use qunban_server::Engine;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum RemindCmd {
    /// Run the rules due at an instant: queue what is due since the last
    /// run, record what is too old as skipped. Each occurrence is queued
    /// once, however often this runs.
    #[command(after_help = "Examples:\n  qunban remind run --at 2026-01-15T16:00:00+08:00\n  qunban remind run --at 2026-01-15T09:00:00+08:00 --group 官网改版总控群 --json\n  qunban remind run            # now")]
    Run(RunArgs),
    /// Show the next occurrences per group: the next morning reminder,
    /// digest and weekly report, and the deadline alerts of the coming week.
    #[command(after_help = "Examples:\n  qunban remind list\n  qunban remind list --group 官网改版总控群 --json\n  qunban remind list --after 2026-02-14T18:00:00+08:00")]
    List(ListArgs),
    /// Change one rule of one group.
    #[command(after_help = "Rules: morning (09:00 workdays), digest (16:00 workdays), weekly (Friday 17:00, master groups),\n\
        due_soon (hours before a deadline, 24,2), overdue (hours after it when the leads, then the PMs are added, 24,48),\n\
        milestone (hours before a milestone, 72).\n\n\
        Examples:\n  qunban remind set --group 官网改版总控群 --rule morning --at 09:30\n  qunban remind set --group 官网改版总控群 --rule digest --off\n  qunban remind set --group 官网改版总控群 --rule overdue --hours 12,36\n  qunban remind set --group wecom:wr001 --rule weekly --on --at 16:30")]
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The instant to run at (RFC 3339); now when left out.
    #[arg(long)]
    at: Option<Timestamp>,
    /// Only this group (name or platform:chat_id).
    #[arg(long)]
    group: Option<String>,
    /// Catch-up window in minutes: older missed occurrences are skipped.
    #[arg(long, default_value_t = 120)]
    catch_up_minutes: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this group (name or platform:chat_id).
    #[arg(long)]
    group: Option<String>,
    /// List what comes after this instant (RFC 3339); now when left out.
    #[arg(long)]
    after: Option<Timestamp>,
    /// Days of deadline alerts to show.
    #[arg(long, default_value_t = 7)]
    days: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The group (name or platform:chat_id).
    #[arg(long)]
    group: String,
    /// morning, digest, due_soon, overdue, weekly or milestone.
    #[arg(long)]
    rule: RuleKind,
    /// Switch the rule on.
    #[arg(long, conflicts_with = "off")]
    on: bool,
    /// Switch the rule off.
    #[arg(long)]
    off: bool,
    /// Local time of day, HH:MM (morning, digest, weekly).
    #[arg(long)]
    at: Option<String>,
    /// Comma-separated hours (due_soon, overdue, milestone).
    #[arg(long)]
    hours: Option<String>,
    #[arg(long)]
    json: bool,
}

pub async fn remind(cmd: RemindCmd, engine: &Engine) -> Result<()> {
    let store = engine.store();
    let tz = engine.workspace().await?.tz();
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M %a").to_string();
    let group_id = |name: Option<String>| async move {
        match name {
            Some(n) => Ok::<_, anyhow::Error>(Some(store.group_by_name(&n).await?.id)),
            None => Ok(None),
        }
    };
    match cmd {
        RemindCmd::Run(a) => {
            if a.catch_up_minutes < 0 {
                bail!("--catch-up-minutes must not be negative");
            }
            let g = group_id(a.group).await?;
            let cfg = SchedulerConfig { catch_up: SignedDuration::from_mins(a.catch_up_minutes), ..SchedulerConfig::default() };
            let at = a.at.unwrap_or_else(Timestamp::now);
            let report = scheduler::run_due(store, engine.calendar(), at, g, &cfg).await?;
            if a.json {
                return print_json(&report);
            }
            if report.fired.is_empty() {
                println!("Nothing due at {} ({} already handled).", local(at), report.already);
            }
            for f in &report.fired {
                println!("{}\t{}\t{}\t{} message(s)", local(f.scheduled_at), f.status, f.key, f.outbox_ids.len());
                if let Some(text) = &f.text {
                    for l in text.lines() {
                        println!("    {l}");
                    }
                }
            }
            Ok(())
        }
        RemindCmd::List(a) => {
            let g = group_id(a.group).await?;
            let after = a.after.unwrap_or_else(Timestamp::now);
            let next = scheduler::upcoming(store, engine.calendar(), after, g, a.days).await?;
            let groups = store.scheduled_groups(g).await?;
            if a.json {
                let out: Vec<serde_json::Value> = groups
                    .iter()
                    .map(|grp| {
                        serde_json::json!({
                            "group_id": grp.id,
                            "group": grp.name,
                            "project_id": grp.project_id,
                            "rules": grp.rules.all(),
                            "next": next.iter().filter(|o| o.group_id == grp.id).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                return print_json(&out);
            }
            for grp in &groups {
                if grp.project_id.is_none() {
                    println!("{} (id {}): not bound to a project, no reminders", grp.name, grp.id);
                    continue;
                }
                let rules: Vec<String> = grp.rules.all().iter().map(|r| format!("{} {}", r.kind, r.describe())).collect();
                println!("{} (id {}): {}", grp.name, grp.id, rules.join("; "));
                for o in next.iter().filter(|o| o.group_id == grp.id) {
                    println!("  {}\t{}\t{}", local(o.at), o.rule.zh(), o.key);
                }
            }
            Ok(())
        }
        RemindCmd::Set(a) => {
            let g = store.group_by_name(&a.group).await?;
            let enabled = match (a.on, a.off) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let at = match &a.at {
                Some(s) => Some(parse_hhmm(s).with_context(|| format!("--at '{s}' is not a time of day (HH:MM)"))?),
                None => None,
            };
            let hours = match &a.hours {
                Some(s) => {
                    let h: Result<Vec<i64>, _> = s.split(',').map(|x| x.trim().trim_end_matches('h').parse::<i64>()).collect();
                    Some(h.with_context(|| format!("--hours '{s}' must be comma-separated whole hours, like 24,2"))?)
                }
                None => None,
            };
            if enabled.is_none() && at.is_none() && hours.is_none() {
                bail!("nothing to change: give --on, --off, --at HH:MM or --hours");
            }
            let rule = store.set_schedule_rule(g.id, a.rule, enabled, at, hours).await?;
            if a.json {
                return print_json(&rule);
            }
            println!("{}: {} {}", g.name, rule.kind, rule.describe());
            Ok(())
        }
    }
}
