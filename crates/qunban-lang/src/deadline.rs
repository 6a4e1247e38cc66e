//! Chinese deadline phrases to exact instants, following
//! `shared/conventions/deadlines.md`. (Skeleton: the deadline work fills this in.)

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

/// The deadline a whole phrase means, or `None` when it names none.
pub fn parse_deadline(text: &str, now: &Zoned, calendar: &Calendar) -> Option<Zoned> {
    let _ = (text, now, calendar);
    None
}

/// Every deadline phrase inside a free-text message, in order of appearance.
pub fn find_deadlines(text: &str, now: &Zoned, calendar: &Calendar) -> Vec<DeadlineMatch> {
    let _ = (text, now, calendar);
    Vec::new()
}
