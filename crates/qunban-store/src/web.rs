//! What the web dashboard needs from storage: sign-in accounts, sessions,
//! per-member API tokens, and the read models behind its pages (search,
//! a group's transcript, a member's roles).
//!
//! Passwords arrive here already hashed: hashing is CPU work the server does
//! off the async runtime, and storage should not know which algorithm is used.

use qunban_core::Role;
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use crate::directory::token_digest;
use crate::tasks::{task_from, TaskView, TASK_COLUMNS};
use crate::{now_secs, Result, Store, StoreError};

/// A member's sign-in account.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub member_id: i64,
    pub login: String,
    /// PHC string (`$argon2id$…`).
    pub password_hash: String,
    pub is_admin: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Even a hash should not end up in logs.
        f.debug_struct("Account")
            .field("member_id", &self.member_id)
            .field("login", &self.login)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

/// A member's API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

/// A member's role in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRole {
    pub project_id: i64,
    pub project: String,
    pub role: Role,
}

/// A chat message as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub id: i64,
    pub group_id: Option<i64>,
    pub group: String,
    pub sender: String,
    pub text: String,
    pub sent_at: i64,
    /// The bot's answer queued for this message, if any.
    pub reply: Option<String>,
}

/// A decision recorded with `/决策`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionHit {
    pub id: i64,
    pub project: Option<String>,
    pub member: String,
    pub text: String,
    pub at: i64,
}

/// Everything a search found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SearchHits {
    pub tasks: Vec<TaskView>,
    pub messages: Vec<ChatMessage>,
    pub decisions: Vec<DecisionHit>,
}

fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

fn account_from(r: &sqlx::any::AnyRow) -> Result<Account> {
    Ok(Account {
        member_id: r.try_get("member_id")?,
        login: r.try_get("login")?,
        password_hash: r.try_get("password_hash")?,
        is_admin: r.try_get::<i64, _>("is_admin")? != 0,
    })
}

/// `%` and `_` in the user's words are literal, not wildcards.
fn like_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

const MESSAGE_COLUMNS: &str = "m.id, g.id AS group_id, COALESCE(g.name, m.chat_name, m.chat_id) AS group_name, \
     m.sender_name, m.text, m.sent_at, o.payload AS reply_payload";

const MESSAGE_JOINS: &str = "FROM messages m \
     LEFT JOIN chat_groups g ON g.platform = m.platform AND g.chat_id = m.chat_id \
     LEFT JOIN outbox o ON o.idempotency_key = 'reply:' || CAST(m.id AS TEXT)";

fn message_from(r: &sqlx::any::AnyRow) -> Result<ChatMessage> {
    let payload: Option<String> = r.try_get("reply_payload")?;
    Ok(ChatMessage {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        group: r.try_get("group_name")?,
        sender: r.try_get("sender_name")?,
        text: r.try_get("text")?,
        sent_at: r.try_get("sent_at")?,
        reply: payload
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string)),
    })
}

