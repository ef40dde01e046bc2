package dev.jodo.kernel.runs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workspace's declarative workflows, {@code workflows/*.yaml}: read again whenever a file was
 * added, changed or removed. A file with a problem is left out (and its problems logged once); the
 * others keep working.
 */
final class WorkflowFiles {
  private static final Logger log = LoggerFactory.getLogger(WorkflowFiles.class);

  /** What the folder holds now: the loaded workflows by name, and the problems of the others. */
  record Snapshot(Map<String, WorkflowFile> workflows, List<WorkflowFile.Problem> problems) {
    Optional<WorkflowFile> get(String name) {
      return Optional.ofNullable(workflows.get(name));
    }
  }

  private final Path dir;
  private String fingerprint = "";
  private Snapshot current = new Snapshot(Map.of(), List.of());

  WorkflowFiles(Path dir) {
    this.dir = dir;
  }

  /** The workflows as the files are now (a folder listing when nothing changed). */
  synchronized Snapshot current() {
    List<Path> files = files();
    StringBuilder print = new StringBuilder();
    try {
      for (Path file : files) {
        print
            .append(file.getFileName())
            .append(':')
            .append(Files.getLastModifiedTime(file).toMillis())
            .append(':')
            .append(Files.size(file))
            .append(';');
      }
    } catch (IOException e) {
      // A file removed while listing: read everything again next time.
      print.append("changing");
    }
    if (!print.toString().equals(fingerprint)) {
      current = load(files);
      fingerprint = print.toString();
      current.problems().forEach(problem -> log.warn("workflow not loaded: {}", problem));
    }
    return current;
  }

  /** Loads the workflows in {@code dir} afresh (for {@code jodo workflows check}). */
  static Snapshot check(Path dir) {
    return new WorkflowFiles(dir).load(new WorkflowFiles(dir).files());
  }

  private Snapshot load(List<Path> files) {
    Map<String, WorkflowFile> workflows = new TreeMap<>();
    List<WorkflowFile.Problem> problems = new ArrayList<>();
    for (Path file : files) {
      String name = file.getFileName().toString();
      try {
        WorkflowFile workflow =
            WorkflowFile.parse(name, Files.readString(file, StandardCharsets.UTF_8));
        if (workflows.containsKey(workflow.name())) {
          problems.add(
              new WorkflowFile.Problem(
                  name, 1, "a second file for workflow '" + workflow.name() + "'; keep one"));
        } else {
          workflows.put(workflow.name(), workflow);
        }
      } catch (WorkflowFile.Invalid e) {
        problems.addAll(e.problems());
      } catch (IOException e) {
        problems.add(new WorkflowFile.Problem(name, 1, "cannot read it: " + e.getMessage()));
      }
    }
    return new Snapshot(Map.copyOf(workflows), List.copyOf(problems));
  }

  private List<Path> files() {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(dir)) {
      return entries
          .filter(p -> p.getFileName().toString().matches(".+\\.ya?ml"))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the workflows in " + dir, e);
    }
  }
}
