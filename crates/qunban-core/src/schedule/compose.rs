//! The words of the reminders: concise Chinese, grouped by owner, with task
//! references, split to fit a platform's message size.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

use crate::model::{Locale, TaskStatus};
use crate::reply::deadline_in_words;
use crate::schedule::rules::weekday_zh;

/// WeCom robot text messages take at most 2048 bytes; the other platforms
/// take more, so this is the size every reminder is split to.
pub const MESSAGE_MAX_BYTES: usize = 2048;

/// The stand-up prompt of the morning reminder.
pub const STANDUP_PROMPT: &str = "📣 每人一句话：昨日进展+今日计划";

/// A task as a reminder shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskLine {
    pub reference: String,
    pub title: String,
    /// Display names, first owner first.
    pub owners: Vec<String>,
    pub due: Option<Timestamp>,
    pub status: TaskStatus,
    pub progress: u8,
}

/// `#TASK-001 需求文档写完` with the title cut to a readable length.
fn task_ref(t: &TaskLine) -> String {
    const MAX_TITLE: usize = 30;
    let title: String = if t.title.chars().count() > MAX_TITLE {
        t.title.chars().take(MAX_TITLE - 1).chain(std::iter::once('…')).collect()
    } else {
        t.title.clone()
    };
    format!("#{} {}", t.reference, title)
}

/// `1月15日（周四）`.
pub fn day_zh(d: Date) -> String {
    format!("{}月{}日（{}）", d.month(), d.day(), weekday_zh(d.weekday()))
}

fn clock(t: Timestamp, tz: &TimeZone) -> String {
    let z = t.to_zoned(tz.clone());
    if z.hour() == 23 && z.minute() == 59 {
        "今天内".into()
    } else {
        format!("{:02}:{:02}", z.hour(), z.minute())
    }
}

/// Tasks grouped under their owners, owners in order of first appearance;
/// a task with two owners is listed under both.
fn by_owner(tasks: &[TaskLine]) -> Vec<(String, Vec<&TaskLine>)> {
    let mut groups: Vec<(String, Vec<&TaskLine>)> = Vec::new();
    for t in tasks {
        let owners: Vec<String> = if t.owners.is_empty() { vec!["未指派".into()] } else { t.owners.clone() };
        for o in owners {
            match groups.iter_mut().find(|(n, _)| *n == o) {
                Some((_, v)) => v.push(t),
                None => groups.push((o, vec![t])),
            }
        }
    }
    groups
}

/// One section: a heading, then `【owner】` and one line per task.
fn section(out: &mut Vec<String>, heading: String, tasks: &[TaskLine], detail: impl Fn(&TaskLine) -> String) {
    if tasks.is_empty() {
        return;
    }
    out.push(heading);
    for (owner, ts) in by_owner(tasks) {
        out.push(format!("【{owner}】"));
        for t in ts {
            let d = detail(t);
            out.push(if d.is_empty() { task_ref(t) } else { format!("{} · {d}", task_ref(t)) });
        }
    }
}

/// 09:00 on workdays: what is due today, and the stand-up prompt.
pub fn morning(date: Date, due_today: &[TaskLine], overdue: &[TaskLine], tz: &TimeZone) -> String {
    let mut out = vec![format!("☀️ 早安！{}", day_zh(date))];
    if due_today.is_empty() {
        out.push("今日没有到期的任务。".into());
    } else {
        section(&mut out, format!("今日到期 {} 项：", due_today.len()), due_today, |t| t.due.map(|d| clock(d, tz)).unwrap_or_default());
    }
    if !overdue.is_empty() {
        let refs: Vec<String> = overdue.iter().take(5).map(|t| format!("#{}", t.reference)).collect();
        let more = if overdue.len() > 5 { " 等" } else { "" };
        out.push(format!("另有 {} 项已逾期（{}{more}），请负责人尽快处理或更新截止时间。", overdue.len(), refs.join(" ")));
    }
    out.push(STANDUP_PROMPT.into());
    out.join("\n")
}

