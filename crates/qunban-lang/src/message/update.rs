//! Changes to existing tasks addressed by reference: `#3 进度60%`,
//! `TASK-001 完成了`, `#3 #4 已完成`, `#3 延期到下周三`, `#3 转给 @李四`.

use crate::deadline::{find_deadlines, parse_deadline};
use crate::intent::{Intent, MessageContext, TaskUpdate};

use super::common::{blank, clause_at, find_any, is_question};
use super::lex::{self, trim_punct, RefMatch};
use super::owners::{mentions, names_after};

/// Words that move a deadline; what follows them is the new deadline.
const DUE_WORDS: &[&str] = &[
    "延期到", "延期至", "延期", "延到", "延后到", "延后", "推迟到", "推迟", "推到", "顺延到", "顺延", "改到", "挪到", "调到",
    "调整到", "提前到", "提前至", "延至", "推迟至", "宽限到", "放宽到", "改成", "改为", "改在", "截止时间改为", "截止改为", "截止到", "截止时间", "截止", "ddl改到", "ddl改为", "ddl", "DDL",
    "deadline",
];

/// Words after which an unresolvable phrase is still clearly a deadline, so
/// it is kept as `due_text` for the bot to ask about.
const STRONG_DUE_WORDS: &[&str] = &["延期", "延到", "延后", "推迟", "推到", "顺延", "截止", "ddl", "DDL", "deadline"];

const OWNER_WORDS: &[&str] = &[
    "负责人改为", "负责人改成", "负责人换成", "负责人:", "转交给", "移交给", "分配给", "指派给", "转给", "交给", "改给",
    "改由", "换成", "转交", "移交", "由",
];

const NOTE_WORDS: &[&str] = &["备注:", "备注", "原因:", "说明:"];

const TITLE_WORDS: &[&str] = &["标题改为", "标题改成", "改名为", "改名成", "重命名为", "标题:"];

/// Updates the message asks for, or `None` when it addresses no task.
/// `Some([Intent::None])` means it names a task but asks nothing parseable.
pub fn parse(text: &str, ctx: &MessageContext<'_>) -> Option<Vec<Intent>> {
    let refs = collect_refs(text);
    if refs.is_empty() {
        return None;
    }
    if is_question(text) {
        return Some(vec![Intent::None]);
    }
    if assigns_before_ref(&text[..refs[0].start]) {
        return None;
    }
    let mut out = Vec::new();
    for group in groups(text, &refs) {
        if let Some(fields) = parse_ops(text, &group.ops, ctx) {
            for r in group.refs {
                out.push(Intent::UpdateTask(TaskUpdate { reference: r, ..fields.clone() }));
            }
        }
    }
    if out.is_empty() {
        out.push(Intent::None);
    }
    Some(out)
}

/// `@张三 明天把 #3 的接口文档写完` mentions a task inside a new assignment:
/// a person, a `把` or a request before the first reference means the
/// sentence is about doing something, not about a task's state.
fn assigns_before_ref(prefix: &str) -> bool {
    let person = mentions(prefix).iter().any(|m| !m.name.is_empty());
    person || ["把", "将", "请", "麻烦", "帮忙", "记得"].iter().any(|w| prefix.contains(w))
}

/// References at the start of the message (with or without `#`, several
/// allowed) plus every `#ref` further on.
fn collect_refs(text: &str) -> Vec<RefMatch> {
    let mut refs = Vec::new();
    let mut i = skip_leading_mentions(text);
    while let Some(r) = lex::ref_at(text, i) {
        i = skip_joiners(text, r.end);
        refs.push(r);
    }
    for r in lex::hashed_refs(text) {
        if !refs.iter().any(|k| k.start == r.start) {
            refs.push(r);
        }
    }
    refs.sort_by_key(|r| r.start);
    refs
}

/// Bot and group mentions before the reference (`@群办 #3 完成`).
fn skip_leading_mentions(text: &str) -> usize {
    let mut i = text.len() - text.trim_start().len();
    for m in mentions(text) {
        if m.start == i && m.name.is_empty() {
            i = skip_joiners(text, m.end);
        }
    }
    i
}

fn skip_joiners(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    i + rest.len() - rest.trim_start_matches([' ', '、', ',', '，', '和', '及', '&', '/']).len()
}