impl Store {
    pub async fn account_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&self.pool).await?)
    }

    /// Gives a member a sign-in account.
    pub async fn create_account(&self, member_id: i64, login: &str, password_hash: &str, is_admin: bool) -> Result<Account> {
        let login = checked_login(login)?;
        sqlx::query("INSERT INTO accounts (member_id, login, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(member_id)
            .bind(login)
            .bind(password_hash)
            .bind(i64::from(is_admin))
            .bind(now_secs())
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::duplicate_or(e, "account", login))?;
        Ok(Account { member_id, login: login.into(), password_hash: password_hash.into(), is_admin })
    }

    /// Creates the workspace's first account (an admin) for the member named
    /// `name`, registering the member if needed. Refused once any account
    /// exists, atomically, so two visitors racing the set-up page cannot both
    /// become admins.
    pub async fn create_first_account(&self, name: &str, login: &str, password_hash: &str) -> Result<Account> {
        let login = checked_login(login)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a name is required".into()));
        }
        let mut tx = self.begin().await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&mut *tx).await?;
        if existing > 0 {
            return Err(StoreError::Duplicate { kind: "first account", name: "the workspace already has accounts".into() });
        }
        let member_id: i64 = match sqlx::query_scalar("SELECT id FROM members WHERE display_name = $1").bind(name).fetch_optional(&mut *tx).await? {
            Some(id) => id,
            None => {
                sqlx::query_scalar("INSERT INTO members (display_name, mobile, created_at) VALUES ($1, NULL, $2) RETURNING id")
                    .bind(name)
                    .bind(now_secs())
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        sqlx::query("INSERT INTO accounts (member_id, login, password_hash, is_admin, created_at) VALUES ($1, $2, $3, 1, $4)")
            .bind(member_id)
            .bind(login)
            .bind(password_hash)
            .bind(now_secs())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::duplicate_or(e, "account", login))?;
        tx.commit().await?;
        Ok(Account { member_id, login: login.into(), password_hash: password_hash.into(), is_admin: true })
    }

    /// Replaces a member's password hash (the CLI's `member password`).
    pub async fn set_password_hash(&self, member_id: i64, password_hash: &str) -> Result<bool> {
        let n = sqlx::query("UPDATE accounts SET password_hash = $2 WHERE member_id = $1")
            .bind(member_id)
            .bind(password_hash)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT member_id, login, password_hash, is_admin FROM accounts WHERE login = $1")
            .bind(login.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    pub async fn account_of_member(&self, member_id: i64) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT member_id, login, password_hash, is_admin FROM accounts WHERE member_id = $1")
            .bind(member_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    /// Opens a browser session; returns its secret id for the cookie.
    pub async fn create_session(&self, member_id: i64, ttl_secs: i64) -> Result<String> {
        let id = random_secret("qs_");
        let now = now_secs();
        // Expired sessions are swept whenever someone signs in.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO web_sessions (id_sha256, member_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_digest(&id))
            .bind(member_id)
            .bind(now)
            .bind(now + ttl_secs)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// The member a live session belongs to.
    pub async fn session_member(&self, session_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT member_id FROM web_sessions WHERE id_sha256 = $1 AND expires_at >= $2")
            .bind(token_digest(session_id))
            .bind(now_secs())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// How long `login` stays locked for sign-ins from `source` (a client
    /// address) at `now` (seconds), when it has had `max` failed sign-ins
    /// from there within `window` seconds of the first of them. Other
    /// sources are not locked: a guesser cannot lock the owner out.
    pub async fn sign_in_locked_for(&self, login: &str, source: &str, now: i64, max: i64, window: i64) -> Result<Option<i64>> {
        let row: Option<(i64, i64)> = sqlx::query_as("SELECT failures, first_at FROM sign_in_failures WHERE login = $1")
            .bind(failure_key(login, source))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.filter(|(n, first)| *n >= max && first + window > now).map(|(_, first)| first + window - now))
    }

    /// Counts a failed sign-in of `login` from `source` at `now`: a new
    /// window starts when the last one (`window` seconds from its first
    /// failure) has passed. One statement, so that instances failing at once
    /// all count.
    pub async fn record_sign_in_failure(&self, login: &str, source: &str, now: i64, window: i64) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE first_at + $2 <= $1").bind(now).bind(window).execute(&self.pool).await?;
        sqlx::query(
            "INSERT INTO sign_in_failures (login, failures, first_at) VALUES ($1, 1, $2) \
             ON CONFLICT (login) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.first_at + $3 <= $2 THEN 1 ELSE sign_in_failures.failures + 1 END, \
               first_at = CASE WHEN sign_in_failures.first_at + $3 <= $2 THEN $2 ELSE sign_in_failures.first_at END",
        )
        .bind(failure_key(login, source))
        .bind(now)
        .bind(window)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the failed sign-ins of `login` from `source` (after a successful one).
    pub async fn clear_sign_in_failures(&self, login: &str, source: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE login = $1").bind(failure_key(login, source)).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn delete_session(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE id_sha256 = $1").bind(token_digest(session_id)).execute(&self.pool).await?;
        Ok(())
    }

    /// Creates an API token acting as `member_id`; the secret is returned once.
    pub async fn create_member_token(&self, member_id: i64, name: &str) -> Result<(TokenInfo, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::Invalid("a token name needs 1 to 100 characters".into()));
        }
        let token = random_secret("qb_");
        let now = now_secs();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_sha256, member_id, is_admin, created_at) VALUES ($1, $2, $3, 0, $4) RETURNING id",
        )
        .bind(name)
        .bind(token_digest(&token))
        .bind(member_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok((TokenInfo { id, name: name.into(), created_at: now }, token))
    }

    pub async fn member_tokens(&self, member_id: i64) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM api_tokens WHERE member_id = $1 ORDER BY id")
            .bind(member_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(TokenInfo { id: r.try_get("id")?, name: r.try_get("name")?, created_at: r.try_get("created_at")? }))
            .collect()
    }

    /// Revokes one of the member's tokens; false when it is not theirs.
    pub async fn delete_member_token(&self, member_id: i64, token_id: i64) -> Result<bool> {
        let n = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND member_id = $2")
            .bind(token_id)
            .bind(member_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Every project role of a member.
    pub async fn member_roles(&self, member_id: i64) -> Result<Vec<ProjectRole>> {
        let rows = sqlx::query(
            "SELECT r.project_id, p.name, r.role FROM project_roles r JOIN projects p ON p.id = r.project_id \
             WHERE r.member_id = $1 ORDER BY r.project_id, r.role",
        )
        .bind(member_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let role: String = r.try_get("role")?;
            if let Ok(role) = role.parse() {
                out.push(ProjectRole { project_id: r.try_get("project_id")?, project: r.try_get("name")?, role });
            }
        }
        Ok(out)
    }

    /// Every member's roles in a project, as (member id, role).
    pub async fn project_roles(&self, project_id: i64) -> Result<Vec<(i64, Role)>> {
        let rows = sqlx::query("SELECT member_id, role FROM project_roles WHERE project_id = $1 ORDER BY member_id, role")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let role: String = r.try_get("role")?;
            if let Ok(role) = role.parse() {
                out.push((r.try_get("member_id")?, role));
            }
        }
        Ok(out)
    }

    /// One task by id, with names.
    pub async fn task_view(&self, task_id: i64) -> Result<TaskView> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&format!("SELECT {TASK_COLUMNS}, p.name AS project_name FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1"))
            .bind(task_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "task", name: task_id.to_string() })?;
        let owners = crate::tasks::owners_of(&mut conn, task_id).await?;
        Ok(TaskView {
            task: task_from(&row, owners.iter().map(|(id, _)| *id).collect())?,
            project: row.try_get("project_name")?,
            owner_names: owners.into_iter().map(|(_, n)| n).collect(),
        })
    }

    /// The logged message that created a task, if it came from chat.
    pub async fn task_origin_message(&self, task_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT created_by_message_id FROM tasks WHERE id = $1")
            .bind(task_id)
            .fetch_optional(&self.pool)
            .await?
            .flatten())
    }

    /// Chat messages by id, as the dashboard shows them.
    pub async fn chat_messages(&self, ids: &[i64]) -> Result<Vec<ChatMessage>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            if list.is_empty() {
                continue;
            }
            let rows = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_JOINS} WHERE m.id IN ({list}) ORDER BY m.id"))
                .fetch_all(&self.pool)
                .await?;
            for r in &rows {
                out.push(message_from(r)?);
            }
        }
        Ok(out)
    }

    /// A group's latest messages with the bot's replies, oldest first.
    pub async fn group_messages(&self, group_id: i64, limit: i64) -> Result<Vec<ChatMessage>> {
        let rows = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_JOINS} WHERE g.id = $1 ORDER BY m.sent_at DESC, m.id DESC LIMIT $2"))
            .bind(group_id)
            .bind(limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(message_from).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// Tasks, chat messages and decisions containing `q` (case-insensitive
    /// substring: Chinese has no spaces to split words on, and a team's
    /// archive is small enough for a scan).
    pub async fn search(&self, q: &str, limit: i64) -> Result<SearchHits> {
        let q = q.trim();
        if q.is_empty() {
            return Ok(SearchHits::default());
        }
        let pattern = like_pattern(q);
        let limit = limit.clamp(1, 200);
        let task_ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM tasks WHERE LOWER(title) LIKE $1 ESCAPE '\\' OR LOWER(COALESCE(note, '')) LIKE $1 ESCAPE '\\' \
             OR LOWER(reference) LIKE $1 ESCAPE '\\' ORDER BY updated_at DESC LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut tasks = Vec::with_capacity(task_ids.len());
        for id in task_ids {
            tasks.push(self.task_view(id).await?);
        }
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} {MESSAGE_JOINS} WHERE LOWER(m.text) LIKE $1 ESCAPE '\\' ORDER BY m.sent_at DESC LIMIT $2"
        ))
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let messages = rows.iter().map(message_from).collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query(
            "SELECT d.id, p.name AS project, m.display_name, d.text, d.created_at FROM decisions d \
             LEFT JOIN projects p ON p.id = d.project_id JOIN members m ON m.id = d.member_id \
             WHERE LOWER(d.text) LIKE $1 ESCAPE '\\' ORDER BY d.created_at DESC LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let decisions = rows
            .iter()
            .map(|r| {
                Ok(DecisionHit {
                    id: r.try_get("id")?,
                    project: r.try_get("project")?,
                    member: r.try_get("display_name")?,
                    text: r.try_get("text")?,
                    at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchHits { tasks, messages, decisions })
    }

    /// Whether nothing has been set up yet (no project, no message): the
    /// dashboard then offers the demo project.
    pub async fn is_empty(&self) -> Result<bool> {
        let projects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects").fetch_one(&self.pool).await?;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&self.pool).await?;
        Ok(projects == 0 && messages == 0)
    }
}

fn checked_login(login: &str) -> Result<&str> {
    let login = login.trim();
    let ok = !login.is_empty()
        && login.chars().count() <= 64
        && login.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(login)
    } else {
        Err(StoreError::Invalid("a login needs 1 to 64 letters, digits or . _ - @".into()))
    }
}

/// The key of a login's failed sign-ins: trimmed, lower-case, and bounded,
/// since anybody can send any login.
/// The `sign_in_failures.login` column holds the login and the source
/// together (`login|source`; a source is an address, without `|`), so no
/// schema change was needed when the count became per source.
fn failure_key(login: &str, source: &str) -> String {
    let login: String = login.trim().to_lowercase().chars().take(200).collect();
    format!("{login}|{source}")
}
