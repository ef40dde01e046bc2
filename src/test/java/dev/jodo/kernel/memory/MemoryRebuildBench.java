package dev.jodo.kernel.memory;

import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.memory.index.RebuildBenchSupport;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.platform.db.PrivatePostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Rebuilding the memory index from Postgres, run by {@code bench/memory/rebuild.sh} in one JVM per
 * phase against a private PostgreSQL under HOME (started the way the kernel starts its own):
 *
 * <pre>
 * MemoryRebuildBench load    HOME N          N memories into the kernel's memories table (binary
 *                                            COPY, seq from memories_seq), then VACUUM ANALYZE
 * MemoryRebuildBench rebuild HOME N QUERIES  HOME/index from empty to the last seq through the
 *                                            kernel's own IndexFollower, then recall@10
 * MemoryRebuildBench stop    HOME            stops the private PostgreSQL
 * </pre>
 *
 * The memories are the index benchmark's ({@code BenchData}: 1,000 clustered 384-dimension unit
 * vectors, short texts, tags p1/p10/p50) with ids shaped like the kernel's ({@code mem_} and 16 hex
 * digits). The rebuild phase does what the kernel does on its first start with an empty {@code
 * JODO_HOME/index} (and, after {@code index.clear()}, on {@code jodo memory reindex --rebuild}):
 * {@code MemoryIndex.open} and an {@link IndexFollower} over a {@link MemoryStore}, which pages
 * through {@code changesAfter} 1,000 at a time and applies each page. The only addition is a
 * DataSource wrapper that times each of the follower's connections from borrow to close, i.e. the
 * query, the transfer and the parsing of the rows into records: the time spent reading Postgres.
 */
