#!/usr/bin/env bash
# Gateway overhead: the same requests sent straight to a fake OpenAI-compatible upstream and
# through the kernel, back to back, for /v1/chat/completions (plain and stream: true) and
# /api/think, at several concurrencies and two upstream delays, with budget accounting on.
#
#   bench/gateway/run.sh
#
# Environment (all optional):
#   BENCH_SECONDS=5              measured seconds per round (after the warm-up)
#   BENCH_WARMUP=2               warm-up seconds per round
#   BENCH_KERNEL_WARMUP=30       seconds of unmeasured load per endpoint (c=16) before the rounds (JIT)
#   BENCH_CONCURRENCY="1 16 64 256"
#   BENCH_DELAYS="0 50"          upstream delay before its response headers, ms
#   BENCH_MODES="chat stream think"
#   BENCH_OUT=FILE               also write the markdown table (and raw lines) to FILE
#   BENCH_USE_LAUNCHER=1         run the kernel through ./jodo itself instead of a snapshot of its jar
#   BENCH_KEEP_LOG=FILE          copy the kernel's log (one JSON line per request) to FILE on exit
#
# Everything listens on 127.0.0.1; every load loop is bounded by BENCH_SECONDS; the throwaway
# JODO_HOME under /tmp, the kernel, its PostgreSQL and the fake upstreams are removed on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BENCH_DIR="$ROOT/bench/gateway"

SECS="${BENCH_SECONDS:-5}"
WARMUP="${BENCH_WARMUP:-2}"
KERNEL_WARMUP="${BENCH_KERNEL_WARMUP:-30}"
CONCURRENCY="${BENCH_CONCURRENCY:-1 16 64 256}"
DELAYS="${BENCH_DELAYS:-0 50}"
MODES="${BENCH_MODES:-chat stream think}"
OUT="${BENCH_OUT:-}"

