//! `qunban outbox`: what the bot still has to send, and what it gave up on.

use anyhow::{bail, Result};
use clap::Subcommand;
use qunban_store::{OutboxStatus, Store};

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// List queued, sent and failed messages, newest first.
    #[command(after_help = "Examples:\n  qunban outbox list\n  qunban outbox list --failed\n  qunban outbox list --json --limit 500")]
    List {
        /// Only dead letters (delivery gave up; see `qunban outbox retry`).
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed message again, with a fresh set of attempts.
    #[command(after_help = "Examples:\n  qunban outbox retry 42")]
    Retry { id: i64 },
}

pub async fn run(cmd: OutboxCmd, store: &Store) -> Result<()> {
    match cmd {
        OutboxCmd::List { failed, limit, json } => {
            let items = store.outbox(failed.then_some(OutboxStatus::Dead), limit).await?;
            if json {
                return print_json(&items);
            }
            for i in items {
                let status = serde_json::to_value(i.status)?.as_str().unwrap_or("?").to_string();
                let text = i.payload.get("text").and_then(|t| t.as_str()).or_else(|| i.payload.pointer("/event/type").and_then(|t| t.as_str())).unwrap_or("");
                let text: String = text.chars().take(40).map(|c| if c == '\n' { ' ' } else { c }).collect();
                println!("{}\t{}\t{}\t{} attempts\t{}\t{}", i.id, status, i.kind, i.attempts, text, i.last_error.as_deref().unwrap_or(""));
            }
            Ok(())
        }
        OutboxCmd::Retry { id } => {
            if !store.requeue_outbox(id).await? {
                bail!("no undelivered outbox message {id}");
            }
            println!("Outbox message {id} queued again; `qunban serve` delivers it.");
            Ok(())
        }
    }
}
