#!/usr/bin/env bash
# The reference point for the gateway benchmark: the same fake upstream and load generator as
# run.sh, straight to the fake and through a do-nothing Node pass-through proxy
# (passthrough.js), back to back, for the plain and the streamed completion with a 0 ms
# upstream. Prints one table row per concurrency, in run.sh's format, so "added latency within
# 2x of the pass-through proxy's" can be read off against run.sh's rows.
#
#   bench/gateway/passthrough.sh
#
# Environment (all optional): BENCH_SECONDS=5, BENCH_WARMUP=2, BENCH_CONCURRENCY="1 16 64 256",
# BENCH_MODES="chat stream". Needs node (Debian: apt-get install nodejs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="$ROOT/bench/gateway"
SECS="${BENCH_SECONDS:-5}"
WARMUP="${BENCH_WARMUP:-2}"
CONCURRENCY="${BENCH_CONCURRENCY:-1 16 64 256}"
MODES="${BENCH_MODES:-chat stream}"
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
JAVA_BIN="$JAVA_HOME/bin/java"
command -v node >/dev/null || { echo "passthrough.sh: needs node (apt-get install nodejs)" >&2; exit 1; }
[ -x "$JAVA_HOME/bin/javac" ] || { echo "passthrough.sh: no JDK at $JAVA_HOME" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
WORK="$(mktemp -d /tmp/jodo-passthrough-XXXXXX)"
UPSTREAM_PORT="$(free_port)"
PROXY_PORT="$(free_port)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MESSAGES='"messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64'
echo "{\"model\":\"bench-model\",$MESSAGES}" >"$WORK/chat.json"
echo "{\"model\":\"bench-model\",$MESSAGES,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" >"$WORK/stream.json"
"$JAVA_HOME/bin/javac" -d "$WORK/classes" "$BENCH_DIR/Load.java"

"$JAVA_BIN" -XX:+UseSerialGC "$BENCH_DIR/FakeUpstream.java" "$UPSTREAM_PORT" 0 >"$WORK/fake.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=("$UPSTREAM_PID")
node "$BENCH_DIR/passthrough.js" "$PROXY_PORT" "$UPSTREAM_PORT" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$UPSTREAM_PORT/health" \
    && curl -sf -o /dev/null "http://127.0.0.1:$PROXY_PORT/health" && break
  sleep 0.1
done

load() { "$JAVA_BIN" -XX:+UseSerialGC -cp "$WORK/classes" Load "$@"; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }

# JIT and sockets of the proxy path warmed once, unmeasured.
load "http://127.0.0.1:$PROXY_PORT/v1/chat/completions" - "$WORK/chat.json" 16 10 --warmup 0 >/dev/null

echo "| endpoint | c | req/s direct → proxy | p50 | p99 | 1st token p50 | proxy CPU/req |"
echo "|---|---|---|---|---|---|---|"
for mode in $MODES; do
  extra=()
  [ "$mode" = stream ] && extra=(--stream)
  for c in $CONCURRENCY; do
    d="$(load "http://127.0.0.1:$UPSTREAM_PORT/v1/chat/completions" - "$WORK/$mode.json" "$c" "$SECS" \
      --warmup "$WARMUP" "${extra[@]}")"
    p="$(load "http://127.0.0.1:$PROXY_PORT/v1/chat/completions" - "$WORK/$mode.json" "$c" "$SECS" \
      --warmup "$WARMUP" --kernel-pid "$PROXY_PID" --clk-tck "$(getconf CLK_TCK)" "${extra[@]}")"
    added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f → %.2f (+%.2f)", a, b, b - a }'; }
    ttft="–"
    if [ "$mode" = stream ]; then ttft="$(added "$(field ttft_p50 "$d")" "$(field ttft_p50 "$p")")"; fi
    printf '| node pass-through %s | %s | %.0f → %.0f | %s | %s | %s | %.0f µs |\n' "$mode" "$c" \
      "$(field rps "$d")" "$(field rps "$p")" \
      "$(added "$(field p50 "$d")" "$(field p50 "$p")")" "$(added "$(field p99 "$d")" "$(field p99 "$p")")" \
      "$ttft" "$(field kernel_cpu_us_per_req "$p")"
  done
done