final class MemoryRebuildBench {
  private static final int POOL = 10; // the kernel's default database.max_pool_size
  private static final String FOLLOWER_THREAD = "jodo-memory-index";
  private static final long PROGRESS = Long.getLong("bench.progress", 100_000);
  private static final int BLOCK = 1_000; // rows encoded per generator task
  private static final Duration STALL = Duration.ofMinutes(5);
  // MemoryStore's feed lock ("jodomem"), taken around each load transaction as the kernel does.
  private static final long FEED_LOCK = 0x6a6f646f6d656dL;
  private static final String SOURCE = "bench";
  private static final String COPY_SQL =
      "COPY memories (id, namespace, content, tags, source, created_at, embedding_model,"
          + " embedding, embedding_dims) FROM STDIN (FORMAT binary)";
  private static final byte[] COPY_HEADER = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
  };
  private static final byte[] COPY_TRAILER = {(byte) 0xFF, (byte) 0xFF};
  private static final int TEXT_OID = 25;
  private static final int FLOAT4_OID = 700;
  private static final long POSTGRES_EPOCH = 946_684_800L; // 2000-01-01T00:00:00Z

  private MemoryRebuildBench() {}

  public static void main(String[] args) throws Exception {
    String usage = "usage: load HOME N | rebuild HOME N QUERIES | stop HOME";
    if (args.length < 2) {
      throw new IllegalArgumentException(usage);
    }
    Path home = Path.of(args[1]);
    switch (args[0]) {
      case "load" -> load(home, Long.parseLong(args[2]));
      case "rebuild" -> rebuild(home, Long.parseLong(args[2]), Integer.parseInt(args[3]));
      case "stop" -> PrivatePostgres.stopIfRunning(home, line -> log("postgres: %s", line));
      default -> throw new IllegalArgumentException(usage);
    }
  }

  /** The id of memory {@code i}: like the kernel's ({@code mem_} + 8 random bytes), but fixed. */
  static String id(long i) {
    return "mem_" + HexFormat.of().toHexDigits(mix(i + 0x9E3779B97F4A7C15L));
  }

  // ---------------------------------------------------------------------------------------- load

  private static void load(Path home, long n) throws Exception {
    try (Session session = Session.open(home)) {
      long[] before = feed(session.db.dataSource());
      if (before[0] == n && n > 0 && lastId(session.db.dataSource()).equals(id(n - 1))) {
        log("reusing the %,d memories already in %s (seq %d..%d)", n, home, before[1], before[2]);
        return;
      }
      if (before[0] != 0) {
        throw new IllegalStateException(
            "memories holds %,d rows, not 0 or %,d from an earlier load; use a fresh BENCH_WORK"
                .formatted(before[0], n));
      }
      RebuildBenchSupport data = new RebuildBenchSupport((int) n);
      long chunk = Math.max(BLOCK, (PROGRESS + BLOCK - 1) / BLOCK * BLOCK);
      long t0 = System.nanoTime();
      ArrayDeque<Future<ByteBuffer>> pending = new ArrayDeque<>();
      long submitted = 0;
      try (ExecutorService generators = Executors.newFixedThreadPool(2);
          Connection c = session.db.dataSource().getConnection()) {
        c.setAutoCommit(false);
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        for (long start = 0; start < n; start += chunk) {
          long end = Math.min(n, start + chunk);
          try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            lock.setLong(1, FEED_LOCK);
            lock.execute();
          }
          CopyIn in = copy.copyIn(COPY_SQL);
          try {
            in.writeToCopy(COPY_HEADER, 0, COPY_HEADER.length);
            for (long block = start; block < end; block += BLOCK) {
              while (pending.size() < 8 && submitted < n) {
                long from = submitted;
                long to = Math.min(n, from + BLOCK);
                pending.add(generators.submit(() -> encode(data, from, to)));
                submitted = to;
              }
              ByteBuffer rows = pending.removeFirst().get();
              in.writeToCopy(rows.array(), 0, rows.position());
            }
            in.writeToCopy(COPY_TRAILER, 0, COPY_TRAILER.length);
            in.endCopy();
          } finally {
            if (in.isActive()) {
              in.cancelCopy();
            }
          }
          c.commit();
          double s = seconds(t0);
          log("[load] %,d of %,d rows in %.1f s: %,.0f rows/s", end, n, s, end / s);
        }
        c.setAutoCommit(true);
      }
      double loaded = seconds(t0);
      long t1 = System.nanoTime();
      try (Connection c = session.db.dataSource().getConnection();
          Statement st = c.createStatement()) {
        // What autovacuum would have done long before a real table reached this size; left to
        // autovacuum, it would run during the rebuild and compete with it.
        st.execute("VACUUM (ANALYZE) memories");
        st.execute("CHECKPOINT");
      }
      double settled = seconds(t1);
      long[] after = feed(session.db.dataSource());
      long tableBytes;
      try (Connection c = session.db.dataSource().getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT pg_total_relation_size('memories')")) {
        rs.next();
        tableBytes = rs.getLong(1);
      }
      if (after[0] != n || after[2] - after[1] + 1 != n) {
        throw new IllegalStateException(
            "loaded %d rows with seq %d..%d, expected %d contiguous"
                .formatted(after[0], after[1], after[2], n));
      }
      log(
          "loaded %,d memories in %.1f s (%,.0f rows/s), VACUUM ANALYZE + CHECKPOINT %.1f s;"
              + " seq %d..%d; table with indexes and TOAST %.0f MB",
          n, loaded, n / loaded, settled, after[1], after[2], tableBytes / 1048576.0);
      result(
          "load",
          Map.of(
              "rows", n,
              "load_s", fmt(loaded),
              "rows_per_s", fmt0(n / loaded),
              "vacuum_checkpoint_s", fmt(settled),
              "table_mb", fmt0(tableBytes / 1048576.0)));
    }
  }

  /** Rows {@code from..to-1} in PostgreSQL's binary COPY format (no header or trailer). */
  private static ByteBuffer encode(RebuildBenchSupport data, long from, long to) {
    ByteBuffer out = ByteBuffer.allocate((int) (to - from) * (RebuildBenchSupport.DIM * 8 + 1024));
    byte[] namespace = utf8(RebuildBenchSupport.NAMESPACE);
    byte[] source = utf8(SOURCE);
    byte[] model = utf8(RebuildBenchSupport.MODEL);
    for (long i = from; i < to; i++) {
      out.putShort((short) 9);
      text(out, utf8(id(i)));
      text(out, namespace);
      text(out, utf8(data.content(i)));
      List<String> tags = RebuildBenchSupport.tags(i);
      if (tags.isEmpty()) {
        out.putInt(12).putInt(0).putInt(0).putInt(TEXT_OID);
      } else {
        byte[][] values = tags.stream().map(MemoryRebuildBench::utf8).toArray(byte[][]::new);
        int length = 20;
        for (byte[] value : values) {
          length += 4 + value.length;
        }
        out.putInt(length).putInt(1).putInt(0).putInt(TEXT_OID).putInt(values.length).putInt(1);
        for (byte[] value : values) {
          text(out, value);
        }
      }
      text(out, source);
      Instant at = RebuildBenchSupport.createdAt(i);
      out.putInt(8)
          .putLong((at.getEpochSecond() - POSTGRES_EPOCH) * 1_000_000L + at.getNano() / 1000);
      text(out, model);
      float[] vector = data.vector(i);
      out.putInt(20 + 8 * vector.length).putInt(1).putInt(0).putInt(FLOAT4_OID);
      out.putInt(vector.length).putInt(1);
      for (float value : vector) {
        out.putInt(4).putFloat(value);
      }
      out.putInt(4).putInt(vector.length);
    }
    return out;
  }

  private static void text(ByteBuffer out, byte[] value) {
    out.putInt(value.length).put(value);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------------------------- rebuild

  private static void rebuild(Path home, long n, int queries) throws Exception {
    try (Session session = Session.open(home)) {
      TimedDataSource timed = new TimedDataSource(session.db.dataSource(), FOLLOWER_THREAD);
      MemoryStore store = new MemoryStore(timed);
      long[] feed = feed(session.db.dataSource());
      if (feed[0] != n) {
        throw new IllegalStateException(
            "memories holds %,d rows, expected %,d: run the load phase".formatted(feed[0], n));
      }
      long first = feed[1];
      long last = store.lastSeq();
      Path indexDir = home.resolve("index");
      if (Files.isDirectory(indexDir)) {
        try (Stream<Path> files = Files.list(indexDir)) {
          if (files.findAny().isPresent()) {
            throw new IllegalStateException(indexDir + " is not empty; delete it first");
          }
        }
      }
      log(
          "rebuilding %s from %,d memories (seq %d..%d); max heap %,d MB",
          indexDir, n, first, last, Runtime.getRuntime().maxMemory() / 1048576);

      long postgresCpu0 = postgresCpuNanos(home);
      long cpu0 = jvmCpuNanos();
      long t0 = System.nanoTime();
      // What MemoryModule does on start: open the index, then follow the feed from its watermark
      // (0 for an empty directory), 1,000 changes per page, committing every 5 s.
      MemoryIndex index = MemoryIndex.open(indexDir);
      IndexFollower follower = new IndexFollower(store, index);
      boolean followerClosed = false;
      try {
        long mark = Math.min(last, first - 1 + PROGRESS);
        long seen = follower.appliedSeq();
        long seenAt = System.nanoTime();
        double previousSeconds = 0;
        long previousRows = 0;
        while (true) {
          if (follower.awaitApplied(mark, Duration.ofSeconds(5))) {
            long applied = follower.appliedSeq();
            long rows = applied - first + 1;
            double s = seconds(t0);
            double read = timed.nanos.sum() / 1e9;
            log(
                "[rebuild] %,d of %,d rows in %.1f s: %,.0f rows/s (last %,d: %,.0f rows/s);"
                    + " reading Postgres %.1f s, indexing %.1f s; heap %,d MB",
                rows,
                n,
                s,
                rows / s,
                rows - previousRows,
                (rows - previousRows) / (s - previousSeconds),
                read,
                s - read,
                usedHeapMb());
            previousSeconds = s;
            previousRows = rows;
            if (applied >= last) {
              break;
            }
            while (mark <= applied) {
              mark += PROGRESS;
            }
            mark = Math.min(last, mark);
          } else {
            long applied = follower.appliedSeq();
            if (applied != seen) {
              seen = applied;
              seenAt = System.nanoTime();
            } else if (System.nanoTime() - seenAt > STALL.toNanos()) {
              throw new IllegalStateException(
                  "the index follower made no progress for %d min at seq %d (see its warnings)"
                      .formatted(STALL.toMinutes(), applied));
            }
          }
        }
        double caughtUp = seconds(t0);
        double read = timed.nanos.sum() / 1e9;
        long reads = timed.connections.sum();
        double cpu = (jvmCpuNanos() - cpu0) / 1e9;
        double postgresCpu = (postgresCpuNanos(home) - postgresCpu0) / 1e9;
        int segmentsAtCatchUp = RebuildBenchSupport.segmentCount(index);

        follower.close(); // as on the kernel's shutdown: stop following, commit
        followerClosed = true;
        double committed = seconds(t0);
        RebuildBenchSupport.awaitMerges(index);
        index.commit();
        double settled = seconds(t0);
        int segments = RebuildBenchSupport.segmentCount(index);
        long live = index.liveCount(RebuildBenchSupport.NAMESPACE);

        long t1 = System.nanoTime();
        RebuildBenchSupport data = new RebuildBenchSupport((int) n);
        int[][] truth = data.groundTruth(queries);
        double truthSeconds = seconds(t1);
        long found = 0;
        long expected = 0;
        for (int q = 0; q < queries; q++) {
          Set<String> want = new HashSet<>();
          for (int i : truth[q]) {
            want.add(id(i));
          }
          for (MemoryIndex.Hit hit : index.search(data.query(q))) {
            found += want.contains(hit.id()) ? 1 : 0;
          }
          expected += want.size();
        }
        double recall = (double) found / expected;
        index.close();
        double indexMb = directoryBytes(indexDir) / 1048576.0;

        log("");
        log("rebuild of %,d memories from Postgres into an empty index:", n);
        log(
            "  caught up (all searchable)  %8.1f s  %,.0f rows/s  (target <= 900 s: %s)",
            caughtUp, n / caughtUp, caughtUp <= 900 ? "met" : "missed");
        log(
            "    reading Postgres          %8.1f s  %2.0f%%  (%,d reads: query, transfer, parse)",
            read, 100 * read / caughtUp, reads);
        log(
            "    indexing                  %8.1f s  %2.0f%%  (apply, refresh, 5-s commits)",
            caughtUp - read, 100 * (caughtUp - read) / caughtUp);
        log("  committed (follower closed) %8.1f s", committed);
        log(
            "  merges settled              %8.1f s  (segments %d at catch-up, %d after)",
            settled, segmentsAtCatchUp, segments);
        log(
            "  CPU until caught up: kernel JVM %.0f s, PostgreSQL %.0f s (%.2f of %d cores busy)",
            cpu,
            postgresCpu,
            (cpu + postgresCpu) / caughtUp,
            Runtime.getRuntime().availableProcessors());
        log(
            "  index on disk %.0f MB; live memories %,d of %,d; recall@10 %.3f over %d queries"
                + " (brute force %.1f s)",
            indexMb, live, n, recall, queries, truthSeconds);
        result(
            "rebuild",
            Map.ofEntries(
                Map.entry("rows", n),
                Map.entry("caught_up_s", fmt(caughtUp)),
                Map.entry("rows_per_s", fmt0(n / caughtUp)),
                Map.entry("read_s", fmt(read)),
                Map.entry("index_s", fmt(caughtUp - read)),
                Map.entry("reads", reads),
                Map.entry("committed_s", fmt(committed)),
                Map.entry("merges_settled_s", fmt(settled)),
                Map.entry("segments_at_catch_up", segmentsAtCatchUp),
                Map.entry("segments", segments),
                Map.entry("jvm_cpu_s", fmt(cpu)),
                Map.entry("postgres_cpu_s", fmt(postgresCpu)),
                Map.entry("index_mb", fmt(indexMb)),
                Map.entry("live", live),
                Map.entry("recall_at_10", String.format(Locale.ROOT, "%.3f", recall)),
                Map.entry("queries", queries)));
        if (live != n) {
          throw new IllegalStateException("the index holds " + live + " memories, not " + n);
        }
      } finally {
        if (!followerClosed) {
          follower.close();
        }
        index.close(); // harmless when already closed
      }
    }
  }

  // ------------------------------------------------------------------------------------- helpers

  /** The private cluster (started as the kernel starts it, or found running) and a pool on it. */
  private static final class Session implements AutoCloseable {
    final Database db;

    private Session(Database db) {
      this.db = db;
    }

    static Session open(Path home) {
      PrivatePostgres postgres =
          PrivatePostgres.start(
              home, new DatabaseTarget.Private(POOL), line -> log("postgres: %s", line));
      Database db = Database.open(postgres.target(), null, "bench");
      db.migrate(Database.KERNEL_MIGRATIONS);
      return new Session(db);
    }

    /** Closes the pool; the server keeps running for the next phase (the stop phase ends it). */
    @Override
    public void close() {
      db.close();
    }
  }

  /**
   * Times each connection the follower thread borrows, from borrow to close. The follower opens one
   * per {@code changesAfter} page (and one for {@code lastSeq}) and builds the page's records
   * before closing it, so the sum is its time spent reading Postgres.
   */
  private static final class TimedDataSource implements DataSource {
    private final DataSource delegate;
    private final String thread;
    final LongAdder nanos = new LongAdder();
    final LongAdder connections = new LongAdder();

    TimedDataSource(DataSource delegate, String thread) {
      this.delegate = delegate;
      this.thread = thread;
    }

    @Override
    public Connection getConnection() throws SQLException {
      long start = System.nanoTime();
      return timed(delegate.getConnection(), start);
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      long start = System.nanoTime();
      return timed(delegate.getConnection(user, password), start);
    }

    private Connection timed(Connection connection, long start) {
      if (!Thread.currentThread().getName().equals(thread)) {
        return connection;
      }
      AtomicBoolean closed = new AtomicBoolean();
      return (Connection)
          Proxy.newProxyInstance(
              MemoryRebuildBench.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                try {
                  return method.invoke(connection, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                } finally {
                  if (method.getName().equals("close") && closed.compareAndSet(false, true)) {
                    nanos.add(System.nanoTime() - start);
                    connections.increment();
                  }
                }
              });
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
      return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
      delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
      delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
      return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      return delegate.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type) throws SQLException {
      return delegate.isWrapperFor(type);
    }
  }

  /** count(*), min(seq), max(seq) of memories. */
  private static long[] feed(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM memories")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
    }
  }

  private static String lastId(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id FROM memories ORDER BY seq DESC LIMIT 1")) {
      return rs.next() ? rs.getString(1) : "";
    }
  }

  private static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * CPU time (user + system) of the private cluster's postmaster and its live children (backends,
   * checkpointer, WAL writer, …) from /proc; 0 where /proc cannot tell.
   */
  private static long postgresCpuNanos(Path home) {
    Path pidFile = PrivatePostgres.dataRoot(home).resolve("data").resolve("postmaster.pid");
    long ticksPerSecond = Long.getLong("bench.clkTck", 100);
    try {
      String postmaster = Files.readAllLines(pidFile).get(0).strip();
      long ticks = 0;
      try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
        for (Path process : processes.toList()) {
          if (!process.getFileName().toString().chars().allMatch(Character::isDigit)) {
            continue;
          }
          String stat;
          try {
            stat = Files.readString(process.resolve("stat"));
          } catch (IOException gone) {
            continue;
          }
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          if (process.getFileName().toString().equals(postmaster) || fields[1].equals(postmaster)) {
            ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
          }
        }
      }
      return ticks * 1_000_000_000L / ticksPerSecond;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static long usedHeapMb() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576;
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

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static void result(String kind, Map<String, ?> values) {
    StringBuilder line = new StringBuilder("result kind=").append(kind);
    line.append(" load1=").append(loadAverage());
    new TreeMap<>(values).forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
    System.out.println(line);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  private static void log(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String fmt0(double v) {
    return String.format(Locale.ROOT, "%.0f", v);
  }
}
