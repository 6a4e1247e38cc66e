//! One message's way through qunban.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use qunban_core::conversation::{plan, undo, Plan, QuestionKind};
use qunban_core::{interpret, Decision};
use qunban_lang::{bare_names, parse_followup, FollowUp};
use qunban_lang::{parse_message, Calendar, MessageContext as LangContext};
use jiff::tz::TimeZone;
use qunban_core::admin::{decide, AdminQuery};
use qunban_core::reply::deadline_in_words;
use qunban_core::{Locale, Reply};
use qunban_lang::command::{BotCommand, ListScope};
use qunban_lang::parse_bot_command;
use qunban_store::{TaskFilter, TaskView, Applied, InboundMessage, LoggedMessage, MessageContext, Store, StoreError, Workspace};

/// The message pipeline, shared by every inbound path.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    calendar: Arc<Calendar>,
    /// How long an instance holds a logged message it is interpreting
    /// before another instance may take it (see `qunban_store`'s `log.rs`).
    claim_lease: Duration,
}

/// The default [`Engine::with_claim_lease`]: interpreting a message takes
/// milliseconds; the lease only decides how soon a message left by a dead
/// instance is taken up by another.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);

/// Messages claimed per round of [`Engine::catch_up`].
const CATCH_UP_BATCH: i64 = 50;

/// What happened to one inbound message.
#[derive(Debug, Clone, Default)]
pub struct Handled {
    pub message_id: i64,
    /// The platform sent this message before; nothing was done again.
    pub duplicate: bool,
    /// The bot's answer, if it has something to say.
    pub reply: Option<String>,
    pub created: Vec<String>,
    pub updated: Vec<String>,
}

/// Totals of a replay of the message log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReplayReport {
    pub messages: u64,
    pub tasks_created: u64,
    pub tasks_updated: u64,
}

impl Engine {
    pub fn new(store: Store, calendar: Arc<Calendar>) -> Engine {
        Engine { store, calendar, claim_lease: DEFAULT_CLAIM_LEASE }
    }

    /// Sets how long a claim on a logged message lasts (at least a second).
    pub fn with_claim_lease(mut self, lease: Duration) -> Engine {
        self.claim_lease = lease.max(Duration::from_secs(1));
        self
    }

