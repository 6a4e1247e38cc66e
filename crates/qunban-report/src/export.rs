//! Exports: CSV, XLSX, ICS (RFC 5545) and JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use jiff::civil::{Date, DateTime};
use qunban_core::TaskStatus;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::Serialize;

use crate::{Ctx, Dataset, RTask};

/// The export columns, in order; CSV and XLSX use these headers and the
/// importer reads them back.
pub const HEADERS: [&str; 11] = ["任务编号", "标题", "负责人", "状态", "进度", "优先级", "截止时间", "创建时间", "完成时间", "所属项目", "里程碑"];

/// One exported row, with local times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    pub reference: String,
    pub title: String,
    pub owners: String,
    pub status: String,
    pub progress: u8,
    pub priority: String,
    pub due: Option<DateTime>,
    pub created: DateTime,
    pub done: Option<DateTime>,
    pub project: String,
    /// The milestone's name, or empty.
    pub milestone: String,
}

fn local(ctx: &Ctx, t: i64) -> DateTime {
    jiff::Timestamp::from_second(t).unwrap_or_default().to_zoned(ctx.tz.clone()).datetime()
}

fn sorted(data: &Dataset) -> Vec<&RTask> {
    let mut v: Vec<&RTask> = data.tasks.iter().collect();
    v.sort_by(|a, b| a.project_id.cmp(&b.project_id).then_with(|| a.reference.cmp(&b.reference)));
    v
}

pub fn rows(data: &Dataset, ctx: &Ctx) -> Vec<ExportRow> {
    sorted(data)
        .into_iter()
        .map(|t| ExportRow {
            reference: t.reference.clone(),
            title: t.title.clone(),
            owners: data.owner_names(t).join("、"),
            status: t.status.zh().to_string(),
            progress: t.progress,
            priority: t.priority.as_deref().map(str::to_ascii_uppercase).unwrap_or_default(),
            due: t.due.map(|d| local(ctx, d)),
            created: local(ctx, t.created_at),
            done: t.done_at.map(|d| local(ctx, d)),
            project: data.project_name(t.project_id),
            milestone: t.milestone_id.and_then(|m| data.milestones.iter().find(|ms| ms.id == m)).map(|ms| ms.name.clone()).unwrap_or_default(),
        })
        .collect()
}

fn dt_text(d: Option<DateTime>) -> String {
    d.map(|d| d.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// CSV with a UTF-8 byte-order mark (so Excel opens the Chinese correctly)
/// and local times as `YYYY-MM-DD HH:MM`.
pub fn csv(data: &Dataset, ctx: &Ctx) -> Result<Vec<u8>, csv::Error> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS)?;
        for r in rows(data, ctx) {
            w.write_record([
                r.reference,
                r.title,
                r.owners,
                r.status,
                r.progress.to_string(),
                r.priority,
                dt_text(r.due),
                dt_text(Some(r.created)),
                dt_text(r.done),
                r.project,
                r.milestone,
            ])?;
        }
        w.flush()?;
    }
    Ok(out)
}

fn excel_dt(d: DateTime) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?.and_hms(d.hour() as u16, d.minute() as u8, d.second() as f64)
}

/// A valid, unique worksheet name (31 characters, none of `[]:*?/\`).
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
    let clean = clean.trim_matches('\'').to_string();
    let base: String = if clean.is_empty() { "项目".into() } else { clean.chars().take(28).collect() };
    let mut n = base.clone();
    let mut i = 2;
    while used.iter().any(|u| u.to_lowercase() == n.to_lowercase()) {
        n = format!("{base}-{i}");
        i += 1;
    }
    used.push(n.clone());
    n
}

