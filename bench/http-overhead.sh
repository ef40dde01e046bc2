#!/usr/bin/env bash
# Measures the kernel's per-request overhead on loopback: an open route (/healthz) and an
# authenticated route that also queries Postgres (/api/status). Starts a throwaway kernel with
# its own private Postgres, loads it for a bounded time, prints figures, stops everything.
#   bench/http-overhead.sh [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
HOME_DIR="$(mktemp -d /tmp/jodo-bench-XXXXXX)"
chmod 755 "$HOME_DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export JODO_HOME="$HOME_DIR" JODO_PORT="$PORT" JODO_LOG_FORMAT=json
cleanup() { ./jodo down >/dev/null 2>&1 || true; rm -rf "$HOME_DIR"; }
trap cleanup EXIT

./jodo up --detach >/dev/null
TOKEN="$(./jodo token)"
JAVA_BIN="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[ -x "$JAVA_BIN" ] || JAVA_BIN="$(ls -d /usr/lib/jvm/*/bin/java | sort -rV | head -n1)"
echo "machine: $(nproc) cores; kernel $(./jodo version); ${SECONDS_PER_RUN}s per run after 3s warm-up"
for c in 1 16 64; do
  "$JAVA_BIN" bench/HttpLoad.java "http://127.0.0.1:$PORT/healthz" - "$c" "$SECONDS_PER_RUN"
  "$JAVA_BIN" bench/HttpLoad.java "http://127.0.0.1:$PORT/api/status" "$TOKEN" "$c" "$SECONDS_PER_RUN"
done
RSS_KB=$(ps -o rss= -p "$(cat "$HOME_DIR/kernel.pid")")
echo "kernel RSS after the runs: $((RSS_KB / 1024)) MiB"
