package dev.jodo.kernel.memory.embed;

import dev.jodo.kernel.platform.auth.Principal;
import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * Turns texts into unit-length vectors for memory search. Two implementations: {@link
 * LocalEmbedder} (bundled all-MiniLM-L6-v2, free, offline) and {@link GatewayEmbedder} (a
 * provider's embedding model through the inference gateway, budgeted).
 *
 * <pre>{@code
 * Embedder.Embedded done = embedder.embed(caller, List.of("The human prefers concise responses"));
 * float[] vector = done.vectors().get(0);   // store it with done.model()
 * }</pre>
 *
 * <p>Blank texts are refused with a 400 before any work or spending: there is nothing to embed.
 */
public interface Embedder extends AutoCloseable {
  /**
   * The model's stable name as stored with each memory, e.g. "all-minilm-l6-v2" or
   * "openai/text-embedding-3-small".
   */
  String model();

  /** Vectors (one per text, in order) and what they cost. */
  Embedded embed(Principal caller, List<String> texts);

  /**
   * One unit-length vector per text, in input order; what the call cost in USD; and the model that
   * made these vectors, which is what a memory must record (a routed embedder may be served by a
   * different model from one call to the next).
   */
  record Embedded(List<float[]> vectors, BigDecimal cost, String model) {
    public Embedded {
      vectors = List.copyOf(vectors);
      Objects.requireNonNull(cost, "cost");
      Objects.requireNonNull(model, "model");
    }
  }

  @Override
  void close();
}