# The JDK ./jodo would pick: JAVA_HOME, else the newest under /usr/lib/jvm.
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
JAVA_BIN="$JAVA_HOME/bin/java"
[ -x "$JAVA_BIN" ] && [ -x "$JAVA_HOME/bin/javac" ] || { echo "run.sh: no JDK at $JAVA_HOME" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

BENCH_HOME="$(mktemp -d /tmp/jodo-gw-bench-XXXXXX)"
chmod 755 "$BENCH_HOME"
KERNEL_PORT="$(free_port)"
UPSTREAM_PORT="$(free_port)"
export JODO_HOME="$BENCH_HOME/home" JODO_CONFIG_DIR="$BENCH_HOME/configs" JODO_PORT="$KERNEL_PORT"
export JODO_LOG_FORMAT=json
mkdir -p "$JODO_HOME" "$JODO_CONFIG_DIR" "$BENCH_HOME/classes" "$BENCH_HOME/bodies"
chmod 755 "$JODO_HOME"

FAKE_PID=""
KERNEL_JAR=""
jodo() {
  if [ "${BENCH_USE_LAUNCHER:-0}" = 1 ] || [ -z "$KERNEL_JAR" ]; then
    "$ROOT/jodo" "$@"
  elif [ "$1" = up ]; then
    "$JAVA_BIN" --add-modules jdk.incubator.vector ${JODO_JAVA_OPTS:-} -jar "$KERNEL_JAR" "$@"
  else
    "$JAVA_BIN" ${JODO_JAVA_OPTS:-} -jar "$KERNEL_JAR" "$@"
  fi
}
stop_fake() {
  if [ -n "$FAKE_PID" ]; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PID=""
  fi
}
cleanup() {
  stop_fake
  # Stops the kernel and its private PostgreSQL (also when the kernel failed to start).
  if [ -n "$(ls -A "$JODO_HOME" 2>/dev/null)" ]; then jodo down >/dev/null 2>&1 || true; fi
  if [ -n "${BENCH_KEEP_LOG:-}" ]; then cp "$JODO_HOME/logs/kernel.log" "$BENCH_KEEP_LOG" 2>/dev/null || true; fi
  rm -rf "$BENCH_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$JODO_CONFIG_DIR/config.yaml" <<EOF
# Written by bench/gateway/run.sh: one OpenAI-compatible provider, the fake upstream.
kernel:
  host: "127.0.0.1"
  log_level: "info"
  shutdown_timeout_seconds: 5
providers:
  upstream:
    type: "openai"
    base_url: "http://127.0.0.1:$UPSTREAM_PORT/v1"
    models:
      bench-model:
        input_cost_per_1m_tokens: 0.15
        output_cost_per_1m_tokens: 0.60
        capabilities: [code, chat]
        quality: 6
    monthly_budget: 1000000
    emergency_reserve: 0
    timeout_seconds: 30
    max_concurrency: 512
    queue_timeout_seconds: 30
routing:
  strategy: "best_affordable"
  intent_preferences:
    chat: [upstream]
    code: [upstream]
EOF
cp "$ROOT/configs/genesis.yaml" "$JODO_CONFIG_DIR/genesis.yaml"

MESSAGES='"messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64'
echo "{\"model\":\"bench-model\",$MESSAGES}" >"$BENCH_HOME/bodies/chat.json"
echo "{\"model\":\"bench-model\",$MESSAGES,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" \
  >"$BENCH_HOME/bodies/stream.json"
echo "{\"intent\":\"chat\",$MESSAGES}" >"$BENCH_HOME/bodies/think.json"

# The kernel jar is built (when the sources changed) by ./jodo itself. It is then copied, so that
# a rebuild by someone working in this checkout cannot swap the jar under the running kernel.
jodo version >/dev/null
if [ "${BENCH_USE_LAUNCHER:-0}" != 1 ]; then
  cp "$ROOT/target/jodo-kernel.jar" "$BENCH_HOME/jodo-kernel.jar"
  KERNEL_JAR="$BENCH_HOME/jodo-kernel.jar"
fi
"$JAVA_HOME/bin/javac" -d "$BENCH_HOME/classes" "$BENCH_DIR/Load.java"
jodo config check

start_fake() { # DELAY_MS
  "$JAVA_BIN" -XX:+UseSerialGC "$BENCH_DIR/FakeUpstream.java" "$UPSTREAM_PORT" "$1" \
    >"$BENCH_HOME/fake-$1.log" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 1 100); do
    if curl -sf -o /dev/null "http://127.0.0.1:$UPSTREAM_PORT/health"; then return 0; fi
    kill -0 "$FAKE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: the fake upstream did not start:" >&2
  cat "$BENCH_HOME/fake-$1.log" >&2
  exit 1
}

# The kernel needs a reachable upstream only for requests, but start one first anyway.
start_fake 0
jodo up --detach >"$BENCH_HOME/up.log" 2>&1 || { cat "$BENCH_HOME/up.log" >&2; exit 1; }
KERNEL_PID="$(cat "$JODO_HOME/kernel.pid")"
AGENT_TOKEN="$(jodo token create --agent bench --scopes think 2>"$BENCH_HOME/token.err")" \
  || { cat "$BENCH_HOME/token.err" >&2; exit 1; }
ADMIN_TOKEN="$(jodo token)"
PG_ROOT="$JODO_HOME/postgres"
[ -f "$JODO_HOME/postgres.location" ] && PG_ROOT="$(cat "$JODO_HOME/postgres.location")"
PG_PID="$(head -n1 "$PG_ROOT/data/postmaster.pid" 2>/dev/null || echo 0)"
CLK_TCK="$(getconf CLK_TCK)"

load() {
  "$JAVA_BIN" -XX:+UseSerialGC -cp "$BENCH_HOME/classes" Load "$@"
}

# How busy the machine is before we start: other work on these two cores skews every figure.
read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
sleep 2
read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
BUSY_BEFORE=$(( 100 * ((u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1)) / ((u2+n2+s2+i2+w2+q2+sq2+st2) - (u1+n1+s1+i1+w1+q1+sq1+st1)) ))

RAW="$BENCH_HOME/raw.txt"
: >"$RAW"
GATEWAY_FAILURES=0
DIRECT_FAILURES=0
round() { # SIDE MODE DELAY C URL TOKEN BODY
  local side=$1 mode=$2 delay=$3 c=$4 url=$5 token=$6 body=$7 line rc=0
  local extra=()
  [ "$mode" = stream ] && extra+=(--stream)
  line="$(load "$url" "$token" "$body" "$c" "$SECS" --warmup "$WARMUP" --label "$side/$mode/$delay" \
    --kernel-pid "$KERNEL_PID" --pg-pid "$PG_PID" --upstream-pid "$FAKE_PID" --clk-tck "$CLK_TCK" \
    "${extra[@]}")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "$side" = gateway ]; then GATEWAY_FAILURES=$((GATEWAY_FAILURES + 1)); else DIRECT_FAILURES=$((DIRECT_FAILURES + 1)); fi
    echo "!! round $side/$mode/delay=$delay/c=$c exited $rc" >&2
  fi
  echo "side=$side mode=$mode delay=$delay $line" | tee -a "$RAW"
}

DIRECT="http://127.0.0.1:$UPSTREAM_PORT/v1/chat/completions"
GW_V1="http://127.0.0.1:$KERNEL_PORT/v1/chat/completions"
GW_THINK="http://127.0.0.1:$KERNEL_PORT/api/think"
STARTED="$(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores; kernel $(jodo version); JDK $("$JAVA_BIN" -version 2>&1 | head -n1)"
echo "${SECS}s per round after ${WARMUP}s warm-up; concurrency: $CONCURRENCY; upstream delays: $DELAYS ms"
echo "kernel pid $KERNEL_PID, its PostgreSQL pid $PG_PID; JSON request log on (one line per request)"
echo "machine busy before the run: ${BUSY_BEFORE}% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
if [ "$BUSY_BEFORE" -gt 10 ]; then
  echo "!! the machine is already ${BUSY_BEFORE}% busy: figures will be skewed (see other CPU per round)" >&2
fi
# Unmeasured load first, so that the first rounds do not measure the kernel's JIT warming up.
for mode in $MODES; do
  case "$mode" in
    chat) load "$GW_V1" "$AGENT_TOKEN" "$BENCH_HOME/bodies/chat.json" 16 "$KERNEL_WARMUP" --warmup 0 >/dev/null ;;
    stream) load "$GW_V1" "$AGENT_TOKEN" "$BENCH_HOME/bodies/stream.json" 16 "$KERNEL_WARMUP" --warmup 0 --stream >/dev/null ;;
    think) load "$GW_THINK" "$AGENT_TOKEN" "$BENCH_HOME/bodies/think.json" 16 "$KERNEL_WARMUP" --warmup 0 >/dev/null ;;
  esac || echo "!! the unmeasured warm-up through the kernel had failed requests (see above)" >&2
