#!/usr/bin/env bash
# Deadline parsing: qunban-lang (criterion) vs JioNLP on the same labelled corpus.
# Writes a Markdown summary to $OUT (default target/deadline-bench.md) and stdout;
# BENCHMARKS.md's "Deadline parsing" section is updated by hand from it.
#
#   scripts/bench_deadlines.sh            # venv at .bench-venv is created if missing
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-deadline}"
OUT="${OUT:-target/deadline-bench.md}"
VENV=.bench-venv
mkdir -p "$(dirname "$OUT")"

cargo bench -p qunban-lang --bench deadline -- --warm-up-time 2 --measurement-time 8 >/dev/null
CASES=$(grep -vc '^#' crates/qunban-lang/tests/data/deadlines.tsv)
ours() { # phrases/s from criterion's mean estimate for one bench id
  python3 -c 'import json,sys; ns=json.load(open(sys.argv[1]))["median"]["point_estimate"]; print(round(int(sys.argv[2])/(ns*1e-9)))' \
    "$CARGO_TARGET_DIR/criterion/deadline/$1/new/estimates.json" "$CASES"
}
PARSE=$(ours parse_deadline_corpus)
FIND=$(ours find_deadlines_corpus)
ACC=$( (cargo test -q -p qunban-lang --test deadline_corpus -- --nocapture 2>&1 || true) | grep -o 'deadline corpus: [0-9]*/[0-9]*' | awk '{print $3}')

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q jionlp
fi
JIO=$("$VENV/bin/python" scripts/bench_deadlines_jionlp.py --passes 3 --json)
JIO_PPS=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["phrases_per_sec"]))' "$JIO")
JIO_ACC=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%d/%d (%.1f%%), jionlp %s" % (d["correct"], d["cases"], 100*d["accuracy"], d["version"]))' "$JIO")
RATIO=$(python3 -c "print(f'{$PARSE/$JIO_PPS:.0f}')")

{
  echo "| date | nproc | CPU | load avg | qunban parse_deadline | qunban find_deadlines | JioNLP | ratio | qunban accuracy | JioNLP accuracy |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  echo "| $(date +%F) | $(nproc) | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) | $(cut -d' ' -f1-3 /proc/loadavg) | $PARSE/s | $FIND/s | $JIO_PPS/s | ${RATIO}x | $ACC | $JIO_ACC |"
} | tee "$OUT"
