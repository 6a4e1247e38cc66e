//! Short replies that only make sense as an answer to the bot or as a
//! correction of what the bot just did: `是`, `算了`, `撤销`, `不对，是下周一`,
//! `应该是@甲负责，不是@乙`, `@张三`.
//!
//! These texts are read here, purely, and only when the caller knows there is
//! something to follow up (a pending question, a recent action of the same
//! sender in the same group). On their own they are not tasks, and the normal
//! message parser never sees them as such.
//!
//! Recognition follows the structure of the sentence, not a list of
//! sentences: a message is split into clauses at punctuation; a clause is
//! either a correction marker alone (`不对`, `错了`), a negated value
//! (`不是@乙`, `不是周五`), or an affirmative value introduced by a marker
//! (`是` / `应该是` / `改成` / `改为` / `换成` / `由`, optionally after a subject
//! word `截止` / `负责人`), with nothing else left over. A correction needs
//! some sign that the earlier reading was wrong (a negation or `应该` /
//! `改成` …) and exactly one affirmative value; `好的，我跟产品对一下` or
//! `不对劲，服务器又挂了` leave words over and are no follow-up at all.
//!
//! Names are only taken with `@` (or `我`): a bare word like `收到` must never
//! become an owner.

use jiff::Zoned;

use crate::deadline::find_deadlines;
use crate::intent::MessageContext;

/// A follow-up to the bot's question or to its last action.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    /// A plain yes: `是`, `好的`, `嗯嗯`, `ok`, `确认`.
    Yes,
    /// A plain no: `不是`, `不用`, `算了`, `取消`, `no`.
    No,
    /// `撤销`, `/撤销`, `撤回`, `undo`, `/undo`.
    Undo,
    /// `不对，是下周一`, `截止应该是下周一`: the deadline was misread.
    CorrectDue(Zoned),
    /// `应该是@甲负责，不是@乙`, `负责人应该是@甲`: the owners were wrong.
    /// `not` lists the names the sender says were wrong (never turned into
    /// members).
    CorrectOwner { owners: Vec<String>, not: Vec<String> },
    /// A message of only names (`@张三 @李四`, `我来`): an answer to "who owns it?".
    Names(Vec<String>),
    /// A message of only one deadline phrase (`下周一`, `选周五`): an answer to
    /// "which deadline?".
    Due(Zoned),
}

/// Reads `text` as a follow-up, or `None` when it is an ordinary message.
pub fn parse_followup(text: &str, ctx: &MessageContext<'_>) -> Option<FollowUp> {
    let norm = normalize(text);
    let t = without_bot_mention(norm.trim());
    if t.is_empty() || t.chars().count() > 80 {
        return None;
    }
    let bare = strip_punct(t);
    if is_undo(&bare) {
        return Some(FollowUp::Undo);
    }
    if is_yes(t) {
        return Some(FollowUp::Yes);
    }
    if is_no(t) {
        return Some(FollowUp::No);
    }
    if let Some(c) = correction(t, ctx) {
        return Some(c);
    }
    if let Some(names) = only_names(t, ctx) {
        return Some(FollowUp::Names(names));
    }
    only_deadline(t, ctx).map(FollowUp::Due)
}

const YES: &[&str] = &[
    "是", "是的", "是滴", "好", "好的", "好滴", "好嘞", "好哒", "对", "对的", "对滴", "嗯", "恩", "可以", "行", "创建", "确认", "确定",
    "没错", "yes", "ok", "okay", "y", "yep", "sure", "confirm", "create",
];
const NO: &[&str] = &[
    "不是", "不是的", "不用", "不用了", "不", "不要", "不需要", "算了", "取消", "别", "别建", "不创建", "不对", "no", "nope", "cancel", "n",
];
/// Particles that may trail a yes or a no (`好的呀`, `是啊`, `不用了吧`).
const PARTICLES: &[char] = &['啊', '呀', '吧', '哈', '呢', '哦', '噢', '喔', '嘛', '滴', '了', '~'];

/// Splits into clauses at punctuation and spaces; a yes is a message whose
/// every clause is a yes word (`是，创建`, `好的好的`, `嗯嗯`).
fn is_yes(t: &str) -> bool {
    every_clause(t, |c| matches_word(c, YES))
}

fn is_no(t: &str) -> bool {
    every_clause(t, |c| matches_word(c, NO))
}

fn every_clause(t: &str, f: impl Fn(&str) -> bool) -> bool {
    let clauses: Vec<&str> = t.split(is_clause_break).map(str::trim).filter(|c| !c.is_empty()).collect();
    !clauses.is_empty() && clauses.iter().all(|c| f(c))
}

