//! Inputs the fuzzers (fuzz/, scripts/fuzz.sh) once broke, replayed with the
//! fuzz targets' own checks on every `cargo test`.

use std::path::PathBuf;

use jiff::Zoned;
use qunban_lang::{find_deadlines, parse_bot_command, parse_deadline, parse_followup, parse_message, Calendar, MessageContext};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

fn now() -> Zoned {
    jiff::civil::date(2026, 4, 22).at(14, 0, 0, 0).to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).unwrap()
}

#[test]
fn deadline_regressions() {
    let cal = Calendar::builtin();
    let cases = inputs("deadline");
    assert!(!cases.is_empty());
    for (name, data) in cases {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        if let Some(at) = parse_deadline(text, &now(), &cal) {
            assert!((2000..2100).contains(&at.year()), "{name}: {text:?} -> {at}");
        }
        let mut last = 0;
        for m in find_deadlines(text, &now(), &cal) {
            assert!(m.span.start >= last && m.span.start < m.span.end, "{name}");
            assert!(text.is_char_boundary(m.span.start) && text.is_char_boundary(m.span.end), "{name}");
            assert!((2000..2100).contains(&m.at.year()), "{name}: {text:?} -> {}", m.at);
            last = m.span.end;
        }
    }
}

#[test]
fn message_regressions() {
    let cal = Calendar::builtin();
    for (_, data) in inputs("message") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let ctx = MessageContext { now: now(), sender: "张三".into(), calendar: &cal };
        let _ = parse_message(text, &ctx);
        let _ = parse_followup(text, &ctx);
        let _ = qunban_lang::bare_names(text);
    }
}

#[test]
fn command_regressions() {
    let cal = Calendar::builtin();
    for (_, data) in inputs("command") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let _ = parse_bot_command(text, &now(), &cal);
        let _ = parse_bot_command(&format!("/{text}"), &now(), &cal);
    }
}
