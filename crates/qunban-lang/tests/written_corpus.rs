//! Labelled messages written by people who never read the parser
//! (`data/written/*.jsonl`, brief in `data/written/BRIEF.md`), scored exactly
//! like `shared/tools/score_messages.py`: a message is right when the number
//! of intents matches and every listed field of every intent matches.
//!
//! These sets measure generalisation, so the test does not demand 100 %: it
//! fails when accuracy on any set drops below its recorded floor, and prints
//! every miss so a change can be judged message by message
//! (`cargo test -p qunban-lang --test written_corpus -- --nocapture`).

use qunban_lang::intent::parse_rfc3339;
use qunban_lang::{parse_message, Calendar, MessageContext};
use serde_json::Value;

/// Accuracy floors per set, in percent.
const FLOORS: &[(&str, f64)] = &[("set_a", 97.0), ("set_b", 97.0), ("set_c", 97.0), ("set_d", 97.0), ("set_e", 97.0), ("set_f", 97.0), ("set_g", 97.0)];

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

const TRAILING: &str = " \t\r\n\u{3000}\u{2005}\u{a0}。．.，,；;！!？?、：:…~～";

fn norm_item(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim_end_matches(|c| TRAILING.contains(c)).trim().to_string()
}

fn field_problem(key: &str, want: &Value, got: &serde_json::Map<String, Value>) -> Option<String> {
    if key == "title_contains" || key == "note_contains" {
        let base = &key[..key.find('_').unwrap()];
        let Some(g) = got.get(base).and_then(Value::as_str) else {
            return Some(format!("{base}: missing (want containing {want})"));
        };
        let missing: Vec<&Value> =
            want.as_array().unwrap().iter().filter(|k| !squash(g).contains(&squash(k.as_str().unwrap()))).collect();
        return (!missing.is_empty()).then(|| format!("{base}: {g:?} lacks {missing:?}"));
    }
    let Some(g) = got.get(key) else { return Some(format!("{key}: missing (want {want})")) };
    let bad = match key {
        "owners" => {
            let set = |v: &Value| {
                let mut x: Vec<String> =
                    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str()).map(|s| s.trim().to_string()).collect()).unwrap_or_default();
                x.sort();
                x.dedup();
                x
            };
            set(g) != set(want)
        }
        "due" => {
            let a = g.as_str().and_then(|s| parse_rfc3339(s).ok()).map(|z| z.timestamp());
            let b = want.as_str().and_then(|s| parse_rfc3339(s).ok()).map(|z| z.timestamp());
            a.is_none() || a != b
        }
        "progress" => g.as_f64() != want.as_f64(),
        "yesterday" | "today" | "blockers" => {
            let l = |v: &Value| -> Vec<String> {
                v.as_array().map(|a| a.iter().filter_map(|s| s.as_str()).map(norm_item).collect()).unwrap_or_default()
            };
            l(g) != l(want)
        }
        "title" | "note" => g.as_str().map(str::trim) != want.as_str().map(str::trim),
        _ => g != want,
    };
    bad.then(|| format!("{key}: got {g}, want {want}"))
}

fn compare(expect: &[Value], got: &[Value]) -> Vec<String> {
    if expect.len() != got.len() {
        return vec![format!("intent count: got {}, want {}", got.len(), expect.len())];
    }
    let mut out = Vec::new();
    for (w, g) in expect.iter().zip(got) {
        let (w, g) = (w.as_object().unwrap(), g.as_object().unwrap());
        if w.get("type") != g.get("type") {
            out.push(format!("type: got {:?}, want {:?}", g.get("type"), w.get("type")));
            continue;
        }
        for (k, v) in w {
            if k != "type" {
                out.extend(field_problem(k, v, g));
            }
        }
    }
    out
}

#[test]
fn written_sets_hold_their_floor() {
    let cal = Calendar::builtin();
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for (name, floor) in FLOORS {
        let path = format!("{}/tests/data/written/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read_to_string(&path).unwrap();
        let (mut ok, mut n) = (0, 0);
        for line in raw.lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).unwrap();
            let now = parse_rfc3339(case["now"].as_str().unwrap()).unwrap();
            let ctx = MessageContext { now, sender: case["sender"].as_str().unwrap().to_string(), calendar: &cal };
            let got: Vec<Value> =
                parse_message(case["text"].as_str().unwrap(), &ctx).iter().map(|i| serde_json::to_value(i).unwrap()).collect();
            let problems = compare(case["expect"].as_array().unwrap(), &got);
            n += 1;
            if problems.is_empty() {
                ok += 1;
            } else {
                println!(
                    "- {} {} [{}] {}\n    {}\n    got: {}",
                    case["id"].as_str().unwrap_or("?"),
                    case["category"].as_str().unwrap_or(""),
                    case["now"].as_str().unwrap(),
                    case["text"].as_str().unwrap().replace('\n', "⏎"),
                    problems.join("; "),
                    serde_json::to_string(&got).unwrap()
                );
            }
        }
        let pct = 100.0 * ok as f64 / n as f64;
        report.push(format!("{name}: {ok}/{n} ({pct:.1}%)"));
        if pct < *floor {
            failed.push(format!("{name} below its floor of {floor}%"));
        }
    }
    println!("{}", report.join("\n"));
    assert!(failed.is_empty(), "{failed:?}");
}
