package dev.jodo.kernel.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** {@code JODO_HOME/kernel.pid}: which process is the kernel of this home, if any. */
final class KernelProcess {
  private final Path pidFile;

  KernelProcess(Path home) {
    this.pidFile = home.resolve("kernel.pid");
  }

  Path pidFile() {
    return pidFile;
  }

  /**
   * The live kernel of this home; a stale file (dead or reused pid) counts as none, and so does
   * this very process: in a container the pid namespace starts afresh, so a kernel killed without
   * its shutdown hook leaves a file naming the pid its successor then gets.
   */
  Optional<ProcessHandle> running() {
    if (!Files.isRegularFile(pidFile)) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).strip());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    if (pid == ProcessHandle.current().pid()) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(KernelProcess::isKernel);
  }

  void write(long pid) {
    try {
      Files.createDirectories(pidFile.getParent());
      Files.writeString(pidFile, pid + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + pidFile, e);
    }
  }

  /** Removes the file if it still names {@code pid} (a newer kernel may have replaced it). */
  void deleteIfOwnedBy(long pid) {
    try {
      if (Files.isRegularFile(pidFile)
          && Files.readString(pidFile).strip().equals(Long.toString(pid))) {
        Files.deleteIfExists(pidFile);
      }
    } catch (IOException e) {
      // Best effort at shutdown: a stale pid file is detected and ignored later.
    }
  }

  void deleteStale() {
    try {
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + pidFile, e);
    }
  }

  /** Guards against pid reuse: the process must look like a Java kernel. */
  private static boolean isKernel(ProcessHandle handle) {
    Optional<String> commandLine = handle.info().commandLine();
    return commandLine.isEmpty()
        || commandLine.get().contains("dev.jodo.kernel")
        || commandLine.get().contains("jodo-kernel");
  }
}
