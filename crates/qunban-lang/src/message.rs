//! Chat messages to intents.
//!
//! A quote is split off first (it is context, never content). Then the
//! readers go from the most structured to the least: a stand-up (section
//! headers), a task template (field markers), and otherwise sentence by
//! sentence — each line, and each `，@乙 …` clause after an addressed one, is
//! read as an update (a task reference) or a free-text assignment, so one
//! message may carry several intents, in order. Structure is a stronger
//! signal than words: a template that happens to contain `#TASK-001` is
//! still a template.
//!
//! Choices where the product brief was silent (the corpora under
//! `tests/data/` pin each of them; `written/` was labelled by people who
//! never read this code):
//!
//! - Normalization turns full-width ASCII into half-width, Traditional into
//!   Simplified and fixes IME slips only where structure is certain (`周五钱`
//!   → `周五前`, `以完成` → `已完成`). Titles, notes and names are mapped back
//!   to what was typed (`：`, `週報`, `仝欣` stay). Emoji separate words.
//! - References: with `#` anything alphanumeric is a reference (`#3`,
//!   `#task-001`, `#TASK001` → `TASK-001`); without `#` only `LETTERS-DIGITS`
//!   (`QA-2026-017` whole) or `TASK` + digits at the start of a sentence.
//! - Progress is a number 0–100: `60%`, `进度七成` (70), `百分之四十五` (45);
//!   decimals and out-of-range figures are dropped, never clamped. `八成`
//!   without `进度` is "probably", not a figure.
//! - Never invent a status: a completion is done only when stated — not
//!   hedged (`快完成了`, `基本弄完了`, `应该好了吧`), not taken back (`写完了
//!   还差联调`, `完成了一部分`), not negated (`还没完成`, `不算完成`) and not a
//!   plan (`今天搞定`, `预计周五前完成`). Completion may be grammar rather
//!   than a listed word (`已寄出`, `办妥了`). Reopening: `重新打开`, `退回`.
//! - A date in an update moves the deadline only after a change word
//!   (`延期到`, `改到`, `推迟到`, `提前到`, `截止改为`); otherwise it is a remark.
//! - An assignment is a structure: who (`@甲`, `甲你…`, a name opening the
//!   sentence, `我`/`我来`), optionally when, and an action — `把/将 + object +
//!   verb`, any verb after the time (Chinese puts the time first), or a verb
//!   recognised by the segmenter. With `X负责Y` the title is `Y` (or the
//!   thing named before `@X 负责`).
//! - Not tasks: acknowledgements even with a next step (`好的，我跟产品对一
//!   下`), absences (`我明天请假`), complaints (`@甲 链接点不开`), praise,
//!   questions (also `…有空吗 想约您…`), reported speech in the opening clause,
//!   forwarded news and policies (`7天内全额退款`), announcements to everyone,
//!   counted past reports (`今天带看了5组客户`).
//! - Nobody named: an order with `把` or opening with its time then the verb
//!   (`周五前交周报`) is a task without owners, so the bot asks who.
//! - A bare name as subject with no `@`, `你`, request word or `把`
//!   (`李四明天整理周报`) may be a plan or an order: the task is `tentative`
//!   and the bot asks before creating it.
//! - Times that describe a thing are no deadline: `2月份的联单`, `3号仓`,
//!   `把节前报案的理赔结案`, and a later time in a remark without an action
//!   (`周日把保洁验收一下 周一开放日`).
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
    let topic = split.quote.as_deref();
    // Several lines (or `，@乙 …` clauses) that each carry an intent are
    // read one by one, in order; otherwise the message is one sentence
    // that may wrap, unless read whole it says nothing while one line
    // does (`各位，明后两天请假` + `TASK-008 转给 @李建国`).
    let pieces = pieces(t);
    let mut read: Vec<Vec<Intent>> = Vec::new();
    if pieces.len() > 1 {
        read = pieces.iter().map(|p| parse_sentence(p, topic, ctx)).collect();
        let acting = read.iter().filter(|r| r.iter().any(|i| *i != Intent::None)).count();
        if acting > 1 {
            let mut out: Vec<Intent> = read.into_iter().flatten().filter(|i| *i != Intent::None).collect();
            shared_deadline(t, &mut out, ctx);
            return out;
        }
    }
    let whole = parse_sentence(t, topic, ctx);
    if whole == [Intent::None] {
        if let Some(one) = read.into_iter().find(|r| r.iter().any(|i| *i != Intent::None)) {
            return one;
        }
    }
    whole
}

/// One sentence (or a message read as one): updates by reference first,
/// then a free-text assignment.
fn parse_sentence(t: &str, quote: Option<&str>, ctx: &MessageContext<'_>) -> Vec<Intent> {
    if let Some(updates) = update::parse(t, ctx) {
        return updates;
    }
    match freetext::parse(t, quote, ctx) {
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
            // After an update (`#3 已完成 @李四 接着…`) a space is break enough.
            let after_break = before.ends_with([',', '，', ';', '；', '。', '!', '！'])
                || (line[start..].starts_with('#') && line[..i].ends_with(' ') && !before.ends_with(['给', '由', '成', '交', '派', '为']));
            if seen && after_break && !before.is_empty() {
                out.push(line[start..i].trim());
                start = i;
            }
            seen = true;
        }
        // Voice-to-text runs orders together with 然后/另外/同时; a split
        // counts only if both sides act (see the caller).
        let rest = &line[start..];
        let mut from = 0;
        for (k, _) in rest.match_indices(['然', '另', '同']) {
            let after = &rest[k..];
            let word = ["然后", "另外", "同时"].iter().find(|x| after.starts_with(**x));
            if let Some(word) = word {
                if rest[from..k].chars().count() >= 4 {
                    out.push(rest[from..k].trim());
                    from = k + word.len();
                }
            }
        }
        out.push(rest[from..].trim());
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
