package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.execution.DBOSExecutor;
import dev.dbos.transact.execution.DBOSLifecycleListener;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
 * interrupted direct workflows in one statement (their executor id becomes {@code <id>:recovering},
 * so DBOS's serial pass does not find them) and resumes them on {@value #THREADS} threads through
 * DBOS's own {@code executeWorkflowById}, as a recovery: the recovery attempt is counted, completed
 * steps are replayed from their checkpoints and never run again, and each resumed run is stamped
 * with this kernel's executor id again. A crash during this pass leaves the rest claimed; the next
 * start claims those too. Runs on a DBOS queue (an older build's) are left to DBOS.
 *
 * <p>{@code executeWorkflowById} is public on DBOS's executor but the executor is reached through a
 * package-private accessor, once at launch, by reflection; if a DBOS upgrade removes it, this pass
 * claims nothing (and hands back what an interrupted pass had claimed) and DBOS's own recovery does
 * all the work, as before.
 */
final class ParallelRecovery implements DBOSLifecycleListener {
  private static final Logger log = LoggerFactory.getLogger(ParallelRecovery.class);
  static final int THREADS = 4;

  private static final String CLAIM =
      """
      UPDATE dbos.workflow_status SET executor_id = ?
      WHERE status = 'PENDING' AND executor_id IN (?, ?) AND application_version = ?
        AND queue_name IS NULL
      RETURNING workflow_uuid, created_at
      """;

  private static final String HAND_BACK =
      "UPDATE dbos.workflow_status SET executor_id = ? WHERE executor_id = ? AND status = 'PENDING'";

  private final DataSource dataSource;
  private final String executorId;
  private final String appVersion;
  private volatile ExecutorService workers;

  ParallelRecovery(DataSource dataSource, String executorId, String appVersion) {
    this.dataSource = dataSource;
    this.executorId = executorId;
    this.appVersion = appVersion;
  }

  static String claimId(String executorId) {
    return executorId + ":recovering";
  }

  @Override
  public void dbosLaunched(DBOS dbos) {
    DBOSExecutor executor;
    try {
      Method accessor = DBOS.class.getDeclaredMethod("getDbosExecutor");
      accessor.setAccessible(true);
      executor = (DBOSExecutor) accessor.invoke(dbos);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("parallel recovery unavailable ({}); DBOS resumes interrupted runs one by one", e);
      handBack();
      return;
    }
    List<String> claimed;
    try {
      claimed = claim();
    } catch (SQLException e) {
      log.warn("cannot claim interrupted runs ({}); DBOS resumes them one by one", e.getMessage());
      return;
    }
    if (claimed.isEmpty()) {
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
            for (int i = next.getAndIncrement(); i < claimed.size(); i = next.getAndIncrement()) {
              if (Thread.currentThread().isInterrupted()) {
                return;
              }
              resume(executor, claimed.get(i));
            }
            if (left.decrementAndGet() == 0) {
              log.info(
                  "resumed {} interrupted run(s) in {} ms",
                  claimed.size(),
                  (System.nanoTime() - start) / 1_000_000);
              workers.shutdown();
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
  }

  /**
   * Gives runs an interrupted pass had claimed back to this kernel's executor id, for DBOS's own
   * recovery to find (it looks after this listener returns).
   */
  private void handBack() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(HAND_BACK)) {
      ps.setString(1, executorId);
      ps.setString(2, claimId(executorId));
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
      ps.setString(1, claimId(executorId));
      ps.setString(2, executorId);
      ps.setString(3, claimId(executorId));
      ps.setString(4, appVersion);
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
      log.warn("run {} not resumed: {}", workflowId, rootMessage(e));
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }
}