    fn lease_secs(&self) -> i64 {
        self.claim_lease.as_secs().max(1) as i64
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Logs a message, then interprets and applies it. A message already in
    /// the log (a platform retry, a re-import) is not applied twice; its
    /// earlier reply is returned so the platform sees the same answer.
    pub async fn handle(&self, msg: InboundMessage) -> Result<Handled, StoreError> {
        self.handle_with(msg, true).await
    }

    /// [`Engine::handle`] with control over notifications: a chat-history
    /// import passes `emit_outbox = false` so the group is not answered (and
    /// webhook subscribers not told) about messages from the past.
    ///
    /// A repeat of a message that was logged but never applied (the first
    /// attempt failed, or its instance died) is applied now, unless another
    /// instance holds it; a message another applier got to first is answered
    /// like a repeat. A failed attempt gives its claim back, so the
    /// platform's retry or the background catch-up applies the message.
    pub async fn handle_with(&self, msg: InboundMessage, emit_outbox: bool) -> Result<Handled, StoreError> {
        let (appended, logged) = self.store.append_claimed_logged(&msg, self.lease_secs()).await?;
        let id = appended.id;
        if !appended.claimed {
            return self.answered_before(id).await;
        }
        // A fresh message comes back from the insert; a repeat taken over is read.
        let logged = match logged {
            Some(l) => Some(l),
            None => self.store.message(id).await?,
        };
        let outcome = match logged {
            Some(logged) => self.process(&logged, emit_outbox).await,
            None => Err(StoreError::Corrupt(format!("message {id} vanished"))),
        };
        match outcome {
            Ok(applied) => Ok(Handled { message_id: id, duplicate: false, reply: applied.text, created: applied.created, updated: applied.updated }),
            Err(StoreError::AlreadyProcessed { .. }) => self.answered_before(id).await,
            Err(e) => {
                if let Err(release) = self.store.release_claim(id).await {
                    tracing::warn!(message_id = id, error = %release, "cannot release the claim of a failed message; it is retried after its lease");
                }
                Err(e)
            }
        }
    }

    /// The answer to a message that was (or is being) handled elsewhere.
    async fn answered_before(&self, id: i64) -> Result<Handled, StoreError> {
        let reply = self.store.reply_for_message(id).await?;
        Ok(Handled { message_id: id, duplicate: true, reply, ..Default::default() })
    }

    /// Interprets one logged message and applies the decision.
    async fn process(&self, m: &LoggedMessage, emit_outbox: bool) -> Result<Applied, StoreError> {
        let ws = self.workspace().await?;
        let tz = ws.tz();
        // The group with its language setting and project name, in one read.
        let gc = self.store.ensure_group_context(&m.platform, &m.chat_id, m.chat_name.as_deref()).await?;
        let group = gc.group.clone();
        let actor = self.store.ensure_member(&m.platform, &m.sender_id, &m.sender_name).await?;
        let now = Timestamp::from_second(m.sent_at).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // A group may choose its own language (/设置 语言 English).
        let locale = gc.locale.as_deref().and_then(|v| v.parse().ok()).unwrap_or(ws.locale);
        // A short reply to the bot's question or a correction of what it just
        // did is read only when there is something to follow up (an open
        // question, a recent action of this sender here); `/撤销` always.
        let conv = self.store.conversation(group.id, actor.id).await?.map(|c| c.live(now)).unwrap_or_default();
        // (`@群办 /撤销`: a command may follow a mention of the bot.)
        let slash = m.text.contains(['/', '／']);
        if !conv.is_empty() || slash {
            let lang = LangContext { now: now.to_zoned(tz.clone()), sender: actor.display_name.clone(), calendar: &self.calendar };
            let mut follow_up = parse_followup(&m.text, &lang).filter(|f| !conv.is_empty() || *f == FollowUp::Undo);
            // "Who owns it?" may also be answered with bare names, when each
            // is a known member.
            if follow_up.is_none() && conv.question.as_ref().is_some_and(|q| q.kind == QuestionKind::Owner) {
                if let Some(names) = bare_names(&m.text) {
                    let mut known = true;
                    for n in &names {
                        known &= self.store.member_by_name(n).await.is_ok();
                    }
                    if known {
                        follow_up = Some(FollowUp::Names(names));
                    }
                }
            }
            let decision = match plan(follow_up.as_ref(), &conv) {
                Plan::Normal => None,
                Plan::Say(reply) => Some(Decision { replies: vec![reply], ..Default::default() }),
                Plan::Interpret { intents, turn, lead } => {
                    let snapshot = self.store.snapshot_for_group(&gc, &actor, &intents, now).await?;
                    let mut decision = interpret(&intents, &snapshot);
                    decision.turn = turn;
                    if let Some(lead) = lead.filter(|_| !decision.commands.is_empty()) {
                        decision.replies.insert(0, lead);
                    }
                    Some(decision)
                }
                Plan::Undo => {
                    let acted = conv.acted.as_ref().ok_or_else(|| StoreError::Corrupt("undo without an action".into()))?;
                    let history = self.store.history_of_messages(&acted.message_ids).await?;
                    let ids: Vec<i64> = acted.tasks.iter().map(|t| t.id).collect();
                    let tasks = self.store.tasks_by_id(&ids).await?;
                    Some(undo(acted, &history, &tasks))
                }
            };
            if let Some(decision) = decision {
                let ctx = MessageContext { message_id: Some(m.id), source: "chat".into(), group: Some(group), actor, now, emit_outbox };
                return self.store.apply(&ctx, decision, &tz, locale).await;
            }
        }
        if let Some(cmd) = parse_bot_command(&m.text, &now.to_zoned(tz.clone()), &self.calendar) {
            let ctx = MessageContext { message_id: Some(m.id), source: "chat".into(), group: Some(group), actor, now, emit_outbox };
            return self.run_command(&cmd, &ctx, &tz, locale).await;
        }
        let ctx = LangContext { now: now.to_zoned(tz.clone()), sender: actor.display_name.clone(), calendar: &self.calendar };
        let intents = parse_message(&m.text, &ctx);
        let snapshot = self.store.snapshot_for_group(&gc, &actor, &intents, now).await?;
        let decision = interpret(&intents, &snapshot);
        let ctx = MessageContext { message_id: Some(m.id), source: "chat".into(), group: Some(group), actor, now, emit_outbox };
        self.store.apply(&ctx, decision, &tz, locale).await
    }

    /// A slash command: decide (permissions), answer reads, apply changes.
    async fn run_command(&self, cmd: &BotCommand, ctx: &MessageContext, tz: &TimeZone, locale: Locale) -> Result<Applied, StoreError> {
        let group = ctx.group.as_ref().ok_or_else(|| StoreError::Invalid("a command needs a group".into()))?;
        let bind_project = match cmd {
            BotCommand::Bind { project, .. } => Some(project.as_str()),
            _ => None,
        };
        let snap = self.store.admin_snapshot(group, &ctx.actor, bind_project).await?;
        let decision = decide(cmd, &snap);
        let mut replies = decision.replies;
        if let Some(query) = decision.query {
            replies.push(self.answer(query, ctx, tz, locale).await?);
        }
        self.store.apply_admin(ctx, decision.command.as_ref(), replies, tz, locale).await
    }

    /// Renders the list a command asked for.
    async fn answer(&self, query: AdminQuery, ctx: &MessageContext, tz: &TimeZone, locale: Locale) -> Result<Reply, StoreError> {
        let zh = locale == Locale::Zh;
        let local_now = ctx.now.to_zoned(tz.clone());
        let week_start = local_now
            .date()
            .checked_sub(jiff::Span::new().days(i64::from(local_now.weekday().to_monday_zero_offset())))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let week_start_ts = week_start.to_zoned(tz.clone()).map_err(|e| StoreError::Invalid(e.to_string()))?.timestamp();
        match query {
            AdminQuery::Tasks { project_id, scope } => {
                let mut filter = TaskFilter { project_id: Some(project_id), ..Default::default() };
                let (heading_zh, heading_en) = match scope {
                    ListScope::Open => ("📋 进行中的任务", "📋 Open tasks"),
                    ListScope::Mine => {
                        filter.owner_id = Some(ctx.actor.id);
                        ("📋 我的任务", "📋 My tasks")
                    }
                    ListScope::Overdue => {
                        filter.overdue_at = Some(ctx.now);
                        ("⏰ 逾期任务", "⏰ Overdue tasks")
                    }
                    ListScope::ThisWeek => ("📅 本周到期", "📅 Due this week"),
                };
                let week_end = week_start_ts + jiff::SignedDuration::from_hours(24 * 7);
                let tasks: Vec<TaskView> = self
                    .store
                    .tasks(&filter)
                    .await?
                    .into_iter()
                    .filter(|v| !v.task.status.is_closed())
                    .filter(|v| scope != ListScope::ThisWeek || v.task.due.is_some_and(|d| d >= week_start_ts && d < week_end))
                    .collect();
                let lines = tasks.iter().map(|v| task_line(v, tz, locale)).collect();
                Ok(Reply::Listing {
                    heading: if zh { format!("{heading_zh}（{}）", tasks.len()) } else { format!("{heading_en} ({})", tasks.len()) },
                    lines,
                    empty: if zh { "暂无。".into() } else { "None.".into() },
                })
            }
            AdminQuery::Stars => {
                let kudos = self.store.kudos_between(week_start_ts.as_second(), ctx.now.as_second() + 1).await?;
                let mut stars: Vec<(String, Vec<String>)> = Vec::new();
                for k in kudos {
                    match stars.iter_mut().find(|(n, _)| *n == k.to) {
                        Some((_, reasons)) => reasons.push(k.reason),
                        None => stars.push((k.to, vec![k.reason])),
                    }
                }
                stars.sort_by_key(|s| std::cmp::Reverse(s.1.len()));
                let lines = stars.iter().map(|(n, r)| format!("⭐ {n} ×{}：{}", r.len(), r.join("；"))).collect();
                Ok(Reply::Listing {
                    heading: if zh { "🌟 本周之星".into() } else { "🌟 Stars of the week".into() },
                    lines,
                    empty: if zh { "本周还没有点赞，/点赞 @同事 理由".into() } else { "No kudos yet this week.".into() },
                })
            }
        }
    }

    /// The workspace settings; a database that was never initialised works
    /// with the defaults (Asia/Shanghai, Chinese).
    pub async fn workspace(&self) -> Result<Workspace, StoreError> {
        match self.store.workspace().await {
            Err(StoreError::NotInitialised) => Ok(Workspace {
                name: "qunban".into(),
                timezone: "Asia/Shanghai".into(),
                locale: Default::default(),
            }),
            other => other,
        }
    }

    /// Interprets messages that were logged but never applied — an instance
    /// stopped in between, or an attempt failed — and that no live instance
    /// holds. Claims them in batches first (see `qunban_store`'s `log.rs`),
    /// so instances catching up at once share the work; a message applied
    /// meanwhile by another instance is skipped. A message that fails again
    /// keeps its claim until the lease runs out, which spaces its retries
    /// and ends this pass. Returns how many messages this call applied.
    /// `qunban serve` runs it in the background ([`crate::recovery`]).
    pub async fn catch_up(&self) -> Result<u64, StoreError> {
        let mut n = 0;
        loop {
            let batch = self.store.claim_unprocessed(CATCH_UP_BATCH, self.lease_secs()).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for m in &batch {
                match self.process(m, true).await {
                    Ok(_) => n += 1,
                    Err(StoreError::AlreadyProcessed { .. }) => {}
                    Err(e) => tracing::warn!(message_id = m.id, error = %e, "cannot apply a logged message; retrying after its lease"),
                }
            }
        }
    }

    /// Rebuilds tasks, history and stand-ups from the message log, without
    /// notifying anyone. `progress(done, total)` is called after each message.
    pub async fn replay(&self, mut progress: impl FnMut(u64, u64)) -> Result<ReplayReport, StoreError> {
        let total = self.store.message_count().await? as u64;
        self.store.reset_derived_state().await?;
        let mut report = ReplayReport::default();
        let mut after = 0;
        loop {
            let batch = self.store.messages_after(after, 500).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for m in &batch {
                let applied = self.process(m, false).await?;
                report.messages += 1;
                report.tasks_created += applied.created.len() as u64;
                report.tasks_updated += applied.updated.len() as u64;
                progress(report.messages, total);
            }
        }
        Ok(report)
    }
}

/// One task in a chat list: `#TASK-001 标题 @李四 截止1月15日（周四）15:00 进行中 60%`.
fn task_line(v: &TaskView, tz: &TimeZone, locale: Locale) -> String {
    let t = &v.task;
    let owners: Vec<String> = v.owner_names.iter().map(|n| format!("@{n}")).collect();
    let due = t.due.map(|d| deadline_in_words(d, tz, locale)).unwrap_or_default();
    let status = if locale == Locale::Zh { t.status.zh().to_string() } else { t.status.to_string() };
    let sub = if t.parent_task_id.is_some() { "↳ " } else { "" };
    format!("{sub}#{} {} {} {} {} {}%", t.reference, t.title, owners.join(" "), due, status, t.progress).split_whitespace().collect::<Vec<_>>().join(" ")
}
