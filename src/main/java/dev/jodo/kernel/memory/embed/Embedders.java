package dev.jodo.kernel.memory.embed;

import dev.jodo.kernel.platform.http.ApiException;
import java.util.List;
import java.util.Objects;

/** Vector arithmetic shared by embedders, the memory service and tests. */
public final class Embedders {
  private Embedders() {}

  /**
   * Cosine similarity in [-1, 1]; 0 when either vector is all zeros (it has no direction). Vectors
   * of different lengths come from different models and cannot be compared.
   */
  public static double cosine(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "cannot compare vectors of " + a.length + " and " + b.length + " dimensions");
    }
    double dot = 0;
    double normA = 0;
    double normB = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      normA += (double) a[i] * a[i];
      normB += (double) b[i] * b[i];
    }
    if (normA == 0 || normB == 0) {
      return 0;
    }
    // Rounding can land a hair outside the range for (anti)parallel vectors.
    return Math.max(-1, Math.min(1, dot / Math.sqrt(normA * normB)));
  }

  /** {@code vector} scaled to unit length; an all-zero vector is returned as it is. */
  static float[] normalized(float[] vector) {
    double sum = 0;
    for (float v : vector) {
      sum += (double) v * v;
    }
    if (sum == 0) {
      return vector;
    }
    double norm = Math.sqrt(sum);
    float[] unit = new float[vector.length];
    for (int i = 0; i < vector.length; i++) {
      unit[i] = (float) (vector[i] / norm);
    }
    return unit;
  }

  /** Refuses blank texts up front, so no model runs and no budget is reserved for them. */
  static void requireText(List<String> texts) {
    Objects.requireNonNull(texts, "texts");
    for (int i = 0; i < texts.size(); i++) {
      String text = Objects.requireNonNull(texts.get(i), "texts[" + i + "]");
      if (text.isBlank()) {
        throw blank(i, texts.size());
      }
    }
  }

  static ApiException blank(int index, int count) {
    return ApiException.badRequest(
        "cannot embed text "
            + (index + 1)
            + " of "
            + count
            + ": it is empty or whitespace, so there is nothing to embed");
  }
}
