//! Chinese words with parts of speech, from jieba's embedded dictionary.
//!
//! The parser follows sentence structure (who, when, an action on an
//! object); where it must know whether a word is a verb — `周四前把清单盘
//! 一下`, `三季度的巡检表汇总好` — it asks the segmenter instead of a hand
//! list of verbs, so a trade's own verbs count too. The dictionary is
//! compiled into the binary (no IO) and loaded once per process.

use std::sync::OnceLock;

use jieba_rs::Jieba;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Loads the dictionary now rather than on the first message (a server
/// calls this at start-up so no chat message pays for it).
pub fn warm_up() {
    let _ = jieba();
}

/// Verbs that state, feel or relate rather than act: a sentence whose only
/// verb is one of these asks nobody to do anything.
const NOT_ACTIONS: &[&str] = &[
    "是", "有", "在", "觉得", "认为", "知道", "希望", "感觉", "喜欢", "谢谢", "感谢", "辛苦", "抱歉", "没有", "看到", "听说", "记得",
    "好像", "似乎", "来", "去", "回", "到", "回来", "回去", "出去", "过来", "过去", "上班", "下班", "休息", "在家", "放假", "见", "见面", "吃饭", "无", "没", "像", "叫", "姓", "属于", "等于", "值得", "麻烦", "需要", "应该", "可以", "能", "会", "要", "想", "打扰",
];

/// A word of the text with its part-of-speech tag (jieba's ICTCLAS set:
/// `v` verb, `vn` verbal noun, `n` noun, `nr` person name, `t` time …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub tag: &'a str,
    /// Byte offset in the segmented text.
    pub start: usize,
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for t in jieba().tag(text, true) {
        // Tags come in order and cover the text; find keeps offsets right
        // even if the segmenter skipped a char.
        let start = text[at..].find(t.word).map_or(at, |k| at + k);
        at = start + t.word.len();
        out.push(Word { text: &text[start..at], tag: t.tag, start });
    }
    out
}

/// Whether the text has a verb that names an action (not a state, a
/// feeling or a modal) and is not negated (`点不开`, `没发`).
pub fn has_action(text: &str) -> bool {
    first_action(text).is_some()
}

/// The first action verb of the text (see [`has_action`]), with its index
/// among the words.
pub fn first_action(text: &str) -> Option<usize> {
    let ws = words(text);
    first_action_in(&ws)
}

/// Whether the text, read as a command, starts with its verb (`交周报`,
/// `排出来`): the imperative mood, as opposed to a statement about a thing
/// (`全额退款`, `会议室改到302`).
pub fn starts_with_action(text: &str) -> bool {
    let ws: Vec<Word<'_>> = words(text).into_iter().filter(|w| w.text.trim().chars().any(|c| !super::lex::is_separator(c)))
        // Connectives and adverbs of manner (`尽快`, `先`) may open a command;
        // assertive adverbs (`其实`, `就`, `已经`) open a statement.
        .skip_while(|w| matches!(w.tag, "c" | "d" | "x" | "p" | "r") && !["其实", "就", "早就", "已经", "都", "也", "还", "才", "刚", "刚刚", "本来"].contains(&w.text))
        .collect();
    first_action_in(&ws) == Some(0)
}

fn first_action_in(ws: &[Word<'_>]) -> Option<usize> {
    ws.iter().enumerate().position(|(k, w)| {
        let verb = w.tag.starts_with('v');
        verb && !NOT_ACTIONS.contains(&w.text)
            && !w.text.contains('不')
            && !k.checked_sub(1).is_some_and(|p| matches!(ws[p].text, "不" | "没" | "没有" | "别" | "未" | "不要" | "不用" | "无需" | "甭"))
    })
}

/// Whether every verb of the text states, moves or feels (`来公司`,
/// `出去一趟`), so the text asks for no work; false when it has no verb.
pub fn only_non_actions(text: &str) -> bool {
    let ws = words(text);
    let verbs: Vec<&Word<'_>> = ws.iter().filter(|w| w.tag.starts_with('v')).collect();
    !verbs.is_empty() && verbs.iter().all(|w| NOT_ACTIONS.contains(&w.text))
}

/// Whether the text names a thing (a common noun; names and places aside).
pub fn has_noun(text: &str) -> bool {
    words(text).iter().any(|w| matches!(w.tag, "n" | "nz" | "vn" | "eng" | "nt") && w.text.chars().count() >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_by_part_of_speech() {
        assert!(has_action("把展会物料清单盘一下"));
        assert!(has_action("样品寄送"));
        assert!(!has_action("链接点不开"));
        assert!(!has_action("我觉得"));
    }
}
