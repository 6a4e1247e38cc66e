//! The Chinese lunisolar calendar, 1900–2100, for traditional festivals
//! (元宵, 端午, 中秋, 除夕 …) in deadline phrases.
//!
//! Month lengths and leap months are not computable cheaply (they follow
//! true new moons and solar terms), so the standard compact table published
//! from the Purple Mountain Observatory data is used: one word per lunar year.
//! The table was checked against an independent astronomical implementation
//! (lunar_python) for every month of 1900–2100; three words of the table as it
//! usually circulates were wrong and are corrected here: 1933 (month lengths),
//! 1996 (month lengths: 中秋 is 09-27, not 09-26) and 2033 (the "2033 problem":
//! the leap month is the 11th, not the 7th, so 中秋 is 09-08). The check lives
//! in `tests/deadline_calendar.rs` with `tests/data/lunar_reference.tsv`.

use jiff::civil::{date, Date};

/// Per lunar year from 1900: bits 4–15 say whether months 1–12 have 30 days
/// (bit 15 = month 1), bits 0–3 name the leap month (0 = none) and bit 16
/// says whether that leap month has 30 days.
const LUNAR_INFO: [u32; 201] = [
    0x04bd8, 0x04ae0, 0x0a570, 0x054d5, 0x0d260, 0x0d950, 0x16554, 0x056a0, 0x09ad0, 0x055d2, // 1900
    0x04ae0, 0x0a5b6, 0x0a4d0, 0x0d250, 0x1d255, 0x0b540, 0x0d6a0, 0x0ada2, 0x095b0, 0x14977, // 1910
    0x04970, 0x0a4b0, 0x0b4b5, 0x06a50, 0x06d40, 0x1ab54, 0x02b60, 0x09570, 0x052f2, 0x04970, // 1920
    0x06566, 0x0d4a0, 0x0ea50, 0x16a95, 0x05ad0, 0x02b60, 0x186e3, 0x092e0, 0x1c8d7, 0x0c950, // 1930
    0x0d4a0, 0x1d8a6, 0x0b550, 0x056a0, 0x1a5b4, 0x025d0, 0x092d0, 0x0d2b2, 0x0a950, 0x0b557, // 1940
    0x06ca0, 0x0b550, 0x15355, 0x04da0, 0x0a5b0, 0x14573, 0x052b0, 0x0a9a8, 0x0e950, 0x06aa0, // 1950
    0x0aea6, 0x0ab50, 0x04b60, 0x0aae4, 0x0a570, 0x05260, 0x0f263, 0x0d950, 0x05b57, 0x056a0, // 1960
    0x096d0, 0x04dd5, 0x04ad0, 0x0a4d0, 0x0d4d4, 0x0d250, 0x0d558, 0x0b540, 0x0b6a0, 0x195a6, // 1970
    0x095b0, 0x049b0, 0x0a974, 0x0a4b0, 0x0b27a, 0x06a50, 0x06d40, 0x0af46, 0x0ab60, 0x09570, // 1980
    0x04af5, 0x04970, 0x064b0, 0x074a3, 0x0ea50, 0x06b58, 0x05ac0, 0x0ab60, 0x096d5, 0x092e0, // 1990
    0x0c960, 0x0d954, 0x0d4a0, 0x0da50, 0x07552, 0x056a0, 0x0abb7, 0x025d0, 0x092d0, 0x0cab5, // 2000
    0x0a950, 0x0b4a0, 0x0baa4, 0x0ad50, 0x055d9, 0x04ba0, 0x0a5b0, 0x15176, 0x052b0, 0x0a930, // 2010
    0x07954, 0x06aa0, 0x0ad50, 0x05b52, 0x04b60, 0x0a6e6, 0x0a4e0, 0x0d260, 0x0ea65, 0x0d530, // 2020
    0x05aa0, 0x076a3, 0x096d0, 0x04afb, 0x04ad0, 0x0a4d0, 0x1d0b6, 0x0d250, 0x0d520, 0x0dd45, // 2030
    0x0b5a0, 0x056d0, 0x055b2, 0x049b0, 0x0a577, 0x0a4b0, 0x0aa50, 0x1b255, 0x06d20, 0x0ada0, // 2040
    0x14b63, 0x09370, 0x049f8, 0x04970, 0x064b0, 0x168a6, 0x0ea50, 0x06b20, 0x1a6c4, 0x0aae0, // 2050
    0x092e0, 0x0d2e3, 0x0c960, 0x0d557, 0x0d4a0, 0x0da50, 0x05d55, 0x056a0, 0x0a6d0, 0x055d4, // 2060
    0x052d0, 0x0a9b8, 0x0a950, 0x0b4a0, 0x0b6a6, 0x0ad50, 0x055a0, 0x0aba4, 0x0a5b0, 0x052b0, // 2070
    0x0b273, 0x06930, 0x07337, 0x06aa0, 0x0ad50, 0x14b55, 0x04b60, 0x0a570, 0x054e4, 0x0d160, // 2080
    0x0e968, 0x0d520, 0x0daa0, 0x16aa6, 0x056d0, 0x04ae0, 0x0a9d4, 0x0a2d0, 0x0d150, 0x0f252, // 2090
    0x0d520, // 2100
];

/// The first lunar year covered.
pub const FIRST_YEAR: i16 = 1900;
/// The last lunar year covered.
pub const LAST_YEAR: i16 = 2100;

fn info(year: i16) -> Option<u32> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return None;
    }
    LUNAR_INFO.get((year - FIRST_YEAR) as usize).copied()
}

/// The leap month of `year` (1–12), if it has one.
pub fn leap_month(year: i16) -> Option<u8> {
    let m = (info(year)? & 0xf) as u8;
    (m != 0).then_some(m)
}

