//! The holiday calendar and the lunar table: the published State Council
//! schedules that deadlines depend on, and the lunar dates behind 春节, 端午,
//! 中秋 checked against an independent astronomical computation.

use jiff::civil::{date, Date};
use qunban_lang::calendar::{parse_year_text, CalendarError, YearStatus};
use qunban_lang::lunar::{self, LunarFestival};
use qunban_lang::Calendar;

fn range(a: Date, b: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = a;
    while d <= b {
        out.push(d);
        d = d.tomorrow().unwrap();
    }
    out
}

#[test]
fn official_holidays_are_days_off() {
    let cal = Calendar::builtin();
    let periods = [
        (date(2024, 1, 1), date(2024, 1, 1)),
        (date(2024, 2, 10), date(2024, 2, 17)),
        (date(2024, 4, 4), date(2024, 4, 6)),
        (date(2024, 5, 1), date(2024, 5, 5)),
        (date(2024, 6, 10), date(2024, 6, 10)),
        (date(2024, 9, 15), date(2024, 9, 17)),
        (date(2024, 10, 1), date(2024, 10, 7)),
        (date(2025, 1, 1), date(2025, 1, 1)),
        (date(2025, 1, 28), date(2025, 2, 4)),
        (date(2025, 4, 4), date(2025, 4, 6)),
        (date(2025, 5, 1), date(2025, 5, 5)),
        (date(2025, 5, 31), date(2025, 6, 2)),
        (date(2025, 10, 1), date(2025, 10, 8)),
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 2, 15), date(2026, 2, 23)),
        (date(2026, 4, 4), date(2026, 4, 6)),
        (date(2026, 5, 1), date(2026, 5, 5)),
        (date(2026, 6, 19), date(2026, 6, 21)),
        (date(2026, 9, 25), date(2026, 9, 27)),
        (date(2026, 10, 1), date(2026, 10, 7)),
    ];
    for (a, b) in periods {
        for d in range(a, b) {
            assert!(!cal.is_workday(d), "{d} should be a holiday");
            assert!(cal.holiday_on(d).is_some(), "{d} should name its holiday");
        }
    }
}

#[test]
fn make_up_working_days() {
    let cal = Calendar::builtin();
    let makeup = [
        date(2024, 2, 4),
        date(2024, 2, 18),
        date(2024, 4, 7),
        date(2024, 4, 28),
        date(2024, 5, 11),
        date(2024, 9, 14),
        date(2024, 9, 29),
        date(2024, 10, 12),
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ];
    for d in makeup {
        assert!(matches!(d.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday), "{d} is not a weekend day");
        assert!(cal.is_workday(d), "{d} should be a make-up working day");
    }
    // Ordinary days stay ordinary.
    assert!(cal.is_workday(date(2026, 4, 22)));
    assert!(!cal.is_workday(date(2026, 4, 25)));
    assert!(!cal.is_workday(date(2026, 4, 26)));
}

#[test]
fn holiday_names() {
    let cal = Calendar::builtin();
    assert_eq!(cal.holiday_on(date(2026, 2, 17)), Some("春节"));
    assert_eq!(cal.holiday_on(date(2026, 10, 3)), Some("国庆节"));
    assert_eq!(cal.holiday_on(date(2025, 10, 6)), Some("国庆节"));
    assert_eq!(cal.holiday_on(date(2026, 4, 22)), None);
    let p = cal.holiday_period_on(date(2025, 10, 6)).unwrap();
    assert!(p.is_named("中秋节") && p.is_named("中秋") && p.is_named("国庆"));
}

#[test]
fn working_day_arithmetic() {
    let cal = Calendar::builtin();
    let wed = date(2026, 4, 22);
    assert_eq!(cal.next_workday_after(wed), date(2026, 4, 23));
    assert_eq!(cal.nth_workday_after(wed, 3), date(2026, 4, 27));
    assert_eq!(cal.nth_workday_after(wed, 7), date(2026, 5, 6));
    assert_eq!(cal.nth_workday_after(wed, 0), wed);
    // Across the 2026 Spring Festival with its two make-up Saturdays.
    assert_eq!(cal.nth_workday_after(date(2026, 2, 13), 1), date(2026, 2, 14));
    assert_eq!(cal.nth_workday_after(date(2026, 2, 14), 1), date(2026, 2, 24));
    assert_eq!(cal.next_workday_after(date(2025, 12, 31)), date(2026, 1, 4));
}

