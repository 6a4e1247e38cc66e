//! The outbox delivery worker.
//!
//! Rows are written by the store in the transaction of the change that
//! caused them; this worker sends them **at least once**:
//!
//! * a row is *claimed* by moving its next attempt a lease into the future
//!   ([`DeliveryConfig::lease`]); if the process dies mid-send the lease runs
//!   out and the row is sent again after restart. Receivers may therefore see
//!   a message twice; the generic webhook carries the event id in the body
//!   and in `X-Qunban-Event-Id` so they can drop the duplicate. Chat robots
//!   have no idempotency field, so a crash at the wrong moment can repeat a
//!   chat message — the price of never losing one.
//! * each target (robot webhook, DingTalk session, webhook subscriber) has a
//!   sliding-window rate limit matching the platform's published one; a row
//!   over the limit waits without using up an attempt.
//! * network errors and retryable platform codes
//!   ([`qunban_connect::outbound::classify_response`]) are retried with
//!   exponential backoff; after [`DeliveryConfig::max_attempts`] attempts, or
//!   at once on a permanent error, the row is parked as `dead` for
//!   `qunban outbox retry`.
//! * replies that the callback answers inline (WeCom passive replies, the
//!   generic webhook's JSON answer) are left alone for a grace period; if the
//!   callback did not get to mark them sent, the worker falls back to the
//!   message's reply URL or the group robot.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use qunban_connect::dingtalk::DingtalkSecret;
use qunban_connect::feishu::FeishuBotSecret;
use qunban_connect::outbound::{self, classify_response, Delivery, HttpRequest, Mention, OutboundMessage, Platform};
use qunban_connect::webhook::{OutboundEvent, WebhookSecret};
use qunban_store::{ConnectorKind, OutboxItem, RobotKind, Store, StoreError};

/// Tuning of the worker. The defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Pause between polls when nothing is due.
    pub poll_interval: Duration,
    /// Rows taken per poll.
    pub batch: i64,
    /// Attempts before a row is parked as dead.
    pub max_attempts: i64,
    /// First retry delay; doubled per failed attempt up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    pub http_timeout: Duration,
    /// How long a claimed row is hidden from other workers; also how soon a
    /// row whose sender crashed mid-send is tried again.
    pub lease: Duration,
    /// How long an inline-answered reply is left to its callback.
    pub inline_grace: Duration,
    /// Per-target limits: (messages, window).
    pub wecom_limit: (usize, Duration),
    pub dingtalk_limit: (usize, Duration),
    pub feishu_limit: (usize, Duration),
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            poll_interval: Duration::from_secs(1),
            batch: 50,
            max_attempts: 8,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            http_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(120),
            inline_grace: Duration::from_secs(30),
            // WeCom and DingTalk robots: 20 messages a minute. Feishu custom
            // bots: 5 a second (and 100 a minute, which 5/s over a minute
            // would exceed, hence the tighter of the two per window below).
            wecom_limit: (20, Duration::from_secs(60)),
            dingtalk_limit: (20, Duration::from_secs(60)),
            feishu_limit: (5, Duration::from_secs(1)),
        }
    }
}

impl DeliveryConfig {
    /// Delay before the next try after `failures` failed attempts.
    pub fn backoff(&self, failures: i64) -> Duration {
        let exp = failures.saturating_sub(1).clamp(0, 30) as u32;
        self.base_backoff.saturating_mul(2u32.saturating_pow(exp)).min(self.max_backoff)
    }
}

/// What one pass did, for tests and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub postponed: usize,
}

/// Where and how one row goes out.
enum Plan {
    Send { platform: Platform, limit_key: String, requests: Vec<HttpRequest> },
    /// Not yet: leave it until then without counting an attempt.
    Wait(i64),
    /// Cannot be delivered as things stand (no route, bad payload).
    Park(String),
}

pub struct Worker {
    store: Store,
    config: DeliveryConfig,
    client: reqwest::Client,
    windows: HashMap<String, VecDeque<Instant>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Starts the worker on the current runtime; it runs until the runtime stops.
pub fn spawn(store: Store, config: DeliveryConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match Worker::new(store, config) {
            Ok(w) => w.run().await,
            Err(e) => tracing::error!(error = %e, "outbox worker cannot start"),
        }
    })
}

