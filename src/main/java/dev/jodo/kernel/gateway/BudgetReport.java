package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ProviderConfig;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/** Seed 000's {@code GET /api/budget} and {@code budget_remaining}, from {@code budget_usage}. */
final class BudgetReport {
  static final String UNLIMITED = "unlimited";

  private final Map<String, ProviderConfig> providers;
  private final BudgetLedger ledger;
  private final Clock clock;

  BudgetReport(Map<String, ProviderConfig> providers, BudgetLedger ledger, Clock clock) {
    this.providers = providers;
    this.ledger = ledger;
    this.clock = clock;
  }

  Map<String, Object> budget() throws SQLException {
    Instant now = clock.instant();
    YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
    Instant monthStart = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant nextMonth = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant dayStart =
        LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant();
    ledger.flush(); // this kernel's settlements so far, so that a caller sees its own calls
    BudgetLedger.Spending spending = ledger.spending(monthStart, nextMonth, dayStart);

    Map<String, Object> report = new LinkedHashMap<>();
    for (ProviderConfig provider : providers.values()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("monthly_budget", money(provider.monthlyBudget()));
      if (provider.isFree()) {
        entry.put("remaining", UNLIMITED);
      } else {
        BigDecimal spent = spending.thisMonth().getOrDefault(provider.name(), BigDecimal.ZERO);
        BigDecimal remaining = provider.monthlyBudget().subtract(spent).max(BigDecimal.ZERO);
        entry.put("spent_this_month", money(spent));
        entry.put("remaining", money(remaining));
        entry.put("emergency_reserve", money(provider.emergencyReserve()));
        entry.put(
            "available_for_normal_use",
            money(remaining.subtract(provider.emergencyReserve()).max(BigDecimal.ZERO)));
      }
      report.put(provider.name(), entry);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("providers", report);
    body.put("total_spent_today", money(spending.today()));
    body.put("budget_resets", nextMonth.toString());
    return body;
  }

  /** {@code budget_remaining} of a think response, from the spend its admission saw. */
  Map<String, Object> remaining(Map<String, BigDecimal> spentThisMonth) {
    Map<String, Object> remaining = new LinkedHashMap<>();
    for (ProviderConfig provider : providers.values()) {
      if (provider.isFree()) {
        remaining.put(provider.name(), UNLIMITED);
      } else {
        BigDecimal spent = spentThisMonth.getOrDefault(provider.name(), BigDecimal.ZERO);
        remaining.put(
            provider.name(), money(provider.monthlyBudget().subtract(spent).max(BigDecimal.ZERO)));
      }
    }
    return remaining;
  }

  /** Dollar amounts as JSON numbers without trailing zeros (14.29, 20, 0.000021). */
  static BigDecimal money(BigDecimal amount) {
    BigDecimal stripped = amount.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }
}
