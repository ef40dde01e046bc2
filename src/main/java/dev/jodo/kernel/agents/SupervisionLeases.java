package dev.jodo.kernel.agents;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which of the kernels sharing a database supervises each agent: the one holding the
 * agent's Postgres advisory lock, taken with {@code pg_try_advisory_lock} on a connection of this
 * kernel's own. Every {@code interval} each kernel tries for the agents it does not hold. A kernel
 * that dies loses its connection, the server releases its locks, and another kernel takes them at
 * its next try: within two intervals. A kernel whose connection breaks gives its agents up at once,
 * since another kernel may already hold them.
 *
 * <p>The callbacks run on the lease thread, one at a time.
 */
final class SupervisionLeases implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SupervisionLeases.class);

  /** The advisory lock space of agent supervision: the key's first half ("Jodo"). */
  static final int LOCK_CLASS = 0x4A6F646F;

  interface Opener {
    Connection open() throws SQLException;
  }

  interface Listener {
    /** This kernel now supervises {@code agent}. */
    void acquired(String agent);

    /** This kernel no longer supervises {@code agent} (its connection broke). */
    void lost(String agent);
  }

  private final Opener opener;
  private final List<String> agents;
  private final Listener listener;
  private final ScheduledExecutorService loop;
  private final Duration interval;
  private final Set<String> held = new LinkedHashSet<>();
  private Connection connection;
  private boolean warned;

  SupervisionLeases(Opener opener, List<String> agents, Duration interval, Listener listener) {
    this.opener = opener;
    this.agents = List.copyOf(agents);
    this.interval = interval;
    this.listener = listener;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jodo-supervision-leases").factory());
  }

  void start() {
    loop.scheduleWithFixedDelay(this::round, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void round() {
    try {
      if (connection != null && !connection.isValid(5)) {
        log.warn("the supervision lock connection broke; giving up {} until it is back", held);
        drop();
      }
      if (connection == null) {
        connection = opener.open();
        warned = false;
      }
      for (String agent : agents) {
        if (!held.contains(agent) && tryLock(agent)) {
          try {
            listener.acquired(agent);
            held.add(agent);
            log.info("supervising agent {}", agent);
          } catch (RuntimeException e) {
            // Not supervising after all: free the lock, so this kernel or another tries again.
            log.error("agent {}: cannot start supervising: {}", agent, e.getMessage(), e);
            unlock(agent);
          }
        }
      }
    } catch (SQLException e) {
      if (!warned) {
        log.warn("cannot take agent supervision locks: {}", e.getMessage());
        warned = true;
      }
      drop();
    } catch (RuntimeException e) {
      log.error("agent supervision: {}", e.getMessage(), e);
    }
  }

  private boolean tryLock(String agent) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement("SELECT pg_try_advisory_lock(?, hashtext(?))")) {
      ps.setInt(1, LOCK_CLASS);
      ps.setString(2, agent);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private void unlock(String agent) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement("SELECT pg_advisory_unlock(?, hashtext(?))")) {
      ps.setInt(1, LOCK_CLASS);
      ps.setString(2, agent);
      ps.execute();
    }
  }

  private void drop() {
    for (String agent : List.copyOf(held)) {
      held.remove(agent);
      try {
        listener.lost(agent);
      } catch (RuntimeException e) {
        log.warn("agent {}: {}", agent, e.getMessage());
      }
    }
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // already broken
      }
      connection = null;
    }
  }

  /** Stops trying for more locks; those held stay held until {@link #close()}. */
  void stop() {
    loop.shutdownNow();
    try {
      loop.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops trying and releases every lock (closing the connection releases them). */
  @Override
  public void close() {
    stop();
    held.clear();
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the supervision lock connection: {}", e.getMessage());
      }
      connection = null;
    }
  }
}
