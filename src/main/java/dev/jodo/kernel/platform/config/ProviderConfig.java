package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A configured LLM provider. A provider whose API key variable is unset stays in the config but is
 * disabled, with {@code disabledReason} saying why, so routing can explain a 503.
 */
public record ProviderConfig(
    String name,
    ProviderType type,
    URI baseUrl,
    Optional<Secret> apiKey,
    Optional<String> disabledReason,
    Map<String, ModelConfig> models,
    BigDecimal monthlyBudget,
    BigDecimal emergencyReserve,
    Duration timeout,
    Duration connectTimeout,
    int maxConcurrency) {

  public ProviderConfig {
    models = Map.copyOf(models);
  }

  public boolean enabled() {
    return disabledReason.isEmpty();
  }
}
