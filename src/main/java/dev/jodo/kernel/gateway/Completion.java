package dev.jodo.kernel.gateway;

import dev.jodo.kernel.gateway.provider.ChatResult;
import dev.jodo.kernel.gateway.provider.Usage;
import java.math.BigDecimal;
import java.util.Map;

/**
 * A served chat call: the answer, who served it, the tokens billed, what it cost, and every
 * provider's spend this month after it (for seed 000's {@code budget_remaining}).
 */
public record Completion(
    ChatResult result,
    String provider,
    String model,
    Usage usage,
    BigDecimal cost,
    long usageId,
    Map<String, BigDecimal> spentThisMonth) {}
