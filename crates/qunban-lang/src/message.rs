//! Chat messages to intents.
//!
//! One message goes through the readers from the most structured to the
//! least: a stand-up (section headers), a task template (field markers),
//! updates (a task reference), and finally free text. The first reader that
//! recognises the message decides; structure is a stronger signal than words,
//! and a template that happens to contain `#TASK-001` must still be read as
//! a template.
//!
//! Choices where the product brief was silent (the corpus in
//! `tests/data/messages.jsonl` pins each of them):
//!
//! - Normalization turns full-width ASCII into half-width, except `，（）！？；`
//!   which belong to Chinese text and stay in titles as typed. Emoji are
//!   dropped (they never carry a value); a message of only emoji is chit-chat.
//! - References: with `#` anything alphanumeric is a reference (`#3`,
//!   `#task-001`, `#TASK001` → `TASK-001`); without `#` only `LETTERS-DIGITS`
//!   or `TASK` + digits at the start of the message, because `P0`, `v2`,
//!   `UTF8` are everyday chat words. `3号任务` is not a reference.
//! - Progress outside 0–100, decimal (`60.5%`) or in words (`七成`) is no
//!   progress: the field is left out rather than clamped or rounded, and an
//!   update left with nothing is `none`. `100%` stays progress 100 without a
//!   status; the interpreter decides whether that closes the task.
//! - A completion word after a bounded deadline (`#3 周五前完成`) or after a
//!   planning word (`预计明天完成`) is not a done status. Negated status words
//!   (`还没完成`) are no status.
//! - Free-text titles keep the writer's word order with the owner, the
//!   deadline, politeness and a leading `把`/`将` removed
//!   (`@张三 明天下午3点前把需求文档写完` → `需求文档写完`); `一下` is dropped.
//!   With `X负责Y` the title is `Y`.
//! - A bare name (no `@`) is an owner only after an assignment word
//!   (`请`, `麻烦`, `让`, `交给`, `由`, before `负责`) or at the start of the
//!   sentence, and only if it starts with a common surname or `小`/`老`/`阿`
//!   (English: capitalised, `Tom`). Without a team directory this is what
//!   separates `张三明天…` from `文档明天…`.
//! - Requests addressed to everyone (`@所有人`, `请大家…`) are announcements.
//! - `我` at the start of a sentence (`我今天下班前…`, `我来…`) is the
//!   sender; `我们` names nobody.
//! - Polite questions (`能不能…`, `…吗`) are questions: a false task costs
//!   more than a missed one, which the template still covers.
//! - Stand-ups: `今日完成`/`今日进展` are work done and go to `yesterday`
//!   ("done since the last stand-up"); `明日计划` goes to `today` only when
//!   the post has no plan for today, otherwise it is dropped rather than mixed.

mod common;
mod freetext;
mod lex;
mod normalize;
mod owners;
mod quote;
pub mod segment;
mod standup;
mod template;
mod update;

use crate::intent::{Intent, MessageContext};

pub use normalize::{normalize, Normalized};

/// Messages longer than this are not chat lines but pasted documents; the
/// parser reads only their beginning so its cost stays bounded.
const MAX_BYTES: usize = 16 * 1024;

/// What a message asks for; `[Intent::None]` when it asks for nothing.
pub fn parse_message(text: &str, ctx: &MessageContext<'_>) -> Vec<Intent> {
    let cut = floor_char_boundary(text, MAX_BYTES);
    let norm = Normalized::new(&text[..cut]);
    let mut intents = parse_normalized(norm.text.trim(), ctx);
    for i in &mut intents {
        restore_written(i, &norm);
    }
    intents
}