/// Refs sharing one instruction: `#3 #4 已完成` is one group of two.
struct Group {
    refs: Vec<String>,
    /// Byte ranges of the text that instructs this group.
    ops: Vec<(usize, usize)>,
}

fn groups(text: &str, refs: &[RefMatch]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let prefix = (0, refs[0].start);
    for (k, r) in refs.iter().enumerate() {
        let end = refs.get(k + 1).map_or(text.len(), |n| n.start);
        if !pending.contains(&r.canonical) {
            pending.push(r.canonical.clone());
        }
        let seg = (r.end, end);
        if trim_punct(&text[seg.0..seg.1]).trim_matches(['和', '及', '&']).is_empty() && k + 1 < refs.len() {
            continue;
        }
        let mut ops = vec![seg];
        if out.is_empty() && !trim_punct(&text[prefix.0..prefix.1]).is_empty() {
            ops.push(prefix);
        }
        out.push(Group { refs: std::mem::take(&mut pending), ops });
    }
    out
}

/// Reads every instruction in the group's text; `None` when there is none.
fn parse_ops(text: &str, ops: &[(usize, usize)], ctx: &MessageContext<'_>) -> Option<TaskUpdate> {
    let mut u = TaskUpdate::default();
    for &(s, e) in ops {
        read_segment(text, s, e, ctx, &mut u);
    }
    let empty = u.status.is_none()
        && u.progress.is_none()
        && u.due.is_none()
        && u.due_text.is_none()
        && u.owners.is_empty()
        && u.priority.is_none()
        && u.note.is_none()
        && u.title.is_none();
    (!empty).then_some(u)
}

/// One segment of instructions. Each reader blanks what it consumed, so that
/// `完成60%` is progress (not done) and `备注：已完成联调` is a note.
fn read_segment(text: &str, s: usize, e: usize, ctx: &MessageContext<'_>, u: &mut TaskUpdate) {
    // Readers see only their segment, so a message with many references
    // costs linear time rather than one full pass per reference.
    let text = &text[s..e];
    let s = 0;
    let mut seg = text.to_string();
    let mut used = Vec::new();
    read_note(&seg, s, u, &mut used);
    read_title(&seg, s, u, &mut used);
    seg = blank(&seg, &used);
    read_owners(&seg, s, u, &mut used);
    read_progress(&seg, s, u, &mut used);
    seg = blank(&seg, &used);
    let due_end = read_due(&seg, s, ctx, u, &mut used);
    read_priority(&seg, s, u, &mut used);
    seg = blank(&seg, &used);
    read_status(&seg, s, due_end, u, &mut used);
    if u.note.is_none() && (u.status.is_some() || u.due.is_some() || u.progress.is_some()) {
        u.note = reason_clauses(text, &blank(&seg, &used), ctx);
    }
}

/// The clauses of an update nothing else consumed, when they say why
/// (`#212 截止改为10月30日，航司那边资料还没给`, `#92 客户砍单了，这个取消`):
/// the reason is worth keeping with the change.
fn reason_clauses(text: &str, rest: &str, ctx: &MessageContext<'_>) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ','))) {
        if !matches!(c, ',' | '，' | '。' | ';' | '；' | '\n') {
            continue;
        }
        let (orig, left) = (&text[start..i], &rest[start..i]);
        start = i + c.len_utf8().min(text.len() - i);
        let clause = trim_punct(orig);
        let untouched = orig == left;
        let words = clause.chars().filter(|c| lex::is_cjk(*c)).count();
        // `周五前` left over is a remark about time, not a reason.
        let dated = !find_deadlines(clause, &ctx.now, ctx.calendar).is_empty();
        if untouched && words >= 3 && !dated && !clause.starts_with('#') && !["这个", "辛苦", "谢谢", "收到", "好的"].iter().any(|w| clause.starts_with(w)) {
            out.push(clause);
        }
    }
    (!out.is_empty()).then(|| out.join("，"))
}

