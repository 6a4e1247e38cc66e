//! The bot's memory of each sender in each group (`chat_conversations`),
//! read before a message is interpreted and moved on in the transaction that
//! applies it. The rules live in `qunban_core::conversation`; this module
//! only stores the typed state as JSON.

use qunban_core::conversation::{advance, ActedTask, Conversation, HistoryChange, Question, Turn};
use qunban_core::Task;
use sqlx::{AnyConnection, Row};

use crate::apply::MessageContext;
use crate::tasks::load_task;
use crate::{Result, Store, StoreError};

impl Store {
    /// The conversation of `member_id` in `group_id` as stored (not yet
    /// aged: callers apply `Conversation::live` at the message's time).
    pub async fn conversation(&self, group_id: i64, member_id: i64) -> Result<Option<Conversation>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, group_id, member_id).await
    }

    /// The history rows the given messages wrote, oldest first.
    pub async fn history_of_messages(&self, message_ids: &[i64]) -> Result<Vec<HistoryChange>> {
        let mut conn = self.pool.acquire().await?;
        // One query per message (a handful at most) keeps the SQL the same on
        // both backends.
        let mut rows_all = Vec::new();
        for id in message_ids {
            let rows = sqlx::query("SELECT id, task_id, field, old_value, new_value FROM task_history WHERE message_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            for r in rows {
                let row_id: i64 = r.try_get("id")?;
                rows_all.push((
                    row_id,
                    HistoryChange { task_id: r.try_get("task_id")?, field: r.try_get("field")?, old: r.try_get("old_value")?, new: r.try_get("new_value")? },
                ));
            }
        }
        rows_all.sort_by_key(|(id, _)| *id);
        Ok(rows_all.into_iter().map(|(_, h)| h).collect())
    }

    /// Tasks by id, skipping ids that no longer exist.
    pub async fn tasks_by_id(&self, ids: &[i64]) -> Result<Vec<Task>> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(t) = load_task(&mut conn, *id).await? {
                out.push(t);
            }
        }
        Ok(out)
    }
}

async fn load(conn: &mut AnyConnection, group_id: i64, member_id: i64) -> Result<Option<Conversation>> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM chat_conversations WHERE group_id = $1 AND member_id = $2")
        .bind(group_id)
        .bind(member_id)
        .fetch_optional(&mut *conn)
        .await?;
    state.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("conversation state: {e}")))).transpose()
}

/// Moves the sender's conversation on after a chat message was applied,
/// inside the applying transaction. Messages without a group or a logged
/// message (API, CLI, scheduler) leave it alone.
pub(crate) async fn remember(conn: &mut AnyConnection, ctx: &MessageContext, question: Option<Question>, turn: Turn, changed: Vec<ActedTask>) -> Result<()> {
    let (Some(group), Some(message_id)) = (&ctx.group, ctx.message_id) else { return Ok(()) };
    if ctx.source != "chat" {
        return Ok(());
    }
    let prev = load(conn, group.id, ctx.actor.id).await?;
    let next = advance(prev.clone(), question, turn, message_id, ctx.now, changed);
    if next == prev {
        return Ok(());
    }
    match next {
        Some(c) => {
            let state = serde_json::to_string(&c).map_err(|e| StoreError::Invalid(e.to_string()))?;
            sqlx::query(
                "INSERT INTO chat_conversations (group_id, member_id, state, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (group_id, member_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            )
            .bind(group.id)
            .bind(ctx.actor.id)
            .bind(state)
            .bind(ctx.now.as_second())
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM chat_conversations WHERE group_id = $1 AND member_id = $2").bind(group.id).bind(ctx.actor.id).execute(&mut *conn).await?;
        }
    }
    Ok(())
}
