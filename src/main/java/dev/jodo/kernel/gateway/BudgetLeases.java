package dev.jodo.kernel.gateway;

import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This kernel's budget leases ({@code V5__budget_leases.sql}): per provider and UTC month, a slice
 * of the budget granted under the provider's row lock in Postgres, from which calls are admitted in
 * memory. The slice is counted as spent from the moment it is granted, so admissions against it can
 * never take the provider past its budget, whatever other kernels do.
 *
 * <p>A lease asks for what this kernel admitted in the last second (1 to 1,024 calls' worst cases);
 * Postgres grants more than the call at hand needs only while the budget has room for 64 such
 * calls. A lease granted no more than its call needed is <em>exact</em>: what each call leaves
 * unspent is given back when it settles, so near the end of a budget admission is as precise as a
 * per-call reservation. A lease idle for a second gives back what it holds, and closes once its
 * calls have settled; a busy one is renewed by its own writes, an idle one with calls in flight by
 * {@link #tick}. A lease this kernel could not renew for {@link #VALID} admits nothing more; the
 * database abandons it after {@link #TTL}.
 */
final class BudgetLeases {
  private static final Logger log = LoggerFactory.getLogger(BudgetLeases.class);

  /** How long a lease stays open in the database after its last renewal. */
  static final Duration TTL = Duration.ofMinutes(2);

  /** How long after a renewal was sent this kernel still admits against the lease. */
  static final Duration VALID = TTL.dividedBy(2);

  private static final long RENEW_BEFORE_NANOS = VALID.toNanos() / 2;
  private static final long IDLE_NANOS = Duration.ofSeconds(1).toNanos();
  private static final long WINDOW_NANOS = Duration.ofSeconds(1).toNanos();
  private static final int MAX_CALLS = 1024;

  private final LedgerWriter writer;
  private final String holder;
  private final ConcurrentHashMap<Key, Lease> leases = new ConcurrentHashMap<>();

  BudgetLeases(LedgerWriter writer, String holder) {
    this.writer = writer;
    this.holder = holder;
  }

  private record Key(String provider, YearMonth month) {}

  /** What {@link #take} did: admitted the call under {@code lease}, or found no room. */
  sealed interface Take {}

  record Taken(Lease lease) implements Take {}

  /** The provider's spend (leases and reservations included) when the grant was refused. */
  record Refused(BigDecimal spentSeen) implements Take {}

  /**
   * Admits a call of {@code candidate} (which has a limit) at {@code now}: from this kernel's lease
   * when it holds enough, else after one more grant from Postgres, which callers arriving meanwhile
   * share.
   */
  Take take(Candidate candidate, Instant now) throws SQLException {
    Key key = new Key(candidate.provider().name(), YearMonth.from(now.atOffset(ZoneOffset.UTC)));
    BigDecimal cost = candidate.worstCase();
    BigDecimal limit = candidate.limit().orElseThrow();
    boolean refusedOnce = false;
    while (true) {
      Lease lease = leases.computeIfAbsent(key, k -> new Lease(k.provider()));
      LedgerWriter.LeaseGrant grant = null;
      CompletableFuture<LedgerWriter.Answer> pending;
      synchronized (lease) {
        if (lease.dead) {
          continue;
        }
        long t = System.nanoTime();
        BigDecimal slack = lease.usable(t) ? lease.slack() : BigDecimal.ZERO;
        if (slack.compareTo(cost) >= 0) {
          lease.admit(cost, t);
          return new Taken(lease);
        }
        if (lease.refill == null) {
          BigDecimal need = cost.subtract(slack.max(BigDecimal.ZERO));
          BigDecimal want = need.add(cost.multiply(BigDecimal.valueOf(lease.demand(t))));
          grant =
              new LedgerWriter.LeaseGrant(
                  lease,
                  lease.id,
                  holder,
                  key.provider(),
                  now.toString(),
                  need,
                  cost,
                  want,
                  limit,
                  t,
                  new CompletableFuture<>());
          LedgerWriter.LeaseGrant sent = grant;
          lease.refill = grant.result().whenComplete((answer, failure) -> lease.answered(sent));
        }
        pending = lease.refill;
      }
      if (grant != null) {
        writer.submit(grant);
      }
      LedgerWriter.Answer answer = LedgerWriter.await(pending);
      if (!"granted".equals(answer.outcome())) {
        // Another caller's grant may have asked for more than this call needs: ask once ourselves.
        if (grant != null || refusedOnce) {
          return new Refused(
              answer.spentSeen().isEmpty()
                  ? BigDecimal.ZERO
                  : answer.spentSeen().get(0).orElse(BigDecimal.ZERO));
        }
        refusedOnce = true;
      }
    }
  }

  /**
   * Settles a call admitted under {@code lease}: its worst case leaves the lease, its cost is
   * written as a settled {@code budget_usage} row ({@code usage}), and an exact lease gives back
   * what is left.
   */
  void settle(Lease lease, BigDecimal worstCase, LedgerWriter.Usage usage) {
    synchronized (lease) {
      lease.inFlight = lease.inFlight.subtract(worstCase);
      lease.consumed = lease.consumed.add(usage.cost());
      BigDecimal back = BigDecimal.ZERO;
      if (lease.exact && !lease.dead) {
        back = lease.slack().max(BigDecimal.ZERO);
        lease.granted = lease.granted.subtract(back);
      }
      // Queued under the lease's lock: a close decided by tick() comes after every usage row.
      writer.submit(usage.under(lease, lease.id, back));
    }
  }

  /**
   * Housekeeping, about once a second (the ledger writer calls it): a lease idle for a second gives
   * back what it holds and closes once its calls have settled; one with calls in flight is renewed
   * before it could lapse; leases of past months are forgotten once closed.
   */
  void tick() {
    tick(false);
  }

  /** {@link #tick()}, treating every lease as idle: on shutdown, and for tests. */
  void returnAll() {
    tick(true);
  }

  private void tick(boolean everything) {
    long t = System.nanoTime();
    for (var entry : leases.entrySet()) {
      Lease lease = entry.getValue();
      synchronized (lease) {
        if (lease.dead || lease.refill != null) {
          continue;
        }
        if (lease.id == 0) {
          if (lease.inFlight.signum() == 0 && t - lease.lastActive > 10 * IDLE_NANOS) {
            lease.dead = true;
            leases.remove(entry.getKey(), lease);
          }
          continue;
        }
        boolean idle = everything || t - lease.lastActive >= IDLE_NANOS;
        BigDecimal slack = lease.slack();
        if (idle && lease.inFlight.signum() == 0) {
          writer.submit(new LedgerWriter.LeaseApply(lease, lease.id, BigDecimal.ZERO, true, t));
          lease.id = 0;
          lease.granted = BigDecimal.ZERO;
          lease.consumed = BigDecimal.ZERO;
        } else if (idle && slack.signum() > 0) {
          lease.granted = lease.granted.subtract(slack);
          writer.submit(new LedgerWriter.LeaseApply(lease, lease.id, slack, false, t));
        } else if (lease.validUntil - t < RENEW_BEFORE_NANOS) {
          writer.submit(new LedgerWriter.LeaseApply(lease, lease.id, BigDecimal.ZERO, false, t));
        }
      }
    }
  }

  /**
   * A write under {@code lease} failed: the database may count more for it than this kernel knows.
   * It admits nothing more and is never given back; it expires, and what it holds stays counted.
   */
  void poisoned(Lease lease) {
    synchronized (lease) {
      if (!lease.dead) {
        lease.dead = true;
        leases.values().remove(lease);
        log.warn(
            "budget lease {} of {} is left to expire after a failed write; what it holds stays"
                + " counted",
            lease.id,
            lease.provider);
      }
    }
  }

  /** One provider-month's lease, guarded by its own monitor. Amounts in USD. */
  static final class Lease {
    final String provider;
    long id; // 0: none open in the database
    BigDecimal granted = BigDecimal.ZERO; // as the database holds it, net of give-backs
    BigDecimal consumed = BigDecimal.ZERO; // costs of the calls settled under it
    BigDecimal inFlight = BigDecimal.ZERO; // worst cases of the calls admitted, not yet settled
    boolean exact;
    boolean dead;
    long validUntil;
    long lastActive;
    CompletableFuture<LedgerWriter.Answer> refill;
    private long windowStart;
    private int windowCalls;
    private int lastWindowCalls;

    Lease(String provider) {
      this.provider = provider;
      this.lastActive = System.nanoTime();
    }

    BigDecimal slack() {
      return granted.subtract(consumed).subtract(inFlight);
    }

    boolean usable(long t) {
      return id != 0 && !dead && t - validUntil < 0;
    }

    void admit(BigDecimal cost, long t) {
      inFlight = inFlight.add(cost);
      lastActive = t;
      if (t - windowStart >= WINDOW_NANOS) {
        lastWindowCalls = t - windowStart >= 2 * WINDOW_NANOS ? 0 : windowCalls;
        windowStart = t;
        windowCalls = 0;
      }
      windowCalls++;
    }

    /** Calls to ask a grant for: what the last full second admitted, at least 1, at most 1,024. */
    int demand(long t) {
      int recent = t - windowStart >= 2 * WINDOW_NANOS ? 0 : Math.max(lastWindowCalls, windowCalls);
      return Math.clamp(recent, 1, MAX_CALLS);
    }

    /** Applies a grant's answer (called by the ledger writer before anyone waiting sees it). */
    synchronized void answered(LedgerWriter.LeaseGrant grant) {
      refill = null;
      LedgerWriter.Answer answer = grant.result().getNow(null);
      if (answer == null || !"granted".equals(answer.outcome()) || dead) {
        return;
      }
      long lease = answer.usageId();
      if (id != 0 && lease != id) {
        // The database abandoned our lease (we could not renew it in time); it counted what the
        // lease held, calls in flight included. Those calls settle into the new one.
        log.warn("budget lease {} of {} had expired; continuing as lease {}", id, provider, lease);
        granted = BigDecimal.ZERO;
        consumed = BigDecimal.ZERO;
      }
      id = lease;
      granted = granted.add(answer.used());
      exact = answer.used().compareTo(grant.need()) <= 0;
      validUntil = grant.createdNanos() + VALID.toNanos();
      lastActive = System.nanoTime();
    }

    /** A write that renews the lease, queued at {@code sentNanos}, committed. */
    synchronized void renewed(long sentNanos) {
      if (id != 0 && sentNanos + VALID.toNanos() - validUntil > 0) {
        validUntil = sentNanos + VALID.toNanos();
      }
    }
  }
}
