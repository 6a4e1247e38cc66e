#!/usr/bin/env python3
"""Run the deadline corpus through JioNLP and report accuracy and throughput.

The corpus (crates/qunban-lang/tests/data/deadlines.tsv) is `now<TAB>phrase<TAB>expected`
with expected an RFC 3339 instant or NONE. JioNLP answers with a time span, not one
instant, so its answer is mapped the way closest to qunban's rules
(shared/conventions/deadlines.md):

- time_point / time_span: the end of the span (a deadline is the latest instant that
  satisfies the phrase), snapped down to the granularity JioNLP used: `15:59:59`
  (hour granularity) -> 15:00:00, `16:30:59` (minute granularity) -> 16:30:00, while
  a day end 23:59:59 stays. For a time_point of at most an hour (a clock time:
  `明天下午3点` = 15:00:00..15:59:59) the start is taken; parts of the day
  (`下午` = 13:00..18:00) keep their end, as in our rules.
- time_delta, time_period (recurring), `inf` ends, errors: no deadline (NONE).

The whole phrase goes to jionlp.parse_time first; when that raises (noise words,
a longer message) the first time entity of jionlp.ner.extract_time is used, which
is what a caller would do with a chat message.

Usage: .bench-venv/bin/python scripts/bench_deadlines_jionlp.py [--passes N] [--json]
"""

import argparse
import datetime as dt
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "crates", "qunban-lang", "tests", "data", "deadlines.tsv")


def load():
    cases = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            now, phrase, expected = line.split("\t")
            # The corpus is all +08:00; JioNLP works in naive local time, so
            # both sides are compared as naive wall-clock times.
            base = dt.datetime.fromisoformat(now).replace(tzinfo=None)
            exp = None if expected == "NONE" else dt.datetime.fromisoformat(expected).replace(tzinfo=None)
            cases.append((base, phrase, exp))
    return cases


def snap(t):
    if t.second == 59:
        if t.hour == 23 and t.minute == 59:
            return t
        if t.minute == 59:
            return t.replace(minute=0, second=0)
        return t.replace(second=0)
    return t


def to_instant(res):
    if not isinstance(res, dict):
        return None
    kind = res.get("type")
    times = res.get("time")
    if kind not in ("time_point", "time_span") or not isinstance(times, list) or len(times) != 2:
        return None
    try:
        start = dt.datetime.strptime(times[0], "%Y-%m-%d %H:%M:%S")
        end = dt.datetime.strptime(times[1], "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return None
    if kind == "time_point" and (end - start) <= dt.timedelta(hours=1):
        return start
    return snap(end)


def run_one(jio, base_ts, phrase):
    try:
        return to_instant(jio.parse_time(phrase, time_base=base_ts))
    except Exception:
        pass
    try:
        ents = jio.ner.extract_time(phrase, time_base=base_ts, with_parsing=True)
    except Exception:
        return None
    for e in ents or []:
        got = to_instant(e.get("detail"))
        if got is not None:
            return got
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show-mismatches", type=int, default=0)
    args = ap.parse_args()

    import io
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp as jio  # prints a banner on import

    cases = load()
    bases = [c[0].timestamp() for c in cases]
    # Warm-up pass (JioNLP loads dictionaries lazily) doubles as the accuracy pass.
    results = [run_one(jio, b, c[1]) for b, c in zip(bases, cases)]
    correct = sum(1 for r, c in zip(results, cases) if r == c[2])
    elapsed = 0.0
    for _ in range(args.passes):
        t0 = time.perf_counter()
        for b, c in zip(bases, cases):
            run_one(jio, b, c[1])
        elapsed += time.perf_counter() - t0
    n = len(cases) * args.passes
    out = {
        "tool": "jionlp",
        "version": getattr(jio, "__version__", "?"),
        "cases": len(cases),
        "correct": correct,
        "accuracy": correct / len(cases),
        "phrases_per_sec": n / elapsed,
        "passes": args.passes,
    }
    if args.show_mismatches:
        shown = 0
        for r, c in zip(results, cases):
            if r != c[2] and shown < args.show_mismatches:
                print(f"{c[0]}  {c[1]!r}: expected {c[2]}, jionlp {r}", file=sys.stderr)
                shown += 1
    if args.json:
        print(json.dumps(out))
    else:
        print(f"JioNLP {out['version']}: {correct}/{len(cases)} correct ({out['accuracy']:.1%}), "
              f"{out['phrases_per_sec']:.0f} phrases/s over {args.passes} passes")


if __name__ == "__main__":
    main()
