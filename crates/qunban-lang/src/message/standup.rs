//! Stand-up posts: sections for what was done, what is planned and what is
//! in the way, each a list of items.
//!
//! Section headers come as `【昨日】`, `昨天：`, `今日计划:` or a header alone
//! on its line. A header names a kind of section; `今日完成` in an evening
//! report is work done (it goes to `yesterday`, which means "done since the
//! last stand-up"), and `明日计划` is the plan (it goes to `today` only when
//! the post has no plan for today, so two days are never merged).

use crate::intent::Standup;

use super::lex::trim_punct;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Done,
    Plan,
    NextPlan,
    Blockers,
    /// `备注`/`其他`: ends the previous section; a stand-up has no field
    /// for it, and it is neither work nor an obstacle.
    Aside,
}

/// Header words, longest first so `今日计划` wins over `今日`.
const HEADERS: &[(&str, Kind)] = &[
    ("昨日工作进展", Kind::Done),
    ("昨日工作内容", Kind::Done),
    ("昨日工作", Kind::Done),
    ("昨日进展", Kind::Done),
    ("昨日完成", Kind::Done),
    ("昨天完成", Kind::Done),
    ("昨天做了", Kind::Done),
    ("今日完成", Kind::Done),
    ("今天完成", Kind::Done),
    ("今日进展", Kind::Done),
    ("今日总结", Kind::Done),
    ("今日工作内容", Kind::Plan),
    ("今日工作", Kind::Plan),
    ("今日计划", Kind::Plan),
    ("今天计划", Kind::Plan),
    ("今天要做", Kind::Plan),
    ("本周计划", Kind::Plan),
    ("计划", Kind::Plan),
    ("明日计划", Kind::NextPlan),
    ("明天计划", Kind::NextPlan),
    ("明日工作", Kind::NextPlan),
    ("遇到的问题", Kind::Blockers),
    ("需要的支持", Kind::Blockers),
    ("需要协助", Kind::Blockers),
    ("需要支持", Kind::Blockers),
    ("阻碍", Kind::Blockers),
    ("阻塞", Kind::Blockers),
    ("风险", Kind::Blockers),
    ("问题", Kind::Blockers),
    ("困难", Kind::Blockers),
    ("昨日", Kind::Done),
    ("昨天", Kind::Done),
    ("今日", Kind::Plan),
    ("今天", Kind::Plan),
    ("明日", Kind::NextPlan),
    ("明天", Kind::NextPlan),
    ("备注", Kind::Aside),
    ("其他", Kind::Aside),
    ("其它", Kind::Aside),
    ("Yesterday", Kind::Done),
    ("yesterday", Kind::Done),
    ("Today", Kind::Plan),
    ("today", Kind::Plan),
    ("Blockers", Kind::Blockers),
    ("blockers", Kind::Blockers),
];

const EMPTY_ITEMS: &[&str] = &["无", "没有", "暂无", "暂时没有", "暂时无", "none", "None", "N/A", "n/a", "/", "-", "无。"];

#[derive(Debug, Clone, Copy)]
struct Header {
    kind: Kind,
    start: usize,
    body_start: usize,
}

/// The stand-up the message is, or `None` when it is not one.
pub fn parse(text: &str) -> Option<Standup> {
    let headers = find_headers(text);
    let kinds = distinct_kinds(&headers);
    let labelled = ["站会", "日报", "standup", "Standup", "晨会"].iter().any(|w| text.contains(w));
    if kinds < 2 && !(kinds == 1 && labelled) {
        return None;
    }
    let mut out = Standup::default();
    let has_plan = headers.iter().any(|h| h.kind == Kind::Plan);
    for (k, h) in headers.iter().enumerate() {
        let end = headers.get(k + 1).map_or(text.len(), |n| n.start);
        let items = split_items(&text[h.body_start..end]);
        match h.kind {
            Kind::Done => out.yesterday.extend(items),
            Kind::Plan => out.today.extend(items),
            Kind::NextPlan if !has_plan => out.today.extend(items),
            Kind::NextPlan => {}
            Kind::Blockers => out.blockers.extend(items),
            Kind::Aside => {}
        }
    }
    Some(out)
}

/// `【日报】…` followed by a bare list: a report, but without sections the
/// parser cannot tell done from planned work, and it is no task either.
pub fn is_report_without_sections(text: &str) -> bool {
    let head = text.trim_start();
    ["【日报】", "【站会】", "【周报】", "[日报]", "[站会]", "[周报]", "#日报", "#站会", "#周报"].iter().any(|w| head.starts_with(w))
}

