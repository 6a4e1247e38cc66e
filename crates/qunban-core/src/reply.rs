//! What the bot says back, in Simplified Chinese by default or English.
//!
//! Replies are data until the last moment, so the same outcome can be written
//! for WeCom, DingTalk or the playground, and tested without string matching
//! on the decision logic.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::command::FieldChange;
use crate::interpret::Refusal;
use crate::model::{Locale, TaskStatus};
use crate::task::TaskError;

/// One thing the bot reports or asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Created { reference: String, title: String, owners: Vec<String>, due: Option<Timestamp> },
    /// A new task asked for a reference another task already has: it got
    /// the next free one instead.
    ReferenceTaken { requested: String, taken_by: String, assigned: String },
    Updated { reference: String, title: String, changes: Vec<FieldChange>, owners: Vec<String> },
    NothingToChange { reference: String },
    StandupRecorded { member: String },
    AskOwner { title: String },
    /// An owner name that could be someone already known: which member?
    /// Nothing was created or changed.
    AskWhichMember { name: String, candidates: Vec<String> },
    AskTitle { reference: Option<String> },
    AskDeadline { title: String, candidates: Vec<Timestamp> },
    DeadlineUnclear { subject: String, text: String },
    UnknownTask { reference: String },
    NotBound,
    /// A support group serves several projects: which one is meant?
    AskProject { subject: String, candidates: Vec<String> },
    UnknownProject { name: String },
    Bound { project: String, kind: crate::model::GroupKind, created: bool, made_pm: bool, parent_task: Option<String> },
    RoleSet { member: String, role: crate::model::Role },
    MilestoneAdded { name: String, due: Option<Timestamp> },
    GoalSet { name: String, target: Option<f64>, current: Option<f64>, unit: Option<String>, deadline: Option<Timestamp> },
    RiskAdded { id: i64, title: String },
    DecisionRecorded { id: i64 },
    KudosGiven { member: String, reason: String },
    SelfKudos,
    SettingSaved { key: String, value: String },
    /// The sender may not do this; a PM or a lead (or only a PM) may.
    NeedsManager { what: ManagerAction },
    Help,
    Usage { usage: String },
    UnknownCommand { name: String },
    /// A rendered list (tasks, stars): a heading and one line per item.
    Listing { heading: String, lines: Vec<String>, empty: String },
    Refused { subject: String, reason: Refusal },
    /// `/别名 alias = name` where `name` is no member (or could be several).
    UnknownMember { name: String, alias: String, candidates: Vec<String> },
    /// `/别名 王芳 = …`: that is already a member's own name.
    AliasIsAName { alias: String, member: String },
    /// From now on `alias` means `member` (until now: `previous`).
    AliasSet { alias: String, member: String, previous: Option<String> },
    /// A change the task rules refuse, with the rule that refused it.
    Invalid { subject: String, error: TaskError },
    /// A possible task the text did not clearly ask for: create it?
    ConfirmTask { title: String, owners: Vec<String> },
    /// The sender said no to [`Reply::ConfirmTask`].
    NotCreated { title: String },
    /// Leads the outcome of a correction (`不对，是下周一`).
    Corrected,
    /// Leads the outcome of an undo.
    Undone,
    /// An undo with nothing (left) to undo.
    NothingToUndo,
}

/// What a refused slash command wanted to do, so the refusal can say it in
/// the group's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerAction {
    /// Re-binding a bound group.
    Rebind,
    /// Binding a group to a project that has managers.
    BindToProject,
    /// Giving someone the executor or viewer role.
    SetRole,
    /// Appointing a PM, lead or supervisor: PMs only.
    AppointManager,
    AddMilestone,
    SetGoal,
    ChangeSettings,
    SetAlias,
}

impl ManagerAction {
    fn zh(self) -> &'static str {
        match self {
            ManagerAction::Rebind => "重新绑定本群",
            ManagerAction::BindToProject => "把群绑定到该项目",
            ManagerAction::SetRole => "设置角色",
            ManagerAction::AppointManager => "任命项目经理、组长或监督",
            ManagerAction::AddMilestone => "添加里程碑",
            ManagerAction::SetGoal => "设置目标",
            ManagerAction::ChangeSettings => "修改本群设置",
            ManagerAction::SetAlias => "设置成员别名",
        }
    }

    fn en(self) -> &'static str {
        match self {
            ManagerAction::Rebind => "re-bind this group",
            ManagerAction::BindToProject => "bind a group to that project",
            ManagerAction::SetRole => "give roles",
            ManagerAction::AppointManager => "appoint a PM, lead or supervisor",
            ManagerAction::AddMilestone => "add milestones",
            ManagerAction::SetGoal => "set goals",
            ManagerAction::ChangeSettings => "change this group's settings",
            ManagerAction::SetAlias => "set member aliases",
        }
    }
}

