#!/usr/bin/env bash
# End-to-end memory benchmark: a throwaway kernel with the default local embedder (bundled
# all-MiniLM-L6-v2), an agent token with scope memory, then through HTTP:
#   - store throughput: BENCH_STORE_N generated memories (10-60 words, tags) per concurrency in
#     BENCH_STORE_CONCURRENCY via POST /api/memory/store (each store embeds its text, inserts it
#     and returns once this kernel's index has it);
#   - search latency: BENCH_SEARCH_N generated questions per mode and concurrency via
#     POST /api/memory/search (limit BENCH_LIMIT); the query's embedding is part of every search.
# Prints a markdown table (and the issue's target: search p95 <= 50 ms) at the end.
#
#   bench/memory/e2e.sh                                    # ~5 min on 2 idle cores
#   BENCH_STORE_N=300 BENCH_SEARCH_N=100 bench/memory/e2e.sh  # smoke run, ~1 min
#
# Environment (all optional):
#   BENCH_STORE_N=2000                  memories stored (and measured) per store concurrency
#   BENCH_STORE_CONCURRENCY="1 8"
#   BENCH_FILL_N=0                      more memories stored before the searches, at
#   BENCH_FILL_CONCURRENCY=8            this concurrency: a larger corpus, sooner
#   BENCH_SEARCH_N=500                  questions per search round
#   BENCH_SEARCH_CONCURRENCY="1 2"
#   BENCH_SEARCH_MODES="hybrid vector"  hybrid (the default mode), vector, text
#   BENCH_LIMIT=5
#   BENCH_WARMUP_N=100                  unmeasured stores and searches first (JIT, model, pools);
#                                       the warm-up memories count in the corpus
#   BENCH_OUT=FILE                      also write the markdown table (and raw lines) to FILE
#   BENCH_JAR=FILE                      run this kernel jar instead of building the checkout's
#   BENCH_USE_LAUNCHER=1                run the kernel through ./jodo itself instead of a jar copy
#
# Everything listens on 127.0.0.1; the throwaway JODO_HOME under /tmp, the kernel and its
# PostgreSQL are removed on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BENCH_DIR="$ROOT/bench/memory"

STORE_N="${BENCH_STORE_N:-2000}"
STORE_CONCURRENCY="${BENCH_STORE_CONCURRENCY:-1 8}"
FILL_N="${BENCH_FILL_N:-0}"
FILL_CONCURRENCY="${BENCH_FILL_CONCURRENCY:-8}"
SEARCH_N="${BENCH_SEARCH_N:-500}"
SEARCH_CONCURRENCY="${BENCH_SEARCH_CONCURRENCY:-1 2}"
SEARCH_MODES="${BENCH_SEARCH_MODES:-hybrid vector}"
LIMIT="${BENCH_LIMIT:-5}"
WARMUP_N="${BENCH_WARMUP_N:-100}"
OUT="${BENCH_OUT:-}"

