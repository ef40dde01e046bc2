package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/** {@code quotas:} with {@code defaults} and per-agent overrides. */
final class QuotaSection {
  private static final Set<String> LIMIT_KEYS =
      Set.of("tokens_per_day", "cost_per_month", "requests_per_minute", "tokens_per_minute");

  private QuotaSection() {}

  static QuotaConfig read(ConfigNode section) {
    section.allowOnly(Set.of("defaults", "agents"));
    QuotaConfig.Limits defaults = limits(section.object("defaults"));
    Map<String, QuotaConfig.Limits> agents = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigNode> agent : section.object("agents").entries().entrySet()) {
      agents.put(agent.getKey(), limits(agent.getValue()));
    }
    return new QuotaConfig(defaults, agents);
  }

  private static QuotaConfig.Limits limits(ConfigNode node) {
    node.allowOnly(LIMIT_KEYS);
    OptionalLong tokensPerDay =
        node.has("tokens_per_day")
            ? OptionalLong.of(node.integer("tokens_per_day", 0, 1, Integer.MAX_VALUE))
            : OptionalLong.empty();
    Optional<BigDecimal> costPerMonth =
        node.has("cost_per_month")
            ? Optional.of(node.decimal("cost_per_month", BigDecimal.ZERO, "(USD)"))
            : Optional.empty();
    OptionalInt requestsPerMinute =
        node.has("requests_per_minute")
            ? OptionalInt.of(node.integer("requests_per_minute", 0, 1, 1_000_000))
            : OptionalInt.empty();
    OptionalLong tokensPerMinute =
        node.has("tokens_per_minute")
            ? OptionalLong.of(node.integer("tokens_per_minute", 0, 1, Integer.MAX_VALUE))
            : OptionalLong.empty();
    return new QuotaConfig.Limits(tokensPerDay, costPerMonth, requestsPerMinute, tokensPerMinute);
  }
}