/// `c` is one of `words`, possibly repeated (`好好`, `嗯嗯嗯`) and followed
/// by particles (`好的呀`, `算了吧`).
fn matches_word(c: &str, words: &[&str]) -> bool {
    let lower = c.to_lowercase();
    let lower = lower.trim_end_matches('~');
    if lower.is_ascii() {
        // Latin words must be whole (`ok`, not `okr`).
        return words.contains(&lower);
    }
    // Longest words first so `好的` is not read as `好` + `的`.
    let mut sorted: Vec<&str> = words.iter().copied().filter(|w| !w.is_ascii()).collect();
    sorted.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut rest = lower;
    let mut matched = false;
    while let Some(first) = rest.chars().next() {
        if let Some(w) = sorted.iter().find(|w| rest.starts_with(**w)) {
            rest = &rest[w.len()..];
            matched = true;
        } else if matched && PARTICLES.contains(&first) {
            rest = &rest[first.len_utf8()..];
        } else {
            return false;
        }
    }
    matched
}

fn is_undo(bare: &str) -> bool {
    let lower = bare.to_lowercase();
    let s = lower.trim_start_matches('/').trim();
    let Some(rest) = ["撤销", "撤回", "undo"].iter().find_map(|w| s.strip_prefix(w)) else {
        return false;
    };
    let rest = rest.trim().trim_end_matches(PARTICLES);
    ["", "一下", "刚才", "刚才的", "刚才那条", "上一条", "上一步", "上一个", "操作", "刚才的操作", "上一条消息", "last"].contains(&rest)
}

/// `@群办 /撤销` → `/撤销`: a command may follow an @-mention of the bot.
fn without_bot_mention(t: &str) -> &str {
    let mut rest = t;
    while let Some(after) = rest.strip_prefix('@') {
        match after.find(char::is_whitespace) {
            Some(i) if after[i..].trim_start().starts_with(['@', '/']) => rest = after[i..].trim_start(),
            _ => return t,
        }
    }
    rest
}

/// A correction of the deadline or the owners of what the bot just did.
fn correction(t: &str, ctx: &MessageContext<'_>) -> Option<FollowUp> {
    let mut marked = false;
    let mut due: Vec<Zoned> = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    let mut not: Vec<String> = Vec::new();
    for clause in t.split(is_clause_break).map(str::trim).filter(|c| !c.is_empty()) {
        let mut c = clause;
        // `不对` / `错了` alone, or before the right value (`不对 改到周四`,
        // `不对改成周四`) — but not `不对劲`.
        if let Some(rest) = MARKS.iter().find_map(|m| c.strip_prefix(m)) {
            let starts_value = rest.starts_with(char::is_whitespace) || AFFIRM.iter().any(|a| rest.starts_with(a) && *a != "为");
            if rest.is_empty() {
                marked = true;
                continue;
            }
            if starts_value {
                marked = true;
                c = rest.trim_start();
            }
        }
        let c = c.trim_end_matches(PARTICLES);
        // 不是@乙 / 不是周五 / 而不是周五: what was wrong.
        if let Some(v) = ["而不是", "并不是", "不是", "不该是", "不应该是"].iter().find_map(|m| c.strip_prefix(m)) {
            marked = true;
            if let Some(names) = names_value(v, ctx) {
                not.extend(names);
            } else if deadline_value(v, ctx).is_none() {
                return None;
            }
            continue;
        }
        // [subject] marker value [负责]
        let (subject, rest) = strip_subject(c);
        // The value may follow a marker (`是下周一`) or stand alone after a
        // correction mark (`错了，下周一截止`).
        let (marker, value) = AFFIRM.iter().find_map(|m| rest.strip_prefix(m).map(|v| (*m, v))).unwrap_or(("", rest));
        if !matches!(marker, "" | "是" | "由" | "为" | "是由") {
            marked = true;
        }
        if subject != Subject::Due {
            if let Some(names) = names_value(value, ctx) {
                owners.extend(names);
                continue;
            }
        }
        if subject != Subject::Owner {
            if let Some(z) = deadline_value(value, ctx) {
                due.push(z);
                continue;
            }
        }
        return None;
    }
    if !marked {
        return None;
    }
    match (due.len(), owners.is_empty()) {
        (1, true) => Some(FollowUp::CorrectDue(due.remove(0))),
        (0, false) => {
            dedup(&mut owners);
            dedup(&mut not);
            not.retain(|n| !owners.contains(n));
            Some(FollowUp::CorrectOwner { owners, not })
        }
        _ => None,
    }
}

