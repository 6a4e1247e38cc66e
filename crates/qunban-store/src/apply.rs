//! Turning decisions into stored state, in one transaction per message.
//!
//! The outbox row for the bot's reply is written in the same transaction as
//! the task changes it reports, so a crash can lose neither without the other.

use std::collections::HashMap;

use jiff::Timestamp;
use qunban_core::command::{apply_patch, FieldChange};
use qunban_core::conversation::ActedTask;
use qunban_core::interpret::{canonical_reference, reference_number, Actor, ProjectRef, Snapshot};
use qunban_core::reply::render_all;
use qunban_core::{Command, Decision, GroupKind, Locale, NewTask, Reply, TaskStatus};
use qunban_lang::Intent;
use sqlx::{AnyConnection, Row};

use crate::directory::{find_member_by_name, load_directory, Group, Member};
use crate::tasks::{find_task_by_ref, load_task, owners_of};
use crate::{Result, Store, StoreError};

/// Where a decision came from, for history and replies.
#[derive(Debug, Clone)]
pub struct MessageContext {
    /// The logged message that caused the change, if any.
    pub message_id: Option<i64>,
    /// `chat`, `api`, `cli`, `scheduler`.
    pub source: String,
    pub group: Option<Group>,
    pub actor: Member,
    pub now: Timestamp,
    /// False during replay: rebuilding state must not notify anyone again.
    pub emit_outbox: bool,
}

/// A chat group with the settings the message pipeline reads for each
/// message ([`Store::ensure_group_context`]).
#[derive(Debug, Clone)]
pub struct GroupContext {
    pub group: Group,
    /// The group's `locale` setting (`/设置 语言 …`), as stored.
    pub locale: Option<String>,
    /// The name of the group's own project (`group.project_id`), if any.
    pub project_name: Option<String>,
}

/// What a decision did: the replies (decision replies plus outcomes) and the
/// rendered reply text queued in the outbox, if any.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub replies: Vec<Reply>,
    pub text: Option<String>,
    pub outbox_id: Option<i64>,
    pub created: Vec<String>,
    pub updated: Vec<String>,
}