/// A task rule's refusal in words, with what to send instead. `subject` is
/// the task's reference (`TASK-003`) or, for a task not created yet, its title.
fn task_error_in_words(subject: &str, error: &TaskError, locale: Locale) -> String {
    let zh = locale == Locale::Zh;
    let r = if subject.starts_with("TASK-") { subject.to_string() } else { "3".to_string() };
    match error {
        TaskError::ProgressOutOfRange(v) => {
            let example = if subject.starts_with("TASK-") { format!("#{subject} 进度60%") } else { "【进度】60%".to_string() };
            if zh {
                format!("进度要在 0 到 100 之间（收到 {v}）。请重新发送，例如：{example}")
            } else {
                format!("progress must be between 0 and 100 (got {v}). Send it again, e.g. {example}")
            }
        }
        TaskError::ClosedTask { reference, status } => {
            if zh {
                format!("#{reference} {}，不能再改进度。如需继续，请先发送：#{reference} 进行中", status.zh())
            } else {
                format!("#{reference} is {}; to change its progress, reopen it first: #{reference} in progress", status.as_str().replace('_', " "))
            }
        }
        TaskError::CancelledToDone => {
            if zh {
                format!("已取消的任务不能直接标记完成。请先发送：#{r} 进行中，再发送：#{r} 已完成")
            } else {
                format!("a cancelled task cannot be marked done directly. Send #{r} in progress first, then #{r} done")
            }
        }
        TaskError::EmptyTitle => {
            if zh {
                "任务标题不能为空，请在【标题】后写上标题再发一次。".to_string()
            } else {
                "a task needs a title; write it after 【标题】 and send again.".to_string()
            }
        }
    }
}

/// Renders a deadline in words: `1月15日（周四）15:00`, or `1月15日（周四）`
/// for an end-of-day deadline.
pub fn deadline_in_words(t: Timestamp, tz: &TimeZone, locale: Locale) -> String {
    let z = t.to_zoned(tz.clone());
    let end_of_day = z.hour() == 23 && z.minute() == 59;
    match locale {
        Locale::Zh => {
            let wd = ["一", "二", "三", "四", "五", "六", "日"][z.weekday().to_monday_zero_offset() as usize];
            let day = format!("{}月{}日（周{}）", z.month(), z.day(), wd);
            if end_of_day { format!("{day}前") } else { format!("{day}{:02}:{:02}", z.hour(), z.minute()) }
        }
        Locale::En => {
            if end_of_day { z.strftime("end of %a %b %-d").to_string() } else { z.strftime("%a %b %-d %H:%M").to_string() }
        }
    }
}

fn status_word(s: &str, locale: Locale) -> String {
    match (s.parse::<TaskStatus>(), locale) {
        (Ok(st), Locale::Zh) => st.zh().to_string(),
        _ => s.replace('_', " "),
    }
}

