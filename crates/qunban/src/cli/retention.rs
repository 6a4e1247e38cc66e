//! `qunban retention run`, and the retention settings `serve` shares.

use anyhow::Result;
use clap::{Args, Subcommand};
use qunban_store::{RetentionPolicy, Store};

use super::print_json;

/// What is pruned (docs/SECRETS.md, "Retention"). The message log is always kept.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Days to keep delivered outbox rows (and reply routes), or `forever`.
    #[arg(long, env = "QUNBAN_RETENTION_OUTBOX_DAYS", default_value = "30", value_parser = days)]
    pub outbox_days: Days,
    /// Days to keep web sessions after they expire, or `forever`.
    #[arg(long, env = "QUNBAN_RETENTION_SESSION_DAYS", default_value = "7", value_parser = days)]
    pub session_days: Days,
}

/// A number of days, or `None` for forever.
#[derive(Debug, Clone, Copy)]
pub struct Days(pub Option<i64>);

fn days(s: &str) -> Result<Days, String> {
    match s.trim() {
        "forever" | "never" => Ok(Days(None)),
        n => n.parse::<i64>().ok().filter(|d| (0..=36_500).contains(d)).map(|d| Days(Some(d))).ok_or_else(|| format!("'{s}': expected a number of days (0-36500) or 'forever'")),
    }
}

impl RetentionArgs {
    pub fn policy(&self) -> RetentionPolicy {
        RetentionPolicy { outbox_days: self.outbox_days.0, session_days: self.session_days.0 }
    }
}

#[derive(Debug, Subcommand)]
pub enum RetentionCmd {
    /// Prune now what the policy says (the server also does it once an hour).
    #[command(after_help = "Examples:\n  qunban retention run\n  qunban retention run --outbox-days 7 --json")]
    Run {
        #[command(flatten)]
        policy: RetentionArgs,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: RetentionCmd, store: &Store) -> Result<()> {
    match cmd {
        RetentionCmd::Run { policy, json } => {
            let policy = policy.policy();
            let r = store.run_retention(&policy, jiff::Timestamp::now().as_second(), None).await?;
            if json {
                return print_json(&serde_json::json!({ "policy": policy, "deleted": r }));
            }
            println!(
                "Deleted {} delivered outbox rows, {} reply routes, {} expired sessions, {} replay-cache rows. The message log is kept.",
                r.outbox_deleted, r.reply_routes_deleted, r.sessions_deleted, r.replay_cache_deleted
            );
            Ok(())
        }
    }
}
