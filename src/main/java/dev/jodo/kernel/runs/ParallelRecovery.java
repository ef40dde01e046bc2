package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.execution.DBOSExecutor;
import dev.dbos.transact.execution.DBOSLifecycleListener;
import dev.jodo.kernel.platform.Throwables;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumes the runs a crash interrupted several at a time. DBOS's own recovery at launch resumes
 * them one after another on one thread (two statements each), which on a busy two-core machine left
 * the last of 1,000 interrupted runs waiting seconds for its turn to be resumed.
 *
 * <p>When DBOS has launched, but before it looks for interrupted work, this claims this kernel's
 * interrupted direct workflows in one statement and resumes them on {@value #THREADS} threads
 * through DBOS's own {@code executeWorkflowById}, as a recovery: the recovery attempt is counted,
 * completed steps are replayed from their checkpoints and never run again.
 *
 * <p>A claimed run's application version becomes {@code <version>/recovered}. DBOS looks for the
 * interrupted runs of its executor id <em>and</em> application version, and resuming a run stamps
 * the executor id but never the version, so DBOS's own pass (which may look only after this pass
 * has resumed some runs) never finds a claimed run, however the two interleave. The mark stays on
 * the run; the next start claims runs with either version, so a crash during or after this pass
 * loses nothing. Runs on a DBOS queue (an older build's) are left to DBOS.
 *
 * <p>{@code executeWorkflowById} is public on DBOS's executor but the executor is reached through a
 * package-private accessor, once at launch, by reflection; if a DBOS upgrade removes it, this pass
 * claims nothing, hands marked runs back to DBOS, and DBOS's own recovery does all the work.
 */
final class ParallelRecovery implements DBOSLifecycleListener {
  private static final Logger log = LoggerFactory.getLogger(ParallelRecovery.class);
  static final int THREADS = 4;

  /**
   * This kernel's interrupted direct workflows (executor id, then the version and its claimed
   * mark): what a pass claims, and what {@link #anyInterrupted} looks for before DBOS launches.
   */
  private static final String INTERRUPTED =
      "status = 'PENDING' AND executor_id = ? AND application_version IN (?, ?)"
          + " AND queue_name IS NULL";

  private static final String CLAIM =
      "UPDATE dbos.workflow_status SET application_version = ? WHERE "
          + INTERRUPTED
          + " RETURNING workflow_uuid, created_at";

  private static final String ANY_INTERRUPTED =
      "SELECT EXISTS (SELECT 1 FROM dbos.workflow_status WHERE " + INTERRUPTED + ")";

  private static final String HAND_BACK =
      """
      UPDATE dbos.workflow_status SET application_version = ?
      WHERE status = 'PENDING' AND executor_id = ? AND application_version = ?
      """;

  private final DataSource dataSource;
  private final String executorId;
  private final String appVersion;
  private volatile ExecutorService workers;
  private final CompletableFuture<Void> ended = new CompletableFuture<>();

  ParallelRecovery(DataSource dataSource, String executorId, String appVersion) {
    this.dataSource = dataSource;
    this.executorId = executorId;
    this.appVersion = appVersion;
  }

  /** The application version of a run this pass has claimed. */
  static String claimedVersion(String appVersion) {
    return appVersion + "/recovered";
  }

  /**
   * Whether a start of this executor will have interrupted runs to resume: one query, answerable
   * before DBOS launches (false when DBOS's schema does not exist yet).
   */
  static boolean anyInterrupted(DataSource dataSource, String executorId, String appVersion)
      throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(ANY_INTERRUPTED)) {
      ps.setString(1, executorId);
      ps.setString(2, appVersion);
      ps.setString(3, claimedVersion(appVersion));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) {
        return false; // no dbos.workflow_status yet: DBOS has never run on this database
      }
      throw e;
    }
  }

  /**
   * Completes when this pass has handed every run it claimed to DBOS (they may still be running),
   * at once when it claimed none.
   */
  CompletionStage<Void> ended() {
    return ended.copy();
  }

  @Override
  public void dbosLaunched(DBOS dbos) {
    DBOSExecutor executor;
    try {
      Method accessor = DBOS.class.getDeclaredMethod("getDbosExecutor");
      accessor.setAccessible(true);
      executor = (DBOSExecutor) accessor.invoke(dbos);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn(
          "parallel recovery unavailable ({}); DBOS resumes interrupted runs one by one",
          e.toString());
      handBack();
      ended.complete(null);
      return;
    }
    List<String> claimed;
    try {
      claimed = claim();
    } catch (SQLException e) {
      log.warn("cannot claim interrupted runs ({}); DBOS resumes them one by one", e.getMessage());
      ended.complete(null);
      return;
    }
    if (claimed.isEmpty()) {
      ended.complete(null);
      return;
    }
    log.info("resuming {} interrupted run(s) on {} threads", claimed.size(), THREADS);
    long start = System.nanoTime();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger left = new AtomicInteger(THREADS);
    workers =
        Executors.newFixedThreadPool(
            THREADS, Thread.ofPlatform().name("jodo-recovery-", 1).daemon(true).factory());
    for (int t = 0; t < THREADS; t++) {
      workers.execute(
          () -> {
            try {
              for (int i = next.getAndIncrement();
                  i < claimed.size() && !Thread.currentThread().isInterrupted();
                  i = next.getAndIncrement()) {
                resume(executor, claimed.get(i));
              }
            } finally {
              if (left.decrementAndGet() == 0) {
                log.info(
                    "resumed {} interrupted run(s) in {} ms",
                    claimed.size(),
                    (System.nanoTime() - start) / 1_000_000);
                workers.shutdown();
                ended.complete(null);
              }
            }
          });
    }
  }

  @Override
  public void dbosShutDown() {
    ExecutorService running = workers;
    if (running != null) {
      running.shutdownNow();
    }
    ended.complete(null);
  }

  /** Gives runs an earlier pass had claimed back to DBOS's own recovery (it looks after this). */
  private void handBack() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(HAND_BACK)) {
      ps.setString(1, appVersion);
      ps.setString(2, executorId);
      ps.setString(3, claimedVersion(appVersion));
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("cannot hand claimed runs back to DBOS's recovery: {}", e.getMessage());
    }
  }

  /** This kernel's interrupted direct workflows, oldest first, now claimed for this pass. */
  private List<String> claim() throws SQLException {
    record Claimed(String id, long createdAt) {}
    List<Claimed> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(CLAIM)) {
      ps.setString(1, claimedVersion(appVersion));
      ps.setString(2, executorId);
      ps.setString(3, appVersion);
      ps.setString(4, claimedVersion(appVersion));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Claimed(rs.getString(1), rs.getLong(2)));
        }
      }
    }
    rows.sort((a, b) -> Long.compare(a.createdAt(), b.createdAt()));
    return rows.stream().map(Claimed::id).toList();
  }

  private static void resume(DBOSExecutor executor, String workflowId) {
    try {
      executor.executeWorkflowById(workflowId, true, false);
    } catch (RuntimeException e) {
      // Too many recovery attempts (DBOS has marked the run failed), or the database went away:
      // a run still claimed is resumed at the next start.
      Throwable root = Throwables.root(e);
      log.warn(
          "run {} not resumed: {}: {}",
          workflowId,
          root.getClass().getSimpleName(),
          root.getMessage());
    }
  }
}
