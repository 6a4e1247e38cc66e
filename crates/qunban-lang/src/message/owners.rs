//! Who a message is about: `@` mentions, owner-field lists and names found
//! after assignment words (`请`, `麻烦`, `交给`, …).

use super::lex::{self, is_separator};

/// A mention or name found in the text, with its byte span (including `@`
/// and any assignment word before it) so it can be cut out of the title.
#[derive(Debug, Clone, PartialEq)]
pub struct NameSpan {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// Every `@name` in the text. Group mentions (`@所有人`) and the bot are
/// returned with an empty name: they are cut from titles but own nothing.
pub fn mentions(text: &str) -> Vec<NameSpan> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if c != '@' {
            continue;
        }
        let at = i + 1;
        let Some(len) = lex::name_at(text, at, true) else { continue };
        let name = &text[at..at + len];
        let name = if lex::is_group_name(name) { String::new() } else { name.to_string() };
        out.push(NameSpan { name, start: i, end: at + len });
    }
    out
}

/// Splits an owner list (`张三、李四`, `张三,李四`, `@张三 @李四`, `张三和李四`)
/// into names, without `@` and without parenthesised roles (`张三(前端)`).
pub fn split_owner_list(v: &str) -> Vec<String> {
    let mut names = Vec::new();
    let without_roles = strip_parens(v);
    for part in without_roles.split(|c: char| is_separator(c) || c == '@' || c == '和' || c == '&' || c == '+') {
        let part = part.trim();
        if part.is_empty() || lex::is_group_name(part) || part == "待定" || part == "无" || part == "TBD" {
            continue;
        }
        if !names.iter().any(|n| n == part) {
            names.push(part.to_string());
        }
    }
    names
}

fn strip_parens(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut depth = 0u32;
    for c in v.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A run of names after an assignment word: `转给 @李四`, `交给张三和李四`.
/// Returns the names and the end of the run.
pub fn names_after(text: &str, mut i: usize) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut end = i;
    loop {
        let rest = &text[i..];
        let skipped = rest.len() - rest.trim_start_matches([' ', '、', ',', '和', '及', '与']).len();
        i += skipped;
        let explicit = text[i..].starts_with('@');
        let at = if explicit { i + 1 } else { i };
        let Some(len) = lex::name_at(text, at, explicit) else { break };
        let name = &text[at..at + len];
        if !lex::is_group_name(name) && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        i = at + len;
        end = i;
    }
    (names, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(split_owner_list("张三、李四"), vec!["张三", "李四"]);
        assert_eq!(split_owner_list("@张三 @李四"), vec!["张三", "李四"]);
        assert_eq!(split_owner_list("张三(前端),李四"), vec!["张三", "李四"]);
    }

    #[test]
    fn mention_spans() {
        let m = mentions("@张三 @所有人 明天");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "张三");
        assert_eq!(m[1].name, "");
    }
}
