package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.util.Set;

/** One model of a provider, with seed 000's keys; costs are USD per million tokens. */
public record ModelConfig(
    String name,
    BigDecimal inputCostPer1mTokens,
    BigDecimal outputCostPer1mTokens,
    Set<String> capabilities,
    int quality) {

  public ModelConfig {
    capabilities = Set.copyOf(capabilities);
  }

  public boolean isFree() {
    return inputCostPer1mTokens.signum() == 0 && outputCostPer1mTokens.signum() == 0;
  }
}
