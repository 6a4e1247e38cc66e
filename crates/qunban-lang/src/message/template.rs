//! The task template teams paste into chats:
//! `【任务编号】#TASK-001 【标题】需求文档撰写 【责任人】张三 【截止时间】2026-01-15`.
//!
//! Fields come as `【key】value`, `[key]value`, or `key: value`. A message may
//! define several tasks; a new task starts when a reference or title field
//! arrives after the current task already has one (or has body fields).

use crate::deadline::parse_deadline;
use crate::intent::{MessageContext, TaskFields};

use super::lex::{self, is_cjk, trim_punct};
use super::owners::split_owner_list;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ref,
    Title,
    Owner,
    Due,
    Status,
    Priority,
    Project,
    Milestone,
    Depends,
    Progress,
    Note,
}

/// Aliases, longest first within a field so `截止时间` wins over `截止`.
const ALIASES: &[(&str, Field)] = &[
    ("任务编号", Field::Ref),
    ("任务ID", Field::Ref),
    ("任务id", Field::Ref),
    ("任务号", Field::Ref),
    ("编号", Field::Ref),
    ("ID", Field::Ref),
    ("id", Field::Ref),
    ("任务名称", Field::Title),
    ("任务标题", Field::Title),
    ("任务名", Field::Title),
    ("任务", Field::Title),
    ("标题", Field::Title),
    ("事项", Field::Title),
    ("负责人", Field::Owner),
    ("责任人", Field::Owner),
    ("执行人", Field::Owner),
    ("处理人", Field::Owner),
    ("经办人", Field::Owner),
    ("owner", Field::Owner),
    ("Owner", Field::Owner),
    ("OWNER", Field::Owner),
    ("截止时间", Field::Due),
    ("截止日期", Field::Due),
    ("截至时间", Field::Due),
    ("截至日期", Field::Due),
    ("完成时间", Field::Due),
    ("到期时间", Field::Due),
    ("截止", Field::Due),
    ("截至", Field::Due),
    ("DDL", Field::Due),
    ("ddl", Field::Due),
    ("Ddl", Field::Due),
    ("deadline", Field::Due),
    ("Deadline", Field::Due),
    ("DEADLINE", Field::Due),
    ("状态", Field::Status),
    ("优先级", Field::Priority),
    ("所属项目", Field::Project),
    ("项目", Field::Project),
    ("里程碑", Field::Milestone),
    ("依赖", Field::Depends),
    ("前置任务", Field::Depends),
    ("进度", Field::Progress),
    ("备注", Field::Note),
    ("说明", Field::Note),
];

/// One `key` marker in the text: where it starts, where its value starts.
#[derive(Debug, Clone, Copy)]
struct Marker {
    field: Field,
    start: usize,
    value_start: usize,
}

/// The tasks a template message defines; empty when it is not a template.
pub fn parse(text: &str, ctx: &MessageContext<'_>) -> Vec<TaskFields> {
    let mut markers = bracket_markers(text);
    if markers.is_empty() {
        markers = colon_markers(text);
        if markers.len() < 2 {
            return Vec::new();
        }
    }
    let defines_task = markers.iter().any(|m| m.field == Field::Title)
        || (markers.iter().any(|m| m.field == Field::Ref) && markers.len() >= 2);
    if !defines_task {
        return Vec::new();
    }
    let mut tasks = Vec::new();
    let mut current = Block::default();
    for (k, m) in markers.iter().enumerate() {
        let end = markers.get(k + 1).map_or(text.len(), |n| n.start);
        let raw = &text[m.value_start..end];
        let value = if m.field == Field::Note { lex::trim_note(raw.trim()) } else { clean_value(raw) };
        if current.starts_new_block(m.field) {
            tasks.extend(current.finish());
            current = Block::default();
        }
        current.set(m.field, value, ctx);
    }
    tasks.extend(current.finish());
    tasks
}

/// Fields in `【key】` or `[key]` form.
fn bracket_markers(text: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        let close = match c {
            '【' => '】',
            '[' => ']',
            _ => continue,
        };
        let inner_start = i + c.len_utf8();
        // Keys are short: looking further would make a message full of
        // brackets quadratic.
        let window = floor_boundary(text, (inner_start + 40).min(text.len()));
        let Some(rel) = text[inner_start..window].find(close) else { continue };
        let inner = text[inner_start..inner_start + rel].trim();
        if inner.chars().count() > 8 {
            continue;
        }
        if let Some(field) = alias(inner) {
            let value_start = inner_start + rel + close.len_utf8();
            out.push(Marker { field, start: i, value_start: skip_colon(text, value_start) });
        }
    }
    out
}

