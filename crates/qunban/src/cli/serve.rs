//! `qunban serve`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use qunban_server::Engine;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "QUNBAN_LISTEN")]
    pub listen: SocketAddr,
    /// Seconds between passes of the background catch-up, which applies
    /// logged messages no instance applied (a crash, a failed attempt).
    #[arg(long, value_name = "SECS", default_value_t = 10, env = "QUNBAN_CATCH_UP_INTERVAL")]
    pub catch_up_interval: u64,
    /// Seconds an instance holds a logged message it is interpreting; a
    /// message left by an instance that died is taken up after this.
    #[arg(long, value_name = "SECS", default_value_t = 30, env = "QUNBAN_CLAIM_LEASE", value_parser = clap::value_parser!(u64).range(1..))]
    pub claim_lease: u64,
    /// Seconds an outbox row being sent is hidden from other instances; a
    /// row left by an instance that died is sent again after this.
    #[arg(long, value_name = "SECS", default_value_t = 120, env = "QUNBAN_OUTBOX_LEASE", value_parser = clap::value_parser!(u64).range(1..))]
    pub outbox_lease: u64,
}

pub async fn run(args: ServeArgs, engine: Engine) -> Result<()> {
    let engine = engine.with_claim_lease(Duration::from_secs(args.claim_lease));
    // A first run on an empty database works without `qunban init`.
    if let Some(token) = engine.store().init_workspace("qunban", "Asia/Shanghai", Default::default()).await? {
        eprintln!("Initialised a new workspace. Admin API token (shown once): {token}");
    }
    // Listen first: start-up never waits for a backlog (or the dictionary).
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // The segmenter's dictionary loads once per process; load it now so the
    // first chat message does not wait for it (one that comes sooner waits
    // for this load instead of starting another).
    tokio::task::spawn_blocking(qunban_lang::message::segment::warm_up);
    println!("qunban listening on http://{addr}");
    if engine.store().is_empty().await? {
        println!("The database is empty: open http://{addr}/ to create the first account or load a demo project (or run `qunban demo`).");
    }
    // Applies messages logged but not applied (before a crash, or by a
    // failed attempt on any instance), now and every few seconds.
    let _catch_up = qunban_server::recovery::spawn(engine.clone(), Duration::from_secs(args.catch_up_interval));
    // Delivers the outbox (replies, robot messages, webhook events) while serving.
    let delivery = qunban_server::delivery::DeliveryConfig { lease: Duration::from_secs(args.outbox_lease), ..Default::default() };
    let _delivery = qunban_server::delivery::spawn(engine.store().clone(), delivery);
    // Reminders on the work calendar: every occurrence queued once, even with several instances.
    let _scheduler = qunban_server::scheduler::spawn(engine.store().clone(), std::sync::Arc::new(engine.calendar().clone()), Default::default());
    qunban_server::http::serve(engine, listener).await?;
    Ok(())
}
