//! Markdown renderings with Chinese headings.

use std::fmt::Write;

use crate::metrics::Metrics;
use crate::report::{DailyReport, DeadlineChange, Rollup, TaskLine, WeeklyReport};
use crate::Ctx;

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn hours(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h >= 48.0 => format!("{:.1} 天", h / 24.0),
        Some(h) => format!("{h:.1} 小时"),
    }
}

/// Escapes characters that would break a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn task_line(out: &mut String, ctx: &Ctx, t: &TaskLine) {
    let owners = if t.owners.is_empty() { "未指定".to_string() } else { t.owners.join("、") };
    let due = t.due.map(|d| format!("，截止 {}", ctx.fmt_short(d))).unwrap_or_default();
    let _ = writeln!(out, "- #{} {}（{}，{} {}%{}）", t.reference, cell(&t.title), owners, t.status.zh(), t.progress, due);
}

fn section(out: &mut String, ctx: &Ctx, title: &str, lines: &[TaskLine]) {
    let _ = writeln!(out, "\n### {title}（{}）\n", lines.len());
    if lines.is_empty() {
        out.push_str("无\n");
    }
    for t in lines {
        task_line(out, ctx, t);
    }
}

fn changes(out: &mut String, ctx: &Ctx, title: &str, v: &[DeadlineChange]) {
    let _ = writeln!(out, "\n### {title}（{}）\n", v.len());
    if v.is_empty() {
        out.push_str("无\n");
    }
    for c in v {
        let show = |t: Option<i64>| t.map(|t| ctx.fmt_short(t)).unwrap_or_else(|| "无".into());
        match c.new {
            Some(_) => {
                let _ = writeln!(out, "- #{} {}：{} → {}（{}）", c.task.reference, cell(&c.task.title), show(c.old), show(c.new), c.task.owners.join("、"));
            }
            None => {
                let _ = writeln!(out, "- #{} {}：截止 {} 已过，仍未完成（{}）", c.task.reference, cell(&c.task.title), show(c.old), c.task.owners.join("、"));
            }
        }
    }
}

fn rollup(out: &mut String, v: &[Rollup]) {
    if v.is_empty() {
        return;
    }
    out.push_str("\n### 子任务汇总\n\n| 父任务 | 标题 | 子任务完成 | 逾期 |\n|---|---|---|---|\n");
    for r in v {
        let _ = writeln!(out, "| #{} | {} | {}/{} | {} |", r.parent.reference, cell(&r.parent.title), r.subtasks_done, r.subtasks_total, r.subtasks_overdue);
    }
}

pub fn daily(r: &DailyReport, ctx: &Ctx) -> String {
    let mut out = format!("# {} 日报 · {}\n", r.project, r.date);
    let _ = writeln!(
        out,
        "\n今日完成 {} 项，新建 {} 项，今日到期 {} 项，逾期 {} 项，阻塞 {} 项。",
        r.completed.len(),
        r.created.len(),
        r.due_today.len(),
        r.overdue.len(),
        r.blocked.len()
    );
    section(&mut out, ctx, "今日完成", &r.completed);
    section(&mut out, ctx, "今日新建", &r.created);
    section(&mut out, ctx, "今日到期", &r.due_today);
    section(&mut out, ctx, "已逾期", &r.overdue);
    section(&mut out, ctx, "阻塞中", &r.blocked);
    changes(&mut out, ctx, "截止时间变更", &r.deadline_changes);
    let _ = writeln!(out, "\n## 站会汇总（{} 人提交）\n", r.standups.len());
    if r.standups.is_empty() {
        out.push_str("今日无人提交站会。\n");
    }
    for s in &r.standups {
        let list = |v: &[String]| if v.is_empty() { "无".to_string() } else { v.join("；") };
        let _ = writeln!(out, "**{}**\n- 昨日：{}\n- 今日：{}\n- 阻碍：{}\n", s.member, list(&s.yesterday), list(&s.today), list(&s.blockers));
    }
    let _ = writeln!(
        out,
        "\n未提交站会：{}",
        if r.missing_standups.is_empty() { "无".to_string() } else { r.missing_standups.join("、") }
    );
    rollup(&mut out, &r.rollup);
    out
}

