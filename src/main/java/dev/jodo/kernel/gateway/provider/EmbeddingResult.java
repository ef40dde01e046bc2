package dev.jodo.kernel.gateway.provider;

import java.util.List;
import java.util.Optional;

/** One vector per input, in input order, and the input tokens if the provider reported them. */
public record EmbeddingResult(
    List<float[]> vectors, Optional<Integer> reportedInputTokens, String model) {
  public EmbeddingResult {
    vectors = List.copyOf(vectors);
  }
}
