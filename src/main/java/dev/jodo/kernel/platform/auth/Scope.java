package dev.jodo.kernel.platform.auth;

import io.javalin.security.RouteRole;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a token may do. Routes declare the scope they need; the admin token holds every scope, and
 * {@link #ADMIN} marks routes only the admin token may call.
 */
public enum Scope implements RouteRole {
  THINK,
  MEMORY,
  BUDGET,
  STATUS,
  GENESIS,
  COMMIT,
  HISTORY,
  EVENTS,
  RUNS,
  /** Lifecycle and administration; never granted to an agent token. */
  ADMIN;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Scope> parse(String text) {
    return Arrays.stream(values())
        .filter(s -> s.wireName().equals(text.trim().toLowerCase(Locale.ROOT)))
        .findFirst();
  }

  /** The scopes an agent token may hold, for messages. */
  public static String grantable() {
    return Arrays.stream(values())
        .filter(s -> s != ADMIN)
        .map(Scope::wireName)
        .collect(Collectors.joining(", "));
  }
}
