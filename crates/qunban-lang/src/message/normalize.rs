//! Canonical form of a chat message before any parsing.
//!
//! Chat clients mix full-width and half-width forms freely (IME state decides,
//! not the writer), people write Traditional characters, and decorate with
//! emoji. Every later stage works on the normalized text so that it only has
//! to know one spelling of `#`, `:`, `%`, digits and words; byte spans handed
//! to the deadline parser refer to this text.
//!
//! The writer's own spelling is not lost: [`Normalized::restore`] maps a
//! title or note cut from the normalized text back to the punctuation and
//! characters as typed (a full-width `：` stays `：`, `週報` stays `週報`),
//! because a title is what the team wrote, not what the parser read.

/// A normalized message with, for every normalized char, the char the writer
/// typed.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub text: String,
    /// `(byte offset in text, original char)` for every char of `text`.
    origin: Vec<(usize, char)>,
}

impl Normalized {
    pub fn new(raw: &str) -> Normalized {
        let simplified = to_simplified(raw);
        let mut text = String::with_capacity(raw.len());
        let mut origin = Vec::with_capacity(raw.len());
        for (orig, c) in raw.chars().zip(simplified.chars()) {
            if let Some(n) = normalize_char(c) {
                origin.push((text.len(), orig));
                text.push(n);
            }
        }
        fix_typos(&mut text);
        Normalized { text, origin }
    }

    /// `s` (a title or note assembled from pieces of `self.text`) written
    /// back with the writer's punctuation and characters. Letters and digits
    /// stay half-width: `ＰＲＤ` and `PRD` are the same word to every reader.
    pub fn restore(&self, s: &str) -> String {
        if s.is_ascii() {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        let mut from = 0;
        while i < s.len() {
            // Longest piece of `s` starting at `i` found in the text (at or
            // after the previous piece first: titles keep the text's order).
            let (at, len) = self.longest_piece(&s[i..], from);
            if len == 0 {
                let c = s[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
                continue;
            }
            let start = self.origin.partition_point(|&(b, _)| b < at);
            let end = self.origin.partition_point(|&(b, _)| b < at + len);
            for (&(_, orig), n) in self.origin[start..end].iter().zip(self.text[at..at + len].chars()) {
                out.push(if keep_as_typed(orig, n) { orig } else { n });
            }
            i += len;
            from = at + len;
        }
        out
    }

    /// The longest prefix of `s` that occurs in the text, preferring an
    /// occurrence at or after `from`. A prefix of a found piece is found
    /// too, so the length is found by binary search: titles of any length
    /// cost a logarithmic number of searches per piece.
    fn longest_piece(&self, s: &str, from: usize) -> (usize, usize) {
        let find = |piece: &str| self.text.get(from..).and_then(|t| t.find(piece)).map(|k| k + from).or_else(|| self.text.find(piece));
        let ends: Vec<usize> = s.char_indices().map(|(k, c)| k + c.len_utf8()).collect();
        let (mut lo, mut hi) = (0usize, ends.len());
        let mut best = (0, 0);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            match find(&s[..ends[mid - 1]]) {
                Some(at) => {
                    best = (at, ends[mid - 1]);
                    lo = mid;
                }
                None => hi = mid - 1,
            }
        }
        // `lo` only moves on a hit, so the last hit is the longest piece.
        best
    }
}

fn keep_as_typed(orig: char, norm: char) -> bool {
    orig != norm && !norm.is_ascii_alphanumeric() && !(orig == '\u{3000}' || orig.is_whitespace())
}

/// Full-width ASCII to half-width (except the Chinese comma, parentheses,
/// `！`, `？` and `；`, which belong to the text), exotic spaces to plain spaces, emoji and
/// zero-width joiners removed, line breaks unified to `\n`.
pub fn normalize(text: &str) -> String {
    Normalized::new(text).text
}

fn normalize_char(c: char) -> Option<char> {
    Some(match c {
        '\r' => return None,
        // Chinese typography that reads as part of a title stays as typed.
        '，' | '（' | '）' | '！' | '？' | '；' => c,
        '\u{FF01}'..='\u{FF5E}' => {
            // The full-width block mirrors ASCII 0x21..=0x7E at a fixed
            // distance, so the subtraction cannot leave the ASCII range.
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\t' => ' ',
        '\u{FF5F}'..='\u{FF60}' => return None,
        // Check-mark emoji mean "done" (`#3 ✅`); keep them as the `√`
        // people also type by hand.
        '\u{2705}' | '\u{2714}' | '\u{2611}' => '√',
        // Emoji used as bullets or section markers (`🔹昨天：`) separate
        // words; a space keeps `🔹昨天` from gluing to what came before.
        c if is_emoji(c) && !matches!(c as u32, 0xFE00..=0xFE0F | 0x200B..=0x200D | 0x2060 | 0xE0020..=0xE007F) => ' ',
        c if is_emoji(c) => return None,
        '\u{3002}' => '。',
        c => c,
    })
}

/// Traditional characters to Simplified, one char for one char (the
/// converter looks at the neighbours, never merges or splits characters), so
/// the normalized text and the original stay aligned.
fn to_simplified(raw: &str) -> std::borrow::Cow<'_, str> {
    // Most messages are Simplified already; skip the conversion when no
    // char changes, which is the cheap common case.
    let converted = fast2s::convert(raw);
    if converted == raw || converted.chars().count() != raw.chars().count() {
        std::borrow::Cow::Borrowed(raw)
    } else {
        std::borrow::Cow::Owned(converted)
    }
}

/// IME slips that change what a message says, fixed where the structure
/// leaves no doubt: `钱` for `前` right after a time word (`周五钱`, `3点钱`,
/// `下班钱`), `以` for `已` before a completion verb (`以完成`, `以经`)
/// unless it is the conjunction (`可以完成`, `难以完成`, `所以`).
fn fix_typos(text: &mut String) {
    if !text.contains('钱') && !text.contains('以') {
        return;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (k, &c) in chars.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| chars[p]);
        let prev2 = k.checked_sub(2).map(|p| chars[p]);
        let next: String = chars[k + 1..].iter().take(2).collect();
        let fixed = match c {
            '钱' if prev.is_some_and(|p| {
                matches!(p, '一' | '二' | '三' | '四' | '五' | '六' | '日' | '天' | '号' | '点' | '底' | '班' | '末' | '午' | '上' | '晚' | '节' | '初' | '半' | '刻')
                    || p.is_ascii_digit()
            }) && !matches!(prev2, Some('价' | '金' | '有' | '的')) =>
            {
                '前'
            }
            '以' if !matches!(prev, Some('可' | '难' | '得' | '予' | '所' | '加' | '用' | '足' | '借' | '据' | '藉'))
                && ["完成", "经", "提交", "搞定", "上线", "发布", "解决", "修复", "处理", "交付", "签", "寄", "发", "结", "关闭", "确认", "做完", "弄完", "写完", "办完", "到", "收到", "入库", "付", "通过"]
                    .iter()
                    .any(|w| next.starts_with(w))
                && !next.starts_with("发展") =>
            {
                '已'
            }
            c => c,
        };
        out.push(fixed);
    }
    *text = out;
}

