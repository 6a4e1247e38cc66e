//! Slash commands typed in a group to run the project from the chat
//! (`/绑定 官网改版 总控群`, `/设置 @张三 组长`, `/任务`, `/点赞 @李四 …`).
//!
//! Commands start with `/` (or `／`), possibly after an @-mention of the bot,
//! and have Chinese names with short English aliases. Parsing is pure; what
//! a command may do is decided by the interpreter in `qunban-core`.

use jiff::Zoned;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::deadline::parse_deadline;

/// What a group is for, as named in `/绑定`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindKind {
    Master,
    Subtask,
    Support,
}

/// Which tasks a list command shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListScope {
    Open,
    Mine,
    Overdue,
    ThisWeek,
}

/// High / medium / low, for risks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    High,
    Medium,
    Low,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }
}

/// A recognised slash command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BotCommand {
    Help,
    Bind { project: String, kind: BindKind, parent_task: Option<String> },
    SetRole { member: String, role: String },
    List { scope: ListScope },
    Milestone { name: String, due: Option<Zoned>, due_text: Option<String> },
    Goal { name: String, target: Option<f64>, current: Option<f64>, unit: Option<String>, deadline: Option<Zoned> },
    Risk { title: String, probability: Option<Level>, impact: Option<Level>, owner: Option<String>, mitigation: Option<String> },
    Decision { text: String },
    Kudos { member: String, reason: String },
    Stars,
    /// `/别名 老李 = 李建国`: from now on `老李` means the member 李建国.
    Alias { alias: String, member: String },
    /// A group SOP setting (`morning_time`, `digest_time`, `update_deadline`,
    /// `file_rule`, `locale`), value already validated.
    Setting { key: String, value: String },
    /// A command that is missing what it needs: `usage` says how to write it.
    Usage { command: String, usage: String },
    Unknown { name: String },
}

/// The help text listed by `/帮助`, one command per line.
pub const HELP_ZH: &str = "可用命令：\n\
/绑定 项目名 总控群|子任务群 [TASK-003]|支持群 — 把本群绑定到项目\n\
/设置 @成员 项目经理|组长|执行人|监督|观察员 — 设置角色\n\
/设置 早报|日报|日报截止 HH:MM，/设置 文件命名 规则，/设置 语言 中文|English — 本群SOP\n\
/设置 早报|日报|周报|到期提醒|逾期提醒|里程碑提醒 开启|关闭 — 本群的提醒开关\n\
/任务 /我的任务 /逾期 /本周 — 查看任务\n\
/里程碑 名称 日期 — 添加里程碑\n\
/目标 名称 达到4.5 6月底前，/目标 名称 当前4.2 — SMART目标与进展\n\
/风险 描述 [概率高|中|低] [影响高|中|低] [@负责人] [应对：…] — 登记风险\n\
/决议 内容 — 记录决议\n\
/点赞 @成员 理由 — 每周之星，/本周之星 查看\n\
/别名 老李 = 李建国 — 记住成员的常用称呼\n\
/撤销 — 撤销机器人对你上一条消息的改动（30分钟内）\n\
/帮助 — 显示本帮助";

/// The help text in English.
pub const HELP_EN: &str = "Commands:\n\
/bind <project> master|subtask [TASK-003]|support — bind this group to a project\n\
/role @member pm|lead|executor|supervisor|viewer — set a role\n\
/set morning|digest|deadline HH:MM, /set file <rule>, /set lang zh|en — group SOP\n\
/set morning|digest|weekly|due_soon|overdue|milestone on|off — this group's reminders\n\
/tasks /mine /overdue /week — list tasks\n\
/milestone <name> <date> — add a milestone\n\
/goal <name> target 4.5 <deadline>, /goal <name> now 4.2 — SMART goals\n\
/risk <text> [p:high|medium|low] [i:high|medium|low] [@owner] — log a risk\n\
/decision <text> — record a decision\n\
/kudos @member <reason> — weekly stars, /stars to see them\n\
/alias <nickname> = <full name> — remember what people call a member\n\
/undo — revert what the bot did on your last message (within 30 minutes)\n\
/help — this help";

