//! Canonical form of a chat message before any parsing.
//!
//! Chat clients mix full-width and half-width forms freely (IME state decides,
//! not the writer), and decorate with emoji. Every later stage works on the
//! normalized text so that it only has to know one spelling of `#`, `:`, `%`
//! and digits; byte spans handed to the deadline parser refer to this text.

/// Full-width ASCII to half-width (except the Chinese comma, parentheses,
/// `！`, `？` and `；`, which belong to the text), exotic spaces to plain spaces, emoji and
/// zero-width joiners removed, line breaks unified to `\n`.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => {}
            // Chinese typography that reads as part of a title stays as typed.
            '，' | '（' | '）' | '！' | '？' | '；' => out.push(c),
            '\u{FF01}'..='\u{FF5E}' => {
                // The full-width block mirrors ASCII 0x21..=0x7E at a fixed
                // distance, so the subtraction cannot leave the ASCII range.
                let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
                out.push(ascii);
            }
            '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\t' => {
                out.push(' ')
            }
            '\u{FF5F}'..='\u{FF60}' => {}
            // Check-mark emoji mean "done" (`#3 ✅`); keep them as the `√`
            // people also type by hand.
            '\u{2705}' | '\u{2714}' | '\u{2611}' => out.push('√'),
            c if is_emoji(c) => {}
            '\u{3002}' => out.push('。'),
            c => out.push(c),
        }
    }
    out
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
        assert_eq!(normalize("＃３ 进度：６０％👍"), "#3 进度:60%");
        assert_eq!(normalize("好的👌\r\n"), "好的\n");
    }
}
