package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.QuotaConfig;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;

/**
 * The budget ledger in Postgres ({@code V2__gateway_ledger.sql}, {@code V4__ledger_batch.sql},
 * {@code V5__budget_leases.sql}). {@link #admit} admits a call under the first affordable
 * candidate: for an agent with quotas or rate limits, or a repair call, with a per-call worst-case
 * reservation and the agent's limits checked in one round trip; for any other call from this
 * kernel's {@link BudgetLeases budget lease}, in memory, and through Postgres only when the lease
 * needs more. {@link #settle} records what the call really cost. Reservations and lease grants
 * serialize on the provider's {@code budget_months} row, so no concurrency on any number of kernels
 * overspends. Everything goes through this kernel's {@link LedgerWriter}, which batches what
 * arrives together into one transaction; an admission waits for its commit, nothing else does.
 */
final class BudgetLedger implements AutoCloseable {
  private static final int ID_BLOCK = 1024;

  private final DataSource dataSource;
  private final LedgerWriter writer;
  private final BudgetLeases leases;
  private final MonthView view = new MonthView();
  private final Object idLock = new Object();
  private long[] ids = new long[0];
  private int nextId;

  BudgetLedger(DataSource dataSource) {
    this.dataSource = dataSource;
    this.writer = new LedgerWriter(dataSource, new Listener());
    this.leases = new BudgetLeases(writer, holder());
  }