/// Parses a slash command; `None` when the text is not one (ordinary chat).
pub fn parse_bot_command(text: &str, now: &Zoned, calendar: &Calendar) -> Option<BotCommand> {
    let text = strip_leading_mentions(text.trim());
    let rest = text.strip_prefix('/').or_else(|| text.strip_prefix('／'))?;
    let (name, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    if name.is_empty() {
        return None;
    }
    let lower = name.to_lowercase();
    Some(match lower.as_str() {
        "帮助" | "help" | "h" | "?" | "？" => BotCommand::Help,
        "绑定" | "bind" => bind(args),
        "设置" | "set" | "role" | "角色" => set(&lower, args),
        "任务" | "tasks" | "list" => BotCommand::List { scope: ListScope::Open },
        "我的任务" | "mine" | "my" => BotCommand::List { scope: ListScope::Mine },
        "逾期" | "overdue" => BotCommand::List { scope: ListScope::Overdue },
        "本周" | "week" => BotCommand::List { scope: ListScope::ThisWeek },
        "里程碑" | "milestone" | "ms" => milestone(args, now, calendar),
        "目标" | "goal" => goal(args, now, calendar),
        "风险" | "risk" => risk(args),
        "决议" | "决策" | "decision" => {
            if args.is_empty() {
                usage("决议", "/决议 内容")
            } else {
                BotCommand::Decision { text: args.to_string() }
            }
        }
        "点赞" | "kudos" | "thanks" => kudos(args),
        "本周之星" | "之星" | "stars" => BotCommand::Stars,
        "别名" | "alias" => alias(args),
        _ => BotCommand::Unknown { name: name.to_string() },
    })
}

/// Drops `@bot` mentions platforms leave in front of a command.
fn strip_leading_mentions(mut text: &str) -> &str {
    while let Some(rest) = text.strip_prefix('@') {
        match rest.find(char::is_whitespace) {
            Some(i) => text = rest[i..].trim_start(),
            None => return text,
        }
    }
    text
}

fn usage(command: &str, usage: &str) -> BotCommand {
    BotCommand::Usage { command: command.to_string(), usage: usage.to_string() }
}

fn words(args: &str) -> Vec<&str> {
    args.split(|c: char| c.is_whitespace() || c == '，' || c == ',').filter(|w| !w.is_empty()).collect()
}

fn bind(args: &str) -> BotCommand {
    let w = words(args);
    let kind_at = w.iter().position(|x| bind_kind(x).is_some());
    let Some(k) = kind_at.filter(|k| *k > 0) else {
        return usage("绑定", "/绑定 项目名 总控群|子任务群 [TASK-003]|支持群");
    };
    let kind = bind_kind(w[k]).unwrap_or(BindKind::Master);
    let parent_task = w.get(k + 1).map(|r| r.trim_start_matches('#').to_uppercase());
    BotCommand::Bind { project: w[..k].join(" "), kind, parent_task }
}

fn bind_kind(w: &str) -> Option<BindKind> {
    match w.to_lowercase().as_str() {
        "总控群" | "总控" | "主群" | "master" => Some(BindKind::Master),
        "子任务群" | "子群" | "子任务" | "subtask" | "sub" => Some(BindKind::Subtask),
        "支持群" | "专项支持群" | "支持" | "support" => Some(BindKind::Support),
        _ => None,
    }
}

/// `/设置 @张三 组长` sets a role; `/设置 早报 09:30` a group setting.
fn set(name: &str, args: &str) -> BotCommand {
    let w = words(args);
    if let Some(member) = w.iter().find_map(|x| x.strip_prefix('@').or_else(|| x.strip_prefix('＠'))) {
        let role = w.iter().filter(|x| !x.starts_with('@') && !x.starts_with('＠')).find_map(|x| role_word(x));
        return match role {
            Some(role) if !member.is_empty() => BotCommand::SetRole { member: member.to_string(), role: role.to_string() },
            _ => usage("设置", "/设置 @成员 项目经理|组长|执行人|监督|观察员"),
        };
    }
    if name == "role" || name == "角色" {
        return usage("设置", "/设置 @成员 项目经理|组长|执行人|监督|观察员");
    }
    let Some((key_word, value)) = w.split_first() else {
        return usage("设置", "/设置 早报 09:00");
    };
    let value = value.join(" ");
    // `/设置 早报 关闭` turns a reminder rule off (or on) for the group.
    if let (Some(rule), Some(on)) = (reminder_rule(key_word), switch(&value)) {
        return BotCommand::Setting { key: format!("{rule}_enabled"), value: if on { "on" } else { "off" }.into() };
    }
    let key = match key_word.to_lowercase().as_str() {
        "早报" | "早上提醒" | "晨会" | "morning" => "morning_time",
        "日报" | "下午汇总" | "汇总" | "digest" => "digest_time",
        "日报截止" | "更新截止" | "截止" | "deadline" => "update_deadline",
        "周报" | "weekly" => "weekly_time",
        "文件命名" | "文件名" | "file" => "file_rule",
        "语言" | "lang" | "language" => "locale",
        _ if reminder_rule(key_word).is_some() => return usage("设置", &format!("/设置 {key_word} 开启|关闭")),
        _ => return usage("设置", "/设置 早报|日报|日报截止|周报 HH:MM，/设置 早报|日报|周报|到期提醒|逾期提醒|里程碑提醒 开启|关闭，/设置 文件命名 规则，/设置 语言 中文|English"),
    };
    match key {
        "file_rule" if !value.is_empty() => BotCommand::Setting { key: key.into(), value },
        "file_rule" => usage("设置", "/设置 文件命名 项目-日期-版本"),
        "locale" => match value.to_lowercase().as_str() {
            "中文" | "zh" | "chinese" | "简体中文" => BotCommand::Setting { key: key.into(), value: "zh".into() },
            "english" | "en" | "英文" | "英语" => BotCommand::Setting { key: key.into(), value: "en".into() },
            _ => usage("设置", "/设置 语言 中文|English"),
        },
        _ => match clock(&value) {
            Some(hm) => BotCommand::Setting { key: key.into(), value: hm },
            None => usage("设置", "/设置 早报 09:00（24小时制）"),
        },
    }
}

/// The scheduler rule (`qunban_core::schedule::RuleKind` name) a `/设置`
/// key word names, for turning it on or off.
fn reminder_rule(word: &str) -> Option<&'static str> {
    Some(match word.to_lowercase().as_str() {
        "早报" | "早上提醒" | "早间提醒" | "晨会" | "morning" => "morning",
        "日报" | "下午汇总" | "汇总" | "digest" => "digest",
        "周报" | "weekly" => "weekly",
        "到期提醒" | "到期前提醒" | "due_soon" | "due-soon" => "due_soon",
        "逾期提醒" | "逾期" | "overdue" => "overdue",
        "里程碑提醒" | "milestone" => "milestone",
        _ => return None,
    })
}

