package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ModelConfig;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.ProviderType;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Small builders for gateway unit tests. */
final class GatewayFixtures {
  private GatewayFixtures() {}

  static ModelConfig model(String name, String in, String out, int quality, String... caps) {
    return new ModelConfig(name, new BigDecimal(in), new BigDecimal(out), Set.of(caps), quality);
  }

  static ProviderConfig provider(
      String name, ProviderType type, String budget, String reserve, ModelConfig... models) {
    Map<String, ModelConfig> byName = new java.util.LinkedHashMap<>();
    for (ModelConfig model : models) {
      byName.put(model.name(), model);
    }
    return new ProviderConfig(
        name,
        type,
        URI.create("http://127.0.0.1:1"),
        Optional.empty(),
        Optional.empty(),
        byName,
        new BigDecimal(budget),
        new BigDecimal(reserve),
        Duration.ofSeconds(5),
        Duration.ofSeconds(1),
        4);
  }

  static Candidate candidate(
      ProviderConfig provider, String model, String worstCase, String limit) {
    return new Candidate(
        provider,
        provider.models().get(model),
        new BigDecimal(worstCase),
        limit == null ? Optional.empty() : Optional.of(new BigDecimal(limit)));
  }
}
