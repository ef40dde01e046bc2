package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.QuotaConfig;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * The budget ledger in Postgres ({@code V2__gateway_ledger.sql}, {@code V4__ledger_batch.sql}).
 * {@link #admit} takes the agent's limits and the first affordable candidate's worst-case
 * reservation; {@link #settle} replaces the reservation with the real cost. Both serialize on the
 * provider's {@code budget_months} row, so no concurrency on any number of kernels overspends. Both
 * go through this kernel's {@link LedgerWriter}, which batches what arrives together into one
 * transaction; an admission waits for its commit, a settlement does not.
 */
final class BudgetLedger implements AutoCloseable {
  private final DataSource dataSource;
  private final LedgerWriter writer;

  BudgetLedger(DataSource dataSource) {
    this.dataSource = dataSource;
    this.writer = new LedgerWriter(dataSource);
  }

  sealed interface Admission {}

  /**
   * {@code candidate} is reserved as {@code usageId}; {@code requestId} logs the request; {@code
   * monthSpent} is every provider's spend this month right after the reservation (which it includes
   * at its worst case).
   */
  record Admitted(
      int index,
      long usageId,
      Optional<Long> requestId,
      List<Optional<BigDecimal>> spentSeen,
      Map<String, BigDecimal> monthSpent)
      implements Admission {}

  /** A per-agent rate limit or quota refused the request. */
  record Limited(String kind, Duration retryAfter, BigDecimal used) implements Admission {}

  /** No candidate fits: for each one tried, the provider's spend seen (empty: agent quota). */
  record Unaffordable(List<Optional<BigDecimal>> spentSeen, BigDecimal agentCost)
      implements Admission {}

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
              answer.usageId(),
              answer.requestId(),
              answer.spentSeen(),
              answer.monthSpent());
      case "unaffordable" -> new Unaffordable(answer.spentSeen(), answer.used());
      default ->
          new Limited(
              answer.outcome(),
              Duration.ofMillis(Math.max(0, answer.retryAfterMillis())),
              answer.used());
    };
  }

  /**
   * Records what a reserved call really used ({@code settled}) or releases it ({@code failed}, cost
   * 0). Asynchronous: it is applied in order with this kernel's other ledger operations, so this
   * kernel's next admission already sees it; {@link #flush} waits for it.
   */
  void settle(
      long usageId,
      String status,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String error,
      Optional<Long> requestId,
      Optional<Integer> requestTokens,
      Instant now) {
    writer.submit(
        new LedgerWriter.Settle(
            usageId,
            status,
            tokensIn,
            tokensOut,
            cost,
            error,
            requestId,
            requestTokens,
            now.toString()));
  }

  /** Waits until every operation submitted before this call is committed. */
  void flush() throws SQLException {
    LedgerWriter.Barrier barrier = new LedgerWriter.Barrier();
    writer.submit(barrier);
    LedgerWriter.await(barrier.done());
  }

  /** Applies what is queued, then stops taking operations. */
  @Override
  public void close() {
    writer.close();
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

  /** Drops request-log rows no sliding window can see any more. */
  int pruneRequestLog(Instant before) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM agent_requests WHERE at < ?")) {
      ps.setTimestamp(1, Timestamp.from(before));
      return ps.executeUpdate();
    }
  }
}