/// Words that say the earlier reading was wrong.
const MARKS: &[&str] = &["不对不对", "不对", "搞错了", "弄错了", "写错了", "说错了", "错了", "更正一下", "纠正一下", "更正", "纠正"];

/// Words that introduce the right value, longest first.
const AFFIRM: &[&str] = &[
    "应该是由", "应该是", "应该由", "应该在", "应当是", "应该", "应是", "应为", "改成由", "改成", "改为", "改到", "改由", "换成", "换为", "推迟到",
    "延到", "其实是", "是由", "是", "由", "为",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    None,
    Due,
    Owner,
}

fn strip_subject(c: &str) -> (Subject, &str) {
    const DUE: &[&str] = &["截止时间", "截止日期", "截至时间", "截止", "截至", "deadline", "ddl", "时间", "日期"];
    const OWNER: &[&str] = &["负责人", "责任人", "owner"];
    let lower_starts = |w: &str| c.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w));
    if let Some(w) = DUE.iter().find(|w| lower_starts(w)) {
        return (Subject::Due, c[w.len()..].trim_start());
    }
    if let Some(w) = OWNER.iter().find(|w| lower_starts(w)) {
        return (Subject::Owner, c[w.len()..].trim_start());
    }
    (Subject::None, c)
}

/// `@甲`, `@甲 @乙`, `@甲负责`, `@甲来负责`, `我`, `我来`: only names, and at
/// least one; `None` when anything else is left.
fn names_value(v: &str, ctx: &MessageContext<'_>) -> Option<Vec<String>> {
    let v = v.trim();
    let v = strip_any_suffix(v, &["来负责吧", "来负责", "负责吧", "负责", "来做", "来跟", "来吧", "来", "吧"]).trim();
    if v == "我" {
        return Some(vec![ctx.sender.clone()]);
    }
    if !v.starts_with('@') {
        return None;
    }
    let mut names = Vec::new();
    for part in v.split('@').skip(1) {
        let part = part.trim().trim_end_matches(['和', '、', '跟', '与', '&', '+']).trim();
        let part = strip_any_suffix(part, &["来负责", "负责", "来做", "来"]).trim();
        if part.is_empty() || part.chars().count() > 20 || part.contains(|c: char| c.is_whitespace()) || part == "所有人" || part.eq_ignore_ascii_case("all") {
            return None;
        }
        names.push(part.to_string());
    }
    (!names.is_empty()).then_some(names)
}

fn strip_any_suffix<'a>(v: &'a str, suffixes: &[&str]) -> &'a str {
    suffixes.iter().find_map(|s| v.strip_suffix(s)).unwrap_or(v)
}

/// One deadline phrase and nothing else (besides `截止` / `完成` / `交`).
fn deadline_value(v: &str, ctx: &MessageContext<'_>) -> Option<Zoned> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let found = find_deadlines(v, &ctx.now, ctx.calendar);
    let [m] = found.as_slice() else { return None };
    let rest = format!("{}{}", &v[..m.span.start], &v[m.span.end..]);
    let rest = rest.trim().trim_end_matches(PARTICLES);
    ["", "截止", "为止", "完成", "交", "提交", "交付", "上线", "前", "之前", "以前"].contains(&rest).then(|| m.at.clone())
}

/// A message of only names: `@张三`, `@张三 @李四`, `@张三、@李四负责`, `我来`.
fn only_names(t: &str, ctx: &MessageContext<'_>) -> Option<Vec<String>> {
    let v = strip_punct(t);
    let v = v.trim_start_matches("由").trim_start_matches("给");
    let mut names = names_value(v, ctx)?;
    dedup(&mut names);
    Some(names)
}

/// The words of a message that could be a list of bare names (`李四`,
/// `李四 王五`, `李四、王五负责`): one to four short words and nothing else.
/// Whether they *are* names only a member directory can say, so the caller
/// takes them as an answer to "who owns it?" only when every word is a known
/// member — `收到` or `好滴` never are.
pub fn bare_names(text: &str) -> Option<Vec<String>> {
    let norm = normalize(text);
    let v = strip_punct(norm.trim());
    let v = strip_any_suffix(&v, &["来负责吧", "来负责", "负责吧", "负责", "来做", "来吧", "来"]).trim();
    let v = v.strip_prefix('由').unwrap_or(v);
    let words: Vec<&str> = v.split(|c: char| c.is_whitespace() || matches!(c, '、' | '和' | '&' | '+')).filter(|w| !w.is_empty()).collect();
    let short = |w: &&str| {
        let n = w.chars().count();
        let limit = if w.is_ascii() { 20 } else { 8 };
        (1..=limit).contains(&n) && w.chars().all(|c| c.is_alphanumeric() || c == '·' || c == '-' || c == '_') && !w.chars().all(|c| c.is_ascii_digit())
    };
    let ok = (1..=4).contains(&words.len()) && words.iter().all(short) && !v.contains('@');
    ok.then(|| {
        let mut names: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        dedup(&mut names);
        names
    })
}

