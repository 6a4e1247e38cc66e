//! Gantt charts: a self-contained SVG and Mermaid `gantt` text.
//!
//! A bar runs from a task's creation to its deadline (or its completion, or
//! today when it has neither). Done bars are green, open bars blue, overdue
//! bars red up to today; dependencies are arrows from the end of the task
//! waited for to the start of the waiting one; milestones are diamonds on
//! their due day; a dashed line marks today.

use std::collections::HashMap;
use std::fmt::Write;

use qunban_core::TaskStatus;

use crate::{Ctx, Dataset, RTask};

const DAY: i64 = 86_400;

/// Where a task's bar starts and ends, and whether it is overdue.
fn span(t: &RTask, now: i64) -> (i64, i64, bool) {
    let start = t.created_at;
    let end = match (t.status, t.done_at, t.due) {
        (TaskStatus::Done, Some(d), _) => d,
        (_, _, Some(due)) => due,
        _ => now,
    };
    let overdue = !t.status.is_closed() && t.due.is_some_and(|d| d < now);
    let end = if overdue { now } else { end };
    (start, end.max(start + 3600), overdue)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Tasks in chart order: by project, then start, then reference.
fn ordered(data: &Dataset) -> Vec<&RTask> {
    let mut v: Vec<&RTask> = data.tasks.iter().filter(|t| t.status != TaskStatus::Cancelled).collect();
    v.sort_by(|a, b| a.project_id.cmp(&b.project_id).then(a.created_at.cmp(&b.created_at)).then_with(|| a.reference.cmp(&b.reference)));
    v
}

/// The chart as SVG.
pub fn svg(data: &Dataset, ctx: &Ctx, title: &str) -> String {
    let tasks = ordered(data);
    let now = ctx.now;
    let mut lo = tasks.iter().map(|t| t.created_at).min().unwrap_or(now);
    let mut hi = tasks.iter().map(|t| span(t, now).1).max().unwrap_or(now).max(now);
    for m in &data.milestones {
        if let Some(d) = m.due_at {
            lo = lo.min(d);
            hi = hi.max(d);
        }
    }
    lo = ctx.start_of(ctx.day_of(lo));
    hi = ctx.start_of(crate::add_days(ctx.day_of(hi), 1));
    let days = ((hi - lo) / DAY).max(1);
    let day_w = if days > 120 { 6.0 } else if days > 45 { 14.0 } else { 28.0 };
    let (label_w, row_h, top) = (300.0, 24.0, 60.0);
    let ms_rows = data.milestones.iter().filter(|m| m.due_at.is_some()).count();
    let width = label_w + days as f64 * day_w + 20.0;
    let height = top + (tasks.len() + ms_rows) as f64 * row_h + 30.0;
    let x = |t: i64| label_w + (t - lo) as f64 / DAY as f64 * day_w;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<title>{}</title><rect width="100%" height="100%" fill="white"/>"#, esc(title));
    let _ = writeln!(s, r##"<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>"##);
    let _ = writeln!(s, r#"<text x="10" y="22" font-size="16" font-weight="bold">{}</text>"#, esc(title));
    // Day grid and labels.
    let step = if days > 120 { 14 } else if days > 45 { 7 } else { 1 };
    let mut d = 0;
    while d <= days {
        let t = lo + d * DAY;
        let xx = x(t);
        let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##, top - 10.0, height - 20.0);
        if d < days {
            let day = ctx.day_of(t);
            let _ = writeln!(s, r##"<text x="{:.1}" y="{}" fill="#666" font-size="10">{}/{}</text>"##, xx + 2.0, top - 14.0, day.month(), day.day());
        }
        d += step;
    }
    let mut pos: HashMap<i64, (f64, f64, f64)> = HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let (a, b, overdue) = span(t, now);
        let owners = data.owner_names(t).join("、");
        let label = format!("#{} {} · {}", t.reference, t.title, if owners.is_empty() { "未指定" } else { &owners });
        let _ = writeln!(s, r#"<text x="6" y="{:.1}">{}</text>"#, y + 16.0, esc(&truncate(&label, 30)));
        let (x1, x2) = (x(a), x(b));
        let class = if t.status == TaskStatus::Done { "done" } else if overdue { "overdue" } else { "open" };
        let fill = match class {
            "done" => "#52c41a",
            "overdue" => "#f5222d",
            _ => "#1677ff",
        };
        if overdue {
            // The planned part in blue, the overdue part in red.
            let due_x = x(t.due.unwrap_or(b)).max(x1);
            let _ = writeln!(s, r##"<rect class="bar open" x="{x1:.1}" y="{:.1}" width="{:.1}" height="14" rx="3" fill="#1677ff"/>"##, y + 5.0, (due_x - x1).max(0.0));
            let _ = writeln!(s, r##"<rect class="bar overdue" x="{due_x:.1}" y="{:.1}" width="{:.1}" height="14" rx="3" fill="{fill}"><title>已逾期</title></rect>"##, y + 5.0, (x2 - due_x).max(1.0));
        } else {
            let _ = writeln!(s, r#"<rect class="bar {class}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="14" rx="3" fill="{fill}"/>"#, y + 5.0, (x2 - x1).max(2.0));
        }
        if t.progress > 0 && t.progress < 100 {
            let _ = writeln!(s, r##"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="4" fill="#003a8c"/>"##, y + 15.0, (x2 - x1) * f64::from(t.progress) / 100.0);
        }
        pos.insert(t.id, (x1, x2, y + 12.0));
    }
    for t in &tasks {
        for dep in &t.depends_on {
            if let (Some((_, end, y1)), Some((start, _, y2))) = (pos.get(dep), pos.get(&t.id)) {
                let _ = writeln!(
                    s,
                    r##"<path class="dependency" d="M{end:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {start:.1},{y2:.1}" fill="none" stroke="#555" marker-end="url(#arrow)"/>"##,
                    end + 12.0,
                    start - 12.0
                );
            }
        }
    }
    let mut row = tasks.len();
    for m in &data.milestones {
        let Some(due) = m.due_at else { continue };
        let y = top + row as f64 * row_h + 12.0;
        let xx = x(due);
        let _ = writeln!(s, r#"<text x="6" y="{:.1}">◆ {}</text>"#, y + 4.0, esc(&truncate(&m.name, 30)));
        let _ = writeln!(
            s,
            r##"<path class="milestone" d="M{xx:.1},{:.1} L{:.1},{y:.1} L{xx:.1},{:.1} L{:.1},{y:.1} z" fill="#722ed1"/>"##,
            y - 7.0,
            xx + 7.0,
            y + 7.0,
            xx - 7.0
        );
        row += 1;
    }
    let tx = x(now);
    let _ = writeln!(s, r##"<line class="today" x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{:.1}" stroke="#f5222d" stroke-dasharray="4 3"/>"##, top - 10.0, height - 20.0);
    let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}" fill="#f5222d">今天</text>"##, tx + 3.0, height - 8.0);
    s.push_str("</svg>\n");
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Mermaid task names may not contain `:` `#` `;` or line breaks.
fn mermaid_text(s: &str) -> String {
    s.chars().map(|c| if matches!(c, ':' | '#' | ';' | '\n' | '\r') { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// The chart as Mermaid `gantt` text, one section per owner.
pub fn mermaid(data: &Dataset, ctx: &Ctx, title: &str) -> String {
    let tasks = ordered(data);
    let mut out = format!("gantt\n    title {}\n    dateFormat YYYY-MM-DD HH:mm\n    axisFormat %m-%d\n    todayMarker on\n", mermaid_text(title));
    let ids: HashMap<i64, String> = tasks.iter().map(|t| (t.id, format!("t{}", t.id))).collect();
    let mut sections: Vec<(String, Vec<&RTask>)> = Vec::new();
    for t in &tasks {
        let owner = t.owners.first().map(|o| data.member_name(*o)).unwrap_or_else(|| "未指定".into());
        match sections.iter_mut().find(|(n, _)| *n == owner) {
            Some((_, v)) => v.push(t),
            None => sections.push((owner, vec![t])),
        }
    }
    let fmt = |t: i64| jiff::Timestamp::from_second(t).unwrap_or_default().to_zoned(ctx.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    for (owner, v) in sections {
        let _ = writeln!(out, "    section {}", mermaid_text(&owner));
        for t in v {
            let (a, b, overdue) = span(t, ctx.now);
            let mut tags = Vec::new();
            if t.status == TaskStatus::Done {
                tags.push("done");
            } else if overdue {
                tags.push("crit");
            } else if matches!(t.status, TaskStatus::InProgress | TaskStatus::Review) {
                tags.push("active");
            }
            let id = &ids[&t.id];
            let deps: Vec<&str> = t.depends_on.iter().filter_map(|d| ids.get(d).map(String::as_str)).collect();
            let start = if deps.is_empty() { fmt(a) } else { format!("after {}", deps.join(" ")) };
            let mut fields: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
            fields.push(id.clone());
            fields.push(start);
            fields.push(fmt(b));
            let _ = writeln!(out, "    {} {} : {}", t.reference, mermaid_text(&t.title), fields.join(", "));
        }
    }
    let ms: Vec<_> = data.milestones.iter().filter(|m| m.due_at.is_some()).collect();
    if !ms.is_empty() {
        out.push_str("    section 里程碑\n");
        for m in ms {
            let _ = writeln!(out, "    {} : milestone, m{}, {}, 0d", mermaid_text(&m.name), m.id, fmt(m.due_at.unwrap_or_default()));
        }
    }
    out
}
