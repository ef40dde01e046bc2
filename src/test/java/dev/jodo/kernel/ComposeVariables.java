package dev.jodo.kernel;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Docker Compose's variable syntax, as far as the repository's compose file may use it: {@code
 * ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR-default}}, {@code ${VAR:?error}}, {@code
 * ${VAR?error}}, bare {@code $VAR} and the {@code $$} escape. No Docker engine runs where the tests
 * do, so this stands in for {@code docker compose config}.
 */
final class ComposeVariables {
  private static final Pattern TOKEN =
      Pattern.compile(
          "\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  private ComposeVariables() {}

  /** The names a string refers to; {@code $$} is an escape, not a reference. */
  static Set<String> names(String text) {
    Set<String> names = new LinkedHashSet<>();
    Matcher matcher = TOKEN.matcher(text);
    while (matcher.find()) {
      if (matcher.group(1) != null) {
        names.add(matcher.group(1));
      } else if (matcher.group(4) != null) {
        names.add(matcher.group(4));
      }
    }
    return names;
  }

  /**
   * The string as Compose would pass it on; {@code ${VAR:?error}} with VAR unset or empty throws
   * the error, as {@code docker compose up} stops with it.
   */
  static String interpolate(String text, Map<String, String> env) {
    Matcher matcher = TOKEN.matcher(text);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String value;
      if (matcher.group().equals("$$")) {
        value = "$";
      } else if (matcher.group(4) != null) {
        value = env.getOrDefault(matcher.group(4), "");
      } else {
        value = resolve(matcher.group(1), matcher.group(2), matcher.group(3), env);
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    matcher.appendTail(out);
    return out.toString();
  }

  private static String resolve(
      String name, String operator, String argument, Map<String, String> env) {
    String value = env.get(name);
    boolean missing = operator != null && operator.startsWith(":") ? isEmpty(value) : value == null;
    if (operator == null || !missing) {
      return value == null ? "" : value;
    }
    if (operator.endsWith("?")) {
      throw new IllegalStateException("required variable " + name + " is missing: " + argument);
    }
    return argument;
  }

  private static boolean isEmpty(String value) {
    return value == null || value.isEmpty();
  }
}