/// Renders one reply line.
pub fn render(reply: &Reply, tz: &TimeZone, locale: Locale) -> String {
    let due = |t: &Option<Timestamp>| match t {
        Some(t) => deadline_in_words(*t, tz, locale),
        None => match locale {
            Locale::Zh => "未设截止时间".into(),
            Locale::En => "no deadline".into(),
        },
    };
    let zh = locale == Locale::Zh;
    match reply {
        Reply::Created { reference, title, owners, due: d } => {
            if zh {
                format!("✅ 已创建 #{reference}「{title}」，负责人：{}，截止：{}", owners.join("、"), due(d))
            } else {
                format!("✅ Created #{reference} \"{title}\", owner: {}, due: {}", owners.join(", "), due(d))
            }
        }
        Reply::ReferenceTaken { requested, taken_by, assigned } => {
            if zh {
                format!("ℹ️ {requested} 已被「{taken_by}」占用，新任务编号为 {assigned}。")
            } else {
                format!("ℹ️ {requested} is already taken by \"{taken_by}\"; the new task is {assigned}.")
            }
        }
        Reply::Updated { reference, title, changes, owners } => {
            let parts: Vec<String> = changes.iter().map(|c| change_in_words(c, owners, tz, locale)).collect();
            let sep = if zh { "，" } else { ", " };
            if reopens(changes) {
                return if zh {
                    format!("🔁 #{reference} 已重新打开「{title}」：{}", parts.join(sep))
                } else {
                    format!("🔁 #{reference} reopened \"{title}\": {}", parts.join(sep))
                };
            }
            if zh {
                format!("🔄 #{reference}「{title}」已更新：{}", parts.join(sep))
            } else {
                format!("🔄 #{reference} \"{title}\" updated: {}", parts.join(sep))
            }
        }
        Reply::NothingToChange { reference } => {
            if zh { format!("#{reference} 没有变化。") } else { format!("#{reference} is unchanged.") }
        }
        Reply::StandupRecorded { member } => {
            if zh { format!("📝 已记录 {member} 的日报。") } else { format!("📝 Stand-up from {member} recorded.") }
        }
        Reply::AskOwner { title } => {
            if zh {
                format!("❓「{title}」由谁负责？请回复 @负责人（例如：@张三），或带上 @负责人 再发一次。")
            } else {
                format!("❓ Who owns \"{title}\"? Reply with the @owner, or send it again with one.")
            }
        }
        Reply::AskWhichMember { name, candidates } => {
            let first = candidates.first().cloned().unwrap_or_default();
            let at: Vec<String> = candidates.iter().map(|c| format!("@{c}")).collect();
            match (candidates.len(), zh) {
                (1, true) => format!("❓「{name}」是指 {} 吗？请用全名重新发送，或 /别名 {name} = {first}", at[0]),
                (_, true) => {
                    let (last, rest) = at.split_last().map(|(l, r)| (l.clone(), r.join("、"))).unwrap_or_default();
                    format!("❓「{name}」是指 {rest} 还是 {last}？请用全名重新发送，或 /别名 {name} = {first}")
                }
                (1, false) => format!("❓ Is \"{name}\" {}? Please send it again with the full name, or teach me: /alias {name} = {first}", at[0]),
                (_, false) => {
                    let (last, rest) = at.split_last().map(|(l, r)| (l.clone(), r.join(", "))).unwrap_or_default();
                    format!("❓ Who is \"{name}\": {rest} or {last}? Please send it again with the full name, or teach me: /alias {name} = {first}")
                }
            }
        }
        Reply::UnknownMember { name, alias, candidates } => {
            let at: Vec<String> = candidates.iter().map(|c| format!("@{c}")).collect();
            let example = candidates.first().cloned();
            match (example, zh) {
                (Some(full), true) => format!("❓ 没有叫「{name}」的成员，是指 {} 吗？请写成员全名：/别名 {alias} = {full}", at.join(" 还是 ")),
                (None, true) => format!("❓ 没有叫「{name}」的成员。请写成员全名：/别名 {alias} = 全名"),
                (Some(full), false) => format!("❓ No member is called \"{name}\"; did you mean {}? Send the full name: /alias {alias} = {full}", at.join(" or ")),
                (None, false) => format!("❓ No member is called \"{name}\". Send the member's full name: /alias {alias} = <full name>"),
            }
        }
        Reply::AliasIsAName { alias, member } => {
            if zh {
                format!("❓「{alias}」是成员 @{member} 的名字，不能作为别名。请换一个称呼再发送。")
            } else {
                format!("❓ \"{alias}\" is the name of @{member}, so it cannot be an alias. Please send another nickname.")
            }
        }
        Reply::AliasSet { alias, member, previous } => {
            let was = match (previous, zh) {
                (Some(p), true) => format!("（原来指 @{p}）"),
                (Some(p), false) => format!(" (it meant @{p} until now)"),
                (None, _) => String::new(),
            };
            if zh { format!("🏷️ 记住了：「{alias}」就是 @{member}{was}。") } else { format!("🏷️ Noted: \"{alias}\" means @{member}{was}.") }
        }
        Reply::AskTitle { reference } => {
            let r = reference.as_deref().map(|r| format!("#{r} ")).unwrap_or_default();
            if zh { format!("❓ 任务 {r}缺少标题，请补充【标题】。") } else { format!("❓ Task {r}has no title; please add one.") }
        }
        Reply::AskDeadline { title, candidates } => {
            let opts: Vec<String> = candidates.iter().map(|t| deadline_in_words(*t, tz, locale)).collect();
            if zh {
                format!("❓「{title}」的截止时间是哪个：{}？请回复其中一个。", opts.join(" 还是 "))
            } else {
                format!("❓ Which deadline for \"{title}\": {}? Reply with one of them.", opts.join(" or "))
            }
        }
        Reply::DeadlineUnclear { subject, text } => {
            if zh {
                format!("❓ 没看懂「{subject}」的截止时间「{text}」，请写明日期，例如：1月15日 下午3点。")
            } else {
                format!("❓ Could not read the deadline \"{text}\" of \"{subject}\"; please give a date.")
            }
        }
        Reply::UnknownTask { reference } => {
            if zh {
                format!("❓ 没有找到任务 #{reference}，请检查编号（发送 /任务 查看列表）。")
            } else {
                format!("❓ No task #{reference}; check the reference (send /tasks for the list).")
            }
        }
        Reply::NotBound => {
            if zh {
                "ℹ️ 本群还没有绑定项目。请发送：/绑定 项目名 总控群（或 子任务群 / 支持群）。".into()
            } else {
                "ℹ️ This group is not bound to a project yet. Send: /bind <project> master".into()
            }
        }
        Reply::AskProject { subject, candidates } => {
            if zh {
                format!("❓ 本群服务多个项目（{}），「{subject}」属于哪个？请加上【所属项目】再发一次。", candidates.join("、"))
            } else {
                format!("❓ This group serves several projects ({}); which one is \"{subject}\" for? Add 【所属项目】 and send again.", candidates.join(", "))
            }
        }
        Reply::UnknownProject { name } => {
            if zh {
                format!("❓ 没有名为「{name}」的项目。子任务群请先在总控群绑定项目：/绑定 {name} 总控群")
            } else {
                format!("❓ No project named \"{name}\". Bind its master group first: /bind {name} master")
            }
        }
        Reply::Bound { project, kind, created, made_pm, parent_task } => {
            let kind_zh = match kind {
                crate::model::GroupKind::Master => "总控群",
                crate::model::GroupKind::Subtask => "子任务群",
                crate::model::GroupKind::Support => "支持群",
                crate::model::GroupKind::Unbound => "未绑定",
            };
            let mut s = if zh { format!("🔗 本群已绑定到项目「{project}」（{kind_zh}）") } else { format!("🔗 This group is now the {kind} group of \"{project}\"") };
            if let Some(t) = parent_task {
                s += &if zh { format!("，对应任务 #{t}") } else { format!(", under #{t}") };
            }
            if *created {
                s += if zh { "。新项目已创建" } else { ". New project created" };
            }
            if *made_pm {
                s += if zh { "，你是项目经理" } else { "; you are its PM" };
            }
            s += if zh { "。发送 /帮助 查看命令。" } else { ". Send /help for commands." };
            s
        }
        Reply::RoleSet { member, role } => {
            let role_zh = match role {
                crate::model::Role::Pm => "项目经理",
                crate::model::Role::Lead => "组长",
                crate::model::Role::Executor => "执行人",
                crate::model::Role::Supervisor => "监督",
                crate::model::Role::Viewer => "观察员",
            };
            if zh { format!("👤 已设置 {member} 为{role_zh}。") } else { format!("👤 {member} is now {role}.") }
        }
        Reply::MilestoneAdded { name, due: d } => {
            if zh { format!("🚩 已添加里程碑「{name}」，日期：{}", due(d)) } else { format!("🚩 Milestone \"{name}\" added, date: {}", due(d)) }
        }
        Reply::GoalSet { name, target, current, unit, deadline } => {
            let u = unit.clone().unwrap_or_default();
            let mut parts = Vec::new();
            if let Some(t) = target {
                parts.push(if zh { format!("目标 {t}{u}") } else { format!("target {t}{u}") });
            }
            if let Some(c) = current {
                parts.push(if zh { format!("当前 {c}{u}") } else { format!("now {c}{u}") });
            }
            if let (Some(t), Some(c)) = (target, current) {
                if *t != 0.0 {
                    parts.push(format!("{:.0}%", (c / t * 100.0).clamp(0.0, 999.0)));
                }
            }
            if deadline.is_some() {
                parts.push(if zh { format!("截止 {}", due(deadline)) } else { format!("due {}", due(deadline)) });
            }
            if zh { format!("🎯 目标「{name}」：{}", parts.join("，")) } else { format!("🎯 Goal \"{name}\": {}", parts.join(", ")) }
        }
        Reply::RiskAdded { id, title } => {
            if zh { format!("⚠️ 已登记风险 R{id}「{title}」。") } else { format!("⚠️ Risk R{id} \"{title}\" logged.") }
        }
        Reply::DecisionRecorded { id } => {
            if zh { format!("📌 已记录决议 D{id}。") } else { format!("📌 Decision D{id} recorded.") }
        }
        Reply::KudosGiven { member, reason } => {
            if zh { format!("👍 已为 {member} 点赞：{reason}") } else { format!("👍 Kudos to {member}: {reason}") }
        }
        Reply::SelfKudos => {
            if zh { "😄 不能给自己点赞哦，夸夸同事吧：/点赞 @同事 理由".into() } else { "😄 You can't thank yourself — thank a colleague: /kudos @colleague reason".into() }
        }
        Reply::SettingSaved { key, value } if key.ends_with("_enabled") => {
            let rule = key.trim_end_matches("_enabled").parse::<crate::schedule::RuleKind>();
            let on = value == "on";
            match (rule, zh) {
                (Ok(r), true) => format!("⚙️ 已{}本群的{}。", if on { "开启" } else { "关闭" }, r.zh()),
                (Ok(r), false) => format!("⚙️ {} reminders turned {} for this group.", r.en(), if on { "on" } else { "off" }),
                (Err(_), true) => format!("⚙️ 已设置 {key}：{value}"),
                (Err(_), false) => format!("⚙️ {key} = {value}"),
            }
        }
        Reply::SettingSaved { key, value } => {
            let name = match (key.as_str(), zh) {
                ("morning_time", true) => "早报时间",
                ("digest_time", true) => "日报汇总时间",
                ("update_deadline", true) => "每日更新截止时间",
                ("weekly_time", true) => "周报时间",
                ("file_rule", true) => "文件命名规则",
                ("locale", true) => "语言",
                (k, _) => k,
            };
            if zh { format!("⚙️ 已设置{name}：{value}") } else { format!("⚙️ {name} set to {value}") }
        }
        Reply::NeedsManager { what } => match (what, zh) {
            (ManagerAction::AppointManager, true) => "🙏 抱歉，只有项目经理可以任命项目经理、组长或监督。请项目经理发送这条命令，例如：/设置 @成员 组长".to_string(),
            (ManagerAction::AppointManager, false) => "🙏 Sorry, only a PM may appoint a PM, lead or supervisor. Ask the PM to send it, e.g. /role @member lead".to_string(),
            (_, true) => format!("🙏 抱歉，只有项目经理或组长可以{}。请项目经理或组长发送这条命令。", what.zh()),
            (_, false) => format!("🙏 Sorry, only a PM or a lead may {}. Ask a PM or lead to send this command.", what.en()),
        },
        Reply::Help => if zh { qunban_lang::command::HELP_ZH.into() } else { qunban_lang::command::HELP_EN.into() },
        Reply::Usage { usage } => if zh { format!("ℹ️ 用法：{usage}") } else { format!("ℹ️ Usage: {usage}") },
        Reply::UnknownCommand { name } => {
            if zh { format!("❓ 不认识命令 /{name}，发送 /帮助 查看可用命令。") } else { format!("❓ Unknown command /{name}; send /help.") }
        }
        Reply::Listing { heading, lines, empty } => {
            if lines.is_empty() { format!("{heading}\n{empty}") } else { format!("{heading}\n{}", lines.join("\n")) }
        }
        Reply::Refused { subject, reason } => match (reason, zh) {
            (Refusal::AssignOthers, true) => format!("🙏 抱歉，只有项目经理或组长可以给他人分配任务（「{subject}」未创建）。你可以把任务分给自己，或请项目经理、组长发送。"),
            (Refusal::AssignOthers, false) => format!("🙏 Sorry, only a PM or lead can assign work to others (\"{subject}\" not created). Assign it to yourself, or ask a PM or lead to send it."),
            (Refusal::NotYourTask, true) => format!("🙏 抱歉，#{subject} 不是你负责的任务，需由负责人、组长或项目经理修改。请 @负责人 自己更新，或请组长转给你：#{subject} 转给 @你"),
            (Refusal::NotYourTask, false) => format!("🙏 Sorry, #{subject} is not yours; its owner, a lead or the PM can change it. Ask the owner to update it, or a lead to hand it over: #{subject} 转给 @you"),
        },
        Reply::Invalid { subject, error } => {
            let why = task_error_in_words(subject, error, locale);
            // The subject is a task's reference, or the title of one not created.
            let existing = subject.starts_with("TASK-");
            match (existing, zh) {
                (true, true) => format!("⚠️「{subject}」未更改：{why}"),
                (false, true) => format!("⚠️「{subject}」未创建：{why}"),
                (true, false) => format!("⚠️ \"{subject}\" not changed: {why}"),
                (false, false) => format!("⚠️ \"{subject}\" not created: {why}"),
            }
        }
        Reply::ConfirmTask { title, owners } => {
            let names: Vec<String> = owners.iter().map(|o| format!("@{o}")).collect();
            match (zh, names.is_empty()) {
                (true, false) => format!("❓ 这是给 {} 的新任务吗？回复\"是\"创建：「{title}」", names.join("、")),
                (true, true) => format!("❓ 这是新任务吗？回复\"是\"创建：「{title}」"),
                (false, false) => format!("❓ Is this a new task for {}? Reply \"yes\" to create \"{title}\".", names.join(", ")),
                (false, true) => format!("❓ Is this a new task? Reply \"yes\" to create \"{title}\"."),
            }
        }
        Reply::NotCreated { title } => {
            if zh { format!("👌 好的，不创建「{title}」。") } else { format!("👌 OK, \"{title}\" not created.") }
        }
        Reply::Corrected => if zh { "✏️ 已更正：".into() } else { "✏️ Corrected:".into() },
        Reply::Undone => if zh { "↩️ 已撤销你上一条消息的改动：".into() } else { "↩️ Undid the changes of your last message:".into() },
        Reply::NothingToUndo => {
            if zh { "ℹ️ 没有可以撤销的操作（只能撤销你 30 分钟内最近一条消息的改动）。".into() } else { "ℹ️ Nothing to undo (only your last message's changes, within 30 minutes).".into() }
        }
    }
}

