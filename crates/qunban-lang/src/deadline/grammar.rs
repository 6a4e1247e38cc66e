//! The deadline grammar: small recursive-descent rules over [`Text`], each
//! returning where it stopped, and the resolution of what they read into one
//! civil date-time following the conventions.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Zoned};

use super::text::{cn_digit, is_cn_numeral, Text};
use crate::calendar::Calendar;
use crate::lunar::LunarFestival;

/// The years a written date may name (`2026年`, `2026-01-15`, `20260115`);
/// one rule for every written form, so `impossible_date` agrees with the
/// readers whose leftovers it swallows.
const WRITTEN_YEARS: std::ops::RangeInclusive<u32> = 1990..=2100;

/// The first year a deadline may fall in.
pub(crate) const EARLIEST_YEAR: i16 = 2000;
/// The first year a deadline may no longer fall in.
pub(crate) const LATEST_YEAR: i16 = 2100;

pub(crate) struct Ctx<'a> {
    now_z: &'a Zoned,
    now: DateTime,
    today: Date,
    tz: TimeZone,
    cal: &'a Calendar,
}

impl<'a> Ctx<'a> {
    pub fn new(now: &'a Zoned, cal: &'a Calendar) -> Ctx<'a> {
        let now_dt = now.datetime();
        Ctx {
            now_z: now,
            now: now_dt,
            today: now_dt.date(),
            tz: now.time_zone().clone(),
            cal,
        }
    }

    /// The instant in the message's zone, or `None` outside the years a
    /// deadline can sensibly fall in ([`EARLIEST_YEAR`]..[`LATEST_YEAR`]):
    /// `1000000天内` names no deadline rather than one in the 48th century,
    /// which would overflow charts and sort orders downstream.
    pub fn to_zoned(&self, dt: DateTime) -> Option<Zoned> {
        if !(EARLIEST_YEAR..LATEST_YEAR).contains(&dt.year()) {
            return None;
        }
        dt.to_zoned(self.tz.clone()).ok()
    }

    /// `now` plus an exact number of seconds, as a civil time in the zone.
    fn plus_seconds(&self, secs: i64) -> Option<DateTime> {
        self.now_z
            .checked_add(Span::new().seconds(secs))
            .ok()
            .map(|z| z.datetime())
    }
}

/// What a rule read at one position: where it starts and ends, and the
/// instant, or `None` for a time reference that is no deadline (昨天, 每周五,
/// 三点以后) but must still be consumed so its parts are not reread.
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub at: Option<DateTime>,
}

/// A part of the day, which gives the hour reading and, without a clock
/// time, the end of the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Morning,
    Noon,
    Lunch,
    Afternoon,
    Dusk,
    OffWork,
    Evening,
    EarlyMorning,
    BeforeWork,
}

impl Part {
    /// (hour, minute, second) at which the part ends.
    fn end(self) -> (i8, i8, i8) {
        match self {
            Part::Morning | Part::Noon | Part::Lunch => (12, 0, 0),
            Part::Afternoon | Part::Dusk | Part::OffWork => (18, 0, 0),
            Part::Evening => (23, 59, 59),
            Part::EarlyMorning => (6, 0, 0),
            Part::BeforeWork => (9, 0, 0),
        }
    }

    /// The 24-hour reading of an hour written with this part; 24 means
    /// midnight at the end of the day.
    fn hour(self, h: u32) -> u32 {
        match self {
            Part::Afternoon | Part::OffWork if (1..=11).contains(&h) => h + 12,
            Part::Dusk | Part::Evening if (1..=11).contains(&h) => h + 12,
            Part::Evening | Part::Dusk if h == 12 => 24,
            Part::Noon | Part::Lunch if (1..=5).contains(&h) => h + 12,
            Part::EarlyMorning if h == 12 => 0,
            _ => h,
        }
    }
}

/// How an open reference moves when the instant it gives has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Roll {
    Fixed,
    NextDay,
    NextWeek,
    /// To the next month that has this day.
    NextMonth(i8),
    /// To the same month and day next year; day 0 means the month's last.
    NextYear(i8, i8),
}

#[derive(Debug, Clone, Copy)]
struct DayRef {
    date: Date,
    roll: Roll,
    /// A part of the day carried by the day word (今晚, 明早).
    part: Option<Part>,
}

