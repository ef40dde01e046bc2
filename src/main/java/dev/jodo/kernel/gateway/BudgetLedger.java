package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.QuotaConfig;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The budget ledger in Postgres ({@code V2__gateway_ledger.sql}). {@link #admit} takes the agent's
 * limits and the first affordable candidate's worst-case reservation in one round trip; {@link
 * #settle} replaces the reservation with the real cost in another. Both serialize on the provider's
 * {@code budget_months} row, so no concurrency on any number of kernels overspends.
 */
final class BudgetLedger {
  private final DataSource dataSource;

  BudgetLedger(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  sealed interface Admission {}

  /** {@code candidate} is reserved as {@code usageId}; {@code requestId} logs the request. */
  record Admitted(
      int index, long usageId, Optional<Long> requestId, List<Optional<BigDecimal>> spentSeen)
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
    String sql = "SELECT * FROM jodo_admit(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, agent);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, intent.wire());
      setLong(ps, 4, requestId);
      ps.setInt(5, (int) Math.min(Integer.MAX_VALUE, tokensIn));
      ps.setInt(6, (int) Math.min(Integer.MAX_VALUE, tokensTotal));
      if (limits.requestsPerMinute().isPresent()) {
        ps.setInt(7, limits.requestsPerMinute().getAsInt());
      } else {
        ps.setNull(7, Types.INTEGER);
      }
      setLong(
          ps,
          8,
          limits.tokensPerMinute().isPresent()
              ? Optional.of(limits.tokensPerMinute().getAsLong())
              : Optional.empty());
      setLong(
          ps,
          9,
          limits.tokensPerDay().isPresent()
              ? Optional.of(limits.tokensPerDay().getAsLong())
              : Optional.empty());
      ps.setBigDecimal(10, limits.costPerMonth().orElse(null));
      ps.setArray(
          11, c.createArrayOf("text", candidates.stream().map(x -> x.provider().name()).toArray()));
      ps.setArray(
          12, c.createArrayOf("text", candidates.stream().map(x -> x.model().name()).toArray()));
      ps.setArray(
          13, c.createArrayOf("numeric", candidates.stream().map(Candidate::worstCase).toArray()));
      ps.setArray(
          14,
          c.createArrayOf(
              "numeric", candidates.stream().map(x -> x.limit().orElse(null)).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String outcome = rs.getString("outcome");
        return switch (outcome) {
          case "admitted" -> {
            long request = rs.getLong("request_id");
            yield new Admitted(
                rs.getInt("chosen") - 1,
                rs.getLong("usage_id"),
                rs.wasNull() ? Optional.empty() : Optional.of(request),
                spentSeen(rs.getArray("spent_seen")));
          }
          case "unaffordable" ->
              new Unaffordable(
                  spentSeen(rs.getArray("spent_seen")), orZero(rs.getBigDecimal("used")));
          default ->
              new Limited(
                  outcome,
                  Duration.ofMillis(Math.max(0, rs.getLong("retry_after_ms"))),
                  orZero(rs.getBigDecimal("used")));
        };
      }
    }
  }

  /**
   * Records what a reserved call really used ({@code settled}) or releases it ({@code failed}, cost
   * 0). Returns every provider's spend this month.
   */
  Map<String, BigDecimal> settle(
      long usageId,
      String status,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String error,
      Optional<Long> requestId,
      Optional<Integer> requestTokens,
      Instant now)
      throws SQLException {
    String sql = "SELECT * FROM jodo_settle(?, ?, ?, ?, ?, ?, ?, ?, ?)";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, usageId);
      ps.setString(2, status);
      ps.setInt(3, (int) Math.min(Integer.MAX_VALUE, tokensIn));
      ps.setInt(4, (int) Math.min(Integer.MAX_VALUE, tokensOut));
      ps.setBigDecimal(5, cost);
      ps.setString(6, error);
      setLong(ps, 7, requestId);
      if (requestTokens.isPresent()) {
        ps.setInt(8, requestTokens.get());
      } else {
        ps.setNull(8, Types.INTEGER);
      }
      ps.setTimestamp(9, Timestamp.from(now));
      Map<String, BigDecimal> spent = new HashMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          spent.put(rs.getString("provider"), rs.getBigDecimal("spent"));
        }
      }
      return spent;
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

  /** Drops request-log rows no sliding window can see any more. */
  int pruneRequestLog(Instant before) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM agent_requests WHERE at < ?")) {
      ps.setTimestamp(1, Timestamp.from(before));
      return ps.executeUpdate();
    }
  }

  private static void setLong(PreparedStatement ps, int index, Optional<Long> value)
      throws SQLException {
    if (value.isPresent()) {
      ps.setLong(index, value.get());
    } else {
      ps.setNull(index, Types.BIGINT);
    }
  }

  private static BigDecimal orZero(BigDecimal value) {
    return value == null ? BigDecimal.ZERO : value;
  }

  private static List<Optional<BigDecimal>> spentSeen(Array array) throws SQLException {
    List<Optional<BigDecimal>> result = new ArrayList<>();
    if (array != null) {
      for (Object value : (Object[]) array.getArray()) {
        result.add(Optional.ofNullable((BigDecimal) value));
      }
    }
    return result;
  }
}