/// A closed task (done, cancelled) becomes open again.
fn reopens(changes: &[FieldChange]) -> bool {
    changes.iter().any(|c| {
        c.field == "status"
            && c.old.as_deref().and_then(|s| s.parse::<TaskStatus>().ok()).is_some_and(|s| s.is_closed())
            && c.new.as_deref().and_then(|s| s.parse::<TaskStatus>().ok()).is_some_and(|s| !s.is_closed())
    })
}

fn change_in_words(c: &FieldChange, owners: &[String], tz: &TimeZone, locale: Locale) -> String {
    let zh = locale == Locale::Zh;
    let new = c.new.clone().unwrap_or_default();
    match c.field {
        "status" => {
            let s = status_word(&new, locale);
            if zh { format!("状态 → {s}") } else { format!("status → {s}") }
        }
        "progress" => {
            if zh { format!("进度 → {new}%") } else { format!("progress → {new}%") }
        }
        "due" => {
            let words = new.parse::<Timestamp>().map(|t| deadline_in_words(t, tz, locale)).unwrap_or(new);
            if zh { format!("截止 → {words}") } else { format!("due → {words}") }
        }
        "owners" => {
            if zh { format!("负责人 → {}", owners.join("、")) } else { format!("owner → {}", owners.join(", ")) }
        }
        "priority" => format!("{} → {}", if zh { "优先级" } else { "priority" }, new.to_uppercase()),
        "note" => format!("{} → {new}", if zh { "备注" } else { "note" }),
        "title" => format!("{} → {new}", if zh { "标题" } else { "title" }),
        other => format!("{other} → {new}"),
    }
}

