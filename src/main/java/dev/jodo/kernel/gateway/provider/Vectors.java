package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;

/** Embedding vectors read from JSON arrays of numbers. */
final class Vectors {
  private Vectors() {}

  static float[] of(JsonNode array) {
    float[] vector = new float[array.size()];
    for (int i = 0; i < vector.length; i++) {
      vector[i] = (float) array.get(i).asDouble();
    }
    return vector;
  }

  /** All vectors, in input order; a provider that skipped one is answering wrongly. */
  static List<float[]> complete(float[][] vectors, String provider)
      throws ProviderException.Unavailable {
    for (int i = 0; i < vectors.length; i++) {
      if (vectors[i] == null) {
        throw new ProviderException.Unavailable(
            502, provider + " returned no embedding for input " + i + " of " + vectors.length);
      }
    }
    return Arrays.asList(vectors);
  }
}
