//! Reading tasks from CSV or XLSX files, with every row validated before
//! anything is written: a file imports whole or not at all.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use jiff::civil::{Date, DateTime};
use qunban_core::{Priority, TaskStatus};
use serde::Serialize;

use crate::Ctx;

/// A validated row, ready to become a `CreateTask` command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRow {
    /// 1-based line / row number in the file (the header is row 1).
    pub row: usize,
    pub reference: Option<String>,
    pub title: String,
    pub owners: Vec<String>,
    pub status: Option<TaskStatus>,
    pub progress: Option<u8>,
    pub priority: Option<Priority>,
    pub due: Option<i64>,
    pub project: Option<String>,
    pub note: Option<String>,
    /// The milestone's name (created in the project when it does not exist).
    pub milestone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "row {}, column {c}: {}", self.row, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// A cell as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel serial date-time (days since 1899-12-30, local time).
    Excel(f64),
}

impl Cell {
    fn text(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Cell::Number(n) | Cell::Excel(n) => Some(if n.fract() == 0.0 { format!("{}", *n as i64) } else { n.to_string() }),
        }
    }
}

/// The outcome of reading a file: the rows that passed and the errors.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the CSV file: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot read the XLSX file: {0}")]
    Xlsx(String),
    #[error("the file has no header row")]
    Empty,
}

/// Reads a CSV file (UTF-8, with or without a byte-order mark).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, ImportError> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push(rec.iter().map(|s| if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) }).collect());
    }
    Ok(out)
}

/// Reads the first worksheet of an XLSX file, or the sheet `sheet`.
pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<Vec<Cell>>, ImportError> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).map_err(|e: calamine::XlsxError| ImportError::Xlsx(e.to_string()))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) => s.to_string(),
        None => names
            .iter()
            .find(|n| n.as_str() != "汇总")
            .or_else(|| names.first())
            .cloned()
            .ok_or(ImportError::Empty)?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| ImportError::Xlsx(e.to_string()))?;
    Ok(range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c.clone() {
                    Data::Empty => Cell::Empty,
                    Data::String(s) if s.trim().is_empty() => Cell::Empty,
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
                    Data::Int(i) => Cell::Number(i as f64),
                    Data::Float(f) => Cell::Number(f),
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    Data::DateTime(d) => Cell::Excel(d.as_f64()),
                    Data::Error(e) => Cell::Text(format!("#{e:?}")),
                })
                .collect()
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Reference,
    Title,
    Owners,
    Status,
    Progress,
    Priority,
    Due,
    Project,
    Note,
    Milestone,
    Ignored,
}

fn column(h: &str) -> Col {
    match h.trim().trim_start_matches('\u{feff}').to_lowercase().as_str() {
        "任务编号" | "编号" | "reference" | "ref" | "id" => Col::Reference,
        "标题" | "任务" | "title" => Col::Title,
        "负责人" | "责任人" | "owner" | "owners" => Col::Owners,
        "状态" | "status" => Col::Status,
        "进度" | "progress" => Col::Progress,
        "优先级" | "priority" => Col::Priority,
        "截止时间" | "截止日期" | "due" | "deadline" => Col::Due,
        "所属项目" | "项目" | "project" => Col::Project,
        "备注" | "note" => Col::Note,
        "里程碑" | "milestone" => Col::Milestone,
        _ => Col::Ignored,
    }
}

/// Status words in Chinese or English.
pub fn parse_status(s: &str) -> Option<TaskStatus> {
    if let Ok(st) = s.parse() {
        return Some(st);
    }
    TaskStatus::ALL.iter().copied().find(|st| st.zh() == s.trim()).or(match s.trim() {
        "未开始" => Some(TaskStatus::Todo),
        "完成" => Some(TaskStatus::Done),
        "取消" => Some(TaskStatus::Cancelled),
        _ => None,
    })
}

