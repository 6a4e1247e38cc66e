//! The labelled deadline corpus (`tests/data/deadlines*.tsv`) is the
//! executable form of `shared/conventions/deadlines.md`: every line is
//! `now<TAB>phrase<TAB>expected`, expected being RFC 3339 or NONE, computed by
//! hand from the rules. All mismatches are reported at once so a rule change
//! shows its whole blast radius in one run.

use qunban_lang::intent::{parse_rfc3339, rfc3339};
use qunban_lang::{parse_deadline, Calendar};

struct Case {
    file: &'static str,
    line: usize,
    now: String,
    phrase: String,
    expected: Option<String>,
}

fn load(file: &'static str, text: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        assert_eq!(cols.len(), 3, "{file}:{}: expected 3 tab-separated columns: {raw:?}", idx + 1);
        out.push(Case {
            file,
            line: idx + 1,
            now: cols[0].to_string(),
            phrase: cols[1].to_string(),
            expected: (cols[2] != "NONE").then(|| cols[2].to_string()),
        });
    }
    out
}

fn run(cases: &[Case]) -> Vec<String> {
    let cal = Calendar::builtin();
    let mut failures = Vec::new();
    for c in cases {
        let now = match parse_rfc3339(&c.now) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{}:{}: bad now {:?}: {e}", c.file, c.line, c.now));
                continue;
            }
        };
        let got = parse_deadline(&c.phrase, &now, &cal).map(|z| rfc3339(&z));
        if got != c.expected {
            failures.push(format!(
                "{}:{}: now={} phrase={:?}: expected {}, got {}",
                c.file,
                c.line,
                c.now,
                c.phrase,
                c.expected.as_deref().unwrap_or("NONE"),
                got.as_deref().unwrap_or("NONE")
            ));
        }
    }
    failures
}

#[test]
fn corpus() {
    let cases = load("deadlines.tsv", include_str!("data/deadlines.tsv"));
    assert!(cases.len() >= 400, "corpus has only {} cases", cases.len());
    let failures = run(&cases);
    let passed = cases.len() - failures.len();
    eprintln!("deadline corpus: {passed}/{} passed", cases.len());
    assert!(failures.is_empty(), "{} of {} corpus lines fail:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
