package dev.jodo.kernel.agents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs agents as processes on the kernel's own machine. Each agent is started with {@code setsid}:
 * it leads its own session and process group, so a signal to the kernel's group (Ctrl-C, a service
 * manager stopping the kernel) never reaches it, and stopping the agent signals its whole group,
 * children included. The pid goes to a pid file, so that a kernel that starts again finds a running
 * agent and adopts it instead of starting a second copy.
 *
 * <pre>{@code
 * LocalHost host = new LocalHost();
 * long pid = host.start(new LocalHost.Launch(brain, List.of("python3", "main.py"), env, log, pidFile));
 * host.stop(pid, Duration.ofSeconds(5));
 * }</pre>
 */
public final class LocalHost {

  /**
   * What to run: {@code command} in {@code directory} with exactly {@code environment} (nothing is
   * inherited from the kernel, whose environment may hold provider keys), its output appended to
   * {@code log}, its pid written to {@code pidFile}.
   */
  public record Launch(
      Path directory,
      List<String> command,
      Map<String, String> environment,
      Path log,
      Path pidFile) {
    public Launch {
      command = List.copyOf(command);
      environment = Map.copyOf(environment);
    }
  }

  /** Starts {@code launch} in a new session; returns its pid, also written to its pid file. */
  public long start(Launch launch) {
    List<String> command = new ArrayList<>();
    command.add("setsid");
    command.addAll(launch.command());
    ProcessBuilder builder = new ProcessBuilder(command).directory(launch.directory().toFile());
    builder.environment().clear();
    builder.environment().putAll(launch.environment());
    try {
      Files.createDirectories(launch.log().toAbsolutePath().getParent());
      Files.createDirectories(launch.pidFile().toAbsolutePath().getParent());
      builder.redirectErrorStream(true);
      builder.redirectOutput(ProcessBuilder.Redirect.appendTo(launch.log().toFile()));
      builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      Process process = builder.start();
      long pid = process.pid(); // setsid execs the command: the pid stays the agent's
      Path temporary = launch.pidFile().resolveSibling(launch.pidFile().getFileName() + ".tmp");
      Files.writeString(temporary, pid + "\n", StandardCharsets.UTF_8);
      Files.move(
          temporary,
          launch.pidFile(),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      return pid;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start "
              + String.join(" ", launch.command())
              + " in "
              + launch.directory()
              + ": "
              + e.getMessage()
              + " (is setsid, from util-linux, installed?)",
          e);
    }
  }

  /**
   * The agent recorded in {@code pidFile}, if that process is alive and still runs a command
   * containing {@code marker} (a recycled pid that now belongs to something else is not adopted).
   */
  public Optional<Long> running(Path pidFile, String marker) {
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).strip());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(line -> line.contains(marker)).orElse(false))
        .map(ProcessHandle::pid);
  }

  public boolean isAlive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Stops the agent's whole process group: SIGTERM, then SIGKILL if it is still alive after {@code
   * grace}. Returns once the agent itself is gone (or after another second past the SIGKILL).
   */
  public void stop(long pid, Duration grace) {
    if (!isAlive(pid)) {
      return;
    }
    signalGroup(pid, "TERM");
    if (awaitExit(pid, grace)) {
      signalGroup(pid, "KILL"); // children that ignored TERM
      return;
    }
    signalGroup(pid, "KILL");
    awaitExit(pid, Duration.ofSeconds(1));
  }

  private static boolean awaitExit(long pid, Duration timeout) {
    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
    if (handle.isEmpty()) {
      return true;
    }
    try {
      handle.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return !handle.get().isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !handle.get().isAlive();
    }
  }

  /** {@code kill -SIGNAL -- -pid}: the process group the agent leads. */
  private static void signalGroup(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, "--", "-" + pid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot signal process group " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
