package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryChange;
import dev.jodo.kernel.memory.index.IndexSettings.VectorLayout;
import dev.jodo.kernel.memory.index.MemoryIndex.Hit;
import dev.jodo.kernel.memory.index.MemoryIndex.Mode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The memory index benchmark, run by {@code bench/memory/run.sh} in two JVMs per data set:
 *
 * <pre>
 * MemoryIndexBench build  SIZE LAYOUT DIR        vectors, exact neighbours, the index as merges
 *                                                leave it (DIR/merged) and compacted (DIR/index)
 * MemoryIndexBench search SIZE LAYOUT DIR STATE  one of them (merged|compacted) in a fresh JVM:
 *                                                recall, latency, QPS, memory
 * </pre>
 *
 * Each prints {@code result key=value ...} lines that run.sh collects and {@link BenchReport} turns
 * into tables.
 */
final class MemoryIndexBench {
  static final int TRUTH_QUERIES = 200;
  static final int LATENCY_QUERIES = 1_000;
  static final int WARMUP_QUERIES = 500;
  static final int BATCH = Integer.getInteger("bench.batch", 1_000);
  static final int QPS_SECONDS = Integer.getInteger("bench.qpsSeconds", 10);
  static final int[] CANDIDATES = {50, 100, 200};

  private final int size;
  private final IndexSettings base;
  private final Path dir;
  private final BenchData data;
  private final String label;

  private final Path searched;

  private MemoryIndexBench(int size, String layout, Path dir, String state) {
    this.size = size;
    this.base = settingsFor(layout);
    this.dir = dir;
    this.data = new BenchData(size);
    this.label = "size=" + size + " layout=" + layout + " state=" + state;
    this.searched = dir.resolve(state.equals("merged") ? "merged" : "index");
  }