/// `开启` / `关闭` (and English) → on / off.
fn switch(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "开启" | "打开" | "开" | "启用" | "恢复" | "on" | "enable" => Some(true),
        "关闭" | "关" | "停用" | "暂停" | "不要" | "off" | "disable" => Some(false),
        _ => None,
    }
}

/// `9:30`, `09:30`, `9点半`, `17点` → `HH:MM`.
fn clock(v: &str) -> Option<String> {
    let v = v.trim().replace('：', ":");
    let (h, m) = if let Some((h, m)) = v.split_once(':') {
        (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)
    } else if let Some(h) = v.strip_suffix("点半") {
        (h.parse().ok()?, 30)
    } else if let Some(h) = v.strip_suffix('点') {
        (h.parse().ok()?, 0)
    } else {
        return None;
    };
    (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
}

fn role_word(w: &str) -> Option<&'static str> {
    Some(match w.to_lowercase().as_str() {
        "项目经理" | "pm" | "经理" | "负责人" => "pm",
        "组长" | "lead" | "leader" | "主管" => "lead",
        "执行人" | "成员" | "executor" | "member" | "开发" => "executor",
        "监督" | "监督人" | "supervisor" | "领导" => "supervisor",
        "观察员" | "只读" | "viewer" | "访客" => "viewer",
        _ => return None,
    })
}

