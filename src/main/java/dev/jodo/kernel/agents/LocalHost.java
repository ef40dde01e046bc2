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
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs agents as processes on the kernel's own machine. Each agent is started with {@code setsid}:
 * it leads its own session and process group, so a signal to the kernel's group (Ctrl-C, a service
 * manager stopping the kernel) never reaches it, and stopping the agent signals its whole group,
 * children included. The pid goes to a pid file, so that a kernel that starts again finds a running
 * agent and adopts it instead of starting a second copy.
 *
 * <pre>{@code
 * LocalHost host = new LocalHost();
 * long pid = host.start(new AgentHost.Launch(brain, List.of("python3", "main.py"), env, log, pidFile));
 * host.stop(pid, Duration.ofSeconds(5));
 * }</pre>
 */
public final class LocalHost implements AgentHost {

  @Override
  public String address() {
    return "127.0.0.1";
  }

  @Override
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
      throw new AgentHostException(
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

  @Override
  public Optional<Long> running(Path pidFile, Path directory) {
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).strip());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    if (!isAlive(pid)) {
      return Optional.empty();
    }
    try {
      Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
      return cwd.equals(directory.toAbsolutePath().normalize())
          ? Optional.of(pid)
          : Optional.empty();
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty(); // not ours to read (another user's process): not our agent
    }
  }

  @Override
  public boolean isAlive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !isZombie(pid);
  }

  /**
   * An exited process whose parent has not reaped it yet. An adopted agent's parent is init, which
   * in some containers reaps only now and then; until it does, the dead agent still "exists".
   */
  private static boolean isZombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      int end = stat.lastIndexOf(')');
      return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Returns once the agent itself is gone (or after another second past the SIGKILL). */
  @Override
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

  /**
   * Waits for the agent to be gone (a zombie counts as gone); false if it outlived {@code timeout}.
   */
  private boolean awaitExit(long pid, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isAlive(pid)) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !isAlive(pid);
      }
    }
    return true;
  }

  @Override
  public boolean exists(Path file) {
    return Files.exists(file);
  }

  @Override
  public void write(Path file, byte[] content) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, content);
    } catch (IOException e) {
      throw new AgentHostException("cannot write " + file + ": " + e.getMessage(), e);
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