fn distinct_kinds(headers: &[Header]) -> usize {
    let mut kinds: Vec<Kind> = headers.iter().map(|h| h.kind).filter(|k| *k != Kind::Aside).collect();
    kinds.sort_by_key(|k| *k as u8);
    kinds.dedup();
    kinds.len()
}

/// A header word counts when it opens a line, a bracket or follows a
/// separator, and is closed by `】`, `]`, `:` or the end of its line.
fn find_headers(text: &str) -> Vec<Header> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if let Some(h) = header_at(text, i) {
            i = h.body_start;
            out.push(h);
            continue;
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

fn header_at(text: &str, i: usize) -> Option<Header> {
    // Bullets and emoji markers (`🔹昨天：`, `✅昨天：`, `- 今天:`) open a
    // line as well as its start does.
    let before = text[..i].trim_end_matches([' ', '#', '*', '√', '-', '•', '·', '>', '▪', '●', '○', '■', '□', '◆', '★', '☆']);
    let opened = match before.chars().next_back() {
        None | Some('\n' | ';' | '；' | '。' | ',' | '，' | '【' | '[') => true,
        Some(c) => c.is_ascii_digit() || c == '.' || c == '、',
    };
    let rest = &text[i..];
    let &(word, kind) = HEADERS.iter().find(|(w, _)| rest.starts_with(w))?;
    let after = &rest[word.len()..];
    // One-line posts (`昨日：… 今日：… 阻碍：无`): after a space, a header
    // closed by a colon still opens a section.
    let inline = text[..i].ends_with(' ') && after.trim_start_matches(' ').starts_with(':');
    if !opened && !inline {
        return None;
    }
    let trimmed = after.trim_start_matches(' ');
    let close = trimmed.chars().next();
    let body_start = match close {
        Some('】' | ']' | ':') => {
            let skip = after.len() - trimmed.len() + close.map_or(0, char::len_utf8);
            let next = &text[i + word.len() + skip..];
            i + word.len() + skip + (next.len() - next.trim_start_matches([':', ' ']).len())
        }
        Some('\n') | None => i + word.len() + (after.len() - trimmed.len()),
        // `昨天 需求评审` on its own line: a header when it opens the line.
        Some(_) if after.starts_with(' ') && matches!(before.chars().next_back(), None | Some('\n')) => {
            i + word.len() + (after.len() - trimmed.len())
        }
        _ => return None,
    };
    let start = match before.char_indices().next_back() {
        Some((k, '【' | '[')) => k,
        _ => i,
    };
    Some(Header { kind, start, body_start })
}

/// Items are lines, `;`-separated parts, numbered (`1.`, `1、`, `①`) or
/// bulleted (`-`, `•`, `·`) entries; `无`/`暂无` mark an empty section.
fn split_items(body: &str) -> Vec<String> {
    let mut items = Vec::new();
    for line in body.split(['\n', ';', '；']) {
        for part in split_numbered(line) {
            let item = strip_marker(part);
            let item = trim_punct(item).trim_end_matches('。');
            if item.is_empty() || EMPTY_ITEMS.contains(&item) {
                continue;
            }
            items.push(item.to_string());
        }
    }
    items
}

/// Splits `1.写接口 2.联调` and `①写接口②联调` written on one line.
fn split_numbered(line: &str) -> Vec<&str> {
    let mut cuts = vec![0];
    let b = line.as_bytes();
    for (i, c) in line.char_indices() {
        if i == 0 {
            continue;
        }
        let circled = ('\u{2460}'..='\u{2473}').contains(&c);
        let numbered = c.is_ascii_digit()
            && b[i - 1] == b' '
            && matches!(line[i + 1..].chars().next(), Some('.' | '、' | ')'))
            && !b.get(i + 2).is_some_and(|x| x.is_ascii_digit());
        if circled || numbered {
            cuts.push(i);
        }
    }
    cuts.push(line.len());
    cuts.windows(2).map(|w| &line[w[0]..w[1]]).collect()
}

fn strip_marker(item: &str) -> &str {
    let t = item.trim_start();
    let t = t.trim_start_matches(|c: char| ('\u{2460}'..='\u{2473}').contains(&c) || matches!(c, '-' | '•' | '·' | '*' | '+' | '√'));
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits <= 2 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(['.', '、', ')']) {
            return r.trim_start();
        }
    }
    t.trim_start()
}