fn milestone(args: &str, now: &Zoned, calendar: &Calendar) -> BotCommand {
    let w = words(args);
    if w.is_empty() {
        return usage("里程碑", "/里程碑 M1 上线 2026-02-01");
    }
    // The deadline is the shortest tail of words that reads as one, so the
    // name keeps words like 上线 that the deadline parser would tolerate.
    for split in (1..w.len()).rev() {
        let tail = w[split..].join(" ");
        if let Some(due) = parse_deadline(&tail, now, calendar) {
            return BotCommand::Milestone { name: w[..split].join(" "), due: Some(due), due_text: None };
        }
    }
    let last = w.len() - 1;
    if w.len() > 1 && w[last].chars().any(|c| c.is_ascii_digit()) {
        return BotCommand::Milestone { name: w[..last].join(" "), due: None, due_text: Some(w[last].to_string()) };
    }
    BotCommand::Milestone { name: w.join(" "), due: None, due_text: None }
}

/// Splits `达到4.5分` / `当前95%` / `target 4.5` into the number and its unit.
fn number_after(w: &str, prefixes: &[&str]) -> Option<(f64, Option<String>)> {
    let rest = prefixes.iter().find_map(|p| w.strip_prefix(p))?;
    let rest = rest.trim_start_matches([':', '：']);
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let n: f64 = rest[..end].parse().ok()?;
    let unit = rest[end..].trim();
    Some((n, (!unit.is_empty()).then(|| unit.to_string())))
}

fn goal(args: &str, now: &Zoned, calendar: &Calendar) -> BotCommand {
    let w = words(args);
    let (mut name, mut target, mut current, mut unit, mut deadline) = (Vec::new(), None, None, None, None);
    let mut i = 0;
    while i < w.len() {
        let x = w[i];
        let next_number = || w.get(i + 1).and_then(|n| number_after(n, &[""]));
        if let Some((n, u)) = number_after(x, &["达到", "目标", "提升到", "提高到"]) {
            target = Some(n);
            unit = unit.or(u);
        } else if let Some((n, u)) = number_after(x, &["当前", "目前", "现在", "现为"]) {
            current = Some(n);
            unit = unit.or(u);
        } else if matches!(x, "target" | "to") && next_number().is_some() {
            let (n, u) = next_number().unwrap_or((0.0, None));
            target = Some(n);
            unit = unit.or(u);
            i += 1;
        } else if matches!(x, "now" | "current") && next_number().is_some() {
            let (n, u) = next_number().unwrap_or((0.0, None));
            current = Some(n);
            unit = unit.or(u);
            i += 1;
        } else if let Some(d) = (!name.is_empty()).then(|| parse_deadline(&w[i..].join(" "), now, calendar)).flatten() {
            deadline = Some(d);
            break;
        } else {
            name.push(x);
        }
        i += 1;
    }
    if name.is_empty() || (target.is_none() && current.is_none()) {
        return usage("目标", "/目标 客户满意度 达到4.5 6月底前，或 /目标 客户满意度 当前4.2");
    }
    BotCommand::Goal { name: name.join(" "), target, current, unit, deadline }
}

fn level(w: &str, prefixes: &[&str]) -> Option<Level> {
    let rest = prefixes.iter().find_map(|p| w.strip_prefix(p))?;
    match rest.trim_start_matches([':', '：']).to_lowercase().as_str() {
        "高" | "high" | "h" | "大" => Some(Level::High),
        "中" | "medium" | "m" | "一般" => Some(Level::Medium),
        "低" | "low" | "l" | "小" => Some(Level::Low),
        _ => None,
    }
}

