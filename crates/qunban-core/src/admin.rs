//! Running a project from the chat: slash commands and who may use them.
//!
//! Before a project has a PM or a lead anyone may set it up (a new team
//! starts without the server console); once it has one, only PMs and leads
//! bind groups, give roles, add milestones and goals, or change settings.
//! Anyone may raise a risk, record a decision, thank a colleague or list.

use jiff::Timestamp;
use qunban_lang::command::{BindKind, BotCommand, Level, ListScope};

use crate::interpret::{canonical_reference, Actor, ProjectRef};
use crate::model::{GroupKind, Role};
use crate::people::{alias_key, clean, Directory, NameMatch};
use crate::reply::{ManagerAction, Reply};

/// What the interpreter needs to know to decide about a slash command.
#[derive(Debug, Clone)]
pub struct AdminSnapshot {
    pub actor: Actor,
    /// The project the group is bound to now, if any.
    pub project: Option<ProjectRef>,
    pub project_has_managers: bool,
    /// For `/绑定`: the named project if it exists, with whether it has
    /// managers and the sender's roles in it.
    pub bind_target: Option<(ProjectRef, bool, Vec<Role>)>,
    /// Members and aliases, for the names commands mention.
    pub people: Directory,
}

/// A change a slash command asks for, executed by storage.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminCommand {
    Bind { project: String, create: bool, kind: GroupKind, parent_task: Option<String>, make_sender_pm: bool },
    SetRole { project_id: i64, member: String, role: Role },
    AddMilestone { project_id: i64, name: String, due: Option<Timestamp> },
    SetGoal { project_id: i64, name: String, target: Option<f64>, current: Option<f64>, unit: Option<String>, deadline: Option<Timestamp> },
    AddRisk { project_id: i64, title: String, probability: Level, impact: Level, owner: Option<String>, mitigation: Option<String> },
    RecordDecision { project_id: Option<i64>, text: String },
    GiveKudos { project_id: Option<i64>, member: String, reason: String },
    SetSetting { key: String, value: String },
    /// From now on `alias` means this member; `previous` is the member it
    /// meant until now, if another.
    SetAlias { alias: String, member_id: i64, member: String, previous: Option<String> },
}

/// A read a slash command asks for, answered by storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminQuery {
    Tasks { project_id: i64, scope: ListScope },
    Stars,
}

/// The outcome of deciding about a slash command.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminDecision {
    pub command: Option<AdminCommand>,
    pub query: Option<AdminQuery>,
    pub replies: Vec<Reply>,
}

impl AdminSnapshot {
    fn manages(&self) -> bool {
        !self.project_has_managers || self.actor.roles.iter().any(|r| r.manages())
    }

    fn is_pm(&self) -> bool {
        !self.project_has_managers || self.actor.roles.contains(&Role::Pm)
    }
}

fn say(reply: Reply) -> AdminDecision {
    AdminDecision { replies: vec![reply], ..Default::default() }
}

fn change(command: AdminCommand) -> AdminDecision {
    AdminDecision { command: Some(command), ..Default::default() }
}

/// The member a command names: a display name, an alias, or a clearly new
/// name (registered by storage). A name that could be someone already known
/// is asked about instead of becoming a phantom member.
fn member_named(name: &str, snap: &AdminSnapshot) -> Result<String, Box<AdminDecision>> {
    match snap.people.resolve(name) {
        NameMatch::Member(p) => Ok(p.name),
        NameMatch::New => Ok(clean(name).to_string()),
        NameMatch::Unsure(candidates) => Err(Box::new(say(Reply::AskWhichMember { name: clean(name).to_string(), candidates }))),
    }
}

