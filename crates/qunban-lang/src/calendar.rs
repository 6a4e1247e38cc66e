//! The China working-day calendar: weekends, official holidays and make-up
//! working days (调休), loaded from one data file per year.
//!
//! (Skeleton: the deadline work fills this in.)

use jiff::civil::Date;

/// Official holidays and make-up working days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {}

impl Calendar {
    /// The calendar built from the data files shipped in `data/holidays/`.
    pub fn builtin() -> Calendar {
        Calendar {}
    }

    /// Whether people work on `date`.
    pub fn is_workday(&self, date: Date) -> bool {
        use jiff::civil::Weekday::*;
        !matches!(date.weekday(), Saturday | Sunday)
    }
}
