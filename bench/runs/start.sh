#!/usr/bin/env bash
# A normal start: how long from launching the kernel (as `jodo up` launches it, with its class-data
# archive) until /healthz answers, and the kernel's CPU seconds by then. No runs to resume.
#
#   bench/runs/start.sh [server|private] [STARTS]
#
# server: on BENCH_DATABASE (a fresh database, created and dropped); private: the kernel's own
# PostgreSQL cluster under a temporary JODO_HOME. Two unmeasured starts first (migrations or
# initdb, and the archive).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
MODE="${1:-server}"
STARTS="${2:-5}"
SERVER="${BENCH_DATABASE:-postgres://postgres@127.0.0.1:5432}"
JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_BIN="${JAVA_HOME%/}/bin/java"
[ "$MODE" = server ] || [ "$MODE" = private ] || { echo "usage: $0 [server|private] [STARTS]" >&2; exit 2; }

WORK="$(mktemp -d /tmp/jodo-start-bench-XXXXXX)"
export JODO_HOME="$WORK/home" JODO_CONFIG_DIR="$WORK/configs"
JODO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export JODO_PORT
DB=""
KERNEL_PID=""
cleanup() {
  if [ -n "$KERNEL_PID" ]; then
    kill "$KERNEL_PID" 2>/dev/null || true
    wait "$KERNEL_PID" 2>/dev/null || true
  fi
  if [ -n "$DB" ]; then
    psql -qtAX "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$JODO_HOME" "$JODO_CONFIG_DIR"
cp configs/genesis.yaml "$JODO_CONFIG_DIR/"
cat >"$JODO_CONFIG_DIR/config.yaml" <<'YAML'
providers:
  openai:
    base_url: "http://127.0.0.1:9/v1"
    api_key: "sk-bench"
    models:
      gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat], quality: 6}
routing:
  intent_preferences:
    chat: [openai]
YAML
if [ "$MODE" = server ]; then
  DB="jodo_start_bench_$$"
  psql -qtAX "$SERVER/postgres" -c "CREATE DATABASE $DB" >/dev/null
  export JODO_DATABASE_URL="$SERVER/$DB"
fi
"$ROOT/jodo" version >/dev/null # builds the jar when the sources changed
cp "$ROOT/target/jodo-kernel.jar" "$WORK/jodo-kernel.jar"

start() { # sets MS and CPU_MS: from launch to /healthz (not in a subshell: cleanup sees the pid)
  local t0 t1 ticks
  t0=$(date +%s%N)
  "$JAVA_BIN" --add-modules jdk.incubator.vector -XX:SharedArchiveFile="$WORK/jodo-kernel.jsa" \
    -XX:+AutoCreateSharedArchive -Xlog:cds=off -jar "$WORK/jodo-kernel.jar" up >>"$WORK/kernel.log" 2>&1 &
  KERNEL_PID=$!
  if ! python3 "$ROOT/bench/runs/await_http.py" "http://127.0.0.1:$JODO_PORT/healthz" "$KERNEL_PID" 120; then
    tail -n 20 "$WORK/kernel.log" >&2
    exit 1
  fi
  t1=$(date +%s%N)
  ticks=$(awk '{print $14 + $15}' "/proc/$KERNEL_PID/stat")
  kill "$KERNEL_PID"
  wait "$KERNEL_PID" 2>/dev/null || true
  KERNEL_PID=""
  MS=$(((t1 - t0) / 1000000))
  CPU_MS=$((ticks * 10))
}

start
start
echo "== $STARTS starts ($MODE database)"
for _ in $(seq "$STARTS"); do
  start
  echo "/healthz after $MS ms; kernel CPU $CPU_MS ms"
  sleep 1
done