/// Whether a completion word at `start..end` states that the task is done:
/// not hedged before, not taken back after, not a plan.
fn completion_stated(seg: &str, s: usize, start: usize, end: usize) -> bool {
    let before = seg[s..start].trim_end();
    let clause_start = before.rfind([',', '，', ';', '；', '。', '\n']).map_or(0, |k| k + before[k..].chars().next().map_or(1, char::len_utf8));
    let clause = &before[clause_start..];
    let word = &seg[start..end];
    let near: String = {
        let cs: Vec<char> = clause.chars().collect();
        cs[cs.len().saturating_sub(3)..].iter().collect()
    };
    let hedged = HEDGES.iter().any(|h| if h.chars().count() == 1 { near.contains(h) } else { clause.contains(h) });
    if hedged && !word.starts_with('已') {
        return false;
    }
    if seg[start..].starts_with("完成了一") || seg[start..].starts_with("完成一") {
        return false;
    }
    let after = &seg[end..];
    if REMAINDERS.iter().any(|r| after.contains(r)) {
        return false;
    }
    let stated = word.starts_with('已') || after.trim_start().starts_with('了') || word.ends_with('了') || word == "√";
    let planned = PLAN_TIMES.iter().any(|t| clause.contains(t));
    !planned || stated
}

fn read_note(seg: &str, s: usize, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    let Some((ks, ke)) = find_any(&seg[s..], NOTE_WORDS) else { return };
    let value = lex::trim_note(&seg[s + ke..]);
    if !value.is_empty() {
        u.note = Some(value.to_string());
    }
    used.push((s + ks, seg.len()));
}

fn read_title(seg: &str, s: usize, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    let Some((ks, ke)) = find_any(&seg[s..], TITLE_WORDS) else { return };
    let (cs, ce) = clause_at(seg, s + ke);
    let value = trim_punct(&seg[cs..ce]);
    if !value.is_empty() {
        u.title = Some(value.to_string());
        used.push((s + ks, ce));
    }
}

fn read_owners(seg: &str, s: usize, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    let found = find_any(&seg[s..], OWNER_WORDS).filter(|&(ks, _)| !seg[s + ks..].starts_with("由于"));
    if let Some((ks, ke)) = found {
        let (names, end) = names_after(seg, s + ke);
        if !names.is_empty() {
            u.owners = names;
            used.push((s + ks, end));
            return;
        }
    }
    // `@李四 接手` / `@李四 来负责`: a mention with a taking-over word.
    if find_any(&seg[s..], &["接手", "负责", "来跟"]).is_some() {
        let names: Vec<String> =
            mentions(&seg[s..]).into_iter().map(|m| m.name).filter(|n| !n.is_empty()).collect();
        if !names.is_empty() {
            u.owners = names;
        }
    }
}

/// Progress must be 0–100; any other figure is no progress at all rather
/// than a clamped guess. Its span is consumed either way, so `完成120%`
/// is not read as done.
fn read_progress(seg: &str, s: usize, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    let Some(p) = lex::find_progress(&seg[s..]) else { return };
    u.progress = p.value.filter(|&v| v <= 100).and_then(|v| u8::try_from(v).ok());
    let mut start = s + p.start;
    // `完成60%`, `完成了60%`: the verb belongs to the figure.
    let bare = seg[start..].starts_with(|c: char| c.is_ascii_digit());
    for verb in if bare { &["完成度", "完成率", "完成了", "完成", "做了", "搞了"][..] } else { &[][..] } {
        let verb = *verb;
        if seg[..start].ends_with(verb) {
            start -= verb.len();
            break;
        }
    }
    used.push((start, s + p.end));
}

/// Returns the end of the deadline phrase, if one was read.
fn read_due(
    seg: &str,
    s: usize,
    ctx: &MessageContext<'_>,
    u: &mut TaskUpdate,
    used: &mut Vec<(usize, usize)>,
) -> Option<usize> {
    let e = seg.len();
    let found = find_deadlines(&seg[..e], &ctx.now, ctx.calendar);
    let in_seg = |m: &&crate::deadline::DeadlineMatch| m.span.start >= s && m.span.end <= e;
    if let Some((ks, ke)) = find_any(&seg[s..], DUE_WORDS) {
        let (ks, ke) = (s + ks, s + ke);
        if let Some(m) = found.iter().filter(in_seg).find(|m| m.span.start + 1 >= ke) {
            u.due = Some(m.at.clone());
            used.push((ks, m.span.end));
            return Some(m.span.end);
        }
        let skip = seg[ke..].len() - seg[ke..].trim_start_matches(|c: char| lex::is_separator(c)).len();
        let (cs, ce) = clause_at(seg, ke + skip);
        let phrase = trim_punct(&seg[cs..ce]);
        if let Some(at) = parse_deadline(phrase, &ctx.now, ctx.calendar) {
            u.due = Some(at);
            used.push((ks, ce));
            return Some(ce);
        }
        let strong = STRONG_DUE_WORDS.iter().any(|w| seg[ks..ke].starts_with(w));
        if strong && !phrase.is_empty() {
            u.due_text = Some(phrase.to_string());
            used.push((ks, ce));
            return Some(ce);
        }
    }
    // Without a change word a date is a remark (`节前其实就联调完了`,
    // `应该周三前能交`): it moves nothing, but a done word after it is a
    // plan, not a fact.
    found.iter().filter(in_seg).map(|m| m.span.end).next()
}

