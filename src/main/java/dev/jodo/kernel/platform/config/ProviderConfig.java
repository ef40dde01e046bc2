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
    int maxConcurrency,
    Duration queueTimeout) {

  public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(30);

  public ProviderConfig {
    models = Map.copyOf(models);
  }

  /** A provider with the default queue timeout. */
  public ProviderConfig(
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
    this(
        name,
        type,
        baseUrl,
        apiKey,
        disabledReason,
        models,
        monthlyBudget,
        emergencyReserve,
        timeout,
        connectTimeout,
        maxConcurrency,
        DEFAULT_QUEUE_TIMEOUT);
  }

  /** Every model is free: the provider's budget is unlimited and never reserved. */
  public boolean isFree() {
    return models.values().stream().allMatch(ModelConfig::isFree);
  }

  public boolean enabled() {
    return disabledReason.isEmpty();
  }
}
