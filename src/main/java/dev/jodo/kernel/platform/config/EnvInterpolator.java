package dev.jodo.kernel.platform.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}} and {@code ${VAR:-default}} with values from the environment. An unset
 * variable without a default is reported back instead of silently becoming an empty string, so the
 * caller can decide whether that disables a feature (a provider's key) or is an error.
 */
final class EnvInterpolator {
  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

  private final Map<String, String> env;

  EnvInterpolator(Map<String, String> env) {
    this.env = env;
  }

  record Result(String value, List<String> unsetVariables) {
    boolean complete() {
      return unsetVariables.isEmpty();
    }
  }

  Result interpolate(String text) {
    Matcher matcher = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    List<String> unset = new ArrayList<>();
    while (matcher.find()) {
      String name = matcher.group(1);
      String fallback = matcher.group(2);
      String value = env.get(name);
      if (value == null || (value.isEmpty() && fallback != null)) {
        if (fallback != null) {
          value = fallback;
        } else {
          unset.add(name);
          value = "";
        }
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(out);
    return new Result(out.toString(), List.copyOf(unset));
  }
}