/// Renders several replies as one chat message (one line each).
pub fn render_all(replies: &[Reply], tz: &TimeZone, locale: Locale) -> Option<String> {
    (!replies.is_empty()).then(|| replies.iter().map(|r| render(r, tz, locale)).collect::<Vec<_>>().join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupKind, Role};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// One of each reply the bot can give, with every refusal reason, task
    /// rule and managed action; the match below has no wildcard, so a new
    /// variant cannot be added without being listed here.
    fn every_reply() -> Vec<Reply> {
        let t = Some(ts("2026-01-15T07:00:00Z"));
        let mut all = vec![
            Reply::Created { reference: "TASK-001".into(), title: "需求文档".into(), owners: vec!["李四".into()], due: t },
            Reply::Created { reference: "TASK-002".into(), title: "需求文档".into(), owners: vec!["李四".into()], due: None },
            Reply::ReferenceTaken { requested: "TASK-004".into(), taken_by: "登录页".into(), assigned: "TASK-034".into() },
            Reply::Updated {
                reference: "TASK-001".into(),
                title: "需求文档".into(),
                changes: ["title", "status", "progress", "due", "priority", "note", "owners"]
                    .iter()
                    .map(|f| FieldChange {
                        field: f,
                        old: None,
                        new: Some(match *f {
                            "status" => "in_progress".into(),
                            "progress" => "60".into(),
                            "due" => "2026-01-15T07:00:00Z".into(),
                            "priority" => "p1".into(),
                            _ => "新的值".into(),
                        }),
                    })
                    .collect(),
                owners: vec!["李四".into(), "王五".into()],
            },
            Reply::NothingToChange { reference: "TASK-001".into() },
            Reply::StandupRecorded { member: "张三".into() },
            Reply::AskOwner { title: "需求文档".into() },
            Reply::AskWhichMember { name: "小王".into(), candidates: vec!["王芳".into(), "王强".into()] },
            Reply::AskWhichMember { name: "小王".into(), candidates: vec!["王芳".into(), "王强".into(), "王五".into()] },
            Reply::AskWhichMember { name: "李建".into(), candidates: vec!["李建国".into()] },
            Reply::AskTitle { reference: Some("TASK-001".into()) },
            Reply::AskTitle { reference: None },
            Reply::AskDeadline { title: "需求文档".into(), candidates: vec![ts("2026-01-16T15:59:59Z"), ts("2026-01-19T15:59:59Z")] },
            Reply::DeadlineUnclear { subject: "需求文档".into(), text: "待定".into() },
            Reply::UnknownTask { reference: "9".into() },
            Reply::NotBound,
            Reply::AskProject { subject: "需求文档".into(), candidates: vec!["官网改版".into(), "小程序".into()] },
            Reply::UnknownProject { name: "官网".into() },
            Reply::RiskAdded { id: 1, title: "接口延期".into() },
            Reply::DecisionRecorded { id: 2 },
            Reply::KudosGiven { member: "李四".into(), reason: "提前完成".into() },
            Reply::SelfKudos,
            Reply::UnknownMember { name: "李建".into(), alias: "老李".into(), candidates: vec!["李建国".into()] },
            Reply::UnknownMember { name: "王".into(), alias: "小王".into(), candidates: vec!["王芳".into(), "王强".into()] },
            Reply::UnknownMember { name: "赵".into(), alias: "小赵".into(), candidates: vec![] },
            Reply::AliasIsAName { alias: "王芳".into(), member: "王芳".into() },
            Reply::AliasSet { alias: "老李".into(), member: "李建国".into(), previous: None },
            Reply::AliasSet { alias: "老李".into(), member: "李建国".into(), previous: Some("李强".into()) },
            Reply::MilestoneAdded { name: "上线".into(), due: t },
            Reply::GoalSet { name: "满意度".into(), target: Some(4.5), current: Some(4.2), unit: Some("分".into()), deadline: t },
            Reply::Help,
            Reply::Usage { usage: "/设置 早报 09:00".into() },
            Reply::UnknownCommand { name: "不存在".into() },
            Reply::Listing { heading: "📋 进行中的任务（0）".into(), lines: vec![], empty: "暂无。".into() },
            Reply::ConfirmTask { title: "整理周报".into(), owners: vec!["李四".into()] },
            Reply::NotCreated { title: "整理周报".into() },
            Reply::Corrected,
            Reply::Undone,
            Reply::NothingToUndo,
        ];
        for kind in GroupKind::ALL {
            all.push(Reply::Bound { project: "官网改版".into(), kind: *kind, created: true, made_pm: true, parent_task: Some("TASK-003".into()) });
        }
        for role in Role::ALL {
            all.push(Reply::RoleSet { member: "李四".into(), role: *role });
        }
        for key in ["morning_time", "digest_time", "update_deadline", "weekly_time", "file_rule", "locale", "morning_enabled", "overdue_enabled", "milestone_enabled", "due_soon_enabled", "digest_enabled", "weekly_enabled"] {
            all.push(Reply::SettingSaved { key: key.into(), value: "on".into() });
        }
        for what in [
            ManagerAction::Rebind,
            ManagerAction::BindToProject,
            ManagerAction::SetRole,
            ManagerAction::AppointManager,
            ManagerAction::AddMilestone,
            ManagerAction::SetGoal,
            ManagerAction::ChangeSettings,
            ManagerAction::SetAlias,
        ] {
            all.push(Reply::NeedsManager { what });
        }
        for reason in [Refusal::AssignOthers, Refusal::NotYourTask] {
            all.push(Reply::Refused { subject: "TASK-003".into(), reason });
        }
        for status in TaskStatus::ALL {
            all.push(Reply::Invalid { subject: "TASK-003".into(), error: TaskError::ClosedTask { reference: "TASK-003".into(), status: *status } });
        }
        for error in [TaskError::ProgressOutOfRange(150), TaskError::CancelledToDone, TaskError::EmptyTitle] {
            all.push(Reply::Invalid { subject: "TASK-003".into(), error: error.clone() });
            all.push(Reply::Invalid { subject: "需求文档".into(), error });
        }
        for r in &all {
            // Exhaustive on purpose: see above.
            match r {
                Reply::Created { .. }
                | Reply::ReferenceTaken { .. }
                | Reply::Updated { .. }
                | Reply::NothingToChange { .. }
                | Reply::StandupRecorded { .. }
                | Reply::AskOwner { .. }
                | Reply::AskWhichMember { .. }
                | Reply::AskTitle { .. }
                | Reply::AskDeadline { .. }
                | Reply::DeadlineUnclear { .. }
                | Reply::UnknownTask { .. }
                | Reply::NotBound
                | Reply::AskProject { .. }
                | Reply::UnknownProject { .. }
                | Reply::Bound { .. }
                | Reply::RoleSet { .. }
                | Reply::MilestoneAdded { .. }
                | Reply::GoalSet { .. }
                | Reply::RiskAdded { .. }
                | Reply::DecisionRecorded { .. }
                | Reply::KudosGiven { .. }
                | Reply::SelfKudos
                | Reply::UnknownMember { .. }
                | Reply::AliasIsAName { .. }
                | Reply::AliasSet { .. }
                | Reply::SettingSaved { .. }
                | Reply::NeedsManager { .. }
                | Reply::Help
                | Reply::Usage { .. }
                | Reply::UnknownCommand { .. }
                | Reply::Listing { .. }
                | Reply::Refused { .. }
                | Reply::Invalid { .. }
                | Reply::ConfirmTask { .. }
                | Reply::NotCreated { .. }
                | Reply::Corrected
                | Reply::Undone
                | Reply::NothingToUndo => {}
            }
        }
        all
    }

    /// The longest run of ASCII words (letters) separated only by ASCII
    /// spaces and punctuation, e.g. 6 in `task TASK-001 is done; reopen it`.
    fn longest_english_run(text: &str) -> (usize, String) {
        let mut best = (0, String::new());
        for segment in text.split(|c: char| !c.is_ascii()) {
            let words = segment.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).count();
            if words > best.0 {
                best = (words, segment.to_string());
            }
        }
        best
    }

    #[test]
    fn the_english_detector_detects_english() {
        assert_eq!(longest_english_run("⚠️「TASK-001」未更改：task TASK-001 is done; reopen it").0, 6);
        assert!(longest_english_run("✅ 已创建 #TASK-001「需求文档」，截止：1月15日（周四）15:00").0 < 3);
    }

    #[test]
    fn a_chinese_group_never_reads_an_english_sentence() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        for reply in every_reply() {
            let text = render(&reply, &tz, Locale::Zh);
            let (words, run) = longest_english_run(&text);
            assert!(words < 3, "English in a Chinese reply ({run:?}): {text}\n{reply:?}");
            assert!(!text.trim().is_empty(), "{reply:?}");
            // and the English rendering exists too
            assert!(!render(&reply, &tz, Locale::En).trim().is_empty(), "{reply:?}");
        }
    }

    #[test]
    fn every_refusal_says_what_to_send_instead() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        for reply in every_reply() {
            let refusal = matches!(
                reply,
                Reply::NeedsManager { .. }
                    | Reply::Refused { .. }
                    | Reply::Invalid { .. }
                    | Reply::UnknownMember { .. }
                    | Reply::AliasIsAName { .. }
                    | Reply::AskWhichMember { .. }
                    | Reply::SelfKudos
                    | Reply::UnknownProject { .. }
                    | Reply::UnknownTask { .. }
                    | Reply::UnknownCommand { .. }
                    | Reply::NotBound
            );
            if !refusal {
                continue;
            }
            // Something to type (a command, a task reference, a template
            // field), or whom to ask.
            let zh = render(&reply, &tz, Locale::Zh);
            assert!(["/", "#", "【", "请项目经理", "换一个"].iter().any(|w| zh.contains(w)), "nothing to type in: {zh}");
            let en = render(&reply, &tz, Locale::En);
            let lower = en.to_lowercase();
            assert!(["/", "#", "【", "ask a pm", "ask the pm", "another nickname"].iter().any(|w| lower.contains(w)), "nothing to type in: {en}");
        }
    }

    #[test]
    fn a_progress_refusal_shows_how_to_write_it() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let r = Reply::Invalid { subject: "TASK-003".into(), error: TaskError::ProgressOutOfRange(150) };
        assert_eq!(render(&r, &tz, Locale::Zh), "⚠️「TASK-003」未更改：进度要在 0 到 100 之间（收到 150）。请重新发送，例如：#TASK-003 进度60%");
        let r = Reply::Invalid { subject: "需求文档".into(), error: TaskError::ProgressOutOfRange(150) };
        assert_eq!(render(&r, &tz, Locale::Zh), "⚠️「需求文档」未创建：进度要在 0 到 100 之间（收到 150）。请重新发送，例如：【进度】60%");
        let r = Reply::Invalid { subject: "TASK-003".into(), error: TaskError::CancelledToDone };
        assert_eq!(render(&r, &tz, Locale::Zh), "⚠️「TASK-003」未更改：已取消的任务不能直接标记完成。请先发送：#TASK-003 进行中，再发送：#TASK-003 已完成");
    }

    #[test]
    fn a_closed_task_refusal_reads_naturally() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let r = Reply::Invalid { subject: "TASK-001".into(), error: TaskError::ClosedTask { reference: "TASK-001".into(), status: TaskStatus::Done } };
        assert_eq!(render(&r, &tz, Locale::Zh), "⚠️「TASK-001」未更改：#TASK-001 已完成，不能再改进度。如需继续，请先发送：#TASK-001 进行中");
        assert_eq!(
            render(&r, &tz, Locale::En),
            "⚠️ \"TASK-001\" not changed: #TASK-001 is done; to change its progress, reopen it first: #TASK-001 in progress"
        );
    }

    #[test]
    fn reopening_and_follow_ups_read_naturally() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let change = |f: &'static str, o: &str, n: &str| FieldChange { field: f, old: Some(o.into()), new: Some(n.into()) };
        let r = Reply::Updated {
            reference: "TASK-005".into(),
            title: "登录页".into(),
            changes: vec![change("status", "done", "in_progress"), change("progress", "100", "90")],
            owners: vec![],
        };
        assert_eq!(render(&r, &tz, Locale::Zh), "🔁 #TASK-005 已重新打开「登录页」：状态 → 进行中，进度 → 90%");
        assert!(render(&r, &tz, Locale::En).starts_with("🔁 #TASK-005 reopened"));
        let r = Reply::ConfirmTask { title: "周报".into(), owners: vec!["甲".into()] };
        assert_eq!(render(&r, &tz, Locale::Zh), "❓ 这是给 @甲 的新任务吗？回复\"是\"创建：「周报」");
        assert_eq!(render(&r, &tz, Locale::En), "❓ Is this a new task for @甲? Reply \"yes\" to create \"周报\".");
    }

    #[test]
    fn deadlines_read_naturally() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let t: Timestamp = "2026-01-15T07:00:00Z".parse().unwrap();
        assert_eq!(deadline_in_words(t, &tz, Locale::Zh), "1月15日（周四）15:00");
        let eod: Timestamp = "2026-01-15T15:59:59Z".parse().unwrap();
        assert_eq!(deadline_in_words(eod, &tz, Locale::Zh), "1月15日（周四）前");
        assert_eq!(deadline_in_words(t, &tz, Locale::En), "Thu Jan 15 15:00");
    }
}
