package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ProviderConfig;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What the control panel shows of the gateway: each provider's month budget and queue, today's
 * calls and cost, and the latest calls from {@code budget_usage}. Read-only; every figure comes
 * from Postgres (all kernels' calls) except the queues, which are this kernel's.
 */
public final class InferenceView {
  /** The model name of the row that keeps an expired budget lease's amount counted. */
  private static final String LEASE_ROW_MODEL = "(budget lease)";

  private final Map<String, ProviderConfig> providers;
  private final Map<String, AdmissionQueue> queues;
  private final BudgetLedger ledger;
  private final DataSource dataSource;
  private final Clock clock;

  InferenceView(
      Map<String, ProviderConfig> providers,
      Map<String, AdmissionQueue> queues,
      BudgetLedger ledger,
      DataSource dataSource,
      Clock clock) {
    this.providers = providers;
    this.queues = queues;
    this.ledger = ledger;
    this.dataSource = dataSource;
    this.clock = clock;
  }

  /**
   * One provider this month: {@code monthlyBudget} and {@code reserve} are empty for a free one
   * (unlimited); the queue figures are this kernel's ({@code capacity} 0 when disabled).
   */
  public record ProviderBudget(
      String provider,
      boolean enabled,
      Optional<BigDecimal> monthlyBudget,
      BigDecimal spent,
      Optional<BigDecimal> reserve,
      int capacity,
      int inUse,
      int waiting) {}

  /** Every provider's budget and today's calls (all kernels) with their cost. */
  public record Budgets(
      List<ProviderBudget> providers, long requestsToday, BigDecimal costToday, Instant resets) {}

  /**
   * One provider call: {@code outcome} is budget_usage's status (settled, failed, reserved = still
   * running, abandoned = its kernel stopped mid-call); {@code latency} runs from admission to
   * settlement and is empty while the call runs.
   */
  public record Call(
      long id,
      Instant at,
      String agent,
      String intent,
      String provider,
      String model,
      int tokensIn,
      int tokensOut,
      BigDecimal cost,
      Optional<Duration> latency,
      String outcome,
      Optional<String> error) {}

  public Budgets budgets() throws SQLException {
    Instant now = clock.instant();
    YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
    Instant monthStart = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant nextMonth = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant dayStart =
        LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant();
    ledger.flush(); // this kernel's settlements so far
    String sql =
        """
        SELECT provider,
               coalesce(sum(cost) FILTER (WHERE created_at >= ? AND created_at < ?), 0) AS month,
               count(*) FILTER (WHERE created_at >= ? AND model <> ?) AS calls_today,
               coalesce(sum(cost) FILTER (WHERE created_at >= ?), 0) AS cost_today
          FROM budget_usage
         WHERE created_at >= ?
         GROUP BY provider
        """;
    Map<String, BigDecimal> spent = new HashMap<>();
    long calls = 0;
    BigDecimal cost = BigDecimal.ZERO;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setTimestamp(1, Timestamp.from(monthStart));
      ps.setTimestamp(2, Timestamp.from(nextMonth));
      ps.setTimestamp(3, Timestamp.from(dayStart));
      ps.setString(4, LEASE_ROW_MODEL);
      ps.setTimestamp(5, Timestamp.from(dayStart));
      ps.setTimestamp(6, Timestamp.from(monthStart.isBefore(dayStart) ? monthStart : dayStart));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          spent.put(rs.getString("provider"), rs.getBigDecimal("month"));
          calls += rs.getLong("calls_today");
          cost = cost.add(rs.getBigDecimal("cost_today"));
        }
      }
    }
    List<ProviderBudget> budgets = new ArrayList<>();
    for (ProviderConfig provider : providers.values()) {
      AdmissionQueue queue = queues.get(provider.name());
      budgets.add(
          new ProviderBudget(
              provider.name(),
              provider.enabled(),
              provider.isFree() ? Optional.empty() : Optional.of(provider.monthlyBudget()),
              spent.getOrDefault(provider.name(), BigDecimal.ZERO),
              provider.isFree() ? Optional.empty() : Optional.of(provider.emergencyReserve()),
              queue == null ? 0 : provider.maxConcurrency(),
              queue == null ? 0 : queue.inUse(),
              queue == null ? 0 : queue.waiting()));
    }
    return new Budgets(budgets, calls, cost, nextMonth);
  }

  /** The latest {@code limit} calls of every kernel, newest first. */
  public List<Call> recent(int limit) throws SQLException {
    ledger.flush();
    String sql =
        """
        SELECT id, created_at, requested_by, intent, provider, model, tokens_in, tokens_out, cost,
               status, error, settled_at
          FROM budget_usage
         ORDER BY created_at DESC, id DESC
         LIMIT ?
        """;
    List<Call> calls = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Instant at = rs.getTimestamp("created_at").toInstant();
          Timestamp settled = rs.getTimestamp("settled_at");
          calls.add(
              new Call(
                  rs.getLong("id"),
                  at,
                  rs.getString("requested_by"),
                  rs.getString("intent"),
                  rs.getString("provider"),
                  rs.getString("model"),
                  rs.getInt("tokens_in"),
                  rs.getInt("tokens_out"),
                  rs.getBigDecimal("cost"),
                  settled == null
                      ? Optional.empty()
                      : Optional.of(Duration.between(at, settled.toInstant())),
                  rs.getString("status"),
                  Optional.ofNullable(rs.getString("error"))));
        }
      }
    }
    return calls;
  }
}
