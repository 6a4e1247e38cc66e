//! Quoted replies. WeCom and WeChat show a quote as `「名字：原文」` over a
//! line of dashes, WeChatMsg exports as a line `引用: 名字: 原文` (before or
//! after the reply), mail-style clients as `> 原文` lines.
//!
//! The quote is context, never content: `收到` under a quoted assignment is
//! no task and `#21 已完成` under a quoted question is an update of #21. The
//! only thing taken from a quote is its topic, for a reply that assigns it
//! without naming it again (`@丁 这个你跟一下，周三前`).

/// A message split into the quoted part and the reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The quoted text, without its author.
    pub quote: Option<String>,
    /// What the sender wrote.
    pub reply: String,
}

/// Splits off a quote in any of the known layouts; a message without one is
/// all reply.
pub fn split(t: &str) -> Split {
    if let Some(s) = bracketed(t) {
        return s;
    }
    let mut quote: Vec<&str> = Vec::new();
    let mut reply: Vec<&str> = Vec::new();
    for line in t.lines() {
        let l = line.trim_start();
        if let Some(rest) = l.strip_prefix("引用:").or_else(|| l.strip_prefix("引用 :")).or_else(|| l.strip_prefix("[引用]")) {
            quote.push(strip_author(rest.trim()));
        } else if let Some(rest) = l.strip_prefix('>') {
            quote.push(strip_author(rest.trim()));
        } else if !is_rule(l) {
            reply.push(line);
        }
    }
    if quote.is_empty() {
        return Split { quote: None, reply: t.to_string() };
    }
    Split { quote: Some(quote.join("\n")), reply: reply.join("\n") }
}

/// `「名字：原文」` (possibly over several lines) followed by a dash rule.
fn bracketed(t: &str) -> Option<Split> {
    let body = t.trim_start().strip_prefix('「')?;
    let close = body.rfind('」')?;
    let after = &body[close + '」'.len_utf8()..];
    let after_trim = after.trim_start();
    let first_line = after_trim.lines().next().unwrap_or("");
    // Without the rule, a 「…」 opening a message is a title in quotes.
    if !is_rule(first_line.trim()) {
        return None;
    }
    let reply = after_trim[first_line.len()..].trim().to_string();
    Some(Split { quote: Some(strip_author(&body[..close]).to_string()), reply })
}

/// A separator line of dashes (`- - - - -`, `------`, `——————`).
fn is_rule(l: &str) -> bool {
    let dashes = l.chars().filter(|c| matches!(c, '-' | '—' | '_' | '─' | '=')).count();
    dashes >= 3 && l.chars().all(|c| matches!(c, '-' | '—' | '_' | '─' | '=' | ' '))
}

/// `名字: 原文` → `原文`; only a short name before the first colon is an
/// author, so `注意: …` style text is kept whole when it is long.
fn strip_author(q: &str) -> &str {
    match q.find([':', '：']) {
        Some(k) if q[..k].chars().count() <= 12 && !q[..k].contains(' ') || q[..k].starts_with('@') => {
            q[k..].trim_start_matches([':', '：', ' '])
        }
        _ => q,
    }
}

/// The topic of a quoted request or question, for a reply that takes it on
/// without naming it: `双十一的达人名单谁在跟？` → `双十一的达人名单`,
/// `谁去3号店把临期品盘一下？` → `去3号店把临期品盘一下`.
pub fn topic(quote: &str) -> String {
    let q = quote.trim();
    let q = q.trim_end_matches(['?', '？', '。', '!', '！', ' ', '~']);
    let q = q.trim_end_matches(['吗', '呢', '呀', '啊']);
    // `面试官培训谁来准备课件` → `面试官培训准备课件`: the question word
    // and its auxiliary go, the rest is the work.
    let owned;
    let q = match q.find('谁') {
        Some(k) => {
            let after = q[k + '谁'.len_utf8()..].trim_start_matches(['来', '在', '能', '去', '负', '责']);
            owned = format!("{}{}", &q[..k], after);
            owned.as_str()
        }
        None => q,
    };
    let q = ["怎么样了", "怎么样", "进展如何", "到哪了", "搞定了没", "好了没", "有人跟吗", "有人跟进吗"]
        .iter()
        .fold(q, |q, w| q.strip_suffix(w).unwrap_or(q));
    q.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let s = split("「覃晓雯：双十一的达人名单谁在跟？」\n- - - - - - - - - - -\n@Lily 这个你跟一下，周三前");
        assert_eq!(s.quote.as_deref(), Some("双十一的达人名单谁在跟？"));
        assert_eq!(s.reply, "@Lily 这个你跟一下，周三前");
        let s = split("我来\n引用: 闫立新: 谁去3号店把临期品盘一下？");
        assert_eq!(s.quote.as_deref(), Some("谁去3号店把临期品盘一下？"));
        assert_eq!(s.reply, "我来");
        let s = split("> @宫雪 明天把月考成绩录入系统\n好的 收到");
        assert_eq!(s.reply, "好的 收到");
        assert_eq!(split("「标题」已改").quote, None);
    }

    #[test]
    fn topics() {
        assert_eq!(topic("双十一的达人名单谁在跟？"), "双十一的达人名单跟");
        assert_eq!(topic("谁去3号店把临期品盘一下？"), "3号店把临期品盘一下");
        assert_eq!(topic("面试官培训谁来准备课件？"), "面试官培训准备课件");
    }
}
