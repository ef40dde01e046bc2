package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One model of a provider, with seed 000's keys; costs are USD per million tokens. {@code
 * maxOutputTokens} ({@code max_output_tokens}) bounds {@code max_tokens} when known.
 */
public record ModelConfig(
    String name,
    BigDecimal inputCostPer1mTokens,
    BigDecimal outputCostPer1mTokens,
    Set<String> capabilities,
    int quality,
    OptionalInt maxOutputTokens) {

  public ModelConfig {
    capabilities = Set.copyOf(capabilities);
  }

  /** A model without a known output limit. */
  public ModelConfig(
      String name,
      BigDecimal inputCostPer1mTokens,
      BigDecimal outputCostPer1mTokens,
      Set<String> capabilities,
      int quality) {
    this(
        name,
        inputCostPer1mTokens,
        outputCostPer1mTokens,
        capabilities,
        quality,
        OptionalInt.empty());
  }

  public boolean isFree() {
    return inputCostPer1mTokens.signum() == 0 && outputCostPer1mTokens.signum() == 0;
  }
}
