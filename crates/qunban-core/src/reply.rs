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

/// One thing the bot reports or asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Created { reference: String, title: String, owners: Vec<String>, due: Option<Timestamp> },
    Updated { reference: String, title: String, changes: Vec<FieldChange>, owners: Vec<String> },
    NothingToChange { reference: String },
    StandupRecorded { member: String },
    AskOwner { title: String },
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
    NeedsManager { what: String },
    Help,
    Usage { usage: String },
    UnknownCommand { name: String },
    /// A rendered list (tasks, stars): a heading and one line per item.
    Listing { heading: String, lines: Vec<String>, empty: String },
    Refused { subject: String, reason: Refusal },
    Invalid { subject: String, error: String },
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
            if zh { format!("❓ 没有名为「{name}」的项目。子任务群请先在总控群绑定项目。") } else { format!("❓ No project named \"{name}\".") }
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
            if zh { "😄 不能给自己点赞哦，夸夸同事吧！".into() } else { "😄 You can't thank yourself — thank a colleague!".into() }
        }
        Reply::SettingSaved { key, value } if key.ends_with("_enabled") => {
            let rule = key.trim_end_matches("_enabled").parse::<crate::schedule::RuleKind>();
            let on = value == "on";
            match (rule, zh) {
                (Ok(r), true) => format!("⚙️ 已{}本群的{}。", if on { "开启" } else { "关闭" }, r.zh()),
                (Ok(r), false) => format!("⚙️ {} reminders turned {} for this group.", r.en(), if on { "on" } else { "off" }),
                (Err(_), _) => format!("⚙️ {key} = {value}"),
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
        Reply::NeedsManager { what } => {
            if zh { format!("🙏 抱歉，只有项目经理或组长可以{what}。") } else { format!("🙏 Sorry, only a PM or a lead may do that ({what}).") }
        }
        Reply::Help => if zh { qunban_lang::command::HELP_ZH.into() } else { qunban_lang::command::HELP_EN.into() },
        Reply::Usage { usage } => if zh { format!("ℹ️ 用法：{usage}") } else { format!("ℹ️ Usage: {usage}") },
        Reply::UnknownCommand { name } => {
            if zh { format!("❓ 不认识命令 /{name}，发送 /帮助 查看可用命令。") } else { format!("❓ Unknown command /{name}; send /help.") }
        }
        Reply::Listing { heading, lines, empty } => {
            if lines.is_empty() { format!("{heading}\n{empty}") } else { format!("{heading}\n{}", lines.join("\n")) }
        }
        Reply::Refused { subject, reason } => match (reason, zh) {
            (Refusal::AssignOthers, true) => format!("🙏 抱歉，只有项目经理或组长可以给他人分配任务（「{subject}」未创建）。"),
            (Refusal::AssignOthers, false) => format!("🙏 Sorry, only a PM or lead can assign work to others (\"{subject}\" not created)."),
            (Refusal::NotYourTask, true) => format!("🙏 抱歉，#{subject} 不是你负责的任务，需由负责人、组长或项目经理修改。"),
            (Refusal::NotYourTask, false) => format!("🙏 Sorry, #{subject} is not yours; its owner, a lead or the PM can change it."),
        },
        Reply::Invalid { subject, error } => {
            if zh { format!("⚠️「{subject}」未更改：{error}") } else { format!("⚠️ \"{subject}\" not changed: {error}") }
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
