#!/usr/bin/env bash
# Memory index benchmark: synthetic clustered 384-dim vectors (1,000 clusters, unit length) indexed
# through MemoryIndex.apply exactly as the kernel does, then searched in a fresh JVM, once as the
# merges leave the index and once after MemoryIndex.compact(): recall@10
# against exact brute force (200 queries), p50/p99 latency single-client, QPS with 2 clients,
# filtered search at 1% / 10% / 50%, hybrid and text latency, build time, index size, heap/RSS,
# and the cost of applying one change.
#
#   bench/memory/run.sh
#
# Environment (all optional):
#   BENCH_SIZES="100000 1000000"   data set sizes
#   BENCH_LAYOUTS="INT8 FLOAT32"   vector layouts compared at sizes <= BENCH_COMPARE_UP_TO
#   BENCH_COMPARE_UP_TO=100000     larger sizes run the first layout only
#   BENCH_BATCH=1000               changes per apply() call while building
#   BENCH_QPS_SECONDS=10
#   BENCH_BUILD_HEAP=6g            the build JVM also holds the data set (1M x 384 floats = 1.5 GB)
#   BENCH_SEARCH_HEAP=1g           the search JVM holds only the index's on-heap parts
#   BENCH_OUT=FILE                 also write the tables (and raw result lines) to FILE
#   BENCH_WORK=DIR                 where indexes are built (default: a fresh dir under /tmp)
#   BENCH_KEEP=1                   keep each index (needs BENCH_WORK) instead of deleting it
#
# Each index is deleted once measured; a default work directory is removed on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SIZES="${BENCH_SIZES:-100000 1000000}"
LAYOUTS="${BENCH_LAYOUTS:-INT8 FLOAT32}"
COMPARE_UP_TO="${BENCH_COMPARE_UP_TO:-100000}"
BATCH="${BENCH_BATCH:-1000}"
QPS_SECONDS="${BENCH_QPS_SECONDS:-10}"
BUILD_HEAP="${BENCH_BUILD_HEAP:-6g}"
SEARCH_HEAP="${BENCH_SEARCH_HEAP:-1g}"
OUT="${BENCH_OUT:-}"

JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
export JAVA_HOME
JAVA_BIN="$JAVA_HOME/bin/java"
[ -x "$JAVA_BIN" ] && [ -x "$JAVA_HOME/bin/javac" ] || { echo "run.sh: no JDK at $JAVA_HOME" >&2; exit 1; }

WORK="${BENCH_WORK:-$(mktemp -d /tmp/jodo-memory-bench-XXXXXX)}"
mkdir -p "$WORK"
cleanup() { [ -n "${BENCH_WORK:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Compile the kernel, then snapshot its classes so that a rebuild in this checkout cannot swap
# them under a running benchmark; the benchmark sources (test tree) are compiled on their own.
./mvnw -q compile -Dspotless.check.skip=true -Djacoco.skip=true
./mvnw -q dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
rm -rf "$WORK/classes" && cp -r target/classes "$WORK/classes"
SRC=src/test/java/dev/jodo/kernel/memory/index
"$JAVA_HOME/bin/javac" -nowarn -d "$WORK/bench-classes" -cp "$WORK/classes:$(cat "$WORK/cp.txt")" \
  "$SRC/MemoryIndexBench.java" "$SRC/BenchData.java" "$SRC/SyntheticVectors.java" "$SRC/BenchReport.java"
CP="$WORK/bench-classes:$WORK/classes:$(cat "$WORK/cp.txt")"
JAVA_OPTS=(--add-modules jdk.incubator.vector -XX:+UseG1GC -Dbench.batch="$BATCH" -Dbench.qpsSeconds="$QPS_SECONDS")

RAW="$WORK/results.txt"
: >"$RAW"
STARTED="$(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; JDK $("$JAVA_BIN" -version 2>&1 | head -n1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in $SIZES; do
  for layout in $LAYOUTS; do
    DATA="$WORK/$size-$layout"
    rm -rf "$DATA" && mkdir -p "$DATA"
    echo "== $size vectors, $layout: build"
    "$JAVA_BIN" -Xmx"$BUILD_HEAP" "${JAVA_OPTS[@]}" -cp "$CP" dev.jodo.kernel.memory.index.MemoryIndexBench \
      build "$size" "$layout" "$DATA" | tee -a "$RAW"
    for state in merged compacted; do
      echo "== $size vectors, $layout: search the $state index (fresh JVM)"
      "$JAVA_BIN" -Xmx"$SEARCH_HEAP" "${JAVA_OPTS[@]}" -cp "$CP" dev.jodo.kernel.memory.index.MemoryIndexBench \
        search "$size" "$layout" "$DATA" "$state" | tee -a "$RAW"
    done
    echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DATA"
    [ "$size" -le "$COMPARE_UP_TO" ] || break
  done
done

{
  echo
  "$JAVA_BIN" -cp "$CP" dev.jodo.kernel.memory.index.BenchReport "$RAW"
  echo
  echo "Measured $STARTED on $(nproc) cores; batches of $BATCH changes per apply(); JDK $("$JAVA_BIN" -version 2>&1 | head -n1)."
} | tee "$WORK/table.md"
if [ -n "$OUT" ]; then
  { cat "$WORK/table.md"; echo; echo '```'; cat "$RAW"; echo '```'; } >"$OUT"
  echo "tables and raw lines written to $OUT"
fi
