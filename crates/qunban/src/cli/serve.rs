//! `qunban serve`.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::Args;
use qunban_server::Engine;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "QUNBAN_LISTEN")]
    pub listen: SocketAddr,
    /// Pruning run once an hour by the scheduler (docs/RETENTION.md).
    #[command(flatten)]
    pub retention: super::retention::RetentionArgs,
}

pub async fn run(args: ServeArgs, engine: Engine) -> Result<()> {
    // A first run on an empty database works without `qunban init`.
    if let Some(token) = engine.store().init_workspace("qunban", "Asia/Shanghai", Default::default()).await? {
        eprintln!("Initialised a new workspace. Admin API token (shown once): {token}");
    }
    // The segmenter's dictionary loads once per process; load it now so the
    // first chat message does not wait for it.
    tokio::task::spawn_blocking(qunban_lang::message::segment::warm_up).await.context("cannot load the word dictionary")?;
    let caught_up = engine.catch_up().await.context("cannot interpret logged messages")?;
    if caught_up > 0 {
        tracing::info!(caught_up, "interpreted messages logged before a stop");
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("qunban listening on http://{addr}");
    if engine.store().is_empty().await? {
        println!("The database is empty: open http://{addr}/ to create the first account or load a demo project (or run `qunban demo`).");
    }
    // Delivers the outbox (replies, robot messages, webhook events) while serving.
    let _delivery = qunban_server::delivery::spawn(engine.store().clone(), Default::default());
    // Reminders on the work calendar: every occurrence queued once, even with several instances.
    let scheduler_config = qunban_server::scheduler::SchedulerConfig { retention: Some(args.retention.policy()), ..Default::default() };
    let _scheduler = qunban_server::scheduler::spawn(engine.store().clone(), std::sync::Arc::new(engine.calendar().clone()), scheduler_config);
    qunban_server::http::serve(engine, listener).await?;
    Ok(())
}