/// Pictographs, dingbats, variation selectors and joiners: they decorate a
/// message but never carry a field value.
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF
        | 0x2600..=0x27BF
        | 0x2B00..=0x2BFF
        | 0x231A..=0x231B
        | 0x23E9..=0x23FA
        | 0xFE00..=0xFE0F
        | 0x200B..=0x200D
        | 0x2060
        | 0xE0020..=0xE007F
        | 0x3030
        | 0x303D)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_emoji() {
        assert_eq!(normalize("＃３ 进度：６０％👍").trim(), "#3 进度:60%");
        assert_eq!(normalize("好的👌\r\n").trim(), "好的");
    }

    #[test]
    fn traditional_and_typos() {
        assert_eq!(normalize("@陳志明 週四钱把報價單發給客戶"), "@陈志明 周四前把报价单发给客户");
        assert_eq!(normalize("#3 以完成"), "#3 已完成");
        assert_eq!(normalize("可以完成"), "可以完成");
        assert_eq!(normalize("报价单的钱"), "报价单的钱");
    }

    #[test]
    fn restore_keeps_what_was_written() {
        let n = Normalized::new("【标题】官网改版：首页（二期）。");
        assert_eq!(n.restore("官网改版:首页（二期）"), "官网改版：首页（二期）");
        let n = Normalized::new("@Lily 週四前把社群文案發我");
        assert_eq!(n.restore("社群文案发我"), "社群文案發我");
        let n = Normalized::new("更新ＰＲＤ v2");
        assert_eq!(n.restore("更新PRD v2"), "更新PRD v2");
    }
}