done
for delay in $DELAYS; do
  if [ "$delay" != 0 ]; then
    stop_fake
    start_fake "$delay"
  fi
  for c in $CONCURRENCY; do
    for mode in $MODES; do
      case "$mode" in
        chat) gw_url="$GW_V1"; direct_body=chat.json; gw_body=chat.json ;;
        stream) gw_url="$GW_V1"; direct_body=stream.json; gw_body=stream.json ;;
        think) gw_url="$GW_THINK"; direct_body=chat.json; gw_body=think.json ;;
        *) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
      esac
      round direct "$mode" "$delay" "$c" "$DIRECT" - "$BENCH_HOME/bodies/$direct_body"
      round gateway "$mode" "$delay" "$c" "$gw_url" "$AGENT_TOKEN" "$BENCH_HOME/bodies/$gw_body"
    done
  done
done
stop_fake

# What the kernel itself saw: 5xx answers and error lines in its log, and the ledger's view.
LOG="$JODO_HOME/logs/kernel.log"
LOG_LINES="$(wc -l <"$LOG")"
LOG_5XX="$(grep -c '"status":5[0-9][0-9]' "$LOG" || true)"
LOG_ERRORS="$(grep -c '"level":"ERROR"' "$LOG" || true)"
LOG_WARNS="$(grep -c '"level":"WARN"' "$LOG" || true)"
BUDGET="$(curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$KERNEL_PORT/api/budget" || true)"
RSS_KB="$(ps -o rss= -p "$KERNEL_PID" || echo 0)"