/// A deadline: `YYYY-MM-DD` (end of that day), `YYYY-MM-DD HH:MM[:SS]`,
/// `/` separators, RFC 3339, or an Excel serial date-time.
pub fn parse_due(cell: &Cell, ctx: &Ctx) -> Result<Option<i64>, String> {
    let to_ts = |dt: DateTime| dt.to_zoned(ctx.tz.clone()).map(|z| z.timestamp().as_second()).map_err(|e| e.to_string());
    match cell {
        Cell::Empty => Ok(None),
        Cell::Excel(n) | Cell::Number(n) => {
            if !(1.0..2_958_466.0).contains(n) {
                return Err(format!("'{n}' is not a date"));
            }
            let days = n.floor() as i64;
            let secs = ((n - n.floor()) * 86_400.0).round() as i64;
            let base = Date::constant(1899, 12, 30);
            let d = crate::add_days(base, days);
            let dt = if secs == 0 && matches!(cell, Cell::Number(_)) { d.at(23, 59, 59, 0) } else { d.at(0, 0, 0, 0) + jiff::Span::new().seconds(secs) };
            to_ts(dt).map(Some)
        }
        Cell::Text(s) => {
            let s = s.trim().replace('/', "-");
            if let Ok(t) = s.parse::<jiff::Timestamp>() {
                return Ok(Some(t.as_second()));
            }
            if s.len() > 10 {
                if let Ok(dt) = s.replacen(' ', "T", 1).parse::<DateTime>() {
                    return to_ts(dt).map(Some);
                }
            } else if let Ok(d) = s.parse::<Date>() {
                return to_ts(d.at(23, 59, 59, 0)).map(Some);
            }
            Err(format!("'{s}' is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM)"))
        }
    }
}

/// Validates every row of a table whose first row is the header.
pub fn validate(table: &[Vec<Cell>], ctx: &Ctx) -> Result<Parsed, ImportError> {
    let Some((head, body)) = table.split_first() else { return Err(ImportError::Empty) };
    let cols: Vec<Col> = head.iter().map(|c| c.text().map(|h| column(&h)).unwrap_or(Col::Ignored)).collect();
    let mut parsed = Parsed::default();
    for need in [(Col::Title, "标题"), (Col::Owners, "负责人")] {
        if !cols.contains(&need.0) {
            parsed.errors.push(RowError { row: 1, column: Some(need.1.into()), message: format!("missing column {}", need.1) });
        }
    }
    if !parsed.errors.is_empty() {
        return Ok(parsed);
    }
    for (i, cells) in body.iter().enumerate() {
        let row = i + 2;
        if cells.iter().all(|c| c.text().is_none()) {
            continue;
        }
        let mut r = ImportRow { row, reference: None, title: String::new(), owners: vec![], status: None, progress: None, priority: None, due: None, project: None, note: None, milestone: None };
        let mut errs = Vec::new();
        let mut err = |col: &str, msg: String| errs.push(RowError { row, column: Some(col.into()), message: msg });
        for (c, cell) in cols.iter().zip(cells.iter().chain(std::iter::repeat(&Cell::Empty))) {
            let text = cell.text();
            match c {
                Col::Reference => r.reference = text,
                Col::Title => r.title = text.unwrap_or_default(),
                Col::Owners => {
                    r.owners = text
                        .unwrap_or_default()
                        .split(['、', ',', '，', ';', '；', ' '])
                        .map(|s| s.trim().trim_start_matches('@').to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }
                Col::Status => {
                    if let Some(t) = text {
                        match parse_status(&t) {
                            Some(s) => r.status = Some(s),
                            None => err("状态", format!("unknown status '{t}' (use 待办/进行中/阻塞/暂停/待验收/已完成/已取消)")),
                        }
                    }
                }
                Col::Progress => {
                    if let Some(t) = text {
                        let n = match cell {
                            Cell::Number(n) if *n <= 1.0 && n.fract() != 0.0 => Some((n * 100.0).round() as i64),
                            _ => t.trim_end_matches('%').trim().parse::<f64>().ok().map(|f| f.round() as i64),
                        };
                        match n.filter(|n| (0..=100).contains(n)) {
                            Some(n) => r.progress = Some(n as u8),
                            None => err("进度", format!("bad progress '{t}' (0–100)")),
                        }
                    }
                }
                Col::Priority => {
                    if let Some(t) = text {
                        match t.parse::<Priority>() {
                            Ok(p) => r.priority = Some(p),
                            Err(_) => err("优先级", format!("unknown priority '{t}' (P0–P3)")),
                        }
                    }
                }
                Col::Due => match parse_due(cell, ctx) {
                    Ok(d) => r.due = d,
                    Err(e) => err("截止时间", e),
                },
                Col::Project => r.project = text,
                Col::Note => r.note = text,
                Col::Milestone => r.milestone = text,
                Col::Ignored => {}
            }
        }
        if r.title.is_empty() {
            err("标题", "missing title".into());
        }
        if r.owners.is_empty() {
            err("负责人", "missing owner".into());
        }
        if errs.is_empty() {
            parsed.rows.push(r);
        } else {
            parsed.errors.extend(errs);
        }
    }
    Ok(parsed)
}
