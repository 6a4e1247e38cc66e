//! Retention: what is pruned, and when (docs/RETENTION.md).
//!
//! - The message log is kept forever: it is the source of truth that
//!   `qunban replay` rebuilds every task from, and task history points into
//!   it. There is deliberately no setting to prune it.
//! - Delivered (`sent`) outbox rows older than `outbox_days` are deleted,
//!   with the reply routes (session webhooks, response URLs) and maintenance
//!   records of the same age. Pending and dead rows are kept whatever their
//!   age: they are work to do or to look at.
//! - Web sessions that expired more than `session_days` ago are deleted.
//! - DingTalk replay-cache rows are deleted once expired (the pair is
//!   stale by then and would be refused by the clock check anyway).
//!
//! Exactly once across instances: a scheduled run first claims its period's
//! key in `maintenance_runs` (primary key) inside the transaction that
//! deletes; a second instance racing for the same period waits for the
//! first's commit and then finds the key taken, so it does nothing. Every
//! delete is also idempotent (a condition on age and state, no counters),
//! so a manual `qunban retention run` alongside is harmless.

use serde::Serialize;

use crate::{Result, Store};

const DAY: i64 = 86_400;

/// How long things are kept. `None` keeps them forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    /// Delivered outbox rows, reply routes and maintenance records.
    pub outbox_days: Option<i64>,
    /// Expired web sessions, counted from their expiry.
    pub session_days: Option<i64>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { outbox_days: Some(30), session_days: Some(7) }
    }
}

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// False when another instance had already run this period.
    pub ran: bool,
    pub run_key: Option<String>,
    pub outbox_deleted: u64,
    pub reply_routes_deleted: u64,
    pub sessions_deleted: u64,
    pub replay_cache_deleted: u64,
    pub maintenance_runs_deleted: u64,
}

impl Store {
    /// Prunes what `policy` says at `now` (unix seconds) in one transaction.
    /// With a `run_key`, the run happens only if no instance has recorded
    /// that key yet (see the module docs); without one it always runs.
    pub async fn run_retention(&self, policy: &RetentionPolicy, now: i64, run_key: Option<&str>) -> Result<RetentionReport> {
        let mut tx = self.begin().await?;
        let mut r = RetentionReport { ran: true, run_key: run_key.map(String::from), ..Default::default() };
        if let Some(key) = run_key {
            let claimed = sqlx::query("INSERT INTO maintenance_runs (run_key, summary, ran_at) VALUES ($1, '', $2) ON CONFLICT (run_key) DO NOTHING")
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                return Ok(RetentionReport { ran: false, ..r });
            }
        }
        if let Some(days) = policy.outbox_days {
            let cutoff = now - days.max(0) * DAY;
            r.outbox_deleted = sqlx::query("DELETE FROM outbox WHERE status = 'sent' AND sent_at < $1").bind(cutoff).execute(&mut *tx).await?.rows_affected();
            r.reply_routes_deleted = sqlx::query("DELETE FROM reply_routes WHERE created_at < $1").bind(cutoff).execute(&mut *tx).await?.rows_affected();
            r.maintenance_runs_deleted = sqlx::query("DELETE FROM maintenance_runs WHERE ran_at < $1").bind(cutoff).execute(&mut *tx).await?.rows_affected();
        }
        if let Some(days) = policy.session_days {
            r.sessions_deleted =
                sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(now - days.max(0) * DAY).execute(&mut *tx).await?.rows_affected();
        }
        r.replay_cache_deleted = sqlx::query("DELETE FROM callback_replays WHERE expires_at < $1").bind(now).execute(&mut *tx).await?.rows_affected();
        if let Some(key) = run_key {
            let summary = serde_json::to_string(&r).unwrap_or_default();
            sqlx::query("UPDATE maintenance_runs SET summary = $1 WHERE run_key = $2").bind(summary).bind(key).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(r)
    }
}