python3 - "$RAW" "$STARTED" "$SECS" "$WARMUP" "$(nproc)" <<'PY' | tee "$BENCH_HOME/table.md"
import math, sys
raw, started, secs, warmup, cores = sys.argv[1:6]
rows = {}
for line in open(raw):
    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    rows[(kv["mode"], int(kv["delay"]), int(kv["c"]), kv["side"])] = kv

def f(kv, k):
    try:
        return float(kv.get(k, "nan"))
    except ValueError:
        return math.nan

ORDER = ["chat", "stream", "think"]
LABEL = {"chat": "/v1 chat", "stream": "/v1 chat stream", "think": "/api/think"}
keys = sorted({k[:3] for k in rows}, key=lambda k: (k[1], ORDER.index(k[0]) if k[0] in ORDER else 9, k[2]))
pairs = [(k, rows.get(k + ("direct",)), rows.get(k + ("gateway",))) for k in keys]
pairs = [(k, d, g) for k, d, g in pairs if d and g]

def cmp(d, g, key):
    return "%.2f → %.2f (%+.2f)" % (f(d, key), f(g, key), f(g, key) - f(d, key))

print()
print("Times in ms; “a → b (+x)”: direct → through the kernel (added = gateway minus direct percentile, the two")
print("measured back to back). 1st token: to the first SSE chunk carrying content. CPU per request: utime+stime over")
print("the gateway round (kernel JVM; its PostgreSQL, postmaster and backends). busy/other: the machine's busy share")
print("in the gateway round, and the share used by processes outside the benchmark. The kernel writes one JSON log")
print("line per request; that is part of what is measured.")
print()
print("| endpoint | delay | c | req/s direct → gw | p50 | p99 | 1st token p50 | 1st token p99 | kernel CPU/req | PG CPU/req | busy / other | errors d/g |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (mode, delay, c), d, g in pairs:
    stream = mode == "stream"
    other = max(f(d, "other_cpu_pct"), f(g, "other_cpu_pct"))
    print("| %s | %d ms | %d | %.0f → %.0f | %s | %s | %s | %s | %.0f µs | %.0f µs | %.0f%% / %.0f%%%s | %s/%s |" % (
        LABEL.get(mode, mode), delay, c, f(d, "rps"), f(g, "rps"),
        cmp(d, g, "p50"), cmp(d, g, "p99"),
        cmp(d, g, "ttft_p50") if stream else "–", cmp(d, g, "ttft_p99") if stream else "–",
        f(g, "kernel_cpu_us_per_req"), f(g, "pg_cpu_us_per_req"),
        f(g, "machine_busy_pct"), f(g, "other_cpu_pct"), " ⚠" if other > 10 else "",
        d["errors"], g["errors"]))

print()
print("Against the issue's targets (accounting on). Reference, Portkey on this 2-core machine: +1.9 ms p50 / +8.8 ms p99")
print("at c=1, ~30 ms first-token delay, peak ~480 req/s.")
print()
verdict = lambda ok: "meets" if ok else "MISSES"
for (mode, delay, c), d, g in pairs:
    if c != 1:
        continue
    a50, a99 = f(g, "p50") - f(d, "p50"), f(g, "p99") - f(d, "p99")
    line = "- %s, %d ms upstream, c=1: added p50 %.2f ms (target ≤ 1: %s), added p99 %.2f ms (target ≤ 3: %s)" % (
        LABEL[mode], delay, a50, verdict(a50 <= 1), a99, verdict(a99 <= 3))
    if mode == "stream":
        t50 = f(g, "ttft_p50") - f(d, "ttft_p50")
        line += "; first-token delay p50 %.2f ms (target ≤ 2: %s)" % (t50, verdict(t50 <= 2))
    print(line)
for mode in ORDER:
    for delay in sorted({k[1] for k, _, _ in pairs}):
        cand = [(f(g, "rps"), k[2]) for k, _, g in pairs if k[0] == mode and k[1] == delay]
        if cand:
            best, c = max(cand)
            print("- %s, %d ms upstream: peak %.0f req/s through the kernel (c=%d; target ≥ 2000: %s)" % (
                LABEL[mode], delay, best, c, verdict(best >= 2000)))
disturbed = [k for k, d, g in pairs if max(f(d, "other_cpu_pct"), f(g, "other_cpu_pct")) > 10]
if disturbed:
    print("- ⚠ %d round pairs ran while other processes used more than 10%% of the machine; rerun them on a quiet machine" % len(disturbed))
cpu = [f(g, "kernel_cpu_us_per_req") + f(g, "pg_cpu_us_per_req") for k, _, g in pairs if k[2] >= 16]
cpu = [v for v in cpu if v == v and v > 0]
if cpu:
    import statistics
    print("- CPU ceiling: at c ≥ 16 the kernel and its PostgreSQL together use %.0f–%.0f µs of CPU per request (median %.0f)," % (
        min(cpu), max(cpu), statistics.median(cpu)))
    print("  so even with all %s cores to themselves (no load generator, no upstream) they would top out near %.0f req/s" % (
        cores, int(cores) * 1e6 / statistics.median(cpu)))
print()
print("Measured %s; %s s per round after a %s s warm-up; %s cores shared by the load generator, the kernel, its" % (
    started, secs, warmup, cores))
print("PostgreSQL and the fake upstream.")
PY

echo
echo "kernel log: $LOG_LINES lines, $LOG_5XX with a 5xx status, $LOG_ERRORS ERROR and $LOG_WARNS WARN lines"
if [ "$LOG_5XX" != 0 ] || [ "$LOG_ERRORS" != 0 ] || [ "$LOG_WARNS" != 0 ]; then
  echo "first 5xx/ERROR/WARN lines:"
  grep -E '"status":5[0-9][0-9]|"level":"(ERROR|WARN)"' "$LOG" | head -n 8 | cut -c1-700
fi
echo "kernel RSS after the runs: $((RSS_KB / 1024)) MiB"
echo "budget after the runs: $BUDGET"
if [ -n "$OUT" ]; then
  { cat "$BENCH_HOME/table.md"; echo; echo '```'; cat "$RAW"; echo '```'; } >"$OUT"
  echo "table and raw lines written to $OUT"
fi
if [ "$DIRECT_FAILURES" -ne 0 ]; then
  echo "!! $DIRECT_FAILURES direct rounds had failed requests (see the lines marked !! above). An I/O error" >&2
  echo "   'header parser received no bytes' there is the fake upstream's: the JDK's built-in HttpServer" >&2
  echo "   drops roughly one keep-alive connection in 10^4–10^5 requests under load." >&2
fi
if [ "$GATEWAY_FAILURES" -ne 0 ]; then
  echo "!! $GATEWAY_FAILURES rounds through the kernel had failed requests (non-200 or broken streams);" >&2
  echo "   see the lines marked !! above and the kernel log summary" >&2
  exit 1
fi
