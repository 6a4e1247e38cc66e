//! The scanner's view of a message: normalized chars with their byte offsets,
//! and number reading (Arabic, full-width, Chinese).
//!
//! Normalizing once up front (full-width digits and punctuation to ASCII)
//! lets every rule match plain ASCII, while the kept byte offsets still give
//! spans into the original text.

pub(crate) struct Text {
    chars: Vec<char>,
    /// Byte offset of each char in the original text, plus one past the end.
    offs: Vec<u32>,
}

/// Full-width forms to ASCII, so `１２月３日` and `12月3日` read the same.
fn normalize(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        '點' => '点',
        '後' => '后',
        '週' => '周',
        '禮' => '礼',
        '號' => '号',
        '內' => '内',
        _ => c,
    }
}

impl Text {
    pub fn new(s: &str) -> Text {
        let n = s.len();
        let mut chars = Vec::with_capacity(n);
        let mut offs = Vec::with_capacity(n + 1);
        for (b, c) in s.char_indices() {
            chars.push(normalize(c));
            offs.push(b as u32);
        }
        offs.push(n as u32);
        Text { chars, offs }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// The char at `i`, or NUL past the end so rules need no bounds checks.
    #[inline]
    pub fn at(&self, i: usize) -> char {
        self.chars.get(i).copied().unwrap_or('\0')
    }

    /// The char before `i`, or NUL at the start.
    #[inline]
    pub fn prev(&self, i: usize) -> char {
        if i == 0 {
            '\0'
        } else {
            self.at(i - 1)
        }
    }

    #[inline]
    pub fn byte(&self, i: usize) -> usize {
        self.offs.get(i).copied().unwrap_or(0) as usize
    }

    /// End of `s` when the text continues with it at `i`.
    #[inline]
    pub fn lit(&self, i: usize, s: &str) -> Option<usize> {
        let mut j = i;
        for c in s.chars() {
            if self.at(j) != c {
                return None;
            }
            j += 1;
        }
        Some(j)
    }

    /// The first of `words` found at `i` (list longer words first), with
    /// its index.
    #[inline]
    pub fn lits(&self, i: usize, words: &[&str]) -> Option<(usize, usize)> {
        words
            .iter()
            .enumerate()
            .find_map(|(k, w)| self.lit(i, w).map(|e| (e, k)))
    }

    pub fn skip_spaces(&self, mut i: usize) -> usize {
        while matches!(self.at(i), ' ' | '\t') {
            i += 1;
        }
        i
    }

    /// The Arabic digits at `i`: value (saturating), end, digit count.
    pub fn arabic(&self, i: usize) -> Option<(u32, usize, usize)> {
        let mut j = i;
        let mut v: u32 = 0;
        while let Some(d) = self.at(j).to_digit(10) {
            if !self.at(j).is_ascii_digit() {
                break;
            }
            v = v.saturating_mul(10).saturating_add(d);
            j += 1;
        }
        (j > i).then_some((v, j, j - i))
    }

    /// The Chinese numeral at `i`: `十二`, `二十五`, `两`, `廿三`, `二零二六`.
    /// Runs of bare digits are accepted only as four-digit years, so that
    /// `三四天` (three or four days) is not read as 34.
    pub fn chinese(&self, i: usize) -> Option<(u32, usize)> {
        let mut j = i;
        while j - i < 8 && (cn_digit(self.at(j)).is_some() || matches!(self.at(j), '十' | '廿' | '卅' | '百')) {
            j += 1;
        }
        if j == i {
            return None;
        }
        let run = &self.chars[i..j];
        let positional = run.iter().any(|c| matches!(c, '十' | '廿' | '卅' | '百'));
        if !positional {
            return match run.len() {
                1 => cn_digit(run[0]).map(|d| (d, j)),
                4 => {
                    let mut v = 0;
                    for c in run {
                        v = v * 10 + cn_digit(*c)?;
                    }
                    Some((v, j))
                }
                _ => None,
            };
        }
        let (mut total, mut cur) = (0u32, None::<u32>);
        let mut end = i;
        for (k, c) in run.iter().enumerate() {
            match c {
                '十' => {
                    total += cur.take().unwrap_or(1) * 10;
                }
                '百' => {
                    total += cur.take().unwrap_or(1) * 100;
                }
                '廿' | '卅' if cur.is_none() => {
                    total += if *c == '廿' { 20 } else { 30 };
                }
                '零' | '〇' if cur.is_none() && k > 0 => {
                    // A placeholder after a unit (一百零五).
                }
                _ => {
                    let d = cn_digit(*c)?;
                    if cur.is_some() {
                        // Two bare digits in a row (`十二三`): stop before the
                        // second, keeping what is well formed.
                        end = i + k;
                        break;
                    }
                    cur = Some(d);
                }
            }
            end = i + k + 1;
        }
        Some((total + cur.unwrap_or(0), end))
    }

    /// Any number at `i`, Arabic or Chinese, with whether it was Arabic.
    pub fn number(&self, i: usize) -> Option<(u32, usize, bool)> {
        if let Some((v, e, n)) = self.arabic(i) {
            if n > 9 {
                return None;
            }
            return Some((v, e, true));
        }
        self.chinese(i).map(|(v, e)| (v, e, false))
    }

    /// Whether a number may start at `i`: not inside a version (`v2.3.1`),
    /// a ticket id (`TASK-003`, `#3`), an ordinal (`第3点`) or a longer number.
    pub fn number_start_ok(&self, i: usize) -> bool {
        let p = self.prev(i);
        if matches!(p, '第' | '#') {
            return false;
        }
        if self.at(i).is_ascii_digit() {
            !(p.is_ascii_alphanumeric()
                || matches!(p, '.' | '-' | '_' | '/' | '%' | '+' | '$' | '¥' | '~' | '=' | '\\'))
        } else {
            !is_cn_numeral(p)
        }
    }
}

pub(crate) fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

pub(crate) fn is_cn_numeral(c: char) -> bool {
    cn_digit(c).is_some() || matches!(c, '十' | '廿' | '卅' | '百')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        let cases = [
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("二十五", 25),
            ("两", 2),
            ("廿三", 23),
            ("二零二六", 2026),
            ("一百零五", 105),
        ];
        for (s, v) in cases {
            let t = Text::new(s);
            assert_eq!(t.chinese(0).map(|x| x.0), Some(v), "{s}");
        }
        assert_eq!(Text::new("三四").chinese(0), None);
    }

    #[test]
    fn full_width_digits() {
        let t = Text::new("１２月");
        assert_eq!(t.arabic(0), Some((12, 2, 2)));
        assert_eq!(t.byte(2), 6);
    }
}
