#!/usr/bin/env bash
# Durable runs: sustained runs/s and event→succeeded overhead with an instant fake provider, over
# 1,000 conversations; then recovery after SIGKILL with 1,000 runs in flight.
#
#   bench/runs/run.sh
#
# Environment (all optional):
#   BENCH_DATABASE=postgres://postgres@127.0.0.1:5432   a server where it may create and drop
#                                       the database jodo_runs_bench (read with psql)
#   BENCH_SECONDS=20        seconds of submission in the throughput round
#   BENCH_WARMUP=15         seconds of unmeasured load before it (JIT, pools)
#   BENCH_CLIENTS=32        concurrent submitting clients
#   BENCH_CONVERSATIONS=1000
#   BENCH_INFLIGHT=1000     runs in flight when the kernel is killed
#   BENCH_THROUGHPUT_ONLY=  1: stop after the throughput round (no recovery round)
#   KERNEL_JAVA_OPTS=       extra JVM options for the kernel (a JFR recording, say)
#   BENCH_KEEP_LOG=         a file to keep the kernel's log in
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SERVER="${BENCH_DATABASE:-postgres://postgres@127.0.0.1:5432}"
SECS="${BENCH_SECONDS:-20}"
CLIENTS="${BENCH_CLIENTS:-32}"
CONVERSATIONS="${BENCH_CONVERSATIONS:-1000}"
INFLIGHT="${BENCH_INFLIGHT:-1000}"
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
JAVA_BIN="$JAVA_HOME/bin/java"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
sql() { psql -qtAX "$SERVER/jodo_runs_bench" -c "$1"; }

