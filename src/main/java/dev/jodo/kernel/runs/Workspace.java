package dev.jodo.kernel.runs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Seed 001's workspace contract ({@code JODO_WORKSPACE_DIR}, default {@code JODO_HOME/workspace}):
 * the user's overrides of the agent's system prompt. {@code SYSTEM.md} replaces the built-in
 * prompt, {@code APPEND_SYSTEM.md} is appended to it, and {@code AGENTS.md} files (the global one
 * in {@code JODO_HOME}, then the workspace's) are loaded as context. The files are read for every
 * turn, so an edit applies to the next run without a restart.
 */
final class Workspace {
  static final String BUILT_IN_PROMPT =
      "You are a helpful assistant, talking with a person through the Jodo Kernel."
          + " Answer clearly and briefly.";

  private static final String README =
      """
      # The agent's workspace

      Files here change how the agent behaves; they are read for every message, no restart needed.

      - `SYSTEM.md`: replaces the built-in system prompt.
      - `APPEND_SYSTEM.md`: appended to the system prompt.
      - `AGENTS.md`: your policies and conventions, loaded as context (a global one may also live
        in JODO_HOME/AGENTS.md).
      - `workflows/`, `skills/`, `prompts/`, `tools/`: for the next features (see docs/runs.md).
      """;

  private final Path dir;
  private final Path home;

  Workspace(Path dir, Path home) {
    this.dir = dir;
    this.home = home;
  }

  /** Creates the workspace with a README and its folders on first boot; leaves one alone. */
  static Workspace open(Path dir, Path home) {
    try {
      if (!Files.exists(dir)) {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("README.md"), README, StandardCharsets.UTF_8);
        for (String folder : List.of("workflows", "skills", "prompts", "tools")) {
          Files.createDirectories(dir.resolve(folder));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the workspace " + dir, e);
    }
    return new Workspace(dir, home);
  }

  Path directory() {
    return dir;
  }

  /** The system prompt for a turn, with the workspace's replacement, addition and context. */
  String systemPrompt() {
    StringBuilder prompt =
        new StringBuilder(read(dir.resolve("SYSTEM.md")).orElse(BUILT_IN_PROMPT));
    read(dir.resolve("APPEND_SYSTEM.md")).ifPresent(text -> prompt.append("\n\n").append(text));
    List<String> contexts = new ArrayList<>();
    read(home.resolve("AGENTS.md"))
        .ifPresent(text -> contexts.add("## AGENTS.md (global)\n\n" + text));
    if (!home.resolve("AGENTS.md").equals(dir.resolve("AGENTS.md"))) {
      read(dir.resolve("AGENTS.md"))
          .ifPresent(text -> contexts.add("## AGENTS.md (workspace)\n\n" + text));
    }
    if (!contexts.isEmpty()) {
      prompt.append("\n\n# Context\n\n").append(String.join("\n\n", contexts));
    }
    return prompt.toString();
  }

  private static Optional<String> read(Path file) {
    try {
      if (!Files.isRegularFile(file)) {
        return Optional.empty();
      }
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      return text.isEmpty() ? Optional.empty() : Optional.of(text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
