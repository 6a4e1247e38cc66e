//! Whole chat messages (templates, updates, stand-ups, free text, quotes):
//! the interpreter's input must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let cal = qunban_lang::Calendar::builtin();
    let now = jiff::civil::date(2026, 4, 22).at(14, 0, 0, 0).to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).unwrap();
    let ctx = qunban_lang::MessageContext { now, sender: "张三".into(), calendar: &cal };
    let _ = qunban_lang::parse_message(text, &ctx);
    let _ = qunban_lang::parse_followup(text, &ctx);
    let _ = qunban_lang::bare_names(text);
});
