//! One message's way through qunban.

use std::sync::Arc;

use jiff::Timestamp;
use qunban_core::interpret;
use qunban_lang::{parse_message, Calendar, MessageContext as LangContext};
use qunban_store::{Applied, InboundMessage, LoggedMessage, MessageContext, Store, StoreError, Workspace};

/// The message pipeline, shared by every inbound path.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    calendar: Arc<Calendar>,
}

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
        Engine { store, calendar }
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
    pub async fn handle_with(&self, msg: InboundMessage, emit_outbox: bool) -> Result<Handled, StoreError> {
        let (id, fresh) = self.store.append_message(&msg).await?;
        if !fresh {
            let reply = self.store.reply_for_message(id).await?;
            return Ok(Handled { message_id: id, duplicate: true, reply, ..Default::default() });
        }
        let logged = self.store.message(id).await?.ok_or_else(|| StoreError::Corrupt(format!("message {id} vanished")))?;
        let applied = self.process(&logged, emit_outbox).await?;
        Ok(Handled { message_id: id, duplicate: false, reply: applied.text, created: applied.created, updated: applied.updated })
    }

    /// Interprets one logged message and applies the decision.
    async fn process(&self, m: &LoggedMessage, emit_outbox: bool) -> Result<Applied, StoreError> {
        let ws = self.workspace().await?;
        let tz = ws.tz();
        let group = self.store.ensure_group(&m.platform, &m.chat_id, m.chat_name.as_deref()).await?;
        let actor = self.store.ensure_member(&m.platform, &m.sender_id, &m.sender_name).await?;
        let now = Timestamp::from_second(m.sent_at).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ctx = LangContext { now: now.to_zoned(tz.clone()), sender: actor.display_name.clone(), calendar: &self.calendar };
        let intents = parse_message(&m.text, &ctx);
        let snapshot = self.store.snapshot(Some(&group), &actor, &intents, now).await?;
        let decision = interpret(&intents, &snapshot);
        let ctx = MessageContext { message_id: Some(m.id), source: "chat".into(), group: Some(group), actor, now, emit_outbox };
        self.store.apply(&ctx, decision, &tz, ws.locale).await
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

    /// Interprets messages that were logged but never applied (the process
    /// stopped in between). Runs at start-up.
    pub async fn catch_up(&self) -> Result<u64, StoreError> {
        let mut n = 0;
        loop {
            let batch = self.store.unprocessed_messages(500).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for m in &batch {
                self.process(m, true).await?;
                n += 1;
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
