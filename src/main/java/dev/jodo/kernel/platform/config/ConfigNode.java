package dev.jodo.kernel.platform.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A cursor over one YAML mapping that reads typed values and records a {@link ConfigProblem} for
 * each unknown key, wrong type or bad value instead of throwing, so one run lists every problem.
 */
final class ConfigNode {
  private final String file;
  private final String path;
  private final JsonNode node;
  private final List<ConfigProblem> problems;
  private final EnvInterpolator env;

  ConfigNode(
      String file, String path, JsonNode node, List<ConfigProblem> problems, EnvInterpolator env) {
    this.file = file;
    this.path = path;
    this.node = node;
    this.problems = problems;
    this.env = env;
  }

  String path() {
    return path;
  }

  String pathOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  boolean isMissing() {
    return node == null || node.isMissingNode() || node.isNull();
  }

  boolean has(String key) {
    JsonNode value = node == null ? null : node.get(key);
    return value != null && !value.isNull();
  }

  void problem(String key, String message) {
    problems.add(new ConfigProblem(file, key == null ? path : pathOf(key), message));
  }

  /** Reports every key not in {@code known}, suggesting the closest known key. */
  void allowOnly(Set<String> known) {
    if (node == null || !node.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String key = field.getKey();
      if (!known.contains(key)) {
        String suggestion = closest(key, known).map(k -> "; did you mean '" + k + "'?").orElse("");
        problem(
            key,
            "unknown key"
                + suggestion
                + (suggestion.isEmpty() ? "; known keys here are " + sorted(known) : ""));
      }
    }
  }

  /** A nested mapping; reports a problem (and returns an empty node) if the value is not one. */
  ConfigNode object(String key) {
    JsonNode value = node == null ? null : node.get(key);
    if (value != null && !value.isNull() && !value.isObject()) {
      problem(key, "expected a mapping of keys to values, found " + describe(value));
      value = null;
    }
    return new ConfigNode(file, pathOf(key), value, problems, env);
  }