  /** A kernel's name in budget_leases: host, process and a random part (one per start). */
  private static String holder() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host
        + ":"
        + ProcessHandle.current().pid()
        + ":"
        + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
  }

  sealed interface Admission {}

  /**
   * {@code candidate} is admitted with {@code ticket}; {@code spentSeen} holds, for the candidates
   * before it, the spend that made them unaffordable.
   */
  record Admitted(int index, Ticket ticket, List<Optional<BigDecimal>> spentSeen)
      implements Admission {}

  /** A per-agent rate limit or quota refused the request. */
  record Limited(String kind, Duration retryAfter, BigDecimal used) implements Admission {}

  /** No candidate fits: for each one tried, the provider's spend seen (empty: agent quota). */
  record Unaffordable(List<Optional<BigDecimal>> spentSeen, BigDecimal agentCost)
      implements Admission {}

  /** What settles an admitted call; {@code usageId} is the budget_usage row it is written to. */
  sealed interface Ticket {
    long usageId();
  }

  /**
   * A per-call reservation; {@code monthSpent} is every provider's spend this month right after it
   * (which includes it at its worst case).
   */
  record Reservation(
      long usageId, Optional<Long> requestId, Map<String, BigDecimal> monthSpent, Instant at)
      implements Ticket {}

  /** A call admitted under a lease, or (no lease) for a free model, at {@code at}. */
  record Leased(long usageId, BudgetLeases.Lease lease, Instant at) implements Ticket {}

  /**
   * Admits a call under the first affordable candidate: from a budget lease when the agent has no
   * quotas or rate limits and the call is not a repair (which may spend the emergency reserve),
   * else with a per-call {@link #reserve reservation}.
   */
  Admission admit(
      String agent,
      Instant now,
      Intent intent,
      Optional<Long> requestId,
      long tokensIn,
      long tokensTotal,
      QuotaConfig.Limits limits,
      List<Candidate> candidates)
      throws SQLException {
    if (limits.isUnlimited() && intent != Intent.REPAIR) {
      return admitLeased(now, candidates);
    }
    return reserve(agent, now, intent, requestId, tokensIn, tokensTotal, limits, candidates);
  }

  /**
   * {@link #admit} with a per-call reservation: the agent's limits and the first affordable
   * candidate's worst case, in one round trip.
   */
  Admission reserve(
      String agent,
      Instant now,
      Intent intent,
      Optional<Long> requestId,
      long tokensIn,
      long tokensTotal,
      QuotaConfig.Limits limits,
      List<Candidate> candidates)
      throws SQLException {
    LedgerWriter.Admit op =
        new LedgerWriter.Admit(
            agent,
            now.toString(),
            intent.wire(),
            requestId,
            tokensIn,
            tokensTotal,
            limits.requestsPerMinute().isPresent() ? limits.requestsPerMinute().getAsInt() : null,
            limits.tokensPerMinute().isPresent() ? limits.tokensPerMinute().getAsLong() : null,
            limits.tokensPerDay().isPresent() ? limits.tokensPerDay().getAsLong() : null,
            limits.costPerMonth().orElse(null),
            List.copyOf(candidates),
            new CompletableFuture<>());
    writer.submit(op);
    LedgerWriter.Answer answer = LedgerWriter.await(op.result());
    return switch (answer.outcome()) {
      case "admitted" ->
          new Admitted(
              answer.chosen() - 1,
              new Reservation(answer.usageId(), answer.requestId(), answer.monthSpent(), now),
              answer.spentSeen());
      case "unaffordable" -> new Unaffordable(answer.spentSeen(), answer.used());
      default ->
          new Limited(
              answer.outcome(),
              Duration.ofMillis(Math.max(0, answer.retryAfterMillis())),
              answer.used());
    };
  }

  private Admission admitLeased(Instant now, List<Candidate> candidates) throws SQLException {
    List<Optional<BigDecimal>> seen = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      Candidate candidate = candidates.get(i);
      if (candidate.limit().isEmpty()) {
        return new Admitted(i, new Leased(nextUsageId(), null, now), seen);
      }
      switch (leases.take(candidate, now)) {
        case BudgetLeases.Taken taken -> {
          return new Admitted(i, new Leased(nextUsageId(), taken.lease(), now), seen);
        }
        case BudgetLeases.Refused refused -> seen.add(Optional.of(refused.spentSeen()));
      }
    }
    return new Unaffordable(seen, BigDecimal.ZERO);
  }

  /**
   * Ids for leased calls' budget_usage rows, taken from its sequence {@value #ID_BLOCK} at a time.
   * The values of one block need not be consecutive: other kernels draw from the same sequence.
   */
  private long nextUsageId() throws SQLException {
    synchronized (idLock) {
      if (nextId == ids.length) {
        try (Connection c = dataSource.getConnection();
            PreparedStatement ps =
                c.prepareStatement(
                    "SELECT nextval('budget_usage_id_seq') FROM generate_series(1, ?)")) {
          ps.setInt(1, ID_BLOCK);
          long[] block = new long[ID_BLOCK];
          int n = 0;
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              block[n++] = rs.getLong(1);
            }
          }
          ids = Arrays.copyOf(block, n);
          nextId = 0;
        }
      }
      return ids[nextId++];
    }
  }

  /**
   * Records what an admitted call really used: {@code settled}, or {@code failed} (released) with
   * {@code error}. Asynchronous: it is applied in order with this kernel's other ledger operations,
   * so this kernel's next admission already sees it; {@link #flush} waits for it. Returns every
   * provider's spend this month (what budget_usage says) with this call at its cost, as well as
   * this kernel knows it.
   */
  Map<String, BigDecimal> settle(
      Ticket ticket,
      Candidate candidate,
      String agent,
      Intent intent,
      String status,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String error,
      Optional<Integer> requestTokens,
      Instant now) {
    switch (ticket) {
      case Reservation reservation -> {
        writer.submit(
            new LedgerWriter.Settle(
                reservation.usageId(),
                status,
                tokensIn,
                tokensOut,
                cost,
                error,
                status.equals("settled") ? reservation.requestId() : Optional.empty(),
                requestTokens,
                now.toString()));
        Map<String, BigDecimal> spent = new HashMap<>(reservation.monthSpent());
        spent.computeIfPresent(
            candidate.provider().name(),
            (provider, amount) -> amount.subtract(candidate.worstCase()).add(cost));
        return spent;
      }
      case Leased leased -> {
        LedgerWriter.Usage usage =
            new LedgerWriter.Usage(
                null,
                0,
                leased.usageId(),
                candidate.provider().name(),
                candidate.model().name(),
                intent.wire(),
                tokensIn,
                tokensOut,
                cost,
                agent,
                status,
                error,
                leased.at().toString(),
                now.toString(),
                BigDecimal.ZERO,
                System.nanoTime());
        view.pending(usage.provider(), cost);
        if (leased.lease() == null) {
          writer.submit(usage);
        } else {
          leases.settle(leased.lease(), candidate.worstCase(), usage);
        }
        return view.spent();
      }
    }
  }

  /** Gives back every budget lease this kernel holds that has no call in flight, and flushes. */
  void returnLeases() throws SQLException {
    leases.returnAll();
    flush();
  }

  /** Waits until every operation submitted before this call is committed. */
  void flush() throws SQLException {
    LedgerWriter.Barrier barrier = new LedgerWriter.Barrier();
    writer.submit(barrier);
    LedgerWriter.await(barrier.done());
  }

  /** Gives back the budget leases, applies what is queued, then stops taking operations. */
  @Override
  public void close() {
    leases.returnAll();
    writer.close();
  }

  /**
   * Each provider's month spend as budget_usage has it, as of this kernel's last ledger batch, plus
   * the costs this kernel settled since (queued, not yet written).
   */
  private static final class MonthView {
    private Map<String, BigDecimal> committed = Map.of();
    private final Map<String, BigDecimal> pending = new HashMap<>();

    synchronized void pending(String provider, BigDecimal cost) {
      pending.merge(provider, cost, BigDecimal::add);
    }

    synchronized void committed(Map<String, BigDecimal> month, Map<String, BigDecimal> written) {
      committed = month;
      written.forEach((provider, cost) -> pending.merge(provider, cost.negate(), BigDecimal::add));
    }

    synchronized void dropped(String provider, BigDecimal cost) {
      pending.merge(provider, cost.negate(), BigDecimal::add);
    }

    synchronized Map<String, BigDecimal> spent() {
      Map<String, BigDecimal> spent = new HashMap<>(committed);
      pending.forEach((provider, cost) -> spent.merge(provider, cost, BigDecimal::add));
      return spent;
    }
  }

  /** Keeps the month view and the leases in step with what the writer commits. */
  private final class Listener implements LedgerWriter.Listener {
    @Override
    public void committed(List<LedgerWriter.Op> ops, Map<String, BigDecimal> month) {
      Map<String, BigDecimal> written = new HashMap<>();
      for (LedgerWriter.Op op : ops) {
        switch (op) {
          case LedgerWriter.Usage usage -> {
            written.merge(usage.provider(), usage.cost(), BigDecimal::add);
            if (usage.lease() != null) {
              usage.lease().renewed(usage.createdNanos());
            }
          }
          case LedgerWriter.LeaseApply apply -> {
            if (!apply.close()) {
              apply.lease().renewed(apply.createdNanos());
            }
          }
          default -> {}
        }
      }
      view.committed(month, written);
    }

    @Override
    public void failed(LedgerWriter.Op op, SQLException failure) {
      switch (op) {
        case LedgerWriter.Usage usage -> {
          view.dropped(usage.provider(), usage.cost());
          if (usage.lease() != null) {
            leases.poisoned(usage.lease());
          }
        }
        case LedgerWriter.LeaseApply apply -> leases.poisoned(apply.lease());
        default -> {}
      }
    }

    @Override
    public void tick() {
      leases.tick();
    }
  }

  /** This month's spend per provider and today's total, computed from {@code budget_usage}. */
  record Spending(Map<String, BigDecimal> thisMonth, BigDecimal today) {}

  Spending spending(Instant monthStart, Instant nextMonth, Instant dayStart) throws SQLException {
    String sql =
        """
        SELECT provider,
               coalesce(sum(cost) FILTER (WHERE created_at >= ? AND created_at < ?), 0) AS month,
               coalesce(sum(cost) FILTER (WHERE created_at >= ?), 0) AS today
          FROM budget_usage
         WHERE created_at >= ?
         GROUP BY provider
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setTimestamp(1, Timestamp.from(monthStart));
      ps.setTimestamp(2, Timestamp.from(nextMonth));
      ps.setTimestamp(3, Timestamp.from(dayStart));
      // The day of a month's first day starts with the month; otherwise the month starts first.
      ps.setTimestamp(4, Timestamp.from(monthStart.isBefore(dayStart) ? monthStart : dayStart));
      Map<String, BigDecimal> month = new HashMap<>();
      BigDecimal today = BigDecimal.ZERO;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          month.put(rs.getString("provider"), rs.getBigDecimal("month"));
          today = today.add(rs.getBigDecimal("today"));
        }
      }
      return new Spending(month, today);
    }
  }

  /**
   * Marks reservations older than {@code before} as abandoned (their kernel died mid-call). Their
   * worst-case cost stays counted: the provider may have billed for the call.
   */
  int abandonStale(Instant before) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE budget_usage SET status = 'abandoned' WHERE status = 'reserved' AND created_at < ?")) {
      ps.setTimestamp(1, Timestamp.from(before));
      return ps.executeUpdate();
    }
  }

  /**
   * Abandons the budget leases whose kernel stopped renewing them: what each held stays counted, as
   * an 'abandoned' budget_usage row. Returns how many.
   */
  int reclaimLeases() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT jodo_reclaim_leases()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Drops request-log rows no sliding window can see any more. */
  int pruneRequestLog(Instant before) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM agent_requests WHERE at < ?")) {
      ps.setTimestamp(1, Timestamp.from(before));
      return ps.executeUpdate();
    }
  }
}