pub fn weekly(r: &WeeklyReport, ctx: &Ctx) -> String {
    let mut out = format!("# {} 周报 · {}（{} 至 {}）\n", r.project, r.week, r.from, r.to);
    section(&mut out, ctx, "本周完成", &r.completed);
    changes(&mut out, ctx, "延期与逾期", &r.slipped);
    let _ = writeln!(out, "\n### 新增风险（{}）\n", r.new_risks.len());
    if r.new_risks.is_empty() {
        out.push_str("无\n");
    }
    for k in &r.new_risks {
        let _ = writeln!(out, "- {}（概率 {}，影响 {}，负责人 {}）", cell(&k.title), k.probability, k.impact, k.owner.as_deref().unwrap_or("未指定"));
    }
    section(&mut out, ctx, "下周到期", &r.due_next_week);
    let _ = writeln!(out, "\n### 本周之星（{}）\n", r.stars.len());
    if r.stars.is_empty() {
        out.push_str("本周还没有点赞\n");
    }
    for s in &r.stars {
        let _ = writeln!(out, "- ⭐ {} ×{}：{}", cell(&s.member), s.count, cell(&s.reasons.join("；")));
    }
    out.push('\n');
    out.push_str(&metrics_body(&r.metrics, ctx, "##"));
    rollup(&mut out, &r.rollup);
    out
}

pub fn metrics(project: &str, m: &Metrics, ctx: &Ctx) -> String {
    let mut out = format!("# {project} 项目指标 · {} 至 {}\n\n", ctx.fmt(m.from), ctx.fmt(m.to));
    out.push_str(&metrics_body(m, ctx, "##"));
    out
}

fn metrics_body(m: &Metrics, ctx: &Ctx, h: &str) -> String {
    let mut out = format!("{h} 指标\n\n| 指标 | 数值 |\n|---|---|\n");
    let rows: Vec<(&str, String)> = vec![
        ("任务总数 / 进行中 / 已完成 / 已取消", format!("{} / {} / {} / {}", m.tasks_total, m.open, m.done, m.cancelled)),
        ("期内完成", m.completed.to_string()),
        ("按时完成率（以完成时的截止时间）", format!("{}（{}/{}）", pct(m.on_time_final_rate), m.on_time_final, m.completed_with_deadline)),
        ("按时完成率（以最初截止时间）", format!("{}（{}/{}）", pct(m.on_time_original_rate), m.on_time_original, m.completed_with_deadline)),
        ("延期率", format!("{}（{}/{}）", pct(m.delay_rate), m.late, m.completed_with_deadline)),
        ("平均延期", hours(m.avg_delay_hours)),
        ("无截止时间的完成任务", m.completed_without_deadline.to_string()),
        ("截止时间改过的完成任务", m.completed_with_moved_deadline.to_string()),
        ("周期时间 P50 / P90", format!("{} / {}", hours(m.cycle_time_p50_hours), hours(m.cycle_time_p90_hours))),
        ("期内截止时间变更（其中推迟）", format!("{}（{}）", m.deadline_moves, m.deadline_slips)),
        ("期内重新打开", m.reopens.to_string()),
        ("期内转交", m.reassignments.to_string()),
        ("当前逾期", m.overdue.to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    if !m.workload.is_empty() {
        let _ = writeln!(out, "\n{h}# 工作量\n\n| 成员 | 未完成 | 本周到期 | 逾期 | 阻塞 |\n|---|---|---|---|---|");
        for w in &m.workload {
            let _ = writeln!(out, "| {} | {} | {} | {} | {} |", cell(&w.member), w.open, w.due_this_week, w.overdue, w.blocked);
        }
    }
    if !m.throughput.is_empty() {
        let _ = writeln!(out, "\n{h}# 每人每周完成数\n\n| 周 | 成员 | 完成 |\n|---|---|---|");
        for t in &m.throughput {
            let _ = writeln!(out, "| {} | {} | {} |", t.week, cell(&t.member), t.completed);
        }
    }
    for b in &m.milestones {
        let due = b.due_at.map(|d| format!("，截止 {}", ctx.fmt_short(d))).unwrap_or_default();
        let _ = writeln!(out, "\n{h}# 里程碑燃尽：{}{due}\n\n| 日期 | 范围 | 已完成 | 剩余 |\n|---|---|---|---|", cell(&b.milestone));
        for p in &b.points {
            let _ = writeln!(out, "| {} | {} | {} | {} |", p.day, p.scope, p.done, p.remaining);
        }
    }
    if !m.goals.is_empty() {
        let _ = writeln!(out, "\n{h}# 目标进度\n\n| 目标 | 当前 | 目标值 | 完成度 |\n|---|---|---|---|");
        for g in &m.goals {
            let unit = g.unit.as_deref().unwrap_or("");
            let num = |v: Option<f64>| v.map(|v| format!("{v}{unit}")).unwrap_or_else(|| "—".into());
            let _ = writeln!(out, "| {} | {} | {} | {} |", cell(&g.name), num(g.current), num(g.target), pct(g.ratio));
        }
    }
    out
}
