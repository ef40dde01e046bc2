package dev.jodo.kernel.platform.config;

/**
 * The {@code runs:} section: how many of a kernel's runs call a model at once, how many model calls
 * one agent turn may make before it fails, and the session size (in estimated tokens) beyond which
 * the older part of a conversation is summarized.
 */
public record RunsConfig(int maxConcurrent, int maxTurns, int compactAfterTokens) {
  public static final RunsConfig DEFAULTS = new RunsConfig(16, 8, 8000);
}
