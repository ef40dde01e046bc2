package dev.jodo.kernel.platform.db;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The lock file a server keeps in its data directory: pid, data directory, start time, port, socket
 * directory, listen address, shared memory key and status, one per line.
 */
record PostmasterPid(long pid, int port, String status) {
  static final String FILE = "postmaster.pid";

  /** The lock file of a server that is alive now; a stale file (dead or recycled pid) is none. */
  static Optional<PostmasterPid> live(Path dataDir) {
    return read(dataDir.resolve(FILE)).filter(pidFile -> pidFile.isAlive(dataDir));
  }

  static Optional<PostmasterPid> read(Path file) {
    List<String> lines;
    try {
      lines = Files.readString(file, StandardCharsets.ISO_8859_1).lines().toList();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new LocalPostgresException("cannot read " + file + ": " + e.getMessage(), e);
    }
    // The server writes the file in steps, so a reader may see only the first lines.
    if (lines.isEmpty() || !lines.get(0).strip().matches("\\d{1,10}")) {
      return Optional.empty();
    }
    return Optional.of(
        new PostmasterPid(Long.parseLong(lines.get(0).strip()), number(lines, 3), text(lines, 7)));
  }

  boolean isReady() {
    return status.equals("ready") && port > 0;
  }

  /**
   * After a crash or a container restart the pid may belong to an unrelated process, so the process
   * must also run postgres as the owner of the data directory.
   */
  private boolean isAlive(Path dataDir) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()) {
      return false;
    }
    ProcessHandle.Info info = process.get().info();
    boolean isPostgres =
        info.command()
            .map(command -> command.endsWith("/postgres") || command.endsWith("/postmaster"))
            .orElse(true);
    return isPostgres && info.user().map(user -> user.equals(owner(dataDir))).orElse(true);
  }

  private static String owner(Path dataDir) {
    try {
      return Files.getOwner(dataDir).getName();
    } catch (IOException e) {
      throw new LocalPostgresException(
          "cannot read the owner of " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private static int number(List<String> lines, int index) {
    String value = text(lines, index);
    return value.matches("\\d{1,5}") ? Integer.parseInt(value) : 0;
  }

  private static String text(List<String> lines, int index) {
    return index < lines.size() ? lines.get(index).strip() : "";
  }
}
