//! The background catch-up: applies logged messages that no instance
//! applied — left by an instance that died between logging and applying, or
//! whose processing failed (a database hiccup, a lost race) — so that no
//! acknowledged message waits for a restart to take effect.
//!
//! It runs right after the listener is bound (start-up never waits for a
//! backlog) and then every `interval`. Every instance runs it; claims (see
//! `qunban_store`'s `log.rs`) make them share the work and the conditional
//! "mark processed" keeps each message applied once.

use std::time::Duration;

use crate::pipeline::Engine;

/// Default pause between two catch-up passes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Starts the catch-up loop on the current runtime.
pub fn spawn(engine: Engine, interval: Duration) -> tokio::task::JoinHandle<()> {
    let interval = interval.max(Duration::from_millis(100));
    tokio::spawn(async move {
        loop {
            match engine.catch_up().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(applied = n, "interpreted logged messages no instance had applied"),
                // The database may be restarting: the next pass tries again.
                Err(e) => tracing::error!(error = %e, "catch-up pass failed"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
