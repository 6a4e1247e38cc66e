//! The labelled message corpus (`data/messages.jsonl`) is the specification
//! of `parse_message`: every line is a chat message as teams write it, with
//! the intents a human expects.
//!
//! An expectation may list only the fields that matter, but the fields that
//! drive actions (type, ref, owners, status, progress, due, due_candidates,
//! priority) are compared whenever either side has them: a parser that
//! invents an owner or a deadline the label does not list fails.

use qunban_lang::intent::parse_rfc3339;
use qunban_lang::{parse_message, Calendar, MessageContext};
use serde_json::{Map, Value};

const STRICT: &[&str] = &["ref", "owners", "status", "progress", "due", "due_candidates", "priority"];

struct Case {
    line: usize,
    text: String,
    now: String,
    sender: String,
    expect: Vec<Value>,
}

fn load() -> Vec<Case> {
    let raw = include_str!("data/messages.jsonl");
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
            let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("line {}: no {k}", i + 1)).to_string();
            Case {
                line: i + 1,
                text: s("text"),
                now: s("now"),
                sender: s("sender"),
                expect: v["expect"].as_array().cloned().unwrap_or_else(|| panic!("line {}: no expect", i + 1)),
            }
        })
        .collect()
}

/// Differences between one expected and one actual intent, as readable lines.
fn diff(expected: &Value, actual: &Value) -> Vec<String> {
    let empty = Map::new();
    let e = expected.as_object().unwrap_or(&empty);
    let a = actual.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    if e.get("type") != a.get("type") {
        out.push(format!("type: expected {:?}, got {:?}", e.get("type"), a.get("type")));
        return out;
    }
    let mut keys: Vec<&String> = e.keys().filter(|k| *k != "type").collect();
    for k in STRICT {
        if a.contains_key(*k) && !e.contains_key(*k) {
            out.push(format!("{k}: not expected, got {}", a[*k]));
        }
    }
    keys.sort();
    for k in keys {
        if e.get(k) != a.get(k) {
            let got = a.get(k).map_or("nothing".to_string(), Value::to_string);
            out.push(format!("{k}: expected {}, got {got}", e[k]));
        }
    }
    out
}

#[test]
fn corpus() {
    let calendar = Calendar::builtin();
    let cases = load();
    assert!(cases.len() >= 250, "the corpus must keep at least 250 messages, has {}", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let now = parse_rfc3339(&c.now).unwrap_or_else(|e| panic!("line {}: bad now: {e}", c.line));
        let ctx = MessageContext { now, sender: c.sender.clone(), calendar: &calendar };
        let actual: Vec<Value> = parse_message(&c.text, &ctx)
            .iter()
            .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
            .collect();
        let mut problems = Vec::new();
        if actual.len() != c.expect.len() {
            problems.push(format!("expected {} intents, got {}", c.expect.len(), actual.len()));
        }
        for (k, (e, a)) in c.expect.iter().zip(&actual).enumerate() {
            problems.extend(diff(e, a).into_iter().map(|p| format!("[{k}] {p}")));
        }
        if !problems.is_empty() {
            let got = serde_json::to_string(&actual).unwrap_or_default();
            failures.push(format!("line {} {:?}\n    {}\n    got: {got}", c.line, c.text, problems.join("\n    ")));
        }
    }
    let passed = cases.len() - failures.len();
    println!("message corpus: {passed}/{} pass", cases.len());
    assert!(failures.is_empty(), "{} of {} messages mismatch:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn comparison_catches_invented_fields() {
    let e: Value = serde_json::json!({"type": "create_task", "title": "x"});
    let a: Value = serde_json::json!({"type": "create_task", "title": "x", "owners": ["张三"]});
    assert_eq!(diff(&e, &a).len(), 1);
    let a: Value = serde_json::json!({"type": "create_task", "title": "x", "note": "n"});
    assert!(diff(&e, &a).is_empty());
}
