package dev.jodo.kernel.gateway;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** Admission order when a provider is at its concurrency limit: earlier constants go first. */
public enum Priority {
  REPAIR,
  REALTIME,
  NORMAL,
  BATCH;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Priority> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(p -> p.wire().equals(wanted)).findFirst();
  }

  public static String valid() {
    return Arrays.stream(values()).map(Priority::wire).collect(Collectors.joining(", "));
  }
}
