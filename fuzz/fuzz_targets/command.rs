//! Slash commands (`/设置 …`, `/别名 …`, `/决议 …`): never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let cal = qunban_lang::Calendar::builtin();
    let now = jiff::civil::date(2026, 4, 22).at(14, 0, 0, 0).to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).unwrap();
    let _ = qunban_lang::parse_bot_command(text, &now, &cal);
    let slashed = format!("/{text}");
    let _ = qunban_lang::parse_bot_command(&slashed, &now, &cal);
});