/// Fields in `key: value` form; the key must start a line or follow a
/// separator, so `本次任务: …` inside a sentence is not a title field.
fn colon_markers(text: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if c != ':' {
            continue;
        }
        let before = text[..i].trim_end_matches(' ');
        let Some((field, key_start)) = ALIASES.iter().find_map(|&(a, f)| {
            let ks = before.len().checked_sub(a.len())?;
            (before.ends_with(a) && at_boundary(text, ks, a)).then_some((f, ks))
        }) else {
            continue;
        };
        out.push(Marker { field, start: key_start, value_start: i + 1 });
    }
    out
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn at_boundary(text: &str, start: usize, alias: &str) -> bool {
    match text[..start].chars().next_back() {
        None => true,
        Some(c) if alias.is_ascii() && c.is_ascii_alphanumeric() => false,
        Some(c) => !is_cjk(c) || c == '】',
    }
}

fn alias(key: &str) -> Option<Field> {
    let key = key.trim_end_matches([':', ' ']);
    ALIASES.iter().find(|(a, _)| *a == key).map(|&(_, f)| f)
}

fn skip_colon(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    let trimmed = rest.trim_start_matches([' ', ':']);
    i + (rest.len() - trimmed.len())
}

fn clean_value(v: &str) -> &str {
    trim_punct(v.trim())
}

/// The task being assembled from consecutive fields.
#[derive(Default)]
struct Block {
    task: TaskFields,
    has_ref: bool,
    has_title: bool,
    has_body: bool,
}

impl Block {
    /// A reference or title opens a new task when the current one already
    /// has that field or has moved on to its body (owner, deadline, …):
    /// `【标题】A【编号】#1` is one task, `…【负责人】X【编号】#2` is two.
    fn starts_new_block(&self, f: Field) -> bool {
        match f {
            Field::Ref => self.has_ref || (self.has_title && self.has_body),
            Field::Title => self.has_title,
            _ => false,
        }
    }

    fn set(&mut self, f: Field, v: &str, ctx: &MessageContext<'_>) {
        let t = &mut self.task;
        match f {
            Field::Ref => {
                self.has_ref = true;
                t.reference = any_ref(v);
            }
            Field::Title => {
                self.has_title = true;
                t.title = non_empty(v);
            }
            _ => {
                self.has_body = true;
                set_body(t, f, v, ctx);
            }
        }
    }

    fn finish(self) -> Option<TaskFields> {
        (self.has_ref || self.has_title).then_some(self.task)
    }
}

fn set_body(t: &mut TaskFields, f: Field, v: &str, ctx: &MessageContext<'_>) {
    match f {
        Field::Owner => t.owners.extend(split_owner_list(v)),
        Field::Due => match parse_deadline(v, &ctx.now, ctx.calendar) {
            Some(at) => t.due = Some(at),
            None => t.due_text = non_empty(v),
        },
        Field::Status => t.status = lex::status_value(v).map(str::to_string),
        Field::Priority => t.priority = lex::priority_value(v).map(str::to_string),
        Field::Project => t.project = non_empty(v),
        Field::Milestone => t.milestone = non_empty(v),
        Field::Depends => t.depends_on.extend(all_refs(v)),
        Field::Progress => {
            t.progress = lex::find_progress(&format!("进度{v}"))
                .and_then(|p| p.value)
                .filter(|&p| p <= 100)
                .and_then(|p| u8::try_from(p).ok())
        }
        Field::Note => t.note = non_empty(v),
        Field::Ref | Field::Title => {}
    }
}

fn non_empty(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

/// The reference a `【任务编号】` value names: `#TASK-001`, `TASK-001`,
/// `task001` or a bare number (a template field says it is a reference).
fn any_ref(v: &str) -> Option<String> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.to_string());
    }
    let hashed = if v.starts_with('#') { v.to_string() } else { format!("#{v}") };
    lex::ref_at(&hashed, 0).map(|r| r.canonical)
}

fn all_refs(v: &str) -> Vec<String> {
    let hashed = lex::hashed_refs(v);
    if !hashed.is_empty() {
        return hashed.into_iter().map(|r| r.canonical).collect();
    }
    v.split(|c: char| lex::is_separator(c) || c == '和')
        .filter_map(|part| any_ref(part.trim()))
        .collect()
}