BENCH_HOME="$(mktemp -d /tmp/jodo-runs-bench-XXXXXX)"
KERNEL_PORT="$(free_port)"
UPSTREAM_PORT="$(free_port)"
export JODO_HOME="$BENCH_HOME/home" JODO_CONFIG_DIR="$BENCH_HOME/configs" JODO_PORT="$KERNEL_PORT"
export JODO_LOG_FORMAT=json JODO_DATABASE_URL="$SERVER/jodo_runs_bench"
mkdir -p "$JODO_HOME" "$JODO_CONFIG_DIR"
FAKE_PID=""
KERNEL_PID=""
cleanup() {
  [ -n "${BENCH_KEEP_LOG:-}" ] && cp "$BENCH_HOME/kernel.log" "$BENCH_KEEP_LOG" 2>/dev/null || true
  [ -n "$KERNEL_PID" ] && kill -9 "$KERNEL_PID" 2>/dev/null || true
  [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -qtAX "$SERVER/postgres" -c "DROP DATABASE IF EXISTS jodo_runs_bench WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$BENCH_HOME"
}
trap cleanup EXIT

psql -qtAX "$SERVER/postgres" -c "DROP DATABASE IF EXISTS jodo_runs_bench WITH (FORCE)" >/dev/null
psql -qtAX "$SERVER/postgres" -c "CREATE DATABASE jodo_runs_bench" >/dev/null

# The machine has two cores and the kernel is measured while it starts, so the bench watches it
# from one process: a curl every 0.1 s costs about 20 ms of CPU and a psql about 70 ms (with its
# server backend), which over a 12 s restart took seconds of CPU from the kernel.
await_http() { # url pid
  python3 "$ROOT/bench/runs/await_http.py" "$1" "$2"
}
start_fake() { # delay ms; one fake for the whole bench, so no cold JVM is in a measurement
  "$JAVA_BIN" "$ROOT/bench/gateway/FakeUpstream.java" "$UPSTREAM_PORT" "$1" >"$BENCH_HOME/fake.log" 2>&1 &
  FAKE_PID=$!
  await_http "http://127.0.0.1:$UPSTREAM_PORT/health" "$FAKE_PID"
}
fake_delay() { curl -sf -X POST "http://127.0.0.1:$UPSTREAM_PORT/delay?ms=$1"; }
start_kernel() { # as `jodo up` starts it, with its class-data archive (made at the first exit)
  # shellcheck disable=SC2086 # KERNEL_JAVA_OPTS is a list of options
  "$JAVA_BIN" --add-modules jdk.incubator.vector -XX:SharedArchiveFile="$BENCH_HOME/jodo-kernel.jsa" \
    -XX:+AutoCreateSharedArchive -Xlog:cds=off ${KERNEL_JAVA_OPTS:-} -jar "$BENCH_HOME/jodo-kernel.jar" up \
    >>"$BENCH_HOME/kernel.log" 2>&1 &
  KERNEL_PID=$!
  await_http "http://127.0.0.1:$KERNEL_PORT/healthz" "$KERNEL_PID"
}

cpu_ticks() { # clock ticks: the kernel, all postgres processes, the fake provider, the machine
  local k p=0 f m pid
  k="$(awk '{print $14 + $15}' "/proc/$KERNEL_PID/stat")"
  for pid in $(pgrep -x postgres); do
    p=$((p + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  f="$(awk '{print $14 + $15}' "/proc/$FAKE_PID/stat")"
  m="$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat)"
  echo "$k $p $f $m"
}

cat >"$JODO_CONFIG_DIR/config.yaml" <<YAML
providers:
  openai:
    base_url: "http://127.0.0.1:$UPSTREAM_PORT/v1"
    api_key: "sk-bench"
    models:
      gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat], quality: 6}
    max_concurrency: 256
routing:
  intent_preferences:
    chat: [openai]
YAML
cp "$ROOT/configs/genesis.yaml" "$JODO_CONFIG_DIR/genesis.yaml"

"$ROOT/jodo" version >/dev/null # builds the jar when the sources changed
cp "$ROOT/target/jodo-kernel.jar" "$BENCH_HOME/jodo-kernel.jar"

echo "== throughput: $CLIENTS clients for $SECS s over $CONVERSATIONS conversations, instant provider"
start_fake 0
start_kernel
TOKEN="$(cat "$JODO_HOME/admin.token")"
# Warm-up (JIT, pools), not measured.
"$JAVA_BIN" "$ROOT/bench/runs/RunsLoad.java" "http://127.0.0.1:$KERNEL_PORT" "$TOKEN" "$CLIENTS" "${BENCH_WARMUP:-15}" 1000000 "$CONVERSATIONS"
until [ "$(sql "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED','PENDING')")" = 0 ]; do sleep 0.5; done
sql "DELETE FROM dbos.workflow_status" >/dev/null
CPU0="$(cpu_ticks)"
"$JAVA_BIN" "$ROOT/bench/runs/RunsLoad.java" "http://127.0.0.1:$KERNEL_PORT" "$TOKEN" "$CLIENTS" "$SECS" 100000000 "$CONVERSATIONS"
until [ "$(sql "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED','PENDING')")" = 0 ]; do sleep 0.5; done
CPU1="$(cpu_ticks)"
echo "cpu seconds (kernel, postgres, fake provider, whole machine): $(python3 -c "a='$CPU0'.split(); b='$CPU1'.split(); print(*[round((int(y)-int(x))/100,1) for x,y in zip(a,b)])")"
sql "SELECT format('%s runs succeeded (%s failed) in %s s: %s runs/s; event->succeeded p50 %s ms, p99 %s ms',
         count(*) FILTER (WHERE status = 'SUCCESS'), count(*) FILTER (WHERE status <> 'SUCCESS'),
         round((max(updated_at) - min(created_at)) / 1000.0, 1),
         round(count(*) / ((max(updated_at) - min(created_at)) / 1000.0)),
         percentile_disc(0.5) WITHIN GROUP (ORDER BY updated_at - created_at),
         percentile_disc(0.99) WITHIN GROUP (ORDER BY updated_at - created_at))
       FROM dbos.workflow_status"
kill "$KERNEL_PID"; wait "$KERNEL_PID" 2>/dev/null || true; KERNEL_PID=""
if [ "${BENCH_THROUGHPUT_ONLY:-}" = 1 ]; then
  exit 0
fi

echo "== recovery: SIGKILL with $INFLIGHT runs in flight"
sql "DELETE FROM dbos.workflow_status" >/dev/null
fake_delay 2000
start_kernel
"$JAVA_BIN" "$ROOT/bench/runs/RunsLoad.java" "http://127.0.0.1:$KERNEL_PORT" "$TOKEN" "$CLIENTS" 60 "$INFLIGHT" "$INFLIGHT"
sleep 1
kill -9 "$KERNEL_PID"; wait "$KERNEL_PID" 2>/dev/null || true; KERNEL_PID=""
echo "killed: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM dbos.workflow_status GROUP BY status) s")"
fake_delay 0
sleep 3 # the fake's answers to the dead kernel finish; the machine settles
LOG_LINES=$(wc -l <"$BENCH_HOME/kernel.log")
PG0="$(for pid in $(pgrep -x postgres); do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null; done | paste -sd+ | bc)"
M0="$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat)"
T0=$(date +%s%N)
start_kernel
T1=$(date +%s%N)
# Polled every 2 s from here on; the finish time is the last run's own completion stamp, not when
# the poll noticed it.
until [ "$(sql "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ENQUEUED','PENDING')")" = 0 ]; do sleep 2; done
T2=$(( $(sql "SELECT max(updated_at) FROM dbos.workflow_status") * 1000000 ))
read -r K P F M <<<"$(cpu_ticks)"
# Resumed: the kernel's recovery pass logs when it has handed the last interrupted run to DBOS
# (read from its log afterwards instead of polling the database during the restart).
RESUMED="$(tail -n +"$((LOG_LINES + 1))" "$BENCH_HOME/kernel.log" | python3 -c '
import datetime, json, sys
for line in sys.stdin:
    if "interrupted run(s) in" in line:
        try:
            ts = json.loads(line)["ts"].replace("Z", "+00:00")
            print(int(datetime.datetime.fromisoformat(ts).timestamp() * 1e9))
        except (ValueError, KeyError):
            pass
')"
echo "cpu seconds from the restart to the last run (kernel, postgres, whole machine): $(python3 -c "print(round($K/100,1), round(($P-$PG0)/100,1), round(($M-$M0)/100,1))")"
if [ -n "$RESUMED" ]; then
  echo "the recovery pass had handed every interrupted run to DBOS $(( (RESUMED - T0) / 1000000 )) ms after the restart began"
fi
echo "restart to /healthz $(( (T1 - T0) / 1000000 )) ms; all $INFLIGHT runs finished $(( (T2 - T0) / 1000000 )) ms after the restart began ($(( (T2 - T1) / 1000000 )) ms after /healthz)"
echo "final: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM dbos.workflow_status GROUP BY status) s")"