# The JDK ./jodo would pick: JAVA_HOME, else the newest under /usr/lib/jvm.
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
JAVA_BIN="$JAVA_HOME/bin/java"
[ -x "$JAVA_BIN" ] && [ -x "$JAVA_HOME/bin/javac" ] || { echo "e2e.sh: no JDK at $JAVA_HOME" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

BENCH_HOME="$(mktemp -d /tmp/jodo-memory-e2e-XXXXXX)"
chmod 755 "$BENCH_HOME"
KERNEL_PORT="$(free_port)"
export JODO_HOME="$BENCH_HOME/home" JODO_CONFIG_DIR="$BENCH_HOME/configs" JODO_PORT="$KERNEL_PORT"
export JODO_LOG_FORMAT=json
mkdir -p "$JODO_HOME" "$JODO_CONFIG_DIR" "$BENCH_HOME/classes"
chmod 755 "$JODO_HOME"

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
cleanup() {
  # Stops the kernel and its private PostgreSQL (also when the kernel failed to start).
  if [ -n "$(ls -A "$JODO_HOME" 2>/dev/null)" ]; then jodo down >/dev/null 2>&1 || true; fi
  rm -rf "$BENCH_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$JODO_CONFIG_DIR/config.yaml" <<EOF
# Written by bench/memory/e2e.sh: no providers; memory embeds locally (the default).
kernel:
  host: "127.0.0.1"
  log_level: "info"
  shutdown_timeout_seconds: 5
memory:
  embedder: local
EOF
cp "$ROOT/configs/genesis.yaml" "$JODO_CONFIG_DIR/genesis.yaml"

# The kernel jar is built (when the sources changed) by ./jodo itself. It is then copied, so that
# a rebuild by someone working in this checkout cannot swap the jar under the running kernel.
if [ -n "${BENCH_JAR:-}" ]; then
  cp "$BENCH_JAR" "$BENCH_HOME/jodo-kernel.jar"
  KERNEL_JAR="$BENCH_HOME/jodo-kernel.jar"
elif [ "${BENCH_USE_LAUNCHER:-0}" != 1 ]; then
  jodo version >/dev/null
  cp "$ROOT/target/jodo-kernel.jar" "$BENCH_HOME/jodo-kernel.jar"
  KERNEL_JAR="$BENCH_HOME/jodo-kernel.jar"
fi
"$JAVA_HOME/bin/javac" -d "$BENCH_HOME/classes" "$BENCH_DIR/MemoryLoad.java"
jodo config check

jodo up --detach >"$BENCH_HOME/up.log" 2>&1 || { cat "$BENCH_HOME/up.log" >&2; exit 1; }
KERNEL_PID="$(cat "$JODO_HOME/kernel.pid")"
AGENT_TOKEN="$(jodo token create --agent bench --scopes memory 2>"$BENCH_HOME/token.err")" \
  || { cat "$BENCH_HOME/token.err" >&2; exit 1; }
PG_ROOT="$JODO_HOME/postgres"
[ -f "$JODO_HOME/postgres.location" ] && PG_ROOT="$(cat "$JODO_HOME/postgres.location")"
PG_PID="$(head -n1 "$PG_ROOT/data/postmaster.pid" 2>/dev/null || echo 0)"
CLK_TCK="$(getconf CLK_TCK)"
BASE="http://127.0.0.1:$KERNEL_PORT/api/memory"

load() { # PHASE COUNT CONCURRENCY [MemoryLoad options]
  local phase=$1 count=$2 c=$3
  shift 3
  "$JAVA_BIN" -XX:+UseSerialGC -cp "$BENCH_HOME/classes" MemoryLoad "$phase" "$BASE/$phase" \
    "$AGENT_TOKEN" "$count" "$c" --kernel-pid "$KERNEL_PID" --pg-pid "$PG_PID" --clk-tck "$CLK_TCK" "$@"
}

# How busy the machine is before we start: other work on these cores skews every figure.
read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
sleep 2
read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
BUSY_BEFORE=$(( 100 * ((u2+n2+s2+q2+sq2+st2) - (u1+n1+s1+q1+sq1+st1)) / ((u2+n2+s2+i2+w2+q2+sq2+st2) - (u1+n1+s1+i1+w1+q1+sq1+st1)) ))

RAW="$BENCH_HOME/raw.txt"
: >"$RAW"
FAILURES=0
STORED=0
round() { # LABEL CORPUS PHASE COUNT CONCURRENCY [MemoryLoad options]
  local label=$1 corpus=$2 line rc=0
  shift 2
  line="$(load "$@" --label "$label")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    FAILURES=$((FAILURES + 1))
    echo "!! round $label exited $rc" >&2
  fi
  echo "corpus=$corpus $line" | tee -a "$RAW"
}

STARTED="$(date -u +%Y-%m-%dT%H:%MZ)"
MAX_STORE_C="$(echo "$STORE_CONCURRENCY" | tr ' ' '\n' | sort -n | tail -n1)"
echo "machine: $(nproc) cores; kernel $(jodo version); JDK $("$JAVA_BIN" -version 2>&1 | head -n1)"
echo "stores: $STORE_N per concurrency in {$STORE_CONCURRENCY}, then $FILL_N more at c=$FILL_CONCURRENCY;" \
  "searches: $SEARCH_N per round, modes {$SEARCH_MODES}, concurrency {$SEARCH_CONCURRENCY}, limit $LIMIT"
echo "kernel pid $KERNEL_PID, its PostgreSQL pid $PG_PID; JSON request log on (one line per request)"
echo "machine busy before the run: ${BUSY_BEFORE}% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
if [ "$BUSY_BEFORE" -gt 10 ]; then
  echo "!! the machine is already ${BUSY_BEFORE}% busy: figures will be skewed (see the other-CPU column)" >&2
fi

# Unmeasured warm-up: the kernel's JIT, the model's first runs, the connection pools.
if [ "$WARMUP_N" -gt 0 ]; then
  round warmup-store "$STORED" store "$WARMUP_N" "$MAX_STORE_C" --first "$STORED" >/dev/null
  STORED=$((STORED + WARMUP_N))
  round warmup-search "$STORED" search "$WARMUP_N" 2 --first 1000000 --limit "$LIMIT" >/dev/null
fi
for c in $STORE_CONCURRENCY; do
  round "store-c$c" "$STORED" store "$STORE_N" "$c" --first "$STORED"
  STORED=$((STORED + STORE_N))
done
if [ "$FILL_N" -gt 0 ]; then
  round fill "$STORED" store "$FILL_N" "$FILL_CONCURRENCY" --first "$STORED"
  STORED=$((STORED + FILL_N))
fi
for mode in $SEARCH_MODES; do
  for c in $SEARCH_CONCURRENCY; do
    round "search-$mode-c$c" "$STORED" search "$SEARCH_N" "$c" --mode "$mode" --limit "$LIMIT"
  done
done

# What the kernel itself saw: 5xx answers and error lines in its log; its memory and index size.
LOG="$JODO_HOME/logs/kernel.log"
LOG_LINES="$(wc -l <"$LOG")"
LOG_5XX="$(grep -c '"status":5[0-9][0-9]' "$LOG" || true)"
LOG_ERRORS="$(grep -c '"level":"ERROR"' "$LOG" || true)"
LOG_WARNS="$(grep -c '"level":"WARN"' "$LOG" || true)"
RSS_KB="$(ps -o rss= -p "$KERNEL_PID" || echo 0)"
INDEX_SIZE="$(du -sh "$JODO_HOME/index" 2>/dev/null | cut -f1 || echo '?')"

python3 - "$RAW" "$STARTED" "$(nproc)" "$STORED" <<'PY' | tee "$BENCH_HOME/table.md"
import math, sys
raw, started, cores, stored = sys.argv[1:5]
rows = [dict(p.split("=", 1) for p in line.split() if "=" in p) for line in open(raw)]
rows = [r for r in rows if not r["label"].startswith("warmup")]

def f(r, k):
    try:
        return float(r.get(k, "nan"))
    except ValueError:
        return math.nan

print()
print("Times in ms, client-side to the last byte of the answer (store: embed, insert, wait until this")
print("kernel's index has it; search: embed the query, search the index). corpus: memories in the")
print("namespace when the round started. CPU per request: utime+stime from /proc over the round (kernel")
print("JVM, embedding included; its PostgreSQL: postmaster and backends). busy / other: the machine's busy")
print("share in the round, and the share used by processes outside the benchmark.")
print()
print("| round | corpus | c | requests | req/s | p50 | p95 | p99 | max | results/query | kernel CPU/req | PG CPU/req | busy / other | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    search = r["phase"] == "search"
    name = ("search %s, limit %s" % (r["mode"], r["limit"])) if search else ("store (fill)" if r["label"] == "fill" else "store")
    print("| %s | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %.2f ms | %.2f ms | %.0f%% / %.0f%%%s | %s |" % (
        name, r["corpus"], r["c"], r["count"], f(r, "rps"), f(r, "p50"), f(r, "p95"), f(r, "p99"), f(r, "max"),
        r.get("mean_results", "–"), f(r, "kernel_cpu_ms_per_req"), f(r, "pg_cpu_ms_per_req"),
        f(r, "machine_busy_pct"), f(r, "other_cpu_pct"), " ⚠" if f(r, "other_cpu_pct") > 10 else "", r["errors"]))
print()
verdict = lambda ok: "meets" if ok else "MISSES"
for r in rows:
    if r["phase"] == "search":
        print("- search %s at c=%s over %s memories: p95 %.1f ms (target ≤ 50 ms: %s)" % (
            r["mode"], r["c"], r["corpus"], f(r, "p95"), verdict(f(r, "p95") <= 50)))
stores = [r for r in rows if r["phase"] == "store"]
if stores:
    best = max(stores, key=lambda r: f(r, "rps"))
    cpu = f(best, "kernel_cpu_ms_per_req") + f(best, "pg_cpu_ms_per_req")
    print("- store throughput with local embeddings: best %.1f stores/s (c=%s); the kernel and its PostgreSQL used %.1f ms" % (
        f(best, "rps"), best["c"], cpu))
    print("  of CPU per store, so with all %s cores to themselves they would top out near %.0f stores/s" % (
        cores, int(cores) * 1000 / cpu))
disturbed = [r for r in rows if f(r, "other_cpu_pct") > 10]
if disturbed:
    print("- ⚠ %d rounds ran while other processes used more than 10%% of the machine; rerun them on a quiet machine" % len(disturbed))
print()
print("Measured %s; %s memories stored in all; %s cores shared by the load generator, the kernel and its PostgreSQL." % (
    started, stored, cores))
PY

echo
echo "kernel log: $LOG_LINES lines, $LOG_5XX with a 5xx status, $LOG_ERRORS ERROR and $LOG_WARNS WARN lines"
if [ "$LOG_5XX" != 0 ] || [ "$LOG_ERRORS" != 0 ] || [ "$LOG_WARNS" != 0 ]; then
  echo "first 5xx/ERROR/WARN lines:"
  grep -E '"status":5[0-9][0-9]|"level":"(ERROR|WARN)"' "$LOG" | head -n 8 | cut -c1-700
fi
echo "kernel RSS after the runs: $((RSS_KB / 1024)) MiB; memory index on disk: $INDEX_SIZE"
if [ -n "$OUT" ]; then
  { cat "$BENCH_HOME/table.md"; echo; echo '```'; cat "$RAW"; echo '```'; } >"$OUT"
  echo "table and raw lines written to $OUT"
fi
if [ "$FAILURES" -ne 0 ]; then
  echo "!! $FAILURES rounds had failed requests; see the lines marked !! above and the kernel log summary" >&2
  exit 1
fi