/// `/别名 老李 = 李建国`: the member must exist (by full name or alias); the
/// alias must not be somebody's display name.
fn set_alias(alias: &str, member: &str, snap: &AdminSnapshot) -> AdminDecision {
    let alias = clean(alias).to_string();
    let target = match snap.people.resolve(member) {
        NameMatch::Member(p) => p,
        NameMatch::Unsure(candidates) => return say(Reply::UnknownMember { name: clean(member).to_string(), alias, candidates }),
        NameMatch::New => return say(Reply::UnknownMember { name: clean(member).to_string(), alias, candidates: Vec::new() }),
    };
    if let Some(p) = snap.people.members.iter().find(|p| p.name == alias) {
        return say(Reply::AliasIsAName { alias, member: p.name.clone() });
    }
    let key = alias_key(&alias);
    let previous = snap
        .people
        .aliases
        .iter()
        .find(|(k, id)| *k == key && *id != target.id)
        .and_then(|(_, id)| snap.people.by_id(*id))
        .map(|p| p.name.clone());
    change(AdminCommand::SetAlias { alias, member_id: target.id, member: target.name, previous })
}

/// Decides what a slash command does given the sender and the group's state.
pub fn decide(cmd: &BotCommand, snap: &AdminSnapshot) -> AdminDecision {
    let need_project = || say(Reply::NotBound);
    let refuse = |what: ManagerAction| say(Reply::NeedsManager { what });
    match cmd {
        BotCommand::Help => say(Reply::Help),
        BotCommand::Usage { usage, .. } => say(Reply::Usage { usage: usage.clone() }),
        BotCommand::Unknown { name } => say(Reply::UnknownCommand { name: name.clone() }),
        BotCommand::Bind { project, kind, parent_task } => {
            let kind = match kind {
                BindKind::Master => GroupKind::Master,
                BindKind::Subtask => GroupKind::Subtask,
                BindKind::Support => GroupKind::Support,
            };
            // Re-binding a bound group is a manager's call in the current project.
            if snap.project.is_some() && !snap.manages() {
                return refuse(ManagerAction::Rebind);
            }
            match &snap.bind_target {
                Some((_, has_managers, roles)) if *has_managers && !roles.iter().any(|r| r.manages()) => refuse(ManagerAction::BindToProject),
                Some((_, has_managers, _)) => change(AdminCommand::Bind {
                    project: project.clone(),
                    create: false,
                    kind,
                    parent_task: parent_task.as_deref().map(canonical_reference),
                    make_sender_pm: !has_managers,
                }),
                None if kind == GroupKind::Subtask => say(Reply::UnknownProject { name: project.clone() }),
                None => change(AdminCommand::Bind { project: project.clone(), create: true, kind, parent_task: None, make_sender_pm: true }),
            }
        }
        BotCommand::SetRole { member, role } => {
            let Some(p) = &snap.project else { return need_project() };
            let role: Role = role.parse().unwrap_or(Role::Executor);
            let allowed = match role {
                Role::Pm | Role::Supervisor | Role::Lead => snap.is_pm(),
                Role::Executor | Role::Viewer => snap.manages(),
            };
            if !allowed {
                return refuse(if matches!(role, Role::Executor | Role::Viewer) { ManagerAction::SetRole } else { ManagerAction::AppointManager });
            }
            match member_named(member, snap) {
                Ok(member) => change(AdminCommand::SetRole { project_id: p.id, member, role }),
                Err(ask) => *ask,
            }
        }
        BotCommand::List { scope } => match &snap.project {
            Some(p) => AdminDecision { query: Some(AdminQuery::Tasks { project_id: p.id, scope: *scope }), ..Default::default() },
            None => need_project(),
        },
        BotCommand::Stars => AdminDecision { query: Some(AdminQuery::Stars), ..Default::default() },
        BotCommand::Milestone { name, due, due_text } => {
            let Some(p) = &snap.project else { return need_project() };
            if !snap.manages() {
                return refuse(ManagerAction::AddMilestone);
            }
            if let (None, Some(text)) = (due, due_text) {
                return say(Reply::DeadlineUnclear { subject: name.clone(), text: text.clone() });
            }
            change(AdminCommand::AddMilestone { project_id: p.id, name: name.clone(), due: due.as_ref().map(|z| z.timestamp()) })
        }
        BotCommand::Goal { name, target, current, unit, deadline } => {
            let Some(p) = &snap.project else { return need_project() };
            if !snap.manages() {
                return refuse(ManagerAction::SetGoal);
            }
            change(AdminCommand::SetGoal {
                project_id: p.id,
                name: name.clone(),
                target: *target,
                current: *current,
                unit: unit.clone(),
                deadline: deadline.as_ref().map(|z| z.timestamp()),
            })
        }
        BotCommand::Risk { title, probability, impact, owner, mitigation } => {
            let Some(p) = &snap.project else { return need_project() };
            let owner = match owner.as_deref().map(|o| member_named(o, snap)).transpose() {
                Ok(owner) => owner,
                Err(ask) => return *ask,
            };
            change(AdminCommand::AddRisk {
                project_id: p.id,
                title: title.clone(),
                probability: probability.unwrap_or(Level::Medium),
                impact: impact.unwrap_or(Level::Medium),
                owner,
                mitigation: mitigation.clone(),
            })
        }
        BotCommand::Decision { text } => change(AdminCommand::RecordDecision { project_id: snap.project.as_ref().map(|p| p.id), text: text.clone() }),
        BotCommand::Kudos { member, reason } => {
            let member = match member_named(member, snap) {
                Ok(m) => m,
                Err(ask) => return *ask,
            };
            if member == snap.actor.name {
                return say(Reply::SelfKudos);
            }
            change(AdminCommand::GiveKudos { project_id: snap.project.as_ref().map(|p| p.id), member, reason: reason.clone() })
        }
        BotCommand::Alias { alias, member } => {
            if snap.project.is_none() {
                return need_project();
            }
            if !snap.manages() {
                return refuse(ManagerAction::SetAlias);
            }
            set_alias(alias, member, snap)
        }
        BotCommand::Setting { key, value } => {
            if !snap.manages() {
                return refuse(ManagerAction::ChangeSettings);
            }
            change(AdminCommand::SetSetting { key: key.clone(), value: value.clone() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::Person;

    fn snap(roles: Vec<Role>, managed: bool) -> AdminSnapshot {
        AdminSnapshot {
            actor: Actor { member_id: 1, name: "张三".into(), roles },
            project: Some(ProjectRef { id: 7, name: "官网改版".into() }),
            project_has_managers: managed,
            bind_target: None,
            people: Directory {
                members: [(1, "张三"), (2, "王芳"), (3, "王强"), (4, "李建国")].iter().map(|(id, n)| Person { id: *id, name: n.to_string() }).collect(),
                aliases: vec![(alias_key("老李"), 4)],
            },
        }
    }

    #[test]
    fn a_fresh_project_can_be_set_up_by_anyone() {
        let mut s = snap(vec![], false);
        s.project = None;
        let d = decide(&BotCommand::Bind { project: "新项目".into(), kind: BindKind::Master, parent_task: None }, &s);
        assert!(matches!(d.command, Some(AdminCommand::Bind { create: true, make_sender_pm: true, .. })));
    }

    #[test]
    fn executors_cannot_change_settings_or_roles_once_managed() {
        let s = snap(vec![Role::Executor], true);
        let d = decide(&BotCommand::Setting { key: "morning_time".into(), value: "09:30".into() }, &s);
        assert!(matches!(d.replies[0], Reply::NeedsManager { .. }));
        let d = decide(&BotCommand::SetRole { member: "李四".into(), role: "lead".into() }, &s);
        assert!(matches!(d.replies[0], Reply::NeedsManager { .. }));
        // but may raise a risk and thank someone
        let d = decide(&BotCommand::Risk { title: "接口延期".into(), probability: None, impact: None, owner: None, mitigation: None }, &s);
        assert!(d.command.is_some());
        let d = decide(&BotCommand::Kudos { member: "李四".into(), reason: "提前完成".into() }, &s);
        assert!(d.command.is_some());
    }

    #[test]
    fn leads_give_executor_roles_but_only_pms_appoint_leads() {
        let s = snap(vec![Role::Lead], true);
        assert!(decide(&BotCommand::SetRole { member: "李四".into(), role: "executor".into() }, &s).command.is_some());
        assert!(decide(&BotCommand::SetRole { member: "李四".into(), role: "lead".into() }, &s).command.is_none());
        let s = snap(vec![Role::Pm], true);
        assert!(decide(&BotCommand::SetRole { member: "李四".into(), role: "lead".into() }, &s).command.is_some());
    }

    #[test]
    fn binding_to_a_managed_project_needs_its_manager() {
        let mut s = snap(vec![], false);
        s.project = None;
        s.bind_target = Some((ProjectRef { id: 9, name: "官网改版".into() }, true, vec![Role::Executor]));
        let d = decide(&BotCommand::Bind { project: "官网改版".into(), kind: BindKind::Subtask, parent_task: Some("3".into()) }, &s);
        assert!(matches!(d.replies[0], Reply::NeedsManager { .. }));
        s.bind_target = Some((ProjectRef { id: 9, name: "官网改版".into() }, true, vec![Role::Lead]));
        let d = decide(&BotCommand::Bind { project: "官网改版".into(), kind: BindKind::Subtask, parent_task: Some("3".into()) }, &s);
        assert_eq!(
            d.command,
            Some(AdminCommand::Bind { project: "官网改版".into(), create: false, kind: GroupKind::Subtask, parent_task: Some("TASK-003".into()), make_sender_pm: false })
        );
    }

    #[test]
    fn aliases_are_taught_by_managers_and_name_a_real_member() {
        let alias = |a: &str, m: &str| BotCommand::Alias { alias: a.into(), member: m.into() };
        let s = snap(vec![Role::Lead], true);
        assert_eq!(
            decide(&alias("小王", "王芳"), &s).command,
            Some(AdminCommand::SetAlias { alias: "小王".into(), member_id: 2, member: "王芳".into(), previous: None })
        );
        // re-pointing an alias says whom it meant
        assert_eq!(
            decide(&alias("老李", "@王强"), &s).command,
            Some(AdminCommand::SetAlias { alias: "老李".into(), member_id: 3, member: "王强".into(), previous: Some("李建国".into()) })
        );
        // the target must be a member, not a guess
        let d = decide(&alias("小王", "王"), &s);
        assert!(d.command.is_none());
        assert!(matches!(&d.replies[..], [Reply::UnknownMember { name, .. }] if name == "王"), "{d:?}");
        let d = decide(&alias("小李", "李建"), &s);
        assert!(matches!(&d.replies[..], [Reply::UnknownMember { candidates, .. }] if candidates == &vec!["李建国".to_string()]), "{d:?}");
        // someone's name is not an alias
        assert!(matches!(&decide(&alias("王芳", "王强"), &s).replies[..], [Reply::AliasIsAName { .. }]));
        // executors may not
        let d = decide(&alias("小王", "王芳"), &snap(vec![Role::Executor], true));
        assert_eq!(d.replies, vec![Reply::NeedsManager { what: ManagerAction::SetAlias }]);
        // anyone may before the project has managers
        assert!(decide(&alias("小王", "王芳"), &snap(vec![], false)).command.is_some());
    }

    #[test]
    fn commands_ask_who_an_unclear_name_is() {
        let s = snap(vec![Role::Pm], true);
        let d = decide(&BotCommand::SetRole { member: "小王".into(), role: "lead".into() }, &s);
        assert!(d.command.is_none());
        assert_eq!(d.replies, vec![Reply::AskWhichMember { name: "小王".into(), candidates: vec!["王芳".into(), "王强".into()] }]);
        let d = decide(&BotCommand::Kudos { member: "老李".into(), reason: "提前完成".into() }, &s);
        assert!(matches!(d.command, Some(AdminCommand::GiveKudos { ref member, .. }) if member == "李建国"), "{d:?}");
        let d = decide(&BotCommand::SetRole { member: "赵六".into(), role: "executor".into() }, &s);
        assert!(matches!(d.command, Some(AdminCommand::SetRole { ref member, .. }) if member == "赵六"));
    }

    #[test]
    fn nobody_stars_themselves() {
        let d = decide(&BotCommand::Kudos { member: "张三".into(), reason: "我真棒".into() }, &snap(vec![], false));
        assert_eq!(d.replies, vec![Reply::SelfKudos]);
    }
}
