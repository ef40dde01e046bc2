package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ModelConfig;
import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Cost arithmetic in USD with 6 decimals (seed 000's {@code DECIMAL(10, 6)}). Reservations round up
 * and settlements round half up, so a settled cost never exceeds its reservation.
 */
public final class Pricing {
  public static final int SCALE = 6;
  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

  private Pricing() {}

  /** The most a call can cost: every input token estimated high, every allowed output token. */
  public static BigDecimal worstCase(ModelConfig model, long inputTokens, long maxOutputTokens) {
    return raw(model, inputTokens, maxOutputTokens).setScale(SCALE, RoundingMode.CEILING);
  }

  /** What a call cost, from the tokens it used. */
  public static BigDecimal actual(ModelConfig model, long inputTokens, long outputTokens) {
    return raw(model, inputTokens, outputTokens).setScale(SCALE, RoundingMode.HALF_UP);
  }

  private static BigDecimal raw(ModelConfig model, long inputTokens, long outputTokens) {
    return model
        .inputCostPer1mTokens()
        .multiply(BigDecimal.valueOf(inputTokens))
        .add(model.outputCostPer1mTokens().multiply(BigDecimal.valueOf(outputTokens)))
        .divide(MILLION);
  }
}
