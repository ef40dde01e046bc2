package dev.jodo.kernel.platform.config;

/** {@code JODO_LOG_FORMAT}: human-readable lines or one JSON object per line. */
public enum LogFormat {
  PRETTY,
  JSON
}
