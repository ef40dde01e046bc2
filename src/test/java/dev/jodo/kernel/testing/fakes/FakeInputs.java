package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Request fields the three protocols share in shape. */
final class FakeInputs {
  private FakeInputs() {}

  /** An embedding {@code input}: one string or an array of strings; null when neither. */
  static List<String> strings(JsonNode input) {
    if (input.isTextual()) {
      return List.of(input.asText());
    }
    if (!input.isArray()) {
      return null;
    }
    List<String> strings = new ArrayList<>();
    for (JsonNode item : input) {
      if (!item.isTextual()) {
        return null;
      }
      strings.add(item.asText());
    }
    return strings;
  }
}
