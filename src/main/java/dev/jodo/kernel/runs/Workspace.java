package dev.jodo.kernel.runs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Seed 001's workspace contract ({@code JODO_WORKSPACE_DIR}, default {@code JODO_HOME/workspace}):
 * the user's overrides of the agent's system prompt. {@code SYSTEM.md} replaces the built-in
 * prompt, {@code APPEND_SYSTEM.md} is appended to it, {@code AGENTS.md} files (the global one in
 * {@code JODO_HOME}, those of the workspace's parent directories, outermost first, then the
 * workspace's) are loaded as context, and the skills under {@code skills/} are listed by their
 * descriptions. The files are read for every turn, so an edit applies to the next run without a
 * restart.
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
      - `skills/<name>/SKILL.md`: a skill (Agent Skills format: front matter with `name` and
        `description`); the agent sees each skill's description.
      - `tools/<name>/tool.yaml`: a tool the agent may call (see docs/tools.md).
      - `workflows/`, `prompts/`: see docs/runs.md.
      """;

  /** A commented sample workflow; its name does not end in .yaml, so it is not loaded. */
  private static final String SAMPLE_WORKFLOW =
      """
      # A sample declarative workflow (docs/workflows.md). Copy it to a name ending in .yaml,
      # e.g. `cp hello.yaml.sample hello.yaml`, and send an event of type "hello"
      # (POST /v1/events with "type": "hello"). `./jodo workflows check` checks the files.
      description: Greets the person, remembering what they told it before.
      # schedule: "0 0 7 * * *"     # uncomment to run it at 07:00 every day
      steps:
        - recall: {query: "{{event.text}}", limit: 3, as: memories}
        - think:
            prompt: "Greet the person warmly. They said: {{event.text}}. You remember: {{memories}}"
            as: greeting
        - reply: "{{greeting}}"
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
        Files.writeString(
            dir.resolve("workflows/hello.yaml.sample"), SAMPLE_WORKFLOW, StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the workspace " + dir, e);
    }
    return new Workspace(dir, home);
  }

  Path directory() {
    return dir;
  }

  /** A skill of the workspace: its name, what it is for, and where its instructions are. */
  record Skill(String name, String description, String path) {}

  /** The system prompt for a turn, with the workspace's replacement, addition and context. */
  String systemPrompt() {
    StringBuilder prompt =
        new StringBuilder(read(dir.resolve("SYSTEM.md")).orElse(BUILT_IN_PROMPT));
    read(dir.resolve("APPEND_SYSTEM.md")).ifPresent(text -> prompt.append("\n\n").append(text));
    List<String> contexts = new ArrayList<>();
    Path global = home.resolve("AGENTS.md");
    read(global).ifPresent(text -> contexts.add("## AGENTS.md (global)\n\n" + text));
    List<Path> parents = new ArrayList<>();
    for (Path p = dir.toAbsolutePath().normalize().getParent(); p != null; p = p.getParent()) {
      parents.add(0, p.resolve("AGENTS.md"));
    }
    for (Path file : parents) {
      if (!file.equals(global.toAbsolutePath().normalize())) {
        read(file).ifPresent(text -> contexts.add("## " + file + "\n\n" + text));
      }
    }
    if (!global.toAbsolutePath().normalize().equals(dir.resolve("AGENTS.md").toAbsolutePath())) {
      read(dir.resolve("AGENTS.md"))
          .ifPresent(text -> contexts.add("## AGENTS.md (workspace)\n\n" + text));
    }
    if (!contexts.isEmpty()) {
      prompt.append("\n\n# Context\n\n").append(String.join("\n\n", contexts));
    }
    List<Skill> skills = skills();
    if (!skills.isEmpty()) {
      prompt.append("\n\n# Skills\n\nSkills in the workspace, by what they are for:\n");
      for (Skill skill : skills) {
        prompt
            .append("\n- ")
            .append(skill.name())
            .append(": ")
            .append(skill.description())
            .append(" (")
            .append(skill.path())
            .append(")");
      }
    }
    return prompt.toString();
  }

  /**
   * The skills: {@code skills/<name>/SKILL.md}, in name order. The description is the front
   * matter's {@code description} (or, without front matter, the first line of text).
   */
  List<Skill> skills() {
    Path root = dir.resolve("skills");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Skill> skills = new ArrayList<>();
    try (Stream<Path> entries = Files.list(root)) {
      for (Path folder : entries.sorted().toList()) {
        Path file = folder.resolve("SKILL.md");
        Optional<String> text = read(file);
        if (text.isEmpty()) {
          continue;
        }
        Map<String, String> front = frontMatter(text.get());
        String name = front.getOrDefault("name", folder.getFileName().toString());
        String description =
            front.getOrDefault(
                "description",
                text.get().lines().filter(l -> !l.isBlank()).findFirst().orElse("").strip());
        skills.add(new Skill(name, description, dir.relativize(file).toString()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the skills in " + root, e);
    }
    return skills;
  }

  /** The simple {@code key: value} lines between a leading {@code ---} and the next one. */
  private static Map<String, String> frontMatter(String text) {
    Map<String, String> fields = new LinkedHashMap<>();
    List<String> lines = text.lines().toList();
    if (lines.isEmpty() || !lines.get(0).strip().equals("---")) {
      return fields;
    }
    for (String line : lines.subList(1, lines.size())) {
      if (line.strip().equals("---")) {
        return fields;
      }
      int colon = line.indexOf(':');
      if (colon > 0 && !Character.isWhitespace(line.charAt(0))) {
        String value = line.substring(colon + 1).strip();
        if (value.length() >= 2
            && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
          value = value.substring(1, value.length() - 1);
        }
        fields.put(line.substring(0, colon).strip(), value);
      }
    }
    return Map.of(); // no closing ---: not front matter
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
