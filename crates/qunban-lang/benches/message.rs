//! Throughput of `parse_message` over the labelled corpus: a busy group
//! sees a few messages per second, an import of a chat export sees tens of
//! thousands at once, and the latter is what this measures.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qunban_lang::intent::parse_rfc3339;
use qunban_lang::{find_deadlines, parse_message, Calendar, MessageContext};

struct Msg {
    text: String,
    now: jiff::Zoned,
    sender: String,
}

fn corpus() -> Vec<Msg> {
    include_str!("../tests/data/messages.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some(Msg {
                text: v["text"].as_str()?.to_string(),
                now: parse_rfc3339(v["now"].as_str()?).ok()?,
                sender: v["sender"].as_str()?.to_string(),
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let calendar = Calendar::builtin();
    let msgs = corpus();
    let ctxs: Vec<MessageContext<'_>> = msgs
        .iter()
        .map(|m| MessageContext { now: m.now.clone(), sender: m.sender.clone(), calendar: &calendar })
        .collect();
    let mut g = c.benchmark_group("message");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("parse_message/corpus", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (m, ctx) in msgs.iter().zip(&ctxs) {
                n += parse_message(std::hint::black_box(&m.text), ctx).len();
            }
            n
        })
    });
    // The share of the cost that is deadline search, which every free-text
    // and update message pays at least once.
    g.bench_function("find_deadlines/corpus", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &msgs {
                n += find_deadlines(std::hint::black_box(&m.text), &m.now, &calendar).len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
