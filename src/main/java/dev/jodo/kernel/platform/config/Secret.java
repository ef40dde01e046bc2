package dev.jodo.kernel.platform.config;

import java.util.Objects;

/** A value that must never reach a log line, a response or an exception message. */
public record Secret(String value) {
  public Secret {
    Objects.requireNonNull(value, "value");
  }

  /** The first characters only, enough for a person to tell two secrets apart. */
  public String masked() {
    return value.length() <= 8 ? "****" : value.substring(0, 4) + "****";
  }

  @Override
  public String toString() {
    return "****";
  }
}