/// 16:00 on workdays: done today, in progress, overdue, missing stand-ups.
pub fn digest(
    date: Date,
    done_today: &[TaskLine],
    in_progress: &[TaskLine],
    overdue: &[TaskLine],
    missing_standup: &[String],
    tz: &TimeZone,
) -> String {
    let mut out = vec![format!("📊 {} 进度汇总", day_zh(date))];
    section(&mut out, format!("✅ 今日完成 {} 项：", done_today.len()), done_today, |_| String::new());
    section(&mut out, format!("🔄 进行中 {} 项：", in_progress.len()), in_progress, |t| {
        let due = t.due.map(|d| format!("，截止 {}", deadline_in_words(d, tz, Locale::Zh))).unwrap_or_default();
        format!("{}%{due}", t.progress)
    });
    section(&mut out, format!("⚠️ 已逾期 {} 项：", overdue.len()), overdue, |t| {
        t.due.map(|d| format!("截止 {}", deadline_in_words(d, tz, Locale::Zh))).unwrap_or_default()
    });
    if done_today.is_empty() && in_progress.is_empty() && overdue.is_empty() {
        out.push("今日暂无任务进展。".into());
    }
    if !missing_standup.is_empty() {
        out.push(format!("🙋 尚未提交今日站会：{}", missing_standup.join("、")));
    }
    out.join("\n")
}

/// The weekly report for the master group.
pub fn weekly(
    week_start: Date,
    report_day: Date,
    done: &[TaskLine],
    open: &[TaskLine],
    overdue: &[TaskLine],
    due_next_week: &[TaskLine],
    tz: &TimeZone,
) -> String {
    let mut out = vec![format!("📅 本周周报（{}月{}日–{}月{}日）", week_start.month(), week_start.day(), report_day.month(), report_day.day())];
    out.push(format!(
        "完成 {} 项，进行中 {} 项，逾期 {} 项，下周到期 {} 项。",
        done.len(),
        open.len(),
        overdue.len(),
        due_next_week.len()
    ));
    section(&mut out, "✅ 本周完成：".into(), done, |_| String::new());
    section(&mut out, "⚠️ 已逾期：".into(), overdue, |t| {
        t.due.map(|d| format!("截止 {}", deadline_in_words(d, tz, Locale::Zh))).unwrap_or_default()
    });
    section(&mut out, "📌 下周到期：".into(), due_next_week, |t| t.due.map(|d| deadline_in_words(d, tz, Locale::Zh)).unwrap_or_default());
    out.join("\n")
}

/// A deadline is near.
pub fn due_soon(task: &TaskLine, hours_before: i64, tz: &TimeZone) -> String {
    let due = task.due.map(|d| deadline_in_words(d, tz, Locale::Zh)).unwrap_or_default();
    let owners = if task.owners.is_empty() { "未指派".into() } else { task.owners.join("、") };
    format!(
        "⏰ 到期提醒：{} 将于 {due} 截止（还剩约 {}），负责人：{owners}。当前进度 {}%，请按时完成或更新进度。",
        task_ref(task),
        span_zh(hours_before),
        task.progress
    )
}

/// `2 小时`, `1 天`, `3 天`.
pub fn span_zh(hours: i64) -> String {
    if hours >= 24 && hours % 24 == 0 {
        format!("{} 天", hours / 24)
    } else {
        format!("{hours} 小时")
    }
}

/// Which step of the escalation the alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escalation {
    Owner,
    Lead,
    Pm,
}

/// A task is past its deadline: the owners first, then also the leads,
/// then also the PMs.
pub fn overdue(task: &TaskLine, step: Escalation, hours_late: i64, leads: &[String], pms: &[String], tz: &TimeZone) -> String {
    let due = task.due.map(|d| deadline_in_words(d, tz, Locale::Zh)).unwrap_or_default();
    let owners = if task.owners.is_empty() { "未指派".into() } else { task.owners.join("、") };
    let r = task_ref(task);
    let late = if hours_late <= 0 { String::new() } else { format!("，已逾期 {}", span_zh_rounded(hours_late)) };
    match step {
        Escalation::Owner => format!(
            "⚠️ 逾期提醒：{r} 截止时间 {due} 已到{late}，负责人：{owners}。请尽快完成，或回复「#{} 延期到…」更新截止时间。",
            task.reference
        ),
        Escalation::Lead => {
            let who = if leads.is_empty() { "组长".to_string() } else { format!("组长 {}", leads.join("、")) };
            format!("⚠️ 逾期升级：{r}（截止 {due}{late}），负责人：{owners}，进度 {}%。请{who}跟进。", task.progress)
        }
        Escalation::Pm => {
            let lead = if leads.is_empty() { String::new() } else { format!("，组长：{}", leads.join("、")) };
            let who = if pms.is_empty() { "项目经理".to_string() } else { format!("项目经理 {}", pms.join("、")) };
            format!("🚨 逾期升级：{r}（截止 {due}{late}），负责人：{owners}{lead}，进度 {}%。请{who}协调处理。", task.progress)
        }
    }
}

