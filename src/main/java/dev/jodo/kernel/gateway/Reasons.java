package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.QuotaConfig;
import dev.jodo.kernel.platform.http.ApiException;
import java.math.BigDecimal;
import java.math.RoundingMode;

/** The sentences the gateway answers with when it cannot serve: each names the figure at fault. */
final class Reasons {
  private Reasons() {}

  static String unaffordable(Candidate candidate, Intent intent, BigDecimal spent) {
    BigDecimal limit = candidate.limit().orElse(BigDecimal.ZERO);
    BigDecimal left = limit.subtract(spent).max(BigDecimal.ZERO);
    String usable =
        intent == Intent.REPAIR
            ? "its $" + usd(limit) + " monthly budget"
            : "its $"
                + usd(limit)
                + " usable this month (budget $"
                + usd(candidate.provider().monthlyBudget())
                + " less the $"
                + usd(candidate.provider().emergencyReserve())
                + " emergency reserve)";
    return candidate.label()
        + ": worst case $"
        + usd(candidate.worstCase())
        + " exceeds the $"
        + usd(left)
        + " left of "
        + usable
        + ", $"
        + usd(spent)
        + " spent";
  }

  static String agentCost(Candidate candidate, String agent, BigDecimal spent, BigDecimal limit) {
    return candidate.label()
        + ": worst case $"
        + usd(candidate.worstCase())
        + " would take agent '"
        + agent
        + "' past its cost_per_month of $"
        + usd(limit)
        + " ($"
        + usd(spent)
        + " spent)";
  }

  static ApiException limited(
      String agent, BudgetLedger.Limited limited, QuotaConfig.Limits limits, long requestTokens) {
    String message =
        switch (limited.kind()) {
          case "rate_requests" ->
              "agent '"
                  + agent
                  + "' made "
                  + limited.used().toPlainString()
                  + " requests in the last minute; its limit is "
                  + limits.requestsPerMinute().getAsInt()
                  + " requests_per_minute";
          case "rate_tokens" ->
              "agent '"
                  + agent
                  + "' used "
                  + limited.used().toPlainString()
                  + " tokens in the last minute and this request may use "
                  + requestTokens
                  + "; its limit is "
                  + limits.tokensPerMinute().getAsLong()
                  + " tokens_per_minute";
          case "rate_tokens_never" ->
              "this request may use "
                  + requestTokens
                  + " tokens (input bound + max_tokens), more than agent '"
                  + agent
                  + "''s limit of "
                  + limits.tokensPerMinute().getAsLong()
                  + " tokens_per_minute; lower max_tokens or shorten the input";
          case "quota_tokens_day" ->
              "agent '"
                  + agent
                  + "' has used "
                  + limited.used().toPlainString()
                  + " of its "
                  + limits.tokensPerDay().getAsLong()
                  + " tokens_per_day and this request may use "
                  + requestTokens
                  + " more";
          case "quota_cost_month" ->
              "agent '"
                  + agent
                  + "' has spent $"
                  + usd(limited.used())
                  + " of its $"
                  + usd(limits.costPerMonth().orElse(BigDecimal.ZERO))
                  + " cost_per_month";
          default -> "agent '" + agent + "' is over a limit (" + limited.kind() + ")";
        };
    String code = limited.kind().startsWith("rate_") ? "rate_limited" : "quota_exceeded";
    return ApiException.tooManyRequests(code, message, limited.retryAfter());
  }

  /** Dollars without trailing zeros: 0.0315, 18, 12.5. */
  static String usd(BigDecimal amount) {
    BigDecimal stripped = amount.setScale(Pricing.SCALE, RoundingMode.HALF_UP).stripTrailingZeros();
    return (stripped.scale() < 0 ? stripped.setScale(0) : stripped).toPlainString();
  }
}
