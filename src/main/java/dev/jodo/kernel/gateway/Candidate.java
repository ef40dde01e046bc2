package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ModelConfig;
import dev.jodo.kernel.platform.config.ProviderConfig;
import java.math.BigDecimal;
import java.util.Optional;

/**
 * One provider and model that could serve a call, its worst-case cost, and the most this intent may
 * have spent at that provider this month after reserving it ({@code limit}; empty for a free model,
 * which is never reserved).
 */
record Candidate(
    ProviderConfig provider, ModelConfig model, BigDecimal worstCase, Optional<BigDecimal> limit) {

  String label() {
    return provider.name() + "/" + model.name();
  }
}
