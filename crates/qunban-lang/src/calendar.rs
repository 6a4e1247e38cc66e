//! The China working-day calendar: weekends, official holidays and make-up
//! working days (调休), loaded from one data file per year.
//!
//! The State Council publishes the next year's schedule every November or
//! December and it does not follow a formula, so the calendar is data, not
//! code: the files in `data/holidays/` are embedded for [`Calendar::builtin`],
//! and a deployment can add or replace a year at runtime with
//! [`Calendar::with_year_text`] without a rebuild.
//!
//! # File format
//!
//! UTF-8 text, one directive per line; `#` starts a comment, blank lines are
//! ignored, fields are separated by whitespace:
//!
//! ```text
//! year 2026
//! status official            # or: provisional
//! holiday 元旦 2026-01-01 2026-01-03
//! holiday 国庆节/中秋节 2025-10-01 2025-10-08
//! workday 2026-01-04
//! ```
//!
//! `holiday NAME START END` is one holiday period, both ends included; `NAME`
//! may list aliases separated by `/` when one period covers two festivals.
//! `workday DATE` is a weekend day on which people work (调休).

use std::fmt;

use jiff::civil::{Date, Weekday};

/// A malformed holiday file, with enough context to fix it by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{source_name}:{line}: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        message: String,
    },
    #[error("{source_name}: missing `year YYYY` line")]
    MissingYear { source_name: String },
}

/// Whether a year's data is the published schedule or a stand-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearStatus {
    Official,
    /// Derived from the statutory rules before the State Council published
    /// the year; holidays may move when the official notice is out.
    Provisional,
}

/// One official holiday period, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayPeriod {
    /// Names this period answers to (`国庆节`, `中秋节`); the first is the
    /// display name.
    pub names: Vec<String>,
    pub start: Date,
    pub end: Date,
}

impl HolidayPeriod {
    /// The display name.
    pub fn name(&self) -> &str {
        self.names.first().map(String::as_str).unwrap_or("")
    }

    /// Whether the period is known under `name` (`国庆` matches `国庆节`).
    pub fn is_named(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|n| n == name || n.strip_suffix('节') == Some(name))
    }

    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// One year's data as parsed from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearData {
    pub year: i16,
    pub status: YearStatus,
    pub holidays: Vec<HolidayPeriod>,
    pub workdays: Vec<Date>,
}

/// Official holidays and make-up working days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    years: Vec<YearData>,
    /// All periods of all years, sorted by start; rebuilt on every change so
    /// lookups stay a binary search.
    periods: Vec<HolidayPeriod>,
    /// Every day off inside a period, sorted, for `is_workday`.
    days_off: Vec<Date>,
    /// Make-up working days, sorted.
    makeup: Vec<Date>,
}

const BUILTIN: &[(&str, &str)] = &[
    ("2024.txt", include_str!("../data/holidays/2024.txt")),
    ("2025.txt", include_str!("../data/holidays/2025.txt")),
    ("2026.txt", include_str!("../data/holidays/2026.txt")),
    ("2027.txt", include_str!("../data/holidays/2027.txt")),
];

impl Calendar {
    /// The calendar built from the data files shipped in `data/holidays/`.
    pub fn builtin() -> Calendar {
        // Parsed once per process: callers build one per message context.
        static BUILT: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
        BUILT
            .get_or_init(|| {
                // The embedded files are covered by tests; a broken one is a
                // build defect, so it is reported loudly, not dropped.
                Calendar::from_texts(BUILTIN.iter().copied())
                    .unwrap_or_else(|e| panic!("embedded holiday data is invalid: {e}"))
            })
            .clone()
    }

    /// A calendar with no holidays: plain Monday–Friday weeks. Useful for
    /// tests and for workspaces outside mainland China.
    pub fn weekends_only() -> Calendar {
        Calendar::default()
    }