fn read_priority(seg: &str, s: usize, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    if let Some((ks, ke)) = find_any(&seg[s..], &["优先级"]) {
        let rest = &seg[s + ke..];
        let value = rest.trim_start_matches(|c: char| {
            c == ' ' || c == ':' || "调整改为成提到升降是".contains(c)
        });
        if let Some(p) = lex::priority_value(value) {
            u.priority = Some(p.to_string());
            let end = s + ke + (rest.len() - value.len()) + value.chars().next().map_or(0, char::len_utf8);
            used.push((s + ks, end.max(s + ke)));
            return;
        }
    }
    if let Some(p) = lex::find_priority_token(&seg[s..]) {
        u.priority = Some(p.to_string());
        return;
    }
    let shorthand = [("最高优", "P0"), ("高优", "P1"), ("低优", "P3")];
    if let Some((_, p)) = shorthand.iter().find(|(w, _)| seg[s..].contains(w)) {
        u.priority = Some(p.to_string());
    }
}

/// Words that hedge a completion (`快完成了`, `基本弄完了`, `应该好了吧`):
/// the writer does not say it is done, so the bot must not either.
const HEDGES: &[&str] = &[
    "快", "就快", "马上", "即将", "差不多", "基本", "基本上", "大致", "大体", "大概", "应该", "理论上", "估计", "可能", "也许", "或许",
    "争取", "预计", "计划", "准备", "打算", "力争", "尽量", "能", "会", "要", "将", "差一点", "接近", "不算", "别标", "不要标", "先别",
    "不能算", "算不上", "没", "未", "不", "部分", "一半",
];

/// What follows a completion word and takes it back: `写完了 还差联调`,
/// `完成了一部分`, `做完了但是还要改`.
const REMAINDERS: &[&str] = &[
    "还差", "还剩", "剩下", "就剩", "只剩", "还有", "还要", "还得", "还需", "还没", "但是", "但", "不过", "只是", "一部分", "部分",
    "一半", "吧", "吗", "?", "？", "没有", "待",
];

/// Time words that make a completion a plan when no `了` follows
/// (`今天搞定`, `明天完成`).
const PLAN_TIMES: &[&str] = &["今天", "今晚", "明天", "后天", "下午", "晚上", "一会", "稍后", "回头", "待会", "等会", "本周", "这周", "下周", "周"];

fn read_status(seg: &str, s: usize, due_end: Option<usize>, u: &mut TaskUpdate, used: &mut Vec<(usize, usize)>) {
    let Some(m) = lex::find_status(&seg[s..]) else { return };
    used.push((s + m.start, s + m.end));
    let (start, end) = (s + m.start, s + m.end);
    let word = &seg[start..end];
    if m.status == "done" && !completion_stated(seg, s, start, end) {
        return;
    }
    // `#3 周五前完成` states when it will be done, not that it is.
    let before = seg[s..start].trim_end();
    let planned = ["预计", "计划", "争取", "准备", "打算", "应该", "会", "要", "将", "能"]
        .iter()
        .any(|w| before.ends_with(w) || before.rfind(w).is_some_and(|k| before[k..].chars().count() <= 6));
    let future = (due_end.is_some_and(|d| d <= start) || planned)
        && m.status == "done"
        && !word.starts_with('已')
        && !seg[end..].trim_start().starts_with('了');
    if future {
        return;
    }
    u.status = Some(m.status.to_string());
    if matches!(m.status, "blocked" | "paused" | "cancelled") && u.note.is_none() {
        let reason = seg[end..].trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | ',' | '，' | '了' | '住' | '在' | '中' | '-' | '。' | '；' | ';')
        });
        let reason = trim_punct(reason);
        if !reason.is_empty() {
            u.note = Some(reason.to_string());
        }
    }
}
