//! Chinese deadline phrases to exact instants, following
//! `shared/conventions/deadlines.md`.
//!
//! A hand-written scanner over chars rather than regular expressions: the
//! grammar is a few dozen small alternatives that share prefixes (下周 /
//! 下午 / 下个月 / 下班), many need a look at the char before or after to
//! avoid false hits (`第3点`, `v2.3.1`, `前端`), and the parser sits on the
//! path of every chat message, so it must stay allocation-light.
//!
//! Decisions beyond the written rules (also listed in the docs):
//! - 左右 / 前后 / 多 after a time are noise: `3点左右` is 15:00 and the span
//!   ends before them.
//! - A time followed by 后 / 以后 / 之后 / 起 / 开始 marks a start, not a
//!   deadline: the phrase is consumed and yields nothing.
//! - Past references (昨天, 上周五, 上个月, 三天前) and recurrences (每周五,
//!   每天) yield nothing, and do not leak their time part (`昨天下午3点`).
//! - 早上 / 早晨 / 明早 end like 上午 (12:00); 凌晨 alone ends at 06:00;
//!   上班前 is 09:00; `EOD` / `COB` mean 下班 (18:00).
//! - A bare weekday, day of month or month-day with a clock time that has
//!   already passed rolls to its next occurrence, like a bare clock time.
//! - `H:MM` follows the bare-hour rule when written with one digit (`3:30`
//!   is 15:30) and stays as written with two (`03:30`).
//! - Non-holiday festivals (元宵, 七夕, 重阳, 腊八, 小年, 除夕 …) resolve to
//!   the day itself; 前 does not move it, 后 means the next working day.
//! - `N个工作日` needs no 内; other durations do (`三天` alone is an amount
//!   of work, not a deadline), and a duration followed by 前 is in the past.

mod grammar;
mod text;

use std::ops::Range;

use jiff::Zoned;

use crate::calendar::Calendar;

/// One deadline phrase found inside a longer text.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadlineMatch {
    /// Byte range of the phrase in the text, including 前/之前-style markers.
    pub span: Range<usize>,
    /// The latest instant that satisfies the phrase.
    pub at: Zoned,
}

/// The deadline a whole phrase means, or `None` when it names none. When
/// the phrase names several, the first one wins.
pub fn parse_deadline(text: &str, now: &Zoned, calendar: &Calendar) -> Option<Zoned> {
    let t = text::Text::new(text);
    let cx = grammar::Ctx::new(now, calendar);
    let mut i = 0;
    while i < t.len() {
        match grammar::parse_at(&t, i, &cx) {
            Some(hit) => {
                if let Some(at) = hit.at {
                    return cx.to_zoned(at);
                }
                i = hit.end.max(i + 1);
            }
            None => i += 1,
        }
    }
    None
}

/// Every deadline phrase inside a free-text message, in order of appearance.
pub fn find_deadlines(text: &str, now: &Zoned, calendar: &Calendar) -> Vec<DeadlineMatch> {
    let t = text::Text::new(text);
    let cx = grammar::Ctx::new(now, calendar);
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        match grammar::parse_at(&t, i, &cx) {
            Some(hit) => {
                if let Some(at) = hit.at.and_then(|dt| cx.to_zoned(dt)) {
                    out.push(DeadlineMatch {
                        span: t.byte(hit.start)..t.byte(hit.end),
                        at,
                    });
                }
                i = hit.end.max(i + 1);
            }
            None => i += 1,
        }
    }
    out
}