fn risk(args: &str) -> BotCommand {
    let (body, mitigation) = match args.find("应对").or_else(|| args.find("措施")) {
        Some(i) => {
            let m = args[i..].trim_start_matches("应对").trim_start_matches("措施").trim_start_matches([':', '：', ' ']);
            (&args[..i], (!m.trim().is_empty()).then(|| m.trim().to_string()))
        }
        None => (args, None),
    };
    let (mut title, mut probability, mut impact, mut owner) = (Vec::new(), None, None, None);
    for w in words(body) {
        if let Some(l) = level(w, &["概率", "可能性", "p:", "p="]) {
            probability = Some(l);
        } else if let Some(l) = level(w, &["影响", "i:", "i="]) {
            impact = Some(l);
        } else if let Some(o) = w.strip_prefix('@').filter(|o| !o.is_empty()) {
            owner = Some(o.to_string());
        } else {
            title.push(w);
        }
    }
    if title.is_empty() {
        return usage("风险", "/风险 供应商接口可能延期 概率高 影响高 @李四 应对：准备mock数据");
    }
    BotCommand::Risk { title: title.join(" "), probability, impact, owner, mitigation }
}

/// `老李 = 李建国`, `@老李 ＝ @李建国`, or just the two names.
fn alias(args: &str) -> BotCommand {
    let name = |s: &str| s.trim().trim_start_matches(['@', '＠']).trim().to_string();
    let (alias, member) = match args.split_once(['=', '＝']) {
        Some((a, m)) => (name(a), name(m)),
        None => match words(args)[..] {
            [a, m] => (name(a), name(m)),
            _ => (String::new(), String::new()),
        },
    };
    if alias.is_empty() || member.is_empty() {
        return usage("别名", "/别名 老李 = 李建国");
    }
    BotCommand::Alias { alias, member }
}

