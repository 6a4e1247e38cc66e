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
    /// Seconds a client has to send a complete request head (also between
    /// keep-alive requests) before its connection is closed.
    #[arg(long, default_value_t = 10, env = "QUNBAN_HEADER_READ_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout: u64,
    /// Seconds a request may take, reading its body included (then 503).
    #[arg(long, default_value_t = 60, env = "QUNBAN_REQUEST_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Open connections at most; more clients wait until one closes.
    #[arg(long, default_value_t = 512, env = "QUNBAN_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Sign-in attempts per client address and minute (0: no limit).
    #[arg(long, default_value_t = 10, env = "QUNBAN_SIGN_IN_RATE")]
    pub sign_in_rate: u32,
    /// Sign-in attempts a client address may make at once before the rate applies.
    #[arg(long, default_value_t = 10, env = "QUNBAN_SIGN_IN_BURST")]
    pub sign_in_burst: u32,
    /// Platform callbacks per client address and second (0: no limit).
    #[arg(long, default_value_t = 300, env = "QUNBAN_CALLBACK_RATE")]
    pub callback_rate: u32,
    /// Platform callbacks a client address may send at once before the rate applies.
    #[arg(long, default_value_t = 1000, env = "QUNBAN_CALLBACK_BURST")]
    pub callback_burst: u32,
    /// Take the client address from the last X-Forwarded-For entry. Only
    /// behind a reverse proxy that sets it: otherwise clients choose their own.
    #[arg(long, env = "QUNBAN_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
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
    /// Pruning run once an hour by the scheduler (docs/SECRETS.md, "Retention").
    #[command(flatten)]
    pub retention: super::retention::RetentionArgs,
}

impl ServeArgs {
    fn limits(&self) -> qunban_server::limits::HttpLimits {
        qunban_server::limits::HttpLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            sign_in_per_minute: self.sign_in_rate,
            sign_in_burst: self.sign_in_burst,
            callbacks_per_second: self.callback_rate,
            callback_burst: self.callback_burst,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }
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
    let scheduler_config = qunban_server::scheduler::SchedulerConfig { retention: Some(args.retention.policy()), ..Default::default() };
    let _scheduler = qunban_server::scheduler::spawn(engine.store().clone(), std::sync::Arc::new(engine.calendar().clone()), scheduler_config);
    let limits = args.limits();
    qunban_server::http::serve_with(engine, listener, limits, qunban_server::http::shutdown_signal()).await?;
    Ok(())
}
