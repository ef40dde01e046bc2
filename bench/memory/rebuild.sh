#!/usr/bin/env bash
# Memory index rebuild from Postgres (issue 4's target: 1M 384-dim memories in <= 15 minutes).
# A throwaway private PostgreSQL, started the way the kernel starts its own (PrivatePostgres under
# a temporary JODO_HOME, kernel migrations applied), is loaded with BENCH_N memories: the index
# benchmark's clustered unit vectors (bench/memory/run.sh's data set), short texts, tags, one
# namespace and model, kernel-shaped ids, each row's seq from memories_seq (binary COPY in
# transactions holding the feed lock), then VACUUM ANALYZE and CHECKPOINT. Load time is reported
# but is not part of the target. Then, in a fresh JVM started like the kernel (`./jodo up`: the
# incubator vector module, JODO_JAVA_OPTS, default heap), the kernel's own rebuild path runs from
# an empty index directory: MemoryIndex.open + IndexFollower catching up over
# MemoryStore.changesAfter (1,000 rows a page) and MemoryIndex.apply, until the index has the last
# seq. Prints progress every BENCH_PROGRESS rows, then: rows, seconds, rows/s, the time spent
# reading Postgres vs indexing, CPU of the JVM and of PostgreSQL, when merges settle, index size,
# and recall@10 of BENCH_QUERIES queries against brute force over the same vectors.
#
#   bench/memory/rebuild.sh                      # 1M: ~2 min to load, then the rebuild
#   BENCH_N=20000 bench/memory/rebuild.sh        # smoke run, ~25 s after compiling
#
# Environment (all optional):
#   BENCH_N=1000000          memories loaded and rebuilt
#   BENCH_QUERIES=100        recall@10 queries (brute force regenerates the vectors, no big heap)
#   BENCH_PROGRESS=100000    rows between progress lines (and rows per load transaction)
#   BENCH_LOAD_HEAP=1g       heap of the load JVM
#   JODO_JAVA_OPTS=          extra JVM options for the rebuild JVM, as ./jodo passes them to the
#                            kernel (default: none, so the JVM's default heap, 1/4 of RAM)
#   BENCH_DROP_CACHES=1      drop the OS page cache (root only; affects the whole machine) before
#                            the rebuild, so Postgres reads its table from disk
#   BENCH_OUT=FILE           also write the output to FILE
#   BENCH_WORK=DIR           where the cluster and index live (default: a fresh dir under /tmp);
#                            kept on exit, and a later run with the same BENCH_N reuses the
#                            loaded table (the index is always rebuilt from empty)
#
# The PostgreSQL cluster is stopped on exit, whatever happened; a default work directory is
# removed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

N="${BENCH_N:-1000000}"
QUERIES="${BENCH_QUERIES:-100}"
PROGRESS="${BENCH_PROGRESS:-100000}"
LOAD_HEAP="${BENCH_LOAD_HEAP:-1g}"
OUT="${BENCH_OUT:-}"

JAVA_HOME="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV | head -n1)}"
JAVA_HOME="${JAVA_HOME%/}"
export JAVA_HOME
JAVA_BIN="$JAVA_HOME/bin/java"
[ -x "$JAVA_BIN" ] && [ -x "$JAVA_HOME/bin/javac" ] || { echo "rebuild.sh: no JDK at $JAVA_HOME" >&2; exit 1; }

WORK="${BENCH_WORK:-$(mktemp -d /tmp/jodo-memory-rebuild-XXXXXX)}"
mkdir -p "$WORK"
# Run as root, the cluster belongs to the unprivileged jodo-postgres, which must reach it.
chmod 755 "$WORK"
HOME_DIR="$WORK/home"
mkdir -p "$HOME_DIR"
chmod 755 "$HOME_DIR"
CP=""
RAW="$WORK/output.txt"

cleanup() {
  # Stops the private PostgreSQL; only the benchmark's classes (CP set) can have started it.
  if [ -n "$CP" ]; then
    "$JAVA_BIN" -cp "$CP" dev.jodo.kernel.memory.MemoryRebuildBench stop "$HOME_DIR" || true
  fi
  if [ -n "$OUT" ] && [ -f "$RAW" ]; then cp "$RAW" "$OUT"; fi
  [ -n "${BENCH_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Compile the kernel, then snapshot its classes so that a rebuild in this checkout cannot swap
# them under a running benchmark; the benchmark sources (test tree) are compiled on their own.
./mvnw -q compile -Dspotless.check.skip=true -Djacoco.skip=true
./mvnw -q dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
rm -rf "$WORK/classes" "$WORK/bench-classes" && cp -r target/classes "$WORK/classes"
SRC=src/test/java/dev/jodo/kernel/memory
"$JAVA_HOME/bin/javac" -nowarn -d "$WORK/bench-classes" -cp "$WORK/classes:$(cat "$WORK/cp.txt")" \
  "$SRC/MemoryRebuildBench.java" "$SRC/index/RebuildBenchSupport.java" \
  "$SRC/index/BenchData.java" "$SRC/index/SyntheticVectors.java"
CP="$WORK/bench-classes:$WORK/classes:$(cat "$WORK/cp.txt")"
PROPS=(-Dbench.progress="$PROGRESS" -Dbench.clkTck="$(getconf CLK_TCK)")
MAIN=dev.jodo.kernel.memory.MemoryRebuildBench

: >"$RAW"
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; JDK $("$JAVA_BIN" -version 2>&1 | head -n1)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "== load $N memories into a private PostgreSQL under $HOME_DIR"
} | tee -a "$RAW"
"$JAVA_BIN" -Xmx"$LOAD_HEAP" "${PROPS[@]}" -cp "$CP" "$MAIN" load "$HOME_DIR" "$N" 2>&1 | tee -a "$RAW"

rm -rf "$HOME_DIR/index"
if [ "${BENCH_DROP_CACHES:-0}" = 1 ]; then
  sync && echo 3 >/proc/sys/vm/drop_caches && echo "dropped the page cache" | tee -a "$RAW"
fi
echo "== rebuild the index from Postgres (fresh JVM, as ./jodo up starts the kernel)" | tee -a "$RAW"
# shellcheck disable=SC2086 # JODO_JAVA_OPTS is a list of options, split as ./jodo splits it
"$JAVA_BIN" --add-modules jdk.incubator.vector ${JODO_JAVA_OPTS:-} "${PROPS[@]}" -cp "$CP" "$MAIN" \
  rebuild "$HOME_DIR" "$N" "$QUERIES" 2>&1 | tee -a "$RAW"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RAW"