fn kudos(args: &str) -> BotCommand {
    let w = words(args);
    let member = w.iter().find_map(|x| x.strip_prefix('@').or_else(|| x.strip_prefix('＠'))).filter(|m| !m.is_empty());
    let reason: Vec<&str> = w.iter().copied().filter(|x| !x.starts_with('@') && !x.starts_with('＠')).collect();
    match member {
        Some(m) if !reason.is_empty() => BotCommand::Kudos { member: m.to_string(), reason: reason.join(" ") },
        _ => usage("点赞", "/点赞 @李四 接口提前完成"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Zoned {
        crate::intent::parse_rfc3339("2026-01-14T10:30:00+08:00").unwrap()
    }

    fn p(text: &str) -> Option<BotCommand> {
        parse_bot_command(text, &now(), &Calendar::builtin())
    }

    #[test]
    fn binding() {
        assert_eq!(p("/绑定 官网改版 总控群"), Some(BotCommand::Bind { project: "官网改版".into(), kind: BindKind::Master, parent_task: None }));
        assert_eq!(
            p("@群办 /绑定 官网改版 子任务群 #task-003"),
            Some(BotCommand::Bind { project: "官网改版".into(), kind: BindKind::Subtask, parent_task: Some("TASK-003".into()) })
        );
        assert_eq!(p("/bind Web Revamp support"), Some(BotCommand::Bind { project: "Web Revamp".into(), kind: BindKind::Support, parent_task: None }));
        assert!(matches!(p("/绑定 官网改版"), Some(BotCommand::Usage { .. })));
    }

    #[test]
    fn roles_and_settings() {
        assert_eq!(p("/设置 @张三 组长"), Some(BotCommand::SetRole { member: "张三".into(), role: "lead".into() }));
        assert_eq!(p("/role @Tom pm"), Some(BotCommand::SetRole { member: "Tom".into(), role: "pm".into() }));
        assert_eq!(p("/设置 早报 9:30"), Some(BotCommand::Setting { key: "morning_time".into(), value: "09:30".into() }));
        assert_eq!(p("/设置 日报截止 18点"), Some(BotCommand::Setting { key: "update_deadline".into(), value: "18:00".into() }));
        assert_eq!(p("/设置 语言 English"), Some(BotCommand::Setting { key: "locale".into(), value: "en".into() }));
        assert!(matches!(p("/设置 早报 25:00"), Some(BotCommand::Usage { .. })));
        assert_eq!(p("/设置 早报 关闭"), Some(BotCommand::Setting { key: "morning_enabled".into(), value: "off".into() }));
        assert_eq!(p("/设置 逾期提醒 开启"), Some(BotCommand::Setting { key: "overdue_enabled".into(), value: "on".into() }));
        assert_eq!(p("/set weekly off"), Some(BotCommand::Setting { key: "weekly_enabled".into(), value: "off".into() }));
        assert!(matches!(p("/设置 逾期提醒 9:00"), Some(BotCommand::Usage { .. })), "overdue alerts have no time of day");
        assert!(matches!(p("/设置 @张三 大王"), Some(BotCommand::Usage { .. })));
    }

    #[test]
    fn lists_and_misc() {
        assert_eq!(p("/任务"), Some(BotCommand::List { scope: ListScope::Open }));
        assert_eq!(p("／我的任务"), Some(BotCommand::List { scope: ListScope::Mine }));
        assert_eq!(p("/逾期"), Some(BotCommand::List { scope: ListScope::Overdue }));
        assert_eq!(p("/帮助"), Some(BotCommand::Help));
        assert_eq!(p("/不存在"), Some(BotCommand::Unknown { name: "不存在".into() }));
        assert_eq!(p("#3 已完成"), None);
        assert_eq!(p("路径是 /usr/bin"), None);
    }

    #[test]
    fn milestones_goals_risks_kudos() {
        match p("/里程碑 M1 上线 2026-02-01") {
            Some(BotCommand::Milestone { name, due: Some(d), .. }) => {
                assert_eq!(name, "M1 上线");
                assert_eq!(crate::intent::rfc3339(&d), "2026-02-01T23:59:59+08:00");
            }
            other => panic!("{other:?}"),
        }
        match p("/目标 客户满意度 达到4.5 6月底前") {
            Some(BotCommand::Goal { name, target: Some(t), current: None, deadline: Some(d), .. }) => {
                assert_eq!(name, "客户满意度");
                assert_eq!(t, 4.5);
                assert_eq!(crate::intent::rfc3339(&d), "2026-06-30T23:59:59+08:00");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(p("/目标 客户满意度 当前4.2"), Some(BotCommand::Goal { current: Some(c), target: None, .. }) if c == 4.2));
        assert!(matches!(p("/目标 转化率 达到5% "), Some(BotCommand::Goal { unit: Some(u), .. }) if u == "%"));
        assert_eq!(
            p("/风险 供应商接口可能延期 概率高 影响中 @李四 应对：准备mock数据"),
            Some(BotCommand::Risk {
                title: "供应商接口可能延期".into(),
                probability: Some(Level::High),
                impact: Some(Level::Medium),
                owner: Some("李四".into()),
                mitigation: Some("准备mock数据".into()),
            })
        );
        assert_eq!(p("/点赞 @李四 接口提前完成"), Some(BotCommand::Kudos { member: "李四".into(), reason: "接口提前完成".into() }));
        assert!(matches!(p("/点赞 @李四"), Some(BotCommand::Usage { .. })));
        assert_eq!(p("/决议 采用方案B"), Some(BotCommand::Decision { text: "采用方案B".into() }));
    }

    #[test]
    fn aliases() {
        let a = |alias: &str, member: &str| Some(BotCommand::Alias { alias: alias.into(), member: member.into() });
        assert_eq!(p("/别名 老李 = 李建国"), a("老李", "李建国"));
        assert_eq!(p("/别名 @老李＝@李建国"), a("老李", "李建国"));
        assert_eq!(p("/alias Kev = Kevin Li"), a("Kev", "Kevin Li"));
        assert_eq!(p("/别名 老李 李建国"), a("老李", "李建国"));
        assert!(matches!(p("/别名 老李"), Some(BotCommand::Usage { .. })));
        assert!(matches!(p("/别名 = 李建国"), Some(BotCommand::Usage { .. })));
    }
}