#[test]
fn years_and_status() {
    let cal = Calendar::builtin();
    let years: Vec<_> = cal.years().collect();
    assert_eq!(
        years,
        vec![
            (2024, YearStatus::Official),
            (2025, YearStatus::Official),
            (2026, YearStatus::Official),
            (2027, YearStatus::Provisional),
        ]
    );
}

#[test]
fn runtime_override_replaces_a_year() {
    let text = "year 2027\nstatus official\nholiday 春节 2027-02-05 2027-02-13\nworkday 2027-02-14\n";
    let cal = Calendar::builtin().with_year_text("2027.txt", text).unwrap();
    assert!(!cal.is_workday(date(2027, 2, 12)));
    assert!(cal.is_workday(date(2027, 2, 14)));
    // The provisional 国庆 of the replaced file is gone.
    assert!(cal.is_workday(date(2027, 10, 4)));
    assert_eq!(cal.years().last(), Some((2027, YearStatus::Official)));
    // A new year extends the calendar.
    let cal = cal
        .with_year_text("2028.txt", "year 2028\nholiday 元旦 2028-01-01 2028-01-03\n")
        .unwrap();
    assert!(!cal.is_workday(date(2028, 1, 3)));
}

#[test]
fn malformed_files_are_reported_with_their_line() {
    let cases = [
        ("year 2026\nholiday 春节 2026-02-30 2026-03-01\n", 2),
        ("year 2026\nholiday 春节 2026-02-20 2026-02-10\n", 2),
        ("year 2026\nworkday\n", 2),
        ("# c\nyear twenty\n", 2),
        ("year 2026\nstatus maybe\n", 2),
        ("year 2026\n\nvacation 2026-01-01\n", 3),
    ];
    for (text, line) in cases {
        match parse_year_text("bad.txt", text) {
            Err(CalendarError::Syntax { line: l, source_name, .. }) => {
                assert_eq!((l, source_name.as_str()), (line, "bad.txt"), "{text:?}")
            }
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }
    assert!(matches!(
        parse_year_text("x.txt", "holiday 元旦 2026-01-01 2026-01-01\n"),
        Err(CalendarError::MissingYear { .. })
    ));
    let err = Calendar::from_texts([("x.txt", "year 2026\nholiday 元旦\n")]).unwrap_err();
    assert!(err.to_string().starts_with("x.txt:2:"), "{err}");
}

#[test]
fn lunar_dates_in_the_brief() {
    assert_eq!(lunar::new_year(2024), Some(date(2024, 2, 10)));
    assert_eq!(lunar::new_year(2025), Some(date(2025, 1, 29)));
    assert_eq!(lunar::new_year(2026), Some(date(2026, 2, 17)));
    assert_eq!(lunar::new_year(2027), Some(date(2027, 2, 6)));
    assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2024), Some(date(2024, 9, 17)));
    assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2025), Some(date(2025, 10, 6)));
    assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2026), Some(date(2026, 9, 25)));
    assert_eq!(LunarFestival::DragonBoat.in_lunar_year(2026), Some(date(2026, 6, 19)));
    assert_eq!(LunarFestival::Lantern.in_lunar_year(2026), Some(date(2026, 3, 3)));
}

#[test]
fn lunar_table_matches_astronomical_reference() {
    let mut bad = Vec::new();
    let mut n = 0;
    for line in include_str!("data/lunar_reference.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let y: i16 = cols[0].parse().unwrap();
        let ny: Date = cols[1].parse().unwrap();
        let mid: Date = cols[2].parse().unwrap();
        n += 1;
        if lunar::new_year(y) != Some(ny) {
            bad.push(format!("{y} new year: {:?} != {ny}", lunar::new_year(y)));
        }
        if LunarFestival::MidAutumn.in_lunar_year(y) != Some(mid) {
            bad.push(format!("{y} 中秋: {:?} != {mid}", LunarFestival::MidAutumn.in_lunar_year(y)));
        }
    }
    assert_eq!(n, 199);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