  /** The entries of a mapping in file order. */
  Map<String, ConfigNode> entries() {
    Map<String, ConfigNode> result = new LinkedHashMap<>();
    if (node == null || !node.isObject()) {
      return result;
    }
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      JsonNode value = entry.getValue();
      if (!value.isObject()) {
        problem(entry.getKey(), "expected a mapping of keys to values, found " + describe(value));
        value = null;
      }
      result.put(
          entry.getKey(), new ConfigNode(file, pathOf(entry.getKey()), value, problems, env));
    }
    return result;
  }

  /** A list of mappings, each as a node named {@code key[i]}; other elements are reported. */
  List<ConfigNode> objectList(String key) {
    JsonNode value = node == null ? null : node.get(key);
    List<ConfigNode> result = new ArrayList<>();
    if (value == null || value.isNull()) {
      return result;
    }
    if (!value.isArray()) {
      problem(key, "expected a list of mappings (- name: ...), found " + describe(value));
      return result;
    }
    for (int i = 0; i < value.size(); i++) {
      JsonNode element = value.get(i);
      String elementPath = pathOf(key) + "[" + i + "]";
      if (!element.isObject()) {
        problems.add(
            new ConfigProblem(
                file,
                elementPath,
                "expected a mapping of keys to values, found " + describe(element)));
      } else {
        result.add(new ConfigNode(file, elementPath, element, problems, env));
      }
    }
    return result;
  }

  /** A scalar as text after ${VAR} interpolation; unset variables are reported as problems. */
  Optional<String> string(String key) {
    Optional<Interpolated> value = interpolated(key);
    if (value.isPresent() && !value.get().unsetVariables().isEmpty()) {
      String name = value.get().unsetVariables().get(0);
      problem(
          key,
          "environment variable "
              + name
              + " is not set; export "
              + name
              + " or give a default with ${"
              + name
              + ":-value}");
      return Optional.empty();
    }
    return value.map(Interpolated::value);
  }

  String string(String key, String defaultValue) {
    return string(key).orElse(defaultValue);
  }

  /** A secret that may legitimately be absent: unset variables are returned, not reported. */
  Optional<Interpolated> interpolated(String key) {
    JsonNode value = node == null ? null : node.get(key);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isValueNode()) {
      problem(key, "expected a single value, found " + describe(value));
      return Optional.empty();
    }
    EnvInterpolator.Result result = env.interpolate(value.asText());
    return Optional.of(new Interpolated(result.value(), result.unsetVariables()));
  }

  record Interpolated(String value, List<String> unsetVariables) {}

  int integer(String key, int defaultValue, int min, int max) {
    Optional<String> text = string(key);
    if (text.isEmpty()) {
      return defaultValue;
    }
    try {
      int value = Integer.parseInt(text.get().trim());
      if (value < min || value > max) {
        problem(
            key, quote(text.get()) + " is out of range; use a value from " + min + " to " + max);
        return defaultValue;
      }
      return value;
    } catch (NumberFormatException e) {
      problem(
          key,
          quote(text.get()) + " is not a whole number; use a value from " + min + " to " + max);
      return defaultValue;
    }
  }

  BigDecimal decimal(String key, BigDecimal defaultValue, String unitHint) {
    Optional<String> text = string(key);
    if (text.isEmpty()) {
      return defaultValue;
    }
    try {
      BigDecimal value = new BigDecimal(text.get().trim());
      if (value.signum() < 0) {
        problem(key, quote(text.get()) + " is negative; use 0 or more " + unitHint);
        return defaultValue;
      }
      return value;
    } catch (NumberFormatException e) {
      problem(key, quote(text.get()) + " is not a number; use a decimal such as 0.50 " + unitHint);
      return defaultValue;
    }
  }

  BigDecimal requiredDecimal(String key, String unitHint) {
    if (!has(key)) {
      problem(key, "missing; set it to a decimal such as 0.50 " + unitHint);
      return BigDecimal.ZERO;
    }
    return decimal(key, BigDecimal.ZERO, unitHint);
  }

  <T> T choice(String key, T defaultValue, Map<String, T> choices) {
    Optional<String> text = string(key);
    if (text.isEmpty()) {
      return defaultValue;
    }
    T value = choices.get(text.get().trim().toLowerCase(Locale.ROOT));
    if (value == null) {
      problem(key, quote(text.get()) + " is not allowed; use one of " + sorted(choices.keySet()));
      return defaultValue;
    }
    return value;
  }

  /** A list of scalars; each element must satisfy {@code valid} or is reported with {@code fix}. */
  List<String> stringList(String key, Predicate<String> valid, String fix) {
    JsonNode value = node == null ? null : node.get(key);
    List<String> result = new ArrayList<>();
    if (value == null || value.isNull()) {
      return result;
    }
    if (!value.isArray()) {
      problem(key, "expected a list such as [a, b], found " + describe(value));
      return result;
    }
    for (int i = 0; i < value.size(); i++) {
      JsonNode element = value.get(i);
      String text = element.isValueNode() ? env.interpolate(element.asText()).value() : null;
      if (text == null || !valid.test(text)) {
        problems.add(
            new ConfigProblem(
                file,
                pathOf(key) + "[" + i + "]",
                (text == null ? describe(element) : quote(text)) + " is not allowed; " + fix));
      } else {
        result.add(text);
      }
    }
    return result;
  }

  static String quote(String value) {
    return "'" + value + "'";
  }

  private static String describe(JsonNode value) {
    if (value.isObject()) {
      return "a mapping";
    }
    if (value.isArray()) {
      return "a list";
    }
    return quote(value.asText());
  }

  private static String sorted(Set<String> keys) {
    return String.join(", ", keys.stream().sorted().toList());
  }

  private static Optional<String> closest(String key, Set<String> known) {
    return known.stream()
        .filter(k -> distance(k, key) <= Math.max(2, key.length() / 3))
        .min(Comparator.comparingInt(k -> distance(k, key)));
  }

  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