/// A message of only one deadline phrase: `下周一`, `选周五`, `就周五吧`.
fn only_deadline(t: &str, ctx: &MessageContext<'_>) -> Option<Zoned> {
    let v = strip_punct(t);
    let v = strip_any_prefix(&v, &["就选", "选", "就是", "就", "是", "截止", "改成"]).to_string();
    deadline_value(&v, ctx)
}

fn strip_any_prefix<'a>(v: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes.iter().find_map(|p| v.strip_prefix(p)).unwrap_or(v)
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = Vec::new();
    v.retain(|n| {
        let fresh = !seen.contains(n);
        seen.push(n.clone());
        fresh
    });
}

fn is_clause_break(c: char) -> bool {
    matches!(c, ',' | '，' | '。' | '.' | ';' | '；' | '!' | '！' | '?' | '？' | '、' | '\n' | '~' | '…')
}

/// The text without punctuation at either end.
fn strip_punct(t: &str) -> String {
    t.trim_matches(|c: char| is_clause_break(c) || c.is_whitespace()).to_string()
}

/// Full-width ASCII to half-width and emoji dropped, so `ＯＫ👌` reads as `OK`.
fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' if c != '，' && c != '！' && c != '？' && c != '；' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' | '\u{00A0}' => Some(' '),
            c if is_emoji(c) => None,
            c => Some(c),
        })
        .collect()
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE00..=0xFE0F | 0x200B..=0x200D | 0x2060 | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Calendar;

    fn ctx(cal: &Calendar) -> MessageContext<'_> {
        // Wednesday 2026-01-14 10:30 in Shanghai.
        let now: jiff::Timestamp = "2026-01-14T02:30:00Z".parse().unwrap();
        MessageContext { now: now.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()), sender: "张三".into(), calendar: cal }
    }

    fn p(text: &str) -> Option<FollowUp> {
        let cal = Calendar::builtin();
        parse_followup(text, &ctx(&cal))
    }

    fn day(f: &Option<FollowUp>) -> String {
        match f {
            Some(FollowUp::CorrectDue(z)) | Some(FollowUp::Due(z)) => z.strftime("%Y-%m-%d %H:%M").to_string(),
            other => panic!("expected a deadline, got {other:?}"),
        }
    }

    #[test]
    fn plain_yes_in_many_forms() {
        for t in [
            "是", "是的", "是的！", "好", "好的", "好的👌", "对", "对的", "嗯", "嗯嗯", "可以", "创建", "确认", "yes", "Yes!", "OK", "ok～", "ＯＫ", "好的好的", "是，创建",
            "好滴", "是啊", "👍好的。", " 确认 ",
        ] {
            assert_eq!(p(t), Some(FollowUp::Yes), "{t}");
        }
    }

    #[test]
    fn plain_no_in_many_forms() {
        for t in ["不是", "不用", "不用了", "不", "算了", "算了吧", "取消", "no", "No.", "不要", "不对"] {
            assert_eq!(p(t), Some(FollowUp::No), "{t}");
        }
    }

    #[test]
    fn undo_in_many_forms() {
        for t in ["撤销", "/撤销", "撤回", "undo", "/undo", "UNDO", "撤销一下", "撤回刚才的", "撤销上一条", "撤销！", "／撤销", "@群办 /撤销", "@群办 @bot /undo"] {
            assert_eq!(p(t), Some(FollowUp::Undo), "{t}");
        }
    }

    #[test]
    fn deadline_corrections_follow_the_sentence_structure() {
        // next Monday is 2026-01-19
        for t in [
            "不对，是下周一",
            "不对,改成下周一",
            "不对，应该是下周一",
            "是下周一，不是周五",
            "不是周五，是下周一",
            "截止应该是下周一",
            "截止时间应该是下周一",
            "错了，下周一截止",
            "不对！改为下周一前",
            "不对 改到下周一",
            "deadline应该是下周一",
        ] {
            let f = p(t);
            assert!(matches!(f, Some(FollowUp::CorrectDue(_))), "{t}: {f:?}");
            assert_eq!(day(&f), "2026-01-19 23:59", "{t}");
        }
        assert_eq!(day(&p("不对，改成周四下午3点")), "2026-01-15 15:00");
    }

    #[test]
    fn owner_corrections_follow_the_sentence_structure() {
        let want = |o: &[&str], n: &[&str]| {
            Some(FollowUp::CorrectOwner { owners: o.iter().map(|s| s.to_string()).collect(), not: n.iter().map(|s| s.to_string()).collect() })
        };
        assert_eq!(p("应该是@甲负责，不是@乙"), want(&["甲"], &["乙"]));
        assert_eq!(p("应该是@甲 负责，不是@乙"), want(&["甲"], &["乙"]));
        assert_eq!(p("负责人应该是@甲"), want(&["甲"], &[]));
        assert_eq!(p("不是@乙，是@甲"), want(&["甲"], &["乙"]));
        assert_eq!(p("不对，应该由@甲负责"), want(&["甲"], &[]));
        assert_eq!(p("不对，改成@甲 @丙"), want(&["甲", "丙"], &[]));
        assert_eq!(p("是@甲，不是@乙"), want(&["甲"], &["乙"]));
        assert_eq!(p("负责人应该是我"), want(&["张三"], &[]));
        assert_eq!(p("不对，换成@Tom"), want(&["Tom"], &[]));
    }

    #[test]
    fn answers_to_questions() {
        assert_eq!(p("@李四"), Some(FollowUp::Names(vec!["李四".into()])));
        assert_eq!(p("@李四 @王五"), Some(FollowUp::Names(vec!["李四".into(), "王五".into()])));
        assert_eq!(p("@李四、@王五负责"), Some(FollowUp::Names(vec!["李四".into(), "王五".into()])));
        assert_eq!(p("我来"), Some(FollowUp::Names(vec!["张三".into()])));
        assert_eq!(p("由@李四负责"), Some(FollowUp::Names(vec!["李四".into()])));
        assert!(matches!(p("下周一"), Some(FollowUp::Due(_))));
        assert_eq!(day(&p("周五")), "2026-01-16 23:59");
        assert_eq!(day(&p("选周五吧")), "2026-01-16 23:59");
        assert_eq!(day(&p("就下周一")), "2026-01-19 23:59");
    }

    #[test]
    fn bare_name_lists() {
        let v = |xs: &[&str]| Some(xs.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(bare_names("李四"), v(&["李四"]));
        assert_eq!(bare_names("李四、王五负责"), v(&["李四", "王五"]));
        assert_eq!(bare_names("由李四负责。"), v(&["李四"]));
        assert_eq!(bare_names("李四和王五"), v(&["李四", "王五"]));
        assert_eq!(bare_names("Tom"), v(&["Tom"]));
        // candidates only: the directory decides (收到 is no member)
        assert_eq!(bare_names("收到"), v(&["收到"]));
        assert_eq!(bare_names("@李四"), None);
        assert_eq!(bare_names("好的，我跟产品对一下吧，回头再说"), None);
        assert_eq!(bare_names("123"), None);
    }

    #[test]
    fn ordinary_messages_are_no_follow_ups() {
        for t in [
            "好的，我跟产品对一下",
            "不对劲，服务器又挂了",
            "好的，明天给你",
            "是不是要改一下",
            "对了，下午开会",
            "这个应该是下周一上线",
            "不是我说，这个需求太多了",
            "撤销这个需求吧，太难了",
            "应该是吧",
            "不对，这里有问题",
            "是下周一",
            "不是周五",
            "可以可以，辛苦",
            "okr写完了吗",
            "收到",
            "@所有人 明天开会",
            "好的，不过@李四 要先确认",
            "是的，不过还要等设计",
            "应该是服务器的问题",
            "我来看看",
            "",
            "👍",
        ] {
            let f = p(t);
            let wrong = matches!(f, Some(FollowUp::Yes | FollowUp::No | FollowUp::Undo | FollowUp::CorrectDue(_) | FollowUp::CorrectOwner { .. } | FollowUp::Names(_)));
            // `是下周一` may answer a deadline question, but is no correction.
            let ok = t == "是下周一" && matches!(f, Some(FollowUp::Due(_)));
            assert!(!wrong || ok, "{t}: {f:?}");
        }
    }
}
