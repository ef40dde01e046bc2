package dev.jodo.kernel.platform.db;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Runs one external command with a deadline and keeps the tail of its combined output. */
final class Subprocess {
  static final int TAIL_LINES = 5;

  // Many root shells (cron, su without -l) leave the sbin directories off PATH.
  private static final List<String> SYSTEM_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

  private Subprocess() {}

  record Result(int exitCode, String output) {
    boolean succeeded() {
      return exitCode == 0;
    }

    /** The last lines of output, on one line, for an exception message. */
    String tail() {
      return lastLines(output, TAIL_LINES);
    }
  }

  static Result run(String label, List<String> command, Duration timeout) {
    return run(label, command, Map.of(), timeout);
  }

  /**
   * Output goes to a temporary file rather than a pipe: pg_ctl leaves a server running in the
   * background, and a pipe it inherited would never reach end-of-file.
   */
  static Result run(String label, List<String> command, Map<String, String> env, Duration timeout) {
    Path output = createOutputFile();
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .directory(new File("/"))
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectErrorStream(true)
              .redirectOutput(output.toFile());
      // A PGPORT or PGDATA meant for some other server must not leak into ours.
      builder.environment().keySet().removeIf(name -> name.startsWith("PG"));
      builder.environment().put("LC_ALL", "C");
      builder.environment().putAll(env);
      Process process = start(label, builder);
      boolean finished = waitFor(label, process, timeout);
      if (!finished) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new LocalPostgresException(
            label
                + " did not finish within "
                + timeout.toSeconds()
                + " s and was stopped; last output: "
                + lastLines(read(output), TAIL_LINES));
      }
      return new Result(process.exitValue(), read(output));
    } finally {
      deleteQuietly(output);
    }
  }

  /** The executable called name on PATH or in the usual system directories. */
  static Optional<Path> which(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.concat(Arrays.stream(path.split(File.pathSeparator)), SYSTEM_DIRS.stream())
        .filter(dir -> !dir.isBlank())
        .map(dir -> Path.of(dir, name))
        .filter(file -> Files.isRegularFile(file) && Files.isExecutable(file))
        .findFirst();
  }

  /** The last count non-blank lines of text joined with " | ", or "(no output)". */
  static String lastLines(String text, int count) {
    List<String> lines = text.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    if (lines.isEmpty()) {
      return "(no output)";
    }
    return lines.subList(Math.max(0, lines.size() - count), lines.size()).stream()
        .collect(Collectors.joining(" | "));
  }

  private static Process start(String label, ProcessBuilder builder) {
    try {
      return builder.start();
    } catch (IOException e) {
      throw new LocalPostgresException(
          "could not run " + label + " (" + builder.command().get(0) + "): " + e.getMessage(), e);
    }
  }

  private static boolean waitFor(String label, Process process, Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      throw new LocalPostgresException(label + " was interrupted", e);
    }
  }

  private static Path createOutputFile() {
    try {
      return Files.createTempFile("jodo-postgres-", ".out");
    } catch (IOException e) {
      throw new LocalPostgresException(
          "cannot create a temporary file for command output: " + e.getMessage(), e);
    }
  }

  private static String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A leftover file in the temp directory is harmless.
    }
  }
}
