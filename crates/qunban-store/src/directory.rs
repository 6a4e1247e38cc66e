//! Who and where: the workspace, projects, members, roles and chat groups.

use qunban_core::people::{alias_key, clean, Directory, Person};
use qunban_core::{GroupKind, Locale, Role};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now_secs, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub name: String,
    pub timezone: String,
    pub locale: Locale,
}

impl Workspace {
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: i64,
    pub display_name: String,
    pub mobile: Option<String>,
    pub aliases: Vec<String>,
    /// `(platform, platform user id)` pairs.
    pub identities: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: i64,
    pub platform: String,
    pub chat_id: String,
    pub name: String,
    pub kind: GroupKind,
    pub project_id: Option<i64>,
    pub parent_group_id: Option<i64>,
    pub parent_task_id: Option<i64>,
}

fn project_from(row: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn group_from(row: &AnyRow) -> Result<Group> {
    let kind: String = row.try_get("kind")?;
    Ok(Group {
        id: row.try_get("id")?,
        platform: row.try_get("platform")?,
        chat_id: row.try_get("chat_id")?,
        name: row.try_get("name")?,
        kind: kind.parse().map_err(|e: qunban_core::model::UnknownName| StoreError::Corrupt(e.to_string()))?,
        project_id: row.try_get("project_id")?,
        parent_group_id: row.try_get("parent_group_id")?,
        parent_task_id: row.try_get("parent_task_id")?,
    })
}

const GROUP_COLUMNS: &str = "id, platform, chat_id, name, kind, project_id, parent_group_id, parent_task_id";

/// The SHA-256 of an API token, the only form in which tokens are stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// The workspace settings, or [`StoreError::NotInitialised`].
    /// Read once per process: the row never changes after it is created
    /// (see `cache.rs`).
    pub async fn workspace(&self) -> Result<Workspace> {
        if let Some(ws) = self.cache.workspace() {
            return Ok(ws);
        }
        let ws = self.workspace_uncached().await?;
        self.cache.set_workspace(&ws);
        Ok(ws)
    }

    async fn workspace_uncached(&self) -> Result<Workspace> {
        let row = sqlx::query("SELECT name, timezone, locale FROM workspace WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotInitialised)?;
        let locale: String = row.try_get("locale")?;
        Ok(Workspace {
            name: row.try_get("name")?,
            timezone: row.try_get("timezone")?,
            locale: locale.parse().unwrap_or_default(),
        })
    }

    /// Creates the workspace and its first admin API token. Idempotent: when
    /// the workspace exists nothing changes and no token is returned.
    pub async fn init_workspace(&self, name: &str, timezone: &str, locale: Locale) -> Result<Option<String>> {
        jiff::tz::TimeZone::get(timezone).map_err(|_| StoreError::Invalid(format!("unknown time zone '{timezone}'")))?;
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO workspace (id, name, timezone, locale, created_at) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(name)
        .bind(timezone)
        .bind(locale.as_str())
        .bind(now_secs())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        let token = new_token();
        sqlx::query("INSERT INTO api_tokens (name, token_sha256, member_id, is_admin, created_at) VALUES ('admin', $1, NULL, 1, $2)")
            .bind(token_digest(&token))
            .bind(now_secs())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Whether `token` is a known API token; returns (is_admin, member id).
    pub async fn check_token(&self, token: &str) -> Result<Option<(bool, Option<i64>)>> {
        let row = sqlx::query("SELECT is_admin, member_id FROM api_tokens WHERE token_sha256 = $1")
            .bind(token_digest(token))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get::<i64, _>("is_admin")? != 0, r.try_get("member_id")?))).transpose()
    }

    pub async fn create_project(&self, name: &str, description: Option<&str>) -> Result<Project> {
        let name = checked_name("project", name)?;
        let row = sqlx::query(
            "INSERT INTO projects (name, description, status, task_seq, created_at) VALUES ($1, $2, 'active', 0, $3) \
             RETURNING id, name, description, status, created_at",
        )
        .bind(name)
        .bind(description)
        .bind(now_secs())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::duplicate_or(e, "project", name))?;
        project_from(&row)
    }

    pub async fn projects(&self) -> Result<Vec<Project>> {
        let rows = sqlx::query("SELECT id, name, description, status, created_at FROM projects ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(project_from).collect()
    }

    pub async fn project_by_name(&self, name: &str) -> Result<Project> {
        let row = sqlx::query("SELECT id, name, description, status, created_at FROM projects WHERE name = $1")
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "project", name: name.to_string() })?;
        project_from(&row)
    }

    pub async fn project(&self, id: i64) -> Result<Project> {
        let row = sqlx::query("SELECT id, name, description, status, created_at FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { kind: "project", name: id.to_string() })?;
        project_from(&row)
    }

    /// Adds a member with optional mobile, aliases and platform identities
    /// (`wecom:zhangsan`), all in one transaction.
    pub async fn add_member(
        &self,
        name: &str,
        mobile: Option<&str>,
        aliases: &[String],
        identities: &[(String, String)],
    ) -> Result<Member> {
        let name = checked_name("member", name)?;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO members (display_name, mobile, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(name)
            .bind(mobile)
            .bind(now_secs())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::duplicate_or(e, "member", name))?;
        for alias in aliases {
            insert_alias(&mut tx, alias, id, None).await?;
        }
        for (platform, user) in identities {
            sqlx::query("INSERT INTO member_identities (platform, platform_user_id, member_id) VALUES ($1, $2, $3)")
                .bind(platform)
                .bind(user)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::duplicate_or(e, "identity", &format!("{platform}:{user}")))?;
        }
        tx.commit().await?;
        self.member(id).await
    }

    pub async fn member(&self, id: i64) -> Result<Member> {
        let mut conn = self.pool.acquire().await?;
        member_by_id(&mut conn, id).await
    }

    pub async fn members(&self) -> Result<Vec<Member>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM members ORDER BY id").fetch_all(&self.pool).await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(member_by_id(&mut conn, id).await?);
        }
        Ok(out)
    }

    /// Finds a member by display name or alias.
    pub async fn member_by_name(&self, name: &str) -> Result<Member> {
        let mut conn = self.pool.acquire().await?;
        match find_member_by_name(&mut conn, name).await? {
            Some(id) => member_by_id(&mut conn, id).await,
            None => Err(StoreError::NotFound { kind: "member", name: name.to_string() }),
        }
    }

    pub async fn set_role(&self, project_id: i64, member_id: i64, role: Role) -> Result<()> {
        sqlx::query("INSERT INTO project_roles (project_id, member_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(project_id)
            .bind(member_id)
            .bind(role.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn roles(&self, project_id: i64, member_id: i64) -> Result<Vec<Role>> {
        let mut conn = self.pool.acquire().await?;
        roles_of(&mut conn, project_id, member_id).await
    }

    /// Registers a chat group. `project_id` may be `None` for an unbound group.
    pub async fn add_group(
        &self,
        platform: &str,
        chat_id: &str,
        name: &str,
        kind: GroupKind,
        project_id: Option<i64>,
        parent_task_id: Option<i64>,
    ) -> Result<Group> {
        let name = checked_name("group", name)?;
        if kind != GroupKind::Unbound && kind != GroupKind::Support && project_id.is_none() {
            return Err(StoreError::Invalid(format!("a {kind} group needs a project")));
        }
        let parent_group_id = match (kind, project_id) {
            (GroupKind::Subtask, Some(p)) => self.master_group_of(p).await?,
            _ => None,
        };
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO chat_groups (platform, chat_id, name, kind, project_id, parent_group_id, parent_task_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {GROUP_COLUMNS}"
        ))
        .bind(platform)
        .bind(chat_id)
        .bind(name)
        .bind(kind.as_str())
        .bind(project_id)
        .bind(parent_group_id)
        .bind(parent_task_id)
        .bind(now_secs())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| StoreError::duplicate_or(e, "group", &format!("{platform}:{chat_id}")))?;
        let group = group_from(&row)?;
        if let (GroupKind::Support, Some(p)) = (kind, project_id) {
            sqlx::query("INSERT INTO group_projects (group_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(group.id)
                .bind(p)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(group)
    }

    async fn master_group_of(&self, project_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM chat_groups WHERE project_id = $1 AND kind = 'master' ORDER BY id LIMIT 1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn groups(&self) -> Result<Vec<Group>> {
        let rows = sqlx::query(&format!("SELECT {GROUP_COLUMNS} FROM chat_groups ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(group_from).collect()
    }

    pub async fn group_by_chat(&self, platform: &str, chat_id: &str) -> Result<Option<Group>> {
        let row = sqlx::query(&format!("SELECT {GROUP_COLUMNS} FROM chat_groups WHERE platform = $1 AND chat_id = $2"))
            .bind(platform)
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(group_from).transpose()
    }

    /// Finds a group by name or `platform:chat_id`.
    pub async fn group_by_name(&self, name: &str) -> Result<Group> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM chat_groups WHERE name = $1 OR (platform || ':' || chat_id) = $1 ORDER BY id LIMIT 1"
        ))
        .bind(name.trim())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => group_from(&r),
            None => Err(StoreError::NotFound { kind: "group", name: name.to_string() }),
        }
    }
}

/// Registers a chat seen for the first time as an unbound group, unless
/// another request registered it meanwhile (`ON CONFLICT DO NOTHING`).
pub(crate) async fn insert_unbound_group(pool: &sqlx::AnyPool, platform: &str, chat_id: &str, name: &str) -> Result<()> {
    // A chat's name is only a label: cut it to the limit rather than refuse the chat.
    let name: String = name.trim().chars().take(200).collect();
    let name = if name.is_empty() { chat_id.chars().take(200).collect() } else { name };
    sqlx::query(
        "INSERT INTO chat_groups (platform, chat_id, name, kind, project_id, parent_group_id, parent_task_id, created_at) \
         VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $5) ON CONFLICT (platform, chat_id) DO NOTHING",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(name)
    .bind(GroupKind::Unbound.as_str())
    .bind(now_secs())
    .execute(pool)
    .await?;
    Ok(())
}

fn checked_name<'a>(kind: &'static str, name: &'a str) -> Result<&'a str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(format!("a {kind} name cannot be empty")));
    }
    if name.chars().count() > 200 {
        return Err(StoreError::Invalid(format!("a {kind} name is limited to 200 characters")));
    }
    Ok(name)
}

fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("qb_{}", hex::encode(bytes))
}

pub(crate) async fn member_by_id(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Member> {
    let row = sqlx::query("SELECT id, display_name, mobile FROM members WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound { kind: "member", name: id.to_string() })?;
    member_from(conn, &row).await
}

/// The member a platform identity is linked to, if any: the identity and
/// the member row in one query, then the aliases and identities.
pub(crate) async fn member_by_identity(conn: &mut sqlx::AnyConnection, platform: &str, user_id: &str) -> Result<Option<Member>> {
    let row = sqlx::query(
        "SELECT m.id, m.display_name, m.mobile FROM member_identities i JOIN members m ON m.id = i.member_id \
         WHERE i.platform = $1 AND i.platform_user_id = $2",
    )
    .bind(platform)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(Some(member_from(conn, &r).await?)),
        None => Ok(None),
    }
}

/// A member from its row (`id, display_name, mobile`) plus its aliases and
/// identities, read together in one query.
async fn member_from(conn: &mut sqlx::AnyConnection, row: &AnyRow) -> Result<Member> {
    let id: i64 = row.try_get("id")?;
    let rows = sqlx::query(
        "SELECT 'a' AS k, alias AS a, '' AS b FROM member_aliases WHERE member_id = $1 \
         UNION ALL SELECT 'i' AS k, platform AS a, platform_user_id AS b FROM member_identities WHERE member_id = $1 \
         ORDER BY k, a, b",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let (mut aliases, mut identities) = (Vec::new(), Vec::new());
    for r in rows {
        let k: String = r.try_get("k")?;
        if k == "a" {
            aliases.push(r.try_get("a")?);
        } else {
            identities.push((r.try_get("a")?, r.try_get("b")?));
        }
    }
    Ok(Member {
        id,
        display_name: row.try_get("display_name")?,
        mobile: row.try_get("mobile")?,
        aliases,
        identities,
    })
}

/// The member with this exact display name, or else the one member this
/// alias means (aliases compare by [`alias_key`]).
pub(crate) async fn find_member_by_name(conn: &mut sqlx::AnyConnection, name: &str) -> Result<Option<i64>> {
    let name = clean(name);
    if let Some(id) = sqlx::query_scalar("SELECT id FROM members WHERE display_name = $1").bind(name).fetch_optional(&mut *conn).await? {
        return Ok(Some(id));
    }
    let mut ids: Vec<i64> = sqlx::query_scalar("SELECT member_id FROM member_aliases WHERE alias_key = $1")
        .bind(alias_key(name))
        .fetch_all(&mut *conn)
        .await?;
    ids.dedup();
    Ok(match ids[..] {
        [id] => Some(id),
        _ => None,
    })
}

/// Every member and alias, for telling who a name in the chat means.
pub(crate) async fn load_directory(conn: &mut sqlx::AnyConnection) -> Result<Directory> {
    let members = sqlx::query("SELECT id, display_name FROM members ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(Person { id: r.try_get("id")?, name: r.try_get("display_name")? }))
        .collect::<Result<Vec<_>>>()?;
    let aliases = sqlx::query("SELECT alias_key, member_id FROM member_aliases ORDER BY alias_key")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("alias_key")?, r.try_get("member_id")?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Directory { members, aliases })
}

/// Adds an alias; the same alias (by key) may not mean another member, and
/// a member's display name is no alias.
pub(crate) async fn insert_alias(conn: &mut sqlx::AnyConnection, alias: &str, member_id: i64, message_id: Option<i64>) -> Result<()> {
    let alias = checked_name("alias", clean(alias))?;
    let key = alias_key(alias);
    let holder: Option<i64> = sqlx::query_scalar("SELECT member_id FROM member_aliases WHERE alias_key = $1 LIMIT 1")
        .bind(&key)
        .fetch_optional(&mut *conn)
        .await?;
    match holder {
        Some(id) if id == member_id => return Ok(()),
        Some(_) => return Err(StoreError::Duplicate { kind: "alias", name: alias.to_string() }),
        None => {}
    }
    let named: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE display_name = $1").bind(alias).fetch_optional(&mut *conn).await?;
    if named.is_some_and(|id| id != member_id) {
        return Err(StoreError::Invalid(format!("'{alias}' is another member's name and cannot be an alias")));
    }
    sqlx::query("INSERT INTO member_aliases (alias, alias_key, member_id, set_by_message_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(alias)
        .bind(&key)
        .bind(member_id)
        .bind(message_id)
        .bind(now_secs())
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::duplicate_or(e, "alias", alias))?;
    Ok(())
}

/// One alias and the member it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub alias: String,
    pub member_id: i64,
    pub member: String,
    /// Taught in the chat (re-derived by replay) rather than on the CLI.
    pub from_chat: bool,
}

impl Store {
    /// Teaches an alias (`老李` → 李建国) from the CLI.
    pub async fn add_alias(&self, alias: &str, member_id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_alias(&mut tx, alias, member_id, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every alias, by member then alias.
    pub async fn aliases(&self) -> Result<Vec<Alias>> {
        let rows = sqlx::query(
            "SELECT a.alias, a.member_id, m.display_name, a.set_by_message_id FROM member_aliases a JOIN members m ON m.id = a.member_id \
             ORDER BY m.display_name, a.alias",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Alias {
                    alias: r.try_get("alias")?,
                    member_id: r.try_get("member_id")?,
                    member: r.try_get("display_name")?,
                    from_chat: r.try_get::<Option<i64>, _>("set_by_message_id")?.is_some(),
                })
            })
            .collect()
    }

    /// Forgets an alias; returns the member it meant, if it existed.
    pub async fn remove_alias(&self, alias: &str) -> Result<Option<String>> {
        let mut tx = self.begin().await?;
        let key = alias_key(alias);
        let member: Option<String> = sqlx::query_scalar(
            "SELECT m.display_name FROM member_aliases a JOIN members m ON m.id = a.member_id WHERE a.alias_key = $1 LIMIT 1",
        )
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM member_aliases WHERE alias_key = $1").bind(&key).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(member)
    }
}

pub(crate) async fn roles_of(conn: &mut sqlx::AnyConnection, project_id: i64, member_id: i64) -> Result<Vec<Role>> {
    let names: Vec<String> = sqlx::query_scalar("SELECT role FROM project_roles WHERE project_id = $1 AND member_id = $2 ORDER BY role")
        .bind(project_id)
        .bind(member_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(names.iter().filter_map(|n| n.parse().ok()).collect())
}
