package dev.jodo.kernel.runs;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * One run at a time per conversation, in arrival order, across every kernel on the database.
 *
 * <p>An accepted run is numbered under a per-conversation advisory lock ({@link #admit}), so when
 * its number is visible, every earlier run of the conversation is visible too. Its workflow then
 * {@linkplain #awaitTurn waits} until no earlier run is still unfinished: not marked finished (its
 * last step does that) and its workflow still queued or running. A number whose workflow never came
 * to be (the kernel died between the two writes) stops blocking after {@link #ORPHAN_AFTER}.
 *
 * <p>Waiting costs one query per change: a run finishing here wakes the waiters of its conversation
 * at once; a run on another kernel is polled for every {@link #REMOTE_POLL}.
 */
final class ConversationGate {
  /** Lock space of the numbering locks ("JodR"); the second key is the conversation's hash. */
  private static final int LOCK_SPACE = 0x4A6F6452;

  static final Duration ORPHAN_AFTER = Duration.ofSeconds(30);
  static final Duration REMOTE_POLL = Duration.ofMillis(100);

  /** A run here that failed is marked so by DBOS just after it returns; look again soon. */
  static final Duration LOCAL_RECHECK = Duration.ofMillis(500);

  private static final String ADMIT =
      """
      WITH numbering AS (SELECT pg_advisory_xact_lock(?, hashtext(?)))
      INSERT INTO conversation_runs (run_id, conversation_key, run_order)
      SELECT ?, ?, nextval('run_order') FROM numbering
      ON CONFLICT (run_id) DO NOTHING
      """;

  /**
   * The latest earlier run still in the way. A run found waiting for the first time is marked
   * queued, and a queued run whose turn comes is marked started; a run that never waits writes
   * nothing (an update of no rows commits nothing), which is most runs.
   */
  private static final String BLOCKER =
      """
      WITH blocker AS (
        SELECT earlier.run_id, w.executor_id
        FROM conversation_runs me
        JOIN conversation_runs earlier
          ON earlier.conversation_key = me.conversation_key
         AND earlier.run_order < me.run_order
         AND earlier.finished_at IS NULL
        LEFT JOIN dbos.workflow_status w ON w.workflow_uuid = earlier.run_id
        WHERE me.run_id = ?
          AND (w.status IN ('PENDING', 'ENQUEUED', 'DELAYED')
               OR (w.workflow_uuid IS NULL
                   AND earlier.created_at > now() - make_interval(secs => ?)))
        ORDER BY earlier.run_order DESC
        LIMIT 1),
      queued AS (
        UPDATE conversation_runs SET queued_at = now()
        WHERE run_id = ? AND queued_at IS NULL AND EXISTS (SELECT 1 FROM blocker)),
      started AS (
        UPDATE conversation_runs SET started_at = now()
        WHERE run_id = ? AND queued_at IS NOT NULL AND started_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM blocker))
      SELECT run_id, executor_id FROM blocker
      """;

  private static final String STARTED =
      """
      SELECT r.run_id, r.queued_at IS NOT NULL AND r.started_at IS NULL, r.started_at,
             r.finished_at,
             (SELECT e.finished_at FROM conversation_runs e
              WHERE e.conversation_key = r.conversation_key AND e.run_order < r.run_order
                AND e.finished_at IS NOT NULL
              ORDER BY e.run_order DESC LIMIT 1)
      FROM conversation_runs r WHERE r.run_id = ANY (?)
      """;

  private static final String FORGET = "DELETE FROM conversation_runs WHERE run_id = ?";

  /** The earlier run a run waits for, and whether it runs on this kernel. */
  record Blocker(String runId, boolean local) {}

  private final DataSource dataSource;
  private final String executorId;
  private final Map<String, Waiters> waiters = new ConcurrentHashMap<>();

  ConversationGate(DataSource dataSource, String executorId) {
    this.dataSource = dataSource;
    this.executorId = executorId;
  }

  /** Numbers a run in its conversation; the same run again changes nothing. */
  void admit(String runId, String conversationKey) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(ADMIT)) {
      ps.setInt(1, LOCK_SPACE);
      ps.setString(2, conversationKey);
      ps.setString(3, runId);
      ps.setString(4, conversationKey);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot number the run: " + e.getMessage(), e);
    }
  }

  /** Takes back a number whose workflow could not be started, so it blocks no one. */
  void forget(String runId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(FORGET)) {
      ps.setString(1, runId);
      ps.executeUpdate();
    } catch (SQLException e) {
      // The orphan stops blocking after ORPHAN_AFTER anyway.
    }
  }

  /**
   * A numbered run's turn. {@code queued}: it is waiting for it now. {@code startedAt}: when a run
   * that had to wait got its turn (a run that never waited got it when it started). {@code
   * finishedAt}: when the run marked itself finished (empty until then, and if it failed). {@code
   * previousFinishedAt}: when the conversation's latest earlier finished run finished (runs of a
   * conversation finish in order, so the latest of them all): a run that never waited passed the
   * gate after that, even if its workflow started a moment before.
   */
  record Turn(
      boolean queued,
      Optional<Instant> startedAt,
      Optional<Instant> finishedAt,
      Optional<Instant> previousFinishedAt) {}

  /** The turns of these runs; a run the gate never numbered is absent. */
  Map<String, Turn> turns(Collection<String> runIds) {
    Map<String, Turn> turns = new HashMap<>();
    if (runIds.isEmpty()) {
      return turns;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(STARTED)) {
      ps.setArray(1, c.createArrayOf("varchar", runIds.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          turns.put(
              rs.getString(1),
              new Turn(rs.getBoolean(2), instant(rs, 3), instant(rs, 4), instant(rs, 5)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the runs' turns: " + e.getMessage(), e);
    }
    return turns;
  }

  private static Optional<Instant> instant(ResultSet rs, int column) throws SQLException {
    return Optional.ofNullable(rs.getTimestamp(column)).map(Timestamp::toInstant);
  }

  /**
   * The earlier run of the conversation that {@code runId} must wait for, if any. Records a run
   * that waits as queued, and its start once it no longer waits.
   */
  Optional<Blocker> blocker(String runId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(BLOCKER)) {
      ps.setString(1, runId);
      ps.setLong(2, ORPHAN_AFTER.toSeconds());
      ps.setString(3, runId);
      ps.setString(4, runId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new Blocker(rs.getString(1), executorId.equals(rs.getString(2))));
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot see the conversation's earlier runs", e);
    }
  }

  /** Blocks until every earlier run of the conversation has finished. */
  void awaitTurn(String runId, String conversationKey) throws InterruptedException {
    Waiters here = waiters.compute(conversationKey, (k, w) -> w == null ? new Waiters() : w.join());
    try {
      while (true) {
        long seen = here.changes();
        Optional<Blocker> blocker = blocker(runId);
        if (blocker.isEmpty()) {
          return;
        }
        here.awaitChange(seen, blocker.get().local() ? LOCAL_RECHECK : REMOTE_POLL);
      }
    } finally {
      waiters.computeIfPresent(conversationKey, (k, w) -> w.leave() ? null : w);
    }
  }

  /** Marks the run finished for its conversation: from now on it blocks no one. */
  void markFinished(String runId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE conversation_runs SET finished_at = now()"
                    + " WHERE run_id = ? AND finished_at IS NULL")) {
      ps.setString(1, runId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot mark the run finished: " + e.getMessage(), e);
    }
  }

  /** A run of the conversation finished here: its waiters look again now. */
  void finished(String conversationKey) {
    Waiters here = waiters.get(conversationKey);
    if (here != null) {
      here.changed();
    }
  }

  /** The runs of one conversation waiting on this kernel, and a count of changes they can see. */
  private static final class Waiters {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition change = lock.newCondition();
    private long changes;
    private int count = 1; // changed only inside the map's compute, one at a time

    Waiters join() {
      count++;
      return this;
    }

    /** True when the last waiter left. */
    boolean leave() {
      return --count == 0;
    }

    long changes() {
      lock.lock();
      try {
        return changes;
      } finally {
        lock.unlock();
      }
    }

    void changed() {
      lock.lock();
      try {
        changes++;
        change.signalAll();
      } finally {
        lock.unlock();
      }
    }

    /** Waits until a change after {@code seen}, or the timeout. */
    void awaitChange(long seen, Duration timeout) throws InterruptedException {
      lock.lock();
      try {
        long nanos = timeout.toNanos();
        while (changes == seen && nanos > 0) {
          nanos = change.awaitNanos(nanos);
        }
      } finally {
        lock.unlock();
      }
    }
  }
}
