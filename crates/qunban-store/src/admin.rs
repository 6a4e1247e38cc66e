//! Executing chat slash commands: binding groups, roles, milestones, goals,
//! risks, decisions, kudos and group settings — and the lists they ask for.

use jiff::Timestamp;
use qunban_core::admin::{AdminCommand, AdminSnapshot};
use qunban_core::interpret::{Actor, ProjectRef};
use qunban_core::{GroupKind, Reply};
use sqlx::{AnyConnection, Row};

use crate::directory::{find_member_by_name, insert_alias, load_directory, roles_of, Group, Member};
use qunban_core::people::alias_key;
use crate::tasks::find_task_by_ref;
use crate::{Result, Store, StoreError};
#[allow(unused_imports)]
use qunban_core::admin::AdminSnapshot as _;

/// One thank-you, for the weekly stars.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Kudos {
    pub to: String,
    pub from: String,
    pub reason: String,
    pub at: i64,
}

async fn has_managers(conn: &mut AnyConnection, project_id: i64) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM project_roles WHERE project_id = $1 AND role IN ('pm', 'lead')")
        .bind(project_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// The member called `name`, registered on first mention.
async fn member_named(conn: &mut AnyConnection, name: &str) -> Result<i64> {
    if let Some(id) = find_member_by_name(conn, name).await? {
        return Ok(id);
    }
    Ok(sqlx::query_scalar("INSERT INTO members (display_name, mobile, created_at) VALUES ($1, NULL, $2) RETURNING id")
        .bind(name.trim().trim_start_matches('@'))
        .bind(crate::now_secs())
        .fetch_one(&mut *conn)
        .await?)
}

impl Store {
    /// What the interpreter needs to decide about a slash command.
    pub async fn admin_snapshot(&self, group: &Group, actor: &Member, bind_project: Option<&str>) -> Result<AdminSnapshot> {
        let project = self.project_of_group(group).await?;
        let mut conn = self.pool.acquire().await?;
        let (mut roles, mut managed) = (Vec::new(), false);
        if let Some(p) = &project {
            roles = roles_of(&mut conn, p.id, actor.id).await?;
            managed = has_managers(&mut conn, p.id).await?;
        }
        let mut bind_target = None;
        if let Some(name) = bind_project {
            let row = sqlx::query("SELECT id, name FROM projects WHERE name = $1").bind(name.trim()).fetch_optional(&mut *conn).await?;
            if let Some(r) = row {
                let p = ProjectRef { id: r.try_get("id")?, name: r.try_get("name")? };
                let m = has_managers(&mut conn, p.id).await?;
                let rs = roles_of(&mut conn, p.id, actor.id).await?;
                bind_target = Some((p, m, rs));
            }
        }
        let people = load_directory(&mut conn).await?;
        Ok(AdminSnapshot {
            actor: Actor { member_id: actor.id, name: actor.display_name.clone(), roles },
            project,
            project_has_managers: managed,
            bind_target,
            people,
        })
    }

}

/// Executes one slash-command change inside the caller's transaction and says
/// what it did.
pub(crate) async fn execute(tx: &mut AnyConnection, group: &Group, actor: &Member, message_id: Option<i64>, now: Timestamp, cmd: &AdminCommand) -> Result<Reply> {
    {
        let now_s = now.as_second();
        let reply = match cmd {
            AdminCommand::Bind { project, create, kind, parent_task, make_sender_pm } => {
                // On replay the project may exist already: bind to it.
                let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE name = $1").bind(project.trim()).fetch_optional(&mut *tx).await?;
                let project_id: i64 = match existing {
                    Some(id) => id,
                    None => sqlx::query_scalar("INSERT INTO projects (name, description, status, task_seq, created_at) VALUES ($1, NULL, 'active', 0, $2) RETURNING id")
                        .bind(project.trim())
                        .bind(now_s)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| StoreError::duplicate_or(e, "project", project))?,
                };
                let parent_task_id = match parent_task {
                    Some(r) => match find_task_by_ref(tx, project_id, r).await? {
                        Some(t) => Some(t.id),
                        None => return Ok(Reply::UnknownTask { reference: r.clone() }),
                    },
                    None => None,
                };
                let parent_group_id: Option<i64> = if *kind == GroupKind::Subtask {
                    sqlx::query_scalar("SELECT id FROM chat_groups WHERE project_id = $1 AND kind = 'master' AND id <> $2 ORDER BY id LIMIT 1")
                        .bind(project_id)
                        .bind(group.id)
                        .fetch_optional(&mut *tx)
                        .await?
                } else {
                    None
                };
                // A support group keeps its own project list; the others
                // belong to exactly one project.
                let own_project = (*kind != GroupKind::Support).then_some(project_id);
                sqlx::query("UPDATE chat_groups SET kind = $2, project_id = $3, parent_group_id = $4, parent_task_id = $5, bound_by_message_id = $6 WHERE id = $1")
                    .bind(group.id)
                    .bind(kind.as_str())
                    .bind(own_project)
                    .bind(parent_group_id)
                    .bind(parent_task_id)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                if *kind == GroupKind::Support {
                    sqlx::query("INSERT INTO group_projects (group_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(group.id)
                        .bind(project_id)
                        .execute(&mut *tx)
                        .await?;
                }
                if *make_sender_pm {
                    sqlx::query("INSERT INTO project_roles (project_id, member_id, role, granted_by_message_id) VALUES ($1, $2, 'pm', $3) ON CONFLICT DO NOTHING")
                        .bind(project_id)
                        .bind(actor.id)
                        .bind(message_id)
                        .execute(&mut *tx)
                        .await?;
                }
                Reply::Bound { project: project.trim().to_string(), kind: *kind, created: *create, made_pm: *make_sender_pm, parent_task: parent_task.clone() }
            }
            AdminCommand::SetRole { project_id, member, role } => {
                let id = member_named(tx, member).await?;
                sqlx::query("INSERT INTO project_roles (project_id, member_id, role, granted_by_message_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(project_id)
                    .bind(id)
                    .bind(role.as_str())
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                Reply::RoleSet { member: member.clone(), role: *role }
            }
            AdminCommand::AddMilestone { project_id, name, due } => {
                sqlx::query(
                    "INSERT INTO milestones (project_id, name, due_at, status, created_at) VALUES ($1, $2, $3, 'open', $4) \
                     ON CONFLICT (project_id, name) DO UPDATE SET due_at = EXCLUDED.due_at",
                )
                .bind(project_id)
                .bind(name.trim())
                .bind(due.map(|t| t.as_second()))
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                Reply::MilestoneAdded { name: name.clone(), due: *due }
            }
            AdminCommand::SetGoal { project_id, name, target, current, unit, deadline } => {
                let row = sqlx::query(
                    "INSERT INTO goals (project_id, name, metric, target, current, unit, deadline_at, created_at, updated_at) \
                     VALUES ($1, $2, $2, CAST($3 AS DOUBLE PRECISION), CAST($4 AS DOUBLE PRECISION), $5, $6, $7, $7) \
                     ON CONFLICT (project_id, name) DO UPDATE SET \
                       target = COALESCE(EXCLUDED.target, goals.target), current = COALESCE(EXCLUDED.current, goals.current), \
                       unit = COALESCE(EXCLUDED.unit, goals.unit), deadline_at = COALESCE(EXCLUDED.deadline_at, goals.deadline_at), \
                       updated_at = EXCLUDED.updated_at \
                     RETURNING target, current, unit, deadline_at",
                )
                .bind(project_id)
                .bind(name.trim())
                // Numbers travel as text: sqlx's Any driver sends a NULL
                // float in a form PostgreSQL rejects.
                .bind(target.map(|t| t.to_string()))
                .bind(current.map(|c| c.to_string()))
                .bind(unit.as_deref())
                .bind(deadline.map(|t| t.as_second()))
                .bind(now_s)
                .fetch_one(&mut *tx)
                .await?;
                let deadline_at: Option<i64> = row.try_get("deadline_at")?;
                Reply::GoalSet {
                    name: name.clone(),
                    target: row.try_get("target")?,
                    current: row.try_get("current")?,
                    unit: row.try_get("unit")?,
                    deadline: deadline_at.and_then(|s| Timestamp::from_second(s).ok()),
                }
            }
            AdminCommand::AddRisk { project_id, title, probability, impact, owner, mitigation } => {
                let owner_id = match owner {
                    Some(o) => Some(member_named(tx, o).await?),
                    None => None,
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO risks (project_id, title, probability, impact, owner_member_id, mitigation, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING id",
                )
                .bind(project_id)
                .bind(title.trim())
                .bind(probability.as_str())
                .bind(impact.as_str())
                .bind(owner_id)
                .bind(mitigation.as_deref())
                .bind(now_s)
                .fetch_one(&mut *tx)
                .await?;
                Reply::RiskAdded { id, title: title.clone() }
            }
            AdminCommand::RecordDecision { project_id, text } => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO decisions (project_id, group_id, member_id, message_id, text, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(*project_id)
                .bind(group.id)
                .bind(actor.id)
                .bind(message_id)
                .bind(text.trim())
                .bind(now_s)
                .fetch_one(&mut *tx)
                .await?;
                Reply::DecisionRecorded { id }
            }
            AdminCommand::GiveKudos { project_id, member, reason } => {
                let to = member_named(tx, member).await?;
                sqlx::query(
                    "INSERT INTO kudos (project_id, group_id, from_member_id, to_member_id, reason, message_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(*project_id)
                .bind(group.id)
                .bind(actor.id)
                .bind(to)
                .bind(reason.trim())
                .bind(message_id)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                Reply::KudosGiven { member: member.clone(), reason: reason.clone() }
            }
            AdminCommand::SetAlias { alias, member_id, member, previous } => {
                // A manager re-pointing an alias replaces it.
                sqlx::query("DELETE FROM member_aliases WHERE alias_key = $1").bind(alias_key(alias)).execute(&mut *tx).await?;
                insert_alias(tx, alias, *member_id, message_id).await?;
                Reply::AliasSet { alias: alias.clone(), member: member.clone(), previous: previous.clone() }
            }
            AdminCommand::SetSetting { key, value } => {
                sqlx::query(
                    "INSERT INTO group_settings (group_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (group_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                )
                .bind(group.id)
                .bind(key)
                .bind(value)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                Reply::SettingSaved { key: key.clone(), value: value.clone() }
            }
        };
        Ok(reply)
    }
}

impl Store {

    /// A group's SOP settings (`morning_time`, `locale`, …).
    pub async fn group_settings(&self, group_id: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT key, value FROM group_settings WHERE group_id = $1 ORDER BY key").bind(group_id).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("key")?, r.try_get("value")?))).collect()
    }

    /// Thank-yous given in [from, to), newest last.
    pub async fn kudos_between(&self, from: i64, to: i64) -> Result<Vec<Kudos>> {
        let rows = sqlx::query(
            "SELECT t.display_name AS to_name, f.display_name AS from_name, k.reason, k.created_at FROM kudos k \
             JOIN members t ON t.id = k.to_member_id JOIN members f ON f.id = k.from_member_id \
             WHERE k.created_at >= $1 AND k.created_at < $2 ORDER BY k.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(Kudos { to: r.try_get("to_name")?, from: r.try_get("from_name")?, reason: r.try_get("reason")?, at: r.try_get("created_at")? }))
            .collect()
    }

    /// Decisions recorded for a project, oldest first.
    pub async fn decisions(&self, project_id: i64) -> Result<Vec<(i64, String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT d.id, m.display_name, d.text, d.created_at FROM decisions d JOIN members m ON m.id = d.member_id WHERE d.project_id = $1 ORDER BY d.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("display_name")?, r.try_get("text")?, r.try_get("created_at")?))).collect()
    }

    /// Projects a support group serves.
    pub async fn projects_of_support_group(&self, group_id: i64) -> Result<Vec<ProjectRef>> {
        let rows = sqlx::query("SELECT p.id, p.name FROM group_projects g JOIN projects p ON p.id = g.project_id WHERE g.group_id = $1 ORDER BY p.id")
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(ProjectRef { id: r.try_get("id")?, name: r.try_get("name")? })).collect()
    }
}