/// Days in lunar `month` of `year` (the leap copy when `leap`).
pub fn month_days(year: i16, month: u8, leap: bool) -> Option<u8> {
    let i = info(year)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if leap {
        if leap_month(year) != Some(month) {
            return None;
        }
        return Some(if i & 0x10000 != 0 { 30 } else { 29 });
    }
    Some(if i & (0x10000 >> month) != 0 { 30 } else { 29 })
}

/// Days in lunar `year`.
pub fn year_days(year: i16) -> Option<u32> {
    let mut total = 0u32;
    for m in 1..=12 {
        total += u32::from(month_days(year, m, false)?);
    }
    if let Some(l) = leap_month(year) {
        total += u32::from(month_days(year, l, true)?);
    }
    Some(total)
}

const fn const_year_days(i: u32) -> u32 {
    let mut total = 0;
    let mut m = 1;
    while m <= 12 {
        total += if i & (0x10000 >> m) != 0 { 30 } else { 29 };
        m += 1;
    }
    if i & 0xf != 0 {
        total += if i & 0x10000 != 0 { 30 } else { 29 };
    }
    total
}

/// Days from 1900-01-31 (lunar 1900-01-01) to each lunar new year, summed
/// at compile time so a festival lookup is a table read.
const NEW_YEAR_OFFSETS: [u32; 201] = {
    let mut out = [0u32; 201];
    let mut k = 1;
    while k < 201 {
        out[k] = out[k - 1] + const_year_days(LUNAR_INFO[k - 1]);
        k += 1;
    }
    out
};

/// Solar date of lunar new year's day (春节) of `year`.
pub fn new_year(year: i16) -> Option<Date> {
    info(year)?;
    let days = NEW_YEAR_OFFSETS[(year - FIRST_YEAR) as usize];
    date(1900, 1, 31)
        .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .ok()
}

/// The solar date of a lunar date; `None` outside 1900–2100 or when the day
/// does not exist (a 30th in a 29-day month).
pub fn to_solar(year: i16, month: u8, day: u8, leap: bool) -> Option<Date> {
    if day == 0 || day > month_days(year, month, leap)? {
        return None;
    }
    let mut offset: i64 = 0;
    let leap_m = leap_month(year);
    for m in 1..month {
        offset += i64::from(month_days(year, m, false)?);
        if leap_m == Some(m) {
            offset += i64::from(month_days(year, m, true)?);
        }
    }
    if leap {
        offset += i64::from(month_days(year, month, false)?);
    }
    offset += i64::from(day - 1);
    new_year(year)?
        .checked_add(jiff::SignedDuration::from_hours(24 * offset))
        .ok()
}

/// The last day of lunar `year` (除夕): the eve of the next new year.
pub fn new_years_eve(year: i16) -> Option<Date> {
    new_year(year + 1)?.yesterday().ok()
}

/// A traditional festival fixed on the lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LunarFestival {
    /// 春节, 正月初一.
    SpringFestival,
    /// 元宵节, 正月十五.
    Lantern,
    /// 端午节, 五月初五.
    DragonBoat,
    /// 七夕, 七月初七.
    Qixi,
    /// 中元节, 七月十五.
    Zhongyuan,
    /// 中秋节, 八月十五.
    MidAutumn,
    /// 重阳节, 九月初九.
    DoubleNinth,
    /// 腊八, 腊月初八.
    Laba,
    /// 小年, 腊月廿三 (the northern date; the south keeps 廿四).
    LittleNewYear,
    /// 除夕, the last day of the lunar year.
    NewYearsEve,
}

impl LunarFestival {
    /// The solar date of the festival in lunar `year`.
    pub fn in_lunar_year(self, year: i16) -> Option<Date> {
        use LunarFestival::*;
        match self {
            SpringFestival => new_year(year),
            Lantern => to_solar(year, 1, 15, false),
            DragonBoat => to_solar(year, 5, 5, false),
            Qixi => to_solar(year, 7, 7, false),
            Zhongyuan => to_solar(year, 7, 15, false),
            MidAutumn => to_solar(year, 8, 15, false),
            DoubleNinth => to_solar(year, 9, 9, false),
            Laba => to_solar(year, 12, 8, false),
            LittleNewYear => to_solar(year, 12, 23, false),
            NewYearsEve => new_years_eve(year),
        }
    }

    /// The first occurrence on or after `today`.
    pub fn next_on_or_after(self, today: Date) -> Option<Date> {
        // Lunar year Y's festivals fall in solar Y or early Y+1, so the
        // previous lunar year can still be ahead in January.
        let y = today.year();
        (y - 1..=y + 1)
            .filter_map(|ly| self.in_lunar_year(ly))
            .find(|d| *d >= today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(new_year(2024), Some(date(2024, 2, 10)));
        assert_eq!(new_year(2025), Some(date(2025, 1, 29)));
        assert_eq!(new_year(2026), Some(date(2026, 2, 17)));
        assert_eq!(new_year(2027), Some(date(2027, 2, 6)));
        assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2024), Some(date(2024, 9, 17)));
        assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2025), Some(date(2025, 10, 6)));
        assert_eq!(LunarFestival::MidAutumn.in_lunar_year(2026), Some(date(2026, 9, 25)));
        assert_eq!(LunarFestival::DragonBoat.in_lunar_year(2026), Some(date(2026, 6, 19)));
        assert_eq!(LunarFestival::Lantern.in_lunar_year(2026), Some(date(2026, 3, 3)));
        assert_eq!(new_years_eve(2025), Some(date(2026, 2, 16)));
        assert_eq!(new_year(1899), None);
        assert_eq!(new_year(2101), None);
    }
}
