package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Per-agent limits ({@code quotas:}): tokens per UTC day, cost per UTC month, and sliding-window
 * requests and tokens per minute. An agent's own entry overrides the defaults key by key; an absent
 * key means unlimited. The admin token is never limited.
 */
public record QuotaConfig(Limits defaults, Map<String, Limits> agents) {
  public static final QuotaConfig NONE = new QuotaConfig(Limits.NONE, Map.of());

  public QuotaConfig {
    agents = Map.copyOf(agents);
  }

  public record Limits(
      OptionalLong tokensPerDay,
      Optional<BigDecimal> costPerMonth,
      OptionalInt requestsPerMinute,
      OptionalLong tokensPerMinute) {
    public static final Limits NONE =
        new Limits(
            OptionalLong.empty(), Optional.empty(), OptionalInt.empty(), OptionalLong.empty());

    /** These limits, with every key this one leaves unset taken from {@code fallback}. */
    Limits over(Limits fallback) {
      return new Limits(
          tokensPerDay.isPresent() ? tokensPerDay : fallback.tokensPerDay,
          costPerMonth.or(() -> fallback.costPerMonth),
          requestsPerMinute.isPresent() ? requestsPerMinute : fallback.requestsPerMinute,
          tokensPerMinute.isPresent() ? tokensPerMinute : fallback.tokensPerMinute);
    }

    public boolean isUnlimited() {
      return equals(NONE);
    }
  }

  public Limits limitsFor(String agent) {
    Limits own = agents.get(agent);
    return own == null ? defaults : own.over(defaults);
  }
}
