//! Properties of the deadline scanner that no labelled corpus can cover:
//! it never panics, its spans are usable slices, and a phrase about the
//! future never resolves to an instant before the message was sent.

use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::Zoned;
use proptest::prelude::*;
use qunban_lang::{find_deadlines, parse_deadline, Calendar};

fn now_strategy() -> impl Strategy<Value = Zoned> {
    // 2024-01-01 .. 2027-12-31, any second of the day.
    (0i64..(4 * 365), 0i8..24, 0i8..60, 0i8..60).prop_map(|(d, h, m, s)| {
        let day = date(2024, 1, 1).checked_add(jiff::Span::new().days(d)).unwrap();
        day.at(h, m, s, 0)
            .to_zoned(TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
    })
}

/// Phrases whose every reading lies in the future (open references roll
/// forward; fixed ones such as 本周五 or 今天下午 can name the past and are
/// left out on purpose).
const FUTURE: &[&str] = &[
    "明天", "后天", "大后天", "明天下午3点", "明早", "明晚8点", "今晚", "今天", "今天之内", "周五", "周一上午10点",
    "星期天", "礼拜三下午", "下周二", "下下周一", "下周", "这周末", "周末", "本周内", "两小时内", "半天内", "三天内",
    "30分钟内", "一个半小时内", "一周内", "两周内", "半个月内", "一个月内", "3个工作日内", "下一个工作日", "10个工作日内",
    "五一前", "国庆前", "春节前", "节前", "节后", "春节后", "中秋节后", "端午前", "元宵节", "中秋节", "除夕", "七夕",
    "25号", "1号", "31号", "二十号", "5月8日", "1月5日", "12/31", "2.29", "月底", "下个月底", "月初", "下月初", "季度末",
    "下季度末", "年底", "Q1", "3点前", "两点", "10点", "凌晨2点前", "下班前", "下午", "上午", "中午", "晚上", "15:30",
    "9点一刻", "三点三刻", "十二点", "下午4点半前", "周三下午3点", "20号下午3点", "5月8日上午9点", "元旦前", "清明后",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,40}", now in now_strategy()) {
        let cal = Calendar::builtin();
        let _ = parse_deadline(&text, &now, &cal);
        let _ = find_deadlines(&text, &now, &cal);
    }

    #[test]
    fn never_panics_on_deadline_alphabet(
        text in "[0-9０-９一二两三四五六七八九十百零半个点时分刻:：./\\-年月日号周星期礼拜天今明后大下本这上前之内以工作小钟头季度底末初节春国庆中秋端午元宵除夕晚早午凌班EOD Q#第%v]{0,24}",
        now in now_strategy(),
    ) {
        let cal = Calendar::builtin();
        let _ = parse_deadline(&text, &now, &cal);
        for m in find_deadlines(&text, &now, &cal) {
            prop_assert!(m.span.start < m.span.end && m.span.end <= text.len());
        }
    }

    #[test]
    fn spans_are_char_boundaries_in_order(
        prefix in "\\PC{0,12}",
        phrase in prop::sample::select(FUTURE),
        suffix in "\\PC{0,12}",
        now in now_strategy(),
    ) {
        let cal = Calendar::builtin();
        let text = format!("{prefix}{phrase}{suffix}");
        let found = find_deadlines(&text, &now, &cal);
        let mut last_end = 0;
        for m in &found {
            prop_assert!(text.is_char_boundary(m.span.start) && text.is_char_boundary(m.span.end));
            prop_assert!(m.span.start < m.span.end && m.span.end <= text.len());
            prop_assert!(m.span.start >= last_end, "overlapping spans in {text:?}");
            last_end = m.span.end;
        }
    }

    #[test]
    fn future_phrases_never_resolve_before_now(
        phrase in prop::sample::select(FUTURE),
        noise in prop::sample::select(&["", "前", "之前", "哈", "吧", "左右", "！"][..]),
        lead in prop::sample::select(&["", "最晚", "争取", "务必", "@张三 ", "大概"][..]),
        now in now_strategy(),
    ) {
        let cal = Calendar::builtin();
        let text = format!("{lead}{phrase}{noise}");
        if let Some(at) = parse_deadline(&text, &now, &cal) {
            prop_assert!(at >= now, "{text:?} at {now} resolved to {at}");
        }
    }

    #[test]
    fn future_phrases_resolve(phrase in prop::sample::select(FUTURE), now in now_strategy()) {
        // Every future phrase names a deadline at any time (2.29 excepted in
        // years that lack it, which the roll skips, and 节前/节后 need data).
        let cal = Calendar::builtin();
        let got = parse_deadline(phrase, &now, &cal);
        let needs_data = matches!(phrase, "节前" | "节后") && now.year() >= 2027;
        prop_assert!(got.is_some() || needs_data, "{phrase:?} at {now} gave nothing");
    }
}

#[test]
fn spans_cover_markers() {
    let cal = Calendar::builtin();
    let now: Zoned = "2026-04-22T14:00:00+08:00[Asia/Shanghai]".parse().unwrap();
    let text = "@张三 明天下午3点前把需求文档写完，李四周五之前给到";
    let found = find_deadlines(text, &now, &cal);
    let spans: Vec<&str> = found.iter().map(|m| &text[m.span.clone()]).collect();
    assert_eq!(spans, vec!["明天下午3点前", "周五之前"]);
    let text = "请李四本周内完成接口联调；我今天下班前把周报发出来";
    let spans: Vec<String> = find_deadlines(text, &now, &cal)
        .iter()
        .map(|m| text[m.span.clone()].to_string())
        .collect();
    assert_eq!(spans, vec!["本周内", "今天下班前"]);
    let text = "３天内完成，v2.3.1 的第3点，十一个人，进度60%，TASK-003，#3";
    let spans: Vec<String> = find_deadlines(text, &now, &cal)
        .iter()
        .map(|m| text[m.span.clone()].to_string())
        .collect();
    assert_eq!(spans, vec!["３天内"]);
}