impl Store {
    /// The member behind a platform identity, registered on first sight.
    ///
    /// First contact is an upsert: two first messages of a new member may
    /// arrive at once (on two instances); each inserts the member and the
    /// identity with `ON CONFLICT DO NOTHING` and then reads back whichever
    /// row won, so neither fails.
    pub async fn ensure_member(&self, platform: &str, user_id: &str, display_name: &str) -> Result<Member> {
        let known = {
            let mut conn = self.pool.acquire().await?;
            crate::directory::member_by_identity(&mut conn, platform, user_id).await?
        };
        let id = match known {
            Some(member) => return Ok(member),
            None => {
                let mut tx = self.begin().await?;
                let name = if display_name.trim().is_empty() { user_id } else { display_name.trim() };
                let id = member_for_name(&mut tx, name, true).await?;
                sqlx::query("INSERT INTO member_identities (platform, platform_user_id, member_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(platform)
                    .bind(user_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                // Another request may have linked the identity first.
                let id = identity_of(&mut tx, platform, user_id).await?.ok_or_else(|| StoreError::Corrupt(format!("identity {platform}:{user_id} vanished")))?;
                tx.commit().await?;
                id
            }
        };
        self.member(id).await
    }

    /// The group behind a platform chat id; an unknown chat becomes an
    /// unbound group, so the bot can ask to be bound. An upsert, like
    /// [`Store::ensure_member`]: concurrent first messages of a new chat all
    /// get the one group.
    pub async fn ensure_group(&self, platform: &str, chat_id: &str, chat_name: Option<&str>) -> Result<Group> {
        if let Some(g) = self.group_by_chat(platform, chat_id).await? {
            return Ok(g);
        }
        let name = chat_name.filter(|n| !n.trim().is_empty()).unwrap_or(chat_id);
        crate::directory::insert_unbound_group(&self.pool, platform, chat_id, name).await?;
        self.group_by_chat(platform, chat_id).await?.ok_or_else(|| StoreError::NotFound { kind: "group", name: chat_id.into() })
    }

    /// [`Store::ensure_group`] with what the message pipeline needs next to
    /// the group, read in the same query: the group's `locale` setting and
    /// its own project's name.
    pub async fn ensure_group_context(&self, platform: &str, chat_id: &str, chat_name: Option<&str>) -> Result<GroupContext> {
        if let Some(g) = self.group_context(platform, chat_id).await? {
            return Ok(g);
        }
        let name = chat_name.filter(|n| !n.trim().is_empty()).unwrap_or(chat_id);
        crate::directory::insert_unbound_group(&self.pool, platform, chat_id, name).await?;
        self.group_context(platform, chat_id).await?.ok_or_else(|| StoreError::NotFound { kind: "group", name: chat_id.into() })
    }

    async fn group_context(&self, platform: &str, chat_id: &str) -> Result<Option<GroupContext>> {
        let row = sqlx::query(
            "SELECT id, platform, chat_id, name, kind, project_id, parent_group_id, parent_task_id, \
             (SELECT s.value FROM group_settings s WHERE s.group_id = chat_groups.id AND s.key = 'locale') AS locale_setting, \
             (SELECT p.name FROM projects p WHERE p.id = chat_groups.project_id) AS project_name \
             FROM chat_groups WHERE platform = $1 AND chat_id = $2",
        )
        .bind(platform)
        .bind(chat_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(GroupContext {
                group: crate::directory::group_from(&r)?,
                locale: r.try_get("locale_setting")?,
                project_name: r.try_get("project_name")?,
            })),
            None => Ok(None),
        }
    }

    /// [`Store::snapshot`] for a group loaded with
    /// [`Store::ensure_group_context`]: its own project is already known.
    pub async fn snapshot_for_group(&self, gc: &GroupContext, actor: &Member, intents: &[Intent], now: Timestamp) -> Result<Snapshot> {
        let project = match (gc.group.project_id, &gc.project_name) {
            (Some(id), Some(name)) => Some(ProjectRef { id, name: name.clone() }),
            _ => self.project_of_group(&gc.group).await?,
        };
        self.snapshot_in(project, Some(&gc.group), actor, intents, now).await
    }

    /// The project a group's messages belong to: its own, or the single
    /// project a support group serves.
    pub async fn project_of_group(&self, group: &Group) -> Result<Option<ProjectRef>> {
        let id = match group.project_id {
            Some(id) => Some(id),
            None => {
                let ids: Vec<i64> = sqlx::query_scalar("SELECT project_id FROM group_projects WHERE group_id = $1")
                    .bind(group.id)
                    .fetch_all(&self.pool)
                    .await?;
                (ids.len() == 1).then(|| ids[0])
            }
        };
        match id {
            Some(id) => Ok(Some(ProjectRef { id, name: self.project(id).await?.name })),
            None => Ok(None),
        }
    }

    /// Loads what the interpreter needs to decide about `intents`.
    pub async fn snapshot(&self, group: Option<&Group>, actor: &Member, intents: &[Intent], now: Timestamp) -> Result<Snapshot> {
        let project = match group {
            Some(g) => self.project_of_group(g).await?,
            None => None,
        };
        self.snapshot_in(project, group, actor, intents, now).await
    }

    /// The snapshot for a change made outside any chat (the dashboard, the
    /// API): the project is known, the same permission rules apply.
    pub async fn snapshot_for_project(&self, project_id: i64, actor: &Member, intents: &[Intent], now: Timestamp) -> Result<Snapshot> {
        let project = ProjectRef { id: project_id, name: self.project(project_id).await?.name };
        self.snapshot_in(Some(project), None, actor, intents, now).await
    }

    async fn snapshot_in(&self, project: Option<ProjectRef>, group: Option<&Group>, actor: &Member, intents: &[Intent], now: Timestamp) -> Result<Snapshot> {
        let mut conn = self.pool.acquire().await?;
        let mut tasks = HashMap::new();
        let (mut roles, mut has_managers) = (Vec::new(), false);
        if let Some(p) = &project {
            for reference in intents.iter().filter_map(intent_reference) {
                if let Some(t) = find_task_by_ref(&mut conn, p.id, reference).await? {
                    tasks.insert(reference.to_string(), t);
                }
            }
            (roles, has_managers) = roles_and_managers(&mut conn, p.id, actor.id).await?;
        }
        let candidate_projects = match (group, &project) {
            (Some(g), None) if g.kind == GroupKind::Support => {
                // Same connection: the SQLite pool has only one.
                let rows = sqlx::query("SELECT p.id, p.name FROM group_projects g JOIN projects p ON p.id = g.project_id WHERE g.group_id = $1 ORDER BY p.id")
                    .bind(g.id)
                    .fetch_all(&mut *conn)
                    .await?;
                rows.iter().map(|r| Ok(ProjectRef { id: r.try_get("id")?, name: r.try_get("name")? })).collect::<Result<Vec<_>>>()?
            }
            _ => Vec::new(),
        };
        // In a support group serving several projects the sender's roles are
        // those of any of them, so a request there is never less guarded.
        for p in &candidate_projects {
            let (r, m) = roles_and_managers(&mut conn, p.id, actor.id).await?;
            roles.extend(r);
            has_managers |= m;
        }
        roles.sort();
        roles.dedup();
        // Who the owner names mean is decided by the interpreter, from every
        // member and alias.
        let names_owners = intents.iter().any(|i| match i {
            Intent::CreateTask(f) => !f.owners.is_empty(),
            Intent::UpdateTask(u) => !u.owners.is_empty(),
            _ => false,
        });
        let people = if names_owners { load_directory(&mut conn).await? } else { Default::default() };
        Ok(Snapshot {
            now,
            candidate_projects,
            project,
            parent_task_id: group.and_then(|g| g.parent_task_id),
            actor: Actor { member_id: actor.id, name: actor.display_name.clone(), roles },
            project_has_managers: has_managers,
            tasks,
            people,
        })
    }

    /// Executes a decision: its commands, its history, and the reply in the
    /// outbox, all or nothing.
    pub async fn apply(&self, ctx: &MessageContext, decision: Decision, tz: &jiff::tz::TimeZone, locale: Locale) -> Result<Applied> {
        let mut tx = self.begin().await?;
        mark_processed(&mut tx, ctx).await?;
        let mut applied = Applied { replies: decision.replies, ..Default::default() };
        let mut changes = Vec::new();
        // The tasks this message created or changed, for corrections and undo.
        let mut acted = Vec::new();
        for command in decision.commands {
            match command {
                Command::CreateTask(new) => {
                    for reply in create_task(&mut tx, ctx, &new).await? {
                        if let Reply::Created { reference, .. } = &reply {
                            applied.created.push(reference.clone());
                            if let Some(id) = crate::tasks::task_id_by_ref(&mut tx, new.project_id, reference).await? {
                                acted.push(ActedTask { id, reference: reference.clone() });
                            }
                            changes.push(crate::connectors::TaskChange::Created { project_id: new.project_id, reference: reference.clone() });
                        }
                        applied.replies.push(reply);
                    }
                }
                Command::UpdateTask { task_id, reference, patch, owner_names } => {
                    let reply = update_task(&mut tx, ctx, task_id, &reference, patch, owner_names).await?;
                    if let Reply::Updated { reference, .. } = &reply {
                        applied.updated.push(reference.clone());
                        acted.push(ActedTask { id: task_id, reference: reference.clone() });
                        changes.push(crate::connectors::TaskChange::Updated { task_id });
                    }
                    applied.replies.push(reply);
                }
                Command::RecordStandup { yesterday, today, blockers } => {
                    record_standup(&mut tx, ctx, tz, &yesterday, &today, &blockers).await?;
                    applied.replies.push(Reply::StandupRecorded { member: ctx.actor.display_name.clone() });
                }
            }
        }
        crate::conversation::remember(&mut tx, ctx, decision.question, decision.turn, acted).await?;
        finish(&mut tx, ctx, &mut applied, tz, locale).await?;
        // Generic-webhook subscribers hear about task changes in the same
        // transaction; replays and imports notify no one.
        if ctx.emit_outbox {
            crate::connectors::emit_task_events(&mut tx, ctx.message_id, &ctx.source, &changes, ctx.now).await?;
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// Executes a slash command's change (if any) and queues the replies, in
    /// one transaction with marking the message processed.
    pub async fn apply_admin(
        &self,
        ctx: &MessageContext,
        command: Option<&qunban_core::admin::AdminCommand>,
        replies: Vec<Reply>,
        tz: &jiff::tz::TimeZone,
        locale: Locale,
    ) -> Result<Applied> {
        let mut tx = self.begin().await?;
        mark_processed(&mut tx, ctx).await?;
        let mut applied = Applied { replies, ..Default::default() };
        if let (Some(cmd), Some(group)) = (command, &ctx.group) {
            let reply = crate::admin::execute(&mut tx, group, &ctx.actor, ctx.message_id, ctx.now, cmd).await?;
            applied.replies.push(reply);
        }
        // A slash command is "another message": it drops an open question.
        crate::conversation::remember(&mut tx, ctx, None, Default::default(), Vec::new()).await?;
        finish(&mut tx, ctx, &mut applied, tz, locale).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Deletes everything derived from the message log (tasks, their history,
    /// stand-ups) so `replay` can rebuild it. Configuration — projects,
    /// groups, members, roles, milestones — and the outbox are kept.
    pub async fn reset_derived_state(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        for sql in [
            "DELETE FROM chat_conversations",
            "DELETE FROM task_history",
            "DELETE FROM task_owners",
            "DELETE FROM task_dependencies",
            "DELETE FROM goal_tasks",
            "DELETE FROM standups",
            "DELETE FROM tasks",
            "UPDATE projects SET task_seq = 0",
            // Held for the replay until it applies them: a running server's
            // catch-up must not apply (and announce) old messages behind its
            // back. A replay that stops midway is finished by running it again.
            "UPDATE messages SET processed_at = NULL, claimed_until = 4102444800",
            "DELETE FROM decisions",
            "DELETE FROM kudos",
            "DELETE FROM risks",
            "DELETE FROM project_roles WHERE granted_by_message_id IS NOT NULL",
            "DELETE FROM member_aliases WHERE set_by_message_id IS NOT NULL",
            "DELETE FROM group_projects WHERE group_id IN (SELECT id FROM chat_groups WHERE bound_by_message_id IS NOT NULL)",
            "UPDATE chat_groups SET kind = 'unbound', project_id = NULL, parent_group_id = NULL, parent_task_id = NULL, bound_by_message_id = NULL WHERE bound_by_message_id IS NOT NULL",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Marks the message processed, as the first statement of the applying
/// transaction, if it still was not: the row (PostgreSQL) or the write lock
/// (SQLite) stays held until commit, so a concurrent applier of the same
/// message waits here and then gets [`StoreError::AlreadyProcessed`], and
/// its transaction — the whole decision — is rolled back. This is what makes
/// a message applied exactly once across instances (see `log.rs`).
async fn mark_processed(conn: &mut AnyConnection, ctx: &MessageContext) -> Result<()> {
    if let Some(id) = ctx.message_id {
        let done = sqlx::query("UPDATE messages SET processed_at = $2, claimed_until = NULL WHERE id = $1 AND processed_at IS NULL")
            .bind(id)
            .bind(ctx.now.as_second().max(crate::now_secs()))
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::AlreadyProcessed { message_id: id });
        }
    }
    Ok(())
}

/// Renders the replies and queues them in the outbox — inside the caller's
/// transaction.
async fn finish(conn: &mut AnyConnection, ctx: &MessageContext, applied: &mut Applied, tz: &jiff::tz::TimeZone, locale: Locale) -> Result<()> {
    applied.text = render_all(&applied.replies, tz, locale);
    if let (true, Some(text), Some(group)) = (ctx.emit_outbox, &applied.text, &ctx.group) {
        let key = match ctx.message_id {
            Some(id) => format!("reply:{id}"),
            None => format!("reply:{}:{}", ctx.source, ctx.now.as_nanosecond()),
        };
        let payload = serde_json::json!({ "text": text, "reply_to": ctx.message_id });
        applied.outbox_id = crate::outbox::enqueue(conn, &key, Some(group.id), "reply", &payload, ctx.now).await?;
    }
    Ok(())
}

/// The sender's roles in a project and whether the project has any
/// manager (PM or lead), in one query: the member's own rows plus the
/// project's manager rows.
async fn roles_and_managers(conn: &mut AnyConnection, project_id: i64, member_id: i64) -> Result<(Vec<qunban_core::Role>, bool)> {
    let rows = sqlx::query("SELECT member_id, role FROM project_roles WHERE project_id = $1 AND (member_id = $2 OR role IN ('pm', 'lead')) ORDER BY role")
        .bind(project_id)
        .bind(member_id)
        .fetch_all(&mut *conn)
        .await?;
    let (mut roles, mut managers) = (Vec::new(), false);
    for r in rows {
        let who: i64 = r.try_get("member_id")?;
        let role: String = r.try_get("role")?;
        managers |= role == "pm" || role == "lead";
        if who == member_id {
            if let Ok(role) = role.parse() {
                roles.push(role);
            }
        }
    }
    Ok((roles, managers))
}

/// The member a platform identity is linked to.
async fn identity_of(conn: &mut AnyConnection, platform: &str, user_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT member_id FROM member_identities WHERE platform = $1 AND platform_user_id = $2")
        .bind(platform)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?)
}

fn intent_reference(i: &Intent) -> Option<&str> {
    match i {
        Intent::CreateTask(f) => f.reference.as_deref(),
        Intent::UpdateTask(u) => Some(u.reference.as_str()),
        _ => None,
    }
}

/// The member with this name or alias; registered when unknown and allowed.
/// Owner names reach this point already resolved by the interpreter (a
/// display name, or a clearly new name).
async fn member_for_name(conn: &mut AnyConnection, name: &str, create: bool) -> Result<i64> {
    if let Some(id) = find_member_by_name(conn, name).await? {
        return Ok(id);
    }
    if !create {
        return Err(StoreError::NotFound { kind: "member", name: name.into() });
    }
    let name = name.trim().trim_start_matches('@');
    // An upsert: a concurrent first message may register the same name.
    let inserted: Option<i64> = sqlx::query_scalar("INSERT INTO members (display_name, mobile, created_at) VALUES ($1, NULL, $2) ON CONFLICT (display_name) DO NOTHING RETURNING id")
        .bind(name)
        .bind(crate::now_secs())
        .fetch_optional(&mut *conn)
        .await?;
    match inserted {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar("SELECT id FROM members WHERE display_name = $1").bind(name).fetch_one(&mut *conn).await?),
    }
}

async fn resolve_owners(conn: &mut AnyConnection, names: &[String]) -> Result<(Vec<i64>, Vec<String>)> {
    let mut ids = Vec::new();
    for name in names {
        let id = member_for_name(conn, name, true).await?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut shown = Vec::new();
    for id in &ids {
        let n: String = sqlx::query_scalar("SELECT display_name FROM members WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
        shown.push(n);
    }
    Ok((ids, shown))
}

/// A reference a new task asked for that another task of the project holds.
struct TakenReference {
    requested: String,
    taken_by: String,
}

/// Allocates the next reference of a project. The counter row is updated in
/// place, which takes a row lock (PostgreSQL) or the write lock (SQLite), so
/// two concurrent writers can never get the same number. A requested
/// reference is kept when free; when another task holds it, the task gets
/// the next free number and the holder is returned so the reply can say so.
async fn allocate_reference(conn: &mut AnyConnection, project_id: i64, requested: Option<&str>) -> Result<(i64, String, Option<TakenReference>)> {
    let mut taken_by = None;
    if let Some(n) = requested.and_then(reference_number) {
        let n = n as i64;
        let mut holder: Option<String> = sqlx::query_scalar("SELECT title FROM tasks WHERE project_id = $1 AND seq = $2")
            .bind(project_id)
            .bind(n)
            .fetch_optional(&mut *conn)
            .await?;
        if holder.is_some() && renumber_unseen_holder(conn, project_id, n).await? {
            holder = None;
        }
        match holder {
            None => {
                sqlx::query("UPDATE projects SET task_seq = CASE WHEN task_seq < $2 THEN $2 ELSE task_seq END WHERE id = $1")
                    .bind(project_id)
                    .bind(n)
                    .execute(&mut *conn)
                    .await?;
                return Ok((n, canonical_reference(&n.to_string()), None));
            }
            Some(title) => taken_by = Some(TakenReference { requested: canonical_reference(&n.to_string()), taken_by: title }),
        }
    }
    loop {
        let seq: i64 = sqlx::query_scalar("UPDATE projects SET task_seq = task_seq + 1 WHERE id = $1 RETURNING task_seq")
            .bind(project_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "project", name: project_id.to_string() })?;
        // The counter is never behind a stored number (a kept request raises
        // it), but a database edited by hand may be: skip what is taken.
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE project_id = $1 AND seq = $2")
            .bind(project_id)
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            return Ok((seq, canonical_reference(&seq.to_string()), taken_by));
        }
    }
}

/// Platform of messages imported from a chat export (see
/// `qunban_server::connectors::import`).
pub const IMPORT_PLATFORM: &str = "wechat-import";

/// In imported history the bot never spoke, so the numbers it gave tasks
/// written without one were never seen by the team: when a template later
/// names such a number (`【任务编号】TASK-003`), the team's number wins and
/// the unseen holder moves to the next free number. A holder whose number
/// was announced in a live chat, or written by the team itself, keeps it.
async fn renumber_unseen_holder(conn: &mut AnyConnection, project_id: i64, n: i64) -> Result<bool> {
    let row: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT t.id, t.reference, m.platform_msg_id, m.text FROM tasks t LEFT JOIN messages m ON m.id = t.created_by_message_id \
         WHERE t.project_id = $1 AND t.seq = $2",
    )
    .bind(project_id)
    .bind(n)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((task_id, old_reference, Some(message_id), Some(text))) = row else { return Ok(false) };
    let upper = text.to_uppercase();
    let named = [format!("TASK-{n:03}"), format!("TASK-{n}"), format!("TASK{n:03}"), format!("#{n}")].iter().any(|r| {
        upper.match_indices(r.as_str()).any(|(k, _)| !upper[k + r.len()..].starts_with(|c: char| c.is_ascii_digit()))
    });
    // Imported messages keep the group's platform; their ids carry the
    // import's namespace.
    if !message_id.starts_with(&format!("{IMPORT_PLATFORM}:")) || named {
        return Ok(false);
    }
    let seq: i64 = sqlx::query_scalar("UPDATE projects SET task_seq = task_seq + 1 WHERE id = $1 RETURNING task_seq")
        .bind(project_id)
        .fetch_one(&mut *conn)
        .await?;
    let reference = canonical_reference(&seq.to_string());
    sqlx::query("UPDATE tasks SET seq = $1, reference = $2 WHERE id = $3").bind(seq).bind(&reference).bind(task_id).execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO task_history (task_id, at, actor_member_id, source, message_id, field, old_value, new_value) \
         SELECT id, updated_at, NULL, 'import', created_by_message_id, 'reference', $1, $2 FROM tasks WHERE id = $3",
    )
    .bind(&old_reference)
    .bind(&reference)
    .bind(task_id)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

async fn history(conn: &mut AnyConnection, ctx: &MessageContext, task_id: i64, change: &FieldChange) -> Result<()> {
    sqlx::query(
        "INSERT INTO task_history (task_id, at, actor_member_id, source, message_id, field, old_value, new_value) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(task_id)
    .bind(ctx.now.as_second())
    .bind(ctx.actor.id)
    .bind(&ctx.source)
    .bind(ctx.message_id)
    .bind(change.field)
    .bind(&change.old)
    .bind(&change.new)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates a task; returns the replies to give (created, and whether the
/// requested reference was taken).
async fn create_task(conn: &mut AnyConnection, ctx: &MessageContext, new: &NewTask) -> Result<Vec<Reply>> {
    let (owner_ids, owner_names) = resolve_owners(conn, &new.owner_names).await?;
    let (seq, reference, taken) = allocate_reference(conn, new.project_id, new.requested_reference.as_deref()).await?;
    let status = new.status.unwrap_or(TaskStatus::Todo);
    let progress = if status == TaskStatus::Done { 100 } else { new.progress.unwrap_or(0) };
    let done_at = (status == TaskStatus::Done).then(|| ctx.now.as_second());
    let milestone_id = match &new.milestone {
        Some(name) => Some(milestone_for_name(conn, new.project_id, name, ctx.now).await?),
        None => None,
    };
    let now = ctx.now.as_second();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (project_id, seq, reference, title, status, progress, priority, note, due_at, parent_task_id, milestone_id, \
         created_by_message_id, created_at, updated_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) RETURNING id",
    )
    .bind(new.project_id)
    .bind(seq)
    .bind(&reference)
    .bind(new.title.trim())
    .bind(status.as_str())
    .bind(i64::from(progress))
    .bind(new.priority.map(|p| p.as_str()))
    .bind(&new.note)
    .bind(new.due.map(|t| t.as_second()))
    .bind(new.parent_task_id)
    .bind(milestone_id)
    .bind(ctx.message_id)
    .bind(now)
    .bind(done_at)
    .fetch_one(&mut *conn)
    .await?;
    for (position, member) in owner_ids.iter().enumerate() {
        sqlx::query("INSERT INTO task_owners (task_id, member_id, position) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(member)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    for dep in &new.depends_on {
        if let Some(t) = find_task_by_ref(conn, new.project_id, dep).await? {
            sqlx::query("INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(t.id)
                .execute(&mut *conn)
                .await?;
        }
    }
    let created = FieldChange { field: "created", old: None, new: Some(reference.clone()) };
    history(conn, ctx, id, &created).await?;
    let mut replies = vec![Reply::Created { reference: reference.clone(), title: new.title.trim().to_string(), owners: owner_names, due: new.due }];
    if let Some(t) = taken {
        replies.push(Reply::ReferenceTaken { requested: t.requested, taken_by: t.taken_by, assigned: reference });
    }
    Ok(replies)
}

async fn milestone_for_name(conn: &mut AnyConnection, project_id: i64, name: &str, now: Timestamp) -> Result<i64> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM milestones WHERE project_id = $1 AND name = $2")
        .bind(project_id)
        .bind(name.trim())
        .fetch_optional(&mut *conn)
        .await?;
    match existing {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar("INSERT INTO milestones (project_id, name, due_at, status, created_at) VALUES ($1, $2, NULL, 'open', $3) RETURNING id")
            .bind(project_id)
            .bind(name.trim())
            .bind(now.as_second())
            .fetch_one(&mut *conn)
            .await?),
    }
}

async fn update_task(
    conn: &mut AnyConnection,
    ctx: &MessageContext,
    task_id: i64,
    reference: &str,
    mut patch: qunban_core::TaskPatch,
    owner_names: Option<Vec<String>>,
) -> Result<Reply> {
    // Re-read inside the transaction: another message may have changed the
    // task since the snapshot was taken.
    let Some(task) = load_task(conn, task_id).await? else {
        return Ok(Reply::UnknownTask { reference: reference.to_string() });
    };
    if let Some(names) = &owner_names {
        patch.owners = Some(resolve_owners(conn, names).await?.0);
    }
    let (next, changes) = match apply_patch(&task, &patch, ctx.now) {
        Ok(r) => r,
        Err(e) => return Ok(Reply::Invalid { subject: task.reference.clone(), error: e }),
    };
    if changes.is_empty() {
        return Ok(Reply::NothingToChange { reference: task.reference });
    }
    sqlx::query(
        "UPDATE tasks SET title = $2, status = $3, progress = $4, priority = $5, note = $6, due_at = $7, updated_at = $8, done_at = $9 WHERE id = $1",
    )
    .bind(task.id)
    .bind(&next.title)
    .bind(next.status.as_str())
    .bind(i64::from(next.progress))
    .bind(next.priority.map(|p| p.as_str()))
    .bind(&next.note)
    .bind(next.due.map(|t| t.as_second()))
    .bind(next.updated_at.as_second())
    .bind(next.done_at.map(|t| t.as_second()))
    .execute(&mut *conn)
    .await?;
    if next.owners != task.owners {
        sqlx::query("DELETE FROM task_owners WHERE task_id = $1").bind(task.id).execute(&mut *conn).await?;
        for (position, member) in next.owners.iter().enumerate() {
            sqlx::query("INSERT INTO task_owners (task_id, member_id, position) VALUES ($1, $2, $3)")
                .bind(task.id)
                .bind(member)
                .bind(position as i64)
                .execute(&mut *conn)
                .await?;
        }
    }
    for change in &changes {
        history(conn, ctx, task.id, change).await?;
    }
    let owners = owners_of(conn, task.id).await?.into_iter().map(|(_, n)| n).collect();
    Ok(Reply::Updated { reference: next.reference.clone(), title: next.title.clone(), changes, owners })
}

async fn record_standup(
    conn: &mut AnyConnection,
    ctx: &MessageContext,
    tz: &jiff::tz::TimeZone,
    yesterday: &[String],
    today: &[String],
    blockers: &[String],
) -> Result<()> {
    let day = ctx.now.to_zoned(tz.clone()).date().to_string();
    let project_id: Option<i64> = match &ctx.group {
        Some(g) => match g.project_id {
            Some(p) => Some(p),
            None => sqlx::query("SELECT project_id FROM group_projects WHERE group_id = $1")
                .bind(g.id)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get::<i64, _>("project_id"))
                .transpose()?,
        },
        None => None,
    };
    sqlx::query(
        "INSERT INTO standups (message_id, member_id, group_id, project_id, day, yesterday, today, blockers, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ctx.message_id)
    .bind(ctx.actor.id)
    .bind(ctx.group.as_ref().map(|g| g.id))
    .bind(project_id)
    .bind(day)
    .bind(serde_json::to_string(yesterday).unwrap_or_default())
    .bind(serde_json::to_string(today).unwrap_or_default())
    .bind(serde_json::to_string(blockers).unwrap_or_default())
    .bind(ctx.now.as_second())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