/// XLSX: a summary sheet (汇总), then one sheet per project with the task
/// rows; dates are real Excel date-times formatted `yyyy-mm-dd hh:mm`.
pub fn xlsx(data: &Dataset, ctx: &Ctx) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let pct = Format::new().set_num_format("0%");
    let all = rows(data, ctx);
    let mut by_project: BTreeMap<String, Vec<&ExportRow>> = BTreeMap::new();
    for p in &data.projects {
        by_project.entry(p.name.clone()).or_default();
    }
    for r in &all {
        by_project.entry(r.project.clone()).or_default().push(r);
    }
    let mut used = vec!["汇总".to_string()];
    {
        let s = wb.add_worksheet();
        s.set_name("汇总")?;
        let heads = ["所属项目", "任务总数", "未完成", "已完成", "已取消", "逾期", "完成率"];
        for (c, h) in heads.iter().enumerate() {
            s.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        s.set_column_width(0, 20)?;
        for (i, (project, rows)) in by_project.iter().enumerate() {
            let row = (i + 1) as u32;
            let pid = data.projects.iter().find(|p| &p.name == project).map(|p| p.id);
            let tasks: Vec<&RTask> = data.tasks.iter().filter(|t| Some(t.project_id) == pid).collect();
            let done = tasks.iter().filter(|t| t.status == TaskStatus::Done).count();
            let cancelled = tasks.iter().filter(|t| t.status == TaskStatus::Cancelled).count();
            let open = tasks.len() - done - cancelled;
            let overdue = tasks.iter().filter(|t| !t.status.is_closed() && t.due.is_some_and(|d| d < ctx.now)).count();
            s.write_string(row, 0, project)?;
            s.write_number(row, 1, rows.len() as f64)?;
            s.write_number(row, 2, open as f64)?;
            s.write_number(row, 3, done as f64)?;
            s.write_number(row, 4, cancelled as f64)?;
            s.write_number(row, 5, overdue as f64)?;
            let denom = (tasks.len() - cancelled) as f64;
            if denom > 0.0 {
                s.write_number_with_format(row, 6, done as f64 / denom, &pct)?;
            }
        }
    }
    for (project, rows) in &by_project {
        let s = wb.add_worksheet();
        s.set_name(sheet_name(project, &mut used))?;
        for (c, h) in HEADERS.iter().enumerate() {
            s.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (c, w) in [12, 36, 16, 10, 8, 8, 18, 18, 18, 16, 16].iter().enumerate() {
            s.set_column_width(c as u16, *w)?;
        }
        s.set_freeze_panes(1, 0)?;
        for (i, r) in rows.iter().enumerate() {
            let row = (i + 1) as u32;
            s.write_string(row, 0, &r.reference)?;
            s.write_string(row, 1, &r.title)?;
            s.write_string(row, 2, &r.owners)?;
            s.write_string(row, 3, &r.status)?;
            s.write_number(row, 4, f64::from(r.progress))?;
            s.write_string(row, 5, &r.priority)?;
            if let Some(d) = r.due {
                s.write_datetime_with_format(row, 6, excel_dt(d)?, &date)?;
            }
            s.write_datetime_with_format(row, 7, excel_dt(r.created)?, &date)?;
            if let Some(d) = r.done {
                s.write_datetime_with_format(row, 8, excel_dt(d)?, &date)?;
            }
            s.write_string(row, 9, &r.project)?;
            if !r.milestone.is_empty() {
                s.write_string(row, 10, &r.milestone)?;
            }
        }
        if !rows.is_empty() {
            s.autofilter(0, 0, rows.len() as u32, (HEADERS.len() - 1) as u16)?;
        }
    }
    wb.save_to_buffer()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn ics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (never inside a UTF-8 character) and
/// ends it with CRLF (RFC 5545 §3.1).
pub fn fold_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

fn ics_utc(t: i64) -> String {
    jiff::Timestamp::from_second(t).unwrap_or_default().strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// What an ICS feed covers.
#[derive(Debug, Clone)]
pub struct IcsOptions {
    /// `X-WR-CALNAME`.
    pub name: String,
    /// Only tasks this member owns.
    pub member: Option<i64>,
    /// Include closed tasks (as cancelled / completed events).
    pub include_closed: bool,
    /// Minutes before the deadline for a display alarm.
    pub alarm_minutes: Option<u32>,
    /// Domain in the stable UIDs.
    pub uid_domain: String,
}

impl Default for IcsOptions {
    fn default() -> Self {
        IcsOptions { name: "qunban".into(), member: None, include_closed: false, alarm_minutes: Some(60), uid_domain: "qunban".into() }
    }
}

/// An iCalendar feed of task deadlines: one VEVENT per task with a deadline,
/// with a UID stable per task so calendar apps update events in place.
pub fn ics(data: &Dataset, ctx: &Ctx, opts: &IcsOptions) -> String {
    let mut out = String::new();
    let mut line = |s: &str| fold_line(&mut out, s);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//qunban//qunban reports//ZH");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", ics_escape(&opts.name)));
    line("X-WR-TIMEZONE:Asia/Shanghai");
    let stamp = ics_utc(ctx.now);
    for t in sorted(data) {
        let Some(due) = t.due else { continue };
        if opts.member.is_some_and(|m| !t.owners.contains(&m)) {
            continue;
        }
        if t.status.is_closed() && !opts.include_closed {
            continue;
        }
        let project = data.project_name(t.project_id);
        let owners = data.owner_names(t).join("、");
        line("BEGIN:VEVENT");
        line(&format!("UID:task-{}-{}@{}", t.project_id, t.id, opts.uid_domain));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("DTSTART:{}", ics_utc(due)));
        line(&format!("DTEND:{}", ics_utc(due + 1800)));
        line(&format!("SUMMARY:{}", ics_escape(&format!("【{}】#{} {}", project, t.reference, t.title))));
        let desc = format!(
            "负责人：{}\n状态：{}（{}%）\n截止：{}",
            if owners.is_empty() { "未指定" } else { &owners },
            t.status.zh(),
            t.progress,
            ctx.fmt(due)
        );
        line(&format!("DESCRIPTION:{}", ics_escape(&desc)));
        line(&format!("CATEGORIES:{}", ics_escape(&project)));
        line(&format!("LAST-MODIFIED:{}", ics_utc(t.updated_at)));
        line(&format!(
            "STATUS:{}",
            match t.status {
                TaskStatus::Cancelled => "CANCELLED",
                _ => "CONFIRMED",
            }
        ));
        if let (Some(min), false) = (opts.alarm_minutes, t.status.is_closed()) {
            line("BEGIN:VALARM");
            line("ACTION:DISPLAY");
            line(&format!("DESCRIPTION:{}", ics_escape(&format!("#{} {} 即将到期", t.reference, t.title))));
            line(&format!("TRIGGER:-PT{min}M"));
            line("END:VALARM");
        }
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// Local-date helper for callers: a civil date at a given local time.
pub fn local_instant(ctx: &Ctx, d: Date, h: i8, m: i8, s: i8) -> i64 {
    d.at(h, m, s, 0).to_zoned(ctx.tz.clone()).map(|z| z.timestamp().as_second()).unwrap_or(0)
}

/// Everything, as JSON (the dataset plus the export rows).
pub fn json(data: &Dataset, ctx: &Ctx) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = sorted(data)
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "reference": t.reference,
                "title": t.title,
                "project": data.project_name(t.project_id),
                "owners": data.owner_names(t),
                "status": t.status,
                "progress": t.progress,
                "priority": t.priority,
                "due": t.due.map(|d| jiff::Timestamp::from_second(d).unwrap_or_default().to_string()),
                "created_at": jiff::Timestamp::from_second(t.created_at).unwrap_or_default().to_string(),
                "done_at": t.done_at.map(|d| jiff::Timestamp::from_second(d).unwrap_or_default().to_string()),
                "depends_on": t.depends_on,
            })
        })
        .collect();
    let mut s = String::new();
    let _ = write!(s, "{}", ctx.fmt(ctx.now));
    serde_json::json!({ "generated_at": s, "tasks": rows })
}