impl DayRef {
    fn fixed(date: Date) -> DayRef {
        DayRef {
            date,
            roll: Roll::Fixed,
            part: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    /// Written as a bare two-digit `HH:MM`, which is read as written.
    literal: bool,
}

#[derive(Debug, Clone, Copy)]
struct TimeSpec {
    part: Option<Part>,
    clock: Option<Clock>,
}

/// Chars at which some rule can start; everything else is skipped at once,
/// which keeps the scan over ordinary text cheap.
fn may_start(c: char) -> bool {
    c.is_ascii_digit()
        || is_cn_numeral(c)
        || matches!(
            c,
            '今' | '明' | '后' | '大' | '本' | '这' | '下' | '周' | '星' | '礼' | '月' | '季' | '年'
                | '节' | '春' | '国' | '元' | '清' | '劳' | '端' | '中' | '重' | '除' | '腊' | '小'
                | '上' | '早' | '晚' | '傍' | '凌' | '半' | '昨' | '前' | '去' | '每' | '当' | '过'
                | '情' | '妇' | '儿' | '教' | '平' | '圣' | '双' | '假' | '放' | '长' | '收' | '午'
                | '夜' | '深' | '刚' | '第' | 'Q' | 'q' | 'E' | 'e' | 'C' | 'c' | '晨' | '一'
        )
}

pub(crate) fn parse_at(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<Hit> {
    if !may_start(t.at(i)) {
        return None;
    }
    if let Some(end) = past_or_recurring(t, i) {
        let end = consume_tail(t, end);
        return Some(Hit { start: i, end, at: None });
    }
    if let Some((end, at)) = duration(t, i, cx) {
        return Some(Hit { start: i, end, at });
    }
    let day = date_piece(t, i, cx);
    if day.is_none() {
        if let Some(e) = impossible_date(t, i) {
            // `2月30日下午3点`: a date that does not exist names no deadline;
            // its time part goes with it rather than being read as today's.
            let tstart = t.skip_spaces(e);
            let end = time_piece(t, tstart, true).map_or(e, |(e2, _)| e2);
            let end = match trailing(t, end) {
                Trail::Negative(e2) | Trail::Marker(e2) => e2,
                Trail::Nothing => end,
            };
            return Some(Hit { start: i, end, at: None });
        }
    }
    let (after_date, day) = match day {
        Some((e, d)) => (e, Some(d)),
        None => (i, None),
    };
    let mut tstart = if day.is_some() { t.skip_spaces(after_date) } else { i };
    if day.is_some() {
        tstart = skip_weekday_note(t, tstart);
        if t.at(tstart) == 'T' && t.at(tstart + 1).is_ascii_digit() {
            tstart += 1;
        }
    }
    let time = time_piece(t, tstart, day.is_some());
    let mut end = match (&day, &time) {
        (_, Some((e, _))) => *e,
        (Some(_), None) => {
            // A weekday note after a date (`12月3日（周四）`) belongs to it.
            let n = skip_weekday_note(t, after_date);
            if n > after_date {
                n
            } else {
                after_date
            }
        }
        (None, None) => return None,
    };
    match trailing(t, end) {
        Trail::Negative(e) => return Some(Hit { start: i, end: e, at: None }),
        Trail::Marker(e) => end = e,
        Trail::Nothing => {}
    }
    let at = resolve(day, time.map(|x| x.1), cx);
    Some(Hit { start: i, end, at })
}

/// `（周四）` / `(周四)` / ` 周四` right after a date: a restatement, skipped.
fn skip_weekday_note(t: &Text, i: usize) -> usize {
    let mut j = t.skip_spaces(i);
    let open = matches!(t.at(j), '(' | '（');
    if open {
        j += 1;
    }
    let Some((e, _)) = t.lits(j, &["星期", "礼拜", "周"]) else {
        return i;
    };
    if weekday_char(t, e).is_none() {
        return i;
    }
    let mut k = e + 1;
    if open {
        if matches!(t.at(k), ')' | '）') {
            k += 1;
        } else {
            return i;
        }
    }
    k
}

fn consume_tail(t: &Text, end: usize) -> usize {
    let j = t.skip_spaces(end);
    let mut end = match time_piece(t, j, true) {
        Some((e, _)) => e,
        None => end,
    };
    if let Trail::Marker(e) | Trail::Negative(e) = trailing(t, end) {
        end = e;
    }
    end
}

enum Trail {
    Negative(usize),
    Marker(usize),
    Nothing,
}

/// What follows a time expression: a deadline marker (kept in the span), a
/// start marker (后, 起: not a deadline), or neither.
fn trailing(t: &Text, i: usize) -> Trail {
    if let Some((e, k)) = t.lits(i, &["以后", "之后", "开始", "以来", "后", "起"]) {
        let next = t.at(e);
        let negative = match k {
            4 => !matches!(next, '天' | '端' | '台' | '续' | '面' | '期' | '果' | '日'),
            5 => !matches!(next, '床' | '来' | '草' | '码' | '飞'),
            _ => true,
        };
        if negative {
            return Trail::Negative(e);
        }
    }
    if let Some((e, k)) = t.lits(
        i,
        &["之前", "以前", "之内", "以内", "为止", "截止", "截至", "前", "内"],
    ) {
        let next = t.at(e);
        let ok = match k {
            7 => !matches!(
                next,
                '后' | '端' | '台' | '置' | '期' | '提' | '缀' | '言' | '面' | '者' | '辈' | '进' | '景' | '天' | '年' | '夕'
            ),
            8 => !matches!(
                next,
                '容' | '部' | '存' | '网' | '测' | '核' | '外' | '置' | '涵' | '推' | '地' | '心' | '卷'
            ),
            _ => true,
        };
        if ok {
            return Trail::Marker(e);
        }
    }
    Trail::Nothing
}

/// Past references and recurrences: consumed, never a deadline.
fn past_or_recurring(t: &Text, i: usize) -> Option<usize> {
    if !matches!(t.at(i), '大' | '前' | '昨' | '去' | '上' | '刚' | '每') {
        return None;
    }
    const PAST: &[&str] = &[
        "大前天", "前天", "昨天", "昨日", "昨晚", "昨夜", "昨儿", "去年", "前年", "上上周", "上上个月",
        "上个星期", "上个礼拜", "上个周", "上个月", "上星期", "上礼拜", "上周", "上月", "上个季度",
        "上季度", "刚才", "刚刚",
    ];
    if let Some((e, k)) = t.lits(i, PAST) {
        if k == 1 && matches!(t.prev(i), '节' | '年' | '提') {
            return None;
        }
        let mut e = e;
        if matches!(
            t.at(e),
            '一' | '二' | '三' | '四' | '五' | '六' | '日' | '天' | '七' | '末' | '底' | '初' | '中' | '1'..='7'
        ) {
            e += 1;
        }
        return Some(e);
    }
    if t.at(i) == '每' {
        let mut j = i + 1;
        if t.at(j) == '个' {
            j += 1;
        }
        if let Some((e, _)) = t.lits(j, &["星期", "礼拜", "周"]) {
            let mut e = e;
            if weekday_char(t, e).is_some() || t.at(e) == '末' {
                e += 1;
            }
            return Some(e);
        }
        if let Some((e, _)) = t.lits(
            j,
            &["工作日", "季度", "小时", "天", "日", "晚", "早", "月", "年", "周"],
        ) {
            return Some(e);
        }
        return Some(j);
    }
    None
}

/// A weekday char at `i` (一…日/天, 1–7) as days from Monday.
fn weekday_char(t: &Text, i: usize) -> Option<i64> {
    let c = t.at(i);
    let d = match c {
        '一' | '1' => 0,
        '二' | '2' => 1,
        '三' | '3' => 2,
        '四' | '4' => 3,
        '五' | '5' => 4,
        '六' | '6' => 5,
        '日' | '天' | '七' | '7' => 6,
        _ => return None,
    };
    if c.is_ascii_digit() && t.at(i + 1).is_ascii_digit() {
        return None;
    }
    Some(d)
}

/// `d` plus `n` days through a day number: calendar spans in jiff are
/// general (months, DST) and this is on the hot path of every phrase.
fn add_days(d: Date, n: i64) -> Option<Date> {
    if n == 1 {
        return d.tomorrow().ok();
    }
    let z = days_from_civil(d) + n;
    civil_from_days(z)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(d: Date) -> i64 {
    let (y, m, dd) = (i64::from(d.year()), i64::from(d.month()), i64::from(d.day()));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> Option<Date> {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

fn monday_of(d: Date) -> Option<Date> {
    add_days(d, -(i64::from(d.weekday().to_monday_zero_offset())))
}

fn last_of_month(y: i16, m: i8) -> Option<Date> {
    Date::new(y, m, 1).ok().map(|d| d.last_of_month())
}

/// Year, month, day where day 0 means the month's last day.
fn ymd(y: i16, m: i8, d: i8) -> Option<Date> {
    if d == 0 {
        last_of_month(y, m)
    } else {
        Date::new(y, m, d).ok()
    }
}

fn month_shift(d: Date, months: i64) -> Option<Date> {
    d.first_of_month().checked_add(Span::new().months(months)).ok()
}

// ---------------------------------------------------------------------------
// Durations

/// `N分钟内`, `两小时内`, `一个半小时内`, `半天内`, `三天内`, `两周内`,
/// `半个月内`, `N个工作日(内)`, `下一个工作日`. `Some((end, None))` for a
/// duration in the past (`三天前`).
fn duration(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, Option<DateTime>)> {
    let c = t.at(i);
    if !(c.is_ascii_digit() || is_cn_numeral(c) || matches!(c, '下' | '半')) {
        return None;
    }
    if let Some((e, _)) = t.lits(i, &["下一个工作日", "下个工作日", "下一工作日"]) {
        let e = match t.lits(e, &["之内", "以内", "内", "前"]) {
            Some((e2, _)) => e2,
            None => e,
        };
        let d = cx.cal.nth_workday_after(cx.today, 1);
        return Some((e, Some(d.at(23, 59, 59, 0))));
    }
    // The amount, in thousandths, so 1.5 and 半 need no floats.
    let (mut milli, mut j): (i64, usize);
    if t.at(i) == '半' {
        milli = 500;
        j = i + 1;
        if t.at(j) == '个' {
            j += 1;
        }
    } else {
        if !t.number_start_ok(i) {
            return None;
        }
        let (n, e, arabic) = t.number(i)?;
        milli = i64::from(n).checked_mul(1000)?;
        j = e;
        if arabic && t.at(j) == '.' && t.at(j + 1).is_ascii_digit() {
            let (f, fe, fd) = t.arabic(j + 1)?;
            if fd > 3 {
                return None;
            }
            milli += i64::from(f) * [100, 10, 1][fd - 1];
            j = fe;
        }
        if let Some(e) = t.lit(j, "个半") {
            milli += 500;
            j = e;
        } else if t.at(j) == '个' {
            j += 1;
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum U {
        Min,
        Hour,
        Day,
        Week,
        Month,
        Workday,
    }
    const UNITS: &[(&str, U)] = &[
        ("工作日", U::Workday),
        ("分钟", U::Min),
        ("mins", U::Min),
        ("min", U::Min),
        ("小时", U::Hour),
        ("钟头", U::Hour),
        ("hrs", U::Hour),
        ("hr", U::Hour),
        ("h", U::Hour),
        ("H", U::Hour),
        ("天", U::Day),
        ("日", U::Day),
        ("星期", U::Week),
        ("礼拜", U::Week),
        ("周", U::Week),
        ("月", U::Month),
    ];
    let words: [&str; 16] = [
        "工作日", "分钟", "mins", "min", "小时", "钟头", "hrs", "hr", "h", "H", "天", "日", "星期", "礼拜", "周", "月",
    ];
    let (e, k) = t.lits(j, &words)?;
    let unit = UNITS[k].1;
    // 月 without 个 is a month of the year (3月内), not a duration, except 半月.
    if unit == U::Month && t.at(j - 1) != '个' && milli != 500 {
        return None;
    }
    if t.at(e).is_ascii_alphabetic() {
        return None;
    }
    let end = match t.lits(e, &["之内", "以内", "内", "之前", "以前", "前"]) {
        Some((e2, k2)) if k2 >= 3 => {
            if k2 == 5 && matches!(t.at(e2), '后' | '端' | '台') {
                return None;
            }
            return Some((e2, None));
        }
        Some((e2, k2)) => {
            if k2 == 2 && matches!(t.at(e2), '容' | '部' | '存' | '网' | '测') {
                return None;
            }
            e2
        }
        None if unit == U::Workday => e,
        None => return None,
    };
    let whole = milli / 1000;
    let frac = milli % 1000;
    let day_end = |d: Date| -> Option<DateTime> { Some(d.at(23, 59, 59, 0)) };
    let at = match unit {
        U::Min => cx.plus_seconds(milli.checked_mul(60)? / 1000),
        U::Hour => cx.plus_seconds(milli.checked_mul(3600)? / 1000),
        U::Day if milli == 500 => cx.plus_seconds(12 * 3600),
        U::Day if frac != 0 => cx.plus_seconds(milli.checked_mul(86_400)? / 1000),
        U::Day => add_days(cx.today, whole).and_then(day_end),
        U::Week => add_days(cx.today, milli.checked_mul(7)? / 1000).and_then(day_end),
        U::Month => {
            let d = cx.today.checked_add(Span::new().months(whole)).ok()?;
            let d = if frac >= 500 { add_days(d, 15)? } else { d };
            day_end(d)
        }
        U::Workday => {
            if frac != 0 || whole > 3650 {
                return None;
            }
            day_end(cx.cal.nth_workday_after(cx.today, whole as u32))
        }
    };
    Some((end, at))
}

// ---------------------------------------------------------------------------
// Dates

fn date_piece(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    festival(t, i, cx)
        .or_else(|| relative_day(t, i, cx))
        .or_else(|| week(t, i, cx))
        .or_else(|| quarter(t, i, cx))
        .or_else(|| relative_month(t, i, cx))
        .or_else(|| year_expr(t, i, cx))
        .or_else(|| {
            if t.number_start_ok(i) {
                month_expr(t, i, cx, None)
            } else {
                None
            }
        })
        .or_else(|| numeric_date(t, i, cx))
        .or_else(|| day_of_month(t, i, cx))
}

fn relative_day(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    const WORDS: &[(&str, i64, Option<Part>)] = &[
        ("大后天", 3, None),
        ("今天", 0, None),
        ("今日", 0, None),
        ("今儿个", 0, None),
        ("今儿", 0, None),
        ("当天", 0, None),
        ("今晚", 0, Some(Part::Evening)),
        ("今夜", 0, Some(Part::Evening)),
        ("今早", 0, Some(Part::Morning)),
        ("今晨", 0, Some(Part::Morning)),
        ("明天", 1, None),
        ("明日", 1, None),
        ("明儿个", 1, None),
        ("明儿", 1, None),
        ("明晚", 1, Some(Part::Evening)),
        ("明早", 1, Some(Part::Morning)),
        ("明晨", 1, Some(Part::Morning)),
        ("后天", 2, None),
        ("后日", 2, None),
    ];
    let c = t.at(i);
    if !matches!(c, '大' | '今' | '当' | '明' | '后') {
        return None;
    }
    let words: [&str; 19] = {
        let mut w = [""; 19];
        for (k, x) in WORDS.iter().enumerate() {
            w[k] = x.0;
        }
        w
    };
    let (e, k) = t.lits(i, &words)?;
    let (_, off, part) = WORDS[k];
    if c == '后'
        && matches!(
            t.prev(i),
            '以' | '之' | '然' | '最' | '此' | '过' | '落' | '随' | '背' | '午' | '前' | '节' | '年' | '饭' | '会' | '班'
                | '事' | '稍' | '往' | '日' | '今' | '明'
        )
    {
        return None;
    }
    Some((
        e,
        DayRef {
            date: add_days(cx.today, off)?,
            roll: Roll::Fixed,
            part,
        },
    ))
}

fn week(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    if !matches!(t.at(i), '下' | '这' | '本' | '周' | '星' | '礼') {
        return None;
    }
    const PREFIXES: &[(&str, i64)] = &[
        ("下下个", 2),
        ("下下", 2),
        ("下一个", 1),
        ("下一", 1),
        ("下个", 1),
        ("下", 1),
        ("这个", 0),
        ("这", 0),
        ("本", 0),
    ];
    let (j, offset, bare) = match t.lits(i, &["下下个", "下下", "下一个", "下一", "下个", "下", "这个", "这", "本"]) {
        Some((e, k)) => (e, PREFIXES[k].1, false),
        None => (i, 0, true),
    };
    let (e, _) = t.lits(j, &["星期", "礼拜", "周"])?;
    if bare && matches!(t.prev(i), '每' | '上' | '个') {
        return None;
    }
    // After a numeral, 周 is usually a count of weeks (两周一次, 三周一个
    //版本), but names end in numerals too (李四周五之前).
    if bare
        && (is_cn_numeral(t.prev(i)) || t.prev(i).is_ascii_digit())
        && (weekday_char(t, e).is_none() || matches!(t.at(e + 1), '次' | '个' | '天' | '遍' | '回' | '轮' | '期' | '内'))
    {
        return None;
    }
    let monday = monday_of(cx.today)?;
    let week_start = add_days(monday, 7 * offset)?;
    if let Some(wd) = weekday_char(t, e) {
        // 周一下 is 周一 + 下午…, never a weekday followed by 下.
        let date = add_days(week_start, wd)?;
        if bare {
            let date = if date < cx.today { add_days(date, 7)? } else { date };
            return Some((
                e + 1,
                DayRef {
                    date,
                    roll: Roll::NextWeek,
                    part: None,
                },
            ));
        }
        return Some((e + 1, DayRef::fixed(date)));
    }
    if t.at(e) == '末' {
        return Some((e + 1, DayRef::fixed(add_days(week_start, 6)?)));
    }
    if bare {
        return None;
    }
    Some((e, DayRef::fixed(add_days(week_start, 6)?)))
}

fn quarter_end(y: i16, q: i8) -> Option<Date> {
    last_of_month(y, q * 3)
}

fn quarter(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    let c = t.at(i);
    if !(matches!(c, '下' | '本' | '这' | '当' | '季' | 'Q' | 'q' | '第' | '1'..='4') || is_cn_numeral(c)) {
        return None;
    }
    let today = cx.today;
    let cur_q = (today.month() - 1) / 3 + 1;
    let end_suffix = |e: usize| -> usize {
        match t.lits(e, &["末", "底"]) {
            Some((e2, _)) => e2,
            None => e,
        }
    };
    // Relative quarters.
    if let Some((e, k)) = t.lits(
        i,
        &["下一个季度", "下一季度", "下个季度", "下季度", "下季", "本季度", "这个季度", "这季度", "当季", "本季", "季度", "季"],
    ) {
        let next = k <= 4;
        let bare = k >= 10;
        let has_suffix = t.lits(e, &["末", "底", "内"]).is_some();
        if bare && (!has_suffix || matches!(t.prev(i), '一' | '二' | '三' | '四' | '1' | '2' | '3' | '4' | '第' | '上' | '每' | '个')) {
            return None;
        }
        let (mut y, mut q) = (today.year(), cur_q);
        if next {
            q += 1;
            if q > 4 {
                q = 1;
                y += 1;
            }
        }
        if next && t.at(e) == '初' {
            return Some((e + 1, DayRef::fixed(Date::new(y, (q - 1) * 3 + 1, 1).ok()?)));
        }
        return Some((end_suffix(e), DayRef::fixed(quarter_end(y, q)?)));
    }
    // Q3, 第三季度, 三季度末.
    let (q, e) = if matches!(t.at(i), 'Q' | 'q') {
        if t.prev(i).is_ascii_alphanumeric() {
            return None;
        }
        let q = t.at(i + 1).to_digit(10)?;
        if t.at(i + 2).is_ascii_alphanumeric() {
            return None;
        }
        (q, i + 2)
    } else {
        let j = if t.at(i) == '第' { i + 1 } else { i };
        if j == i && !t.number_start_ok(i) {
            return None;
        }
        let (q, e, _) = t.number(j)?;
        let e = t.lit(e, "季度")?;
        (q, e)
    };
    if !(1..=4).contains(&q) {
        return None;
    }
    let q = q as i8;
    let mut y = today.year();
    if quarter_end(y, q)? < today {
        y += 1;
    }
    Some((end_suffix(e), DayRef::fixed(quarter_end(y, q)?)))
}

/// The 月初 rule: the 1st of this month only when today is the 1st.
fn month_start_rule(today: Date) -> Option<Date> {
    if today.day() == 1 {
        Some(today)
    } else {
        month_shift(today, 1)
    }
}

fn relative_month(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    if !matches!(t.at(i), '下' | '本' | '这' | '当' | '月' | '年') {
        return None;
    }
    let today = cx.today;
    const WORDS: &[(&str, i64)] = &[
        ("下下个月", 2),
        ("下一个月", 1),
        ("下个月", 1),
        ("下月", 1),
        ("本月份", 0),
        ("本月", 0),
        ("这个月", 0),
        ("这月", 0),
        ("当月", 0),
    ];
    if let Some((e, k)) = t.lits(i, &["下下个月", "下一个月", "下个月", "下月", "本月份", "本月", "这个月", "这月", "当月"]) {
        let off = WORDS[k].1;
        let first = month_shift(today, off)?;
        let (y, m) = (first.year(), first.month());
        if let Some((e2, k2)) = t.lits(e, &["底", "末", "下旬", "初", "上旬", "中旬", "中"]) {
            let date = match k2 {
                0..=2 => first.last_of_month(),
                3 | 4 if off == 0 => month_start_rule(today)?,
                3 | 4 => first,
                _ => Date::new(y, m, 15).ok()?,
            };
            return Some((e2, DayRef::fixed(date)));
        }
        if let Some((d, e2, _)) = t.number(e) {
            if let Some((e3, _)) = t.lits(e2, &["号", "日"]) {
                let date = Date::new(y, m, i8::try_from(d).ok()?).ok()?;
                return Some((e3, DayRef::fixed(date)));
            }
        }
        return Some((e, DayRef::fixed(first.last_of_month())));
    }
    if t.at(i) == '月' {
        let p = t.prev(i);
        if p.is_ascii_digit() || is_cn_numeral(p) || matches!(p, '个' | '本' | '这' | '下' | '上' | '当' | '每' | '年' | '岁' | '正' | '腊' | '冬' | '闰') {
            return None;
        }
        let (e, k) = t.lits(i, &["月底", "月末", "月内", "月初", "月中"])?;
        let date = match k {
            0..=2 => today.last_of_month(),
            3 => month_start_rule(today)?,
            _ => {
                let mid = Date::new(today.year(), today.month(), 15).ok()?;
                if mid < today {
                    Date::new(month_shift(today, 1)?.year(), month_shift(today, 1)?.month(), 15).ok()?
                } else {
                    mid
                }
            }
        };
        // 月内 already holds its marker.
        return Some((e, DayRef::fixed(date)));
    }
    if t.at(i) == '年' {
        let p = t.prev(i);
        if p.is_ascii_digit() || is_cn_numeral(p) || matches!(p, '今' | '明' | '去' | '前' | '后' | '每' | '个' | '当' | '全' | '半' | '新' | '这' | '那' | '同' | '多') {
            return None;
        }
        let (e, _) = t.lits(i, &["年底", "年末", "年内"])?;
        return Some((e, DayRef::fixed(Date::new(today.year(), 12, 31).ok()?)));
    }
    None
}

fn year_expr(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    let c = t.at(i);
    if !(c.is_ascii_digit() || is_cn_numeral(c) || matches!(c, '今' | '明' | '后')) {
        return None;
    }
    let this = cx.today.year();
    let (j, y) = if let Some((e, k)) = t.lits(i, &["今年", "明年", "后年"]) {
        (e, this + k as i16)
    } else {
        if !t.number_start_ok(i) {
            return None;
        }
        let (y, e, arabic) = t.number(i)?;
        if arabic && e - i != 4 {
            return None;
        }
        let e = t.lit(e, "年")?;
        if !WRITTEN_YEARS.contains(&y) {
            return None;
        }
        (e, y as i16)
    };
    if let Some((e, _)) = t.lits(j, &["年底", "年末", "年内", "底", "末", "内"]) {
        return Some((e, DayRef::fixed(Date::new(y, 12, 31).ok()?)));
    }
    month_expr(t, j, cx, Some(y))
}

/// `3月15日`, `十二月三号`, `3月底`, `3月初`, `3月份`, `3月前`, with the year
/// given or the next occurrence.
fn month_expr(t: &Text, i: usize, cx: &Ctx<'_>, year: Option<i16>) -> Option<(usize, DayRef)> {
    let (m, e, _) = t.number(i)?;
    if !(1..=12).contains(&m) {
        return None;
    }
    let j = t.lit(e, "月")?;
    let m = m as i8;
    let (end, day): (usize, i8) = if let Some((e2, k)) = t.lits(j, &["底", "末", "下旬", "份", "初", "上旬", "中旬", "中"]) {
        if k == 7 && t.at(e2) == '秋' {
            return None;
        }
        (e2, [0, 0, 0, 0, 1, 1, 15, 15][k])
    } else if let Some((d, e2, arabic)) = t.number(j) {
        if !(1..=31).contains(&d) || (arabic && e2 - j > 2) {
            return None;
        }
        match t.lits(e2, &["日", "号"]) {
            Some((e3, _)) => (e3, d as i8),
            None => {
                let n = t.at(e2);
                if n.is_ascii_digit() || matches!(n, '个' | '天' | '点' | ':' | '.' | '/' | '%' | '周' | '年' | '月' | '小' | '分' | '时') {
                    return None;
                }
                (e2, d as i8)
            }
        }
    } else {
        match trailing(t, j) {
            Trail::Marker(_) => (j, 0),
            _ => return None,
        }
    };
    match year {
        Some(y) => Some((end, DayRef::fixed(ymd(y, m, day)?))),
        None => {
            let date = next_month_day(cx.today, m, day);
            Some((
                end,
                DayRef {
                    date: date?,
                    roll: Roll::NextYear(m, day),
                    part: None,
                },
            ))
        }
    }
}

/// A month-day written out in full (`2月30日`, `13月5号`, `2027年2月29日`,
/// `9999年12月31日`) that names no real date: its end, so the whole phrase
/// is consumed and none of its parts (`30日`, `12月31日`) is read on its own.
/// `None` when the shape is absent or the date exists (the rules above read it).
fn impossible_date(t: &Text, i: usize) -> Option<usize> {
    if !t.number_start_ok(i) {
        return None;
    }
    // An optional year, of any length: `99999年` is no year.
    let (year, j) = match t.arabic(i).map(|(v, e, _)| (v, e)).or_else(|| t.chinese(i)) {
        Some((y, e)) if t.at(e) == '年' => (Some(y), e + 1),
        _ => (None, i),
    };
    let (m, e, _) = t.number(j)?;
    let j = t.lit(e, "月")?;
    let day = match t.number(j) {
        Some((d, e2, _)) => Some((d, t.lits(e2, &["日", "号"])?.0)),
        None if year.is_some() => None,
        None => return None,
    };
    let end = day.map_or(j, |(_, e)| e);
    let year_ok = year.is_none_or(|y| WRITTEN_YEARS.contains(&y));
    let month_ok = (1..=12).contains(&m);
    let day_ok = match day {
        None => true,
        // Without a year, 2月29日 waits for the next leap year.
        Some((d, _)) => {
            let y = year.map_or(2028, |y| y as i16);
            month_ok && year_ok && Date::new(y, m as i8, d.min(127) as i8).is_ok()
        }
    };
    (!(year_ok && month_ok && day_ok)).then_some(end)
}

/// The first `month`-`day` (day 0: the month's last) on or after `today`;
/// 2月29日 waits for the next leap year.
fn next_month_day(today: Date, month: i8, day: i8) -> Option<Date> {
    (today.year()..today.year() + 9)
        .filter_map(|y| ymd(y, month, day))
        .find(|d| *d >= today)
}

/// `2026-01-15`, `2026/1/15`, `2026.1.15`, `20260115`, `1/15`, `1.15`.
fn numeric_date(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    if !t.at(i).is_ascii_digit() || !t.number_start_ok(i) {
        return None;
    }
    let (v, j, n) = t.arabic(i)?;
    if n == 8 {
        let (y, m, d) = (v / 10000, (v / 100) % 100, v % 100);
        if !WRITTEN_YEARS.contains(&y) || t.at(j).is_ascii_alphanumeric() {
            return None;
        }
        let date = Date::new(y as i16, m as i8, d as i8).ok()?;
        return Some((j, DayRef::fixed(date)));
    }
    let sep = t.at(j);
    if n == 4 && matches!(sep, '-' | '/' | '.') {
        let (m, e1, n1) = t.arabic(j + 1)?;
        if n1 > 2 || t.at(e1) != sep {
            return None;
        }
        let (d, e2, n2) = t.arabic(e1 + 1)?;
        if n2 > 2 || t.at(e2).is_ascii_digit() || (t.at(e2) == sep && t.at(e2 + 1).is_ascii_digit()) {
            return None;
        }
        let date = Date::new(i16::try_from(v).ok()?, m as i8, d as i8).ok()?;
        let e2 = match t.lits(e2, &["日", "号"]) {
            Some((e3, _)) => e3,
            None => e2,
        };
        return Some((e2, DayRef::fixed(date)));
    }
    if n <= 2 && matches!(sep, '/' | '.') {
        if matches!(t.prev(i), '了' | '度' | '成' | '共' | '约' | '占' | '比' | '本' | '号' | '版' | '率') {
            return None;
        }
        let (d, e1, n1) = t.arabic(j + 1)?;
        if n1 > 2 {
            return None;
        }
        let next = t.at(e1);
        if next.is_ascii_alphanumeric()
            || matches!(
                next,
                '.' | '/' | '%' | '倍' | '万' | '亿' | '元' | '块' | '个' | '小' | '天' | '分' | '秒' | '米' | '斤' | '克' | '吨' | '人'
                    | '次' | '件' | '台' | '寸' | '周' | '年' | '月' | '版' | '折' | '级' | '期'
            )
        {
            return None;
        }
        if !(1..=12).contains(&v) || !(1..=31).contains(&d) {
            return None;
        }
        let (m, d) = (v as i8, d as i8);
        let date = next_month_day(cx.today, m, d);
        let e1 = match t.lits(e1, &["日", "号"]) {
            Some((e3, _)) => e3,
            None => e1,
        };
        return Some((
            e1,
            DayRef {
                date: date?,
                roll: Roll::NextYear(m, d),
                part: None,
            },
        ));
    }
    None
}

/// `20号`, `二十号`, `15日`: the next occurrence, today included.
fn day_of_month(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    if !(t.at(i).is_ascii_digit() || is_cn_numeral(t.at(i))) {
        return None;
    }
    if !t.number_start_ok(i) {
        return None;
    }
    let (d, e, arabic) = t.number(i)?;
    if !(1..=31).contains(&d) || (arabic && e - i > 2) {
        return None;
    }
    let (e2, k) = t.lits(e, &["号", "日"])?;
    let p = t.prev(i);
    if matches!(p, '型' | '编' | '账' | '序' | '工' | '学' | '挂' | '批' | '代' | '信' | '暗' | '口' | '记' | '符' | '等' | '尺' | '称' | '番' | '门' | '床' | '楼') {
        return None;
    }
    let n = t.at(e2);
    let bad = if k == 0 {
        matches!(
            n,
            '楼' | '线' | '机' | '位' | '床' | '房' | '门' | '店' | '桌' | '厅' | '馆' | '口' | '车' | '包' | '球' | '选' | '员'
                | '码' | '键' | '字' | '样' | '件' | '窗' | '柜' | '台' | '屋' | '室' | '院' | '街' | '路' | '群' | '文' | '稿'
                | '表' | '单' | '卡' | '手' | '坑' | '站' | '厂' | '库' | '服' | '人'
        )
    } else {
        matches!(n, '报' | '志' | '期' | '程' | '常' | '本' | '元' | '语' | '记' | '子' | '均' | '活' | '用' | '历' | '光' | '落' | '出')
    };
    if bad {
        return None;
    }
    let d = d as i8;
    let date = first_month_with_day(cx.today, d)?;
    Some((
        e2,
        DayRef {
            date,
            roll: Roll::NextMonth(d),
            part: None,
        },
    ))
}

/// The first date on or after `from` whose day of month is `day`.
fn first_month_with_day(from: Date, day: i8) -> Option<Date> {
    let mut first = from.first_of_month();
    for _ in 0..13 {
        if let Ok(d) = Date::new(first.year(), first.month(), day) {
            if d >= from {
                return Some(d);
            }
        }
        first = month_shift(first, 1)?;
    }
    None
}

// ---------------------------------------------------------------------------
// Festivals

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fk {
    /// A festival with an official holiday period, under its calendar name.
    Period(&'static str),
    Lunar(LunarFestival),
    Solar(i8, i8),
    /// 节前 / 节后: whichever holiday period comes next.
    AnyHoliday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Before,
    After,
    Day,
}

struct Fest {
    word: &'static str,
    kind: Fk,
    /// Only a festival with 前/后 after it (五一, 十一, 六一 are numbers too).
    needs_dir: bool,
    dir: Option<Dir>,
}

const fn f(word: &'static str, kind: Fk) -> Fest {
    Fest {
        word,
        kind,
        needs_dir: false,
        dir: None,
    }
}

const fn fd(word: &'static str, kind: Fk, dir: Dir) -> Fest {
    Fest {
        word,
        kind,
        needs_dir: false,
        dir: Some(dir),
    }
}

const fn fs(word: &'static str, kind: Fk) -> Fest {
    Fest {
        word,
        kind,
        needs_dir: true,
        dir: None,
    }
}

const SPRING: Fk = Fk::Period("春节");
const FESTS: &[Fest] = &[
    f("春节", SPRING),
    f("过年", SPRING),
    fd("年前", SPRING, Dir::Before),
    fd("年后", SPRING, Dir::After),
    f("大年三十", Fk::Lunar(LunarFestival::NewYearsEve)),
    f("年三十", Fk::Lunar(LunarFestival::NewYearsEve)),
    f("除夕", Fk::Lunar(LunarFestival::NewYearsEve)),
    f("元旦", Fk::Period("元旦")),
    f("清明节", Fk::Period("清明节")),
    f("清明", Fk::Period("清明节")),
    f("劳动节", Fk::Period("劳动节")),
    f("五一劳动节", Fk::Period("劳动节")),
    f("五一节", Fk::Period("劳动节")),
    fs("五一", Fk::Period("劳动节")),
    f("端午节", Fk::Period("端午节")),
    f("端午", Fk::Period("端午节")),
    f("中秋节", Fk::Period("中秋节")),
    f("中秋", Fk::Period("中秋节")),
    f("国庆节", Fk::Period("国庆节")),
    f("国庆", Fk::Period("国庆节")),
    fs("十一", Fk::Period("国庆节")),
    f("元宵节", Fk::Lunar(LunarFestival::Lantern)),
    f("元宵", Fk::Lunar(LunarFestival::Lantern)),
    f("七夕节", Fk::Lunar(LunarFestival::Qixi)),
    f("七夕", Fk::Lunar(LunarFestival::Qixi)),
    f("中元节", Fk::Lunar(LunarFestival::Zhongyuan)),
    f("重阳节", Fk::Lunar(LunarFestival::DoubleNinth)),
    f("重阳", Fk::Lunar(LunarFestival::DoubleNinth)),
    f("腊八节", Fk::Lunar(LunarFestival::Laba)),
    f("腊八", Fk::Lunar(LunarFestival::Laba)),
    f("小年", Fk::Lunar(LunarFestival::LittleNewYear)),
    f("情人节", Fk::Solar(2, 14)),
    f("妇女节", Fk::Solar(3, 8)),
    f("儿童节", Fk::Solar(6, 1)),
    fs("六一", Fk::Solar(6, 1)),
    f("教师节", Fk::Solar(9, 10)),
    f("平安夜", Fk::Solar(12, 24)),
    f("圣诞节", Fk::Solar(12, 25)),
    f("圣诞", Fk::Solar(12, 25)),
    f("双十一", Fk::Solar(11, 11)),
    f("双11", Fk::Solar(11, 11)),
    f("双十二", Fk::Solar(12, 12)),
    f("双12", Fk::Solar(12, 12)),
    fd("节假日前", Fk::AnyHoliday, Dir::Before),
    fd("节假日后", Fk::AnyHoliday, Dir::After),
    fd("节日前", Fk::AnyHoliday, Dir::Before),
    fd("节日后", Fk::AnyHoliday, Dir::After),
    fd("节前", Fk::AnyHoliday, Dir::Before),
    fd("节后", Fk::AnyHoliday, Dir::After),
    fd("放假前", Fk::AnyHoliday, Dir::Before),
    fd("假期前", Fk::AnyHoliday, Dir::Before),
    fd("假期后", Fk::AnyHoliday, Dir::After),
    fd("长假前", Fk::AnyHoliday, Dir::Before),
    fd("长假后", Fk::AnyHoliday, Dir::After),
    fd("收假后", Fk::AnyHoliday, Dir::After),
    fd("假前", Fk::AnyHoliday, Dir::Before),
    fd("假后", Fk::AnyHoliday, Dir::After),
];

// One block of exclusions per festival word reads better than match guards
// that fall through to the other words' arms.
#[allow(clippy::collapsible_match)]
fn festival(t: &Text, i: usize, cx: &Ctx<'_>) -> Option<(usize, DayRef)> {
    let c = t.at(i);
    if !matches!(
        c,
        '春' | '过' | '年' | '大' | '除' | '元' | '清' | '劳' | '五' | '端' | '中' | '国' | '十' | '七' | '重' | '腊' | '小'
            | '情' | '妇' | '儿' | '六' | '教' | '平' | '圣' | '双' | '节' | '放' | '假' | '长' | '收'
    ) {
        return None;
    }
    let (mut e, fest) = FESTS.iter().find_map(|fx| t.lit(i, fx.word).map(|e| (e, fx)))?;
    let p = t.prev(i);
    match fest.word {
        "年前" | "年后" | "年三十" => {
            if p.is_ascii_digit()
                || is_cn_numeral(p)
                || matches!(p, '个' | '多' | '几' | '去' | '今' | '明' | '前' | '后' | '每' | '当' | '那' | '同' | '全' | '半' | '千' | '万' | '这' | '某' | '些' | '新' | '过' | '大')
            {
                return None;
            }
        }
        w if w.starts_with('节') => {
            if matches!(p, '环' | '章' | '细' | '关' | '调' | '季' | '小' | '音' | '情' | '礼' | '使' | '枝' | '脱' | '衔' | '末' | '时' | '一' | '这' | '该' | '本') {
                return None;
            }
        }
        w if w.starts_with('假') => {
            if matches!(p, '请' | '休' | '病' | '事' | '婚' | '产' | '年' | '度' | '暑' | '寒' | '放' | '真' | '调' | '补') {
                return None;
            }
        }
        "十一" | "五一" | "六一" => {
            if !t.number_start_ok(i) {
                return None;
            }
        }
        "小年" => {
            if matches!(t.at(e), '轻' | '纪' | '龄' | '级') {
                return None;
            }
        }
        _ => {}
    }
    let dir = match fest.dir {
        Some(d) => d,
        None => {
            let mut on_day = false;
            if let Some((e2, k)) = t.lits(e, &["小长假", "长假", "假期", "放假", "黄金周", "当天", "那天", "节"]) {
                match k {
                    0..=4 => e = e2,
                    5 | 6 => {
                        e = e2;
                        on_day = true;
                    }
                    _ if !fest.word.ends_with('节') => e = e2,
                    _ => {}
                }
            }
            if on_day {
                if fest.needs_dir {
                    return None;
                }
                let date = resolve_festival(fest.kind, Dir::Day, cx)?;
                return Some((e, DayRef::fixed(date)));
            }
            match t.lits(e, &["之前", "以前", "前", "之后", "以后", "后"]) {
                Some((e2, k)) => {
                    let n = t.at(e2);
                    if (k == 2 && matches!(n, '后' | '端' | '台' | '夕' | '天')) || (k == 5 && matches!(n, '天' | '端' | '台')) {
                        // 十一前后 (around National Day) names the day itself.
                        if fest.needs_dir && !(k == 2 && n == '后') {
                            return None;
                        }
                        Dir::Day
                    } else {
                        e = e2;
                        if k < 3 {
                            Dir::Before
                        } else {
                            Dir::After
                        }
                    }
                }
                None if fest.needs_dir => return None,
                None => {
                    // A bare festival name is often a modifier (国庆值班,
                    // 中秋礼盒): only standing alone or before a verb of
                    // delivery does it name the day.
                    let n = t.at(e);
                    let cjk = ('\u{4E00}'..='\u{9FFF}').contains(&n);
                    if cjk && !matches!(n, '给' | '交' | '发' | '上' | '完' | '搞' | '提' | '见' | '再' | '吧' | '哈' | '截' | '到' | '出' | '做' | '要') {
                        return None;
                    }
                    Dir::Day
                }
            }
        }
    };
    let date = resolve_festival(fest.kind, dir, cx)?;
    Some((e, DayRef::fixed(date)))
}

/// 清明: 4 April or 5 April depending on the year (accurate 2008–2055,
/// which is all a deadline can mean).
fn qingming(y: i16) -> Option<Date> {
    let d = if y.rem_euclid(4) <= 1 { 4 } else { 5 };
    Date::new(y, 4, d).ok()
}

/// The festival day itself, on or after `from`.
fn festival_day(kind: Fk, from: Date) -> Option<Date> {
    let solar = |m: i8, d: i8| -> Option<Date> {
        let x = Date::new(from.year(), m, d).ok()?;
        if x >= from {
            Some(x)
        } else {
            Date::new(from.year() + 1, m, d).ok()
        }
    };
    match kind {
        Fk::Period(name) => match name {
            "春节" => LunarFestival::SpringFestival.next_on_or_after(from),
            "端午节" => LunarFestival::DragonBoat.next_on_or_after(from),
            "中秋节" => LunarFestival::MidAutumn.next_on_or_after(from),
            "元旦" => solar(1, 1),
            "劳动节" => solar(5, 1),
            "国庆节" => solar(10, 1),
            "清明节" => {
                let x = qingming(from.year())?;
                if x >= from {
                    Some(x)
                } else {
                    qingming(from.year() + 1)
                }
            }
            _ => None,
        },
        Fk::Lunar(l) => l.next_on_or_after(from),
        Fk::Solar(m, d) => solar(m, d),
        Fk::AnyHoliday => None,
    }
}

fn resolve_festival(kind: Fk, dir: Dir, cx: &Ctx<'_>) -> Option<Date> {
    let today = cx.today;
    let cal = cx.cal;
    match (kind, dir) {
        (Fk::Period(name), Dir::Before) => match cal.next_period_starting_after(today, Some(name)) {
            Some(p) => p.start.yesterday().ok(),
            None => {
                // Beyond the data: the statutory first day (除夕 for 春节).
                let day = festival_day(kind, add_days(today, 1)?)?;
                let start = if name == "春节" { add_days(day, -1)? } else { day };
                let start = if start <= today { add_days(festival_day(kind, add_days(day, 1)?)?, if name == "春节" { -1 } else { 0 })? } else { start };
                start.yesterday().ok()
            }
        },
        (Fk::Period(name), Dir::After) => match cal.next_period_ending_on_or_after(today, Some(name)) {
            Some(p) => Some(cal.next_workday_after(p.end)),
            None => {
                let day = festival_day(kind, today)?;
                let extra = match name {
                    "春节" => 2,
                    "国庆节" => 2,
                    "劳动节" => 1,
                    _ => 0,
                };
                Some(cal.next_workday_after(add_days(day, extra)?))
            }
        },
        (Fk::AnyHoliday, Dir::Before) => cal.next_period_starting_after(today, None)?.start.yesterday().ok(),
        (Fk::AnyHoliday, Dir::After) => {
            let p = cal.next_period_ending_on_or_after(today, None)?;
            Some(cal.next_workday_after(p.end))
        }
        (Fk::AnyHoliday, Dir::Day) => None,
        (_, Dir::Day) | (Fk::Lunar(_) | Fk::Solar(..), Dir::Before) => festival_day(kind, today),
        (Fk::Lunar(_) | Fk::Solar(..), Dir::After) => Some(cal.next_workday_after(festival_day(kind, today)?)),
    }
}

// ---------------------------------------------------------------------------
// Times of day

fn time_piece(t: &Text, i: usize, after_date: bool) -> Option<(usize, TimeSpec)> {
    let c = t.at(i);
    if !(c.is_ascii_digit()
        || is_cn_numeral(c)
        || matches!(c, '上' | '早' | '清' | '中' | '午' | '下' | '傍' | '晚' | '夜' | '深' | '半' | '凌' | 'E' | 'e' | 'C' | 'c'))
    {
        return None;
    }
    const PARTS: &[(&str, Part)] = &[
        ("上午", Part::Morning),
        ("早上", Part::Morning),
        ("早晨", Part::Morning),
        ("清晨", Part::EarlyMorning),
        ("一早", Part::Morning),
        ("中午", Part::Noon),
        ("午饭", Part::Lunch),
        ("午休", Part::Lunch),
        ("下午", Part::Afternoon),
        ("傍晚", Part::Dusk),
        ("晚上", Part::Evening),
        ("晚间", Part::Evening),
        ("夜里", Part::Evening),
        ("夜间", Part::Evening),
        ("深夜", Part::Evening),
        ("半夜", Part::Evening),
        ("凌晨", Part::EarlyMorning),
        ("下班", Part::OffWork),
        ("上班", Part::BeforeWork),
        ("EOD", Part::OffWork),
        ("eod", Part::OffWork),
        ("COB", Part::OffWork),
        ("cob", Part::OffWork),
    ];
    let words: [&str; 23] = {
        let mut w = [""; 23];
        for (k, x) in PARTS.iter().enumerate() {
            w[k] = x.0;
        }
        w
    };
    let mut part = None;
    let mut j = i;
    if let Some((e, k)) = t.lits(i, &words) {
        let p = PARTS[k].1;
        let next = t.at(e);
        let ascii = PARTS[k].0.is_ascii();
        let ok = !matches!(next, '好' | '茶')
            && !(ascii && (t.prev(i).is_ascii_alphabetic() || next.is_ascii_alphabetic()))
            && (p != Part::BeforeWork || t.lits(e, &["之前", "以前", "前"]).is_some())
            && (k != 4 || after_date);
        if ok {
            part = Some(p);
            j = e;
        }
    } else if after_date && matches!(t.at(i), '晚' | '早') && !matches!(t.at(i + 1), '点' | '些' | '一' | '期' | '饭' | '餐' | '安' | '高' | '班' | '会' | '于' | '就' | '了' | '到') {
        part = Some(if t.at(i) == '晚' { Part::Evening } else { Part::Morning });
        j = i + 1;
    }
    let cstart = if part.is_some() { t.skip_spaces(j) } else { j };
    match clock(t, cstart, after_date || part.is_some()) {
        Some((e, c)) => Some((e, TimeSpec { part, clock: Some(c) })),
        None if part.is_some() => Some((j, TimeSpec { part, clock: None })),
        None => None,
    }
}

fn clock(t: &Text, i: usize, context: bool) -> Option<(usize, Clock)> {
    if !context && !t.number_start_ok(i) {
        return None;
    }
    let (h, j, arabic) = t.number(i)?;
    if arabic && j - i > 2 {
        return None;
    }
    if arabic && t.at(j) == ':' {
        let (mm, e, n) = t.arabic(j + 1)?;
        if n != 2 || mm > 59 {
            return None;
        }
        let (mut e, mut ss) = (e, 0);
        if t.at(e) == ':' {
            if let Some((s, e2, 2)) = t.arabic(e + 1) {
                if s <= 59 {
                    ss = s;
                    e = e2;
                }
            }
        }
        if t.at(e).is_ascii_digit() || h > 24 || (h == 24 && (mm > 0 || ss > 0)) {
            return None;
        }
        return Some((
            e,
            Clock {
                hour: h,
                minute: mm,
                second: ss,
                literal: j - i == 2,
            },
        ));
    }
    if arabic && h <= 12 {
        if let Some((e, k)) = t.lits(j, &["am", "AM", "pm", "PM"]) {
            if t.at(e).is_ascii_alphabetic() {
                return None;
            }
            let hour = match (k < 2, h) {
                (true, 12) => 0,
                (true, h) => h,
                (false, 12) => 12,
                (false, h) => h + 12,
            };
            return Some((
                e,
                Clock {
                    hour,
                    minute: 0,
                    second: 0,
                    literal: true,
                },
            ));
        }
    }
    if !matches!(t.at(j), '点' | '时') {
        return None;
    }
    let mut e = j + 1;
    let mut minute = 0;
    let mut suffixed = true;
    if t.at(e) == '半' {
        minute = 30;
        e += 1;
    } else if let Some((e2, k)) = t.lits(e, &["一刻", "1刻", "三刻", "3刻"]) {
        minute = if k < 2 { 15 } else { 45 };
        e = e2;
    } else if let Some((e2, _)) = t.lits(e, &["整", "钟"]) {
        e = e2;
    } else if matches!(t.at(e), '零' | '〇' | '0') && (cn_digit(t.at(e + 1)).is_some() || t.at(e + 1).is_ascii_digit()) && !t.at(e + 2).is_ascii_digit() {
        minute = t.at(e + 1).to_digit(10).or_else(|| cn_digit(t.at(e + 1)))?;
        e += 2;
        if t.at(e) == '分' {
            e += 1;
        }
    } else if let Some((mm, e2, _)) = t.number(e) {
        let n = t.at(e2);
        if mm <= 59 && n == '分' && t.at(e2 + 1) != '钟' {
            minute = mm;
            e = e2 + 1;
        } else if mm <= 59
            && !matches!(n, '个' | '天' | '号' | '日' | '月' | '周' | '小' | '年' | '人' | '次' | '%' | '分' | '点' | '.')
            && !n.is_ascii_digit()
        {
            minute = mm;
            e = e2;
        } else {
            suffixed = false;
        }
    } else {
        suffixed = false;
    }
    if h > 24 || (h == 24 && minute > 0) {
        return None;
    }
    if !context && !arabic {
        // Chinese numerals + 点 are often "points" (三点建议, 有两点) or "a
        // bit" (快一点): without a day or part of the day, accept them only
        // in clearly temporal company.
        if matches!(
            t.prev(i),
            '有' | '这' | '那' | '几' | '哪' | '些' | '面' | '述' | '下' | '上' | '另' | '快' | '慢' | '早' | '晚' | '多' | '少' | '好'
                | '大' | '小' | '高' | '低' | '差' | '点' | '再' | '稍' | '更' | '还' | '得' | '的' | '了' | '出' | '提' | '个' | '加'
                | '以' | '如' | '第'
        ) {
            return None;
        }
        if !suffixed {
            let n = t.at(e);
            let ok = if h == 1 {
                matches!(n, '前' | '之' | '以' | '截' | '左')
            } else {
                matches!(
                    n,
                    '\0' | '前' | '之' | '以' | '截' | '左' | '到' | '给' | '交' | '提' | '完' | '搞' | '发' | '开' | '准' | '见' | '上'
                        | '过' | '吧' | '哈' | '啊' | '呀' | '多' | '后' | '再' | '的' | '要' | '必' | '务' | '一' | ' ' | '，' | ','
                        | '。' | '!' | '！' | '?' | '？' | '~' | '～' | '、' | '；' | ';' | '\n'
                )
            };
            if !ok {
                return None;
            }
        }
    }
    Some((
        e,
        Clock {
            hour: h,
            minute,
            second: 0,
            literal: false,
        },
    ))
}

// ---------------------------------------------------------------------------
// Resolution

fn resolve(day: Option<DayRef>, time: Option<TimeSpec>, cx: &Ctx<'_>) -> Option<DateTime> {
    let day = day.unwrap_or(DayRef {
        date: cx.today,
        roll: Roll::NextDay,
        part: None,
    });
    let part = time.and_then(|t| t.part).or(day.part);
    let clock = time.and_then(|t| t.clock);
    let (h, m, s): (u32, u32, u32) = match clock {
        Some(c) => {
            let h = match part {
                Some(p) => p.hour(c.hour),
                None if c.literal => c.hour,
                None if (1..=6).contains(&c.hour) => c.hour + 12,
                None => c.hour,
            };
            (h, c.minute, c.second)
        }
        None => match part {
            Some(p) => {
                let (h, m, s) = p.end();
                (h as u32, m as u32, s as u32)
            }
            None => (23, 59, 59),
        },
    };
    let make = |d: Date| -> Option<DateTime> {
        if h >= 24 {
            Some(d.tomorrow().ok()?.at(0, m as i8, s as i8, 0))
        } else {
            Some(d.at(h as i8, m as i8, s as i8, 0))
        }
    };
    let mut d = day.date;
    let mut dt = make(d)?;
    for _ in 0..24 {
        if dt >= cx.now {
            break;
        }
        d = match day.roll {
            Roll::Fixed => break,
            Roll::NextDay => add_days(d, 1)?,
            Roll::NextWeek => add_days(d, 7)?,
            Roll::NextMonth(dd) => first_month_with_day(add_days(d, 1)?, dd)?,
            Roll::NextYear(mm, dd) => {
                let mut y = d.year() + 1;
                loop {
                    if let Some(x) = ymd(y, mm, dd) {
                        break x;
                    }
                    y += 1;
                    if y > d.year() + 8 {
                        return None;
                    }
                }
            }
        };
        dt = make(d)?;
    }
    Some(dt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        let mut d = jiff::civil::date(1999, 12, 25);
        for n in [-400i64, -1, 0, 1, 2, 7, 31, 60, 365, 366, 1000, 20000] {
            let want = d.checked_add(Span::new().days(n)).unwrap();
            assert_eq!(add_days(d, n), Some(want), "{d} + {n}");
        }
        for _ in 0..3000 {
            let next = d.tomorrow().unwrap();
            assert_eq!(add_days(d, 1), Some(next));
            assert_eq!(civil_from_days(days_from_civil(d)), Some(d));
            d = add_days(d, 17).unwrap();
        }
    }
}
