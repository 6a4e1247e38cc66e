//! `qunban init`, `project`, `group`, `member`.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use qunban_core::{GroupKind, Locale, Role};
use qunban_store::Store;

use super::print_json;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Workspace name.
    #[arg(long, default_value = "qunban")]
    name: String,
    /// IANA time zone for deadlines and reminders.
    #[arg(long, default_value = "Asia/Shanghai")]
    timezone: String,
    /// Language of the bot's replies: zh or en.
    #[arg(long, default_value = "zh")]
    locale: Locale,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn init(a: InitArgs, store: &Store) -> Result<()> {
    let token = store.init_workspace(&a.name, &a.timezone, a.locale).await?;
    let ws = store.workspace().await?;
    if a.json {
        return print_json(&serde_json::json!({ "workspace": ws, "created": token.is_some(), "admin_token": token }));
    }
    match token {
        Some(t) => {
            println!("Workspace '{}' created ({}).", ws.name, ws.timezone);
            println!("Admin API token (shown once, keep it safe): {t}");
        }
        None => println!("Workspace '{}' already initialised; nothing changed.", ws.name),
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Add a project.
    #[command(after_help = "Examples:\n  qunban project add 官网改版 --description '2026 官网改版'")]
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    #[command(after_help = "Examples:\n  qunban project list\n  qunban project list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn project(cmd: ProjectCmd, store: &Store) -> Result<()> {
    match cmd {
        ProjectCmd::Add { name, description, json } => {
            let p = store.create_project(&name, description.as_deref()).await?;
            if json {
                print_json(&p)
            } else {
                println!("Project '{}' added (id {}).", p.name, p.id);
                Ok(())
            }
        }
        ProjectCmd::List { json } => {
            let projects = store.projects().await?;
            if json {
                return print_json(&projects);
            }
            for p in projects {
                println!("{}\t{}\t{}", p.id, p.name, p.status);
            }
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Register a chat group and bind it to a project.
    #[command(after_help = "Examples:\n  qunban group add 官网改版总控群 --chat-id wr001 --platform wecom --kind master --project 官网改版\n  qunban group add 前端小组 --chat-id wr002 --kind subtask --project 官网改版 --parent-task TASK-003\n  qunban group add 设计支持 --chat-id wr009 --kind support --project 官网改版")]
    Add {
        name: String,
        /// The platform's chat id (WeCom chatid, DingTalk conversationId, Feishu chat_id).
        #[arg(long)]
        chat_id: String,
        /// wecom, dingtalk, feishu, webhook, wechat…
        #[arg(long, default_value = "wecom")]
        platform: String,
        /// master (总控群), subtask (子任务群), support (专项支持群) or unbound.
        #[arg(long, default_value = "master")]
        kind: GroupKind,
        #[arg(long)]
        project: Option<String>,
        /// For a sub-task group: the task it works on.
        #[arg(long)]
        parent_task: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set the robot that posts the group's notifications (replies, reminders).
    #[command(after_help = "Examples:\n  qunban group set-robot 官网改版总控群 --wecom-webhook 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY'\n  qunban group set-robot 钉钉群 --dingtalk-webhook 'https://oapi.dingtalk.com/robot/send?access_token=T' --dingtalk-secret SECxxxx\n  qunban group set-robot 飞书群 --feishu-webhook https://open.feishu.cn/open-apis/bot/v2/hook/UUID --feishu-secret S")]
    SetRobot {
        /// Group name, or PLATFORM:CHAT_ID.
        group: String,
        /// WeCom group robot webhook URL (or just its key).
        #[arg(long, conflicts_with_all = ["dingtalk_webhook", "feishu_webhook"], required_unless_present_any = ["dingtalk_webhook", "feishu_webhook"])]
        wecom_webhook: Option<String>,
        /// DingTalk custom robot webhook URL.
        #[arg(long, conflicts_with = "feishu_webhook")]
        dingtalk_webhook: Option<String>,
        /// The DingTalk robot's 加签 secret (SEC…).
        #[arg(long, requires = "dingtalk_webhook")]
        dingtalk_secret: Option<String>,
        /// Feishu custom bot webhook URL.
        #[arg(long)]
        feishu_webhook: Option<String>,
        /// The Feishu bot's signature secret.
        #[arg(long, requires = "feishu_webhook")]
        feishu_secret: Option<String>,
    },
    /// List groups.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn group(cmd: GroupCmd, store: &Store) -> Result<()> {
    match cmd {
        GroupCmd::Add { name, chat_id, platform, kind, project, parent_task, json } => {
            let project = match &project {
                Some(p) => Some(store.project_by_name(p).await?),
                None => None,
            };
            let parent_task_id = match (&parent_task, &project) {
                (Some(r), Some(p)) => Some(store.task_by_ref(p.id, r).await?.task.id),
                (Some(_), None) => bail!("--parent-task needs --project"),
                _ => None,
            };
            let g = store.add_group(&platform, &chat_id, &name, kind, project.as_ref().map(|p| p.id), parent_task_id).await?;
            if json {
                print_json(&g)
            } else {
                println!("Group '{}' ({}:{}) added as {}.", g.name, g.platform, g.chat_id, g.kind);
                Ok(())
            }
        }
        GroupCmd::SetRobot { group, wecom_webhook, dingtalk_webhook, dingtalk_secret, feishu_webhook, feishu_secret } => {
            use qunban_store::RobotKind;
            let g = store.group_by_name(&group).await?;
            let (kind, url, secret) = match (wecom_webhook, dingtalk_webhook, feishu_webhook) {
                (Some(u), _, _) => (RobotKind::Wecom, u, None),
                (_, Some(u), _) => (RobotKind::Dingtalk, u, dingtalk_secret),
                (_, _, Some(u)) => (RobotKind::Feishu, u, feishu_secret),
                _ => bail!("give one of --wecom-webhook, --dingtalk-webhook, --feishu-webhook"),
            };
            store.set_group_robot(g.id, kind, &url, secret.as_deref()).await?;
            println!("Group '{}' now posts through its {} robot ({}).", g.name, kind.as_str(), qunban_store::redact_url(&url));
            Ok(())
        }
        GroupCmd::List { json } => {
            let groups = store.groups().await?;
            let projects = store.projects().await?;
            if json {
                return print_json(&groups);
            }
            for g in groups {
                let project = g.project_id.and_then(|id| projects.iter().find(|p| p.id == id)).map(|p| p.name.as_str()).unwrap_or("-");
                println!("{}\t{}\t{}:{}\t{}\t{}", g.id, g.name, g.platform, g.chat_id, g.kind, project);
            }
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Add a member.
    #[command(after_help = "Examples:\n  qunban member add 张三 --mobile 13800001111 --alias 小张 --id wecom:zhangsan --id dingtalk:manager4220")]
    Add {
        name: String,
        #[arg(long)]
        mobile: Option<String>,
        /// Another name people use for this member (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
        /// A platform identity, PLATFORM:USER_ID (repeatable).
        #[arg(long = "id")]
        identities: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List members.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give a member a role in a project: pm, lead, executor, supervisor, viewer.
    #[command(after_help = "Examples:\n  qunban member role 张三 --project 官网改版 --role pm")]
    Role {
        name: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        role: Role,
    },
    /// Names people use for members in the chat (老李 → 李建国).
    #[command(subcommand, after_help = "Examples:\n  qunban member alias add 老李 --member 李建国\n  qunban member alias list --json\n  qunban member alias remove 老李")]
    Alias(AliasCmd),
}

#[derive(Debug, Subcommand)]
pub enum AliasCmd {
    /// Teach an alias: from now on the chat's `@老李` means this member.
    /// Latin aliases match in any case and spacing (Kev = kev).
    #[command(after_help = "Examples:\n  qunban member alias add 老李 --member 李建国\n  qunban member alias add Kev --member 'Kevin Li'\n\nIn the chat, a PM or lead sends: /别名 老李 = 李建国")]
    Add {
        alias: String,
        /// The member's display name (or one of their aliases).
        #[arg(long)]
        member: String,
        #[arg(long)]
        json: bool,
    },
    /// List aliases: alias, member, and where it was taught (cli or chat).
    #[command(after_help = "Examples:\n  qunban member alias list\n  qunban member alias list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget an alias.
    #[command(after_help = "Examples:\n  qunban member alias remove 老李")]
    Remove { alias: String },
}

pub async fn member(cmd: MemberCmd, store: &Store) -> Result<()> {
    match cmd {
        MemberCmd::Add { name, mobile, aliases, identities, json } => {
            let mut ids = Vec::new();
            for i in &identities {
                match i.split_once(':') {
                    Some((p, u)) if !p.is_empty() && !u.is_empty() => ids.push((p.to_string(), u.to_string())),
                    _ => bail!("bad --id '{i}': expected PLATFORM:USER_ID, e.g. wecom:zhangsan"),
                }
            }
            if let Some(m) = &mobile {
                if !m.chars().all(|c| c.is_ascii_digit() || c == '+' || c == '-') {
                    bail!("bad --mobile '{m}': digits only");
                }
            }
            let m = store.add_member(&name, mobile.as_deref(), &aliases, &ids).await?;
            if json {
                print_json(&m)
            } else {
                println!("Member '{}' added (id {}).", m.display_name, m.id);
                Ok(())
            }
        }
        MemberCmd::List { json } => {
            let members = store.members().await?;
            if json {
                return print_json(&members);
            }
            for m in members {
                let ids: Vec<String> = m.identities.iter().map(|(p, u)| format!("{p}:{u}")).collect();
                println!("{}\t{}\t{}\t{}", m.id, m.display_name, m.mobile.as_deref().unwrap_or("-"), ids.join(","));
            }
            Ok(())
        }
        MemberCmd::Alias(cmd) => alias(cmd, store).await,
        MemberCmd::Role { name, project, role } => {
            let m = store.member_by_name(&name).await?;
            let p = store.project_by_name(&project).await?;
            store.set_role(p.id, m.id, role).await?;
            println!("{} is now {} of {}.", m.display_name, role, p.name);
            Ok(())
        }
    }
}

async fn alias(cmd: AliasCmd, store: &Store) -> Result<()> {
    match cmd {
        AliasCmd::Add { alias, member, json } => {
            let m = store.member_by_name(&member).await?;
            store.add_alias(&alias, m.id).await?;
            let alias = alias.trim().trim_start_matches('@').trim();
            if json {
                return print_json(&serde_json::json!({ "alias": alias, "member_id": m.id, "member": m.display_name }));
            }
            println!("'{alias}' now means {} (id {}).", m.display_name, m.id);
            Ok(())
        }
        AliasCmd::List { json } => {
            let aliases = store.aliases().await?;
            if json {
                return print_json(&aliases);
            }
            for a in aliases {
                println!("{}\t{}\t{}", a.alias, a.member, if a.from_chat { "chat" } else { "cli" });
            }
            Ok(())
        }
        AliasCmd::Remove { alias } => match store.remove_alias(&alias).await? {
            Some(member) => {
                println!("'{}' no longer means {member}.", alias.trim());
                Ok(())
            }
            None => bail!("no alias '{}' (see: qunban member alias list)", alias.trim()),
        },
    }
}
