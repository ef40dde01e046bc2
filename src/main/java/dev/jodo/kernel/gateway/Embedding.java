package dev.jodo.kernel.gateway;

import java.math.BigDecimal;
import java.util.List;

/** Served embeddings: one vector per input, who served them, tokens and cost. */
public record Embedding(
    List<float[]> vectors, String provider, String model, int inputTokens, BigDecimal cost) {
  public Embedding {
    vectors = List.copyOf(vectors);
  }
}