    /// Builds a calendar from `(source name, file text)` pairs; a later file
    /// for the same year replaces the earlier one.
    pub fn from_texts<'a, I>(texts: I) -> Result<Calendar, CalendarError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut cal = Calendar::default();
        for (name, text) in texts {
            cal = cal.with_year_text(name, text)?;
        }
        Ok(cal)
    }

    /// This calendar with one year added or replaced by the given file text,
    /// so a deployment can ship next year's schedule without a rebuild.
    pub fn with_year_text(mut self, source_name: &str, text: &str) -> Result<Calendar, CalendarError> {
        let data = parse_year_text(source_name, text)?;
        self.years.retain(|y| y.year != data.year);
        self.years.push(data);
        self.years.sort_by_key(|y| y.year);
        self.rebuild();
        Ok(self)
    }

    fn rebuild(&mut self) {
        self.periods = self.years.iter().flat_map(|y| y.holidays.iter().cloned()).collect();
        self.periods.sort_by_key(|p| p.start);
        self.days_off.clear();
        for p in &self.periods {
            let mut d = p.start;
            while d <= p.end {
                self.days_off.push(d);
                match d.tomorrow() {
                    Ok(n) => d = n,
                    Err(_) => break,
                }
            }
        }
        self.days_off.sort();
        self.days_off.dedup();
        self.makeup = self.years.iter().flat_map(|y| y.workdays.iter().copied()).collect();
        self.makeup.sort();
        self.makeup.dedup();
    }

    /// The years the calendar has data for, with their status.
    pub fn years(&self) -> impl Iterator<Item = (i16, YearStatus)> + '_ {
        self.years.iter().map(|y| (y.year, y.status))
    }

    /// Whether people work on `date`.
    pub fn is_workday(&self, date: Date) -> bool {
        if self.days_off.binary_search(&date).is_ok() {
            return false;
        }
        if self.makeup.binary_search(&date).is_ok() {
            return true;
        }
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The first working day strictly after `date`.
    pub fn next_workday_after(&self, date: Date) -> Date {
        self.nth_workday_after(date, 1)
    }

    /// The `n`-th working day strictly after `date` (`date` itself never
    /// counts, as in "3个工作日内"); `n == 0` gives `date` back.
    pub fn nth_workday_after(&self, date: Date, n: u32) -> Date {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = match d.tomorrow() {
                Ok(next) => next,
                Err(_) => return d,
            };
            if self.is_workday(d) {
                left -= 1;
            }
        }
        d
    }

    /// All holiday periods, sorted by start.
    pub fn holiday_periods(&self) -> &[HolidayPeriod] {
        &self.periods
    }

    /// The holiday period containing `date`, if any.
    pub fn holiday_period_on(&self, date: Date) -> Option<&HolidayPeriod> {
        self.periods.iter().find(|p| p.contains(date))
    }

    /// The name of the holiday `date` falls in, if any.
    pub fn holiday_on(&self, date: Date) -> Option<&str> {
        self.holiday_period_on(date).map(HolidayPeriod::name)
    }

    /// The first holiday period that starts after `date` (for 节前) and,
    /// when `name` is given, answers to it.
    pub fn next_period_starting_after(&self, date: Date, name: Option<&str>) -> Option<&HolidayPeriod> {
        self.periods
            .iter()
            .find(|p| p.start > date && name.is_none_or(|n| p.is_named(n)))
    }

    /// The holiday period in progress on `date` or the next one (for 节后).
    pub fn next_period_ending_on_or_after(&self, date: Date, name: Option<&str>) -> Option<&HolidayPeriod> {
        self.periods
            .iter()
            .find(|p| p.end >= date && name.is_none_or(|n| p.is_named(n)))
    }

    /// Whether the calendar has data covering `date`'s year.
    pub fn covers_year(&self, year: i16) -> bool {
        self.years.iter().any(|y| y.year == year)
    }
}

impl fmt::Display for YearStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            YearStatus::Official => "official",
            YearStatus::Provisional => "provisional",
        })
    }
}

/// Parses one year's holiday file (format in the module docs).
pub fn parse_year_text(source_name: &str, text: &str) -> Result<YearData, CalendarError> {
    let err = |line: usize, message: String| CalendarError::Syntax {
        source_name: source_name.to_string(),
        line,
        message,
    };
    let mut year: Option<i16> = None;
    let mut status = YearStatus::Official;
    let mut holidays = Vec::new();
    let mut workdays = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let date = |s: &str| -> Result<Date, CalendarError> {
            s.parse::<Date>()
                .map_err(|e| err(lineno, format!("bad date `{s}`: {e}")))
        };
        match fields.as_slice() {
            ["year", y] => {
                let y: i16 = y
                    .parse()
                    .map_err(|_| err(lineno, format!("bad year `{y}`")))?;
                if !(1900..=2200).contains(&y) {
                    return Err(err(lineno, format!("year {y} out of range")));
                }
                year = Some(y);
            }
            ["status", "official"] => status = YearStatus::Official,
            ["status", "provisional"] => status = YearStatus::Provisional,
            ["status", other] => {
                return Err(err(lineno, format!("status must be official or provisional, not `{other}`")))
            }
            ["holiday", name, start, end] => {
                let (start, end) = (date(start)?, date(end)?);
                if end < start {
                    return Err(err(lineno, format!("holiday ends ({end}) before it starts ({start})")));
                }
                if (end - start).get_days() > 31 {
                    return Err(err(lineno, "holiday period longer than a month".to_string()));
                }
                let names: Vec<String> = name
                    .split('/')
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect();
                if names.is_empty() {
                    return Err(err(lineno, "holiday without a name".to_string()));
                }
                holidays.push(HolidayPeriod { names, start, end });
            }
            ["workday", d] => workdays.push(date(d)?),
            [kw, ..] => {
                return Err(err(
                    lineno,
                    format!("expected `year Y`, `status S`, `holiday NAME START END` or `workday DATE`, got `{kw}` with {} field(s)", fields.len()),
                ))
            }
            [] => {}
        }
    }
    let year = year.ok_or_else(|| CalendarError::MissingYear {
        source_name: source_name.to_string(),
    })?;
    holidays.sort_by_key(|p| p.start);
    workdays.sort();
    Ok(YearData {
        year,
        status,
        holidays,
        workdays,
    })
}
