//! The deadline scanner on arbitrary text: no panic, spans are char
//! boundaries in order, and no instant outside 2000..2100.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let cal = qunban_lang::Calendar::builtin();
    let now = jiff::civil::date(2026, 4, 22).at(14, 0, 0, 0).to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).unwrap();
    if let Some(at) = qunban_lang::parse_deadline(text, &now, &cal) {
        assert!((2000..2100).contains(&at.year()), "{text:?} -> {at}");
    }
    let mut last = 0;
    for m in qunban_lang::find_deadlines(text, &now, &cal) {
        assert!(m.span.start >= last && m.span.start < m.span.end && text.is_char_boundary(m.span.start) && text.is_char_boundary(m.span.end));
        assert!((2000..2100).contains(&m.at.year()), "{text:?} -> {}", m.at);
        last = m.span.end;
    }
});