impl Worker {
    pub fn new(store: Store, config: DeliveryConfig) -> Result<Worker, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(config.http_timeout).user_agent(concat!("qunban/", env!("CARGO_PKG_VERSION"))).build()?;
        Ok(Worker { store, config, client, windows: HashMap::new() })
    }

    /// Polls forever. Store errors (a database restart) are logged and
    /// retried on the next poll.
    pub async fn run(mut self) {
        loop {
            match self.run_once().await {
                Ok(r) if r.sent + r.retried + r.dead > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox poll failed"),
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// One pass over the rows due now.
    pub async fn run_once(&mut self) -> Result<PassReport, StoreError> {
        let now = jiff::Timestamp::now().as_second();
        let due = self.store.due_outbox(now, self.config.batch).await?;
        let mut report = PassReport::default();
        for item in due {
            if !self.store.claim_outbox(item.id, now, now + self.config.lease.as_secs() as i64).await? {
                continue;
            }
            self.deliver(&item, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver(&mut self, item: &OutboxItem, report: &mut PassReport) -> Result<(), StoreError> {
        let now = jiff::Timestamp::now();
        let plan = match self.plan(item, now).await {
            Ok(p) => p,
            Err(e) => {
                // Put it back as it was; the next poll tries again.
                self.store.postpone_outbox(item.id, now.as_second() + 5).await?;
                return Err(e);
            }
        };
        let (platform, limit_key, requests) = match plan {
            Plan::Send { platform, limit_key, requests } => (platform, limit_key, requests),
            Plan::Wait(at) => {
                self.store.postpone_outbox(item.id, at).await?;
                report.postponed += 1;
                return Ok(());
            }
            Plan::Park(why) => {
                tracing::warn!(outbox_id = item.id, reason = %why, "outbox message cannot be delivered");
                self.store.mark_failed(item.id, &why, None).await?;
                report.dead += 1;
                return Ok(());
            }
        };
        if let Err(wait) = self.take_slots(platform, &limit_key, requests.len()) {
            self.store.postpone_outbox(item.id, now.as_second() + wait.as_secs().max(1) as i64).await?;
            report.postponed += 1;
            return Ok(());
        }
        let mut outcome = Delivery::Ok;
        for req in &requests {
            outcome = self.send(platform, req).await;
            if outcome != Delivery::Ok {
                break;
            }
        }
        match outcome {
            Delivery::Ok => {
                self.store.mark_sent(item.id).await?;
                report.sent += 1;
            }
            Delivery::Retry { after } => {
                let failures = item.attempts + 1;
                if failures >= self.config.max_attempts {
                    let why = format!("gave up after {failures} attempts: {}", retry_reason(after));
                    tracing::warn!(outbox_id = item.id, "{why}");
                    self.store.mark_failed(item.id, &why, None).await?;
                    report.dead += 1;
                } else {
                    let delay = self.config.backoff(failures).max(Duration::from_secs(after.unwrap_or(0)));
                    let at = now.as_second() + delay.as_secs() as i64;
                    self.store.mark_failed(item.id, retry_reason(after), Some(at)).await?;
                    report.retried += 1;
                }
            }
            Delivery::Fatal { code, msg } => {
                let why = format!("permanent error {code}: {msg}");
                tracing::warn!(outbox_id = item.id, "{why}");
                self.store.mark_failed(item.id, &why, None).await?;
                report.dead += 1;
            }
        }
        Ok(())
    }

    async fn send(&self, platform: Platform, req: &HttpRequest) -> Delivery {
        let mut r = self.client.post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            r = r.header(k, v);
        }
        match r.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(body) => classify_response(platform, status, &body),
                    Err(_) => Delivery::network_error(),
                }
            }
            Err(e) => {
                // The URL carries robot credentials: log the error kind only.
                tracing::info!(timeout = e.is_timeout(), connect = e.is_connect(), "outbox delivery: network error");
                Delivery::network_error()
            }
        }
    }

    /// Reserves `n` sends on a target's window, or says how long to wait.
    fn take_slots(&mut self, platform: Platform, key: &str, n: usize) -> Result<(), Duration> {
        let (max, window) = match platform {
            Platform::Wecom => self.config.wecom_limit,
            Platform::Dingtalk => self.config.dingtalk_limit,
            Platform::Feishu => self.config.feishu_limit,
            Platform::Generic => return Ok(()),
        };
        let now = Instant::now();
        let q = self.windows.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        // A message split into more chunks than the window holds still goes
        // out once the window is empty, rather than never.
        if !q.is_empty() && q.len() + n > max {
            let oldest = *q.front().expect("non-empty");
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        for _ in 0..n {
            q.push_back(now);
        }
        Ok(())
    }

    async fn plan(&self, item: &OutboxItem, now: jiff::Timestamp) -> Result<Plan, StoreError> {
        if item.kind == "webhook_event" {
            return self.plan_event(item, now).await;
        }
        let Some(text) = item.payload.get("text").and_then(|t| t.as_str()).filter(|t| !t.trim().is_empty()) else {
            return Ok(Plan::Park(format!("outbox row of kind '{}' has no text", item.kind)));
        };
        let reply_to = item.payload.get("reply_to").and_then(|v| v.as_i64());
        let route = match reply_to {
            Some(m) => self.store.reply_route_for_message(m).await?,
            None => None,
        };
        let now_s = now.as_second();
        if let Some((_, r)) = &route {
            let grace_end = item.created_at + self.config.inline_grace.as_secs() as i64;
            if r.inline_reply && now_s < grace_end && item.attempts == 0 {
                return Ok(Plan::Wait(grace_end));
            }
        }
        // Rows that say whom to mention (scheduler reminders) are taken at
        // their word; replies mention the owners of the tasks they report.
        let listed: Option<Vec<Mention>> = item.payload.get("mentions").and_then(|m| serde_json::from_value(m.clone()).ok());
        let mentions = |platform: &'static str| {
            let listed = listed.clone();
            async move {
                if let Some(listed) = listed {
                    return Ok::<_, StoreError>(listed);
                }
                let targets = match reply_to {
                    Some(m) => self.store.mentions_for_message(m, platform).await?,
                    None => Vec::new(),
                };
                Ok(targets.into_iter().map(|t| Mention { display_name: t.display_name, platform_user_id: t.platform_user_id, mobile: t.mobile }).collect())
            }
        };
        let message = |mentions: Vec<Mention>| OutboundMessage { text: text.to_string(), markdown: None, mentions, mention_all: false };
        // 1. The message's own reply URL, while it works.
        if let Some((_, r)) = &route {
            let live = r.expires_at.is_none_or(|t| t > now_s + 5);
            match (r.url_kind.as_deref(), &r.url, live) {
                (Some("dingtalk_session"), Some(url), true) => {
                    // Checked again at send time: a route stored by an older
                    // version may name any URL (the callback checks new ones).
                    if dingtalk_session_allowed(&self.store, r.connector_id, url).await? {
                        let msg = message(mentions("dingtalk").await?);
                        let requests = outbound::dingtalk_robot_requests(url, None, now.as_millisecond(), &msg);
                        return Ok(Plan::Send { platform: Platform::Dingtalk, limit_key: format!("dingtalk:{}", strip_query(url)), requests });
                    }
                    tracing::warn!(outbox_id = item.id, "stored sessionWebhook is not on the connector's allowed hosts; not followed");
                }
                (Some("wecom_response_url"), Some(url), true) => {
                    let body = qunban_connect::wecom::aibot_markdown_response(text).into_bytes();
                    let req = HttpRequest { url: url.clone(), headers: vec![("Content-Type".into(), "application/json".into())], body };
                    return Ok(Plan::Send { platform: Platform::Wecom, limit_key: format!("wecom-response:{url}"), requests: vec![req] });
                }
                _ => {}
            }
        }
        // 2. The group's robot.
        if let Some(group_id) = item.group_id {
            if let Some(robot) = self.store.group_robot(group_id).await? {
                let key = format!("{}:{}", robot.kind.as_str(), robot.webhook_url);
                let plan = match robot.kind {
                    RobotKind::Wecom => {
                        let msg = message(mentions("wecom").await?);
                        Plan::Send { platform: Platform::Wecom, limit_key: key, requests: outbound::wecom_robot_requests(&robot.webhook_url, &msg) }
                    }
                    RobotKind::Dingtalk => {
                        let msg = message(mentions("dingtalk").await?);
                        let secret = robot.secret.as_deref().map(DingtalkSecret::new);
                        let requests = outbound::dingtalk_robot_requests(&robot.webhook_url, secret.as_ref(), now.as_millisecond(), &msg);
                        Plan::Send { platform: Platform::Dingtalk, limit_key: key, requests }
                    }
                    RobotKind::Feishu => {
                        let msg = message(mentions("feishu").await?);
                        let secret = robot.secret.as_deref().map(FeishuBotSecret::new);
                        let requests = outbound::feishu_bot_requests(&robot.webhook_url, secret.as_ref(), now_s, &msg);
                        Plan::Send { platform: Platform::Feishu, limit_key: key, requests }
                    }
                };
                return Ok(plan);
            }
        }
        // 3. A generic bridge that subscribed with an outbound URL.
        if let Some((_, r)) = &route {
            if let Some(c) = self.store.connector(r.connector_id).await? {
                if let (ConnectorKind::Webhook, Some(url), Some(secret)) = (c.kind, &c.config.url, &c.config.secret) {
                    let msg = message(Vec::new());
                    let event = outbound::generic_message_event(item.idempotency_key.clone(), now, &msg);
                    return Ok(Plan::Send { platform: Platform::Generic, limit_key: format!("webhook:{}", c.id), requests: vec![signed_event(url, secret, now_s, &event)] });
                }
            }
        }
        Ok(Plan::Park(match item.group_id {
            Some(g) => format!("no delivery route for group {g}: give it a robot with `qunban group set-robot`"),
            None => "no delivery route: the message has no group".into(),
        }))
    }

    async fn plan_event(&self, item: &OutboxItem, now: jiff::Timestamp) -> Result<Plan, StoreError> {
        let connector_id = item.payload.get("connector_id").and_then(|v| v.as_i64());
        let event: Option<OutboundEvent> = item.payload.get("event").and_then(|e| serde_json::from_value(e.clone()).ok());
        let (Some(connector_id), Some(event)) = (connector_id, event) else {
            return Ok(Plan::Park("malformed webhook event row".into()));
        };
        let Some(c) = self.store.connector(connector_id).await? else {
            return Ok(Plan::Park(format!("webhook connector {connector_id} no longer exists")));
        };
        let (Some(url), Some(secret)) = (&c.config.url, &c.config.secret) else {
            return Ok(Plan::Park(format!("webhook connector '{}' has no outbound URL", c.name)));
        };
        Ok(Plan::Send {
            platform: Platform::Generic,
            limit_key: format!("webhook:{}", c.id),
            requests: vec![signed_event(url, secret, now.as_second(), &event)],
        })
    }
}

/// A signed generic-webhook delivery; the event id also travels as a
/// header so receivers can deduplicate before parsing the body.
fn signed_event(url: &str, secret: &str, now_s: i64, event: &OutboundEvent) -> HttpRequest {
    let mut req = outbound::generic_webhook_request(url, &WebhookSecret::new(secret), now_s, event);
    req.headers.push(("X-Qunban-Event-Id".into(), event.id.clone()));
    req
}

fn strip_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

fn retry_reason(after: Option<u64>) -> &'static str {
    match after {
        Some(_) => "rate limited by the platform",
        None => "network error or temporary platform error",
    }
}

/// Whether a DingTalk session webhook is on its connector's allowed origins
/// (by default the platform's own hosts).
async fn dingtalk_session_allowed(store: &Store, connector_id: i64, url: &str) -> Result<bool, StoreError> {
    use qunban_connect::dingtalk::{session_webhook_allowed, SESSION_WEBHOOK_ORIGINS};
    let origins = store.connector(connector_id).await?.map(|c| c.config.session_webhook_origins).unwrap_or_default();
    Ok(if origins.is_empty() { session_webhook_allowed(url, SESSION_WEBHOOK_ORIGINS) } else { session_webhook_allowed(url, &origins) })
}
