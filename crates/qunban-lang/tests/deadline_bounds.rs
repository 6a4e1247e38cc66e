//! Deadline output is bounded: a phrase never yields an instant outside
//! 2000..2100, and a date that does not exist yields nothing — neither
//! another date nor a part of it read on its own (`2月30日` is not `30日`).

use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::Zoned;
use proptest::prelude::*;
use qunban_lang::{find_deadlines, parse_deadline, Calendar};

fn now() -> Zoned {
    date(2026, 12, 3).at(10, 0, 0, 0).to_zoned(TimeZone::get("Asia/Shanghai").unwrap()).unwrap()
}

fn read(phrase: &str) -> Option<String> {
    parse_deadline(phrase, &now(), &Calendar::builtin()).map(|z| z.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

#[test]
fn huge_durations_name_no_deadline() {
    for p in ["1000000天内", "100000天内", "36500天内", "99999个工作日内", "5000周内", "2000个月内", "2000000小时内", "999999999分钟内"] {
        assert_eq!(read(p), None, "{p}");
    }
    // Within the window they still count.
    assert_eq!(read("300天内").as_deref(), Some("2027-09-29T23:59:59"));
}

#[test]
fn impossible_dates_name_no_deadline() {
    for p in [
        "2月30日",
        "2月30号下午3点",
        "2月31日前",
        "4月31日",
        "11月31号",
        "13月5日",
        "0月5日",
        "2027年2月29日",
        "9999年12月31日",
        "99999年1月1日",
        "1800年3月1日",
        "2026-02-30",
        "2/30",
        "20260230",
    ] {
        assert_eq!(read(p), None, "{p}");
        assert!(find_deadlines(&format!("合同{p}前寄出"), &now(), &Calendar::builtin()).is_empty(), "{p} in a sentence");
    }
}

#[test]
fn real_dates_next_to_impossible_ones_still_count() {
    assert_eq!(read("2月28日").as_deref(), Some("2027-02-28T23:59:59"));
    // No year: 2月29日 waits for the next leap year.
    assert_eq!(read("2月29日").as_deref(), Some("2028-02-29T23:59:59"));
    assert_eq!(read("2028年2月29日下午3点").as_deref(), Some("2028-02-29T15:00:00"));
    assert_eq!(read("12月31日").as_deref(), Some("2026-12-31T23:59:59"));
    assert_eq!(read("2027年3月底").as_deref(), Some("2027-03-31T23:59:59"));
}

fn now_strategy() -> impl Strategy<Value = Zoned> {
    (0i64..(4 * 365), 0i8..24).prop_map(|(d, h)| {
        date(2024, 1, 1)
            .checked_add(jiff::Span::new().days(d))
            .unwrap()
            .at(h, 0, 0, 0)
            .to_zoned(TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_instant_lies_between_2000_and_2100(
        text in "[0-9一二两三四五六七八九十百千万零个天周月年日号内前工作小时分钟后底末初季度下本这明 ]{1,16}",
        now in now_strategy(),
    ) {
        let cal = Calendar::builtin();
        for z in parse_deadline(&text, &now, &cal).into_iter().chain(find_deadlines(&text, &now, &cal).into_iter().map(|m| m.at)) {
            prop_assert!((2000..2100).contains(&z.year()), "{text} -> {z}");
        }
    }
}