fn span_zh_rounded(hours: i64) -> String {
    if hours >= 48 {
        format!("{} 天", hours / 24)
    } else {
        format!("{hours} 小时")
    }
}

/// A milestone is near.
pub fn milestone(name: &str, due: Timestamp, open: &[TaskLine], tz: &TimeZone) -> String {
    let mut out = vec![format!("🏁 里程碑「{name}」将于 {} 到期", deadline_in_words(due, tz, Locale::Zh))];
    if open.is_empty() {
        out[0].push_str("，相关任务均已完成。");
    } else {
        out[0].push_str(&format!("，还有 {} 项任务未完成：", open.len()));
        section(&mut out, String::new(), open, |t| format!("{}%", t.progress));
        out.remove(1); // the empty heading
    }
    out.join("\n")
}

/// Splits `text` into chunks of at most `max_bytes` UTF-8 bytes, at line
/// boundaries when possible and never inside a character; blank chunks are
/// dropped.
pub fn split_for_limit(text: &str, max_bytes: usize) -> Vec<String> {
    let max = max_bytes.max(4);
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.split('\n') {
        let mut line = line;
        while line.len() > max {
            if !current.is_empty() {
                chunks.push(std::mem::take(&mut current));
            }
            let mut cut = max;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            chunks.push(line[..cut].to_string());
            line = &line[cut..];
        }
        if current.is_empty() {
            current = line.to_string();
        } else if current.len() + 1 + line.len() <= max {
            current.push('\n');
            current.push_str(line);
        } else {
            chunks.push(std::mem::replace(&mut current, line.to_string()));
        }
    }
    chunks.push(current);
    chunks.retain(|c| !c.trim().is_empty());
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn line(r: &str, title: &str, owners: &[&str], due: &str, status: TaskStatus, progress: u8) -> TaskLine {
        TaskLine {
            reference: r.into(),
            title: title.into(),
            owners: owners.iter().map(|s| s.to_string()).collect(),
            due: Some(due.parse().unwrap()),
            status,
            progress,
        }
    }

    #[test]
    fn morning_groups_by_owner_and_prompts_standup() {
        let due = [
            line("TASK-001", "需求文档写完", &["李四"], "2026-01-15T15:00:00+08:00", TaskStatus::InProgress, 60),
            line("TASK-003", "接口联调", &["王五"], "2026-01-15T18:00:00+08:00", TaskStatus::Todo, 0),
            line("TASK-004", "登录页", &["李四"], "2026-01-15T23:59:00+08:00", TaskStatus::Todo, 0),
        ];
        let overdue = [line("TASK-002", "竞品分析", &["张三"], "2026-01-14T18:00:00+08:00", TaskStatus::Todo, 0)];
        let text = morning("2026-01-15".parse().unwrap(), &due, &overdue, &tz());
        assert_eq!(
            text,
            "☀️ 早安！1月15日（周四）\n今日到期 3 项：\n【李四】\n#TASK-001 需求文档写完 · 15:00\n#TASK-004 登录页 · 今天内\n【王五】\n#TASK-003 接口联调 · 18:00\n\
             另有 1 项已逾期（#TASK-002），请负责人尽快处理或更新截止时间。\n📣 每人一句话：昨日进展+今日计划"
        );
        let quiet = morning("2026-01-15".parse().unwrap(), &[], &[], &tz());
        assert!(quiet.contains("今日没有到期的任务") && quiet.ends_with(STANDUP_PROMPT));
    }

    #[test]
    fn digest_sections() {
        let done = [line("TASK-001", "需求文档写完", &["李四"], "2026-01-15T15:00:00+08:00", TaskStatus::Done, 100)];
        let wip = [line("TASK-003", "接口联调", &["王五", "李四"], "2026-01-16T18:00:00+08:00", TaskStatus::InProgress, 40)];
        let text = digest("2026-01-15".parse().unwrap(), &done, &wip, &[], &["张三".into(), "王五".into()], &tz());
        assert_eq!(
            text,
            "📊 1月15日（周四） 进度汇总\n✅ 今日完成 1 项：\n【李四】\n#TASK-001 需求文档写完\n🔄 进行中 1 项：\n【王五】\n#TASK-003 接口联调 · 40%，截止 1月16日（周五）18:00\n【李四】\n#TASK-003 接口联调 · 40%，截止 1月16日（周五）18:00\n🙋 尚未提交今日站会：张三、王五"
        );
        assert!(digest("2026-01-15".parse().unwrap(), &[], &[], &[], &[], &tz()).contains("今日暂无任务进展"));
    }

    #[test]
    fn deadline_alerts() {
        let t = line("TASK-001", "需求文档写完", &["李四"], "2026-01-15T15:00:00+08:00", TaskStatus::InProgress, 60);
        assert_eq!(
            due_soon(&t, 2, &tz()),
            "⏰ 到期提醒：#TASK-001 需求文档写完 将于 1月15日（周四）15:00 截止（还剩约 2 小时），负责人：李四。当前进度 60%，请按时完成或更新进度。"
        );
        assert!(due_soon(&t, 24, &tz()).contains("还剩约 1 天"));
        let o = overdue(&t, Escalation::Owner, 0, &[], &[], &tz());
        assert!(o.starts_with("⚠️ 逾期提醒：#TASK-001") && o.contains("负责人：李四") && o.contains("#TASK-001 延期到"), "{o}");
        let l = overdue(&t, Escalation::Lead, 24, &["王五".into()], &[], &tz());
        assert!(l.contains("已逾期 24 小时") && l.contains("请组长 王五跟进"), "{l}");
        let p = overdue(&t, Escalation::Pm, 48, &["王五".into()], &["赵六".into()], &tz());
        assert!(p.contains("已逾期 2 天") && p.contains("组长：王五") && p.contains("请项目经理 赵六协调处理"), "{p}");
    }

    #[test]
    fn weekly_and_milestone() {
        let done = [line("TASK-001", "需求文档写完", &["李四"], "2026-01-15T15:00:00+08:00", TaskStatus::Done, 100)];
        let next = [line("TASK-005", "上线", &["王五"], "2026-01-20T18:00:00+08:00", TaskStatus::Todo, 0)];
        let w = weekly("2026-01-12".parse().unwrap(), "2026-01-16".parse().unwrap(), &done, &next, &[], &next, &tz());
        assert!(w.starts_with("📅 本周周报（1月12日–1月16日）\n完成 1 项，进行中 1 项，逾期 0 项，下周到期 1 项。"), "{w}");
        assert!(w.contains("📌 下周到期：\n【王五】\n#TASK-005 上线 · 1月20日（周二）18:00"), "{w}");
        let m = milestone("一期上线", "2026-01-20T18:00:00+08:00".parse().unwrap(), &next, &tz());
        assert_eq!(m, "🏁 里程碑「一期上线」将于 1月20日（周二）18:00 到期，还有 1 项任务未完成：\n【王五】\n#TASK-005 上线 · 0%");
    }

    #[test]
    fn long_titles_are_cut() {
        let t = line("TASK-009", &"很长的标题".repeat(20), &["李四"], "2026-01-15T15:00:00+08:00", TaskStatus::Todo, 0);
        assert_eq!(task_ref(&t).chars().count(), "#TASK-009 ".chars().count() + 30);
    }

    #[test]
    fn splitting_respects_the_byte_limit_and_lines() {
        let tasks: Vec<TaskLine> = (1..=200)
            .map(|i| line(&format!("TASK-{i:03}"), "接口联调与回归测试", &[["李四", "王五", "赵六"][i % 3]], "2026-01-15T15:00:00+08:00", TaskStatus::InProgress, 50))
            .collect();
        let text = digest("2026-01-15".parse().unwrap(), &[], &tasks, &[], &[], &tz());
        assert!(text.len() > MESSAGE_MAX_BYTES * 3);
        let chunks = split_for_limit(&text, MESSAGE_MAX_BYTES);
        assert!(chunks.len() >= 4);
        assert!(chunks.iter().all(|c| c.len() <= MESSAGE_MAX_BYTES && !c.starts_with('\n')));
        assert_eq!(chunks.join("\n"), text, "nothing lost, split at line ends");
        // a single over-long line is cut at character boundaries
        let long = "字".repeat(1000);
        let parts = split_for_limit(&long, 2048);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.len() <= 2048));
        assert_eq!(parts.concat(), long);
        assert!(split_for_limit("\n\n", 10).is_empty());
    }
}
