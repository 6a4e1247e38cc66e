//! Deadline parsing throughput over the labelled corpus: every chat message
//! goes through the scanner, so it must stay far below a microsecond per
//! phrase (target ≥ 1,000,000 phrases/s per core).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qunban_lang::intent::parse_rfc3339;
use qunban_lang::{find_deadlines, parse_deadline, Calendar};

fn corpus() -> Vec<(jiff::Zoned, String)> {
    include_str!("../tests/data/deadlines.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let now = parse_rfc3339(cols.next()?).ok()?;
            Some((now, cols.next()?.to_string()))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cal = Calendar::builtin();
    let cases = corpus();
    let mut g = c.benchmark_group("deadline");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("parse_deadline/corpus", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for (now, phrase) in &cases {
                hits += parse_deadline(std::hint::black_box(phrase), now, &cal).is_some() as usize;
            }
            hits
        })
    });
    g.bench_function("find_deadlines/corpus", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for (now, phrase) in &cases {
                hits += find_deadlines(std::hint::black_box(phrase), now, &cal).len();
            }
            hits
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
