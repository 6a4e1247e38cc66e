//! Sentence-level cues shared by the update and free-text parsers.

use super::lex::trim_punct;

/// Words that make a sentence a question even without `?`.
const QUESTION_WORDS: &[&str] = &[
    "谁", "什么时候", "怎么样", "怎么", "多少", "哪天", "哪个", "哪位", "哪里", "是不是", "有没有", "能不能", "能否",
    "可不可以", "要不要", "是否", "会不会", "啥时候",
];

/// Whether the message asks something rather than states or requests it.
pub fn is_question(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '~' | '。' | '.' | '!' | '！'));
    if t.ends_with('?') || t.ends_with('？') {
        return true;
    }
    let t = trim_punct(t).trim_end_matches(['啊', '呀', '哈']);
    if t.ends_with('吗') || t.ends_with('么') || t.ends_with('呢') || t.ends_with("没有") || t.ends_with("了没") {
        return true;
    }
    // `您看下周二下午有空吗 想约您…`: 吗 closing a clause asks too.
    let mid = text.match_indices(['吗', '么']).any(|(k, _)| {
        text[k + 3..].starts_with([' ', ',', '，', '。', '?', '？', '\n', '!', '！'])
    });
    mid || QUESTION_WORDS.iter().any(|w| text.contains(w))
}

/// Copy of `text` with byte ranges blanked by ASCII spaces of the same byte
/// length, so offsets found in the copy still index the original.
pub fn blank(text: &str, spans: &[(usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(s, e) in spans {
        let (s, e) = (s.min(bytes.len()), e.min(bytes.len()));
        for b in &mut bytes[s..e] {
            *b = b' ';
        }
    }
    // Spans always fall on char boundaries (they come from the scanners), but
    // a lossy conversion keeps this total if one ever does not.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Finds the first of `words` in `s`; returns (start, end) of the match.
pub fn find_any(s: &str, words: &[&str]) -> Option<(usize, usize)> {
    words
        .iter()
        .filter_map(|w| s.find(w).map(|i| (i, i + w.len())))
        .min_by_key(|&(i, e)| (i, usize::MAX - e))
}

/// The clause starting at `i`: up to the next clause separator.
pub fn clause_at(s: &str, i: usize) -> (usize, usize) {
    let rest = &s[i..];
    let end = rest
        .char_indices()
        .find(|&(_, c)| matches!(c, ',' | ';' | '。' | '，' | '；' | '!' | '\n' | '?'))
        .map_or(s.len(), |(k, _)| i + k);
    (i, end)
}
