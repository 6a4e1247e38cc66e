#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (libFuzzer, nightly).
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # 10 min per target
#   scripts/fuzz.sh 30 deadline message
#
# Seeds each target's corpus from the project's own test data (labelled chat
# messages, deadline phrases, protocol test vectors) on first run. A crash
# leaves its input in fuzz/artifacts/<target>/; copy it to
# fuzz/regressions/<target>/ and it becomes a regression test that the
# ordinary `cargo test` runs on stable (crates/*/tests/fuzz_regressions.rs).
# Needs: rustup's nightly toolchain and `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(deadline message command callbacks chat_export)

seed() {
  local target="$1" dir="corpus/$1"
  [ -d "$dir" ] && return
  mkdir -p "$dir"
  case "$target" in
    deadline|message|command)
      # One file per labelled message text / deadline phrase.
      python3 - "$dir" <<'PY'
import json, pathlib, sys, hashlib
out = pathlib.Path(sys.argv[1])
root = pathlib.Path("..")
texts = set()
for f in list(root.glob("crates/qunban-lang/tests/data/**/*.jsonl")):
    for line in f.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        for k in ("text", "phrase", "input", "message"):
            if isinstance(row.get(k), str):
                texts.add(row[k])
for t in sorted(texts)[:5000]:
    (out / hashlib.sha1(t.encode()).hexdigest()).write_text(t)
PY
      ;;
    callbacks)
      for f in ../crates/qunban-connect/tests/data/* ../crates/qunban-server/tests/data/*.json; do
        [ -f "$f" ] && cp "$f" "$dir/" || true
      done
      printf '<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>' > "$dir/wecom-envelope"
      printf '{"msgtype":"text","text":{"content":"hi"},"senderNick":"a","conversationType":"2"}' > "$dir/dingtalk"
      printf '{"schema":"2.0","header":{"event_type":"im.message.receive_v1"},"event":{}}' > "$dir/feishu"
      ;;
    chat_export)
      for f in ../crates/qunban-server/tests/data/export/*.txt ../crates/qunban-connect/tests/data/*.txt ../crates/qunban-connect/tests/data/*.csv; do
        [ -f "$f" ] && cp "$f" "$dir/" || true
      done
      ;;
  esac
}

status=0
for t in "${TARGETS[@]}"; do
  seed "$t"
  echo "== fuzzing $t for ${SECS}s"
  if ! cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECS" -max_len=4096 -rss_limit_mb=2048 -timeout=10 2>&1 | tail -n 25; then
    echo "!! $t found a crash: see fuzz/artifacts/$t/ and add the input to fuzz/regressions/$t/"
    status=1
  fi
done
exit $status