fn parse_normalized(t: &str, ctx: &MessageContext<'_>) -> Vec<Intent> {
    let split = quote::split(t);
    let t = split.reply.trim();
    if t.is_empty() {
        return vec![Intent::None];
    }
    if let Some(s) = standup::parse(t) {
        return vec![Intent::Standup(s)];
    }
    if standup::is_report_without_sections(t) {
        return vec![Intent::None];
    }
    let tasks = template::parse(t, ctx);
    if !tasks.is_empty() {
        return tasks.into_iter().map(Intent::CreateTask).collect();
    }
    let topic = split.quote.as_deref().map(quote::topic);
    // Several lines (or `，@乙 …` clauses) that each carry an intent are
    // read one by one, in order; otherwise the message is one sentence
    // that may wrap, unless read whole it says nothing while one line
    // does (`各位，明后两天请假` + `TASK-008 转给 @李建国`).
    let pieces = pieces(t);
    let mut read: Vec<Vec<Intent>> = Vec::new();
    if pieces.len() > 1 {
        read = pieces.iter().map(|p| parse_sentence(p, topic.as_deref(), ctx)).collect();
        let acting = read.iter().filter(|r| r.iter().any(|i| *i != Intent::None)).count();
        if acting > 1 {
            let mut out: Vec<Intent> = read.into_iter().flatten().filter(|i| *i != Intent::None).collect();
            shared_deadline(t, &mut out, ctx);
            return out;
        }
    }
    let whole = parse_sentence(t, topic.as_deref(), ctx);
    if whole == [Intent::None] {
        if let Some(one) = read.into_iter().find(|r| r.iter().any(|i| *i != Intent::None)) {
            return one;
        }
    }
    whole
}

/// One sentence (or a message read as one): updates by reference first,
/// then a free-text assignment.
fn parse_sentence(t: &str, topic: Option<&str>, ctx: &MessageContext<'_>) -> Vec<Intent> {
    if let Some(updates) = update::parse(t, ctx) {
        return updates;
    }
    match freetext::parse(t, topic, ctx) {
        Some(task) => vec![Intent::CreateTask(task)],
        None => vec![Intent::None],
    }
}

/// `今天下班前：@甲 …；@乙 …`: a deadline in the heading before the first
/// assignment applies to every assignment that names none of its own.
fn shared_deadline(t: &str, intents: &mut [Intent], ctx: &MessageContext<'_>) {
    let head_end = t.find(['@', '\n']).unwrap_or(0);
    let head = t[..head_end].trim_end();
    if !head.ends_with([':', '：']) {
        return;
    }
    let found = crate::deadline::find_deadlines(head, &ctx.now, ctx.calendar);
    let [only] = found.as_slice() else { return };
    for i in intents {
        if let Intent::CreateTask(f) = i {
            if f.due.is_none() && f.due_candidates.is_empty() && f.due_text.is_none() {
                f.due = Some(only.at.clone());
            }
        }
    }
}

/// Lines, and within a line the clauses that start with a new `@mention`
/// after a clause break (`@甲 周三前出初稿，@乙 周四前审完`).
fn pieces(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    // A heading line (`今天分工：`) introduces the lines after it.
    let heading = |l: &str| l.ends_with([':', '：']) && !l.contains('@') && !l.contains('#');
    for line in t.lines().map(str::trim).filter(|l| !l.is_empty() && !heading(l)) {
        let mut start = 0;
        // A clause that already addressed someone or a task (`@甲 …`,
        // `#41 已完成`) ends where the next `@乙` starts.
        let mut seen = line.starts_with('#');
        for (i, c) in line.char_indices() {
            if c != '@' {
                continue;
            }
            let before = line[start..i].trim_end();
            let after_break = before.ends_with([',', '，', ';', '；', '。', '!', '！']);
            if seen && after_break && !before.is_empty() {
                out.push(line[start..i].trim());
                start = i;
            }
            seen = true;
        }
        out.push(line[start..].trim());
    }
    out
}

/// Titles and notes as the writer typed them (full-width punctuation,
/// Traditional characters), though they were read from the normalized text.
fn restore_written(intent: &mut Intent, norm: &Normalized) {
    let fix = |s: &mut Option<String>| {
        if let Some(v) = s.as_mut() {
            *v = norm.restore(v);
        }
    };
    match intent {
        Intent::CreateTask(f) => {
            fix(&mut f.title);
            fix(&mut f.note);
            f.owners.iter_mut().for_each(|o| *o = norm.restore(o));
        }
        Intent::UpdateTask(u) => {
            fix(&mut u.title);
            fix(&mut u.note);
            u.owners.iter_mut().for_each(|o| *o = norm.restore(o));
        }
        Intent::Standup(s) => {
            for item in s.yesterday.iter_mut().chain(s.today.iter_mut()).chain(s.blockers.iter_mut()) {
                *item = norm.restore(item);
            }
        }
        Intent::None => {}
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}