  private static IndexSettings settingsFor(String layout) {
    return IndexSettings.DEFAULTS.withVectors(VectorLayout.valueOf(layout));
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4 || args[0].equals("search") != (args.length == 5)) {
      throw new IllegalArgumentException(
          "usage: build SIZE INT8|FLOAT32 DIR | search SIZE INT8|FLOAT32 DIR merged|compacted");
    }
    MemoryIndexBench bench =
        new MemoryIndexBench(
            Integer.parseInt(args[1]),
            args[2],
            Path.of(args[3]),
            args.length == 5 ? args[4] : "build");
    switch (args[0]) {
      case "build" -> bench.build();
      case "search" -> bench.search();
      default -> throw new IllegalArgumentException("unknown phase " + args[0]);
    }
  }

  private IndexSettings settings(int candidates) {
    return base.withMinCandidates(candidates);
  }

  private void build() throws Exception {
    long t0 = System.nanoTime();
    float[][] vectors = data.generate();
    double generated = seconds(t0);
    t0 = System.nanoTime();
    int[][][] truth = data.groundTruth(vectors, TRUTH_QUERIES);
    BenchData.writeTruth(dir.resolve("truth.bin"), truth);
    log("generated %d vectors in %.1f s, exact neighbours in %.1f s", size, generated, seconds(t0));
    double[] difficulty = data.difficulty(vectors, truth);
    result(
        "data",
        Map.of(
            "nn1_cos", fmt3(difficulty[0]),
            "nn10_cos", fmt3(difficulty[1]),
            "same_cluster", fmt3(difficulty[2])));

    Path indexDir = dir.resolve("index");
    long[] applyNanos = new long[(size + BATCH - 1) / BATCH];
    double built;
    double settled;
    int segmentsBefore;
    int segments;
    try (MemoryIndex index = MemoryIndex.open(indexDir, settings(100))) {
      t0 = System.nanoTime();
      int batch = 0;
      for (int start = 0; start < size; start += BATCH) {
        List<MemoryChange> changes = new ArrayList<>(BATCH);
        for (int i = start; i < Math.min(size, start + BATCH); i++) {
          changes.add(data.change(i + 1, i, vectors[i]));
        }
        long a = System.nanoTime();
        index.apply(changes);
        applyNanos[batch++] = System.nanoTime() - a;
        if (batch % 100 == 0) {
          log("applied %d of %d (%.0f s)", start + BATCH, size, seconds(t0));
        }
      }
      index.commit();
      built = seconds(t0);
      segmentsBefore = index.store().segmentCount();
      index.store().awaitMerges();
      settled = seconds(t0);
      segments = index.store().segmentCount();
    }
    double mergedMb = directoryBytes(indexDir) / 1048576.0;
    copyIndex(indexDir, dir.resolve("merged"));
    double compacted;
    try (MemoryIndex index = MemoryIndex.open(indexDir, settings(100))) {
      t0 = System.nanoTime();
      index.compact();
      index.commit();
      compacted = seconds(t0);
    }
    Arrays.sort(applyNanos);
    result(
        "build",
        Map.ofEntries(
            Map.entry("build_s", fmt(built)),
            Map.entry("merged_s", fmt(settled)),
            Map.entry("segments_at_commit", segmentsBefore),
            Map.entry("segments", segments),
            Map.entry("batch", BATCH),
            Map.entry("apply_batch_p50_ms", fmt(applyNanos[applyNanos.length / 2] / 1e6)),
            Map.entry("apply_batch_max_ms", fmt(applyNanos[applyNanos.length - 1] / 1e6)),
            Map.entry("merged_mb", fmt(mergedMb)),
            Map.entry("compact_s", fmt(compacted)),
            Map.entry("compacted_mb", fmt(directoryBytes(indexDir) / 1048576.0)),
            Map.entry("docs_per_s", fmt(size / built))));
  }

  private void search() throws Exception {
    int[][][] truth = BenchData.readTruth(dir.resolve("truth.bin"));
    Path indexDir = searched;
    long heapBefore = heapAfterGc(); // the query generator's own tables
    long t0 = System.nanoTime();
    MemoryIndex first = MemoryIndex.open(indexDir, settings(100));
    double openMs = (System.nanoTime() - t0) / 1e6;
    t0 = System.nanoTime();
    first.search(data.query(9_999_999, 0, 10, Mode.VECTOR));
    double firstQueryMs = (System.nanoTime() - t0) / 1e6;
    result(
        "open",
        Map.of(
            "open_ms", fmt(openMs),
            "first_query_ms", fmt(firstQueryMs),
            "segments", first.store().segmentCount()));
    first.close();

    for (int candidates : CANDIDATES) {
      try (MemoryIndex index = MemoryIndex.open(indexDir, settings(candidates))) {
        warmUp(index, 0, Mode.VECTOR);
        double recall = recall(index, truth, 0);
        long[] latency = latencies(index, 0, Mode.VECTOR);
        result(
            "vector",
            Map.of(
                "candidates", candidates,
                "recall", fmt3(recall),
                "p50_ms", fmt(pct(latency, 50)),
                "p99_ms", fmt(pct(latency, 99))));
      }
    }

    try (MemoryIndex index = MemoryIndex.open(indexDir, settings(100))) {
      warmUp(index, 0, Mode.VECTOR);
      result("qps", Map.of("clients", 2, "qps", fmt(qps(index, 2)), "candidates", 100));
      for (int filter = 1; filter < BenchData.FILTERS.size(); filter++) {
        warmUp(index, filter, Mode.VECTOR);
        double recall = recall(index, truth, filter);
        long[] latency = latencies(index, filter, Mode.VECTOR);
        result(
            "filtered",
            Map.of(
                "tag", BenchData.FILTERS.get(filter),
                "recall", fmt3(recall),
                "p50_ms", fmt(pct(latency, 50)),
                "p99_ms", fmt(pct(latency, 99))));
      }
      for (Mode mode : List.of(Mode.HYBRID, Mode.TEXT)) {
        warmUp(index, 0, mode);
        long[] latency = latencies(index, 0, mode);
        result(
            "mode",
            Map.of("mode", mode, "p50_ms", fmt(pct(latency, 50)), "p99_ms", fmt(pct(latency, 99))));
      }
      long heap = heapAfterGc() - heapBefore;
      Map<String, Long> rss = rssKb();
      result(
          "memory",
          Map.of(
              "heap_used_mb", fmt(heap / 1048576.0),
              "bench_heap_mb", fmt(heapBefore / 1048576.0),
              "rss_mb", fmt(rss.getOrDefault("VmRSS", 0L) / 1024.0),
              "rss_anon_mb", fmt(rss.getOrDefault("RssAnon", 0L) / 1024.0),
              "rss_file_mb", fmt(rss.getOrDefault("RssFile", 0L) / 1024.0)));

      long[] single = new long[200];
      long seq = index.watermark();
      for (int j = 0; j < single.length; j++) {
        long id = size + j;
        long a = System.nanoTime();
        index.apply(List.of(data.change(++seq, id, data.vectors.query(50_000 + j))));
        single[j] = System.nanoTime() - a;
      }
      Arrays.sort(single);
      t0 = System.nanoTime();
      index.commit();
      double commitMs = (System.nanoTime() - t0) / 1e6;
      result(
          "apply",
          Map.of(
              "one_change_p50_ms", fmt(pct(single, 50)),
              "one_change_p99_ms", fmt(pct(single, 99)),
              "commit_ms", fmt(commitMs)));
    }
  }

  private void warmUp(MemoryIndex index, int filter, Mode mode) {
    for (int q = 0; q < WARMUP_QUERIES; q++) {
      index.search(data.query(100_000 + q, filter, 10, mode));
    }
  }

  private double recall(MemoryIndex index, int[][][] truth, int filter) {
    long found = 0;
    long expected = 0;
    for (int q = 0; q < truth.length; q++) {
      Set<String> want = new HashSet<>();
      for (int id : truth[q][filter]) {
        want.add("mem_" + id);
      }
      for (Hit hit : index.search(data.query(q, filter, BenchData.K, Mode.VECTOR))) {
        if (want.contains(hit.id())) {
          found++;
        }
      }
      expected += want.size();
    }
    return (double) found / expected;
  }

  private long[] latencies(MemoryIndex index, int filter, Mode mode) {
    long[] nanos = new long[LATENCY_QUERIES];
    for (int q = 0; q < nanos.length; q++) {
      MemoryIndex.Query query = data.query(10_000 + q, filter, 10, mode);
      long a = System.nanoTime();
      index.search(query);
      nanos[q] = System.nanoTime() - a;
    }
    Arrays.sort(nanos);
    return nanos;
  }

  private double qps(MemoryIndex index, int clients) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    long q = 200_000L + client * 1_000_000L;
                    while (!stop.get()) {
                      index.search(data.query(q++ % 10_000 + 200_000, 0, 10, Mode.VECTOR));
                      done.incrementAndGet();
                    }
                  }));
    }
    long t0 = System.nanoTime();
    Thread.sleep(QPS_SECONDS * 1000L);
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    return done.get() / seconds(t0);
  }

  private void result(String kind, Map<String, ?> values) {
    StringBuilder line = new StringBuilder("result kind=").append(kind).append(' ').append(label);
    // Other work on this machine shows here: 2 means both cores were already busy.
    line.append(" load1=").append(loadAverage());
    new java.util.TreeMap<>(values)
        .forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    System.out.println(line);
  }

  private static void log(String format, Object... args) {
    System.err.printf("[bench] " + format + "%n", args);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  private static long heapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static Map<String, Long> rssKb() throws IOException {
    Map<String, Long> kb = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      String[] parts = line.split("\\s+");
      if (parts.length >= 2 && (parts[0].startsWith("Rss") || parts[0].equals("VmRSS:"))) {
        kb.put(parts[0].replace(":", ""), Long.parseLong(parts[1]));
      }
    }
    return kb;
  }

  private static void copyIndex(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().equals("write.lock")) {
          Files.copy(f, to.resolve(f.getFileName()));
        }
      }
    }
  }

  private static long directoryBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      long total = 0;
      for (Path f : files.toList()) {
        total += Files.size(f);
      }
      return total;
    }
  }

  private static double pct(long[] sortedNanos, int percentile) {
    int i = (int) Math.ceil(percentile / 100.0 * sortedNanos.length) - 1;
    return sortedNanos[Math.max(0, i)] / 1e6;
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.2f", v);
  }

  private static String fmt3(double v) {
    return String.format(java.util.Locale.ROOT, "%.3f", v);
  }
}
